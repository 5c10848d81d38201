//! Standard Webhooks 1.0 signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, keyed with the base64-decoded part of a `whsec_` secret. During
//! a rotation's overlap both secrets sign, space-separated, and a receiver accepts either.

use aws_lc_rs::hmac;
use base64::{Engine, engine::general_purpose::STANDARD};

pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a new secret (the spec allows 24..=64).
const SECRET_BYTES: usize = 32;

/// A new `whsec_` secret.
pub fn new_secret() -> anyhow::Result<String> {
    let mut key = [0u8; SECRET_BYTES];
    aws_lc_rs::rand::fill(&mut key).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The key bytes of a `whsec_` secret.
pub fn key_of(secret: &str) -> anyhow::Result<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(encoded).map_err(|_| anyhow::anyhow!("the webhook secret is not base64"))
}

/// One `v1,<signature>` for `key`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// The `webhook-signature` header value: one signature per key, space-separated.
pub fn header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter().map(|k| sign(k, id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_specifications_example() {
        // The example of the Standard Webhooks specification.
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let signature = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn new_secrets_decode_to_their_length_and_both_sign_during_overlap() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert!(a.starts_with(SECRET_PREFIX) && a != b);
        let keys = vec![key_of(&a).unwrap(), key_of(&b).unwrap()];
        assert_eq!(keys[0].len(), SECRET_BYTES);
        let value = header(&keys, "evt", 1, b"{}");
        assert_eq!(value.split(' ').count(), 2);
        assert!(value.split(' ').all(|s| s.starts_with("v1,")));
    }
}
