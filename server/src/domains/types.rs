use chrono::{DateTime, Utc};
use guildhall_entities::email_domain;
use poem_openapi::{Enum, Object};
use serde::Deserialize;

use super::dns;

/// How an org proved that it controls a domain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum VerificationMethod {
    /// A TXT record published in the domain's DNS.
    #[default]
    Dns,
    /// An instance admin's say.
    Manual,
}

impl VerificationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Manual => "manual",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "dns" => Some(Self::Dns),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

// Read as a string first: serde_json reports a number where an enum is expected as a syntax
// error, which would blame the whole body instead of the field.
impl<'de> Deserialize<'de> for VerificationMethod {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::unknown_variant(&raw, &["dns", "manual"]))
    }
}

/// The DNS TXT record that proves control of a domain. It is published in DNS, so not a secret.
#[derive(Object)]
pub struct DomainVerificationRecord {
    /// The record's name, e.g. `_guildhall-challenge.example.com`.
    pub txt_name: String,
    /// The record's value, exactly.
    pub txt_value: String,
}

/// An email domain the org admits members from.
#[derive(Object)]
pub struct EmailDomainResponse {
    /// Lowercase ASCII; internationalized names in their `xn--` form. Subdomains match too.
    pub domain: String,
    /// Users who verify a matching email join the org with `default_role`, once the domain is
    /// verified; until then the rule waits.
    pub auto_join: bool,
    pub default_role: String,
    pub created_at: DateTime<Utc>,
    /// Whether the org has proved that it controls the domain. A verified domain belongs to one org.
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub verification_method: Option<VerificationMethod>,
    /// The TXT record to publish before verifying; absent once the domain is verified.
    pub verification: Option<DomainVerificationRecord>,
}

impl From<email_domain::Model> for EmailDomainResponse {
    fn from(d: email_domain::Model) -> Self {
        let verification = d.verified_at.is_none().then(|| DomainVerificationRecord {
            txt_name: dns::txt_name(&d.domain),
            txt_value: dns::txt_value(&d.verification_token),
        });
        Self {
            verified: d.verified_at.is_some(),
            verified_at: d.verified_at,
            verification_method: d.verification_method.as_deref().and_then(VerificationMethod::parse),
            verification,
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
    /// e.g. `example.com`; not a public mail provider, not a public suffix (`co.uk`, `github.io`).
    pub domain: String,
    /// Default false. Takes effect once the domain is verified.
    pub auto_join: Option<bool>,
    /// Role for auto-joined members (default `member`; never `owner`).
    pub default_role: Option<String>,
}

#[derive(Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailDomainRequest {
    /// `dns` (the default) looks up the domain's TXT record; `manual` is for instance admins.
    pub method: Option<VerificationMethod>,
}
