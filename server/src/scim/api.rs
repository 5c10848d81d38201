use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::tokens;
use crate::{
    AppState, app::Tag, auth::tenant, error::ApiResult, http::NoContent, json::OptionalJsonBody,
    permissions::Permission,
};

pub struct ScimTokensApi;

/// A new SCIM token. `token` is shown this once; configure it in the IdP's provisioning settings.
#[derive(Object)]
pub struct ScimTokenResponse {
    pub id: uuid::Uuid,
    /// The `gh_scim_...` secret.
    pub token: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The tokens this one replaced keep working until then (24 hours).
    pub previous_token_valid_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The SCIM base URL to give the IdP.
    pub scim_base_url: String,
}

/// Options of a new SCIM token.
#[derive(Object, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateScimTokenRequest {
    /// Let the directory adopt, deactivate and delete owners' memberships (owners only; default
    /// false: the directory leaves owners alone).
    pub manage_owners: Option<bool>,
}

#[derive(ApiResponse)]
pub enum CreatedScimToken {
    #[oai(status = 201)]
    Created(poem_openapi::payload::Json<ScimTokenResponse>),
}

#[OpenApi]
impl ScimTokensApi {
    /// Issue a SCIM bearer token for the org. Earlier tokens keep working for 24 hours, so an IdP
    /// can switch over without failed requests. The body is optional.
    ///
    /// Requires `scim:manage`, and standing as high as every role the org's group-to-role
    /// mappings confer (an `owner` mapping makes it owner-only); `manage_owners` is owner-only.
    /// The token is revoked when its issuer leaves the org or loses those rights.
    #[oai(
        path = "/api/v1/orgs/:org/scim/token",
        method = "post",
        tag = "Tag::Scim",
        operation_id = "create_scim_token"
    )]
    async fn create_scim_token(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: OptionalJsonBody<CreateScimTokenRequest>,
    ) -> ApiResult<CreatedScimToken> {
        org.require(Permission::ScimManage)?;
        let request = body.0;
        let issued = tokens::issue(&state, &org, request.manage_owners.unwrap_or(false)).await?;
        Ok(CreatedScimToken::Created(poem_openapi::payload::Json(ScimTokenResponse {
            id: issued.id,
            token: issued.token,
            created_at: issued.created_at,
            previous_token_valid_until: issued.previous_valid_until,
            scim_base_url: format!("{}/scim/v2", state.config.public_base_url),
        })))
    }

    /// Revoke every SCIM token of the org at once.
    ///
    /// Requires `scim:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/scim/token",
        method = "delete",
        tag = "Tag::Scim",
        operation_id = "revoke_scim_tokens"
    )]
    async fn revoke_scim_tokens(&self, state: Data<&AppState>, org: tenant::Path) -> ApiResult<NoContent> {
        org.require(Permission::ScimManage)?;
        tokens::revoke_all(&state, &org).await?;
        Ok(NoContent::NoContent)
    }
}
