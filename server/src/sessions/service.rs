use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{refresh_token, session, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    AppState,
    audit::{self, Actor, AuditEvent},
    auth::{Credential, OrgRef, Principal},
    crypto, db,
    error::ApiError,
    http::RequestMeta,
    instance, invitations,
    keys::{AccessClaims, jwt::Verifier},
    orgs::{self, ActiveOrg},
    users::{self, UserStatus, email, service::NewUser},
};

const MAX_PASSWORD: usize = 1024;
const MAX_ORG_NAME: usize = 100;

/// What a successful sign-in, sign-up or refresh hands back.
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: user::Model,
    pub org: Option<ActiveOrg>,
}

pub enum SignupOutcome {
    SignedIn(Box<SignedIn>),
    Pending(Box<user::Model>),
}

pub struct NewSignup {
    pub email: String,
    pub password: String,
    pub org_name: Option<String>,
    pub invitation_token: Option<String>,
}

fn check_password(password: &str, min: i32) -> Result<(), ApiError> {
    let len = password.chars().count();
    if len < usize::try_from(min).unwrap_or(usize::MAX) {
        return Err(ApiError::validation("password", format!("must be at least {min} characters")));
    }
    if password.len() > MAX_PASSWORD {
        return Err(ApiError::validation("password", format!("must be at most {MAX_PASSWORD} bytes")));
    }
    Ok(())
}

fn org_name_for(email: &str, requested: Option<String>) -> Result<String, ApiError> {
    match requested.map(|n| n.trim().to_string()) {
        Some(name) if name.is_empty() => Err(ApiError::validation("org_name", "must not be empty")),
        Some(name) if name.chars().count() > MAX_ORG_NAME => {
            Err(ApiError::validation("org_name", format!("must be at most {MAX_ORG_NAME} characters")))
        }
        Some(name) if name.chars().any(char::is_control) => {
            Err(ApiError::validation("org_name", "must not contain control characters"))
        }
        Some(name) => Ok(name),
        None => {
            let local = email.split('@').next().unwrap_or("my");
            Ok(format!("{local}'s organization"))
        }
    }
}

/// Creates an account and its first org. The first account of the instance becomes an
/// instance admin and may sign up even when signup is closed.
pub async fn signup(state: &AppState, meta: &RequestMeta, new: NewSignup) -> Result<SignupOutcome, ApiError> {
    let email = email::normalize("email", &new.email)?;
    let settings = instance::service::get(&state.db).await?;
    check_password(&new.password, settings.password_min_length)?;
    let org_name = org_name_for(&email, new.org_name)?;
    let invitation_token = new.invitation_token.map(|t| t.trim().to_string());
    // An invitation is a way in even when self-service signup is closed.
    let closed = !settings.signup_open && invitation_token.is_none();
    if closed && users::service::count(&state.db).await? > 0 {
        return Err(ApiError::forbidden("SIGNUP_CLOSED", "signup is closed on this instance"));
    }
    if users::service::find_by_email(&state.db, &email).await?.is_some() {
        return Err(ApiError::conflict("EMAIL_TAKEN", "an account with this email already exists"));
    }
    let now = state.clock.now();
    if let Some(token) = &invitation_token {
        let invitation = invitations::service::check_token(&state.db, token, &email, now).await?;
        // Joining an org whose password policy is stricter than the instance's.
        let org_min = guildhall_entities::org::Entity::find_by_id(invitation.org_id)
            .one(&state.db)
            .await?
            .and_then(|o| o.password_min_length);
        if let Some(min) = org_min.filter(|m| *m > settings.password_min_length) {
            check_password(&new.password, min)?;
        }
    }
    let hash = state.passwords.hash(&new.password).await?;

    let tx = db::begin_write(&state.writer).await?;
    // Decided inside the write transaction so two racing first signups cannot both become admin.
    let first = users::service::count(&tx).await? == 0;
    if closed && !first {
        return Err(ApiError::forbidden("SIGNUP_CLOSED", "signup is closed on this instance"));
    }
    let status = if first || !settings.approval_required { UserStatus::Active } else { UserStatus::Pending };
    let user = users::service::insert(
        &tx,
        now,
        NewUser { email, password_hash: Some(hash), status, is_instance_admin: first },
    )
    .await?;
    audit::record(
        &tx,
        now,
        meta,
        AuditEvent::new(Actor::Anonymous, "user.signed_up")
            .target("user", user.id)
            .details(serde_json::json!({ "status": status.as_str(), "instance_admin": first })),
    )
    .await?;
    let (org, verification) = match &invitation_token {
        // The token reached this address: the address is verified, and the user joins the
        // inviting org (and any other org that invited them) instead of getting one of their own.
        Some(token) => {
            let invitation = invitations::service::check_token(&tx, token, &user.email, now).await?;
            let joined = invitations::service::accept_in(&tx, now, meta, invitation, &user).await?;
            users::service::mark_verified(&tx, &user, now).await?;
            invitations::service::accept_pending_for(&tx, now, meta, &user).await?;
            (joined, None)
        }
        None => {
            let org = orgs::service::create_with_owner(&tx, now, &org_name, user.id).await?;
            audit::record(
                &tx,
                now,
                meta,
                AuditEvent::new(Actor::User(user.id), "org.created")
                    .org(org.id)
                    .target("org", org.id)
                    .details(serde_json::json!({ "name": org.name, "slug": org.slug })),
            )
            .await?;
            let token = users::verification::issue(&tx, state, now, user.id).await?;
            (org, Some(token))
        }
    };
    let session = if status == UserStatus::Active {
        Some(start_session(&tx, state, now, user.id, Some(org.id)).await?)
    } else {
        None
    };
    tx.commit().await?;
    if let Some(token) = verification {
        users::verification::send(state, &user.email, &token).await;
    }
    let user = users::service::get(&state.db, user.id).await?;
    let Some((session_id, refresh)) = session else {
        return Ok(SignupOutcome::Pending(Box::new(user)));
    };
    let access_token = sign_access(state, now, &user, Some(&org), session_id).await?;
    Ok(SignupOutcome::SignedIn(Box::new(SignedIn {
        access_token,
        refresh_token: refresh,
        expires_in: state.config.tokens.access_ttl_seconds,
        user,
        org: Some(org),
    })))
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthenticated("INVALID_CREDENTIALS", "the email or password is wrong")
}

