//! OIDC provider settings: an issuer found by discovery, or its endpoints given one by one.

use serde::{Deserialize, Serialize};

use super::types::OidcInput;
use crate::{error::ApiError, outbound::Outbound};

pub const DEFAULT_SCOPES: &[&str] = &["openid", "email", "profile"];
const MAX_SCOPES: usize = 20;

/// How the client authenticates at the token endpoint; the first is the default.
const DEFAULT_AUTH_METHOD: &str = "client_secret_basic";
pub const AUTH_METHODS: &[&str] = &[DEFAULT_AUTH_METHOD, "client_secret_post"];

/// What is stored for an OIDC provider (the client secret is sealed apart).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OidcSettings {
    pub discovery_url: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub groups_claim: Option<String>,
    pub token_auth_method: String,
}

fn field(name: &str) -> String {
    format!("oidc.{name}")
}

fn text(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    super::setting(field(name), value)
}

/// A URL the server itself will fetch: the outbound rules apply (https, no private address).
fn fetched_url(outbound: &Outbound, name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = text(name, value)? else { return Ok(None) };
    outbound
        .check(&value)
        .map(|u| Some(u.to_string()))
        .map_err(|e| ApiError::validation(field(name), e.to_string()))
}

/// A URL the browser is sent to: http(s) only.
fn browser_url(outbound: &Outbound, name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(value) = text(name, value)? else { return Ok(None) };
    super::saml::browser_url(outbound, &field(name), &value).map(Some)
}

/// Checks what the admin sent; `None` for the secret means "keep the stored one".
pub fn settings(outbound: &Outbound, input: OidcInput) -> Result<(OidcSettings, Option<String>), ApiError> {
    let client_id = text("client_id", input.client_id)?
        .ok_or_else(|| ApiError::validation(field("client_id"), "is required"))?;
    let secret = text("client_secret", input.client_secret)?;
    let scopes: Vec<String> = match input.scopes {
        None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        Some(scopes) => scopes.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
    };
    if scopes.len() > MAX_SCOPES || scopes.iter().any(|s| s.len() > 100 || s.contains(char::is_whitespace)) {
        return Err(ApiError::validation(
            field("scopes"),
            format!("at most {MAX_SCOPES} scopes without spaces"),
        ));
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(ApiError::validation(field("scopes"), "must include `openid`"));
    }
    let token_auth_method = input.token_auth_method.unwrap_or_else(|| DEFAULT_AUTH_METHOD.to_string());
    if !AUTH_METHODS.contains(&token_auth_method.as_str()) {
        return Err(ApiError::validation(
            field("token_auth_method"),
            format!("must be one of {}", AUTH_METHODS.join(", ")),
        ));
    }
    let settings = OidcSettings {
        discovery_url: fetched_url(outbound, "discovery_url", input.discovery_url)?,
        issuer: text("issuer", input.issuer)?,
        authorization_endpoint: browser_url(
            outbound,
            "authorization_endpoint",
            input.authorization_endpoint,
        )?,
        token_endpoint: fetched_url(outbound, "token_endpoint", input.token_endpoint)?,
        jwks_uri: fetched_url(outbound, "jwks_uri", input.jwks_uri)?,
        userinfo_endpoint: fetched_url(outbound, "userinfo_endpoint", input.userinfo_endpoint)?,
        client_id,
        scopes,
        groups_claim: text("groups_claim", input.groups_claim)?,
        token_auth_method,
    };
    let explicit = settings.issuer.is_some()
        && settings.authorization_endpoint.is_some()
        && settings.token_endpoint.is_some()
        && settings.jwks_uri.is_some();
    if settings.discovery_url.is_none() && !explicit {
        return Err(ApiError::validation(
            "oidc",
            "give `discovery_url`, or `issuer`, `authorization_endpoint`, `token_endpoint` and `jwks_uri`",
        ));
    }
    Ok((settings, secret))
}
