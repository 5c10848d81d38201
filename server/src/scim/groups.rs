//! SCIM Groups: the org's teams. `members` are SCIM User ids (membership ids); changes to them
//! are applied as set differences in batches, so a 10,000-member PATCH is a few statements,
//! and every member named must be a user of the org (an unknown id fails the request rather
//! than being dropped). Members' roles follow the org's group-to-role mappings.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use guildhall_entities::{team, team_member};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Statement, sea_query::Expr,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    group_members::{apply_members, member_delta, patch_members, resolve_members},
    list::{self, ListParams},
    patch,
    query::{self, Resource},
    resource,
    schema::{GROUP_TYPE, GROUP_URN},
    tokens::ScimContext,
    value::invalid_value,
};
use crate::{
    AppState,
    changes::{
        self, Event,
        catalog::{RoleChange, ScimGroupCreated, ScimGroupDeleted, ScimGroupUpdated},
    },
    credentials,
    error::ApiError,
};

/// Rows per batched statement (keeps bound parameters far below both databases' limits).
pub(super) const BATCH: usize = 2000;

pub struct Rendered {
    pub resource: Value,
    pub version: String,
    pub location: String,
}

/// A member as the group shows it: SCIM User id (membership id) and user id. RFC 7643's
/// Group schema (§8.7.1) gives members `value`, `$ref` and `type` only.
#[derive(Clone, Debug)]
pub(super) struct Member {
    scim_id: Uuid,
    user_id: Uuid,
}

fn uniqueness(name: &str) -> ApiError {
    ApiError::conflict(
        "SCIM_GROUP_EXISTS",
        format!("a group named `{name}` already exists in this organization"),
    )
    .with_scim_type("uniqueness")
}

fn display_name(doc: &Value) -> Result<String, ApiError> {
    doc.get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| invalid_value("displayName", "is required"))
}

fn external_id(doc: &Value) -> Option<String> {
    doc.get("externalId").and_then(Value::as_str).map(str::to_string)
}

/// The member ids a document lists, in order, without repeats.
fn member_ids(doc: &Value) -> Result<Vec<Uuid>, ApiError> {
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for member in doc.get("members").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let value = member.get("value").and_then(Value::as_str).unwrap_or_default();
        let id = Uuid::parse_str(value).map_err(|_| {
            invalid_value("members", format!("`{value}` is not the id of a user of this organization"))
        })?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

pub(super) async fn load<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<team::Model, ApiError> {
    team::Entity::find_by_id(id)
        .filter(team::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The team's members, in the order they joined.
async fn members_of<C: ConnectionTrait>(db: &C, team_id: Uuid) -> Result<Vec<Member>, ApiError> {
    let backend = db.get_database_backend();
    let placeholder = if backend == sea_orm::DatabaseBackend::Postgres { "$1" } else { "?" };
    let sql = format!(
        "SELECT m.\"id\" AS scim_id, tm.\"user_id\" AS user_id \
         FROM \"team_members\" tm \
         JOIN \"memberships\" m ON m.\"org_id\" = tm.\"org_id\" AND m.\"user_id\" = tm.\"user_id\" \
         WHERE tm.\"team_id\" = {placeholder} ORDER BY tm.\"id\""
    );
    let rows = db.query_all_raw(Statement::from_sql_and_values(backend, sql, [team_id.into()])).await?;
    rows.iter()
        .map(|row| Ok(Member { scim_id: row.try_get("", "scim_id")?, user_id: row.try_get("", "user_id")? }))
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(ApiError::from)
}

pub(super) fn render(state: &AppState, team: &team::Model, members: Option<&[Member]>) -> Rendered {
    let base = &state.config.public_base_url;
    let mut out = Map::new();
    out.insert("schemas".into(), json!([GROUP_URN]));
    out.insert("id".into(), json!(team.id));
    out.insert("displayName".into(), json!(team.name));
    if let Some(external_id) = &team.external_id {
        out.insert("externalId".into(), json!(external_id));
    }
    // Every member change touches `updated_at`, so the version needs no member list.
    let version = list::version_of(&Map::from_iter([
        ("resource".to_string(), Value::Object(out.clone())),
        ("updated".to_string(), json!(team.updated_at.timestamp_micros())),
    ]));
    if let Some(members) = members
        && !members.is_empty()
    {
        let members: Vec<Value> = members
            .iter()
            .map(|m| {
                json!({
                    "value": m.scim_id,
                    "$ref": format!("{base}/scim/v2/Users/{}", m.scim_id),
                    "type": "User",
                })
            })
            .collect();
        out.insert("members".into(), Value::Array(members));
    }
    let location = format!("{base}/scim/v2/Groups/{}", team.id);
    out.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": list::time(team.created_at),
            "lastModified": list::time(team.updated_at),
            "location": location,
            "version": version,
        }),
    );
    Rendered { resource: Value::Object(out), version, location }
}

pub async fn get(
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    with_members: bool,
) -> Result<Rendered, ApiError> {
    let team = load(&state.db, ctx.org.id, id).await?;
    let members = if with_members { Some(members_of(&state.db, team.id).await?) } else { None };
    Ok(render(state, &team, members.as_deref()))
}

