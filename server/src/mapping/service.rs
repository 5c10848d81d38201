//! Mapping rows and what they do to roles: re-deriving directory-managed members' roles from
//! their groups, and making and removing mappings (each re-derives the roles it touches).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guildhall_entities::{group_role_mapping, membership, org, scim_user, team, team_member, user};
use guildhall_plugin_host::World;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QuerySelect, RelationTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{Decided, Group, GroupKey, Mappings, Reach};
use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{
            GroupRoleMappingCreated, GroupRoleMappingDeleted, GroupRoleMappingPluginChanged, RoleChange,
        },
    },
    credentials, db,
    error::ApiError,
    members,
    orgs::MembershipStatus,
    permissions,
    plugins::directory::DirectoryMapper,
    roles as org_roles,
    scope::{Scope, scoped},
};

const BATCH: usize = 500;

/// An org's mappings with each mapped role's rank, for choosing among several.
pub struct Ranked {
    pub mappings: Mappings,
    /// `(is owner, permissions granted)` of every mapped role, every mapping's ceiling and
    /// `member`.
    rank: HashMap<String, (bool, usize)>,
}

impl Ranked {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<Self, ApiError> {
        let rows = group_role_mapping::Entity::find()
            .filter(group_role_mapping::Column::OrgId.eq(org_id))
            .all(db)
            .await?;
        let mut rank: HashMap<String, (bool, usize)> = HashMap::new();
        let mut roles: Vec<String> = vec![permissions::MEMBER.to_string()];
        for row in &rows {
            roles.push(row.role.clone());
            roles.extend(row.ceiling_role.clone());
        }
        for role in roles {
            if !rank.contains_key(&role) {
                let granted = org_roles::service::permissions_of(db, org_id, &role).await?;
                rank.insert(role.clone(), (role == permissions::OWNER, granted.len()));
            }
        }
        Ok(Self { mappings: Mappings::new(&rows), rank })
    }

    fn rank_of(&self, role: &str) -> (bool, usize) {
        self.rank.get(role).copied().unwrap_or_default()
    }

    /// The most privileged role these groups map to, if any maps to one; of several mappings to
    /// it, the one reaching furthest decides.
    pub fn decide<'a>(&'a self, groups: impl IntoIterator<Item = Group<'a>>) -> Option<Decided> {
        let reach_rank = |reach: &Reach| match reach {
            Reach::Any => (true, usize::MAX),
            Reach::UpTo(role) => self.rank_of(role),
        };
        groups
            .into_iter()
            .flat_map(|g| self.mappings.matching(g))
            .max_by_key(|(role, reach)| (self.rank_of(role), reach_rank(reach)))
            .map(|(role, reach)| Decided { role: role.to_string(), reach: reach.clone() })
    }
}

/// Gives a member the role a mapping or plugin decided, unless they have it already, it is no
/// role of the org, their current role is beyond the decision's reach, or they are the org's
/// last owner. Every path that derives a role (SCIM, SSO sign-in, mapping changes) applies it
/// here; the caller records the change it answers.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    membership: &membership::Model,
    decided: &Decided,
    now: DateTime<Utc>,
) -> Result<Option<RoleChange>, ApiError> {
    let (org_id, current) = (membership.org_id, membership.role.as_str());
    if decided.role == current || !org_roles::service::exists(db, org_id, &decided.role).await? {
        return Ok(None);
    }
    if let Reach::UpTo(ceiling) = &decided.reach
        && !org_roles::service::reaches(db, org_id, ceiling, current).await?
    {
        tracing::debug!(membership = %membership.id, current, ceiling, "a derived role does not reach this member");
        return Ok(None);
    }
    if current == permissions::OWNER && !other_owner(db, org_id, membership.id).await? {
        return Ok(None);
    }
    membership::Entity::update_many()
        .col_expr(membership::Column::Role, Expr::value(decided.role.as_str()))
        .col_expr(membership::Column::UpdatedAt, Expr::value(now))
        .filter(membership::Column::Id.eq(membership.id))
        .exec(db)
        .await?;
    Ok(Some(RoleChange { user_id: membership.user_id, from: current.to_string(), to: decided.role.clone() }))
}

