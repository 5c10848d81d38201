//! Payloads of SSO provider changes.

use poem_openapi::Object;
use uuid::Uuid;

#[derive(Clone, Debug, Object)]
pub struct SsoProviderCreated {
    pub provider_id: Uuid,
    /// `oidc` or `saml`.
    pub kind: String,
    pub name: String,
    pub domains: Vec<String>,
    pub default_role: String,
    pub jit: bool,
    pub sso_required: bool,
}

/// A provider was reconfigured, enabled or disabled.
#[derive(Clone, Debug, Object)]
pub struct SsoProviderChanged {
    pub provider_id: Uuid,
    pub name: String,
    /// What changed: `name`, `domains`, `jit`, `default_role`, `sso_required`, `settings`,
    /// `client_secret`, `enabled`.
    pub changed: Vec<String>,
}

#[derive(Clone, Debug, Object)]
pub struct SsoProviderDeleted {
    pub provider_id: Uuid,
    pub name: String,
    pub kind: String,
}
