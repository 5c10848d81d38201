use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};
use uuid::Uuid;

use super::{service, types::*};
use crate::{
    AppState,
    app::Tag,
    auth::tenant,
    error::{ApiError, ApiResult},
    http::NoContent,
    json::JsonBody,
    orgs::settings,
    permissions::Permission,
    tokens::{
        self,
        types::{CreateTokenRequest, TokenInfo},
    },
};

pub struct ServiceAccountsApi;

#[derive(ApiResponse)]
pub enum CreatedServiceAccount {
    #[oai(status = 201)]
    Created(Json<ServiceAccountResponse>),
}

#[derive(ApiResponse)]
pub enum CreatedServiceAccountToken {
    /// The token; `token` holds the secret, shown this once.
    #[oai(status = 201)]
    Created(Json<TokenInfo>),
}

#[OpenApi]
impl ServiceAccountsApi {
    /// The org's service accounts.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/service-accounts",
        method = "get",
        tag = "Tag::ServiceAccounts",
        operation_id = "list_service_accounts"
    )]
    async fn list_service_accounts(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
    ) -> ApiResult<Json<ServiceAccountList>> {
        org.require(Permission::MembersRead)?;
        let data = service::list(&state, &org).await?.into_iter().map(Into::into).collect();
        Ok(Json(ServiceAccountList { data }))
    }

    /// Create a service account with a role.
    ///
    /// Requires `service_accounts:write`; you cannot grant more than you hold.
    #[oai(
        path = "/api/v1/orgs/:org/service-accounts",
        method = "post",
        tag = "Tag::ServiceAccounts",
        operation_id = "create_service_account"
    )]
    async fn create_service_account(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateServiceAccountRequest>,
    ) -> ApiResult<CreatedServiceAccount> {
        org.require(Permission::ServiceAccountsWrite)?;
        let name = settings::name(&body.name)?;
        let role = body.role.trim().to_string();
        if role.is_empty() || role.len() > 40 {
            return Err(ApiError::validation("role", "must be a role key"));
        }
        let account = service::create(&state, &org, name, role).await?;
        Ok(CreatedServiceAccount::Created(Json(account.into())))
    }

    /// Delete a service account; its tokens stop working at once.
    ///
    /// Requires `service_accounts:write`.
    #[oai(
        path = "/api/v1/orgs/:org/service-accounts/:id",
        method = "delete",
        tag = "Tag::ServiceAccounts",
        operation_id = "delete_service_account"
    )]
    async fn delete_service_account(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::ServiceAccountsWrite)?;
        service::delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Create a token for a service account; the secret is in `token` of this response only.
    ///
    /// Requires `service_accounts:write` and holding every permission of the account's role
    /// (an `owner` account's tokens are owners' to mint). The token is revoked when its minter
    /// leaves the org or loses that standing.
    #[oai(
        path = "/api/v1/orgs/:org/service-accounts/:id/tokens",
        method = "post",
        tag = "Tag::ServiceAccounts",
        operation_id = "create_service_account_token"
    )]
    async fn create_service_account_token(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        body: JsonBody<CreateTokenRequest>,
    ) -> ApiResult<CreatedServiceAccountToken> {
        org.require(Permission::ServiceAccountsWrite)?;
        let new = tokens::service::validate(&body.name, body.expires_at, state.clock.now())?;
        let issued = service::create_token(&state, &org, id.0, new).await?;
        Ok(CreatedServiceAccountToken::Created(Json(issued.into())))
    }

    /// A service account's tokens (never their secrets).
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/service-accounts/:id/tokens",
        method = "get",
        tag = "Tag::ServiceAccounts",
        operation_id = "list_service_account_tokens"
    )]
    async fn list_service_account_tokens(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ServiceAccountTokenList>> {
        org.require(Permission::MembersRead)?;
        let data = service::list_tokens(&state, &org, id.0).await?.into_iter().map(Into::into).collect();
        Ok(Json(ServiceAccountTokenList { data }))
    }

    /// Revoke one token of a service account.
    ///
    /// Requires `service_accounts:write`.
    #[oai(
        path = "/api/v1/orgs/:org/service-accounts/:id/tokens/:token_id",
        method = "delete",
        tag = "Tag::ServiceAccounts",
        operation_id = "revoke_service_account_token"
    )]
    async fn revoke_service_account_token(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        token_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::ServiceAccountsWrite)?;
        service::revoke_token(&state, &org, id.0, token_id.0).await?;
        Ok(NoContent::NoContent)
    }
}