pub async fn list(
    state: &AppState,
    ctx: &ScimContext,
    params: &ListParams,
    with_members: bool,
) -> Result<(u64, Vec<Rendered>), ApiError> {
    let db = &state.db;
    let backend = db.get_database_backend();
    let mut base = team::Entity::find().filter(team::Column::OrgId.eq(ctx.org.id));
    if let Some(filter) = &params.filter {
        base = base.filter(query::condition(backend, Resource::Groups, filter)?);
    }
    let total = base.clone().count(db).await?;
    if params.count == 0 || params.start_index > total {
        return Ok((total, Vec::new()));
    }
    let teams = list::page(base, backend, Resource::Groups, (team::Entity, team::Column::Id), params)?
        .all(db)
        .await?;
    let mut rendered = Vec::with_capacity(teams.len());
    for team in &teams {
        let members = if with_members { Some(members_of(db, team.id).await?) } else { None };
        rendered.push(render(state, team, members.as_deref()));
    }
    Ok((total, rendered))
}

fn map_name_taken(name: String) -> impl FnOnce(sea_orm::DbErr) -> ApiError {
    move |e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => uniqueness(&name),
        _ => e.into(),
    }
}

/// Re-derives the roles of the users a change touched, then records the change (actor `scim`)
/// that `event` makes of the role changes.
pub(super) async fn finish_change<C: ConnectionTrait>(
    db: &C,
    ctx: &ScimContext,
    now: DateTime<Utc>,
    affected: &[Uuid],
    event: impl FnOnce(Vec<RoleChange>) -> Event,
) -> Result<(), ApiError> {
    let role_changes =
        crate::mapping::service::recompute(db, ctx.scope(), affected, now, ctx.role_mapper()).await?;
    let roles_changed = !role_changes.is_empty();
    changes::record(db, ctx, event(role_changes)).await?;
    if roles_changed {
        credentials::reconcile(db, ctx).await?;
    }
    Ok(())
}

pub async fn create(state: &AppState, ctx: &ScimContext, body: &Value) -> Result<Rendered, ApiError> {
    let doc = resource::parse_resource(&GROUP_TYPE, body)?.doc;
    let name = display_name(&doc)?;
    let wanted = member_ids(&doc)?;
    let input = (ctx.clone(), doc, name, wanted);
    let team = super::commit(state, ctx, input, |(ctx, doc, name, wanted), tx| {
        Box::pin(create_in(tx, ctx, doc, name, wanted))
    })
    .await?;
    let members = members_of(&state.db, team.id).await?;
    Ok(render(state, &team, Some(&members)))
}

async fn create_in(
    tx: &DatabaseTransaction,
    ctx: &ScimContext,
    doc: &Value,
    name: &str,
    wanted: &[Uuid],
) -> Result<team::Model, ApiError> {
    let org_id = ctx.org.id;
    let now = list::truncated(ctx.now());
    let name = name.to_string();
    let taken = team::Entity::find()
        .filter(team::Column::OrgId.eq(org_id))
        .filter(team::Column::NameKey.eq(name.to_lowercase()))
        .count(tx)
        .await?;
    if taken > 0 {
        return Err(uniqueness(&name));
    }
    let resolved = resolve_members(tx, org_id, wanted).await?;
    let team = team::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org_id),
        name: Set(name.clone()),
        name_key: Set(name.to_lowercase()),
        external_id: Set(external_id(doc)),
        directory_managed: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let team = team.insert(tx).await.map_err(map_name_taken(name.clone()))?;
    let added: Vec<Uuid> = wanted.iter().filter_map(|id| resolved.get(id).copied()).collect();
    apply_members(tx, org_id, team.id, &added, &[], now).await?;
    finish_change(tx, ctx, now, &added, |role_changes| {
        Event::ScimGroupCreated(ScimGroupCreated {
            team_id: team.id,
            name,
            external_id: team.external_id.clone(),
            members_added: added.len() as u64,
            role_changes,
        })
    })
    .await?;
    Ok(team)
}

/// PUT (`body` replaces the group, members included) or PATCH (`ops` apply to it).
pub enum Change<'a> {
    Replace(&'a Value),
    Patch(&'a Value),
}

pub async fn update(
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    change: Change<'_>,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let (replacement, ops) = match change {
        Change::Replace(body) => (Some(resource::parse_resource(&GROUP_TYPE, body)?.doc), None),
        Change::Patch(body) => (None, Some(patch::parse_patch(body)?)),
    };
    if let Some(delta) = ops.as_deref().and_then(member_delta) {
        return patch_members(state, ctx, id, delta, if_match).await;
    }
    let input = (state.clone(), ctx.clone(), id, replacement, ops, if_match.map(str::to_string));
    super::commit(state, ctx, input, |(state, ctx, id, replacement, ops, if_match), tx| {
        Box::pin(update_in(tx, state, ctx, *id, replacement.clone(), ops.clone(), if_match.as_deref()))
    })
    .await
}

