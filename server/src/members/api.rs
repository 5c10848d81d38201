use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    service::{self, MemberFilter, UserRef},
    types::*,
};
use crate::{
    AppState,
    app::Tag,
    auth::tenant,
    error::{ApiError, ApiResult},
    http::NoContent,
    json::JsonBody,
    paging::PageRequest,
    permissions::Permission,
    users::email,
};

pub struct MembersApi;

#[derive(ApiResponse)]
pub enum AddedMember {
    #[oai(status = 201)]
    Created(Json<MemberResponse>),
}

fn role_key(role: &str) -> Result<String, ApiError> {
    let role = role.trim();
    if role.is_empty() || role.len() > 40 {
        return Err(ApiError::validation("role", "must be a role key"));
    }
    Ok(role.to_string())
}

#[OpenApi]
impl MembersApi {
    /// List the org's members; filter by role, status and a part of the email.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/members",
        method = "get",
        tag = "Tag::Members",
        operation_id = "list_members"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_members(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Only members with this role key.
        role: Query<Option<String>>,
        /// Only members with this status.
        status: Query<Option<MemberStatus>>,
        /// Only members whose email contains this text.
        email: Query<Option<String>>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<MemberPage>> {
        org.require(Permission::MembersRead)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        if email.0.as_ref().is_some_and(|e| e.len() > 254) {
            return Err(ApiError::validation("email", "is longer than 254 characters"));
        }
        let filter = MemberFilter {
            role: role.0.filter(|r| !r.is_empty()),
            status: status.0.map(MemberStatus::domain),
            email: email.0.filter(|e| !e.trim().is_empty()),
        };
        let (rows, next_cursor, has_more) = service::list(&state, &org, &filter, page).await?;
        Ok(Json(MemberPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Add an existing account to the org with a role, without an invitation. This works only for
    /// accounts whose email is in one of the org's verified domains; anyone else is invited (403
    /// `CONSENT_REQUIRED`, the same answer whether or not the address has an account).
    ///
    /// Requires `members:write`; granting `owner` requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/members",
        method = "post",
        tag = "Tag::Members",
        operation_id = "add_member"
    )]
    async fn add_member(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<AddMemberRequest>,
    ) -> ApiResult<AddedMember> {
        org.require(Permission::MembersWrite)?;
        let AddMemberRequest { user_id, email: address, role } = body.0;
        let who = match (user_id, address) {
            (Some(id), None) => UserRef::Id(id),
            (None, Some(address)) => UserRef::Email(email::normalize("email", &address)?),
            _ => return Err(ApiError::validation("user_id", "give exactly one of user_id and email")),
        };
        let member = service::add(&state, &org, who, role_key(&role)?).await?;
        Ok(AddedMember::Created(Json(member.into())))
    }

    /// One member.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/members/:user_id",
        method = "get",
        tag = "Tag::Members",
        operation_id = "get_member"
    )]
    async fn get_member(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        user_id: Path<Uuid>,
    ) -> ApiResult<Json<MemberResponse>> {
        org.require(Permission::MembersRead)?;
        Ok(Json(service::get(&state, &org, user_id.0).await?.into()))
    }

    /// Change a member's role. The last owner cannot be demoted.
    ///
    /// Requires `members:write`; granting or revoking `owner` requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/members/:user_id",
        method = "patch",
        tag = "Tag::Members",
        operation_id = "update_member"
    )]
    async fn update_member(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        user_id: Path<Uuid>,
        body: JsonBody<UpdateMemberRequest>,
    ) -> ApiResult<Json<MemberResponse>> {
        org.require(Permission::MembersWrite)?;
        let role = role_key(&body.role)?;
        Ok(Json(service::change_role(&state, &org, user_id.0, role).await?.into()))
    }

    /// Remove a member, or leave when `user_id` is yourself. The last owner cannot leave, and
    /// nobody is left without an org.
    ///
    /// Requires `members:write` (not to leave) and holding every permission of the member's role;
    /// removing an owner requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/members/:user_id",
        method = "delete",
        tag = "Tag::Members",
        operation_id = "remove_member"
    )]
    async fn remove_member(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        service::remove(&state, &org, user_id.0).await?;
        Ok(NoContent::NoContent)
    }
}
