//! SCIM Users: an org's membership of a Guildhall user. The user is found (or created, without a
//! password) by the primary email, or by an email-shaped `userName`; the membership carries
//! `active` (false suspends it: no sign-in to the org, sessions there revoked); the `scim_users`
//! row, sharing the membership's id, holds the SCIM document and marks the membership as
//! managed by the directory. DELETE removes the membership, and the account too when it was
//! the directory's alone (no password, no other org).

use chrono::{DateTime, Utc};

use guildhall_entities::{membership, scim_user, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::Expr,
};
use serde_json::{Value, json};
use uuid::Uuid;

pub use super::user_views::{Loaded, Related, Rendered, get, list, load, render};
use super::{
    identity::identity_email, list, patch, resource, schema::USER_TYPE, tokens::ScimContext,
    value::invalid_value,
};
use crate::{
    AppState,
    changes::{
        self, Event,
        catalog::{MemberRoleChanged, ScimUserCreated, ScimUserDeleted, ScimUserUpdated, TextChange},
    },
    credentials,
    domains::service::OrgDomains,
    error::{ApiError, ErrorKind},
    mapping, members,
    orgs::MembershipStatus,
    permissions,
    provisioning::{self, JoinOutcome},
    users,
};

pub(super) fn uniqueness(detail: String) -> ApiError {
    ApiError::conflict("SCIM_USER_EXISTS", detail).with_scim_type("uniqueness")
}

/// A unique-key violation on writing the user is its `userName` being taken.
fn user_name_taken(user_name: &str) -> impl FnOnce(sea_orm::DbErr) -> ApiError + '_ {
    move |e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            uniqueness(format!("userName `{user_name}` is already taken in this organization"))
        }
        _ => e.into(),
    }
}

/// The `active` a document asks for. The membership's status is the truth; the document keeps
/// whether the directory assigned `active` at all (RFC 7643 lets it be unassigned).
fn asked_active(doc: &Value) -> Option<bool> {
    doc.get("active").and_then(Value::as_bool)
}

fn user_name(doc: &Value) -> Result<String, ApiError> {
    doc.get("userName")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| invalid_value("userName", "is required"))
}

fn external_id(doc: &Value) -> Option<String> {
    doc.get("externalId").and_then(Value::as_str).map(str::to_string)
}

async fn ensure_user_name_free<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    key: &str,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    let mut query = scim_user::Entity::find()
        .filter(scim_user::Column::OrgId.eq(org_id))
        .filter(scim_user::Column::UserNameKey.eq(key));
    if let Some(id) = except {
        query = query.filter(scim_user::Column::Id.ne(id));
    }
    if query.count(db).await? > 0 {
        return Err(uniqueness(format!("userName `{key}` is already taken in this organization")));
    }
    Ok(())
}

pub async fn create(state: &AppState, ctx: &ScimContext, body: &Value) -> Result<Rendered, ApiError> {
    let doc = resource::parse_resource(&USER_TYPE, body)?.doc;
    let user_name = user_name(&doc)?;
    let email = identity_email(&doc, &user_name)?;
    let create =
        Create { ctx: ctx.clone(), active: asked_active(&doc).unwrap_or(true), doc, user_name, email };
    let (loaded, adopted) =
        super::commit(state, ctx, create, |create, tx| Box::pin(create.apply_to(tx))).await?;
    // Only an adopted membership can already be in teams.
    let related = if adopted {
        Related::load(&state.db, ctx.org.id, &[&loaded]).await?
    } else {
        Related::load_new(&state.db, ctx.org.id, &loaded).await?
    };
    Ok(render(state, &loaded, &related))
}

/// A SCIM user's creation, parsed and checked, for group commit to apply.
struct Create {
    ctx: ScimContext,
    doc: Value,
    user_name: String,
    email: Option<String>,
    active: bool,
}

