//! `/scim/v2/Users` and `/scim/v2/Groups`: parse, call the area, project, set versions.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Header, Path, Query},
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    auth::ScimAuth,
    groups,
    json::{ScimBody, ScimDoc},
    list::{self, RawListParams},
    query,
    resource::{self, AttrRef},
    schema::{GROUP_TYPE, ResourceType, USER_TYPE},
    types::{ScimGroup, ScimListResponse, ScimPatchRequest, ScimSearchRequest, ScimUser},
    users,
};
use crate::{
    AppState,
    app::Tag,
    error::{ApiError, ScimError},
    http::NoContent,
};

type ScimResult<T> = Result<T, ScimError>;

#[derive(ApiResponse)]
pub enum UserResponse {
    /// The user.
    #[oai(status = 200)]
    Ok(ScimDoc<ScimUser>, #[oai(header = "ETag")] String),
    /// Created.
    #[oai(status = 201)]
    Created(ScimDoc<ScimUser>, #[oai(header = "ETag")] String, #[oai(header = "Location")] String),
    /// `If-None-Match` names the current version.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(ApiResponse)]
pub enum GroupResponse {
    /// The group.
    #[oai(status = 200)]
    Ok(ScimDoc<ScimGroup>, #[oai(header = "ETag")] String),
    /// Created.
    #[oai(status = 201)]
    Created(ScimDoc<ScimGroup>, #[oai(header = "ETag")] String, #[oai(header = "Location")] String),
    /// Changed; the group is not echoed (it may hold many thousands of members).
    #[oai(status = 204)]
    NoContent(#[oai(header = "ETag")] String),
    /// `If-None-Match` names the current version.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

/// Missing and malformed ids are both "no such resource".
fn resource_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

fn attr_lists(
    rt: &'static ResourceType,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Result<(Vec<AttrRef>, Vec<AttrRef>), ApiError> {
    Ok((
        attributes.map(|a| resource::parse_attr_list(rt, a)).transpose()?.unwrap_or_default(),
        excluded.map(|e| resource::parse_attr_list(rt, e)).transpose()?.unwrap_or_default(),
    ))
}

fn list_body(total: u64, start_index: u64, resources: Vec<Value>) -> ScimDoc<ScimListResponse> {
    ScimDoc::new(list::list_response(total, start_index, resources))
}

async fn list_users(
    state: &AppState,
    auth: &ScimAuth,
    raw: RawListParams,
) -> ScimResult<ScimDoc<ScimListResponse>> {
    let params = raw.parse(&USER_TYPE)?;
    let (total, page) = users::list(state, &auth.0, &params).await?;
    let resources = page
        .into_iter()
        .map(|r| resource::project(&USER_TYPE, r.resource, &params.attributes, &params.excluded))
        .collect();
    Ok(list_body(total, params.start_index, resources))
}

async fn list_groups(
    state: &AppState,
    auth: &ScimAuth,
    raw: RawListParams,
) -> ScimResult<ScimDoc<ScimListResponse>> {
    let params = raw.parse(&GROUP_TYPE)?;
    let with_members = resource::wants(&GROUP_TYPE, &params.attributes, &params.excluded, "members");
    let (total, page) = groups::list(state, &auth.0, &params, with_members).await?;
    let resources = page
        .into_iter()
        .map(|r| resource::project(&GROUP_TYPE, r.resource, &params.attributes, &params.excluded))
        .collect();
    Ok(list_body(total, params.start_index, resources))
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): Users, then Groups, as one paged list. A
/// filter naming an attribute one type lacks matches nothing of that type; one that neither
/// type knows is `invalidFilter`.
async fn search_all(
    state: &AppState,
    auth: &ScimAuth,
    raw: RawListParams,
) -> ScimResult<ScimDoc<ScimListResponse>> {
    let user_params = raw.clone().parse(&USER_TYPE)?;
    let mut group_params = raw.parse(&GROUP_TYPE)?;
    let with_members =
        resource::wants(&GROUP_TYPE, &group_params.attributes, &group_params.excluded, "members");
    let (start, count) = (user_params.start_index, user_params.count);
    let mut unknown_to_users = None;
    let (user_total, user_page) = match users::list(state, &auth.0, &user_params).await {
        Ok(found) => found,
        Err(e) if e.code() == query::INVALID_FILTER => {
            unknown_to_users = Some(e);
            (0, Vec::new())
        }
        Err(e) => return Err(e.into()),
    };
    // Groups continue where the users end.
    group_params.start_index = start.saturating_sub(user_total).max(1);
    group_params.count = count.saturating_sub(user_page.len() as u64);
    let (group_total, group_page) = match groups::list(state, &auth.0, &group_params, with_members).await {
        Ok(found) => found,
        Err(e) if e.code() == query::INVALID_FILTER => match unknown_to_users {
            Some(first) => return Err(first.into()),
            None => (0, Vec::new()),
        },
        Err(e) => return Err(e.into()),
    };
    let mut resources: Vec<Value> = user_page
        .into_iter()
        .map(|r| resource::project(&USER_TYPE, r.resource, &user_params.attributes, &user_params.excluded))
        .collect();
    resources.extend(group_page.into_iter().map(|r| {
        resource::project(&GROUP_TYPE, r.resource, &group_params.attributes, &group_params.excluded)
    }));
    Ok(list_body(user_total + group_total, start, resources))
}

pub struct ScimSearchApi;

#[OpenApi(prefix_path = "/scim/v2", tag = "Tag::Scim")]
impl ScimSearchApi {
    /// Search Users and Groups at once with a SearchRequest body (RFC 7644 §3.4.3): users
    /// first, then groups, paged as one list.
    #[oai(path = "/.search", method = "post", operation_id = "scim_search")]
    async fn scim_search(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        body: ScimBody<ScimSearchRequest>,
    ) -> ScimResult<ScimDoc<ScimListResponse>> {
        let raw = RawListParams::from_search_body(&body.value)?;
        search_all(&state, &auth, raw).await
    }
}

pub struct ScimUsersApi;

#[OpenApi(prefix_path = "/scim/v2", tag = "Tag::Scim")]
impl ScimUsersApi {
    /// List or filter users (RFC 7644 §3.4.2): `filter`, `startIndex`/`count` paging,
    /// `sortBy`/`sortOrder`, `attributes`/`excludedAttributes`.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/Users", method = "get", operation_id = "scim_list_users")]
    async fn scim_list_users(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        filter: Query<Option<String>>,
        #[oai(name = "startIndex")] start_index: Query<Option<i64>>,
        count: Query<Option<i64>>,
        #[oai(name = "sortBy")] sort_by: Query<Option<String>>,
        #[oai(name = "sortOrder")] sort_order: Query<Option<String>>,
        attributes: Query<Option<String>>,
        #[oai(name = "excludedAttributes")] excluded_attributes: Query<Option<String>>,
    ) -> ScimResult<ScimDoc<ScimListResponse>> {
        let raw = RawListParams {
            filter: filter.0,
            start_index: start_index.0,
            count: count.0,
            sort_by: sort_by.0,
            sort_order: sort_order.0,
            attributes: attributes.0,
            excluded_attributes: excluded_attributes.0,
        };
        list_users(&state, &auth, raw).await
    }

    /// Search users with a SearchRequest body (RFC 7644 §3.4.3).
    #[oai(path = "/Users/.search", method = "post", operation_id = "scim_search_users")]
    async fn scim_search_users(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        body: ScimBody<ScimSearchRequest>,
    ) -> ScimResult<ScimDoc<ScimListResponse>> {
        let raw = RawListParams::from_search_body(&body.value)?;
        list_users(&state, &auth, raw).await
    }

    /// Provision a user: the org gains a directory-managed member. 409 `uniqueness` when the
    /// userName (case-insensitive) or the person is already provisioned.
    #[oai(path = "/Users", method = "post", operation_id = "scim_create_user")]
    async fn scim_create_user(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        body: ScimBody<ScimUser>,
    ) -> ScimResult<UserResponse> {
        let created = users::create(&state, &auth.0, &body.value).await?;
        Ok(UserResponse::Created(ScimDoc::new(created.resource), created.version, created.location))
    }

    /// One user. `If-None-Match` with the current version answers 304.
    #[oai(path = "/Users/:id", method = "get", operation_id = "scim_get_user")]
    async fn scim_get_user(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        attributes: Query<Option<String>>,
        #[oai(name = "excludedAttributes")] excluded_attributes: Query<Option<String>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> ScimResult<UserResponse> {
        let (attributes, excluded) =
            attr_lists(&USER_TYPE, attributes.as_deref(), excluded_attributes.as_deref())?;
        let found = users::get(&state, &auth.0, resource_id(&id)?).await?;
        if if_none_match.as_deref().is_some_and(|tag| list::tag_matches(tag, &found.version)) {
            return Ok(UserResponse::NotModified(found.version));
        }
        let body = resource::project(&USER_TYPE, found.resource, &attributes, &excluded);
        Ok(UserResponse::Ok(ScimDoc::new(body), found.version))
    }

    /// Replace a user (Okta deactivates with `active: false` here). `If-Match` guards it.
    #[oai(path = "/Users/:id", method = "put", operation_id = "scim_replace_user")]
    async fn scim_replace_user(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: ScimBody<ScimUser>,
    ) -> ScimResult<UserResponse> {
        let id = resource_id(&id)?;
        let change = users::Change::Replace(&body.value);
        let updated = users::update(&state, &auth.0, id, change, if_match.as_deref()).await?;
        Ok(UserResponse::Ok(ScimDoc::new(updated.resource), updated.version))
    }

    /// Patch a user (RFC 7644 §3.5.2, with the Entra and Okta forms). All operations apply, or
    /// none. `If-Match` guards it.
    #[oai(path = "/Users/:id", method = "patch", operation_id = "scim_patch_user")]
    async fn scim_patch_user(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: ScimBody<ScimPatchRequest>,
    ) -> ScimResult<UserResponse> {
        let id = resource_id(&id)?;
        let change = users::Change::Patch(&body.value);
        let updated = users::update(&state, &auth.0, id, change, if_match.as_deref()).await?;
        Ok(UserResponse::Ok(ScimDoc::new(updated.resource), updated.version))
    }

    /// Deprovision a user: the membership is removed (and the account, when the directory
    /// created it and it belongs to no other org). A later GET is 404.
    #[oai(path = "/Users/:id", method = "delete", operation_id = "scim_delete_user")]
    async fn scim_delete_user(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ScimResult<NoContent> {
        users::delete(&state, &auth.0, resource_id(&id)?, if_match.as_deref()).await?;
        Ok(NoContent::NoContent)
    }
}

pub struct ScimGroupsApi;

#[OpenApi(prefix_path = "/scim/v2", tag = "Tag::Scim")]
impl ScimGroupsApi {
    /// List or filter groups; `excludedAttributes=members` skips loading members.
    #[allow(clippy::too_many_arguments)]
    #[oai(path = "/Groups", method = "get", operation_id = "scim_list_groups")]
    async fn scim_list_groups(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        filter: Query<Option<String>>,
        #[oai(name = "startIndex")] start_index: Query<Option<i64>>,
        count: Query<Option<i64>>,
        #[oai(name = "sortBy")] sort_by: Query<Option<String>>,
        #[oai(name = "sortOrder")] sort_order: Query<Option<String>>,
        attributes: Query<Option<String>>,
        #[oai(name = "excludedAttributes")] excluded_attributes: Query<Option<String>>,
    ) -> ScimResult<ScimDoc<ScimListResponse>> {
        let raw = RawListParams {
            filter: filter.0,
            start_index: start_index.0,
            count: count.0,
            sort_by: sort_by.0,
            sort_order: sort_order.0,
            attributes: attributes.0,
            excluded_attributes: excluded_attributes.0,
        };
        list_groups(&state, &auth, raw).await
    }

    /// Search groups with a SearchRequest body (RFC 7644 §3.4.3).
    #[oai(path = "/Groups/.search", method = "post", operation_id = "scim_search_groups")]
    async fn scim_search_groups(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        body: ScimBody<ScimSearchRequest>,
    ) -> ScimResult<ScimDoc<ScimListResponse>> {
        let raw = RawListParams::from_search_body(&body.value)?;
        list_groups(&state, &auth, raw).await
    }

    /// Create a group (a team). Members must be users of the org.
    #[oai(path = "/Groups", method = "post", operation_id = "scim_create_group")]
    async fn scim_create_group(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        body: ScimBody<ScimGroup>,
    ) -> ScimResult<GroupResponse> {
        let created = groups::create(&state, &auth.0, &body.value).await?;
        Ok(GroupResponse::Created(ScimDoc::new(created.resource), created.version, created.location))
    }

    /// One group. `If-None-Match` with the current version answers 304.
    #[oai(path = "/Groups/:id", method = "get", operation_id = "scim_get_group")]
    async fn scim_get_group(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        attributes: Query<Option<String>>,
        #[oai(name = "excludedAttributes")] excluded_attributes: Query<Option<String>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> ScimResult<GroupResponse> {
        let (attributes, excluded) =
            attr_lists(&GROUP_TYPE, attributes.as_deref(), excluded_attributes.as_deref())?;
        let with_members = resource::wants(&GROUP_TYPE, &attributes, &excluded, "members");
        let id = resource_id(&id)?;
        let found = groups::get(&state, &auth.0, id, with_members).await?;
        if if_none_match.as_deref().is_some_and(|tag| list::tag_matches(tag, &found.version)) {
            return Ok(GroupResponse::NotModified(found.version));
        }
        let body = resource::project(&GROUP_TYPE, found.resource, &attributes, &excluded);
        Ok(GroupResponse::Ok(ScimDoc::new(body), found.version))
    }

    /// Replace a group, members included. `If-Match` guards it.
    #[oai(path = "/Groups/:id", method = "put", operation_id = "scim_replace_group")]
    async fn scim_replace_group(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: ScimBody<ScimGroup>,
    ) -> ScimResult<GroupResponse> {
        let id = resource_id(&id)?;
        groups::update(&state, &auth.0, id, groups::Change::Replace(&body.value), if_match.as_deref())
            .await?;
        let found = groups::get(&state, &auth.0, id, true).await?;
        Ok(GroupResponse::Ok(ScimDoc::new(found.resource), found.version))
    }

    /// Patch a group (RFC 7644 §3.5.2 with the Entra and Okta forms): add, remove or replace
    /// members in batches of any size; all operations apply, or none. Answers 204.
    #[oai(path = "/Groups/:id", method = "patch", operation_id = "scim_patch_group")]
    async fn scim_patch_group(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
        body: ScimBody<ScimPatchRequest>,
    ) -> ScimResult<GroupResponse> {
        let id = resource_id(&id)?;
        groups::update(&state, &auth.0, id, groups::Change::Patch(&body.value), if_match.as_deref()).await?;
        let found = groups::get(&state, &auth.0, id, false).await?;
        Ok(GroupResponse::NoContent(found.version))
    }

    /// Delete a group (the team); its members stay in the org.
    #[oai(path = "/Groups/:id", method = "delete", operation_id = "scim_delete_group")]
    async fn scim_delete_group(
        &self,
        state: Data<&AppState>,
        auth: ScimAuth,
        id: Path<String>,
        #[oai(name = "If-Match")] if_match: Header<Option<String>>,
    ) -> ScimResult<NoContent> {
        groups::delete(&state, &auth.0, resource_id(&id)?, if_match.as_deref()).await?;
        Ok(NoContent::NoContent)
    }
}
