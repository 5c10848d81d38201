use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    service::{self, Added, NewTeam, TeamChange},
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
};

pub struct TeamsApi;

#[derive(ApiResponse)]
pub enum CreatedTeam {
    #[oai(status = 201)]
    Created(Json<TeamResponse>),
}

#[derive(ApiResponse)]
pub enum AddedTeamMember {
    /// The user was already in the team; nothing changed.
    #[oai(status = 200)]
    Existing(Json<TeamMemberResponse>),
    /// The user was added to the team.
    #[oai(status = 201)]
    Created(Json<TeamMemberResponse>),
}

#[OpenApi]
impl TeamsApi {
    /// List the org's teams, oldest first; filter by a part of the name.
    ///
    /// Requires `members:read`.
    #[oai(path = "/api/v1/orgs/:org/teams", method = "get", tag = "Tag::Teams", operation_id = "list_teams")]
    async fn list_teams(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Only teams whose name contains this text (any case).
        name: Query<Option<String>>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<TeamPage>> {
        org.require(Permission::MembersRead)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        if name.0.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME) {
            return Err(ApiError::validation("name", format!("is longer than {MAX_NAME} characters")));
        }
        let name = name.0.filter(|n| !n.trim().is_empty());
        let (rows, next_cursor, has_more) = service::list(&state, &org, name.as_deref(), page).await?;
        Ok(Json(TeamPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Create a team. Names are unique in the org regardless of case (409 `TEAM_EXISTS`).
    ///
    /// Requires `teams:write`.
    #[oai(
        path = "/api/v1/orgs/:org/teams",
        method = "post",
        tag = "Tag::Teams",
        operation_id = "create_team"
    )]
    async fn create_team(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateTeamRequest>,
    ) -> ApiResult<CreatedTeam> {
        org.require(Permission::TeamsWrite)?;
        let new = NewTeam::try_from(body.0)?;
        let team = service::create(&state, &org, new).await?;
        Ok(CreatedTeam::Created(Json(team.into())))
    }

    /// One team with its members.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/teams/:id",
        method = "get",
        tag = "Tag::Teams",
        operation_id = "get_team"
    )]
    async fn get_team(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<TeamDetailResponse>> {
        org.require(Permission::MembersRead)?;
        Ok(Json(service::get(&state, &org, id.0).await?.into()))
    }

    /// Rename a team or change its external id; only the fields sent change. A team the
    /// directory (SCIM) manages answers 409 `DIRECTORY_MANAGED`.
    ///
    /// Requires `teams:write`.
    #[oai(
        path = "/api/v1/orgs/:org/teams/:id",
        method = "patch",
        tag = "Tag::Teams",
        operation_id = "update_team"
    )]
    async fn update_team(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        body: JsonBody<UpdateTeamRequest>,
    ) -> ApiResult<Json<TeamResponse>> {
        org.require(Permission::TeamsWrite)?;
        let change = TeamChange::try_from(body.0)?;
        Ok(Json(service::update(&state, &org, id.0, change).await?.into()))
    }

    /// Delete a team. Its members stay in the org. A team the directory (SCIM) manages answers
    /// 409 `DIRECTORY_MANAGED`.
    ///
    /// Requires `teams:write`.
    #[oai(
        path = "/api/v1/orgs/:org/teams/:id",
        method = "delete",
        tag = "Tag::Teams",
        operation_id = "delete_team"
    )]
    async fn delete_team(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::TeamsWrite)?;
        service::delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Put a member of the org into a team: 201 when added, 200 when already there.
    ///
    /// Requires `teams:write`.
    #[oai(
        path = "/api/v1/orgs/:org/teams/:id/members/:user_id",
        method = "put",
        tag = "Tag::Teams",
        operation_id = "add_team_member"
    )]
    async fn add_team_member(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> ApiResult<AddedTeamMember> {
        org.require(Permission::TeamsWrite)?;
        Ok(match service::add_member(&state, &org, id.0, user_id.0).await? {
            Added::New(member) => AddedTeamMember::Created(Json(member.into())),
            Added::Existing(member) => AddedTeamMember::Existing(Json(member.into())),
        })
    }

    /// Take a user out of a team; they stay in the org.
    ///
    /// Requires `teams:write`.
    #[oai(
        path = "/api/v1/orgs/:org/teams/:id/members/:user_id",
        method = "delete",
        tag = "Tag::Teams",
        operation_id = "remove_team_member"
    )]
    async fn remove_team_member(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        user_id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::TeamsWrite)?;
        service::remove_member(&state, &org, id.0, user_id.0).await?;
        Ok(NoContent::NoContent)
    }
}
