use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object, types::MaybeUndefined};
use serde::Deserialize;

use super::settings::{Branding, OrgAuthSettings};
use crate::sessions::types::TokenType;

/// Branding shown on the org's sign-in pages. In `branding`, `null` means "inherit from the instance".
#[derive(Object, Clone, Default)]
pub struct BrandingDto {
    pub logo_url: Option<String>,
    /// `#RRGGBB`
    pub primary_color: Option<String>,
    pub welcome_text: Option<String>,
}

impl From<Branding> for BrandingDto {
    fn from(b: Branding) -> Self {
        Self { logo_url: b.logo_url, primary_color: b.primary_color, welcome_text: b.welcome_text }
    }
}

/// Authentication policy. In `auth_settings`, `null` means "inherit from the instance".
#[derive(Object, Clone, Default)]
pub struct AuthSettingsDto {
    pub password_min_length: Option<i32>,
    pub require_mfa: Option<bool>,
    pub session_ttl_minutes: Option<i32>,
    pub max_login_attempts: Option<i32>,
    pub lockout_minutes: Option<i32>,
}

impl From<OrgAuthSettings> for AuthSettingsDto {
    fn from(a: OrgAuthSettings) -> Self {
        Self {
            password_min_length: a.password_min_length,
            require_mfa: a.require_mfa,
            session_ttl_minutes: a.session_ttl_minutes,
            max_login_attempts: a.max_login_attempts,
            lockout_minutes: a.lockout_minutes,
        }
    }
}

/// An organization, with its own settings and the effective ones (own value, else the instance's).
#[derive(Object)]
pub struct OrgResponse {
    pub id: uuid::Uuid,
    pub name: String,
    /// URL-safe, unique; usable instead of the id in every `{org}` path.
    pub slug: String,
    /// Free JSON object for your application's use.
    pub metadata: serde_json::Value,
    /// Most members the org may have; `null` for no limit.
    pub max_users: Option<i32>,
    /// Audit entries older than this are purged.
    pub data_retention_days: i32,
    pub branding: BrandingDto,
    pub effective_branding: BrandingDto,
    pub auth_settings: AuthSettingsDto,
    pub effective_auth_settings: AuthSettingsDto,
    /// The caller's role in this org.
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the caller's orgs.
#[derive(Object)]
pub struct OrgPage {
    pub data: Vec<OrgResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "lowercase")]
pub enum OrgOrder {
    /// Oldest first.
    #[default]
    Created,
    /// By name, A to Z.
    Name,
}

#[derive(Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BrandingInput {
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub welcome_text: Option<String>,
}

#[derive(Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthSettingsInput {
    pub password_min_length: Option<i32>,
    pub require_mfa: Option<bool>,
    pub session_ttl_minutes: Option<i32>,
    pub max_login_attempts: Option<i32>,
    pub lockout_minutes: Option<i32>,
}

/// A new organization; the caller becomes its owner.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// 1..=100 characters.
    pub name: String,
    /// 2..=48 of `a-z`, `0-9` and `-`; derived from the name when absent.
    pub slug: Option<String>,
    /// A JSON object of at most 8 KiB.
    pub metadata: Option<serde_json::Value>,
    /// 1..=1000000, or absent for no limit.
    pub max_users: Option<i32>,
    /// 7..=3650 (default 90).
    pub data_retention_days: Option<i32>,
    pub branding: Option<BrandingInput>,
    pub auth_settings: Option<AuthSettingsInput>,
}

#[derive(Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BrandingPatch {
    #[serde(default)]
    pub logo_url: MaybeUndefined<String>,
    #[serde(default)]
    pub primary_color: MaybeUndefined<String>,
    #[serde(default)]
    pub welcome_text: MaybeUndefined<String>,
}

#[derive(Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuthSettingsPatch {
    #[serde(default)]
    pub password_min_length: MaybeUndefined<i32>,
    #[serde(default)]
    pub require_mfa: MaybeUndefined<bool>,
    #[serde(default)]
    pub session_ttl_minutes: MaybeUndefined<i32>,
    #[serde(default)]
    pub max_login_attempts: MaybeUndefined<i32>,
    #[serde(default)]
    pub lockout_minutes: MaybeUndefined<i32>,
}

/// Changes to an org: only the fields named change; `null` clears an override (or `metadata`
/// and `max_users`).
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    pub name: Option<String>,
    pub slug: Option<String>,
    #[serde(default)]
    pub metadata: MaybeUndefined<serde_json::Value>,
    #[serde(default)]
    pub max_users: MaybeUndefined<i32>,
    pub data_retention_days: Option<i32>,
    pub branding: Option<BrandingPatch>,
    pub auth_settings: Option<AuthSettingsPatch>,
}

/// A new org and a token pair whose active org is that org.
#[derive(Object)]
pub struct CreatedOrgResponse {
    pub org: OrgResponse,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: TokenType,
    pub expires_in: u64,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferOwnershipRequest {
    /// The member who becomes an owner; the caller becomes an admin.
    pub user_id: uuid::Uuid,
}
