use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    service::{self, AdminAction, UserFilter},
    types::*,
};
use crate::{
    AppState,
    app::Tag,
    auth::BearerAuth,
    error::{ApiError, ApiResult},
    http::{NoContent, RequestMeta},
    paging::PageRequest,
    scope::Origin,
};

pub struct UsersApi;

#[OpenApi]
impl UsersApi {
    /// List the users of the instance, oldest first; filter by status and by a part of the email.
    ///
    /// Requires an instance admin.
    #[oai(path = "/api/v1/users", method = "get", tag = "Tag::Users", operation_id = "list_users")]
    async fn list_users(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only users with this status.
        status: Query<Option<UserStatusDto>>,
        /// Only users whose email contains this text.
        email: Query<Option<String>>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<UserPage>> {
        auth.0.require_instance_admin()?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        if email.0.as_ref().is_some_and(|e| e.len() > 254) {
            return Err(ApiError::validation("email", "is longer than 254 characters"));
        }
        let filter = UserFilter {
            status: status.0.map(UserStatusDto::domain),
            email: email.0.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()),
        };
        let (rows, next_cursor, has_more) = service::list(&state, &filter, page).await?;
        Ok(Json(UserPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Approve a pending user so they can sign in.
    ///
    /// Requires an instance admin.
    #[oai(
        path = "/api/v1/users/:id/approve",
        method = "post",
        tag = "Tag::Users",
        operation_id = "approve_user"
    )]
    async fn approve_user(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserResponse>> {
        auth.0.require_instance_admin()?;
        let origin = Origin::new(auth.0.actor(), meta, state.clock.clone());
        Ok(Json(service::apply(&state, &origin, id.0, AdminAction::Approve).await?.into()))
    }

    /// Disable a user: they cannot sign in, and their sessions and personal tokens are revoked at once.
    ///
    /// Requires an instance admin.
    #[oai(
        path = "/api/v1/users/:id/disable",
        method = "post",
        tag = "Tag::Users",
        operation_id = "disable_user"
    )]
    async fn disable_user(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserResponse>> {
        auth.0.require_instance_admin()?;
        let origin = Origin::new(auth.0.actor(), meta, state.clock.clone());
        Ok(Json(service::apply(&state, &origin, id.0, AdminAction::Disable).await?.into()))
    }

    /// Enable a disabled user again.
    ///
    /// Requires an instance admin.
    #[oai(
        path = "/api/v1/users/:id/enable",
        method = "post",
        tag = "Tag::Users",
        operation_id = "enable_user"
    )]
    async fn enable_user(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        id: Path<Uuid>,
    ) -> ApiResult<Json<UserResponse>> {
        auth.0.require_instance_admin()?;
        let origin = Origin::new(auth.0.actor(), meta, state.clock.clone());
        Ok(Json(service::apply(&state, &origin, id.0, AdminAction::Enable).await?.into()))
    }

    /// Delete a user with their memberships, sessions and tokens. Orgs where they are the only
    /// member are deleted too; being the only owner of an org with other members blocks it (409).
    ///
    /// Requires an instance admin.
    #[oai(path = "/api/v1/users/:id", method = "delete", tag = "Tag::Users", operation_id = "delete_user")]
    async fn delete_user(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        auth.0.require_instance_admin()?;
        let origin = Origin::new(auth.0.actor(), meta, state.clock.clone());
        service::delete(&state, &origin, id.0).await?;
        Ok(NoContent::NoContent)
    }
}