/// Password sign-in. Unknown emails cost one hash too, so timing does not reveal accounts.
/// `max_login_attempts` failures in a row lock the account for `lockout_minutes`.
pub async fn login(
    state: &AppState,
    meta: &RequestMeta,
    email_raw: &str,
    password: &str,
) -> Result<SignedIn, ApiError> {
    let email = email::normalize("email", email_raw)?;
    if password.is_empty() {
        return Err(ApiError::validation("password", "is required"));
    }
    if password.len() > MAX_PASSWORD {
        return Err(invalid_credentials());
    }
    let found = users::service::find_by_email(&state.db, &email).await?;
    let now = state.clock.now();
    if let Some(locked_until) = found.as_ref().and_then(|u| u.locked_until).filter(|t| *t > now) {
        let seconds = u64::try_from(Ord::max((locked_until - now).num_seconds(), 1)).unwrap_or(1);
        return Err(ApiError::rate_limited(
            "ACCOUNT_LOCKED",
            "too many failed sign-ins; the account is locked for a while",
            seconds,
        ));
    }
    let matched =
        state.passwords.verify(password, found.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    let Some(user) = found else {
        return Err(invalid_credentials());
    };
    if !matched {
        record_failure(state, meta, now, user).await?;
        return Err(invalid_credentials());
    }
    match UserStatus::parse(&user.status) {
        Some(UserStatus::Active) => {}
        Some(UserStatus::Pending) => {
            return Err(ApiError::forbidden(
                "ACCOUNT_PENDING",
                "the account waits for an administrator's approval",
            ));
        }
        _ => return Err(ApiError::forbidden("ACCOUNT_DISABLED", "the account is disabled")),
    }
    let tx = db::begin_write(&state.writer).await?;
    // The invitee of a verified address joins on sign-in.
    if user.email_verified_at.is_some() {
        invitations::service::accept_pending_for(&tx, now, meta, &user).await?;
    }
    let org = orgs::service::starting_org(&tx, user.id, user.default_org_id).await?;
    let mut row = user.into_active_model();
    row.failed_logins = Set(0);
    row.locked_until = Set(None);
    row.last_login_at = Set(Some(now));
    let user = row.update(&tx).await?;
    let (session_id, refresh) = start_session(&tx, state, now, user.id, org.as_ref().map(|o| o.id)).await?;
    let mut event = AuditEvent::new(Actor::User(user.id), "user.logged_in").target("session", session_id);
    if let Some(o) = &org {
        event = event.org(o.id);
    }
    audit::record(&tx, now, meta, event).await?;
    tx.commit().await?;
    let access_token = sign_access(state, now, &user, org.as_ref(), session_id).await?;
    Ok(SignedIn {
        access_token,
        refresh_token: refresh,
        expires_in: state.config.tokens.access_ttl_seconds,
        user,
        org,
    })
}

async fn record_failure(
    state: &AppState,
    meta: &RequestMeta,
    now: DateTime<Utc>,
    user: user::Model,
) -> Result<(), ApiError> {
    let settings = instance::service::get(&state.db).await?;
    let tx = db::begin_write(&state.writer).await?;
    // Count in SQL so concurrent failures are not lost.
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::col(user::Column::FailedLogins).add(1))
        .filter(user::Column::Id.eq(user.id))
        .exec(&tx)
        .await?;
    let current = users::service::get(&tx, user.id).await?;
    let locked = current.failed_logins >= settings.max_login_attempts;
    if locked {
        let mut row = current.into_active_model();
        row.failed_logins = Set(0);
        row.locked_until = Set(Some(now + Duration::minutes(i64::from(settings.lockout_minutes))));
        row.update(&tx).await?;
    }
    audit::record(
        &tx,
        now,
        meta,
        AuditEvent::new(Actor::Anonymous, if locked { "user.locked" } else { "user.login_failed" })
            .target("user", user.id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Opens a session and returns its id and first refresh token.
pub async fn start_session<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Uuid,
    org_id: Option<Uuid>,
) -> Result<(Uuid, String), ApiError> {
    let session_id = Uuid::now_v7();
    session::Entity::insert(session::ActiveModel {
        id: Set(session_id),
        user_id: Set(user_id),
        org_id: Set(org_id),
        created_at: Set(now),
        last_used_at: Set(now),
        revoked_at: Set(None),
        revoke_reason: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    let refresh = new_refresh_token(db, state, now, session_id).await?;
    Ok((session_id, refresh))
}

async fn new_refresh_token<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    session_id: Uuid,
) -> Result<String, ApiError> {
    let secret = crypto::new_secret(crypto::REFRESH_TOKEN_PREFIX)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))?;
    let ttl = i64::try_from(state.config.tokens.refresh_ttl_seconds).unwrap_or(i64::MAX);
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(crypto::digest(&secret)),
        created_at: Set(now),
        expires_at: Set(now + Duration::seconds(ttl)),
        rotated_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(secret)
}

pub async fn sign_access(
    state: &AppState,
    now: DateTime<Utc>,
    user: &user::Model,
    org: Option<&ActiveOrg>,
    session_id: Uuid,
) -> Result<String, ApiError> {
    let ttl = i64::try_from(state.config.tokens.access_ttl_seconds).unwrap_or(900);
    let claims = AccessClaims {
        iss: state.config.public_base_url.clone(),
        sub: user.id.to_string(),
        aud: state.config.tokens.audience.clone(),
        exp: now.timestamp() + ttl,
        iat: now.timestamp(),
        jti: Uuid::now_v7().to_string(),
        email: user.email.clone(),
        org_id: org.map(|o| o.id.to_string()),
        org_slug: org.map(|o| o.slug.clone()),
        org_role: org.map(|o| o.role.clone()),
        sid: session_id.to_string(),
    };
    state.keys.sign(&claims).await
}

fn invalid_refresh() -> ApiError {
    ApiError::unauthenticated("INVALID_REFRESH_TOKEN", "the refresh token is invalid, expired or revoked")
}

/// Exchanges a refresh token for a new pair. A token that was already exchanged revokes its
/// whole session (RFC 9700 §4.14.2 refresh token rotation with reuse detection).
pub async fn refresh(state: &AppState, meta: &RequestMeta, presented: &str) -> Result<SignedIn, ApiError> {
    if !crypto::looks_like(presented, crypto::REFRESH_TOKEN_PREFIX) {
        return Err(invalid_refresh());
    }
    let now = state.clock.now();
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(crypto::digest(presented)))
        .find_also_related(session::Entity)
        .one(&state.db)
        .await?;
    let Some((token, Some(sess))) = found else {
        return Err(invalid_refresh());
    };
    if sess.revoked_at.is_some() {
        return Err(invalid_refresh());
    }
    if token.rotated_at.is_some() {
        revoke_for_reuse(state, meta, now, &sess).await?;
        return Err(ApiError::unauthenticated(
            "REFRESH_TOKEN_REUSED",
            "this refresh token was already used; the session has been revoked",
        ));
    }
    if token.expires_at <= now {
        return Err(invalid_refresh());
    }
    let user = users::service::get(&state.db, sess.user_id).await?;
    if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
        return Err(invalid_refresh());
    }
    if let Some(org_id) = sess.org_id {
        check_session_lifetime(state, meta, now, &sess, org_id).await?;
    }
    let org = match sess.org_id {
        Some(org_id) => match orgs::service::active_membership(&state.db, org_id, user.id).await? {
            Some(org) => Some(org),
            None => orgs::service::starting_org(&state.db, user.id, user.default_org_id).await?,
        },
        None => None,
    };

    let tx = db::begin_write(&state.writer).await?;
    let rotated = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(token.id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(&tx)
        .await?;
    if rotated.rows_affected == 0 {
        // Another request exchanged it between our read and write: that is reuse too.
        drop(tx);
        revoke_for_reuse(state, meta, now, &sess).await?;
        return Err(ApiError::unauthenticated(
            "REFRESH_TOKEN_REUSED",
            "this refresh token was already used; the session has been revoked",
        ));
    }
    if org.as_ref().map(|o| o.id) != sess.org_id {
        session::Entity::update_many()
            .col_expr(session::Column::OrgId, Expr::value(org.as_ref().map(|o| o.id)))
            .filter(session::Column::Id.eq(sess.id))
            .exec(&tx)
            .await?;
    }
    let refresh = new_refresh_token(&tx, state, now, sess.id).await?;
    tx.commit().await?;
    let access_token = sign_access(state, now, &user, org.as_ref(), sess.id).await?;
    Ok(SignedIn {
        access_token,
        refresh_token: refresh,
        expires_in: state.config.tokens.access_ttl_seconds,
        user,
        org,
    })
}

