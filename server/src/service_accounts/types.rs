use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::Deserialize;

use super::service::ServiceAccount;
use crate::tokens::types::TokenInfo;

/// A non-human member of the org.
#[derive(Object)]
pub struct ServiceAccountResponse {
    pub id: uuid::Uuid,
    pub name: String,
    pub role: String,
    pub token_count: u64,
    pub created_at: DateTime<Utc>,
}

impl From<ServiceAccount> for ServiceAccountResponse {
    fn from(a: ServiceAccount) -> Self {
        Self {
            id: a.user.id,
            name: a.user.display_name.unwrap_or_default(),
            role: a.role,
            token_count: a.token_count,
            created_at: a.user.created_at,
        }
    }
}

#[derive(Object)]
pub struct ServiceAccountList {
    pub data: Vec<ServiceAccountResponse>,
}

#[derive(Object)]
pub struct ServiceAccountTokenList {
    pub data: Vec<TokenInfo>,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateServiceAccountRequest {
    /// 1..=100 characters.
    pub name: String,
    /// A role key of the org; you cannot grant more than you hold.
    pub role: String,
}
