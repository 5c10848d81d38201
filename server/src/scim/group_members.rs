//! Group membership as set operations: resolving SCIM User ids, adding and removing in
//! batches, and the fast path for PATCHes that only add or remove members by id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use guildhall_entities::{membership, team, team_member};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    filter::{CompValue, CompareOp, Filter},
    groups::{BATCH, finish_change, load, render},
    list, patch,
    schema::GROUP_URN,
    tokens::ScimContext,
    value::invalid_value,
};
use crate::{
    AppState,
    changes::{Event, catalog::ScimGroupUpdated},
    error::ApiError,
};

/// Resolves SCIM User ids to user ids; an id that is not a membership of the org fails.
pub(super) async fn resolve_members<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    scim_ids: &[Uuid],
) -> Result<HashMap<Uuid, Uuid>, ApiError> {
    let mut found = HashMap::with_capacity(scim_ids.len());
    for chunk in scim_ids.chunks(BATCH) {
        let rows: Vec<(Uuid, Uuid)> = membership::Entity::find()
            .select_only()
            .column(membership::Column::Id)
            .column(membership::Column::UserId)
            .filter(membership::Column::OrgId.eq(org_id))
            .filter(membership::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    if let Some(missing) = scim_ids.iter().find(|id| !found.contains_key(id)) {
        return Err(invalid_value("members", format!("`{missing}` is not a user of this organization")));
    }
    Ok(found)
}

/// Adds and removes team members by user id, in batches; returns how many rows were added and
/// removed (adding a member twice or removing a non-member changes nothing).
pub(super) async fn apply_members<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    team_id: Uuid,
    add: &[Uuid],
    remove: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(u64, u64), ApiError> {
    let (mut added, mut removed) = (0, 0);
    for chunk in add.chunks(BATCH) {
        let rows = chunk.iter().map(|user_id| team_member::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(org_id),
            team_id: Set(team_id),
            user_id: Set(*user_id),
            created_at: Set(now),
        });
        let inserted = team_member::Entity::insert_many(rows)
            .on_conflict_do_nothing_on([team_member::Column::TeamId, team_member::Column::UserId])
            .exec_without_returning(db)
            .await?;
        if let sea_orm::TryInsertResult::Inserted(n) = inserted {
            added += n;
        }
    }
    for chunk in remove.chunks(BATCH) {
        removed += team_member::Entity::delete_many()
            .filter(team_member::Column::TeamId.eq(team_id))
            .filter(team_member::Column::UserId.is_in(chunk.to_vec()))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok((added, removed))
}

/// The net member changes of a PATCH that only adds or removes members by id (the forms Okta
/// and Entra send for group pushes), or None when it does anything else. Applied as set
/// operations, these never load the group's member list, so their cost follows the request's
/// size, not the group's.
pub(super) fn member_delta(ops: &[patch::PatchOp]) -> Option<(Vec<Uuid>, Vec<String>)> {
    let mut net: Vec<(String, bool)> = Vec::new();
    for op in ops {
        let path = op.path.as_ref()?;
        if !path.attr.matches("members") || path.attr.sub_attr.is_some() || path.sub_attr.is_some() {
            return None;
        }
        if path.attr.schema.as_deref().is_some_and(|s| !s.eq_ignore_ascii_case(GROUP_URN)) {
            return None;
        }
        let values = |value: &Option<Value>| -> Option<Vec<String>> {
            let items = match value.as_ref()? {
                Value::Array(items) => items.as_slice(),
                other => std::slice::from_ref(other),
            };
            items.iter().map(|m| m.get("value").and_then(Value::as_str).map(str::to_string)).collect()
        };
        match (op.op, &path.value_filter) {
            (patch::OpKind::Add, None) => net.extend(values(&op.value)?.into_iter().map(|v| (v, true))),
            (patch::OpKind::Remove, None) => net.extend(values(&op.value)?.into_iter().map(|v| (v, false))),
            (
                patch::OpKind::Remove,
                Some(Filter::Compare { path: f, op: CompareOp::Eq, value: CompValue::String(v) }),
            ) if op.value.is_none() && f.matches("value") && f.sub_attr.is_none() => {
                net.push((v.clone(), false));
            }
            _ => return None,
        }
    }
    // The last word on each id wins, as if the operations ran in order.
    let mut last: HashMap<String, bool> = HashMap::new();
    let mut order = Vec::new();
    for (value, add) in net {
        if last.insert(value.clone(), add).is_none() {
            order.push(value);
        }
    }
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for value in order {
        match last.get(&value) {
            Some(true) => add.push(Uuid::parse_str(&value).ok()?),
            _ => remove.push(value),
        }
    }
    Some((add, remove))
}

pub(super) async fn patch_members(
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    (add, remove): (Vec<Uuid>, Vec<String>),
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let input = (state.clone(), ctx.clone(), id, add, remove, if_match.map(str::to_string));
    super::commit(state, ctx, input, |(state, ctx, id, add, remove, if_match), tx| {
        Box::pin(patch_members_in(tx, state, ctx, *id, add, remove, if_match.as_deref()))
    })
    .await
}

async fn patch_members_in(
    tx: &DatabaseTransaction,
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    add: &[Uuid],
    remove: &[String],
    if_match: Option<&str>,
) -> Result<(), ApiError> {
    let org_id = ctx.org.id;
    let now = list::truncated(ctx.now());
    let team = load(tx, org_id, id).await?;
    list::check_if_match(if_match, &render(state, &team, None).version)?;
    let adding: Vec<Uuid> = {
        let resolved = resolve_members(tx, org_id, add).await?;
        add.iter().filter_map(|id| resolved.get(id).copied()).collect()
    };
    // Removing someone who is not a member (or not a user at all) changes nothing.
    let removal_ids: Vec<Uuid> = remove.iter().filter_map(|v| Uuid::parse_str(v).ok()).collect();
    let mut removing = Vec::with_capacity(removal_ids.len());
    for chunk in removal_ids.chunks(BATCH) {
        let users: Vec<Uuid> = membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .filter(membership::Column::OrgId.eq(org_id))
            .filter(membership::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(tx)
            .await?;
        removing.extend(users);
    }
    let (added, removed) = apply_members(tx, org_id, team.id, &adding, &removing, now).await?;
    if added + removed == 0 {
        return Ok(());
    }
    team::Entity::update_many()
        .col_expr(team::Column::DirectoryManaged, Expr::value(true))
        .col_expr(team::Column::UpdatedAt, Expr::value(now))
        .filter(team::Column::Id.eq(team.id))
        .exec(tx)
        .await?;
    let affected: Vec<Uuid> = adding.iter().chain(removing.iter()).copied().collect();
    finish_change(tx, ctx, now, &affected, |role_changes| {
        Event::ScimGroupUpdated(ScimGroupUpdated {
            team_id: team.id,
            name: team.name.clone(),
            renamed_from: None,
            members_added: added,
            members_removed: removed,
            role_changes,
        })
    })
    .await?;
    Ok(())
}