/// A session lives at most the `session_ttl_minutes` of the org it acts in (the org's own
/// setting, else the instance's); past that, refreshing ends it and the user signs in again.
async fn check_session_lifetime(
    state: &AppState,
    meta: &RequestMeta,
    now: DateTime<Utc>,
    sess: &session::Model,
    org_id: Uuid,
) -> Result<(), ApiError> {
    let own = guildhall_entities::org::Entity::find_by_id(org_id)
        .one(&state.db)
        .await?
        .and_then(|o| o.session_ttl_minutes);
    let minutes = match own {
        Some(minutes) => minutes,
        None => instance::service::get(&state.db).await?.session_ttl_minutes,
    };
    if sess.created_at + Duration::minutes(i64::from(minutes)) > now {
        return Ok(());
    }
    let tx = db::begin_write(&state.writer).await?;
    revoke(&tx, sess.id, now, "session_expired").await?;
    audit::record(
        &tx,
        now,
        meta,
        AuditEvent::new(Actor::User(sess.user_id), "session.expired").org(org_id).target("session", sess.id),
    )
    .await?;
    tx.commit().await?;
    Err(ApiError::unauthenticated(
        "SESSION_EXPIRED",
        "the session reached the org's maximum lifetime; sign in again",
    ))
}

async fn revoke_for_reuse(
    state: &AppState,
    meta: &RequestMeta,
    now: DateTime<Utc>,
    sess: &session::Model,
) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    revoke(&tx, sess.id, now, "refresh_token_reuse").await?;
    let mut event = AuditEvent::new(Actor::Anonymous, "session.refresh_reuse_detected")
        .target("session", sess.id)
        .details(serde_json::json!({ "user_id": sess.user_id }));
    if let Some(org_id) = sess.org_id {
        event = event.org(org_id);
    }
    audit::record(&tx, now, meta, event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    session_id: Uuid,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), ApiError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .col_expr(session::Column::RevokeReason, Expr::value(reason))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends the caller's session: its access and refresh tokens stop working at once.