/// Re-derives the roles of `user_ids` (directory-managed memberships only) from their groups,
/// or from the org's SCIM role-mapper plugin when `mapper` is given (which may also place them
/// in teams, refuse them, or fail); returns how each changed membership's role changed, for
/// the change's record.
pub async fn recompute<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
    mapper: Option<&DirectoryMapper>,
) -> Result<Vec<RoleChange>, ApiError> {
    let org_id = scope.org_id();
    let ranked = Ranked::load(db, org_id).await?;
    if (ranked.mappings.is_empty() && mapper.is_none()) || user_ids.is_empty() {
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
        // What a plugin is told about each of them: the account and the directory's record.
        let (mut accounts, mut records) = (HashMap::new(), HashMap::new());
        if mapper.is_some() {
            let users = user::Entity::find().filter(user::Column::Id.is_in(chunk.to_vec())).all(db).await?;
            accounts = users.into_iter().map(|u| (u.id, u)).collect();
            let ids: Vec<Uuid> = managed.iter().map(|m| m.id).collect();
            let rows = scim_user::Entity::find().filter(scim_user::Column::Id.is_in(ids)).all(db).await?;
            records = rows.into_iter().map(|r| (r.id, r)).collect();
        }
        for m in managed {
            let teams = teams_of.get(&m.user_id).map(Vec::as_slice).unwrap_or_default();
            let from_plugin = match (mapper, records.get(&m.id), accounts.get(&m.user_id)) {
                (Some(mapper), Some(scim), Some(account)) => {
                    let verdict = mapper.decide(db, scim, account, teams).await?;
                    if !verdict.teams.is_empty() {
                        crate::teams::service::place_by_name(db, scope, account, &verdict.teams, now).await?;
                    }
                    verdict.role
                }
                _ => None,
            };
            let decided = from_plugin
                .or_else(|| ranked.decide(teams.iter().map(group_of)))
                .unwrap_or(Decided { role: permissions::MEMBER.to_string(), reach: Reach::Any });
            if let Some(change) = apply(db, &m, &decided, now).await? {
                changes.push(change);
            }
        }
    }
    Ok(changes)
}

/// A SCIM group (a directory-managed team) as mappings see it.
fn group_of(team: &team::Model) -> Group<'_> {
    Group { name: &team.name, external_id: team.external_id.as_deref() }
}

/// Whether directory-managed members' roles are derived: the org maps a group to a role, or
/// names a role-mapper plugin for its directory.
pub async fn derives_roles<C: ConnectionTrait>(db: &C, org: &org::Model) -> Result<bool, ApiError> {
    if org.scim_role_mapper_plugin_id.is_some() {
        return Ok(true);
    }
    Ok(group_role_mapping::Entity::find()
        .filter(group_role_mapping::Column::OrgId.eq(org.id))
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
    let mapper = DirectoryMapper::load(state, ctx.org(), "group-role-mappings".into()).await?;
    let created = create_with(state, ctx, key, raw_group.trim().to_string(), role, mapper.as_deref()).await;
    if let Some(mapper) = mapper {
        mapper.flush(state, ctx.meta()).await;
    }
    created
}

async fn create_with(
    state: &AppState,
    ctx: &OrgContext,
    key: GroupKey,
    group: String,
    role: String,
    mapper: Option<&DirectoryMapper>,
) -> Result<group_role_mapping::Model, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    members::service::check_role_assignable(&tx, ctx, &role).await?;
    let row = group_role_mapping::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(ctx.org_id()),
        group_key: Set(key.stored_key(&group)),
        group_name: Set(group.clone()),
        role: Set(role.clone()),
        ceiling_role: Set(Some(ctx.role().to_string())),
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
    let role_changes = recompute(&tx, ctx.scope(), &affected, now, mapper).await?;
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
    let mapper = DirectoryMapper::load(state, ctx.org(), "group-role-mappings".into()).await?;
    let deleted = delete_with(state, ctx, id, mapper.as_deref()).await;
    if let Some(mapper) = mapper {
        mapper.flush(state, ctx.meta()).await;
    }
    deleted
}

async fn delete_with(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
    mapper: Option<&DirectoryMapper>,
) -> Result<(), ApiError> {
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
    let role_changes = recompute(&tx, ctx.scope(), &affected, now, mapper).await?;
    require_owner_for_owner_changes(ctx, &role_changes)?;
    let deleted =
        GroupRoleMappingDeleted { mapping_id: row.id, group: row.group_name, role: row.role, role_changes };
    changes::record(&tx, ctx, Event::GroupRoleMappingDeleted(deleted)).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(())
}

