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
    auth::{BearerAuth, tenant},
    error::{ApiError, ApiResult},
    http::RequestMeta,
    json::JsonBody,
    paging::PageRequest,
    permissions::Permission,
    users::email,
};

pub struct InvitationsApi;

#[derive(ApiResponse)]
pub enum CreatedInvitation {
    /// Invited; the link went to the invitee's email.
    #[oai(status = 201)]
    Created(Json<InvitationResponse>),
}

#[OpenApi]
impl InvitationsApi {
    /// Pending invitations of the org.
    ///
    /// Requires `invitations:write`.
    #[oai(
        path = "/api/v1/orgs/:org/invitations",
        method = "get",
        tag = "Tag::Invitations",
        operation_id = "list_invitations"
    )]
    async fn list_invitations(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<InvitationPage>> {
        org.require(Permission::InvitationsWrite)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let (rows, next_cursor, has_more) = service::list_pending(&state, &org, page).await?;
        let now = state.clock.now();
        let data = rows
            .into_iter()
            .map(|invitation| {
                InvitationResponse::new(service::InvitationView { invitation, email_sent: None }, now)
            })
            .collect();
        Ok(Json(InvitationPage { data, next_cursor, has_more }))
    }

    /// Invite a person by email with a role. They get a single-use link valid for 7 days
    /// (configurable). A second invitation for the same pending email is refused (409); resend it.
    ///
    /// Requires `invitations:write`; inviting as `owner` requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/invitations",
        method = "post",
        tag = "Tag::Invitations",
        operation_id = "create_invitation"
    )]
    async fn create_invitation(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateInvitationRequest>,
    ) -> ApiResult<CreatedInvitation> {
        org.require(Permission::InvitationsWrite)?;
        let address = email::normalize("email", &body.email)?;
        let role = body.role.trim().to_string();
        if role.is_empty() || role.len() > 40 {
            return Err(ApiError::validation("role", "must be a role key"));
        }
        let view = service::create(&state, &org, address, role).await?;
        Ok(CreatedInvitation::Created(Json(InvitationResponse::new(view, state.clock.now()))))
    }

    /// Send the invitation again with a new link and expiry; the old link stops working.
    ///
    /// Requires `invitations:write` in the invitation's org.
    #[oai(
        path = "/api/v1/invitations/:id/resend",
        method = "post",
        tag = "Tag::Invitations",
        operation_id = "resend_invitation"
    )]
    async fn resend_invitation(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        meta: RequestMeta,
    ) -> ApiResult<Json<InvitationResponse>> {
        let view = service::resend(&state, &meta, auth.0, id.0).await?;
        Ok(Json(InvitationResponse::new(view, state.clock.now())))
    }

    /// Revoke a pending invitation; its link stops working.
    ///
    /// Requires `invitations:write` in the invitation's org.
    #[oai(
        path = "/api/v1/invitations/:id/revoke",
        method = "post",
        tag = "Tag::Invitations",
        operation_id = "revoke_invitation"
    )]
    async fn revoke_invitation(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        meta: RequestMeta,
    ) -> ApiResult<Json<InvitationResponse>> {
        let view = service::revoke(&state, &meta, auth.0, id.0).await?;
        Ok(Json(InvitationResponse::new(view, state.clock.now())))
    }

    /// Accept an invitation while signed in as its email address. Errors name the case:
    /// `INVITATION_NOT_FOUND`, `INVITATION_EXPIRED`, `INVITATION_REVOKED`, `INVITATION_USED`,
    /// `INVITATION_EMAIL_MISMATCH`.
    #[oai(
        path = "/api/v1/invitations/accept",
        method = "post",
        tag = "Tag::Invitations",
        operation_id = "accept_invitation"
    )]
    async fn accept_invitation(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        body: JsonBody<AcceptInvitationRequest>,
    ) -> ApiResult<Json<AcceptedInvitation>> {
        let org = service::accept(&state, &meta, &auth.0, body.token.trim()).await?;
        Ok(Json(AcceptedInvitation { org: org.into() }))
    }
}
