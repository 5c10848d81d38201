//! Enterprise SSO: each org connects its own identity providers (OIDC or SAML 2.0).
//!
//! This part is provider administration: what an org admin configures (`service`, `api`),
//! the SAML pieces that need no signature work yet (IdP metadata import, certificate details,
//! the SP metadata we publish: `saml`), and OIDC settings (`oidc`). Configuration lives in the
//! database, so every node sees a change at once. Sign-in flows build on these records.

pub mod api;
pub mod check;
pub mod oidc;
pub mod reason;
pub mod refresh;
pub mod saml;
pub mod saml_request;
pub mod saml_response;
pub mod service;
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
