use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::Deserialize;

use super::service::{Confirmed, Enrolment};
use crate::error::ApiError;

/// Longer than any code this API issues (a 6-digit TOTP code, a 14-character recovery code).
const MAX_CODE: usize = 64;
const MAX_MFA_TOKEN: usize = 256;

/// A TOTP authenticator to add to an app: type in `secret` or scan `otpauth_uri` as a QR code.
#[derive(Object)]
pub struct TotpEnrolmentResponse {
    /// The shared secret, base32 (RFC 4648) without padding. Shown this once.
    pub secret: String,
    /// `otpauth://totp/Guildhall:<email>?secret=...&issuer=Guildhall`, the key URI for a QR code.
    pub otpauth_uri: String,
    /// Always `SHA1`.
    pub algorithm: String,
    /// Always 6.
    pub digits: u8,
    /// Seconds per code; always 30.
    pub period: u32,
}

impl From<Enrolment> for TotpEnrolmentResponse {
    fn from(e: Enrolment) -> Self {
        Self {
            secret: e.secret_base32,
            otpauth_uri: e.otpauth_uri,
            algorithm: "SHA1".into(),
            digits: 6,
            period: 30,
        }
    }
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTotpRequest {
    /// The 6-digit code the authenticator shows now.
    pub code: String,
}

/// The confirmed authenticator and its recovery codes.
#[derive(Object)]
pub struct TotpConfirmedResponse {
    pub confirmed_at: DateTime<Utc>,
    /// Single-use codes that stand in for the authenticator at `POST /api/v1/auth/login/mfa`.
    /// Shown this once; confirming again is not possible, so store them now.
    pub recovery_codes: Vec<String>,
}

impl From<Confirmed> for TotpConfirmedResponse {
    fn from(c: Confirmed) -> Self {
        Self { confirmed_at: c.confirmed_at, recovery_codes: c.recovery_codes }
    }
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteMfaLoginRequest {
    /// The `gh_mfa_...` token from `POST /api/v1/auth/login`.
    pub mfa_token: String,
    /// A current 6-digit TOTP code, or an unused recovery code (which is then spent).
    pub code: String,
}

/// A one-time code as typed: present and of a sane length.
pub fn one_time_code(value: &str) -> Result<&str, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::validation("code", "is required"));
    }
    if value.len() > MAX_CODE {
        return Err(ApiError::validation("code", format!("must be at most {MAX_CODE} characters")));
    }
    Ok(value)
}

pub fn challenge_token(value: &str) -> Result<&str, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::validation("mfa_token", "is required"));
    }
    if value.len() > MAX_MFA_TOKEN {
        return Err(ApiError::validation("mfa_token", format!("must be at most {MAX_MFA_TOKEN} characters")));
    }
    Ok(value)
}
