//! `/api/v1/orgs/{org}/group-role-mappings`.

use chrono::{DateTime, Utc};
use guildhall_entities::group_role_mapping;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use sea_orm::QueryOrder;
use uuid::Uuid;

use super::service::{create, delete, failure_mode, set_plugin};
use crate::{
    AppState,
    app::Tag,
    auth::tenant,
    error::{ApiError, ApiResult},
    http::NoContent,
    json::JsonBody,
    permissions::Permission,
    scope::scoped,
};

#[derive(Object)]
pub struct GroupRoleMapping {
    pub id: Uuid,
    /// A group's name (matched case-insensitively) or external id, or `re:` and a regular
    /// expression matched against the whole name or external id.
    pub group: String,
    pub role: String,
    /// The role of whoever made the mapping: it never changes the role of a member whose role
    /// reaches above this one. Absent on mappings made before this was recorded.
    pub ceiling_role: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<group_role_mapping::Model> for GroupRoleMapping {
    fn from(m: group_role_mapping::Model) -> Self {
        Self {
            id: m.id,
            group: m.group_name,
            role: m.role,
            ceiling_role: m.ceiling_role,
            created_at: m.created_at,
        }
    }
}

#[derive(Object)]
pub struct GroupRoleMappingList {
    pub data: Vec<GroupRoleMapping>,
}

#[derive(Object, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRoleMapping {
    /// A group's name (SCIM displayName, matched case-insensitively) or external id; or
    /// `re:` and a regular expression (Rust regex syntax, anchored at both ends, case-insensitive,
    /// at most 256 characters) that the whole name or external id must match.
    pub group: String,
    /// The role its members get.
    pub role: String,
}

/// The org's role-mapper plugin for the members its SCIM client provisions.
#[derive(Object)]
pub struct GroupRoleMappingPlugin {
    /// A `role-mapper` plugin of the org. It decides a directory-managed member's role and
    /// teams, before the mapping table, whenever the directory creates or changes them or their
    /// groups (or refuses that write); none: the mapping table alone decides.
    pub plugin_id: Option<Uuid>,
    /// What a failing plugin does: `open` (the mapping table decides) or `closed` (the
    /// directory's write is refused with 503 `PLUGIN_FAILED`, for it to retry).
    pub plugin_failure: String,
}

#[derive(Object, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetGroupRoleMappingPlugin {
    /// A `role-mapper` plugin of the org, or null to remove it. Naming one takes standing as
    /// high as its uploader's role.
    pub plugin_id: Option<Uuid>,
    /// `open` (default) or `closed`.
    #[serde(default)]
    pub plugin_failure: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreatedMapping {
    #[oai(status = 201)]
    Created(Json<GroupRoleMapping>),
}

pub struct GroupRoleMappingsApi;

#[OpenApi]
impl GroupRoleMappingsApi {
    /// The org's group-to-role mappings.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "list_group_role_mappings"
    )]
    async fn list_group_role_mappings(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
    ) -> ApiResult<Json<GroupRoleMappingList>> {
        org.require(Permission::MembersRead)?;
        let rows = scoped::<group_role_mapping::Entity>(&org)
            .order_by_asc(group_role_mapping::Column::CreatedAt)
            .all(&state.db)
            .await?;
        Ok(Json(GroupRoleMappingList { data: rows.into_iter().map(Into::into).collect() }))
    }

    /// Map a directory group to a role. Directory-managed members of that group get the role
    /// (the most privileged of their mapped roles wins) at once and whenever their groups change.
    ///
    /// Requires `members:write`, and holding every permission the role grants (`owner` requires
    /// being an owner). SCIM tokens whose issuer does not stand as high as the role are revoked.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings",
        method = "post",
        tag = "Tag::Scim",
        operation_id = "create_group_role_mapping"
    )]
    async fn create_group_role_mapping(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateGroupRoleMapping>,
    ) -> ApiResult<CreatedMapping> {
        org.require(Permission::MembersWrite)?;
        let role = body.0.role.trim().to_string();
        let row = create(&state, &org, body.0.group, role).await?;
        Ok(CreatedMapping::Created(Json(row.into())))
    }

    /// The org's role-mapper plugin for directory-managed members.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings/plugin",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "get_group_role_mapping_plugin"
    )]
    async fn get_group_role_mapping_plugin(
        &self,
        org: tenant::Path,
    ) -> ApiResult<Json<GroupRoleMappingPlugin>> {
        org.require(Permission::MembersRead)?;
        Ok(Json(GroupRoleMappingPlugin {
            plugin_id: org.org().scim_role_mapper_plugin_id,
            plugin_failure: failure_mode(org.org().scim_plugin_fail_closed).into(),
        }))
    }

    /// Name or remove the org's role-mapper plugin for directory-managed members; every such
    /// member's role is derived again at once (the plugin may place them in teams too).
    ///
    /// Requires `members:write` and standing as high as the plugin's uploader's role; a change
    /// that changes an owner's role requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings/plugin",
        method = "put",
        tag = "Tag::Scim",
        operation_id = "set_group_role_mapping_plugin"
    )]
    async fn set_group_role_mapping_plugin(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<SetGroupRoleMappingPlugin>,
    ) -> ApiResult<Json<GroupRoleMappingPlugin>> {
        org.require(Permission::MembersWrite)?;
        let fail_closed = match body.0.plugin_failure.as_deref().map(str::trim) {
            None | Some("open") => false,
            Some("closed") => true,
            Some(_) => return Err(ApiError::validation("plugin_failure", "must be `open` or `closed`")),
        };
        set_plugin(&state, &org, body.0.plugin_id, fail_closed).await?;
        Ok(Json(GroupRoleMappingPlugin {
            plugin_id: body.0.plugin_id,
            plugin_failure: failure_mode(fail_closed).into(),
        }))
    }

    /// Remove a mapping; its members' roles are derived again from their other groups.
    ///
    /// Requires `members:write` and holding every permission the mapped role grants; a removal
    /// that changes an owner's role (such as removing the `owner` mapping) requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings/:id",
        method = "delete",
        tag = "Tag::Scim",
        operation_id = "delete_group_role_mapping"
    )]
    async fn delete_group_role_mapping(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::MembersWrite)?;
        delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }
}
