//! Proving an email address: a single-use link sent to it. A verified user joins the orgs that
//! invited them, and the orgs whose auto-join domains match their address.

use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{email_verification, org, user};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    AppState,
    audit::Actor,
    changes::{
        self, Event,
        catalog::{MemberAutoJoined, UserEmailVerified},
    },
    crypto, db, domains,
    error::ApiError,
    http::RequestMeta,
    mail::Mail,
    orgs::ActiveOrg,
    provisioning::{self, Consent, JoinOutcome},
    scope::{OrgId, Origin},
};

/// Replaces any earlier link of the user with a new one; returns the token to email.
pub async fn issue<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Uuid,
) -> Result<String, ApiError> {
    issue_with(db, state, now, user_id, None).await
}

/// A link that also sets `password_hash` on an account that has no password (one a directory
/// or an org's verified domain made): the password works only once the link proves the
/// address, so a signup for someone else's address gains nothing.
pub async fn issue_claim<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Uuid,
    password_hash: String,
) -> Result<String, ApiError> {
    issue_with(db, state, now, user_id, Some(password_hash)).await
}

async fn issue_with<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Uuid,
    pending_password_hash: Option<String>,
) -> Result<String, ApiError> {
    email_verification::Entity::delete_many()
        .filter(email_verification::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let token = crypto::new_secret(crypto::EMAIL_VERIFICATION_PREFIX)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))?;
    let ttl = Duration::hours(i64::try_from(state.config.tokens.email_verification_ttl_hours).unwrap_or(48));
    email_verification::Entity::insert(email_verification::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(crypto::digest(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        pending_password_hash: Set(pending_password_hash),
    })
    .exec_without_returning(db)
    .await?;
    Ok(token)
}

pub async fn send(state: &AppState, email: &str, token: &str) {
    let base = &state.config.public_base_url;
    let body = format!(
        "Confirm that this address is yours:\n{base}/verify-email?token={token}\n\n\
         Or present this verification token to POST /api/v1/auth/verify-email:\n{token}\n"
    );
    let mail = Mail { to: email.to_string(), subject: "Confirm your email address".into(), body };
    if let Err(err) = state.mailer.send(mail).await {
        tracing::warn!(error = %format!("{err:#}"), "verification email not sent");
    }
}

/// The link that completes a signup for an address whose account had no password.
pub async fn send_claim(state: &AppState, email: &str, token: &str) {
    let body = format!(
        "Someone signed up with this address, which already has an account made for it by an \
         organization's directory or verified domain.\n\n\
         If that was you, finish with this token and the password you chose, at \
         POST /api/v1/auth/verify-email {{\"token\", \"password\"}}:\n{token}\n\n\
         If it was not you, ignore this message: nothing changes without that password.\n"
    );
    let mail = Mail { to: email.to_string(), subject: "Finish signing up".into(), body };
    if let Err(err) = state.mailer.send(mail).await {
        tracing::warn!(error = %format!("{err:#}"), "claim email not sent");
    }
}

/// A new link for a signed-in user whose address is not verified yet.
pub async fn resend(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    let user = super::service::get(&state.db, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(ApiError::conflict("EMAIL_ALREADY_VERIFIED", "the email address is already verified"));
    }
    let tx = db::begin_write(&state.writer).await?;
    let token = issue(&tx, state, state.clock.now(), user.id).await?;
    tx.commit().await?;
    send(state, &user.email, &token).await;
    Ok(())
}

/// Joins every org whose auto-join domains match the user's address. An org that is full
/// is skipped. `origin` is the user's own.
pub async fn auto_join<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    user: &user::Model,
) -> Result<Vec<ActiveOrg>, ApiError> {
    let mut joined = Vec::new();
    for (org_id, role) in domains::service::auto_join_for(db, &user.email).await? {
        let Some(org) = org::Entity::find_by_id(org_id).one(db).await? else { continue };
        let scope = origin.in_org(OrgId::of(&org));
        match provisioning::admit(db, &scope, &org, user, &role, Consent::VerifiedDomain).await {
            Ok(JoinOutcome::Joined(m)) => {
                let auto_joined =
                    MemberAutoJoined { user_id: user.id, email: user.email.clone(), role: m.role.clone() };
                changes::record(db, &scope, Event::MemberAutoJoined(auto_joined)).await?;
                joined.push(ActiveOrg { id: org.id, name: org.name, slug: org.slug, role: m.role });
            }
            Ok(JoinOutcome::AlreadyMember(_)) => {}
            Err(err) if provisioning::is_refusal(&err) => {
                tracing::info!(org_id = %org.id, code = err.code(), "auto-join skipped");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(joined)
}

/// Checks a verification token, marks the address verified and joins what it now may.
pub async fn verify(
    state: &AppState,
    meta: &RequestMeta,
    token: &str,
    password: Option<&str>,
) -> Result<(user::Model, Vec<ActiveOrg>), ApiError> {
    let invalid = || ApiError::validation("token", "is not a valid or current verification token");
    if !crypto::looks_like(token, crypto::EMAIL_VERIFICATION_PREFIX) {
        return Err(invalid());
    }
    // A link that sets a password is completed only with that password: whoever signed up
    // must also hold the mailbox, so a stranger's signup cannot plant a password that the
    // mailbox holder then confirms by clicking.
    let pending = email_verification::Entity::find()
        .filter(email_verification::Column::TokenHash.eq(crypto::digest(token)))
        .one(&state.db)
        .await?
        .and_then(|f| f.pending_password_hash);
    if let Some(pending) = pending {
        let password = password.ok_or_else(|| {
            ApiError::validation("password", "this link sets a password: give the one chosen at sign-up")
        })?;
        if password.len() > crate::sessions::service::MAX_PASSWORD {
            return Err(ApiError::validation("password", "is not the password chosen at sign-up"));
        }
        if !state.passwords.verify(password, Some(&pending)).await? {
            return Err(ApiError::validation("password", "is not the password chosen at sign-up"));
        }
    }
    let tx = db::begin_write(&state.writer).await?;
    let found = email_verification::Entity::find()
        .filter(email_verification::Column::TokenHash.eq(crypto::digest(token)))
        .one(&tx)
        .await?
        .ok_or_else(invalid)?;
    let origin = Origin::new(Actor::User(found.user_id), meta.clone(), state.clock.clone());
    let now = origin.now();
    if found.expires_at <= now {
        return Err(ApiError::validation("token", "has expired; ask for a new link"));
    }
    let mut user = super::service::get(&tx, found.user_id).await?;
    if let Some(hash) = &found.pending_password_hash
        && user.password_hash.is_none()
    {
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, sea_orm::sea_query::Expr::value(hash.clone()))
            .col_expr(user::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
            .filter(user::Column::Id.eq(user.id))
            .exec(&tx)
            .await?;
        let claimed = UserEmailVerified { user_id: user.id };
        changes::record_instance(&tx, &origin, Event::UserAccountClaimed(claimed)).await?;
        user.password_hash = Some(hash.clone());
    }
    let user = super::service::mark_verified(&tx, user, now).await?;
    email_verification::Entity::delete_many()
        .filter(email_verification::Column::UserId.eq(user.id))
        .exec(&tx)
        .await?;
    let verified = UserEmailVerified { user_id: user.id };
    changes::record_instance(&tx, &origin, Event::UserEmailVerified(verified)).await?;
    let mut joined = crate::provisioning::on_verified_address(&tx, &origin, &user).await?;
    joined.extend(auto_join(&tx, &origin, &user).await?);
    tx.commit().await?;
    let user = super::service::get(&state.db, user.id).await?;
    Ok((user, joined))
}
