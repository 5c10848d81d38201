use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{service, types::*};
use crate::{
    AppState,
    app::Tag,
    auth::BearerAuth,
    error::ApiResult,
    http::{NoContent, RequestMeta},
    json::JsonBody,
    paging::PageRequest,
};

pub struct TokensApi;

#[derive(ApiResponse)]
pub enum CreatedToken {
    /// The token; `token` holds the secret, shown this once.
    #[oai(status = 201)]
    Created(Json<TokenInfo>),
}

#[OpenApi]
impl TokensApi {
    /// List the caller's personal API tokens (never their secrets).
    #[oai(path = "/api/v1/auth/tokens", method = "get", tag = "Tag::Tokens", operation_id = "list_tokens")]
    async fn list_tokens(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<TokenPage>> {
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let (rows, next_cursor, has_more) = service::list(&state, &auth.0, page).await?;
        Ok(Json(TokenPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Create a personal API token that acts as the caller in their active org. The secret is
    /// in `token` of this response only.
    ///
    /// Requires a session (a token cannot mint tokens).
    #[oai(path = "/api/v1/auth/tokens", method = "post", tag = "Tag::Tokens", operation_id = "create_token")]
    async fn create_token(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        body: JsonBody<CreateTokenRequest>,
    ) -> ApiResult<CreatedToken> {
        let new = service::validate(&body.name, body.expires_at, state.clock.now())?;
        let issued = service::create(&state, &meta, &auth.0, new).await?;
        Ok(CreatedToken::Created(Json(issued.into())))
    }

    /// The caller's default token for their active org. The first request creates it and
    /// returns its secret in `token`; later requests return it without the secret (revoke it
    /// to get a new one).
    #[oai(
        path = "/api/v1/auth/tokens/default",
        method = "get",
        tag = "Tag::Tokens",
        operation_id = "get_default_token"
    )]
    async fn get_default_token(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
    ) -> ApiResult<Json<TokenInfo>> {
        Ok(Json(service::default_token(&state, &meta, &auth.0).await?.into()))
    }

    /// Revoke one of the caller's tokens; it stops working at once.
    #[oai(
        path = "/api/v1/auth/tokens/:id",
        method = "delete",
        tag = "Tag::Tokens",
        operation_id = "revoke_token"
    )]
    async fn revoke_token(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        service::revoke(&state, &meta, &auth.0, id.0).await?;
        Ok(NoContent::NoContent)
    }
}
