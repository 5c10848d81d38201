use chrono::{DateTime, Utc};
use guildhall_entities::{api_token, membership, org, session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    AppState,
    audit::Actor,
    changes::{
        self, Event,
        catalog::{
            MemberRemoved, OrgCreated, TextChange, UserCreated, UserDeleted, UserPromotedToAdmin,
            UserStatusChanged,
        },
    },
    db,
    error::ApiError,
    http::RequestMeta,
    paging::PageRequest,
    permissions,
    scope::{OrgId, Origin},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Pending,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

pub const KIND_HUMAN: &str = "human";
pub const KIND_SERVICE: &str = "service";

pub struct NewUser {
    pub email: String,
    pub password_hash: Option<String>,
    pub status: UserStatus,
    pub is_instance_admin: bool,
    /// The org whose directory made this identity, and the address it was given when that lies
    /// outside the org's verified domains (see `provisioning`).
    pub provisioned_by_org_id: Option<Uuid>,
    pub unclaimed_email: Option<String>,
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    new: NewUser,
) -> Result<user::Model, ApiError> {
    let row = user::Model {
        id: Uuid::now_v7(),
        email: new.email,
        password_hash: new.password_hash,
        status: new.status.as_str().into(),
        is_instance_admin: new.is_instance_admin,
        failed_logins: 0,
        locked_until: None,
        default_org_id: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        email_verified_at: None,
        kind: KIND_HUMAN.into(),
        display_name: None,
        provisioned_by_org_id: new.provisioned_by_org_id,
        unclaimed_email: new.unclaimed_email,
    };
    user::Entity::insert(row.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                ApiError::conflict("EMAIL_TAKEN", "an account with this email already exists")
            }
            _ => e.into(),
        })?;
    Ok(row)
}

/// An account a signup may claim by proving the address: a person's, with no password, never
/// proved and not disabled (a directory or an org's verified domain made it).
pub fn is_claimable(account: &user::Model) -> bool {
    account.kind == KIND_HUMAN
        && account.password_hash.is_none()
        && account.email_verified_at.is_none()
        && UserStatus::parse(&account.status) != Some(UserStatus::Disabled)
}

pub async fn find_by_email<C: ConnectionTrait>(db: &C, email: &str) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find().filter(user::Column::Email.eq(email)).one(db).await?)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id).one(db).await?.ok_or_else(ApiError::not_found)
}

pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, ApiError> {
    Ok(user::Entity::find().count(db).await?)
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub status: Option<UserStatus>,
    /// Substring of the email, lowercased.
    pub email: Option<String>,
}

pub async fn list(
    state: &AppState,
    filter: &UserFilter,
    page: PageRequest,
) -> Result<(Vec<user::Model>, Option<String>, bool), ApiError> {
    let mut query = user::Entity::find()
        .filter(user::Column::Kind.eq(KIND_HUMAN))
        .order_by_asc(user::Column::Id)
        .limit(page.fetch());
    if let Some(status) = filter.status {
        query = query.filter(user::Column::Status.eq(status.as_str()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(db::contains_ci((user::Entity, user::Column::Email), email));
    }
    if let Some(after) = page.after {
        query = query.filter(user::Column::Id.gt(after));
    }
    let rows = query.all(&state.db).await?;
    Ok(page.finish(rows, |u| u.id))
}

/// Revokes every live session of a user and removes their personal tokens.
pub async fn revoke_credentials<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), ApiError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokeReason, Expr::value(reason))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    api_token::Entity::delete_many().filter(api_token::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(())
}

async fn other_active_admins<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u64, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::IsInstanceAdmin.eq(true))
        .filter(user::Column::Status.eq(UserStatus::Active.as_str()))
        .filter(user::Column::Id.ne(user_id))
        .count(db)
        .await?)
}

/// An admin action on one user: what it requires and what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAction {
    Approve,
    Disable,
    Enable,
}

