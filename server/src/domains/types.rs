use chrono::{DateTime, Utc};
use guildhall_entities::email_domain;
use poem_openapi::Object;
use serde::Deserialize;

/// An email domain the org admits members from.
#[derive(Object)]
pub struct EmailDomainResponse {
    /// Lowercase ASCII; internationalized names in their `xn--` form. Subdomains match too.
    pub domain: String,
    /// Users who verify a matching email join the org with `default_role`.
    pub auto_join: bool,
    pub default_role: String,
    pub created_at: DateTime<Utc>,
}

impl From<email_domain::Model> for EmailDomainResponse {
    fn from(d: email_domain::Model) -> Self {
        Self {
            domain: d.domain,
            auto_join: d.auto_join,
            default_role: d.default_role,
            created_at: d.created_at,
        }
    }
}

#[derive(Object)]
pub struct EmailDomainList {
    pub data: Vec<EmailDomainResponse>,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddEmailDomainRequest {
    /// e.g. `example.com`; not a public mail provider.
    pub domain: String,
    /// Default false.
    pub auto_join: Option<bool>,
    /// Role for auto-joined members (default `member`; never `owner`).
    pub default_role: Option<String>,
}
