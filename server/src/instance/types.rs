use poem_openapi::{Object, types::MaybeUndefined};
use serde::Deserialize;

use super::{Settings, service::SettingsChange};
use crate::{error::ApiError, orgs::settings};

/// Validates a clearable value; the org validators name `branding.<field>`, here it is `<field>`.
fn clearable(
    value: MaybeUndefined<String>,
    check: impl FnOnce(String) -> Result<String, ApiError>,
    field: &str,
) -> Result<Option<Option<String>>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => check(v).map(|v| Some(Some(v))).map_err(|e| {
            ApiError::validation(
                field,
                e.field_errors().first().map(|f| f.message.clone()).unwrap_or_default(),
            )
        }),
    }
}

/// The instance-wide settings.
#[derive(Object)]
pub struct InstanceSettingsResponse {
    /// Whether anyone may sign up. When closed, only the very first user can.
    pub signup_open: bool,
    /// Whether new accounts stay `pending` until an instance admin approves them.
    pub approval_required: bool,
    /// Minimum password length for new passwords.
    pub password_min_length: i32,
    /// Failed logins in a row that lock an account.
    pub max_login_attempts: i32,
    /// How long a locked account stays locked.
    pub lockout_minutes: i32,
    /// Default MFA policy orgs inherit.
    pub require_mfa: bool,
    /// Default session lifetime orgs inherit.
    pub session_ttl_minutes: i32,
    /// Default branding orgs inherit.
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub welcome_text: Option<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Settings> for InstanceSettingsResponse {
    fn from(s: Settings) -> Self {
        Self {
            signup_open: s.signup_open,
            approval_required: s.approval_required,
            password_min_length: s.password_min_length,
            max_login_attempts: s.max_login_attempts,
            lockout_minutes: s.lockout_minutes,
            require_mfa: s.require_mfa,
            session_ttl_minutes: s.session_ttl_minutes,
            logo_url: s.logo_url,
            primary_color: s.primary_color,
            welcome_text: s.welcome_text,
            updated_at: s.updated_at,
        }
    }
}

/// Changes to the instance settings; fields left out keep their value.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstanceSettingsRequest {
    pub signup_open: Option<bool>,
    pub approval_required: Option<bool>,
    /// 8..=256
    pub password_min_length: Option<i32>,
    /// 1..=100
    pub max_login_attempts: Option<i32>,
    /// 1..=10080 (a week)
    pub lockout_minutes: Option<i32>,
    pub require_mfa: Option<bool>,
    /// 5..=525600
    pub session_ttl_minutes: Option<i32>,
    /// `null` clears.
    #[serde(default)]
    pub logo_url: MaybeUndefined<String>,
    /// `#RRGGBB`; `null` clears.
    #[serde(default)]
    pub primary_color: MaybeUndefined<String>,
    /// `null` clears.
    #[serde(default)]
    pub welcome_text: MaybeUndefined<String>,
}

fn in_range(field: &str, value: Option<i32>, min: i32, max: i32) -> Result<Option<i32>, ApiError> {
    match value {
        Some(v) if !(min..=max).contains(&v) => {
            Err(ApiError::validation(field, format!("must be between {min} and {max}")))
        }
        other => Ok(other),
    }
}

impl TryFrom<UpdateInstanceSettingsRequest> for SettingsChange {
    type Error = ApiError;

    fn try_from(r: UpdateInstanceSettingsRequest) -> Result<Self, ApiError> {
        Ok(Self {
            signup_open: r.signup_open,
            approval_required: r.approval_required,
            password_min_length: in_range("password_min_length", r.password_min_length, 8, 256)?,
            max_login_attempts: in_range("max_login_attempts", r.max_login_attempts, 1, 100)?,
            lockout_minutes: in_range("lockout_minutes", r.lockout_minutes, 1, 10_080)?,
            require_mfa: r.require_mfa,
            session_ttl_minutes: in_range("session_ttl_minutes", r.session_ttl_minutes, 5, 525_600)?,
            logo_url: clearable(r.logo_url, |v| settings::logo_url(&v), "logo_url")?,
            primary_color: clearable(r.primary_color, |v| settings::primary_color(&v), "primary_color")?,
            welcome_text: clearable(r.welcome_text, |v| settings::welcome_text(&v), "welcome_text")?,
        })
    }
}
