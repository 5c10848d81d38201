use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};

use super::{names, service, types::*};
use crate::{
    AppState,
    app::Tag,
    auth::tenant,
    error::ApiResult,
    http::{NoContent, RequestMeta},
    json::JsonBody,
    permissions::{self, Permission},
};

pub struct DomainsApi;

#[derive(ApiResponse)]
pub enum AddedDomain {
    #[oai(status = 201)]
    Created(Json<EmailDomainResponse>),
}

#[OpenApi]
impl DomainsApi {
    /// The org's allowed email domains.
    ///
    /// Requires `org:read`.
    #[oai(
        path = "/api/v1/orgs/:org/email-domains",
        method = "get",
        tag = "Tag::Domains",
        operation_id = "list_email_domains"
    )]
    async fn list_email_domains(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
    ) -> ApiResult<Json<EmailDomainList>> {
        org.require(Permission::OrgRead)?;
        let rows = service::list(&state, &org).await?;
        Ok(Json(EmailDomainList { data: rows.into_iter().map(Into::into).collect() }))
    }

    /// Allow an email domain. Once an org lists any domain, only matching emails can join it.
    ///
    /// Requires `domains:write`.
    #[oai(
        path = "/api/v1/orgs/:org/email-domains",
        method = "post",
        tag = "Tag::Domains",
        operation_id = "add_email_domain"
    )]
    async fn add_email_domain(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        meta: RequestMeta,
        body: JsonBody<AddEmailDomainRequest>,
    ) -> ApiResult<AddedDomain> {
        org.require(Permission::DomainsWrite)?;
        let AddEmailDomainRequest { domain, auto_join, default_role } = body.0;
        let new = service::NewDomain {
            domain: names::normalize("domain", &domain)?,
            auto_join: auto_join.unwrap_or(false),
            default_role: default_role
                .map(|r| r.trim().to_string())
                .unwrap_or_else(|| permissions::MEMBER.into()),
        };
        Ok(AddedDomain::Created(Json(service::add(&state, &meta, &org, new).await?.into())))
    }

    /// Stop allowing an email domain. Existing members stay.
    ///
    /// Requires `domains:write`.
    #[oai(
        path = "/api/v1/orgs/:org/email-domains/:domain",
        method = "delete",
        tag = "Tag::Domains",
        operation_id = "remove_email_domain"
    )]
    async fn remove_email_domain(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        domain: Path<String>,
        meta: RequestMeta,
    ) -> ApiResult<NoContent> {
        org.require(Permission::DomainsWrite)?;
        let domain = names::normalize("domain", &domain)?;
        service::remove(&state, &meta, &org, &domain).await?;
        Ok(NoContent::NoContent)
    }
}
