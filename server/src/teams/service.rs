use std::collections::HashMap;

use chrono::{DateTime, Utc};
use guildhall_entities::{membership, team, team_member, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{TeamCreated, TeamDeleted, TeamMemberAdded, TeamMemberRemoved, TeamUpdated, ValueChange},
    },
    db,
    error::ApiError,
    paging::PageRequest,
    scope::{Scope, scoped},
};

/// A team with the number of its members.
pub struct Team {
    pub row: team::Model,
    pub member_count: u64,
}

/// A user in a team.
pub struct TeamMember {
    pub user_id: Uuid,
    pub email: String,
    pub added_at: DateTime<Utc>,
}

/// A team with its members, in the order they were added.
pub struct TeamDetail {
    pub team: Team,
    pub members: Vec<TeamMember>,
}

/// A validated new team.
pub struct NewTeam {
    pub name: String,
    pub external_id: Option<String>,
}

/// Validated changes to a team: `None` leaves a field alone; `Some(None)` clears `external_id`.
pub struct TeamChange {
    pub name: Option<String>,
    pub external_id: Option<Option<String>>,
}

/// The outcome of adding a user to a team: adding someone already there changes nothing.
pub enum Added {
    New(TeamMember),
    Existing(TeamMember),
}

/// Names are unique per org regardless of case.
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

fn name_taken(name: &str) -> impl FnOnce(sea_orm::DbErr) -> ApiError {
    let detail = format!("the org already has a team named `{name}` (names ignore case)");
    move |e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict("TEAM_EXISTS", detail),
        _ => e.into(),
    }
}

async fn find<C: ConnectionTrait>(db: &C, ctx: &OrgContext, id: Uuid) -> Result<team::Model, ApiError> {
    scoped::<team::Entity>(ctx).filter(team::Column::Id.eq(id)).one(db).await?.ok_or_else(ApiError::not_found)
}

