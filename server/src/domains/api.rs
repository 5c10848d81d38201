use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi, param::Path, payload::Json};

use super::{names, service, types::*};
use crate::{
    AppState,
    app::Tag,
    auth::tenant,
    error::ApiResult,
    http::NoContent,
    json::{JsonBody, OptionalJsonBody},
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
    /// The org's allowed email domains, whether each is verified and, until it is, the DNS TXT
    /// record that would verify it.
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
    /// The answer holds the DNS TXT record that proves the org controls the domain (see
    /// `verify_email_domain`). `auto_join` may be set now but takes effect only once the domain
    /// is verified. Public mail providers and public suffixes (`co.uk`, `github.io`) are refused.
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
        Ok(AddedDomain::Created(Json(service::add(&state, &org, new).await?.into())))
    }

    /// Prove that the org controls one of its email domains. The body may be left out. With
    /// `method` `dns` (the default), looks up the TXT record named in the domain's `verification`
    /// and marks the domain verified when one has exactly that value; otherwise answers 409
    /// `DOMAIN_NOT_VERIFIED`. With `manual`, an instance admin vouches for the org. A verified domain belongs to one org: when
    /// another org has verified it, a parent or a subdomain of it, the answer is 409
    /// `DOMAIN_VERIFIED_ELSEWHERE`. Verifying a verified domain again changes nothing. Once
    /// verified, the domain's `auto_join` takes effect.
    ///
    /// Requires `domains:write`; `manual` also requires an instance admin.
    #[oai(
        path = "/api/v1/orgs/:org/email-domains/:domain/verify",
        method = "post",
        tag = "Tag::Domains",
        operation_id = "verify_email_domain"
    )]
    async fn verify_email_domain(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        domain: Path<String>,
        body: OptionalJsonBody<VerifyEmailDomainRequest>,
    ) -> ApiResult<Json<EmailDomainResponse>> {
        org.require(Permission::DomainsWrite)?;
        let method = body.0.method.unwrap_or_default();
        if method == VerificationMethod::Manual {
            org.principal().require_instance_admin()?;
        }
        let domain = names::normalize("domain", &domain)?;
        Ok(Json(service::verify(&state, &org, &domain, method).await?.into()))
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
    ) -> ApiResult<NoContent> {
        org.require(Permission::DomainsWrite)?;
        let domain = names::normalize("domain", &domain)?;
        service::remove(&state, &org, &domain).await?;
        Ok(NoContent::NoContent)
    }
}
