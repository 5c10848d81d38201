//! Managing orgs: create, read, change, delete, switch into, transfer ownership, list.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use guildhall_entities::{instance_settings, membership, org, session, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Func, Order},
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    ActiveOrg, MembershipStatus,
    service::{self, NewOrg},
    settings::{self, Branding, OrgAuthSettings},
    types::OrgOrder,
};
use crate::{
    AppState,
    audit::Actor,
    auth::{Credential, OrgContext, Principal},
    changes::{
        self, Event,
        catalog::{
            OrgCreated, OrgDeleted, OrgOwnershipTransferred, OrgSelected, OrgUpdated, OwnershipParty,
            TextChange, ValueChange,
        },
    },
    db,
    error::ApiError,
    http::RequestMeta,
    instance, permissions,
    scope::{OrgId, Origin, Scope},
    sessions::service::{self as sessions, SignedIn},
    users,
};

/// An org as its reader sees it: the row, the instance defaults it inherits, the reader's role.
pub struct OrgView {
    pub org: org::Model,
    pub instance: instance_settings::Model,
    pub role: String,
}

pub async fn view(state: &AppState, ctx: &OrgContext) -> Result<OrgView, ApiError> {
    let instance = instance::service::get(&state.db).await?;
    Ok(OrgView { org: ctx.org().clone(), instance, role: ctx.role().to_string() })
}

/// Opens a new session in `org` (the scope's org) for `user_id` and signs its first pair. The
/// user's next sign-in starts in this org too. The new session keeps the caller's MFA
/// (`mfa_at`); without it, an org that requires MFA is refused.
async fn switch_into(
    state: &AppState,
    scope: &Scope,
    user_id: Uuid,
    org: ActiveOrg,
    authn: sessions::Authn,
) -> Result<SignedIn, ApiError> {
    let now = scope.now();
    let tx = db::begin_write(&state.writer).await?;
    if authn.mfa_at.is_none() && crate::mfa::policy::requires_by_id(&tx, org.id).await? {
        return Err(crate::mfa::policy::mfa_required());
    }
    let user = users::service::get(&tx, user_id).await?;
    let mut row = user.into_active_model();
    row.default_org_id = Set(Some(org.id));
    let user = row.update(&tx).await?;
    let (session_id, refresh) =
        sessions::start_session_with(&tx, state, now, user.id, Some(org.id), authn).await?;
    let selected = OrgSelected { user_id: user.id, session_id };
    changes::record(&tx, &scope.as_actor(Actor::User(user.id)), Event::OrgSelected(selected)).await?;
    tx.commit().await?;
    let access_token = sessions::sign_access(state, now, &user, Some(&org), session_id, &authn).await?;
    Ok(SignedIn {
        access_token,
        refresh_token: refresh,
        expires_in: state.config.tokens.access_ttl_seconds,
        user,
        org: Some(org),
    })
}

/// Creates an org owned by the caller and signs them into it.
pub async fn create(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
    new: NewOrg,
) -> Result<(OrgView, SignedIn), ApiError> {
    principal.require_session()?;
    // The caller is signed into the new org: refuse up front if it would require MFA.
    if principal.mfa_at.is_none()
        && new.auth.require_mfa.unwrap_or(instance::service::get(&state.db).await?.require_mfa)
    {
        return Err(crate::mfa::policy::mfa_required());
    }
    let origin = Origin::new(principal.actor(), meta.clone(), state.clock.clone());
    let now = origin.now();
    let tx = db::begin_write(&state.writer).await?;
    let row = service::insert(&tx, now, new, principal.user_id).await?;
    // Recorded in the new org's own chain.
    let scope = origin.in_org(OrgId::of(&row));
    let created = OrgCreated { org_id: row.id, name: row.name.clone(), slug: row.slug.clone() };
    changes::record(&tx, &scope, Event::OrgCreated(created)).await?;
    tx.commit().await?;
    let active = ActiveOrg {
        id: row.id,
        name: row.name.clone(),
        slug: row.slug.clone(),
        role: permissions::OWNER.into(),
    };
    let signed_in = switch_into(state, &scope, principal.user_id, active, principal.authn()).await?;
    let instance = instance::service::get(&state.db).await?;
    Ok((OrgView { org: row, instance, role: permissions::OWNER.into() }, signed_in))
}

