use poem::web::Data;
use poem_openapi::{OpenApi, payload::Json};

use super::{service, types::*};
use crate::{
    AppState, app::Tag, auth::BearerAuth, error::ApiResult, http::RequestMeta, json::JsonBody,
    sessions::types::TokenResponse,
};

pub struct MfaApi;

#[OpenApi]
impl MfaApi {
    /// Start enrolling a TOTP authenticator (or restart an unconfirmed enrolment with a new
    /// secret). Confirm it with a code at `POST /api/v1/auth/mfa/totp/confirm`.
    ///
    /// Requires a signed-in session (not a personal API token); works without an active org.
    /// 409 `MFA_ALREADY_ENROLLED` once an authenticator is confirmed.
    #[oai(path = "/api/v1/auth/mfa/totp", method = "post", tag = "Tag::Auth", operation_id = "enrol_totp")]
    async fn enrol_totp(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
    ) -> ApiResult<Json<TotpEnrolmentResponse>> {
        Ok(Json(service::enrol(&state, &meta, &auth.0).await?.into()))
    }

    /// Confirm the enrolment with the authenticator's current code. The current session then
    /// counts as having passed MFA, and the answer carries the recovery codes, once.
    ///
    /// Requires a signed-in session. 400 `INVALID_MFA_CODE` for a wrong code.
    #[oai(
        path = "/api/v1/auth/mfa/totp/confirm",
        method = "post",
        tag = "Tag::Auth",
        operation_id = "confirm_totp"
    )]
    async fn confirm_totp(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        body: JsonBody<ConfirmTotpRequest>,
    ) -> ApiResult<Json<TotpConfirmedResponse>> {
        let code = one_time_code(&body.code)?;
        Ok(Json(service::confirm(&state, &meta, &auth.0, code).await?.into()))
    }

    /// Finish a sign-in that answered `mfa_required`: the `mfa_token` with a TOTP code or an
    /// unused recovery code. Each token works once and dies after 5 wrong codes; each code
    /// works once.
    ///
    /// 401 `INVALID_MFA_CODE` for a wrong code, `INVALID_MFA_TOKEN` for a dead token; 429 while
    /// this client is throttled.
    #[oai(path = "/api/v1/auth/login/mfa", method = "post", tag = "Tag::Auth", operation_id = "login_mfa")]
    async fn login_mfa(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<CompleteMfaLoginRequest>,
    ) -> ApiResult<Json<TokenResponse>> {
        let mfa_token = challenge_token(&body.mfa_token)?;
        let code = one_time_code(&body.code)?;
        Ok(Json(service::complete_login(&state, &meta, mfa_token, code).await?.into()))
    }
}