/// Names (or, with `None`, removes) the org's role-mapper plugin for directory-managed members,
/// and derives every such member's role again under it. Naming a plugin takes standing as high
/// as its uploader's role; re-deriving an owner's role takes being an owner.
pub async fn set_plugin(
    state: &AppState,
    ctx: &OrgContext,
    plugin_id: Option<Uuid>,
    fail_closed: bool,
) -> Result<(), ApiError> {
    if let Some(id) = plugin_id {
        let plugin = crate::plugins::service::require_world(
            &state.db,
            ctx.org_id(),
            id,
            World::RoleMapper,
            "plugin_id",
        )
        .await?;
        // The plugin may confer up to its uploader's role: whoever puts it to work stands as high.
        members::service::check_role_assignable(&state.db, ctx, &plugin.ceiling_role).await?;
    }
    let org = org::Model {
        scim_role_mapper_plugin_id: plugin_id,
        scim_plugin_fail_closed: fail_closed,
        ..ctx.org().clone()
    };
    let mapper = DirectoryMapper::load(state, &org, "group-role-mappings".into()).await?;
    let set = set_plugin_with(state, ctx, &org, mapper.as_deref()).await;
    if let Some(mapper) = mapper {
        mapper.flush(state, ctx.meta()).await;
    }
    set
}

async fn set_plugin_with(
    state: &AppState,
    ctx: &OrgContext,
    org: &org::Model,
    mapper: Option<&DirectoryMapper>,
) -> Result<(), ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    if let Some(id) = org.scim_role_mapper_plugin_id {
        // Again inside, to hold it against a concurrent delete.
        crate::plugins::service::require_world(&tx, org.id, id, World::RoleMapper, "plugin_id").await?;
    }
    org::Entity::update_many()
        .col_expr(org::Column::ScimRoleMapperPluginId, Expr::value(org.scim_role_mapper_plugin_id))
        .col_expr(org::Column::ScimPluginFailClosed, Expr::value(org.scim_plugin_fail_closed))
        .col_expr(org::Column::UpdatedAt, Expr::value(now))
        .filter(org::Column::Id.eq(org.id))
        .exec(&tx)
        .await?;
    let managed: Vec<Uuid> = scim_user::Entity::find()
        .select_only()
        .column(scim_user::Column::UserId)
        .filter(scim_user::Column::OrgId.eq(org.id))
        .into_tuple()
        .all(&tx)
        .await?;
    let role_changes = recompute(&tx, ctx.scope(), &managed, now, mapper).await?;
    require_owner_for_owner_changes(ctx, &role_changes)?;
    let changed = GroupRoleMappingPluginChanged {
        plugin_id: org.scim_role_mapper_plugin_id,
        plugin_failure: failure_mode(org.scim_plugin_fail_closed).into(),
        role_changes,
    };
    changes::record(&tx, ctx, Event::GroupRoleMappingPluginChanged(changed)).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(())
}

/// `closed` or `open`, as the API names what a failing plugin does.
pub fn failure_mode(fail_closed: bool) -> &'static str {
    if fail_closed { "closed" } else { "open" }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(group: &str, role: &str, ceiling: Option<&str>) -> group_role_mapping::Model {
        group_role_mapping::Model {
            id: Uuid::now_v7(),
            org_id: Uuid::nil(),
            group_name: group.into(),
            group_key: group.to_lowercase(),
            role: role.into(),
            ceiling_role: ceiling.map(str::to_string),
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn ranked(rows: &[group_role_mapping::Model]) -> Ranked {
        let rank =
            [("owner", (true, 30)), ("admin", (false, 20)), ("billing", (false, 3)), ("member", (false, 1))]
                .into_iter()
                .map(|(role, rank)| (role.to_string(), rank))
                .collect();
        Ranked { mappings: Mappings::new(rows), rank }
    }

    fn group(name: &str) -> Group<'_> {
        Group { name, external_id: None }
    }

    #[test]
    fn the_most_privileged_role_decides_with_the_furthest_reach_among_its_mappings() {
        let rows = [
            mapping("staff", "member", Some("admin")),
            mapping("ops", "admin", Some("admin")),
            mapping("re:op.*", "admin", Some("owner")),
            mapping("finance", "billing", None),
        ];
        let ranked = ranked(&rows);
        let decided = ranked.decide([group("staff"), group("ops")]).unwrap();
        assert_eq!(decided, Decided { role: "admin".into(), reach: Reach::UpTo("owner".into()) });
        let decided = ranked.decide([group("staff")]).unwrap();
        assert_eq!(decided, Decided { role: "member".into(), reach: Reach::UpTo("admin".into()) });
        // A mapping made before makers were recorded reaches as far as mappings used to.
        let decided = ranked.decide([group("finance"), group("staff")]).unwrap();
        assert_eq!(decided, Decided { role: "billing".into(), reach: Reach::Any });
        assert_eq!(ranked.decide([group("sales")]), None);
    }
}