pub async fn apply(
    state: &AppState,
    origin: &Origin,
    user_id: Uuid,
    action: AdminAction,
) -> Result<user::Model, ApiError> {
    let now = origin.now();
    let tx = db::begin_write(&state.writer).await?;
    let target = get(&tx, user_id).await?;
    let status = UserStatus::parse(&target.status);
    let (to, variant): (_, fn(UserStatusChanged) -> Event) = match (action, status) {
        (AdminAction::Approve, Some(UserStatus::Pending)) => (UserStatus::Active, Event::UserApproved),
        (AdminAction::Approve, _) => {
            return Err(ApiError::conflict("NOT_PENDING", "only a pending user can be approved"));
        }
        (AdminAction::Enable, Some(UserStatus::Disabled)) => (UserStatus::Active, Event::UserEnabled),
        (AdminAction::Enable, _) => {
            return Err(ApiError::conflict("NOT_DISABLED", "only a disabled user can be enabled"));
        }
        (AdminAction::Disable, Some(UserStatus::Disabled)) => {
            return Err(ApiError::conflict("ALREADY_DISABLED", "the user is already disabled"));
        }
        (AdminAction::Disable, _) => {
            if target.is_instance_admin && other_active_admins(&tx, user_id).await? == 0 {
                return Err(ApiError::conflict(
                    "LAST_INSTANCE_ADMIN",
                    "the last active instance admin cannot be disabled",
                ));
            }
            revoke_credentials(&tx, user_id, now, "user_disabled").await?;
            (UserStatus::Disabled, Event::UserDisabled)
        }
    };
    let from = target.status.clone();
    let mut row = target.into_active_model();
    row.status = Set(to.as_str().into());
    row.updated_at = Set(now);
    let updated = row.update(&tx).await?;
    if to == UserStatus::Disabled {
        let org_ids: Vec<Uuid> = membership::Entity::find()
            .select_only()
            .column(membership::Column::OrgId)
            .filter(membership::Column::UserId.eq(user_id))
            .into_tuple()
            .all(&tx)
            .await?;
        crate::credentials::reconcile_orgs_of(&tx, origin, &org_ids).await?;
    }
    let status = TextChange { from, to: to.as_str().into() };
    changes::record_instance(&tx, origin, variant(UserStatusChanged { user_id, status })).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes a user with their memberships, sessions and tokens. Orgs where they are the only
/// member go with them; an org where they are the only owner but not the only member blocks it.
pub async fn delete(state: &AppState, origin: &Origin, user_id: Uuid) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let target = get(&tx, user_id).await?;
    if target.is_instance_admin && other_active_admins(&tx, user_id).await? == 0 {
        return Err(ApiError::conflict("LAST_INSTANCE_ADMIN", "the last instance admin cannot be deleted"));
    }
    let owned: Vec<Uuid> = membership::Entity::find()
        .select_only()
        .column(membership::Column::OrgId)
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Role.eq(permissions::OWNER))
        .into_tuple()
        .all(&tx)
        .await?;
    let mut solo_orgs = Vec::new();
    for org_id in owned {
        let others = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org_id))
            .filter(membership::Column::UserId.ne(user_id))
            .count(&tx)
            .await?;
        if others == 0 {
            solo_orgs.push(org_id);
            continue;
        }
        let other_owners = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org_id))
            .filter(membership::Column::UserId.ne(user_id))
            .filter(membership::Column::Role.eq(permissions::OWNER))
            .count(&tx)
            .await?;
        if other_owners == 0 {
            return Err(ApiError::conflict(
                "SOLE_OWNER",
                format!("the user is the only owner of org {org_id}; transfer its ownership first"),
            ));
        }
    }
    if !solo_orgs.is_empty() {
        org::Entity::delete_many().filter(org::Column::Id.is_in(solo_orgs.clone())).exec(&tx).await?;
    }
    // Every org that loses a member says so in its own log.
    let memberships: Vec<membership::Model> =
        membership::Entity::find().filter(membership::Column::UserId.eq(user_id)).all(&tx).await?;
    let org_ids: Vec<Uuid> = memberships.iter().map(|m| m.org_id).collect();
    for m in memberships {
        let removed = MemberRemoved {
            user_id,
            email: target.email.clone(),
            role: m.role,
            reason: Some("account_deleted".into()),
        };
        changes::record(&tx, &origin.in_org(OrgId::stored(m.org_id)), Event::MemberRemoved(removed)).await?;
    }
    user::Entity::delete_by_id(user_id).exec(&tx).await?;
    crate::credentials::reconcile_orgs_of(&tx, origin, &org_ids).await?;
    let deleted = UserDeleted { user_id, email: target.email, deleted_orgs: solo_orgs };
    changes::record_instance(&tx, origin, Event::UserDeleted(deleted)).await?;
    tx.commit().await?;
    Ok(())
}