impl Create {
    /// The user, and whether an existing membership was adopted.
    async fn apply_to(&self, tx: &DatabaseTransaction) -> Result<(Loaded, bool), ApiError> {
        let Self { ctx, doc, user_name, email, active } = self;
        let now = list::truncated(ctx.now());
        let org = &ctx.org;
        let domains = OrgDomains::load(tx, org.id).await?;
        // A person already in the org: the directory takes over managing that membership.
        let holder = match email {
            Some(email) => users::service::find_by_email(tx, email).await?,
            None => None,
        };
        let member = match &holder {
            Some(user) => {
                membership::Entity::find()
                    .filter(membership::Column::OrgId.eq(org.id))
                    .filter(membership::Column::UserId.eq(user.id))
                    .one(tx)
                    .await?
            }
            None => None,
        };
        let adopted = member.is_some();
        let membership_row = match member {
            Some(m) => {
                if scim_user::Entity::find_by_id(m.id).count(tx).await? > 0 {
                    return Err(uniqueness(format!(
                        "`{user_name}` is already provisioned in this organization"
                    )));
                }
                ctx.require_may_manage(&m)?;
                m
            }
            None => {
                let (account, consent) =
                    provisioning::directory_identity(tx, now, org, &domains, email.as_deref(), holder)
                        .await
                        .map_err(scim_refusal)?;
                match provisioning::admit_under(
                    tx,
                    ctx,
                    org,
                    &domains,
                    &account,
                    permissions::MEMBER,
                    consent,
                )
                .await
                .map_err(scim_refusal)?
                {
                    JoinOutcome::Joined(m) => m,
                    JoinOutcome::AlreadyMember(_) => {
                        return Err(uniqueness(format!(
                            "`{user_name}` is already a member of this organization"
                        )));
                    }
                }
            }
        };
        let row = scim_user::Model {
            id: membership_row.id,
            org_id: org.id,
            user_id: membership_row.user_id,
            user_name_key: user_name.to_lowercase(),
            external_id: external_id(doc),
            attributes: doc.clone(),
            created_at: now,
            updated_at: now,
        };
        scim_user::Entity::insert(scim_user::ActiveModel::from(row.clone()))
            .exec_without_returning(tx)
            .await
            .map_err(user_name_taken(user_name))?;
        let mut loaded = Loaded { row, membership: membership_row };
        if loaded.active() != *active {
            set_active(tx, org.id, &mut loaded, *active, now).await?;
        }
        let created = ScimUserCreated {
            user_id: loaded.row.user_id,
            scim_id: loaded.row.id,
            user_name: user_name.clone(),
            email: email.clone(),
            active: *active,
            adopted_membership: adopted,
        };
        changes::record(tx, ctx, Event::ScimUserCreated(created)).await?;
        if !active {
            credentials::reconcile(tx, ctx).await?;
        }
        derive_role(tx, ctx, &mut loaded, now).await?;
        Ok((loaded, adopted))
    }
}

/// With a role-mapper plugin the directory's attributes decide the role as well as its groups:
/// the role of the member a write created or changed is derived again (the plugin may refuse
/// the write). Without one, attributes have no say and nothing happens.
async fn derive_role(
    tx: &DatabaseTransaction,
    ctx: &ScimContext,
    loaded: &mut Loaded,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(mapper) = ctx.role_mapper() else { return Ok(()) };
    let user_id = loaded.row.user_id;
    let role_changes = mapping::service::recompute(tx, ctx.scope(), &[user_id], now, Some(mapper)).await?;
    for change in role_changes {
        loaded.membership.role = change.to.clone();
        let changed = MemberRoleChanged { user_id, role: TextChange { from: change.from, to: change.to } };
        changes::record(tx, ctx, Event::MemberRoleChanged(changed)).await?;
        credentials::reconcile(tx, ctx).await?;
    }
    Ok(())
}

/// A provisioning rule's refusal in SCIM's words (RFC 7644 §3.12).
fn scim_refusal(err: ApiError) -> ApiError {
    match err.code() {
        "DOMAIN_NOT_ALLOWED" => invalid_value("emails", err.to_string()),
        "EMAIL_TAKEN" => uniqueness(err.to_string()),
        _ => err.without_scim_type(),
    }
}

