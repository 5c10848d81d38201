use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{refresh_token, session, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use super::throttle;
use crate::{
    AppState,
    audit::Actor,
    auth::{Credential, OrgRef, Principal},
    changes::{
        self, Event,
        catalog::{SessionExpired, SessionRefreshReuseDetected, UserLoggedIn, UserLoggedOut},
    },
    crypto, db,
    error::ApiError,
    http::RequestMeta,
    instance,
    keys::{AccessClaims, jwt::Verifier},
    mfa,
    orgs::{self, ActiveOrg},
    scope::{OrgId, Origin},
    users::{self, UserStatus, email},
};

/// The longest password accepted (argon2 hashes any length; this bounds the work).
pub const MAX_PASSWORD: usize = 1024;

/// What a successful sign-in, sign-up or refresh hands back.
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub user: user::Model,
    pub org: Option<ActiveOrg>,
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthenticated("INVALID_CREDENTIALS", "the email or password is wrong")
}

/// How a session's holder proved who they are; every access token of the session says so
/// (`amr`, and `sso_provider_id` for a sign-in through an org's IdP).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Authn {
    /// When a second factor was passed in this session.
    pub mfa_at: Option<DateTime<Utc>>,
    /// The org IdP the session was signed in through (none: a password).
    pub sso_provider_id: Option<Uuid>,
}

impl Authn {
    pub const PASSWORD: &str = "pwd";
    pub const SSO: &str = "sso";

    pub fn of(sess: &session::Model) -> Self {
        Self { mfa_at: sess.mfa_at, sso_provider_id: sess.sso_provider_id }
    }

    fn method(&self) -> &'static str {
        if self.sso_provider_id.is_some() { Self::SSO } else { Self::PASSWORD }
    }

    /// RFC 8176 authentication method references, with `sso` for a federated sign-in.
    pub fn amr(&self) -> Vec<String> {
        let mut amr = vec![self.method().to_string()];
        if self.mfa_at.is_some() {
            amr.extend(["otp".to_string(), "mfa".to_string()]);
        }
        amr
    }
}

/// What a correct password leads to: tokens, or for an account with a confirmed
/// authenticator, a challenge to finish at `POST /api/v1/auth/login/mfa`.
pub enum LoginOutcome {
    SignedIn(Box<SignedIn>),
    MfaRequired(Box<mfa::service::Challenge>),
}

/// Only active accounts sign in.
pub fn check_status(user: &user::Model) -> Result<(), ApiError> {
    match UserStatus::parse(&user.status) {
        Some(UserStatus::Active) => Ok(()),
        Some(UserStatus::Pending) => {
            Err(ApiError::forbidden("ACCOUNT_PENDING", "the account waits for an administrator's approval"))
        }
        _ => Err(ApiError::forbidden("ACCOUNT_DISABLED", "the account is disabled")),
    }
}

/// Password sign-in. Unknown emails cost one hash too, so timing does not reveal accounts.
/// Failures slow and then lock the account for the client they come from (`throttle`), not
/// for everyone. An account with a confirmed authenticator gets a challenge, not tokens.
pub async fn login(
    state: &AppState,
    meta: &RequestMeta,
    email_raw: &str,
    password: &str,
) -> Result<LoginOutcome, ApiError> {
    let email = email::normalize("email", email_raw)?;
    if password.is_empty() {
        return Err(ApiError::validation("password", "is required"));
    }
    if password.len() > MAX_PASSWORD {
        return Err(invalid_credentials());
    }
    let found = users::service::find_by_email(&state.db, &email).await?;
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
    let now = origin.now();
    if let Some(user) = &found {
        throttle::check(&state.db, now, user.id, &throttle::client_of(meta)).await?;
    }
    let matched =
        state.passwords.verify(password, found.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    let Some(user) = found else {
        return Err(invalid_credentials());
    };
    if !matched {
        let tx = db::begin_write(&state.writer).await?;
        throttle::record_failure(&tx, &origin, user.id, "password").await?;
        tx.commit().await?;
        return Err(invalid_credentials());
    }
    check_status(&user)?;
    if let Some(provider) = crate::sso::signin::required_for(&state.db, &user).await? {
        return Err(crate::sso::signin::sso_required(state, &provider));
    }
    let origin = origin.as_actor(Actor::User(user.id));
    let tx = db::begin_write(&state.writer).await?;
    if mfa::service::has_confirmed(&tx, user.id).await? {
        // The pair's failures are forgiven only once the second factor is right too.
        let challenge = mfa::service::start_challenge(&tx, &origin, user).await?;
        tx.commit().await?;
        return Ok(LoginOutcome::MfaRequired(Box::new(challenge)));
    }
    throttle::clear(&tx, user.id, meta).await?;
    Ok(LoginOutcome::SignedIn(Box::new(finish_sign_in(tx, state, &origin, user, None).await?)))
}

/// The end of every password sign-in, inside its transaction: see [`finish_into`]; the session
/// starts in the user's starting org (none that requires MFA, without it). `factor` names the
/// second factor used, if any. `origin` is the user's own.
pub async fn finish_sign_in(
    tx: DatabaseTransaction,
    state: &AppState,
    origin: &Origin,
    user: user::Model,
    factor: Option<&'static str>,
) -> Result<SignedIn, ApiError> {
    let authn = Authn { mfa_at: factor.map(|_| origin.now()), sso_provider_id: None };
    finish_into(tx, state, origin, user, authn, None, factor).await
}

/// The end of every sign-in: joins pending orgs, opens the session (`authn` says how its holder
/// proved who they are) in `org` when given, else in the user's starting org, audits, commits
/// and signs the first pair.
pub async fn finish_into(
    tx: DatabaseTransaction,
    state: &AppState,
    origin: &Origin,
    user: user::Model,
    authn: Authn,
    org: Option<ActiveOrg>,
    factor: Option<&'static str>,
) -> Result<SignedIn, ApiError> {
    let now = origin.now();
    // The invitee of a verified address joins on sign-in.
    if user.email_verified_at.is_some() {
        crate::provisioning::on_verified_address(&tx, origin, &user).await?;
    }
    let org = match org {
        Some(org) => Some(org),
        None => mfa::policy::starting_org(&tx, user.id, user.default_org_id, authn.mfa_at.is_some()).await?,
    };
    let mut row = user.into_active_model();
    row.last_login_at = Set(Some(now));
    let user = row.update(&tx).await?;
    let (session_id, refresh) =
        start_session_with(&tx, state, now, user.id, org.as_ref().map(|o| o.id), authn).await?;
    let event =
        Event::UserLoggedIn(UserLoggedIn { user_id: user.id, session_id, mfa: factor.map(Into::into) });
    match &org {
        Some(o) => changes::record(&tx, &origin.in_org(OrgId::stored(o.id)), event).await?,
        None => changes::record_instance(&tx, origin, event).await?,
    }
    tx.commit().await?;
    let access_token = sign_access(state, now, &user, org.as_ref(), session_id, &authn).await?;
    Ok(SignedIn {
        access_token,
        refresh_token: refresh,
        expires_in: state.config.tokens.access_ttl_seconds,
        user,
        org,
    })
}

/// Opens a session and returns its id and first refresh token.
pub async fn start_session<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Uuid,
    org_id: Option<Uuid>,
) -> Result<(Uuid, String), ApiError> {
    start_session_with(db, state, now, user_id, org_id, Authn::default()).await
}

