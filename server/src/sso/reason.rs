//! Why an SSO sign-in was refused: one fixed, documented vocabulary, shown to the user, kept
//! in the audit entry `sso.login_failed` and in `/sso/activity`. Reasons are public API: add
//! new ones, never rename old ones.

use std::fmt;

use poem_openapi::Enum;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The callback or ACS request lacks what it must carry, or carries it malformed.
    InvalidRequest,
    /// No pending sign-in matches (`state` or `InResponseTo` unknown, or expired: a sign-in
    /// must finish within 10 minutes of starting).
    UnknownLogin,
    /// The pending sign-in was already finished once (a replayed callback).
    LoginReplayed,
    /// The callback arrived in another browser than the one that started the sign-in.
    BrowserMismatch,
    /// The IdP answered with an error (its `error` is in the details).
    IdpError,
    /// The IdP could not be reached, or answered what is not OIDC or SAML.
    IdpUnreachable,
    /// The authorization code was refused at the IdP's token endpoint.
    TokenExchangeFailed,
    /// `iss` (RFC 9207), the ID token's issuer or the SAML Issuer is not the configured IdP.
    IssuerMismatch,
    /// The signature does not verify against the IdP's keys or certificates.
    InvalidSignature,
    /// A signature algorithm that is not allowed (`none`, HMAC, SHA-1).
    UnsupportedAlgorithm,
    /// Nothing is signed, or not what must be (a SAML assertion, or a response holding exactly one).
    Unsigned,
    /// The token or assertion is meant for another client or service provider.
    AudienceMismatch,
    /// The SAML Recipient or Destination is not our ACS URL.
    RecipientMismatch,
    /// The ID token's nonce is not the one this sign-in sent.
    NonceMismatch,
    /// The token or assertion has expired.
    Expired,
    /// The assertion is not valid yet.
    NotYetValid,
    /// This assertion was already used to sign in.
    AssertionReplayed,
    /// The IdP started a sign-in this provider does not accept unrequested.
    IdpInitiatedNotAllowed,
    /// The SAML status is not Success.
    StatusNotSuccess,
    /// The document is not the expected SAML or breaks its structure (several assertions, duplicate
    /// IDs, a signature over another element: signature wrapping).
    MalformedResponse,
    /// The XML carries a DTD or entity declaration.
    ForbiddenDtd,
    /// The IdP sent no subject (NameID or `sub`).
    MissingSubject,
    /// The IdP sent no email address.
    MissingEmail,
    /// The IdP says the user is in too many groups to list (Entra `_claim_names`); the groups are unknown.
    GroupsOverage,
    /// The email address is not in a verified domain this provider serves.
    DomainNotVerified,
    /// The person is not a member and just-in-time provisioning is off.
    NotAMember,
    /// The org has reached its member limit.
    OrgFull,
    /// The account is disabled or waits for approval.
    AccountDisabled,
    /// The provider is disabled, or was deleted meanwhile.
    ProviderDisabled,
    /// The account never signs in through an org's IdP: an instance admin (whose power reaches
    /// beyond any org) or a service account.
    AccountNotEligible,
    /// An encrypted assertion could not be decrypted with this provider's SP key (encrypted for
    /// another key, altered, or with an algorithm that is not allowed). One reason for every
    /// decryption failure, so the answer is no oracle.
    DecryptionFailed,
    /// The provider requires encrypted assertions, and this one came in the clear.
    EncryptionRequired,
    /// The org's role-mapping plugin refused the sign-in (its reason is in the details).
    DeniedByPlugin,
    /// The org's role-mapping plugin failed and the provider refuses sign-ins then
    /// (`plugin_failure: closed`).
    PluginFailed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnknownLogin => "unknown_login",
            Self::LoginReplayed => "login_replayed",
            Self::BrowserMismatch => "browser_mismatch",
            Self::IdpError => "idp_error",
            Self::IdpUnreachable => "idp_unreachable",
            Self::TokenExchangeFailed => "token_exchange_failed",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::InvalidSignature => "invalid_signature",
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::Unsigned => "unsigned",
            Self::AudienceMismatch => "audience_mismatch",
            Self::RecipientMismatch => "recipient_mismatch",
            Self::NonceMismatch => "nonce_mismatch",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::AssertionReplayed => "assertion_replayed",
            Self::IdpInitiatedNotAllowed => "idp_initiated_not_allowed",
            Self::StatusNotSuccess => "status_not_success",
            Self::MalformedResponse => "malformed_response",
            Self::ForbiddenDtd => "forbidden_dtd",
            Self::MissingSubject => "missing_subject",
            Self::MissingEmail => "missing_email",
            Self::GroupsOverage => "groups_overage",
            Self::DomainNotVerified => "domain_not_verified",
            Self::NotAMember => "not_a_member",
            Self::OrgFull => "org_full",
            Self::AccountDisabled => "account_disabled",
            Self::ProviderDisabled => "provider_disabled",
            Self::AccountNotEligible => "account_not_eligible",
            Self::DecryptionFailed => "decryption_failed",
            Self::EncryptionRequired => "encryption_required",
            Self::DeniedByPlugin => "denied_by_plugin",
            Self::PluginFailed => "plugin_failed",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused sign-in: the reason, and a detail for the audit log and the error page (never
/// secrets, never the raw document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self { reason, detail: detail.into() }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}
