use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Query, payload::Json, types::MaybeUndefined};

use super::{
    manage::{self, OrgChange, OrgView},
    service::{DEFAULT_RETENTION_DAYS, NewOrg},
    settings::{self, Branding, OrgAuthSettings},
    types::*,
};
use crate::{
    AppState,
    app::Tag,
    auth::{BearerAuth, tenant},
    error::{ApiError, ApiResult},
    http::{NoContent, RequestMeta},
    json::JsonBody,
    paging::{DEFAULT_LIMIT, MAX_LIMIT},
    permissions::Permission,
    sessions::types::{TokenResponse, TokenType},
};

pub struct OrgsApi;

#[derive(ApiResponse)]
pub enum CreatedOrg {
    /// The org, and tokens whose active org it is.
    #[oai(status = 201)]
    Created(Json<CreatedOrgResponse>),
}

impl From<OrgView> for OrgResponse {
    fn from(view: OrgView) -> Self {
        let (branding, effective_branding, auth, effective_auth) = manage::effective(&view);
        let org = view.org;
        Self {
            id: org.id,
            name: org.name,
            slug: org.slug,
            metadata: serde_json::from_str(&org.metadata).unwrap_or_else(|_| serde_json::json!({})),
            max_users: org.max_users,
            data_retention_days: org.data_retention_days,
            branding: branding.into(),
            effective_branding: effective_branding.into(),
            auth_settings: auth.into(),
            effective_auth_settings: effective_auth.into(),
            role: view.role,
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

fn new_org(req: CreateOrgRequest) -> Result<NewOrg, ApiError> {
    let b = req.branding.unwrap_or_default();
    let a = req.auth_settings.unwrap_or_default();
    Ok(NewOrg {
        name: settings::name(&req.name)?,
        slug: req.slug.as_deref().map(settings::slug).transpose()?,
        metadata: req.metadata.as_ref().map(settings::metadata).transpose()?.unwrap_or_else(|| "{}".into()),
        max_users: req.max_users.map(settings::max_users).transpose()?,
        data_retention_days: req
            .data_retention_days
            .map(settings::retention_days)
            .transpose()?
            .unwrap_or(DEFAULT_RETENTION_DAYS),
        branding: Branding {
            logo_url: b.logo_url.as_deref().map(settings::logo_url).transpose()?,
            primary_color: b.primary_color.as_deref().map(settings::primary_color).transpose()?,
            welcome_text: b.welcome_text.as_deref().map(settings::welcome_text).transpose()?,
        },
        auth: OrgAuthSettings {
            password_min_length: a.password_min_length.map(settings::password_min_length).transpose()?,
            require_mfa: a.require_mfa,
            session_ttl_minutes: a.session_ttl_minutes.map(settings::session_ttl_minutes).transpose()?,
            max_login_attempts: a.max_login_attempts.map(settings::max_login_attempts).transpose()?,
            lockout_minutes: a.lockout_minutes.map(settings::lockout_minutes).transpose()?,
        },
    })
}

/// `Undefined` leaves a field alone, `Null` clears it, a value is validated.
fn patch<T, U>(
    value: MaybeUndefined<T>,
    check: impl FnOnce(T) -> Result<U, ApiError>,
) -> Result<Option<Option<U>>, ApiError> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Ok(Some(None)),
        MaybeUndefined::Value(v) => Ok(Some(Some(check(v)?))),
    }
}

fn org_change(req: UpdateOrgRequest) -> Result<OrgChange, ApiError> {
    let b = req.branding.unwrap_or_default();
    let a = req.auth_settings.unwrap_or_default();
    Ok(OrgChange {
        name: req.name.as_deref().map(settings::name).transpose()?,
        slug: req.slug.as_deref().map(settings::slug).transpose()?,
        metadata: patch(req.metadata, |m| settings::metadata(&m))?.map(|m| m.unwrap_or_else(|| "{}".into())),
        max_users: patch(req.max_users, settings::max_users)?,
        data_retention_days: req.data_retention_days.map(settings::retention_days).transpose()?,
        logo_url: patch(b.logo_url, |v| settings::logo_url(&v))?,
        primary_color: patch(b.primary_color, |v| settings::primary_color(&v))?,
        welcome_text: patch(b.welcome_text, |v| settings::welcome_text(&v))?,
        password_min_length: patch(a.password_min_length, settings::password_min_length)?,
        require_mfa: patch(a.require_mfa, Ok)?,
        session_ttl_minutes: patch(a.session_ttl_minutes, settings::session_ttl_minutes)?,
        max_login_attempts: patch(a.max_login_attempts, settings::max_login_attempts)?,
        lockout_minutes: patch(a.lockout_minutes, settings::lockout_minutes)?,
    })
}

#[OpenApi]
impl OrgsApi {
    /// The caller's orgs (a personal API token sees only its own).
    #[oai(path = "/api/v1/orgs", method = "get", tag = "Tag::Orgs", operation_id = "list_orgs")]
    async fn list_orgs(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only orgs whose name contains this text (any case).
        name: Query<Option<String>>,
        /// `created` (default) or `name`.
        order: Query<Option<OrgOrder>>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<OrgPage>> {
        let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        if name.0.as_ref().is_some_and(|n| n.chars().count() > 100) {
            return Err(ApiError::validation("name", "is longer than 100 characters"));
        }
        let name = name.0.filter(|n| !n.trim().is_empty());
        let order = order.0.unwrap_or_default();
        let listing =
            manage::list(&state, &auth.0, name.as_deref(), order, limit, cursor.0.as_deref()).await?;
        Ok(Json(OrgPage {
            data: listing.data.into_iter().map(Into::into).collect(),
            next_cursor: listing.next_cursor,
            has_more: listing.has_more,
        }))
    }

    /// Create an org. The caller becomes its owner, and the response carries a token pair whose
    /// active org is the new one.
    ///
    /// Requires a session (not a personal API token).
    #[oai(path = "/api/v1/orgs", method = "post", tag = "Tag::Orgs", operation_id = "create_org")]
    async fn create_org(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
        body: JsonBody<CreateOrgRequest>,
    ) -> ApiResult<CreatedOrg> {
        let new = new_org(body.0)?;
        let (view, signed_in) = manage::create(&state, &meta, &auth.0, new).await?;
        Ok(CreatedOrg::Created(Json(CreatedOrgResponse {
            org: view.into(),
            access_token: signed_in.access_token,
            refresh_token: signed_in.refresh_token,
            token_type: TokenType::Bearer,
            expires_in: signed_in.expires_in,
        })))
    }

    /// One org, with its own and its effective (inherited) settings.
    ///
    /// Requires `org:read`.
    #[oai(path = "/api/v1/orgs/:org", method = "get", tag = "Tag::Orgs", operation_id = "get_org")]
    async fn get_org(&self, state: Data<&AppState>, org: tenant::Path) -> ApiResult<Json<OrgResponse>> {
        org.require(Permission::OrgRead)?;
        Ok(Json(manage::view(&state, &org).await?.into()))
    }

    /// Change an org: only the fields named change; `null` clears an override. Requiring MFA
    /// (`auth_settings.require_mfa: true`) takes an authenticator of your own first (409
    /// `MFA_ENROLMENT_REQUIRED`), so you cannot lock yourself out.
    ///
    /// Requires `org:update`.
    #[oai(path = "/api/v1/orgs/:org", method = "patch", tag = "Tag::Orgs", operation_id = "update_org")]
    async fn update_org(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<UpdateOrgRequest>,
    ) -> ApiResult<Json<OrgResponse>> {
        org.require(Permission::OrgUpdate)?;
        let change = org_change(body.0)?;
        Ok(Json(manage::update(&state, &org, change).await?.into()))
    }

    /// Delete an org with its memberships, roles, tokens and settings; sessions active in it end.
    /// You cannot delete the org you are signed into.
    ///
    /// Requires being an owner.
    #[oai(path = "/api/v1/orgs/:org", method = "delete", tag = "Tag::Orgs", operation_id = "delete_org")]
    async fn delete_org(&self, state: Data<&AppState>, org: tenant::Path) -> ApiResult<NoContent> {
        org.require(Permission::OrgDelete)?;
        manage::delete(&state, &org).await?;
        Ok(NoContent::NoContent)
    }

    /// Switch the active org: a new token pair whose `org_role` is the caller's role there.
    ///
    /// Requires membership and a session.
    #[oai(path = "/api/v1/orgs/:org/select", method = "post", tag = "Tag::Orgs", operation_id = "select_org")]
    async fn select_org(&self, state: Data<&AppState>, org: tenant::Path) -> ApiResult<Json<TokenResponse>> {
        Ok(Json(manage::select(&state, &org).await?.into()))
    }

    /// Make another member an owner; the caller becomes an admin.
    ///
    /// Requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/transfer-ownership",
        method = "post",
        tag = "Tag::Orgs",
        operation_id = "transfer_org_ownership"
    )]
    async fn transfer_org_ownership(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<TransferOwnershipRequest>,
    ) -> ApiResult<NoContent> {
        manage::transfer(&state, &org, body.user_id).await?;
        Ok(NoContent::NoContent)
    }
}
