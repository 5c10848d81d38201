use poem_openapi::{ApiResponse, Enum, Object, payload::Json};
use serde::Deserialize;

use crate::{orgs::ActiveOrg, users::types::UserResponse};

/// Create an account.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// The identity of the account; stored lowercased and never changes.
    pub email: String,
    /// At least the instance's minimum length (default 10), at most 1024 characters.
    pub password: String,
    /// Name of the organization created for the new account (default: derived from the email).
    pub org_name: Option<String>,
    /// A `gh_inv_...` token from an invitation to this email: the account joins the inviting
    /// org instead of getting one of its own (allowed even when signup is closed).
    pub invitation_token: Option<String>,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The `gh_ver_...` token from the verification email.
    pub token: String,
    /// Only for a link sent by a signup that claims an account without a password: the
    /// password chosen at that signup.
    pub password: Option<String>,
}

/// The verified account and the orgs it joined (invitations, auto-join domains).
#[derive(Object)]
pub struct VerifiedEmail {
    pub user: UserResponse,
    pub joined: Vec<OrgSummary>,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The `gh_rt_...` token from the last sign-in or refresh. Each one works once.
    pub refresh_token: String,
}

#[derive(Clone, Copy, Debug, Enum)]
pub enum TokenType {
    Bearer,
}

/// An org and the caller's role in it.
#[derive(Object)]
pub struct OrgSummary {
    pub id: uuid::Uuid,
    pub name: String,
    pub slug: String,
    /// `owner`, `admin`, `member` or a custom role key.
    pub role: String,
}

impl From<ActiveOrg> for OrgSummary {
    fn from(o: ActiveOrg) -> Self {
        Self { id: o.id, name: o.name, slug: o.slug, role: o.role }
    }
}

/// An OAuth-style token pair, with the signed-in user and their active org.
#[derive(Object)]
pub struct TokenResponse {
    /// ES256 JWT; send as `Authorization: Bearer`. Verify it against `/.well-known/jwks.json`.
    pub access_token: String,
    /// Opaque `gh_rt_...` token for `POST /api/v1/auth/refresh`; single use.
    pub refresh_token: String,
    pub token_type: TokenType,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    pub user: UserResponse,
    /// The org the access token acts in (absent for a user with no org).
    pub org: Option<OrgSummary>,
}

/// The answer to a password sign-in: a token pair, or, for an account with a confirmed
/// authenticator, `mfa_required` and an `mfa_token` (and no tokens) to finish the sign-in at
/// `POST /api/v1/auth/login/mfa`.
#[derive(Object)]
pub struct LoginResponse {
    /// True when the sign-in waits for a second factor; the token fields are then absent.
    pub mfa_required: bool,
    /// `gh_mfa_...`: single-use, valid for `mfa_token_expires_in` seconds and a few wrong codes.
    pub mfa_token: Option<String>,
    pub mfa_token_expires_in: Option<u64>,
    /// ES256 JWT; send as `Authorization: Bearer`. Verify it against `/.well-known/jwks.json`.
    pub access_token: Option<String>,
    /// Opaque `gh_rt_...` token for `POST /api/v1/auth/refresh`; single use.
    pub refresh_token: Option<String>,
    pub token_type: Option<TokenType>,
    /// Seconds until `access_token` expires.
    pub expires_in: Option<u64>,
    pub user: UserResponse,
    /// The org the access token acts in (absent for a user with no org, or while MFA is pending).
    pub org: Option<OrgSummary>,
}

/// A new account that waits for an instance admin's approval before it can sign in.
#[derive(Object)]
pub struct PendingSignupResponse {
    pub user: UserResponse,
    pub detail: String,
}

#[derive(ApiResponse)]
pub enum SignupResponse {
    /// The account is active and signed in.
    #[oai(status = 201)]
    Created(Json<TokenResponse>),
    /// The account waits for approval, or for its address to be proved; no tokens yet.
    #[oai(status = 202)]
    Pending(Json<PendingSignupResponse>),
}

#[derive(Clone, Copy, Debug, Enum)]
#[oai(rename_all = "snake_case")]
pub enum AuthMethod {
    Session,
    PersonalToken,
}

/// The caller, their active org and how they authenticated.
#[derive(Object)]
pub struct MeResponse {
    pub user: UserResponse,
    pub org: Option<OrgSummary>,
    pub auth_method: AuthMethod,
    /// The session (for access tokens) or the personal token's id.
    pub credential_id: uuid::Uuid,
}
