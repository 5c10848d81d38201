use guildhall_entities::{membership, role};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{ListChange, RoleCreated, RoleDeleted, RoleUpdated, TextChange},
    },
    credentials, db,
    error::ApiError,
    permissions::{self, PermissionSet},
    scope::scoped,
};

/// A role as the API shows it.
pub struct RoleView {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub permissions: PermissionSet,
    pub built_in: bool,
}

fn built_in_view(key: &str) -> RoleView {
    let name = match key {
        permissions::OWNER => "Owner",
        permissions::ADMIN => "Admin",
        _ => "Member",
    };
    RoleView {
        key: key.to_string(),
        name: name.to_string(),
        description: None,
        permissions: permissions::built_in(key).unwrap_or_default(),
        built_in: true,
    }
}

fn custom_view(row: role::Model) -> RoleView {
    let names: Vec<String> = serde_json::from_str(&row.permissions).unwrap_or_default();
    // Unknown names (from a newer server) grant nothing.
    let permissions = names.iter().filter_map(|n| permissions::Permission::parse(n)).collect();
    RoleView { key: row.key, name: row.name, description: row.description, permissions, built_in: false }
}

/// The permissions `role` grants in `org_id`.
pub async fn permissions_of<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    role_key: &str,
) -> Result<PermissionSet, ApiError> {
    if let Some(set) = permissions::built_in(role_key) {
        return Ok(set);
    }
    let row = role::Entity::find()
        .filter(role::Column::OrgId.eq(org_id))
        .filter(role::Column::Key.eq(role_key))
        .one(db)
        .await?;
    Ok(row.map(|r| custom_view(r).permissions).unwrap_or_default())
}

/// Whether someone holding `ceiling` stands as high as `role`: an owner reaches every role, only
/// an owner reaches `owner`, and otherwise `ceiling` must grant every permission `role` grants.
/// What a delegated decision (a mapping, a plugin) may grant, and whose role it may change, is
/// bounded by its author's standing this way.
pub async fn reaches<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    ceiling: &str,
    role: &str,
) -> Result<bool, ApiError> {
    if ceiling == permissions::OWNER || ceiling == role {
        return Ok(true);
    }
    if role == permissions::OWNER {
        return Ok(false);
    }
    let granted = permissions_of(db, org_id, role).await?;
    let held = permissions_of(db, org_id, ceiling).await?;
    Ok(granted.is_subset(&held))
}

/// Whether `role_key` names a role of the org (built-in or custom).
pub async fn exists<C: ConnectionTrait>(db: &C, org_id: Uuid, role_key: &str) -> Result<bool, ApiError> {
    if permissions::is_built_in(role_key) {
        return Ok(true);
    }
    Ok(role::Entity::find()
        .filter(role::Column::OrgId.eq(org_id))
        .filter(role::Column::Key.eq(role_key))
        .count(db)
        .await?
        > 0)
}

pub async fn list(state: &AppState, ctx: &OrgContext) -> Result<Vec<RoleView>, ApiError> {
    let mut roles: Vec<RoleView> = permissions::BUILT_IN.iter().map(|k| built_in_view(k)).collect();
    let custom = scoped::<role::Entity>(ctx).order_by_asc(role::Column::Key).all(&state.db).await?;
    roles.extend(custom.into_iter().map(custom_view));
    Ok(roles)
}

pub struct RoleDefinition {
    pub name: String,
    pub description: Option<String>,
    pub permissions: PermissionSet,
}

/// A caller may only hand out permissions they hold.
fn check_grantable(ctx: &OrgContext, wanted: &PermissionSet) -> Result<(), ApiError> {
    match wanted.difference(ctx.permissions()).next() {
        Some(missing) => Err(ApiError::forbidden(
            "PERMISSION_NOT_HELD",
            format!("you cannot grant or take away `{}`, which you do not hold", missing.as_str()),
        )),
        None => Ok(()),
    }
}

fn stored(set: &PermissionSet) -> String {
    serde_json::Value::from(permissions::to_names(set)).to_string()
}

pub async fn create(
    state: &AppState,
    ctx: &OrgContext,
    key: String,
    def: RoleDefinition,
) -> Result<RoleView, ApiError> {
    if permissions::is_built_in(&key) {
        return Err(ApiError::conflict("BUILT_IN_ROLE", format!("`{key}` is a built-in role")));
    }
    check_grantable(ctx, &def.permissions)?;
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let row = role::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(ctx.org_id()),
        key: Set(key.clone()),
        name: Set(def.name),
        description: Set(def.description),
        permissions: Set(stored(&def.permissions)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("ROLE_EXISTS", format!("the org already has a role `{key}`"))
        }
        _ => e.into(),
    })?;
    let created = RoleCreated {
        key: key.clone(),
        name: row.name.clone(),
        permissions: permissions::to_names(&def.permissions),
    };
    changes::record(&tx, ctx, Event::RoleCreated(created)).await?;
    tx.commit().await?;
    Ok(custom_view(row))
}

pub async fn update(
    state: &AppState,
    ctx: &OrgContext,
    key: &str,
    def: RoleDefinition,
) -> Result<RoleView, ApiError> {
    if permissions::is_built_in(key) {
        return Err(ApiError::conflict("BUILT_IN_ROLE", "built-in roles cannot be changed"));
    }
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let row = scoped::<role::Entity>(ctx)
        .filter(role::Column::Key.eq(key))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let before = custom_view(row.clone());
    // Adding a permission grants it and removing one takes it away: both need holding it.
    let changed: PermissionSet = before.permissions.symmetric_difference(&def.permissions).copied().collect();
    check_grantable(ctx, &changed)?;
    let mut active = row.into_active_model();
    active.name = Set(def.name.clone());
    active.description = Set(def.description.clone());
    active.permissions = Set(stored(&def.permissions));
    active.updated_at = Set(now);
    let row = active.update(&tx).await?;
    let updated = RoleUpdated {
        key: key.to_string(),
        name: TextChange { from: before.name.clone(), to: def.name.clone() },
        permissions: ListChange {
            from: permissions::to_names(&before.permissions),
            to: permissions::to_names(&def.permissions),
        },
    };
    changes::record(&tx, ctx, Event::RoleUpdated(updated)).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(custom_view(row))
}

pub async fn delete(state: &AppState, ctx: &OrgContext, key: &str) -> Result<(), ApiError> {
    if permissions::is_built_in(key) {
        return Err(ApiError::conflict("BUILT_IN_ROLE", "built-in roles cannot be deleted"));
    }
    let tx = db::begin_write(&state.writer).await?;
    let row = scoped::<role::Entity>(ctx)
        .filter(role::Column::Key.eq(key))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let holders =
        scoped::<membership::Entity>(ctx).filter(membership::Column::Role.eq(key)).count(&tx).await?;
    if holders > 0 {
        return Err(ApiError::conflict(
            "ROLE_IN_USE",
            format!("{holders} member(s) hold the role `{key}`; give them another role first"),
        ));
    }
    role::Entity::delete_by_id(row.id).exec(&tx).await?;
    changes::record(&tx, ctx, Event::RoleDeleted(RoleDeleted { key: key.to_string() })).await?;
    tx.commit().await?;
    Ok(())
}
