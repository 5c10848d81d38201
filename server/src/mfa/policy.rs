//! `require_mfa`: an org that requires MFA (its own setting, else the instance's) issues no
//! credential for itself, and lets no session act in it, until the member has a second factor
//! and used it in that session. Service accounts are exempt: they have no second factor.

use guildhall_entities::{membership, org};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    auth::{Credential, Principal},
    error::ApiError,
    instance,
    orgs::{self, ActiveOrg, MembershipStatus},
};

pub fn mfa_required() -> ApiError {
    ApiError::forbidden(
        "MFA_REQUIRED",
        "this organization requires multi-factor authentication: enrol an authenticator at \
         POST /api/v1/auth/mfa/totp and sign in with it",
    )
}

/// The effective `require_mfa` of `org`, given the instance settings.
pub fn org_requires(org: &org::Model, instance: &instance::service::Settings) -> bool {
    org.require_mfa.unwrap_or(instance.require_mfa)
}

/// The effective `require_mfa` of `org`; reads the instance settings only when the org has no
/// setting of its own.
pub async fn requires<C: ConnectionTrait>(db: &C, org: &org::Model) -> Result<bool, ApiError> {
    match org.require_mfa {
        Some(own) => Ok(own),
        None => Ok(instance::service::get(db).await?.require_mfa),
    }
}

pub async fn requires_by_id<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<bool, ApiError> {
    match org::Entity::find_by_id(org_id).one(db).await? {
        Some(org) => requires(db, &org).await,
        None => Ok(false),
    }
}

/// Refuses a session that has not passed MFA in an org that requires it. Personal tokens are
/// checked when they authenticate (`tokens::service::authenticate`).
pub async fn check_session<C: ConnectionTrait>(
    db: &C,
    principal: &Principal,
    org_id: Uuid,
) -> Result<(), ApiError> {
    let unproven = matches!(principal.credential, Credential::Session { .. }) && principal.mfa_at.is_none();
    if unproven && requires_by_id(db, org_id).await? {
        return Err(mfa_required());
    }
    Ok(())
}

/// The org a new session starts in. With MFA passed, the usual one (the default org, else the
/// first joined); without, the first of those that does not require MFA, else no org, so the
/// user can still enrol an authenticator.
pub async fn starting_org<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    default_org: Option<Uuid>,
    mfa_passed: bool,
) -> Result<Option<ActiveOrg>, ApiError> {
    if mfa_passed {
        return orgs::service::starting_org(db, user_id, default_org).await;
    }
    let instance = instance::service::get(db).await?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .order_by_asc(membership::Column::CreatedAt)
        .find_also_related(org::Entity)
        .all(db)
        .await?;
    let mut open: Vec<(membership::Model, org::Model)> = memberships
        .into_iter()
        .filter_map(|(m, o)| o.filter(|o| !org_requires(o, &instance)).map(|o| (m, o)))
        .collect();
    // The default org first, if it is among them; the sort is stable, so the rest keep order.
    open.sort_by_key(|(_, o)| Some(o.id) != default_org);
    Ok(open.into_iter().next().map(|(m, o)| ActiveOrg { id: o.id, name: o.name, slug: o.slug, role: m.role }))
}
