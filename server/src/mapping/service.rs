//! Mapping rows and what they do to roles: re-deriving directory-managed members' roles from
//! their groups, and making and removing mappings (each re-derives the roles it touches).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guildhall_entities::{group_role_mapping, membership, scim_user, team, team_member};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QuerySelect, RelationTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{Group, GroupKey, Mappings};
use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{GroupRoleMappingCreated, GroupRoleMappingDeleted, RoleChange},
    },
    credentials, db,
    error::ApiError,
    members,
    orgs::MembershipStatus,
    permissions, roles as org_roles,
    scope::scoped,
};

const BATCH: usize = 500;

/// An org's mappings with each mapped role's rank, for choosing among several.
pub struct Ranked {
    pub mappings: Mappings,
    /// `(is owner, permissions granted)` of every mapped role and `member`.
    rank: HashMap<String, (bool, usize)>,
}

impl Ranked {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<Self, ApiError> {
        let rows = group_role_mapping::Entity::find()
            .filter(group_role_mapping::Column::OrgId.eq(org_id))
            .all(db)
            .await?;
        let mut rank: HashMap<String, (bool, usize)> = HashMap::new();
        for role in rows.iter().map(|m| m.role.clone()).chain([permissions::MEMBER.to_string()]) {
            if !rank.contains_key(&role) {
                let granted = org_roles::service::permissions_of(db, org_id, &role).await?;
                rank.insert(role.clone(), (role == permissions::OWNER, granted.len()));
            }
        }
        Ok(Self { mappings: Mappings::new(&rows), rank })
    }

    /// The most privileged role these groups map to, if any maps to one.
    pub fn role_for<'a>(&'a self, groups: impl IntoIterator<Item = Group<'a>>) -> Option<&'a str> {
        groups
            .into_iter()
            .flat_map(|g| self.mappings.roles_of(g))
            .max_by_key(|role| self.rank.get(*role).copied().unwrap_or_default())
    }
}

/// Re-derives the roles of `user_ids` (directory-managed memberships only) from their groups;
/// returns how each changed membership's role changed, for the change's record.
pub async fn recompute<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<RoleChange>, ApiError> {
    let ranked = Ranked::load(db, org_id).await?;
    if ranked.mappings.is_empty() || user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut changes = Vec::new();
    let unique: BTreeSet<Uuid> = user_ids.iter().copied().collect();
    let unique: Vec<Uuid> = unique.into_iter().collect();
    for chunk in unique.chunks(BATCH) {
        let managed: Vec<membership::Model> = membership::Entity::find()
            .join(JoinType::InnerJoin, scim_user::Relation::Membership.def().rev())
            .filter(membership::Column::OrgId.eq(org_id))
            .filter(membership::Column::UserId.is_in(chunk.to_vec()))
            .all(db)
            .await?;
        let teams: Vec<(team_member::Model, Option<team::Model>)> = team_member::Entity::find()
            .filter(team_member::Column::OrgId.eq(org_id))
            .filter(team_member::Column::UserId.is_in(chunk.to_vec()))
            .find_also_related(team::Entity)
            .all(db)
            .await?;
        let mut teams_of: HashMap<Uuid, Vec<team::Model>> = HashMap::new();
        for (member, team) in teams {
            if let Some(team) = team {
                teams_of.entry(member.user_id).or_default().push(team);
            }
        }
        for m in managed {
            let groups = teams_of.get(&m.user_id).into_iter().flatten().map(group_of);
            let target = ranked.role_for(groups).unwrap_or(permissions::MEMBER);
            if target == m.role || !org_roles::service::exists(db, org_id, target).await? {
                continue;
            }
            if m.role == permissions::OWNER && !other_owner(db, org_id, m.id).await? {
                continue;
            }
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, Expr::value(target))
                .col_expr(membership::Column::UpdatedAt, Expr::value(now))
                .filter(membership::Column::Id.eq(m.id))
                .exec(db)
                .await?;
            changes.push(RoleChange { user_id: m.user_id, from: m.role, to: target.to_string() });
        }
    }
    Ok(changes)
}

/// A SCIM group (a directory-managed team) as mappings see it.
fn group_of(team: &team::Model) -> Group<'_> {
    Group { name: &team.name, external_id: team.external_id.as_deref() }
}

