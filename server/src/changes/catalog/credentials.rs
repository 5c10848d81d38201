//! Payloads of credential changes: personal API tokens and service accounts.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ApiTokenCreated {
    pub token_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// The token made by `GET /api/v1/auth/tokens/default`.
    pub default: Option<bool>,
}

#[derive(Clone, Debug, Object)]
pub struct ApiTokenRevoked {
    pub token_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
}

#[derive(Clone, Debug, Object)]
pub struct ServiceAccountCreated {
    pub service_account_id: Uuid,
    pub name: String,
    pub role: String,
}

#[derive(Clone, Debug, Object)]
pub struct ServiceAccountDeleted {
    pub service_account_id: Uuid,
    pub name: String,
}

#[derive(Clone, Debug, Object)]
pub struct ServiceAccountTokenCreated {
    pub service_account_id: Uuid,
    pub token_id: Uuid,
    pub name: String,
}

#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ServiceAccountTokenRevoked {
    pub service_account_id: Uuid,
    pub token_id: Uuid,
    pub name: String,
    /// `issuer_lost_rights` when whoever minted it no longer holds what it confers.
    pub reason: Option<String>,
    pub issuer: Option<Uuid>,
}
