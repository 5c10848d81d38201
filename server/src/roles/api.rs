use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};

use super::{service, types::*};
use crate::{
    AppState, app::Tag, auth::tenant, error::ApiResult, http::NoContent, json::JsonBody,
    permissions::Permission,
};

pub struct RolesApi;

#[derive(ApiResponse)]
pub enum CreatedRole {
    #[oai(status = 201)]
    Created(Json<RoleResponse>),
}

#[OpenApi]
impl RolesApi {
    /// List the org's roles: the built-in ones first, then custom roles by key.
    ///
    /// Requires `org:read`.
    #[oai(path = "/api/v1/orgs/:org/roles", method = "get", tag = "Tag::Roles", operation_id = "list_roles")]
    async fn list_roles(&self, state: Data<&AppState>, org: tenant::Path) -> ApiResult<Json<RoleList>> {
        org.require(Permission::OrgRead)?;
        let roles = service::list(&state, &org).await?;
        Ok(Json(RoleList { data: roles.into_iter().map(Into::into).collect() }))
    }

    /// Define a custom role. You can only grant permissions you hold.
    ///
    /// Requires `roles:write`.
    #[oai(
        path = "/api/v1/orgs/:org/roles",
        method = "post",
        tag = "Tag::Roles",
        operation_id = "create_role"
    )]
    async fn create_role(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateRoleRequest>,
    ) -> ApiResult<CreatedRole> {
        org.require(Permission::RolesWrite)?;
        let CreateRoleRequest { key, name, description, permissions } = body.0;
        let key = validate_key(&key)?;
        let def = definition(name, description, permissions)?;
        let role = service::create(&state, &org, key, def).await?;
        Ok(CreatedRole::Created(Json(role.into())))
    }

    /// Replace a custom role's name, description and permissions. Built-in roles cannot change.
    ///
    /// Requires `roles:write` and holding every permission added or removed. Credentials whose
    /// issuers no longer stand high enough are revoked.
    #[oai(
        path = "/api/v1/orgs/:org/roles/:key",
        method = "put",
        tag = "Tag::Roles",
        operation_id = "update_role"
    )]
    async fn update_role(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        key: Path<String>,
        body: JsonBody<UpdateRoleRequest>,
    ) -> ApiResult<Json<RoleResponse>> {
        org.require(Permission::RolesWrite)?;
        let UpdateRoleRequest { name, description, permissions } = body.0;
        let def = definition(name, description, permissions)?;
        Ok(Json(service::update(&state, &org, &key, def).await?.into()))
    }

    /// Delete a custom role; refused (409 `ROLE_IN_USE`) while members hold it.
    ///
    /// Requires `roles:write`.
    #[oai(
        path = "/api/v1/orgs/:org/roles/:key",
        method = "delete",
        tag = "Tag::Roles",
        operation_id = "delete_role"
    )]
    async fn delete_role(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        key: Path<String>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::RolesWrite)?;
        service::delete(&state, &org, &key).await?;
        Ok(NoContent::NoContent)
    }
}
