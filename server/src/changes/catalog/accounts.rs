//! Payloads of account, session, MFA and instance changes. Most are recorded in the instance's
//! audit chain only; those that happen in an org (a sign-in into it) are also org events.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use super::common::{TextChange, ValueChange};

#[derive(Clone, Debug, Object)]
pub struct UserSignedUp {
    pub user_id: Uuid,
    /// `active` or `pending` (waiting for an instance admin's approval).
    pub status: String,
    pub instance_admin: bool,
}

#[derive(Clone, Debug, Object)]
pub struct UserCreated {
    pub user_id: Uuid,
}

/// An instance admin approved, enabled or disabled an account.
#[derive(Clone, Debug, Object)]
pub struct UserStatusChanged {
    pub user_id: Uuid,
    pub status: TextChange,
}

#[derive(Clone, Debug, Object)]
pub struct UserDeleted {
    pub user_id: Uuid,
    pub email: String,
    /// Orgs the user was the only member of, deleted with the account.
    pub deleted_orgs: Vec<Uuid>,
}

#[derive(Clone, Debug, Object)]
pub struct UserPromotedToAdmin {
    pub user_id: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct UserEmailVerified {
    pub user_id: Uuid,
}

/// Password, sessions and tokens were revoked: the account held an address in a domain an
/// org verified, without having proved it.
#[derive(Clone, Debug, Object)]
pub struct UserCredentialsRevoked {
    pub user_id: Uuid,
    pub email: String,
    pub reason: String,
}

/// A failed sign-in (`user.login_failed`), or one that locked the account for a while
/// (`user.locked`).
#[derive(Clone, Debug, Object)]
pub struct UserLoginFailed {
    pub user_id: Uuid,
    /// `password`, `totp` or `recovery_code`.
    pub factor: String,
    pub client: Option<String>,
    pub failures: i32,
    pub blocked_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UserLoggedIn {
    pub user_id: Uuid,
    pub session_id: Uuid,
    /// The second factor used, when there was one.
    pub mfa: Option<String>,
}

#[derive(Clone, Debug, Object)]
pub struct UserLoggedOut {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct SessionExpired {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// A refresh token was used twice: its whole family was revoked.
#[derive(Clone, Debug, Object)]
pub struct SessionRefreshReuseDetected {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct MfaTotpEnrolmentStarted {
    pub user_id: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct MfaTotpEnrolled {
    pub user_id: Uuid,
    pub recovery_codes: u32,
}

#[derive(Clone, Debug, Object)]
pub struct MfaChallengeIssued {
    pub user_id: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct MfaRecoveryCodeUsed {
    pub user_id: Uuid,
    pub remaining: u32,
}

/// Only the settings that changed are present.
#[derive(Clone, Debug, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct InstanceSettingsUpdated {
    pub signup_open: Option<ValueChange>,
    pub approval_required: Option<ValueChange>,
    pub password_min_length: Option<ValueChange>,
    pub max_login_attempts: Option<ValueChange>,
    pub lockout_minutes: Option<ValueChange>,
    pub require_mfa: Option<ValueChange>,
    pub session_ttl_minutes: Option<ValueChange>,
    pub logo_url: Option<ValueChange>,
    pub primary_color: Option<ValueChange>,
    pub welcome_text: Option<ValueChange>,
}

#[derive(Clone, Debug, Object)]
pub struct SigningKeyRotated {
    pub kid: String,
}
