use chrono::{DateTime, Utc};
use guildhall_entities::{api_token, membership, session, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{MemberAdded, MemberLeft, MemberRemoved, MemberRoleChanged, TextChange},
    },
    credentials, db,
    error::ApiError,
    orgs::MembershipStatus,
    paging::PageRequest,
    permissions::{self, Permission},
    provisioning::{self, Consent, JoinOutcome},
    roles,
    scope::scoped,
    users::{self, UserStatus},
};

/// A member as the API shows them.
pub struct Member {
    pub membership: membership::Model,
    pub email: String,
    /// The identity a directory made, waiting for the holder of `email` to claim it.
    pub unclaimed: bool,
}

impl Member {
    pub fn of(membership: membership::Model, account: user::Model) -> Self {
        match account.unclaimed_email {
            Some(email) => Self { membership, email, unclaimed: true },
            None => Self { membership, email: account.email, unclaimed: false },
        }
    }
}

/// People in the org (service accounts do not count against `max_users`).
pub async fn count<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, ApiError> {
    Ok(membership::Entity::find()
        .inner_join(user::Entity)
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(user::Column::Kind.eq(users::service::KIND_HUMAN))
        .count(db)
        .await?)
}

#[derive(Debug, Default)]
pub struct MemberFilter {
    pub role: Option<String>,
    pub status: Option<MembershipStatus>,
    pub email: Option<String>,
}

pub async fn list(
    state: &AppState,
    ctx: &OrgContext,
    filter: &MemberFilter,
    page: PageRequest,
) -> Result<(Vec<Member>, Option<String>, bool), ApiError> {
    let mut query = scoped::<membership::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(user::Column::Kind.eq(users::service::KIND_HUMAN))
        .order_by_asc(membership::Column::Id)
        .limit(page.fetch());
    if let Some(role) = &filter.role {
        query = query.filter(membership::Column::Role.eq(role.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(membership::Column::Status.eq(status.as_str()));
    }
    if let Some(email) = &filter.email {
        // An unclaimed identity is known by the address its directory gave.
        query = query.filter(
            sea_orm::Condition::any()
                .add(db::contains_ci((user::Entity, user::Column::Email), email))
                .add(db::contains_ci((user::Entity, user::Column::UnclaimedEmail), email)),
        );
    }
    if let Some(after) = page.after {
        query = query.filter(membership::Column::Id.gt(after));
    }
    let rows = query.all(&state.db).await?;
    let members: Vec<Member> = rows.into_iter().filter_map(|(m, u)| u.map(|u| Member::of(m, u))).collect();
    Ok(page.finish(members, |m| m.membership.id))
}

async fn find<C: ConnectionTrait>(db: &C, ctx: &OrgContext, user_id: Uuid) -> Result<Member, ApiError> {
    let (m, u) = scoped::<membership::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(membership::Column::UserId.eq(user_id))
        .filter(user::Column::Kind.eq(users::service::KIND_HUMAN))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let u = u.ok_or_else(ApiError::not_found)?;
    Ok(Member::of(m, u))
}

pub async fn get(state: &AppState, ctx: &OrgContext, user_id: Uuid) -> Result<Member, ApiError> {
    find(&state.db, ctx, user_id).await
}

/// Whether the caller may give or take away `role`.
pub async fn check_role_assignable<C: ConnectionTrait>(
    db: &C,
    ctx: &OrgContext,
    role: &str,
) -> Result<(), ApiError> {
    if !roles::service::exists(db, ctx.org_id(), role).await? {
        return Err(ApiError::validation("role", format!("`{role}` is not a role of this org")));
    }
    if role == permissions::OWNER {
        return ctx.require_owner();
    }
    // Nobody hands out more than they hold (`permissions::covers`).
    let granted = roles::service::permissions_of(db, ctx.org_id(), role).await?;
    if let Some(missing) = granted.difference(ctx.permissions()).next() {
        return Err(ApiError::forbidden(
            "PERMISSION_NOT_HELD",
            format!("the role `{role}` grants `{}`, which you do not hold", missing.as_str()),
        ));
    }
    Ok(())
}

async fn owner_count<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, ApiError> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::Role.eq(permissions::OWNER))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .count(db)
        .await?)
}

/// Fails when the org is full. Every way in (add, invitation, domain join, SSO, SCIM) calls it.
pub async fn check_capacity<C: ConnectionTrait>(
    db: &C,
    org: &guildhall_entities::org::Model,
) -> Result<(), ApiError> {
    if let Some(limit) = org.max_users {
        let members = count(db, org.id).await?;
        if members >= u64::try_from(limit).unwrap_or(0) {
            return Err(ApiError::conflict(
                "MAX_USERS_REACHED",
                format!("the org is limited to {limit} members"),
            ));
        }
    }
    Ok(())
}

pub enum UserRef {
    Id(Uuid),
    Email(String),
}