/// Opens a session its holder signed in to as `authn` says.
pub async fn start_session_with<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    now: DateTime<Utc>,
    user_id: Uuid,
    org_id: Option<Uuid>,
    authn: Authn,
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
        mfa_at: Set(authn.mfa_at),
        auth_method: Set(Some(authn.method().to_string())),
        sso_provider_id: Set(authn.sso_provider_id),
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
    authn: &Authn,
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
        amr: authn.amr(),
        sso_provider_id: authn.sso_provider_id.map(|id| id.to_string()),
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
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
    let now = origin.now();
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
        revoke_for_reuse(state, &origin, &sess).await?;
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
        check_session_lifetime(state, &origin, &sess, org_id).await?;
    }
    // Still a member, and (without MFA) the org still does not require it; else move on.
    let mfa_passed = sess.mfa_at.is_some();
    let org = match sess.org_id {
        Some(org_id) => {
            let current = match orgs::service::active_membership(&state.db, org_id, user.id).await? {
                Some(org) if mfa_passed || !mfa::policy::requires_by_id(&state.db, org.id).await? => {
                    Some(org)
                }
                _ => None,
            };
            match current {
                Some(org) => Some(org),
                None => {
                    mfa::policy::starting_org(&state.db, user.id, user.default_org_id, mfa_passed).await?
                }
            }
        }
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
        revoke_for_reuse(state, &origin, &sess).await?;
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
    let access_token = sign_access(state, now, &user, org.as_ref(), sess.id, &Authn::of(&sess)).await?;
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
    origin: &Origin,
    sess: &session::Model,
    org_id: Uuid,
) -> Result<(), ApiError> {
    let now = origin.now();
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
    let scope = origin.as_actor(Actor::User(sess.user_id)).in_org(OrgId::stored(org_id));
    let expired = SessionExpired { user_id: sess.user_id, session_id: sess.id };
    changes::record(&tx, &scope, Event::SessionExpired(expired)).await?;
    tx.commit().await?;
    Err(ApiError::unauthenticated(
        "SESSION_EXPIRED",
        "the session reached the org's maximum lifetime; sign in again",
    ))
}

/// `origin` is the anonymous holder of the reused token.
async fn revoke_for_reuse(state: &AppState, origin: &Origin, sess: &session::Model) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    revoke(&tx, sess.id, origin.now(), "refresh_token_reuse").await?;
    let event = Event::SessionRefreshReuseDetected(SessionRefreshReuseDetected {
        user_id: sess.user_id,
        session_id: sess.id,
    });
    match sess.org_id {
        Some(org_id) => changes::record(&tx, &origin.in_org(OrgId::stored(org_id)), event).await?,
        None => changes::record_instance(&tx, origin, event).await?,
    }
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
    let origin = Origin::new(principal.actor(), meta.clone(), state.clock.clone());
    let tx = db::begin_write(&state.writer).await?;
    revoke(&tx, session_id, origin.now(), "logout").await?;
    let event = Event::UserLoggedOut(UserLoggedOut { user_id: principal.user_id, session_id });
    match &principal.org {
        Some(org) => changes::record(&tx, &origin.in_org(OrgId::stored(org.id)), event).await?,
        None => changes::record_instance(&tx, &origin, event).await?,
    }
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
        mfa_at: sess.mfa_at,
        sso_provider_id: sess.sso_provider_id,
        account: crate::auth::Account(user),
    })
}
