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

/// A person signed in through an org's identity provider.
#[derive(Clone, Debug, Object)]
pub struct SsoLogin {
    pub provider_id: Uuid,
    pub user_id: Uuid,
    /// `oidc` or `saml`.
    pub method: String,
    /// The IdP's subject (OIDC `sub`, SAML NameID).
    pub subject: String,
    pub email: String,
    /// The member's role after this sign-in.
    pub role: String,
    /// This sign-in made them a member (just-in-time provisioning).
    pub joined: bool,
}

/// A sign-in through an org's identity provider was refused.
#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct SsoLoginFailed {
    pub provider_id: Uuid,
    /// `oidc` or `saml`.
    pub method: String,
    /// From the documented vocabulary (`invalid_signature`, `domain_not_verified`, ...).
    pub reason: String,
    pub detail: String,
    /// The IdP's subject, when the refusal came after it was verified.
    pub subject: Option<String>,
    pub email: Option<String>,
}