/// Suspends or restores the membership. Suspending ends the user's sessions in the org.
async fn set_active<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    loaded: &mut Loaded,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let status = if active { MembershipStatus::Active } else { MembershipStatus::Suspended };
    if !active {
        ensure_not_last_owner(db, org_id, &loaded.membership).await?;
    }
    membership::Entity::update_many()
        .col_expr(membership::Column::Status, Expr::value(status.as_str()))
        .col_expr(membership::Column::UpdatedAt, Expr::value(now))
        .filter(membership::Column::Id.eq(loaded.membership.id))
        .exec(db)
        .await?;
    if !active {
        members::service::revoke_access(db, org_id, loaded.row.user_id, now, "scim_deactivated").await?;
    }
    loaded.membership.status = status.as_str().into();
    Ok(())
}

async fn ensure_not_last_owner<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    membership: &membership::Model,
) -> Result<(), ApiError> {
    if membership.role != permissions::OWNER {
        return Ok(());
    }
    let owners = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Role.eq(permissions::OWNER))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .count(db)
        .await?;
    if owners <= 1 {
        return Err(ApiError::conflict(
            "LAST_OWNER",
            "this user is the organization's last owner; transfer ownership before deprovisioning them",
        )
        .without_scim_type());
    }
    Ok(())
}

/// The stored document with the membership's `active`, as PATCH sees the resource.
fn patchable(loaded: &Loaded) -> Value {
    let mut doc = loaded.row.attributes.clone();
    if let Some(map) = doc.as_object_mut()
        && (map.contains_key("active") || !loaded.active())
    {
        map.insert("active".into(), json!(loaded.active()));
    }
    doc
}

/// PUT (`body` replaces the resource) or PATCH (`ops` apply to it).
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
) -> Result<Rendered, ApiError> {
    // Parse before taking the write lock: bad input never waits for it.
    let (replacement, ops) = match change {
        Change::Replace(body) => (Some(resource::parse_resource(&USER_TYPE, body)?.doc), None),
        Change::Patch(body) => (None, Some(patch::parse_patch(body)?)),
    };
    let input = (state.clone(), ctx.clone(), id, replacement, ops, if_match.map(str::to_string));
    let (loaded, related) =
        super::commit(state, ctx, input, |(state, ctx, id, replacement, ops, if_match), tx| {
            Box::pin(update_in(tx, state, ctx, *id, replacement.clone(), ops.clone(), if_match.as_deref()))
        })
        .await?;
    Ok(render(state, &loaded, &related))
}