/// Whether the org maps any group to a role (then directory-managed roles are derived).
pub async fn derives_roles<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<bool, ApiError> {
    Ok(group_role_mapping::Entity::find()
        .filter(group_role_mapping::Column::OrgId.eq(org_id))
        .count(db)
        .await?
        > 0)
}

pub(crate) async fn other_owner<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    except: Uuid,
) -> Result<bool, ApiError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Role.eq(permissions::OWNER))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .filter(membership::Column::Id.ne(except))
        .count(db)
        .await?
        > 0)
}

/// The users in the teams a mapping names.
async fn members_of_matching<C: ConnectionTrait>(
    db: &C,
    mapping: &group_role_mapping::Model,
) -> Result<Vec<Uuid>, ApiError> {
    let Some(key) = GroupKey::of(mapping) else { return Ok(Vec::new()) };
    let teams = team::Entity::find().filter(team::Column::OrgId.eq(mapping.org_id));
    let teams: Vec<Uuid> = match &key {
        GroupKey::Exact(_) => {
            teams
                .select_only()
                .column(team::Column::Id)
                .filter(
                    sea_orm::Condition::any()
                        .add(team::Column::NameKey.eq(mapping.group_key.clone()))
                        .add(team::Column::ExternalId.eq(mapping.group_name.clone())),
                )
                .into_tuple()
                .all(db)
                .await?
        }
        // A pattern is matched here, over the org's teams.
        GroupKey::Pattern(_) => {
            teams.all(db).await?.iter().filter(|t| key.matches(&group_of(t))).map(|t| t.id).collect()
        }
    };
    if teams.is_empty() {
        return Ok(Vec::new());
    }
    let mut users = Vec::new();
    for chunk in teams.chunks(BATCH) {
        let found: Vec<Uuid> = team_member::Entity::find()
            .select_only()
            .column(team_member::Column::UserId)
            .filter(team_member::Column::TeamId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        users.extend(found);
    }
    Ok(users)
}

pub async fn create(
    state: &AppState,
    ctx: &OrgContext,
    raw_group: String,
    role: String,
) -> Result<group_role_mapping::Model, ApiError> {
    let key = GroupKey::parse(&raw_group)?;
    let group = raw_group.trim().to_string();
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    members::service::check_role_assignable(&tx, ctx, &role).await?;
    let row = group_role_mapping::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(ctx.org_id()),
        group_key: Set(key.stored_key(&group)),
        group_name: Set(group.clone()),
        role: Set(role.clone()),
        created_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ApiError::conflict(
            "MAPPING_EXISTS",
            format!("the group `{group}` is already mapped; delete that mapping first"),
        ),
        _ => e.into(),
    })?;
    let affected = members_of_matching(&tx, &row).await?;
    let role_changes = recompute(&tx, ctx.org_id(), &affected, now).await?;
    require_owner_for_owner_changes(ctx, &role_changes)?;
    let created = GroupRoleMappingCreated { mapping_id: row.id, group, role, role_changes };
    changes::record(&tx, ctx, Event::GroupRoleMappingCreated(created)).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(row)
}

/// A mapping change that would change an owner's role is an owner's to make (the transaction
/// that computed it is dropped, undoing it).
fn require_owner_for_owner_changes(ctx: &OrgContext, changes: &[RoleChange]) -> Result<(), ApiError> {
    let touches_owner = changes.iter().any(|c| c.from == permissions::OWNER);
    if touches_owner && !ctx.is_owner() {
        return Err(ApiError::forbidden(
            "OWNER_REQUIRED",
            "this change would change an owner's role; only an owner of the organization can make it",
        ));
    }
    Ok(())
}

pub async fn delete(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<(), ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let row = scoped::<group_role_mapping::Entity>(ctx)
        .filter(group_role_mapping::Column::Id.eq(id))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // Taking a mapping away needs the standing its role takes to grant.
    members::service::check_role_assignable(&tx, ctx, &row.role).await?;
    group_role_mapping::Entity::delete_by_id(row.id).exec(&tx).await?;
    let affected = members_of_matching(&tx, &row).await?;
    let role_changes = recompute(&tx, ctx.org_id(), &affected, now).await?;
    require_owner_for_owner_changes(ctx, &role_changes)?;
    let deleted =
        GroupRoleMappingDeleted { mapping_id: row.id, group: row.group_name, role: row.role, role_changes };
    changes::record(&tx, ctx, Event::GroupRoleMappingDeleted(deleted)).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(())
}
