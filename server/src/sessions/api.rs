use poem::web::Data;
use poem_openapi::{OpenApi, payload::Json};

use super::{
    service::{self, LoginOutcome, SignedIn},
    signup::{self, NewSignup, SignupOutcome},
    types::*,
};
use crate::{
    AppState,
    app::Tag,
    auth::{BearerAuth, Credential},
    error::{ApiError, ApiResult},
    http::{NoContent, RequestMeta},
    json::JsonBody,
    orgs,
    users::{self, types::UserResponse},
};

pub struct SessionsApi;

impl From<SignedIn> for TokenResponse {
    fn from(s: SignedIn) -> Self {
        Self {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: TokenType::Bearer,
            expires_in: s.expires_in,
            user: s.user.into(),
            org: s.org.map(Into::into),
        }
    }
}

impl From<LoginOutcome> for LoginResponse {
    fn from(outcome: LoginOutcome) -> Self {
        match outcome {
            LoginOutcome::SignedIn(s) => Self {
                mfa_required: false,
                mfa_token: None,
                mfa_token_expires_in: None,
                access_token: Some(s.access_token),
                refresh_token: Some(s.refresh_token),
                token_type: Some(TokenType::Bearer),
                expires_in: Some(s.expires_in),
                user: s.user.into(),
                org: s.org.map(Into::into),
            },
            LoginOutcome::MfaRequired(c) => Self {
                mfa_required: true,
                mfa_token: Some(c.mfa_token),
                mfa_token_expires_in: Some(c.expires_in),
                access_token: None,
                refresh_token: None,
                token_type: None,
                expires_in: None,
                user: c.user.into(),
                org: None,
            },
        }
    }
}

#[OpenApi]
impl SessionsApi {
    /// Create an account with its own organization. The first account of the instance becomes
    /// an instance admin. Answers 201 with tokens, or 202 when the account waits for approval,
    /// or when the address already has an account without a password (provisioned by an org's
    /// directory or verified domain): the emailed verification link then sets the password.
    #[oai(path = "/api/v1/auth/signup", method = "post", tag = "Tag::Auth", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<SignupRequest>,
    ) -> ApiResult<SignupResponse> {
        let SignupRequest { email, password, org_name, invitation_token } = body.0;
        match signup::signup(&state, &meta, NewSignup { email, password, org_name, invitation_token }).await?
        {
            SignupOutcome::SignedIn(signed_in) => Ok(SignupResponse::Created(Json((*signed_in).into()))),
            SignupOutcome::Pending(user) => Ok(SignupResponse::Pending(Json(PendingSignupResponse {
                user: (*user).into(),
                detail: "the account waits for an administrator's approval".into(),
            }))),
            SignupOutcome::VerifyToClaim(user) => Ok(SignupResponse::Pending(Json(PendingSignupResponse {
                user: (*user).into(),
                detail: "an account for this address already exists without a password; \
                         the link emailed to the address sets your password and signs you in to it"
                    .into(),
            }))),
        }
    }

    /// Sign in with email and password. For an account with a confirmed authenticator the
    /// answer has `mfa_required: true` and an `mfa_token` instead of tokens; finish at
    /// `POST /api/v1/auth/login/mfa`.
    ///
    /// Failed sign-ins are throttled per account and client address: 429 `LOGIN_THROTTLED`
    /// (growing pauses), then `ACCOUNT_LOCKED` for the lockout period, with `Retry-After`.
    #[oai(path = "/api/v1/auth/login", method = "post", tag = "Tag::Auth", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<LoginRequest>,
    ) -> ApiResult<Json<LoginResponse>> {
        Ok(Json(service::login(&state, &meta, &body.email, &body.password).await?.into()))
    }

    /// Exchange a refresh token for a new token pair. Each refresh token works once; using one
    /// twice revokes the whole session.
    #[oai(path = "/api/v1/auth/refresh", method = "post", tag = "Tag::Auth", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<RefreshRequest>,
    ) -> ApiResult<Json<TokenResponse>> {
        Ok(Json(service::refresh(&state, &meta, &body.refresh_token).await?.into()))
    }

    /// End the current session: its access and refresh tokens stop working at once.
    ///
    /// Requires a session (not a personal API token).
    #[oai(path = "/api/v1/auth/logout", method = "post", tag = "Tag::Auth", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
    ) -> ApiResult<NoContent> {
        service::logout(&state, &meta, &auth.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Confirm an email address with the token from the verification email. The account then
    /// joins the orgs that invited it, claims the identities directories made for the address,
    /// and joins the orgs whose verified auto-join domains match. A link sent by a signup for an
    /// account without a password also sets that password, and needs it in `password`.
    #[oai(
        path = "/api/v1/auth/verify-email",
        method = "post",
        tag = "Tag::Auth",
        operation_id = "verify_email"
    )]
    async fn verify_email(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<VerifyEmailRequest>,
    ) -> ApiResult<Json<VerifiedEmail>> {
        let VerifyEmailRequest { token, password } = body.0;
        let (user, joined) =
            users::verification::verify(&state, &meta, token.trim(), password.as_deref()).await?;
        Ok(Json(VerifiedEmail { user: user.into(), joined: joined.into_iter().map(Into::into).collect() }))
    }

    /// Send a new verification link to the caller's address.
    #[oai(
        path = "/api/v1/auth/verify-email/resend",
        method = "post",
        tag = "Tag::Auth",
        operation_id = "resend_verification_email"
    )]
    async fn resend_verification_email(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> ApiResult<NoContent> {
        users::verification::resend(&state, auth.0.user_id).await?;
        Ok(NoContent::NoContent)
    }

    /// The caller: their account, active org and role, and how they authenticated.
    #[oai(path = "/api/v1/auth/me", method = "get", tag = "Tag::Auth", operation_id = "get_me")]
    async fn get_me(&self, state: Data<&AppState>, auth: BearerAuth) -> ApiResult<Json<MeResponse>> {
        let principal = auth.0;
        let user = principal.account.0.clone();
        let org = match &principal.org {
            Some(o) => {
                Some(orgs::service::active_membership(&state.db, o.id, principal.user_id).await?.ok_or_else(
                    || ApiError::unauthenticated("INVALID_TOKEN", "no longer a member of the token's org"),
                )?)
            }
            None => None,
        };
        let (auth_method, credential_id) = match principal.credential {
            Credential::Session { session_id } => (AuthMethod::Session, session_id),
            Credential::PersonalToken { token_id } => (AuthMethod::PersonalToken, token_id),
        };
        Ok(Json(MeResponse {
            user: UserResponse::from(user),
            org: org.map(OrgSummary::from),
            auth_method,
            credential_id,
        }))
    }
}
