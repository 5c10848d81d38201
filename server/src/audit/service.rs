use chrono::{DateTime, Utc};
use guildhall_entities::audit_log;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::chain::{self, Verification};
use crate::{AppState, auth::OrgContext, error::ApiError, paging::PageRequest, scope::scoped};

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The org's entries, newest first.
pub async fn list(
    state: &AppState,
    ctx: &OrgContext,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<(Vec<audit_log::Model>, Option<String>, bool), ApiError> {
    let mut query = scoped::<audit_log::Entity>(ctx).order_by_desc(audit_log::Column::Id).limit(page.fetch());
    if let Some(action) = &filter.action {
        query = match action.strip_suffix('*') {
            Some(prefix) => query.filter(audit_log::Column::Action.starts_with(prefix)),
            None => query.filter(audit_log::Column::Action.eq(action.as_str())),
        };
    }
    if let Some(actor) = &filter.actor_id {
        query = query.filter(audit_log::Column::ActorId.eq(actor.as_str()));
    }
    if let Some(target) = &filter.target_id {
        query = query.filter(audit_log::Column::TargetId.eq(target.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::Column::OccurredAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::Column::OccurredAt.lt(until));
    }
    if let Some(after) = page.after {
        query = query.filter(audit_log::Column::Id.lt(after));
    }
    let rows = query.all(&state.db).await?;
    Ok(page.finish(rows, |e| e.id))
}

pub async fn verify(state: &AppState, ctx: &OrgContext) -> Result<Verification, ApiError> {
    chain::verify(&state.db, &chain::chain_of(Some(ctx.org_id()))).await
}

pub fn parse_uuid_filter(field: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.len() > 200 => Err(ApiError::validation(field, "is too long")),
        Some(v) if v.trim().is_empty() => Ok(None),
        other => Ok(other.map(|v| v.parse::<Uuid>().map(|u| u.to_string()).unwrap_or(v))),
    }
}
