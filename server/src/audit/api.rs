use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::{OpenApi, param::Query, payload::Json};

use super::{
    service::{self, AuditFilter},
    types::*,
};
use crate::{
    AppState, app::Tag, auth::tenant, error::ApiResult, paging::PageRequest, permissions::Permission,
};

pub struct AuditApi;

#[OpenApi]
impl AuditApi {
    /// The org's audit log, newest first.
    ///
    /// Requires `audit:read`.
    #[oai(
        path = "/api/v1/orgs/:org/audit-logs",
        method = "get",
        tag = "Tag::Audit",
        operation_id = "list_audit_logs"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn list_audit_logs(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// Only this action (`member.added`), or actions starting with a prefix (`member.*`).
        action: Query<Option<String>>,
        /// Only entries by this actor id.
        actor: Query<Option<String>>,
        /// Only entries about this target id.
        target: Query<Option<String>>,
        /// Only entries at or after this time (RFC 3339).
        since: Query<Option<DateTime<Utc>>>,
        /// Only entries before this time (RFC 3339).
        until: Query<Option<DateTime<Utc>>>,
        /// Page size, 1..=200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u64>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<AuditPage>> {
        org.require(Permission::AuditRead)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let filter = AuditFilter {
            action: action.0.filter(|a| !a.trim().is_empty()),
            actor_id: service::parse_uuid_filter("actor", actor.0)?,
            target_id: service::parse_uuid_filter("target", target.0)?,
            since: since.0,
            until: until.0,
        };
        let (rows, next_cursor, has_more) = service::list(&state, &org, &filter, page).await?;
        Ok(Json(AuditPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// Recompute the org's audit hash chain and report the first entry that does not match.
    ///
    /// Requires `audit:read`.
    #[oai(
        path = "/api/v1/orgs/:org/audit-logs/verify",
        method = "get",
        tag = "Tag::Audit",
        operation_id = "verify_audit_logs"
    )]
    async fn verify_audit_logs(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
    ) -> ApiResult<Json<AuditVerification>> {
        org.require(Permission::AuditRead)?;
        let v = service::verify(&state, &org).await?;
        Ok(Json(AuditVerification {
            valid: v.valid,
            checked: v.checked,
            first_broken: v.first_broken.map(|(id, seq)| BrokenLink { id, seq }),
        }))
    }
}
