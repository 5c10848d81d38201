//! `/api/v1/orgs/{org}/sso/providers`, the SP metadata endpoint, the code exchange that ends an
//! SSO sign-in and the org's SSO activity. (The browser redirects live in `browser`.)

use poem::web::Data;
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::{Json, PlainText},
};
use uuid::Uuid;

use super::{
    check::{self, CheckResult},
    service, signin,
    types::*,
};
use crate::{
    AppState,
    app::Tag,
    audit::{service::AuditFilter, types::AuditPage},
    auth::tenant,
    error::ApiResult,
    http::{NoContent, RequestMeta},
    json::JsonBody,
    paging::PageRequest,
    permissions::Permission,
    sessions::types::TokenResponse,
};

pub struct SsoProvidersApi;

#[derive(ApiResponse)]
pub enum CreatedProvider {
    #[oai(status = 201)]
    Created(Json<SsoProvider>),
}

#[derive(ApiResponse)]
pub enum SpMetadata {
    /// SAML 2.0 metadata of our service provider for this provider's IdP.
    #[oai(status = 200, content_type = "application/samlmetadata+xml")]
    Xml(PlainText<String>),
}

#[OpenApi]
impl SsoProvidersApi {
    /// The org's identity providers.
    ///
    /// Requires `sso:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers",
        method = "get",
        tag = "Tag::Sso",
        operation_id = "list_sso_providers"
    )]
    async fn list_sso_providers(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
    ) -> ApiResult<Json<SsoProviderList>> {
        org.require(Permission::SsoManage)?;
        let now = org.now();
        let rows = service::list(&state, &org).await?;
        let data = rows.into_iter().map(|r| service::view(&state, r, now)).collect::<Result<_, _>>()?;
        Ok(Json(SsoProviderList { data }))
    }

    /// Connect an identity provider (enabled at once). For SAML, import the IdP's metadata or
    /// type its entity id, SSO URL and signing certificates; the answer shows our entity id,
    /// ACS URL and metadata URL to give the IdP. For OIDC, the answer shows the redirect URI to
    /// register.
    ///
    /// Requires `sso:manage` and standing as high as `default_role`. Every domain must be one
    /// of the org's verified domains (422 `DOMAIN_NOT_VERIFIED`) not served by another of its
    /// providers (409 `SSO_DOMAIN_TAKEN`).
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers",
        method = "post",
        tag = "Tag::Sso",
        operation_id = "create_sso_provider"
    )]
    async fn create_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<SsoProviderInput>,
    ) -> ApiResult<CreatedProvider> {
        org.require(Permission::SsoManage)?;
        let checked = service::check(&state, body.0).await?;
        let row = service::create(&state, &org, checked).await?;
        Ok(CreatedProvider::Created(Json(service::view(&state, row, org.now())?)))
    }

    /// One provider (never its client secret).
    ///
    /// Requires `sso:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers/:id",
        method = "get",
        tag = "Tag::Sso",
        operation_id = "get_sso_provider"
    )]
    async fn get_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<SsoProvider>> {
        org.require(Permission::SsoManage)?;
        let row = service::find(&state.db, &org, id.0).await?;
        Ok(Json(service::view(&state, row, org.now())?))
    }

    /// Replace a provider's configuration (its kind stays). An OIDC client secret not sent is
    /// kept; certificates sent replace the stored ones.
    ///
    /// Requires `sso:manage` and standing as high as the old and the new `default_role`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers/:id",
        method = "put",
        tag = "Tag::Sso",
        operation_id = "replace_sso_provider"
    )]
    async fn replace_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
        body: JsonBody<SsoProviderInput>,
    ) -> ApiResult<Json<SsoProvider>> {
        org.require(Permission::SsoManage)?;
        let checked = service::check(&state, body.0).await?;
        let row = service::replace(&state, &org, id.0, checked).await?;
        Ok(Json(service::view(&state, row, org.now())?))
    }

    /// Remove a provider.
    ///
    /// Requires `sso:manage` and standing as high as its `default_role`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers/:id",
        method = "delete",
        tag = "Tag::Sso",
        operation_id = "delete_sso_provider"
    )]
    async fn delete_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::SsoManage)?;
        service::delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }

    /// Let people sign in through this provider again.
    ///
    /// Requires `sso:manage` and standing as high as its `default_role`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers/:id/enable",
        method = "post",
        tag = "Tag::Sso",
        operation_id = "enable_sso_provider"
    )]
    async fn enable_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<SsoProvider>> {
        org.require(Permission::SsoManage)?;
        let row = service::set_enabled(&state, &org, id.0, true).await?;
        Ok(Json(service::view(&state, row, org.now())?))
    }

    /// Stop sign-ins through this provider, keeping its configuration.
    ///
    /// Requires `sso:manage` and standing as high as its `default_role`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers/:id/disable",
        method = "post",
        tag = "Tag::Sso",
        operation_id = "disable_sso_provider"
    )]
    async fn disable_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<SsoProvider>> {
        org.require(Permission::SsoManage)?;
        let row = service::set_enabled(&state, &org, id.0, false).await?;
        Ok(Json(service::view(&state, row, org.now())?))
    }

    /// Check a provider against its live IdP, changing nothing: for OIDC, discovery is reachable
    /// and names the expected issuer, and the JWKS loads with a signing key; for SAML, the
    /// metadata URL (if any) parses and names the configured entity id, and every certificate
    /// is valid now. `reason` is one of a fixed vocabulary (`ok`, `address_refused`,
    /// `discovery_unreachable`, `discovery_invalid`, `issuer_mismatch`, `jwks_unreachable`,
    /// `jwks_invalid`, `jwks_empty`, `metadata_unreachable`, `metadata_invalid`,
    /// `entity_id_mismatch`, `certificate_expired`, `certificate_not_yet_valid`,
    /// `certificate_invalid`). At most 6 tests per provider and minute (429).
    ///
    /// Requires `sso:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/providers/:id/test",
        method = "post",
        tag = "Tag::Sso",
        operation_id = "test_sso_provider"
    )]
    async fn test_sso_provider(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<Json<CheckResult>> {
        org.require(Permission::SsoManage)?;
        let row = service::find(&state.db, &org, id.0).await?;
        super::check::admit(&state.sso_checks, row.id)?;
        let settings = service::Settings::of(&row)?;
        Ok(Json(check::run(&state, &settings, org.now()).await))
    }

    /// Exchange the one-time `code` an SSO sign-in sent the browser back with (valid once, for
    /// 60 seconds) for a token pair with the provider's org active. The access token's `amr` is
    /// `["sso"]` and `sso_provider_id` names the provider.
    #[oai(
        path = "/api/v1/auth/sso/exchange",
        method = "post",
        tag = "Tag::Sso",
        operation_id = "sso_exchange"
    )]
    async fn sso_exchange(
        &self,
        state: Data<&AppState>,
        meta: RequestMeta,
        body: JsonBody<SsoExchangeRequest>,
    ) -> ApiResult<Json<TokenResponse>> {
        Ok(Json(signin::exchange(&state, &meta, &body.code).await?.into()))
    }

    /// The org's SSO sign-ins (`sso.login`, with method, provider and role) and refusals
    /// (`sso.login_failed`, with the reason), newest first, from the audit log.
    ///
    /// Requires `sso:manage`.
    #[oai(
        path = "/api/v1/orgs/:org/sso/activity",
        method = "get",
        tag = "Tag::Sso",
        operation_id = "list_sso_activity"
    )]
    async fn list_sso_activity(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Only this provider's.
        provider_id: Query<Option<Uuid>>,
        /// Only refusals (`true`) or only sign-ins (`false`).
        failed: Query<Option<bool>>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<AuditPage>> {
        org.require(Permission::SsoManage)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let action = match failed.0 {
            None => "sso.login*",
            Some(true) => "sso.login_failed",
            Some(false) => "sso.login",
        };
        let filter = AuditFilter {
            action: Some(action.into()),
            actor_id: None,
            target_id: provider_id.0.map(|id| id.to_string()),
            since: None,
            until: None,
        };
        let (rows, next_cursor, has_more) = crate::audit::service::list(&state, &org, &filter, page).await?;
        Ok(Json(AuditPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Our SAML service-provider metadata for one SAML provider, for its IdP to import. Public:
    /// IdPs fetch it without credentials.
    #[oai(
        path = "/api/v1/auth/sso/saml/metadata/:provider_id",
        method = "get",
        tag = "Tag::Sso",
        operation_id = "saml_sp_metadata"
    )]
    async fn saml_sp_metadata(
        &self,
        state: Data<&AppState>,
        provider_id: Path<Uuid>,
    ) -> ApiResult<SpMetadata> {
        Ok(SpMetadata::Xml(PlainText(service::sp_metadata(&state, provider_id.0).await?)))
    }
}