/// The member counts of `team_ids` (teams without members are absent).
async fn member_counts<C: ConnectionTrait>(
    db: &C,
    ctx: &OrgContext,
    team_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, u64>, ApiError> {
    if team_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let counts: Vec<(Uuid, i64)> = scoped::<team_member::Entity>(ctx)
        .select_only()
        .column(team_member::Column::TeamId)
        .column_as(Expr::col(team_member::Column::Id).count(), "members")
        .filter(team_member::Column::TeamId.is_in(team_ids))
        .group_by(team_member::Column::TeamId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(counts.into_iter().map(|(id, n)| (id, u64::try_from(n).unwrap_or(0))).collect())
}

async fn member_count<C: ConnectionTrait>(db: &C, ctx: &OrgContext, team_id: Uuid) -> Result<u64, ApiError> {
    Ok(scoped::<team_member::Entity>(ctx).filter(team_member::Column::TeamId.eq(team_id)).count(db).await?)
}

async fn find_member<C: ConnectionTrait>(
    db: &C,
    ctx: &OrgContext,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<Option<(team_member::Model, TeamMember)>, ApiError> {
    let found = scoped::<team_member::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(team_member::Column::TeamId.eq(team_id))
        .filter(team_member::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    Ok(found.and_then(|(m, u)| {
        let u = u?;
        let member = TeamMember { user_id: m.user_id, email: u.email, added_at: m.created_at };
        Some((m, member))
    }))
}

/// Marks a team changed (its members count as part of it, as SCIM's `meta.lastModified` expects).
async fn touch<C: ConnectionTrait>(
    db: &C,
    ctx: &Scope,
    team_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    team::Entity::update_many()
        .col_expr(team::Column::UpdatedAt, Expr::value(now))
        .filter(team::Column::OrgId.eq(ctx.org_id()))
        .filter(team::Column::Id.eq(team_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the org's teams in creation order, optionally only those whose name contains `name`.
pub async fn list(
    state: &AppState,
    ctx: &OrgContext,
    name: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<Team>, Option<String>, bool), ApiError> {
    let mut query = scoped::<team::Entity>(ctx).order_by_asc(team::Column::Id).limit(page.fetch());
    if let Some(name) = name {
        query = query.filter(db::contains_ci((team::Entity, team::Column::Name), name));
    }
    if let Some(after) = page.after {
        query = query.filter(team::Column::Id.gt(after));
    }
    let rows = query.all(&state.db).await?;
    let (rows, next_cursor, has_more) = page.finish(rows, |t| t.id);
    let counts = member_counts(&state.db, ctx, rows.iter().map(|t| t.id).collect()).await?;
    let teams = rows
        .into_iter()
        .map(|row| Team { member_count: counts.get(&row.id).copied().unwrap_or(0), row })
        .collect();
    Ok((teams, next_cursor, has_more))
}

pub async fn get(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<TeamDetail, ApiError> {
    let row = find(&state.db, ctx, id).await?;
    let members: Vec<TeamMember> = scoped::<team_member::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(team_member::Column::TeamId.eq(id))
        .order_by_asc(team_member::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|(m, u)| {
            u.map(|u| TeamMember { user_id: m.user_id, email: u.email, added_at: m.created_at })
        })
        .collect();
    let member_count = u64::try_from(members.len()).unwrap_or(u64::MAX);
    Ok(TeamDetail { team: Team { row, member_count }, members })
}

pub async fn create(state: &AppState, ctx: &OrgContext, new: NewTeam) -> Result<Team, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let row = team::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(ctx.org_id()),
        name_key: Set(name_key(&new.name)),
        name: Set(new.name.clone()),
        external_id: Set(new.external_id),
        directory_managed: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(name_taken(&new.name))?;
    let created =
        TeamCreated { team_id: row.id, name: row.name.clone(), external_id: row.external_id.clone() };
    changes::record(&tx, ctx, Event::TeamCreated(created)).await?;
    tx.commit().await?;
    Ok(Team { row, member_count: 0 })
}

pub async fn update(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
    change: TeamChange,
) -> Result<Team, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let before = find(&tx, ctx, id).await?;
    if before.directory_managed {
        return Err(crate::scim::users::directory_managed("this team"));
    }
    let mut row = before.clone().into_active_model();
    let mut changed = TeamUpdated { team_id: id, name: None, external_id: None };
    let new_name = change.name.filter(|n| *n != before.name);
    if let Some(name) = &new_name {
        changed.name = Some(ValueChange::new(&before.name, name));
        row.name_key = Set(name_key(name));
        row.name = Set(name.clone());
    }
    if let Some(external_id) = change.external_id
        && external_id != before.external_id
    {
        changed.external_id = Some(ValueChange::new(&before.external_id, &external_id));
        row.external_id = Set(external_id);
    }
    let member_count = member_count(&tx, ctx, id).await?;
    if changed.name.is_none() && changed.external_id.is_none() {
        return Ok(Team { row: before, member_count });
    }
    row.updated_at = Set(now);
    let after = row.update(&tx).await.map_err(name_taken(new_name.as_deref().unwrap_or_default()))?;
    changes::record(&tx, ctx, Event::TeamUpdated(changed)).await?;
    tx.commit().await?;
    Ok(Team { row: after, member_count })
}

/// Deletes a team and its memberships; the users stay in the org.
pub async fn delete(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let row = find(&tx, ctx, id).await?;
    if row.directory_managed {
        return Err(crate::scim::users::directory_managed("this team"));
    }
    let removed = team_member::Entity::delete_many()
        .filter(team_member::Column::OrgId.eq(ctx.org_id()))
        .filter(team_member::Column::TeamId.eq(row.id))
        .exec(&tx)
        .await?
        .rows_affected;
    team::Entity::delete_many()
        .filter(team::Column::OrgId.eq(ctx.org_id()))
        .filter(team::Column::Id.eq(row.id))
        .exec(&tx)
        .await?;
    let deleted = TeamDeleted {
        team_id: row.id,
        name: row.name.clone(),
        external_id: row.external_id.clone(),
        member_count: removed,
    };
    changes::record(&tx, ctx, Event::TeamDeleted(deleted)).await?;
    tx.commit().await?;
    Ok(())
}

/// Puts a member of the org into a team. Adding someone already there changes nothing.
pub async fn add_member(
    state: &AppState,
    ctx: &OrgContext,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<Added, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let team = find(&tx, ctx, team_id).await?;
    if team.directory_managed {
        return Err(crate::scim::users::directory_managed("this team's membership"));
    }
    let user = scoped::<membership::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(membership::Column::UserId.eq(user_id))
        .one(&tx)
        .await?
        .and_then(|(_, u)| u)
        .ok_or_else(|| ApiError::validation("user_id", "is not a member of this org"))?;
    // Already in the team (or added by a concurrent request): nothing to do.
    let inserted = insert_member(&tx, ctx, team.id, user.id, now).await?;
    // Read back what the database stored (PostgreSQL keeps microseconds).
    let (_, member) = find_member(&tx, ctx, team.id, user_id).await?.ok_or_else(ApiError::not_found)?;
    if !inserted {
        return Ok(Added::Existing(member));
    }
    touch(&tx, ctx, team.id, now).await?;
    let added = TeamMemberAdded { team_id: team.id, user_id: user.id, email: user.email.clone() };
    changes::record(&tx, ctx, Event::TeamMemberAdded(added)).await?;
    tx.commit().await?;
    Ok(Added::New(member))
}

/// Adds a member to a team unless already there; whether it was added now.
async fn insert_member<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    team_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let row = team_member::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(scope.org_id()),
        team_id: Set(team_id),
        user_id: Set(user_id),
        created_at: Set(now),
    };
    let inserted = team_member::Entity::insert(row)
        .on_conflict_do_nothing_on([team_member::Column::TeamId, team_member::Column::UserId])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(n) if n > 0))
}

/// Puts a member in the org's teams called `names` (case-insensitively) that exist and are not
/// the directory's to manage; names of no such team are skipped. Answers the teams joined now.
/// For a role-mapper plugin's placement at sign-in.
pub async fn place_by_name<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    user: &user::Model,
    names: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<String>, ApiError> {
    let mut joined = Vec::new();
    for name in names {
        let key = name.trim().to_lowercase();
        let found = scoped::<team::Entity>(scope).filter(team::Column::NameKey.eq(key)).one(db).await?;
        let Some(team) = found.filter(|t| !t.directory_managed) else { continue };
        if insert_member(db, scope, team.id, user.id, now).await? {
            touch(db, scope, team.id, now).await?;
            let added = TeamMemberAdded { team_id: team.id, user_id: user.id, email: user.email.clone() };
            changes::record(db, scope, Event::TeamMemberAdded(added)).await?;
            joined.push(team.name);
        }
    }
    Ok(joined)
}

/// Takes a user out of a team; the user stays in the org.
pub async fn remove_member(
    state: &AppState,
    ctx: &OrgContext,
    team_id: Uuid,
    user_id: Uuid,
) -> Result<(), ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let team = find(&tx, ctx, team_id).await?;
    if team.directory_managed {
        return Err(crate::scim::users::directory_managed("this team's membership"));
    }
    let (row, member) = find_member(&tx, ctx, team.id, user_id).await?.ok_or_else(ApiError::not_found)?;
    team_member::Entity::delete_by_id(row.id).exec(&tx).await?;
    touch(&tx, ctx, team.id, now).await?;
    let removed =
        TeamMemberRemoved { team_id: team.id, user_id: member.user_id, email: member.email.clone() };
    changes::record(&tx, ctx, Event::TeamMemberRemoved(removed)).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a user from every team of an org (called when they leave or are removed).
pub async fn remove_from_all<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<(), ApiError> {
    team_member::Entity::delete_many()
        .filter(team_member::Column::OrgId.eq(org_id))
        .filter(team_member::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
