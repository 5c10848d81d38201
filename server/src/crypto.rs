//! Small cryptographic building blocks: random secrets with recognizable prefixes, their
//! SHA-256 digests, and sealing data at rest with the master key (AES-256-GCM).

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// Prefixes of the secrets Guildhall issues, so secret scanners can find leaked ones.
pub const PERSONAL_TOKEN_PREFIX: &str = "gh_pat_";
pub const REFRESH_TOKEN_PREFIX: &str = "gh_rt_";
pub const INVITATION_TOKEN_PREFIX: &str = "gh_inv_";
pub const EMAIL_VERIFICATION_PREFIX: &str = "gh_ver_";
pub const SCIM_TOKEN_PREFIX: &str = "gh_scim_";
pub const MFA_TOKEN_PREFIX: &str = "gh_mfa_";
pub const SSO_CODE_PREFIX: &str = "gh_sso_";
/// Secrets that never leave the server's own round trips (SSO state, browser binding).
pub const OPAQUE_PREFIX: &str = "";

/// A new 256-bit random secret, base64url-encoded behind `prefix`.
pub fn new_secret(prefix: &str) -> Result<String, aws_lc_rs::error::Unspecified> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What is stored for a secret: its SHA-256. Secrets are high-entropy, so no salt is needed,
/// and the lookup by digest never compares secret bytes.
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// True when `secret` has the shape of a token with `prefix` (cheap check before a lookup).
pub fn looks_like(secret: &str, prefix: &str) -> bool {
    secret.strip_prefix(prefix).is_some_and(|rest| {
        rest.len() == 43 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The key that seals secrets at rest.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn from_base64(text: &str) -> anyhow::Result<Self> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim()))
            .map_err(|_| anyhow::anyhow!("the master key is not base64"))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow::anyhow!("the master key must be 32 bytes"))?;
        Ok(Self(key))
    }

    /// Reads `dir/master.key`, creating it (mode 0600) with a fresh random key if missing.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("master.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            return Self::from_base64(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
        }
        let mut key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut key).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        let text = base64::engine::general_purpose::STANDARD.encode(key);
        write_private(&path, text.as_bytes())?;
        Ok(Self(key))
    }

    fn aead(&self) -> Result<LessSafeKey, aws_lc_rs::error::Unspecified> {
        Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0)?))
    }

    /// Encrypts `plain`, bound to `context` (e.g. the row's id): nonce || ciphertext || tag.
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| anyhow::anyhow!("no system randomness"))?;
        let mut buf = plain.to_vec();
        self.aead()
            .and_then(|k| {
                k.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            })
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open(&self, context: &[u8], sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            anyhow::bail!("sealed data is truncated");
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = data.to_vec();
        let plain = self
            .aead()
            .and_then(|k| k.open_in_place(nonce, Aad::from(context), &mut buf))
            .map_err(|_| anyhow::anyhow!("cannot open sealed data: wrong master key?"))?;
        Ok(plain.to_vec())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_prefix_and_256_bits() {
        let s = new_secret(PERSONAL_TOKEN_PREFIX).unwrap();
        assert!(looks_like(&s, PERSONAL_TOKEN_PREFIX), "{s}");
        assert!(!looks_like(&s, REFRESH_TOKEN_PREFIX));
        assert_ne!(s, new_secret(PERSONAL_TOKEN_PREFIX).unwrap());
        assert_eq!(digest(&s).len(), 32);
    }

    #[test]
    fn sealed_data_opens_only_with_same_key_and_context() {
        let key = MasterKey([7; 32]);
        let sealed = key.seal(b"kid-1", b"secret").unwrap();
        assert_eq!(key.open(b"kid-1", &sealed).unwrap(), b"secret");
        assert!(key.open(b"kid-2", &sealed).is_err());
        assert!(MasterKey([8; 32]).open(b"kid-1", &sealed).is_err());
        assert!(key.open(b"kid-1", &sealed[..5]).is_err());
    }
}
