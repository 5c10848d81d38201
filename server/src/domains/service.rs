use guildhall_entities::email_domain;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::names;
use crate::{
    AppState,
    audit::{self, AuditEvent},
    auth::{OrgContext, scoped},
    db,
    error::ApiError,
    http::RequestMeta,
    permissions,
};

pub async fn list(state: &AppState, ctx: &OrgContext) -> Result<Vec<email_domain::Model>, ApiError> {
    Ok(scoped::<email_domain::Entity>(ctx).order_by_asc(email_domain::Column::Domain).all(&state.db).await?)
}

pub struct NewDomain {
    pub domain: String,
    pub auto_join: bool,
    pub default_role: String,
}

pub async fn add(
    state: &AppState,
    meta: &RequestMeta,
    ctx: &OrgContext,
    new: NewDomain,
) -> Result<email_domain::Model, ApiError> {
    if names::is_public_provider(&new.domain) {
        return Err(ApiError::validation("domain", "public email providers cannot be claimed"));
    }
    if new.default_role == permissions::OWNER {
        return Err(ApiError::validation("default_role", "auto-joined members cannot be owners"));
    }
    let now = state.clock.now();
    let tx = db::begin_write(&state.writer).await?;
    if !crate::roles::service::exists(&tx, ctx.org_id(), &new.default_role).await? {
        return Err(ApiError::validation(
            "default_role",
            format!("`{}` is not a role of this org", new.default_role),
        ));
    }
    let granted = crate::roles::service::permissions_of(&tx, ctx.org_id(), &new.default_role).await?;
    if let Some(missing) = granted.difference(ctx.permissions()).next() {
        return Err(ApiError::forbidden(
            "PERMISSION_NOT_HELD",
            format!("the role `{}` grants `{}`, which you do not hold", new.default_role, missing.as_str()),
        ));
    }
    let row = email_domain::Model {
        id: Uuid::now_v7(),
        org_id: ctx.org_id(),
        domain: new.domain,
        auto_join: new.auto_join,
        default_role: new.default_role,
        created_at: now,
    };
    email_domain::Entity::insert(email_domain::ActiveModel {
        id: Set(row.id),
        org_id: Set(row.org_id),
        domain: Set(row.domain.clone()),
        auto_join: Set(row.auto_join),
        default_role: Set(row.default_role.clone()),
        created_at: Set(now),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("DOMAIN_EXISTS", format!("the org already lists {}", row.domain))
        }
        _ => e.into(),
    })?;
    audit::record(
        &tx,
        now,
        meta,
        AuditEvent::new(ctx.actor(), "email_domain.added")
            .org(ctx.org_id())
            .target("email_domain", &row.domain)
            .details(serde_json::json!({ "auto_join": row.auto_join, "default_role": row.default_role })),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn remove(
    state: &AppState,
    meta: &RequestMeta,
    ctx: &OrgContext,
    domain: &str,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let tx = db::begin_write(&state.writer).await?;
    let row = scoped::<email_domain::Entity>(ctx)
        .filter(email_domain::Column::Domain.eq(domain))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    email_domain::Entity::delete_by_id(row.id).exec(&tx).await?;
    audit::record(
        &tx,
        now,
        meta,
        AuditEvent::new(ctx.actor(), "email_domain.removed").org(ctx.org_id()).target("email_domain", domain),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses `email` when the org lists domains and none of them matches.
pub async fn require_allowed<C: ConnectionTrait>(db: &C, org_id: Uuid, email: &str) -> Result<(), ApiError> {
    let domains: Vec<email_domain::Model> =
        email_domain::Entity::find().filter(email_domain::Column::OrgId.eq(org_id)).all(db).await?;
    if domains.is_empty() {
        return Ok(());
    }
    let email_domain = names::of_email(email);
    if domains.iter().any(|d| names::matches(email_domain, &d.domain)) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "DOMAIN_NOT_ALLOWED",
        format!("the org only admits emails of its listed domains, not {email_domain}"),
    ))
}

/// The auto-join rules that match `email`: `(org_id, default_role)`, one per org.
pub async fn auto_join_for<C: ConnectionTrait>(db: &C, email: &str) -> Result<Vec<(Uuid, String)>, ApiError> {
    let candidates = names::suffixes(names::of_email(email));
    let rows = email_domain::Entity::find()
        .filter(email_domain::Column::AutoJoin.eq(true))
        .filter(email_domain::Column::Domain.is_in(candidates))
        .order_by_asc(email_domain::Column::CreatedAt)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|r| seen.insert(r.org_id)).map(|r| (r.org_id, r.default_role)).collect())
}

pub async fn count<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, ApiError> {
    Ok(email_domain::Entity::find().filter(email_domain::Column::OrgId.eq(org_id)).count(db).await?)
}