/// Switches the caller's active org: a new token pair whose `org_role` is their role there.
/// (In an org that requires MFA, the context already refused a session without it.)
pub async fn select(state: &AppState, ctx: &OrgContext) -> Result<SignedIn, ApiError> {
    ctx.principal().require_session()?;
    let org = ctx.org();
    let active = ActiveOrg {
        id: org.id,
        name: org.name.clone(),
        slug: org.slug.clone(),
        role: ctx.role().to_string(),
    };
    switch_into(state, ctx, ctx.principal().user_id, active, ctx.principal().authn()).await
}

/// A partial change: `None` leaves a field alone; `Some(None)` clears an optional one.
#[derive(Debug, Default)]
pub struct OrgChange {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub metadata: Option<String>,
    pub max_users: Option<Option<i32>>,
    pub data_retention_days: Option<i32>,
    pub logo_url: Option<Option<String>>,
    pub primary_color: Option<Option<String>>,
    pub welcome_text: Option<Option<String>>,
    pub password_min_length: Option<Option<i32>>,
    pub require_mfa: Option<Option<bool>>,
    pub session_ttl_minutes: Option<Option<i32>>,
    pub max_login_attempts: Option<Option<i32>>,
    pub lockout_minutes: Option<Option<i32>>,
}

pub async fn update(state: &AppState, ctx: &OrgContext, change: OrgChange) -> Result<OrgView, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let before = org::Entity::find_by_id(ctx.org_id()).one(&tx).await?.ok_or_else(ApiError::not_found)?;
    if let Some(Some(limit)) = change.max_users {
        let members = crate::members::service::count(&tx, ctx.org_id()).await?;
        if u64::try_from(limit).unwrap_or(0) < members {
            return Err(ApiError::validation(
                "max_users",
                format!("is below the current member count ({members})"),
            ));
        }
    }
    // Requiring MFA without an authenticator of one's own would lock the caller out of the org.
    if change.require_mfa == Some(Some(true))
        && !crate::mfa::service::has_confirmed(&tx, ctx.principal().user_id).await?
    {
        return Err(ApiError::conflict(
            "MFA_ENROLMENT_REQUIRED",
            "enrol an authenticator (POST /api/v1/auth/mfa/totp) before requiring MFA for the organization",
        ));
    }
    let mut row = before.clone().into_active_model();
    let mut payload = OrgUpdated { org_id: ctx.org_id(), ..OrgUpdated::default() };
    let mut changed = false;
    macro_rules! apply {
        ($field:ident) => {
            if let Some(value) = change.$field
                && value != before.$field
            {
                payload.$field = Some(ValueChange::new(&before.$field, &value));
                row.$field = Set(value);
                changed = true;
            }
        };
    }
    apply!(name);
    apply!(slug);
    apply!(max_users);
    apply!(data_retention_days);
    apply!(logo_url);
    apply!(primary_color);
    apply!(welcome_text);
    apply!(password_min_length);
    apply!(require_mfa);
    apply!(session_ttl_minutes);
    apply!(max_login_attempts);
    apply!(lockout_minutes);
    if let Some(metadata) = change.metadata
        && metadata != before.metadata
    {
        let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
        payload.metadata = Some(ValueChange { from: parse(&before.metadata), to: parse(&metadata) });
        row.metadata = Set(metadata);
        changed = true;
    }
    if !changed {
        return view(state, ctx).await;
    }
    row.updated_at = Set(now);
    let after = row.update(&tx).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("SLUG_TAKEN", "that slug is taken")
        }
        _ => e.into(),
    })?;
    changes::record(&tx, ctx, Event::OrgUpdated(payload)).await?;
    tx.commit().await?;
    let instance = instance::service::get(&state.db).await?;
    Ok(OrgView { org: after, instance, role: ctx.role().to_string() })
}

