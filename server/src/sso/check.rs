//! `POST .../sso/providers/{id}/test`: the configuration checked against the live IdP, with
//! nothing changed. The answer's `reason` comes from a fixed vocabulary ([`Reason`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    oidc::OidcSettings,
    saml::{self, SamlSettings},
    service::Settings,
};
use crate::{
    AppState,
    error::ApiError,
    outbound::{Outbound, OutboundError},
    rate::Limiter,
};

const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DOCUMENT: usize = 512 * 1024;
/// Checks per provider and minute, per node.
const CHECKS_PER_MINUTE: u32 = 6;

/// Why a check failed, or `ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum Reason {
    /// Everything checked is in order.
    Ok,
    /// A URL of the configuration points at an address the server refuses to call.
    AddressRefused,
    /// The OIDC discovery document could not be fetched.
    DiscoveryUnreachable,
    /// The discovery document is not a valid OpenID Provider configuration.
    DiscoveryInvalid,
    /// The discovery document names another issuer than configured or discovered from.
    IssuerMismatch,
    /// The JWKS could not be fetched.
    JwksUnreachable,
    /// The JWKS is not a valid JSON Web Key Set.
    JwksInvalid,
    /// The JWKS holds no signing key.
    JwksEmpty,
    /// The SAML metadata URL could not be fetched.
    MetadataUnreachable,
    /// The SAML metadata does not parse or describes no IdP.
    MetadataInvalid,
    /// The metadata's entity id differs from the configured one.
    EntityIdMismatch,
    /// A configured certificate has expired.
    CertificateExpired,
    /// A configured certificate is not valid yet.
    CertificateNotYetValid,
    /// A stored certificate cannot be read.
    CertificateInvalid,
}

#[derive(Debug, Object)]
pub struct CheckResult {
    pub ok: bool,
    pub reason: Reason,
    /// What was found, for a person.
    pub details: String,
}

impl CheckResult {
    fn fail(reason: Reason, details: impl Into<String>) -> Self {
        Self { ok: false, reason, details: details.into() }
    }
}

/// How often each provider may be tested (on this node): the budget keeps people from turning
/// the check into a way of making the server fetch URLs in a loop.
pub fn limiter() -> Limiter {
    Limiter::per_minute(CHECKS_PER_MINUTE)
}

/// Spends one of the provider's tests, or answers 429.
pub fn admit(limiter: &Limiter, provider: Uuid) -> Result<(), ApiError> {
    if limiter.allows(&provider) {
        return Ok(());
    }
    Err(ApiError::rate_limited(
        "SSO_TEST_RATE_LIMITED",
        format!("a provider may be tested {CHECKS_PER_MINUTE} times a minute; try again shortly"),
        60 / u64::from(CHECKS_PER_MINUTE),
    ))
}

pub async fn run(state: &AppState, settings: &Settings, now: DateTime<Utc>) -> CheckResult {
    match settings {
        Settings::Oidc(oidc) => check_oidc(&state.outbound, oidc).await,
        Settings::Saml(saml) => check_saml(&state.outbound, saml, now).await,
    }
}

fn fetch_failure(unreachable: Reason, what: &str, err: OutboundError) -> CheckResult {
    match err {
        OutboundError::Refused(why) => CheckResult::fail(Reason::AddressRefused, format!("{what}: {why}")),
        other => CheckResult::fail(unreachable, format!("{what}: {other}")),
    }
}

async fn fetch(outbound: &Outbound, url: &str) -> Result<Vec<u8>, OutboundError> {
    let reply = outbound.get(url, FETCH_TIMEOUT, MAX_DOCUMENT).await?;
    if reply.status != 200 {
        return Err(OutboundError::Failed(format!("answered HTTP {}", reply.status)));
    }
    Ok(reply.body)
}