/// What `guildhall admin create` did.
pub enum Bootstrap {
    Created { generated_password: Option<String> },
    Promoted,
}

/// Creates an active instance admin (with an org of their own), or promotes an existing user.
pub async fn bootstrap_admin(
    state: &AppState,
    meta: &RequestMeta,
    email_raw: &str,
    password: Option<String>,
) -> Result<Bootstrap, ApiError> {
    let email = super::email::normalize("email", email_raw)?;
    let origin = Origin::new(Actor::System, meta.clone(), state.clock.clone());
    let now = origin.now();
    if let Some(existing) = find_by_email(&state.db, &email).await? {
        let tx = db::begin_write(&state.writer).await?;
        let mut row = existing.into_active_model();
        row.is_instance_admin = Set(true);
        row.status = Set(UserStatus::Active.as_str().into());
        row.updated_at = Set(now);
        let user = row.update(&tx).await?;
        let promoted = UserPromotedToAdmin { user_id: user.id };
        changes::record_instance(&tx, &origin, Event::UserPromotedToAdmin(promoted)).await?;
        tx.commit().await?;
        return Ok(Bootstrap::Promoted);
    }
    let settings = crate::instance::service::get(&state.db).await?;
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => {
            let secret = crate::crypto::new_secret("")
                .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))?;
            (secret.chars().take(24).collect(), true)
        }
    };
    if password.chars().count() < usize::try_from(settings.password_min_length).unwrap_or(usize::MAX) {
        return Err(ApiError::validation(
            "password",
            format!("must be at least {} characters", settings.password_min_length),
        ));
    }
    let hash = state.passwords.hash(&password).await?;
    let tx = db::begin_write(&state.writer).await?;
    let user = insert(
        &tx,
        now,
        NewUser {
            email: email.clone(),
            password_hash: Some(hash),
            status: UserStatus::Active,
            is_instance_admin: true,
            provisioned_by_org_id: None,
            unclaimed_email: None,
        },
    )
    .await?;
    let local = email.split('@').next().unwrap_or("admin");
    let org = crate::orgs::service::create_with_owner(&tx, now, &format!("{local}'s organization"), user.id)
        .await?;
    changes::record_instance(&tx, &origin, Event::UserCreated(UserCreated { user_id: user.id })).await?;
    let created = OrgCreated { org_id: org.id, name: org.name, slug: org.slug };
    changes::record(&tx, &origin.in_org(OrgId::stored(org.id)), Event::OrgCreated(created)).await?;
    tx.commit().await?;
    Ok(Bootstrap::Created { generated_password: generated.then_some(password) })
}

/// Records that the user proved they own their email address; answers the account as it now is.
pub async fn mark_verified<C: ConnectionTrait>(
    db: &C,
    mut user: user::Model,
    now: DateTime<Utc>,
) -> Result<user::Model, ApiError> {
    if user.email_verified_at.is_none() {
        user::Entity::update_many()
            .col_expr(user::Column::EmailVerifiedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user.id))
            .exec(db)
            .await?;
        user.email_verified_at = Some(now);
    }
    Ok(user)
}