/// Deletes the org with everything that belongs to it.
pub async fn delete(state: &AppState, ctx: &OrgContext) -> Result<(), ApiError> {
    ctx.require_owner()?;
    let principal = ctx.principal();
    if principal.org.as_ref().map(|o| o.id) == Some(ctx.org_id()) {
        return Err(ApiError::conflict(
            "CURRENT_ORG",
            "you cannot delete the org you are signed into; switch to another org first",
        ));
    }
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let other_orgs = membership::Entity::find()
        .filter(membership::Column::UserId.eq(principal.user_id))
        .filter(membership::Column::OrgId.ne(ctx.org_id()))
        .count(&tx)
        .await?;
    if other_orgs == 0 {
        return Err(ApiError::conflict("LAST_ORG", "you would be left without an org"));
    }
    // Members whose only org this is would be left without one.
    let stranded: Vec<Uuid> = sole_org_members(&tx, ctx.org_id()).await?;
    if !stranded.is_empty() {
        return Err(ApiError::conflict(
            "MEMBERS_WOULD_BE_ORPHANED",
            format!("{} member(s) belong to no other org; remove them first", stranded.len()),
        ));
    }
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokeReason, Expr::value("org_deleted"))
        .filter(session::Column::OrgId.eq(ctx.org_id()))
        .filter(session::Column::RevokedAt.is_null())
        .exec(&tx)
        .await?;
    user::Entity::update_many()
        .col_expr(user::Column::DefaultOrgId, Expr::value(Option::<Uuid>::None))
        .filter(user::Column::DefaultOrgId.eq(ctx.org_id()))
        .exec(&tx)
        .await?;
    let accounts = service_accounts(&tx, ctx.org_id()).await?;
    if !accounts.is_empty() {
        user::Entity::delete_many().filter(user::Column::Id.is_in(accounts)).exec(&tx).await?;
    }
    org::Entity::delete_by_id(ctx.org_id()).exec(&tx).await?;
    // The org's own chain goes with it; the deletion is recorded at instance level.
    let deleted =
        OrgDeleted { org_id: ctx.org_id(), name: ctx.org().name.clone(), slug: ctx.org().slug.clone() };
    changes::record_instance(&tx, ctx.origin(), Event::OrgDeleted(deleted)).await?;
    tx.commit().await?;
    Ok(())
}

/// The org's service accounts (users of kind `service`), which live and die with it.
async fn service_accounts<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .inner_join(user::Entity)
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(user::Column::Kind.eq(users::service::KIND_SERVICE))
        .into_tuple()
        .all(db)
        .await?)
}

/// People for whom this org is the only one.
async fn sole_org_members<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let members: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::UserId)
        .inner_join(user::Entity)
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(user::Column::Kind.eq(users::service::KIND_HUMAN))
        .into_tuple()
        .all(db)
        .await?;
    let mut stranded = Vec::new();
    for user_id in members {
        let elsewhere = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::OrgId.ne(org_id))
            .count(db)
            .await?;
        if elsewhere == 0 {
            stranded.push(user_id);
        }
    }
    Ok(stranded)
}

