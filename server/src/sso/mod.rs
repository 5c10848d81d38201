//! Enterprise SSO: each org connects its own identity providers (OIDC or SAML 2.0).
//!
//! Provider administration: what an org admin configures (`service`, `api`), SAML settings, IdP
//! metadata import, certificate details and our SP metadata (`saml`), OIDC settings (`oidc`).
//! Configuration lives in the database, so every node sees a change at once.
//!
//! Sign-in: `login` starts one (the browser's side is `browser`), `oidc_flow` and
//! `saml_response` check what the IdP sends back, each refusal with a `reason`, and `signin`
//! turns the IdP's verified word into a member and a one-time code, through the one
//! provisioning path.

pub mod api;
pub mod browser;
pub mod check;
pub mod login;
pub mod oidc;
pub mod oidc_flow;
pub mod reason;
pub mod refresh;
pub mod saml;
pub mod saml_decrypt;
pub mod saml_flow;
pub mod saml_request;
pub mod saml_response;
pub mod service;
pub mod signin;
pub mod sp_key;
pub mod types;

/// Where an IdP sends SAML responses (HTTP-POST binding), for every provider of the instance.
pub fn acs_url(public_base_url: &str) -> String {
    format!("{}/api/v1/auth/sso/saml/acs", public_base_url.trim_end_matches('/'))
}

/// Our SAML entity id for one provider: its metadata URL, so the audience names the provider.
pub fn sp_entity_id(public_base_url: &str, provider_id: uuid::Uuid) -> String {
    format!("{}/api/v1/auth/sso/saml/metadata/{provider_id}", public_base_url.trim_end_matches('/'))
}

/// Where an OIDC provider redirects the browser back to.
pub fn oidc_redirect_uri(public_base_url: &str) -> String {
    format!("{}/api/v1/auth/sso/oidc/callback", public_base_url.trim_end_matches('/'))
}

/// A trimmed optional setting (`None` when empty), at most 2,048 characters; `field` names it
/// in the error.
fn setting(field: String, value: Option<String>) -> Result<Option<String>, crate::error::ApiError> {
    const MAX_VALUE: usize = 2048;
    let Some(value) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else { return Ok(None) };
    if value.chars().count() > MAX_VALUE {
        return Err(crate::error::ApiError::validation(
            field,
            format!("is longer than {MAX_VALUE} characters"),
        ));
    }
    Ok(Some(value))
}

/// `text` escaped for XML (and HTML) text and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}