pub async fn logout(state: &AppState, meta: &RequestMeta, principal: &Principal) -> Result<(), ApiError> {
    let session_id = principal.require_session()?;
    let now = state.clock.now();
    let tx = db::begin_write(&state.writer).await?;
    revoke(&tx, session_id, now, "logout").await?;
    let mut event = AuditEvent::new(principal.actor(), "user.logged_out").target("session", session_id);
    if let Some(org) = &principal.org {
        event = event.org(org.id);
    }
    audit::record(&tx, now, meta, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks an access JWT and its live session.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let now = state.clock.now();
    let verifier = Verifier {
        issuer: &state.config.public_base_url,
        audience: &state.config.tokens.audience,
        leeway_seconds: i64::try_from(state.config.tokens.leeway_seconds).unwrap_or(0),
        now,
    };
    let claims = state.keys.verify(token, &verifier).await?;
    let invalid = || ApiError::unauthenticated("INVALID_TOKEN", "the token's session is not valid");
    let session_id: Uuid = claims.sid.parse().map_err(|_| invalid())?;
    let user_id: Uuid = claims.sub.parse().map_err(|_| invalid())?;
    let (sess, user) = session::Entity::find_by_id(session_id)
        .find_also_related(user::Entity)
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let user = user.ok_or_else(invalid)?;
    if sess.user_id != user_id || sess.revoked_at.is_some() {
        return Err(ApiError::unauthenticated("SESSION_REVOKED", "the session has ended; sign in again"));
    }
    if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
        return Err(ApiError::unauthenticated("ACCOUNT_DISABLED", "the account is not active"));
    }
    let org = match (claims.org_id, claims.org_slug, claims.org_role) {
        (Some(id), Some(slug), Some(role)) => {
            Some(OrgRef { id: id.parse().map_err(|_| invalid())?, slug, role })
        }
        _ => None,
    };
    Ok(Principal {
        user_id,
        email: user.email.clone(),
        is_instance_admin: user.is_instance_admin,
        is_service_account: false,
        org,
        credential: Credential::Session { session_id },
        account: crate::auth::Account(user),
    })
}
