//! The provider administration API's bodies.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum SsoKind {
    Oidc,
    Saml,
}

impl SsoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Oidc => "oidc",
            Self::Saml => "saml",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "oidc" => Some(Self::Oidc),
            "saml" => Some(Self::Saml),
            _ => None,
        }
    }
}

/// A provider as created, or as replaced by `PUT` (which keeps a stored OIDC client secret
/// when none is sent).
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoProviderInput {
    pub kind: SsoKind,
    /// Shown to admins and on sign-in pages, 1 to 100 characters.
    pub name: String,
    /// The org's verified email domains whose people sign in through this provider (each
    /// domain at most one provider of the org).
    #[serde(default)]
    pub domains: Option<Vec<String>>,
    /// Create members at their first sign-in (default true); otherwise only existing members
    /// sign in.
    #[serde(default)]
    pub jit: Option<bool>,
    /// The role of members whose groups map to no role (default `member`). Configuring it
    /// takes standing as high as that role.
    #[serde(default)]
    pub default_role: Option<String>,
    /// The org's members in this provider's domains may then only sign in through SSO
    /// (default false).
    #[serde(default)]
    pub sso_required: Option<bool>,
    /// A `role-mapper` plugin of the org that decides the role and teams at each sign-in (or
    /// refuses it); configuring it takes standing as high as its uploader's role.
    #[serde(default)]
    pub role_mapper_plugin_id: Option<Uuid>,
    /// What a failing role mapper does: `open` (default: the mapping table and default role
    /// decide) or `closed` (the sign-in is refused as `plugin_failed`).
    #[serde(default)]
    pub plugin_failure: Option<String>,
    /// For `kind: saml`.
    #[serde(default)]
    pub saml: Option<SamlInput>,
    /// For `kind: oidc`.
    #[serde(default)]
    pub oidc: Option<OidcInput>,
}

/// SAML 2.0: type the IdP's values in, or import its metadata (XML, or a URL the server
/// fetches); values typed in win over imported ones.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamlInput {
    pub idp_entity_id: Option<String>,
    /// The IdP's SSO URL (HTTP-Redirect binding).
    pub sso_url: Option<String>,
    /// The IdP's signing certificates, PEM, at most 5: several at once let a certificate roll
    /// over without downtime. Required unless the metadata carries them.
    pub certificates: Option<Vec<String>>,
    /// The IdP's metadata XML (at most 1 MiB; no DTD).
    pub metadata_xml: Option<String>,
    /// Where the IdP publishes its metadata; fetched now (https, public addresses only).
    pub metadata_url: Option<String>,
    /// Accept sign-ins the IdP starts without our request (default false).
    pub allow_idp_initiated: Option<bool>,
    /// Allowed clock difference with the IdP, 0..=600 seconds (default 120).
    pub clock_skew_seconds: Option<u32>,
    /// `emailAddress` (default), `persistent`, `unspecified` or `transient`.
    pub name_id_format: Option<String>,
    /// The attribute holding the email (default: the NameID, or the usual Okta, Entra ID and
    /// ADFS attribute names).
    pub email_attribute: Option<String>,
    /// The attribute holding group names (default: the usual Okta, Entra ID and ADFS names).
    pub groups_attribute: Option<String>,
    /// An AuthnContextClassRef to request.
    pub authn_context_class_ref: Option<String>,
    /// Sign our AuthnRequests with this provider's SP key (default: what the IdP's metadata
    /// says in `WantAuthnRequestsSigned`, else false).
    pub sign_authn_requests: Option<bool>,
    /// Refuse assertions not encrypted to this provider's SP key (default false; encrypted
    /// assertions are accepted either way).
    pub require_encrypted_assertions: Option<bool>,
}

/// OpenID Connect: a discovery URL, or the issuer and its endpoints.
#[derive(Debug, Default, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcInput {
    /// `https://issuer/.well-known/openid-configuration`.
    pub discovery_url: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub client_id: Option<String>,
    /// Write-only: sealed at rest and never shown; required on create.
    pub client_secret: Option<String>,
    /// Default `openid email profile`; must include `openid`.
    pub scopes: Option<Vec<String>>,
    /// The ID token or userinfo claim holding group names.
    pub groups_claim: Option<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    pub token_auth_method: Option<String>,
}

#[derive(Debug, Object)]
pub struct SsoProvider {
    pub id: Uuid,
    pub kind: SsoKind,
    pub name: String,
    pub enabled: bool,
    pub domains: Vec<String>,
    pub jit: bool,
    pub default_role: String,
    pub sso_required: bool,
    pub role_mapper_plugin_id: Option<Uuid>,
    /// `open` or `closed`.
    pub plugin_failure: String,
    pub saml: Option<SamlView>,
    pub oidc: Option<OidcView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Object)]
pub struct SamlView {
    pub idp_entity_id: String,
    pub sso_url: String,
    pub certificates: Vec<CertificateInfo>,
    pub metadata_url: Option<String>,
    /// When `metadata_url` was last fetched; it is fetched again every 12 hours and new
    /// certificates it publishes are taken in.
    pub metadata_fetched_at: Option<DateTime<Utc>>,
    pub name_id_format: String,
    pub email_attribute: Option<String>,
    pub groups_attribute: Option<String>,
    pub clock_skew_seconds: u32,
    pub authn_context_class_ref: Option<String>,
    pub allow_idp_initiated: bool,
    /// Our entity id for this provider (the IdP's "Audience" / "Identifier").
    pub sp_entity_id: String,
    /// Where the IdP posts responses ("Single sign-on URL" / "Reply URL").
    pub acs_url: String,
    /// Our SP metadata for the IdP to import.
    pub sp_metadata_url: String,
    /// Our certificate for this provider: the IdP checks our signed AuthnRequests with it and
    /// encrypts assertions to it ("encryption certificate" in Okta, "token encryption" in Entra).
    pub sp_certificate: Option<CertificateInfo>,
    pub sign_authn_requests: bool,
    pub require_encrypted_assertions: bool,
}

/// A configured IdP signing certificate.
#[derive(Clone, Debug, Object)]
pub struct CertificateInfo {
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of the DER, colon-separated hex.
    pub sha256_fingerprint: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub expired: bool,
    /// Expires within 30 days: add its successor now.
    pub expires_soon: bool,
    pub pem: String,
}

#[derive(Debug, Object)]
pub struct OidcView {
    pub discovery_url: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub jwks_uri: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
    pub scopes: Vec<String>,
    pub groups_claim: Option<String>,
    pub token_auth_method: String,
    /// The redirect URI to register at the IdP.
    pub redirect_uri: String,
}

#[derive(Debug, Object)]
pub struct SsoProviderList {
    pub data: Vec<SsoProvider>,
}

/// The end of an SSO sign-in, from the application's back end.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoExchangeRequest {
    /// The `gh_sso_...` code from the `return_to` redirect.
    pub code: String,
}