async fn update_in(
    tx: &DatabaseTransaction,
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    replacement: Option<Value>,
    ops: Option<Vec<patch::PatchOp>>,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let org_id = ctx.org.id;
    let now = list::truncated(ctx.now());
    let team = load(tx, org_id, id).await?;
    list::check_if_match(if_match, &render(state, &team, None).version)?;
    let current = members_of(tx, team.id).await?;
    let doc = match (replacement, ops) {
        (Some(doc), _) => doc,
        (None, Some(ops)) => {
            let members: Vec<Value> = current.iter().map(|m| json!({ "value": m.scim_id })).collect();
            let mut doc = Map::new();
            doc.insert("displayName".into(), json!(team.name));
            if let Some(external_id) = &team.external_id {
                doc.insert("externalId".into(), json!(external_id));
            }
            doc.insert("members".into(), Value::Array(members));
            patch::apply(&GROUP_TYPE, &Value::Object(doc), &ops)?.doc
        }
        (None, None) => return Err(ApiError::internal(anyhow::anyhow!("no change given"))),
    };
    let name = display_name(&doc)?;
    let external = external_id(&doc);
    let wanted = member_ids(&doc)?;
    let wanted_set: HashSet<Uuid> = wanted.iter().copied().collect();
    let current_set: HashSet<Uuid> = current.iter().map(|m| m.scim_id).collect();
    let new_ids: Vec<Uuid> = wanted.iter().filter(|id| !current_set.contains(id)).copied().collect();
    let resolved = resolve_members(tx, org_id, &new_ids).await?;
    let added: Vec<Uuid> = new_ids.iter().filter_map(|id| resolved.get(id).copied()).collect();
    let removed: Vec<Uuid> =
        current.iter().filter(|m| !wanted_set.contains(&m.scim_id)).map(|m| m.user_id).collect();
    let renamed = name != team.name;
    let changed = renamed || external != team.external_id || !added.is_empty() || !removed.is_empty();
    if !changed {
        return Ok(());
    }
    if renamed && name.to_lowercase() != team.name_key {
        let taken = team::Entity::find()
            .filter(team::Column::OrgId.eq(org_id))
            .filter(team::Column::NameKey.eq(name.to_lowercase()))
            .filter(team::Column::Id.ne(team.id))
            .count(tx)
            .await?;
        if taken > 0 {
            return Err(uniqueness(&name));
        }
    }
    team::Entity::update_many()
        .col_expr(team::Column::Name, Expr::value(name.clone()))
        .col_expr(team::Column::NameKey, Expr::value(name.to_lowercase()))
        .col_expr(team::Column::ExternalId, Expr::value(external.clone()))
        .col_expr(team::Column::DirectoryManaged, Expr::value(true))
        .col_expr(team::Column::UpdatedAt, Expr::value(now))
        .filter(team::Column::Id.eq(team.id))
        .exec(tx)
        .await
        .map_err(map_name_taken(name.clone()))?;
    apply_members(tx, org_id, team.id, &added, &removed, now).await?;
    // A rename or new externalId can change which mapping matches every member.
    let affected: Vec<Uuid> = if renamed || external != team.external_id {
        current
            .iter()
            .map(|m| m.user_id)
            .filter(|u| !removed.contains(u))
            .chain(added.iter().copied())
            .collect()
    } else {
        added.clone()
    };
    let affected: Vec<Uuid> = affected.into_iter().chain(removed.iter().copied()).collect();
    finish_change(tx, ctx, now, &affected, |role_changes| {
        Event::ScimGroupUpdated(ScimGroupUpdated {
            team_id: team.id,
            name,
            renamed_from: renamed.then(|| team.name.clone()),
            members_added: added.len() as u64,
            members_removed: removed.len() as u64,
            role_changes,
        })
    })
    .await?;
    Ok(())
}

pub async fn delete(
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let input = (state.clone(), ctx.clone(), id, if_match.map(str::to_string));
    super::commit(state, ctx, input, |(state, ctx, id, if_match), tx| {
        Box::pin(delete_in(tx, state, ctx, *id, if_match.as_deref()))
    })
    .await
}

async fn delete_in(
    tx: &DatabaseTransaction,
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let org_id = ctx.org.id;
    let now = list::truncated(ctx.now());
    let team = load(tx, org_id, id).await?;
    list::check_if_match(if_match, &render(state, &team, None).version)?;
    let former: Vec<Uuid> = team_member::Entity::find()
        .select_only()
        .column(team_member::Column::UserId)
        .filter(team_member::Column::TeamId.eq(team.id))
        .into_tuple()
        .all(tx)
        .await?;
    team_member::Entity::delete_many().filter(team_member::Column::TeamId.eq(team.id)).exec(tx).await?;
    team::Entity::delete_by_id(team.id).exec(tx).await?;
    finish_change(tx, ctx, now, &former, |role_changes| {
        Event::ScimGroupDeleted(ScimGroupDeleted {
            team_id: team.id,
            name: team.name.clone(),
            member_count: former.len() as u64,
            role_changes,
        })
    })
    .await?;
    Ok(())
}
