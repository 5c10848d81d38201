//! Group-to-role mapping. An org maps directory groups to roles; a directory-managed member's
//! role then follows their groups: the most privileged mapped role wins (owner first, then the
//! role granting the most permissions), the `member` role when no group of theirs is mapped.
//! A mapping names a group by displayName (case-insensitively) or externalId, so SSO group
//! claims can use the same table later. Orgs without mappings keep roles as admins set them.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use guildhall_entities::{group_role_mapping, membership, scim_user, team, team_member};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    AppState,
    app::Tag,
    auth::{OrgContext, tenant},
    changes::{
        self, Event,
        catalog::{GroupRoleMappingCreated, GroupRoleMappingDeleted, RoleChange},
    },
    credentials, db,
    error::{ApiError, ApiResult},
    http::NoContent,
    json::JsonBody,
    members,
    orgs::MembershipStatus,
    permissions::{self, Permission},
    roles as org_roles,
    scope::scoped,
};

const BATCH: usize = 500;
const MAX_GROUP_NAME: usize = 256;

/// Re-derives the roles of `user_ids` (directory-managed memberships only) from their groups;
/// returns how each changed membership's role changed, for the change's record.
pub async fn recompute<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<RoleChange>, ApiError> {
    let mappings = group_role_mapping::Entity::find()
        .filter(group_role_mapping::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    if mappings.is_empty() || user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut rank: HashMap<String, (bool, usize)> = HashMap::new();
    for role in mappings.iter().map(|m| m.role.clone()).chain([permissions::MEMBER.to_string()]) {
        if !rank.contains_key(&role) {
            let granted = org_roles::service::permissions_of(db, org_id, &role).await?;
            rank.insert(role.clone(), (role == permissions::OWNER, granted.len()));
        }
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
            let target = teams_of
                .get(&m.user_id)
                .into_iter()
                .flatten()
                .flat_map(|t| mappings.iter().filter(move |g| matches(g, t)))
                .map(|g| g.role.as_str())
                .max_by_key(|role| rank.get(*role).copied().unwrap_or_default())
                .unwrap_or(permissions::MEMBER);
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

/// Whether the org maps any group to a role (then directory-managed roles are derived).
pub async fn derives_roles<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<bool, ApiError> {
    Ok(group_role_mapping::Entity::find()
        .filter(group_role_mapping::Column::OrgId.eq(org_id))
        .count(db)
        .await?
        > 0)
}

fn matches(mapping: &group_role_mapping::Model, team: &team::Model) -> bool {
    mapping.group_key == team.name_key || team.external_id.as_deref() == Some(mapping.group_name.as_str())
}

async fn other_owner<C: ConnectionTrait>(db: &C, org_id: Uuid, except: Uuid) -> Result<bool, ApiError> {
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
    let teams: Vec<Uuid> = team::Entity::find()
        .select_only()
        .column(team::Column::Id)
        .filter(team::Column::OrgId.eq(mapping.org_id))
        .filter(
            sea_orm::Condition::any()
                .add(team::Column::NameKey.eq(mapping.group_key.clone()))
                .add(team::Column::ExternalId.eq(mapping.group_name.clone())),
        )
        .into_tuple()
        .all(db)
        .await?;
    if teams.is_empty() {
        return Ok(Vec::new());
    }
    Ok(team_member::Entity::find()
        .select_only()
        .column(team_member::Column::UserId)
        .filter(team_member::Column::TeamId.is_in(teams))
        .into_tuple()
        .all(db)
        .await?)
}

#[derive(Object)]
pub struct GroupRoleMapping {
    pub id: Uuid,
    /// A group's displayName (matched case-insensitively) or externalId.
    pub group: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<group_role_mapping::Model> for GroupRoleMapping {
    fn from(m: group_role_mapping::Model) -> Self {
        Self { id: m.id, group: m.group_name, role: m.role, created_at: m.created_at }
    }
}

#[derive(Object)]
pub struct GroupRoleMappingList {
    pub data: Vec<GroupRoleMapping>,
}

#[derive(Object, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRoleMapping {
    /// A directory group's displayName or externalId.
    pub group: String,
    /// The role its members get.
    pub role: String,
}

#[derive(ApiResponse)]
pub enum CreatedMapping {
    #[oai(status = 201)]
    Created(Json<GroupRoleMapping>),
}

pub struct GroupRoleMappingsApi;

#[OpenApi]
impl GroupRoleMappingsApi {
    /// The org's group-to-role mappings.
    ///
    /// Requires `members:read`.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings",
        method = "get",
        tag = "Tag::Scim",
        operation_id = "list_group_role_mappings"
    )]
    async fn list_group_role_mappings(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
    ) -> ApiResult<Json<GroupRoleMappingList>> {
        org.require(Permission::MembersRead)?;
        let rows = scoped::<group_role_mapping::Entity>(&org)
            .order_by_asc(group_role_mapping::Column::CreatedAt)
            .all(&state.db)
            .await?;
        Ok(Json(GroupRoleMappingList { data: rows.into_iter().map(Into::into).collect() }))
    }

    /// Map a directory group to a role. Directory-managed members of that group get the role
    /// (the most privileged of their mapped roles wins) at once and whenever their groups change.
    ///
    /// Requires `members:write`, and holding every permission the role grants (`owner` requires
    /// being an owner). SCIM tokens whose issuer does not stand as high as the role are revoked.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings",
        method = "post",
        tag = "Tag::Scim",
        operation_id = "create_group_role_mapping"
    )]
    async fn create_group_role_mapping(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        body: JsonBody<CreateGroupRoleMapping>,
    ) -> ApiResult<CreatedMapping> {
        org.require(Permission::MembersWrite)?;
        let group = body.0.group.trim().to_string();
        if group.is_empty() || group.chars().count() > MAX_GROUP_NAME {
            return Err(ApiError::validation("group", format!("must be 1 to {MAX_GROUP_NAME} characters")));
        }
        let role = body.0.role.trim().to_string();
        let row = create(&state, &org, group, role).await?;
        Ok(CreatedMapping::Created(Json(row.into())))
    }

    /// Remove a mapping; its members' roles are derived again from their other groups.
    ///
    /// Requires `members:write` and holding every permission the mapped role grants; a removal
    /// that changes an owner's role (such as removing the `owner` mapping) requires being an owner.
    #[oai(
        path = "/api/v1/orgs/:org/group-role-mappings/:id",
        method = "delete",
        tag = "Tag::Scim",
        operation_id = "delete_group_role_mapping"
    )]
    async fn delete_group_role_mapping(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        id: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        org.require(Permission::MembersWrite)?;
        delete(&state, &org, id.0).await?;
        Ok(NoContent::NoContent)
    }
}

async fn create(
    state: &AppState,
    ctx: &OrgContext,
    group: String,
    role: String,
) -> Result<group_role_mapping::Model, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    members::service::check_role_assignable(&tx, ctx, &role).await?;
    let row = group_role_mapping::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(ctx.org_id()),
        group_key: Set(group.to_lowercase()),
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

async fn delete(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<(), ApiError> {
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
