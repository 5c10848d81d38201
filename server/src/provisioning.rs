//! The one way an account becomes a member of an org, whatever the way in: invitation
//! acceptance, domain auto-join, a direct add by an admin, SCIM creation and (next) SSO sign-in.
//!
//! Invariants, each enforced here and nowhere else:
//! - an existing account joins an org only with its holder's consent (an invitation they accept,
//!   an identity the directory made that they claim) or when the org has verified the account's
//!   email domain; a service account never joins a second org;
//! - the org's domain allowlist and `max_users` apply to every way in;
//! - no org creates, claims or changes an account's email outside its verified domains: what a
//!   directory provisions there is an unclaimed identity (a placeholder address plus the address
//!   it was given) that never blocks the real person, who claims it by proving the address;
//! - when a verified-domain org takes over an address held by an unverified account, that
//!   account's password, sessions and tokens are revoked first (pre-hijacking defence).

use chrono::{DateTime, Utc};
use guildhall_entities::{membership, org, scim_user, team_member, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{
    audit::Actor,
    changes::{
        self, Event,
        catalog::{MemberIdentityClaimed, UserCredentialsRevoked},
    },
    domains::{self, service::OrgDomains},
    error::{ApiError, ErrorKind},
    members::service::check_capacity,
    orgs::service::insert_membership,
    permissions, roles,
    scope::{OrgId, Origin, Scope},
    users::{self, UserStatus},
};

/// The domain of the stand-in address of an identity a directory made without a verified
/// address: `.invalid` is reserved (RFC 2606), so it never receives mail, nobody can sign up
/// with it, and with no password nobody signs in as it.
const PLACEHOLDER_DOMAIN: &str = "directory.invalid";

pub fn placeholder_email() -> String {
    format!("scim-{}@{PLACEHOLDER_DOMAIN}", Uuid::now_v7().simple())
}

pub fn is_placeholder(email: &str) -> bool {
    email.ends_with(&format!("@{PLACEHOLDER_DOMAIN}"))
}

/// Why an account may become a member of the org.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// The holder accepted an invitation sent to their address.
    Invitation,
    /// The org has verified the account's email domain.
    VerifiedDomain,
    /// The org's own directory made this identity.
    OwnIdentity,
}

pub enum JoinOutcome {
    Joined(membership::Model),
    AlreadyMember(membership::Model),
}

pub fn consent_required() -> ApiError {
    ApiError::forbidden(
        "CONSENT_REQUIRED",
        "people join an org by accepting an invitation; adding directly works only for accounts \
         in the org's verified email domains",
    )
}

/// Makes `account` a member of `org` with `role` (a custom role deleted meanwhile falls back
/// to `member`), after checking the consent and the org's rules. An unverified account taken in
/// through a verified domain loses its password and sessions first. The caller records the
/// join in the audit log, in the same transaction. `scope` is `org`'s.
pub async fn admit<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    org: &org::Model,
    account: &user::Model,
    role: &str,
    consent: Consent,
) -> Result<JoinOutcome, ApiError> {
    let domains = OrgDomains::load(db, org.id).await?;
    admit_under(db, scope, org, &domains, account, role, consent).await
}

/// [`admit`] with the org's domains already read.
pub async fn admit_under<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    org: &org::Model,
    domains: &OrgDomains,
    account: &user::Model,
    role: &str,
    consent: Consent,
) -> Result<JoinOutcome, ApiError> {
    if account.kind != users::service::KIND_HUMAN {
        return Err(consent_required());
    }
    let existing = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org.id))
        .filter(membership::Column::UserId.eq(account.id))
        .one(db)
        .await?;
    if let Some(existing) = existing {
        return Ok(JoinOutcome::AlreadyMember(existing));
    }
    let consented = match consent {
        Consent::Invitation => true,
        Consent::VerifiedDomain => domains.verifies(&account.email),
        Consent::OwnIdentity => account.provisioned_by_org_id == Some(org.id),
    };
    if !consented {
        return Err(consent_required());
    }
    if !is_placeholder(&account.email) {
        domains.require_allowed(&account.email)?;
    }
    check_capacity(db, org).await?;
    if consent == Consent::VerifiedDomain
        && account.email_verified_at.is_none()
        && account.password_hash.is_some()
    {
        take_over(db, scope, account).await?;
    }
    let role = if roles::service::exists(db, org.id, role).await? { role } else { permissions::MEMBER };
    Ok(JoinOutcome::Joined(insert_membership(db, scope.now(), org.id, account.id, role).await?))
}

/// The account a directory (SCIM, and next an IdP) means by `email` in `org`, created if need
/// be, with the consent under which it may join ([`admit`] takes it in). Inside the org's
/// verified domains that is the account holding the address; outside them, or without an
/// address, it is a new identity of the org's own that the real holder of the address can
/// claim later.
///
/// `holder` is the account that holds `email`, which the caller has looked up.
pub async fn directory_identity<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org: &org::Model,
    domains: &OrgDomains,
    email: Option<&str>,
    holder: Option<user::Model>,
) -> Result<(user::Model, Consent), ApiError> {
    if let Some(email) = email
        && domains.verifies(email)
    {
        domains.require_allowed(email)?;
        if let Some(holder) = holder {
            if holder.kind != users::service::KIND_HUMAN {
                return Err(ApiError::conflict(
                    "EMAIL_TAKEN",
                    format!("`{email}` belongs to a service account"),
                ));
            }
            return Ok((holder, Consent::VerifiedDomain));
        }
        let created = insert_identity(db, now, org, email.to_string(), None).await?;
        return Ok((created, Consent::OwnIdentity));
    }
    if let Some(email) = email {
        domains.require_allowed(email)?;
    }
    let created = insert_identity(db, now, org, placeholder_email(), email.map(str::to_string)).await?;
    Ok((created, Consent::OwnIdentity))
}