/// Adds an existing user to the org with `role`.
pub async fn add(state: &AppState, ctx: &OrgContext, who: UserRef, role: String) -> Result<Member, ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    check_role_assignable(&tx, ctx, &role).await?;
    // Only the org's verified domains allow adding without the person's consent, and the
    // answer outside them is the same whether or not the address has an account.
    let user = match who {
        UserRef::Id(id) => match user::Entity::find_by_id(id).one(&tx).await? {
            Some(user) if crate::domains::service::verified_for(&tx, ctx.org_id(), &user.email).await? => {
                user
            }
            _ => return Err(provisioning::consent_required()),
        },
        UserRef::Email(email) => {
            if !crate::domains::service::verified_for(&tx, ctx.org_id(), &email).await? {
                return Err(provisioning::consent_required());
            }
            users::service::find_by_email(&tx, &email).await?.ok_or_else(|| {
                ApiError::validation("email", "no account has this address yet; invite them instead")
            })?
        }
    };
    if UserStatus::parse(&user.status) == Some(UserStatus::Disabled) {
        return Err(ApiError::conflict("USER_DISABLED", "the user is disabled"));
    }
    let membership =
        match provisioning::admit(&tx, ctx, ctx.org(), &user, &role, Consent::VerifiedDomain).await? {
            JoinOutcome::Joined(m) => m,
            JoinOutcome::AlreadyMember(_) => {
                return Err(ApiError::conflict("ALREADY_MEMBER", "the user is already a member of this org"));
            }
        };
    let added = MemberAdded { user_id: user.id, email: user.email.clone(), role: role.clone() };
    changes::record(&tx, ctx, Event::MemberAdded(added)).await?;
    tx.commit().await?;
    Ok(Member::of(membership, user))
}

pub async fn change_role(
    state: &AppState,
    ctx: &OrgContext,
    user_id: Uuid,
    role: String,
) -> Result<Member, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let member = find(&tx, ctx, user_id).await?;
    let from = member.membership.role.clone();
    if from == role {
        return Ok(member);
    }
    check_role_assignable(&tx, ctx, &role).await?;
    if crate::mapping::service::derives_roles(&tx, ctx.org()).await?
        && crate::scim::users::is_directory_managed(&tx, ctx.org_id(), user_id).await?
    {
        return Err(crate::scim::users::directory_managed(
            "this member's role (it follows their directory groups)",
        ));
    }
    // Taking a role away needs the same standing as granting it.
    check_role_assignable(&tx, ctx, &from).await.map_err(|e| match e.kind() {
        crate::error::ErrorKind::Validation => e,
        _ => ApiError::forbidden(
            "FORBIDDEN",
            format!("you cannot change the role of a member who is `{from}`"),
        ),
    })?;
    if from == permissions::OWNER && owner_count(&tx, ctx.org_id()).await? <= 1 {
        return Err(ApiError::conflict("LAST_OWNER", "an org must keep at least one owner"));
    }
    membership::Entity::update_many()
        .col_expr(membership::Column::Role, Expr::value(role.clone()))
        .col_expr(membership::Column::UpdatedAt, Expr::value(now))
        .filter(membership::Column::Id.eq(member.membership.id))
        .exec(&tx)
        .await?;
    let changed = MemberRoleChanged { user_id, role: TextChange { from: from.clone(), to: role.clone() } };
    changes::record(&tx, ctx, Event::MemberRoleChanged(changed)).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    let mut updated = member;
    updated.membership.role = role;
    updated.membership.updated_at = now;
    Ok(updated)
}

/// Removes a member; a member removing themself is leaving and needs no permission.
pub async fn remove(state: &AppState, ctx: &OrgContext, user_id: Uuid) -> Result<(), ApiError> {
    let leaving = ctx.principal().user_id == user_id;
    if !leaving {
        ctx.require(Permission::MembersWrite)?;
    }
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let member = find(&tx, ctx, user_id).await?;
    if crate::scim::users::is_directory_managed(&tx, ctx.org_id(), user_id).await? {
        return Err(crate::scim::users::directory_managed("this membership"));
    }
    // Removing someone takes their role away: it needs the standing that granting it takes.
    if !leaving {
        check_role_assignable(&tx, ctx, &member.membership.role).await.map_err(|e| match e.code() {
            "OWNER_REQUIRED" => e,
            _ => ApiError::forbidden(
                "PERMISSION_NOT_HELD",
                format!("you cannot remove a member who is `{}`", member.membership.role),
            ),
        })?;
    }
    if member.membership.role == permissions::OWNER && owner_count(&tx, ctx.org_id()).await? <= 1 {
        return Err(ApiError::conflict(
            "LAST_OWNER",
            "the last owner cannot leave or be removed; transfer ownership first",
        ));
    }
    let elsewhere = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::OrgId.ne(ctx.org_id()))
        .count(&tx)
        .await?;
    if elsewhere == 0 {
        return Err(ApiError::conflict(
            "LAST_ORG",
            "every user keeps at least one org; this is the member's only one",
        ));
    }
    membership::Entity::delete_by_id(member.membership.id).exec(&tx).await?;
    crate::teams::service::remove_from_all(&tx, ctx.org_id(), user_id).await?;
    revoke_access(&tx, ctx.org_id(), user_id, now, "membership_removed").await?;
    let (email, role) = (member.email.clone(), member.membership.role.clone());
    let event = if leaving {
        Event::MemberLeft(MemberLeft { user_id, email, role })
    } else {
        Event::MemberRemoved(MemberRemoved { user_id, email, role, reason: None })
    };
    changes::record(&tx, ctx, event).await?;
    credentials::reconcile(&tx, ctx).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a user's sessions in an org and removes their tokens for it.
pub async fn revoke_access<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), ApiError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokeReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::OrgId.eq(org_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::OrgId.eq(org_id))
        .exec(db)
        .await?;
    Ok(())
}