async fn update_in(
    tx: &DatabaseTransaction,
    state: &AppState,
    ctx: &ScimContext,
    id: Uuid,
    replacement: Option<Value>,
    ops: Option<Vec<patch::PatchOp>>,
    if_match: Option<&str>,
) -> Result<(Loaded, Related), ApiError> {
    let org_id = ctx.org.id;
    let now = list::truncated(ctx.now());
    let mut loaded = load(tx, org_id, id).await?;
    let related = Related::load(tx, org_id, &[&loaded]).await?;
    let before = render(state, &loaded, &related);
    list::check_if_match(if_match, &before.version)?;
    let (doc, active) = match (replacement, ops) {
        // PUT without `active` leaves the membership as it is.
        (Some(doc), _) => {
            let active = asked_active(&doc);
            (doc, active)
        }
        // PATCH removing `active` unassigns it, and unassigned means not deactivated.
        (None, Some(ops)) => {
            let doc = patch::apply(&USER_TYPE, &patchable(&loaded), &ops)?.doc;
            let active = asked_active(&doc).or(Some(true));
            (doc, active)
        }
        (None, None) => return Err(ApiError::internal(anyhow::anyhow!("no change given"))),
    };
    let user_name = user_name(&doc)?;
    let key = user_name.to_lowercase();
    if key != loaded.row.user_name_key {
        ensure_user_name_free(tx, org_id, &key, Some(id)).await?;
    }
    let email = identity_email(&doc, &user_name)?;
    provisioning::readdress(tx, now, org_id, loaded.row.user_id, email).await.map_err(scim_refusal)?;
    let was_active = loaded.active();
    let changed_doc = doc != loaded.row.attributes;
    if changed_doc {
        scim_user::Entity::update_many()
            .col_expr(scim_user::Column::UserNameKey, Expr::value(key.clone()))
            .col_expr(scim_user::Column::ExternalId, Expr::value(external_id(&doc)))
            .col_expr(scim_user::Column::Attributes, Expr::value(doc.clone()))
            .col_expr(scim_user::Column::UpdatedAt, Expr::value(now))
            .filter(scim_user::Column::Id.eq(id))
            .exec(tx)
            .await
            .map_err(user_name_taken(&user_name))?;
        loaded.row.user_name_key = key;
        loaded.row.attributes = doc;
        loaded.row.updated_at = now;
    }
    let active_changed = active.is_some_and(|a| a != was_active);
    if let Some(active) = active.filter(|_| active_changed) {
        ctx.require_may_manage(&loaded.membership)?;
        set_active(tx, org_id, &mut loaded, active, now).await?;
        if !changed_doc {
            scim_user::Entity::update_many()
                .col_expr(scim_user::Column::UpdatedAt, Expr::value(now))
                .filter(scim_user::Column::Id.eq(id))
                .exec(tx)
                .await?;
            loaded.row.updated_at = now;
        }
    }
    if changed_doc || active_changed {
        let updated =
            ScimUserUpdated { user_id: loaded.row.user_id, scim_id: id, user_name, active: loaded.active() };
        let event = match (active_changed, loaded.active()) {
            (true, false) => Event::ScimUserDeactivated(updated),
            (true, true) => Event::ScimUserReactivated(updated),
            _ => Event::ScimUserUpdated(updated),
        };
        changes::record(tx, ctx, event).await?;
    }
    if active_changed {
        credentials::reconcile(tx, ctx).await?;
    }
    if changed_doc || active_changed {
        derive_role(tx, ctx, &mut loaded, now).await?;
    }
    // The manager may have changed; the teams cannot have.
    let related = if changed_doc { related.with_managers_of(tx, org_id, &loaded).await? } else { related };
    Ok((loaded, related))
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
    let loaded = load(tx, org_id, id).await?;
    if if_match.is_some() {
        let related = Related::load(tx, org_id, &[&loaded]).await?;
        let current = render(state, &loaded, &related);
        list::check_if_match(if_match, &current.version)?;
    }
    ctx.require_may_manage(&loaded.membership)?;
    if loaded.active() {
        ensure_not_last_owner(tx, org_id, &loaded.membership).await?;
    }
    let user_id = loaded.row.user_id;
    scim_user::Entity::delete_by_id(id).exec(tx).await?;
    membership::Entity::delete_by_id(loaded.membership.id).exec(tx).await?;
    crate::teams::service::remove_from_all(tx, org_id, user_id).await?;
    members::service::revoke_access(tx, org_id, user_id, now, "scim_deleted").await?;
    let elsewhere =
        membership::Entity::find().filter(membership::Column::UserId.eq(user_id)).count(tx).await?;
    let account = user::Entity::find_by_id(user_id).one(tx).await?;
    // Only an identity this org's directory made goes with its last membership.
    let account_deleted = elsewhere == 0
        && account
            .as_ref()
            .is_some_and(|u| u.provisioned_by_org_id == Some(org_id) && u.password_hash.is_none());
    if account_deleted {
        user::Entity::delete_by_id(user_id).exec(tx).await?;
    }
    let deleted = ScimUserDeleted {
        user_id,
        scim_id: id,
        user_name: loaded.row.attributes.get("userName").and_then(Value::as_str).map(str::to_string),
        account_deleted,
    };
    changes::record(tx, ctx, Event::ScimUserDeleted(deleted)).await?;
    credentials::reconcile(tx, ctx).await?;
    Ok(())
}

/// Whether the membership of `user_id` in `org_id` is managed by the directory.
pub async fn is_directory_managed<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<bool, ApiError> {
    Ok(scim_user::Entity::find()
        .filter(scim_user::Column::OrgId.eq(org_id))
        .filter(scim_user::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// The error the org API answers when an admin changes what the directory manages.
pub fn directory_managed(what: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Conflict,
        "DIRECTORY_MANAGED",
        format!(
            "{what} is managed by the organization's directory (SCIM); change it in the identity provider"
        ),
    )
}
