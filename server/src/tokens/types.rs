use chrono::{DateTime, Utc};
use guildhall_entities::api_token;
use poem_openapi::Object;
use serde::Deserialize;

use super::service::IssuedToken;

/// A new personal API token.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// What the token is for; 1..=100 characters.
    pub name: String,
    /// When the token stops working (RFC 3339); never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A personal API token. `token` (the secret) is present only in the response that created it.
#[derive(Object)]
pub struct TokenInfo {
    pub id: uuid::Uuid,
    pub name: String,
    /// The org the token acts in.
    pub org_id: uuid::Uuid,
    /// Whether this is the user's default token for that org.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The secret `gh_pat_...`, shown once. Send it as `Authorization: Bearer`.
    #[oai(skip_serializing_if_is_none)]
    pub token: Option<String>,
}

impl From<api_token::Model> for TokenInfo {
    fn from(t: api_token::Model) -> Self {
        Self {
            id: t.id,
            name: t.name,
            org_id: t.org_id,
            is_default: t.is_default,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            token: None,
        }
    }
}

impl From<IssuedToken> for TokenInfo {
    fn from(issued: IssuedToken) -> Self {
        Self { token: issued.secret, ..issued.token.into() }
    }
}

/// A page of the caller's tokens (without secrets).
#[derive(Object)]
pub struct TokenPage {
    pub data: Vec<TokenInfo>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}