/// Makes `to` an owner and the caller an admin.
pub async fn transfer(state: &AppState, ctx: &OrgContext, to: Uuid) -> Result<(), ApiError> {
    ctx.require_owner()?;
    let from = ctx.principal().user_id;
    if to == from {
        return Err(ApiError::validation("user_id", "you already own this org"));
    }
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let target = crate::scope::scoped::<membership::Entity>(ctx)
        .filter(membership::Column::UserId.eq(to))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .one(&tx)
        .await?
        .ok_or_else(|| ApiError::validation("user_id", "is not an active member of this org"))?;
    let previous = target.role.clone();
    for (user_id, role) in [(to, permissions::OWNER), (from, permissions::ADMIN)] {
        membership::Entity::update_many()
            .col_expr(membership::Column::Role, Expr::value(role))
            .col_expr(membership::Column::UpdatedAt, Expr::value(now))
            .filter(membership::Column::OrgId.eq(ctx.org_id()))
            .filter(membership::Column::UserId.eq(user_id))
            .exec(&tx)
            .await?;
    }
    let transferred = OrgOwnershipTransferred {
        from: OwnershipParty {
            user_id: from,
            role: TextChange { from: permissions::OWNER.into(), to: permissions::ADMIN.into() },
        },
        to: OwnershipParty {
            user_id: to,
            role: TextChange { from: previous, to: permissions::OWNER.into() },
        },
    };
    changes::record(&tx, ctx, Event::OrgOwnershipTransferred(transferred)).await?;
    crate::credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(())
}

/// The position after which a page of orgs starts.
#[derive(serde::Serialize, serde::Deserialize)]
struct OrgCursor {
    name: Option<String>,
    id: Uuid,
}

fn encode_cursor(c: &OrgCursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default())
}

fn decode_cursor(text: &str) -> Result<OrgCursor, ApiError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| ApiError::validation("cursor", "is not a cursor from this API"))
}

pub struct OrgListing {
    pub data: Vec<OrgView>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// The caller's orgs (a personal token sees only its own), filtered by a part of the name.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    name: Option<&str>,
    order: OrgOrder,
    limit: u64,
    cursor: Option<&str>,
) -> Result<OrgListing, ApiError> {
    let mut query = membership::Entity::find()
        .find_also_related(org::Entity)
        .filter(membership::Column::UserId.eq(principal.user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .limit(limit + 1);
    if let (Credential::PersonalToken { .. }, Some(o)) = (principal.credential, &principal.org) {
        query = query.filter(org::Column::Id.eq(o.id));
    }
    if let Some(name) = name {
        query = query.filter(db::contains_ci((org::Entity, org::Column::Name), name));
    }
    let after = cursor.filter(|c| !c.is_empty()).map(decode_cursor).transpose()?;
    query = match order {
        OrgOrder::Created => {
            if let Some(c) = &after {
                query = query.filter(org::Column::Id.gt(c.id));
            }
            query.order_by_asc(org::Column::Id)
        }
        OrgOrder::Name => {
            // Case-insensitive A to Z, ties broken by id; the cursor holds the lowercased name.
            let lower_name = || Func::lower(Expr::col((org::Entity, org::Column::Name)));
            if let Some(c) = &after {
                let name = c.name.clone().unwrap_or_default();
                query = query.filter(
                    Condition::any()
                        .add(lower_name().gt(name.clone()))
                        .add(Condition::all().add(lower_name().eq(name)).add(org::Column::Id.gt(c.id))),
                );
            }
            query.order_by(lower_name(), Order::Asc).order_by_asc(org::Column::Id)
        }
    };
    let rows = query.all(&state.db).await?;
    let has_more = rows.len() as u64 > limit;
    let instance = instance::service::get(&state.db).await?;
    let data: Vec<OrgView> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .filter_map(|(m, o)| o.map(|org| OrgView { org, instance: instance.clone(), role: m.role }))
        .collect();
    let next_cursor = if has_more {
        data.last().map(|v| {
            encode_cursor(&OrgCursor {
                name: (order == OrgOrder::Name).then(|| v.org.name.to_lowercase()),
                id: v.org.id,
            })
        })
    } else {
        None
    };
    Ok(OrgListing { data, next_cursor, has_more })
}

pub fn effective(view: &OrgView) -> (Branding, Branding, OrgAuthSettings, OrgAuthSettings) {
    (
        settings::branding(&view.org),
        settings::effective_branding(&view.org, &view.instance),
        settings::auth_settings(&view.org),
        settings::effective_auth_settings(&view.org, &view.instance),
    )
}