async fn insert_identity<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org: &org::Model,
    email: String,
    unclaimed_email: Option<String>,
) -> Result<user::Model, ApiError> {
    users::service::insert(
        db,
        now,
        users::service::NewUser {
            email,
            password_hash: None,
            status: UserStatus::Active,
            is_instance_admin: false,
            provisioned_by_org_id: Some(org.id),
            unclaimed_email,
        },
    )
    .await
}

/// The pre-hijacking defence: an unverified account holding an address in a domain the org
/// has verified was never proved to be its holder's, so its password, sessions and tokens go.
async fn take_over<C: ConnectionTrait>(db: &C, scope: &Scope, holder: &user::Model) -> Result<(), ApiError> {
    let now = scope.now();
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(Option::<String>::None))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(holder.id))
        .exec(db)
        .await?;
    users::service::revoke_credentials(db, holder.id, now, "verified_domain_takeover").await?;
    let revoked = || {
        Event::UserCredentialsRevoked(UserCredentialsRevoked {
            user_id: holder.id,
            email: holder.email.clone(),
            reason: "unverified account in a verified domain".into(),
        })
    };
    changes::record(db, scope, revoked()).await?;
    changes::record_instance(db, scope.origin(), revoked()).await
}

/// Gives an identity of the org's own the address its directory now sends: inside the org's
/// verified domains it becomes the identity (when no other account holds it); outside them it
/// is only recorded, for its real holder to claim. Identities the org did not make keep their
/// address whatever the directory says.
pub async fn readdress<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org_id: Uuid,
    user_id: Uuid,
    email: Option<String>,
) -> Result<(), ApiError> {
    let Some(email) = email else { return Ok(()) };
    let Some(account) = user::Entity::find_by_id(user_id).one(db).await? else { return Ok(()) };
    if account.provisioned_by_org_id != Some(org_id) || !is_placeholder(&account.email) {
        return Ok(());
    }
    domains::service::require_allowed(db, org_id, &email).await?;
    let update = if domains::service::verified_for(db, org_id, &email).await? {
        if users::service::find_by_email(db, &email).await?.is_some() {
            return Err(ApiError::conflict("EMAIL_TAKEN", format!("`{email}` belongs to another account")));
        }
        user::Entity::update_many()
            .col_expr(user::Column::Email, Expr::value(email))
            .col_expr(user::Column::UnclaimedEmail, Expr::value(Option::<String>::None))
    } else if account.unclaimed_email.as_deref() != Some(email.as_str()) {
        user::Entity::update_many().col_expr(user::Column::UnclaimedEmail, Expr::value(email))
    } else {
        return Ok(());
    };
    update
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Hands `account` (whose address is verified) the identities directories made for its
/// address: their memberships, directory records and teams move to the account. An identity
/// in an org the account is already a member of stays unclaimed.
pub async fn claim_identities<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    account: &user::Model,
) -> Result<(), ApiError> {
    let now = origin.now();
    if account.email_verified_at.is_none() || account.kind != users::service::KIND_HUMAN {
        return Ok(());
    }
    let identities = user::Entity::find()
        .filter(user::Column::UnclaimedEmail.eq(account.email.as_str()))
        .filter(user::Column::ProvisionedByOrgId.is_not_null())
        .filter(user::Column::Id.ne(account.id))
        .all(db)
        .await?;
    for identity in identities {
        let Some(org_id) = identity.provisioned_by_org_id else { continue };
        let already = membership::Entity::find()
            .filter(membership::Column::OrgId.eq(org_id))
            .filter(membership::Column::UserId.eq(account.id))
            .count(db)
            .await?;
        if already > 0 {
            tracing::info!(org_id = %org_id, user_id = %account.id, "identity left unclaimed: already a member");
            continue;
        }
        membership::Entity::update_many()
            .col_expr(membership::Column::UserId, Expr::value(account.id))
            .col_expr(membership::Column::UpdatedAt, Expr::value(now))
            .filter(membership::Column::UserId.eq(identity.id))
            .exec(db)
            .await?;
        scim_user::Entity::update_many()
            .col_expr(scim_user::Column::UserId, Expr::value(account.id))
            .filter(scim_user::Column::UserId.eq(identity.id))
            .exec(db)
            .await?;
        team_member::Entity::update_many()
            .col_expr(team_member::Column::UserId, Expr::value(account.id))
            .filter(team_member::Column::UserId.eq(identity.id))
            .exec(db)
            .await?;
        user::Entity::delete_by_id(identity.id).exec(db).await?;
        let scope = origin.as_actor(Actor::User(account.id)).in_org(OrgId::stored(org_id));
        let claimed = MemberIdentityClaimed {
            user_id: account.id,
            email: account.email.clone(),
            identity: identity.id,
        };
        changes::record(db, &scope, Event::MemberIdentityClaimed(claimed)).await?;
    }
    Ok(())
}

/// What a verified address brings when its holder signs in or proves it: the identities
/// directories made for it, and the invitations sent to it.
pub async fn on_verified_address<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    account: &user::Model,
) -> Result<Vec<crate::orgs::ActiveOrg>, ApiError> {
    claim_identities(db, origin, account).await?;
    crate::invitations::service::accept_pending_for(db, origin, account).await
}

/// True when `err` is a rule saying no (not a failure), so batch joins skip and go on.
pub fn is_refusal(err: &ApiError) -> bool {
    err.kind() != ErrorKind::Internal
}
