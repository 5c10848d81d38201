//! TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps) and recovery codes. Pure
//! functions over secrets and times; the randomness and the storage live in `service.rs`.

use totp_rs::{Algorithm, Builder, Secret, Totp};

pub const ISSUER: &str = "Guildhall";
pub const SECRET_BYTES: usize = 20;
const DIGITS: u8 = 6;
const STEP_SECONDS: u64 = 30;
/// One step either side, for clock drift and typing time (RFC 6238 §5.2 recommends at most one).
const SKEW_STEPS: u16 = 1;

/// Recovery codes: this many characters of base32, shown in groups of four.
pub const RECOVERY_CODE_LEN: usize = 12;
pub const RECOVERY_CODE_COUNT: usize = 10;
const RECOVERY_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn totp(secret: &[u8], account: &str) -> Result<Totp, totp_rs::TotpError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        // `verify` walks the skew window itself, one step at a time.
        .with_skew(0)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
}

/// The secret as authenticator apps take it when typed in: base32 without padding.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// `otpauth://totp/Guildhall:<account>?secret=...&issuer=Guildhall`, the key URI that QR codes
/// carry.
pub fn otpauth_uri(secret: &[u8], account: &str) -> Result<String, totp_rs::TotpError> {
    totp(secret, account)?.to_url()
}

/// What a person typed as a one-time code: a TOTP code or a recovery code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    Totp(String),
    /// Normalized: uppercase, without separators.
    Recovery(String),
}

impl Code {
    /// Reads either kind; spaces and dashes that apps and printouts add are ignored.
    pub fn parse(raw: &str) -> Self {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if compact.len() == usize::from(DIGITS) && compact.bytes().all(|b| b.is_ascii_digit()) {
            Self::Totp(compact)
        } else {
            Self::Recovery(compact.to_ascii_uppercase())
        }
    }
}

/// The time step `code` belongs to, if it is valid at `unix_seconds` (± one step) and newer
/// than `last_step`: a code is accepted once (RFC 6238 §5.2), so a step at or before the last
/// accepted one is refused even while it is still current.
pub fn verify(secret: &[u8], code: &str, unix_seconds: i64, last_step: Option<i64>) -> Option<i64> {
    let time = u64::try_from(unix_seconds).ok()?;
    let totp = totp(secret, "").ok()?;
    let current = time / STEP_SECONDS;
    let first = current.saturating_sub(u64::from(SKEW_STEPS));
    let last = current.saturating_add(u64::from(SKEW_STEPS));
    // Newest first, so a code valid in two steps (one in a million) counts for the later one.
    (first..=last)
        .rev()
        .filter(|step| totp.check(code, step.saturating_mul(STEP_SECONDS)).is_some())
        .filter_map(|step| i64::try_from(step).ok())
        .find(|step| last_step.is_none_or(|last| *step > last))
}

/// The code for `unix_seconds`; what an authenticator app shows.
pub fn code_at(secret: &[u8], unix_seconds: i64) -> Option<String> {
    let time = u64::try_from(unix_seconds).ok()?;
    Some(totp(secret, "").ok()?.generate(time).to_string())
}

/// A recovery code from random bytes (one character per byte; 256 is a multiple of 32, so each
/// character is uniform): `ABCD-EFGH-JKLM`, 60 bits.
pub fn recovery_code(random: &[u8; RECOVERY_CODE_LEN]) -> String {
    let chars: Vec<char> = random
        .iter()
        .filter_map(|b| RECOVERY_ALPHABET.get(usize::from(b % 32)).map(|c| char::from(*c)))
        .collect();
    chars.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 seed.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // The RFC lists 8 digits; a 6-digit code is the last six (mod 10^6).
        for (time, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(code_at(RFC_SECRET, time).as_deref(), Some(code), "{time}");
            assert_eq!(verify(RFC_SECRET, code, time, None), Some(time / 30), "{time}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_only_once() {
        let now = 1_700_000_015;
        let step = now / 30;
        let code = code_at(RFC_SECRET, now).unwrap();
        assert_eq!(verify(RFC_SECRET, &code, now, None), Some(step));
        assert_eq!(verify(RFC_SECRET, &code, now + 30, None), Some(step), "one step late");
        assert_eq!(verify(RFC_SECRET, &code, now - 30, None), Some(step), "one step early");
        assert_eq!(verify(RFC_SECRET, &code, now + 60, None), None, "two steps late");
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step)), None, "replayed");
        assert_eq!(verify(RFC_SECRET, &code, now, Some(step + 1)), None, "older than the last");
        let next = code_at(RFC_SECRET, now + 30).unwrap();
        assert_eq!(verify(RFC_SECRET, &next, now + 30, Some(step)), Some(step + 1));
    }

    #[test]
    fn malformed_codes_are_refused() {
        let now = 1_700_000_015;
        for bad in ["", "12345", "1234567", "12a456", "+12345", "１２３４５６"] {
            assert_eq!(verify(RFC_SECRET, bad, now, None), None, "{bad}");
        }
        assert_eq!(verify(RFC_SECRET, "287082", -1, None), None);
    }

    #[test]
    fn typed_codes_are_told_apart_and_normalized() {
        assert_eq!(Code::parse(" 287 082 "), Code::Totp("287082".into()));
        assert_eq!(Code::parse("abcd-efgh-2345"), Code::Recovery("ABCDEFGH2345".into()));
        assert_eq!(Code::parse("1234567"), Code::Recovery("1234567".into()));
    }

    #[test]
    fn recovery_codes_are_grouped_base32() {
        let code = recovery_code(&[0, 1, 2, 3, 31, 32, 33, 255, 4, 5, 6, 7]);
        assert_eq!(code, "ABCD-7AB7-EFGH");
        assert_eq!(Code::parse(&code), Code::Recovery("ABCD7AB7EFGH".into()));
    }

    #[test]
    fn the_key_uri_names_issuer_and_account() {
        let uri = otpauth_uri(RFC_SECRET, "alice@example.com").unwrap();
        assert!(uri.starts_with("otpauth://totp/Guildhall:alice%40example.com?secret="), "{uri}");
        assert!(uri.contains(&format!("secret={}", secret_base32(RFC_SECRET))), "{uri}");
        assert!(uri.contains("issuer=Guildhall"), "{uri}");
    }
}