/// What discovery must say (OpenID Connect Discovery 1.0 §3).
#[derive(Deserialize)]
struct Discovered {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

async fn check_oidc(outbound: &Outbound, oidc: &OidcSettings) -> CheckResult {
    let (jwks_uri, found) = match &oidc.discovery_url {
        Some(url) => {
            let body = match fetch(outbound, url).await {
                Ok(body) => body,
                Err(err) => return fetch_failure(Reason::DiscoveryUnreachable, "discovery", err),
            };
            let discovered: Discovered = match serde_json::from_slice(&body) {
                Ok(d) => d,
                Err(err) => return CheckResult::fail(Reason::DiscoveryInvalid, format!("discovery: {err}")),
            };
            // The issuer must be the discovery URL's prefix (§4.3) and any configured one.
            let expected = url.trim_end_matches("/.well-known/openid-configuration");
            if discovered.issuer.trim_end_matches('/') != expected.trim_end_matches('/')
                || oidc.issuer.as_deref().is_some_and(|i| i != discovered.issuer)
            {
                return CheckResult::fail(
                    Reason::IssuerMismatch,
                    format!("discovery at {url} names the issuer `{}`", discovered.issuer),
                );
            }
            let found = format!(
                "issuer {}, authorization {}, token {}",
                discovered.issuer, discovered.authorization_endpoint, discovered.token_endpoint
            );
            (discovered.jwks_uri, found)
        }
        None => {
            let issuer = oidc.issuer.as_deref().unwrap_or_default();
            (oidc.jwks_uri.clone().unwrap_or_default(), format!("issuer {issuer}"))
        }
    };
    let body = match fetch(outbound, &jwks_uri).await {
        Ok(body) => body,
        Err(err) => return fetch_failure(Reason::JwksUnreachable, "jwks", err),
    };
    let set: jsonwebtoken::jwk::JwkSet = match serde_json::from_slice(&body) {
        Ok(set) => set,
        Err(err) => return CheckResult::fail(Reason::JwksInvalid, format!("jwks: {err}")),
    };
    let signing = set
        .keys
        .iter()
        .filter(|k| !matches!(k.common.public_key_use, Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)))
        .count();
    if signing == 0 {
        return CheckResult::fail(Reason::JwksEmpty, format!("jwks at {jwks_uri} holds no signing key"));
    }
    CheckResult {
        ok: true,
        reason: Reason::Ok,
        details: format!("{found}; {signing} signing key(s) at {jwks_uri}"),
    }
}

async fn check_saml(outbound: &Outbound, settings: &SamlSettings, now: DateTime<Utc>) -> CheckResult {
    let mut details = Vec::new();
    if let Some(url) = &settings.metadata_url {
        let body = match fetch(outbound, url).await {
            Ok(body) => body,
            Err(err) => return fetch_failure(Reason::MetadataUnreachable, "metadata", err),
        };
        let parsed = match String::from_utf8(body)
            .map_err(|_| "is not UTF-8".to_string())
            .and_then(|x| saml::parse_metadata(&x))
        {
            Ok(parsed) => parsed,
            Err(why) => return CheckResult::fail(Reason::MetadataInvalid, format!("metadata {why}")),
        };
        if parsed.entity_id != settings.idp_entity_id {
            return CheckResult::fail(
                Reason::EntityIdMismatch,
                format!("the metadata describes `{}`, not `{}`", parsed.entity_id, settings.idp_entity_id),
            );
        }
        let new = parsed.certificates.iter().filter(|c| !settings.certificates.contains(c)).count();
        details.push(format!("metadata at {url} parses ({new} certificate(s) not configured yet)"));
    }
    for (i, pem) in settings.certificates.iter().enumerate() {
        let Some(info) = saml::certificate_info(pem, now) else {
            return CheckResult::fail(Reason::CertificateInvalid, format!("certificate {i} cannot be read"));
        };
        if info.expired {
            return CheckResult::fail(
                Reason::CertificateExpired,
                format!("certificate {i} ({}) expired at {}", info.subject, info.not_after),
            );
        }
        if info.not_before > now {
            return CheckResult::fail(
                Reason::CertificateNotYetValid,
                format!("certificate {i} ({}) is valid from {}", info.subject, info.not_before),
            );
        }
        details.push(format!("certificate {i} ({}) valid until {}", info.subject, info.not_after));
    }
    CheckResult { ok: true, reason: Reason::Ok, details: details.join("; ") }
}
