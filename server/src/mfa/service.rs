use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{mfa_challenge, mfa_recovery_code, mfa_totp, session, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::totp::{self, Code};
use crate::{
    AppState,
    audit::Actor,
    auth::Principal,
    changes::{
        self, Event,
        catalog::{MfaChallengeIssued, MfaRecoveryCodeUsed, MfaTotpEnrolled, MfaTotpEnrolmentStarted},
    },
    crypto, db,
    error::{ApiError, ErrorKind, FieldError},
    http::RequestMeta,
    scope::Origin,
    sessions::{
        service::{self as sessions, SignedIn},
        throttle,
    },
    users,
};

/// How long the step between a password and its second factor may take.
pub const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Wrong codes a challenge takes before it dies (each also counts as a failed sign-in).
pub const CHALLENGE_ATTEMPTS: i32 = 5;

/// A started enrolment: the secret, shown this once, and its key URI.
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

/// A confirmed authenticator and its recovery codes, shown this once.
pub struct Confirmed {
    pub confirmed_at: DateTime<Utc>,
    pub recovery_codes: Vec<String>,
}

/// A correct password for an account with MFA: the token that finishes the sign-in.
pub struct Challenge {
    pub mfa_token: String,
    pub expires_in: u64,
    pub user: user::Model,
}

fn no_randomness() -> ApiError {
    ApiError::internal(anyhow::anyhow!("no randomness"))
}

fn already_enrolled() -> ApiError {
    ApiError::conflict("MFA_ALREADY_ENROLLED", "an authenticator is already confirmed for this account")
}

fn invalid_token() -> ApiError {
    ApiError::unauthenticated(
        "INVALID_MFA_TOKEN",
        "the MFA token is invalid, expired, used or out of attempts; sign in again",
    )
}

/// The secret's sealing context, binding a sealed secret to its account.
fn context(user_id: Uuid) -> String {
    format!("mfa_totp:{user_id}")
}

fn seal(state: &AppState, user_id: Uuid, secret: &[u8]) -> Result<String, ApiError> {
    let sealed =
        state.keys.master_key().seal(context(user_id).as_bytes(), secret).map_err(ApiError::internal)?;
    Ok(STANDARD.encode(sealed))
}

fn open(state: &AppState, row: &mfa_totp::Model) -> Result<Vec<u8>, ApiError> {
    let sealed = STANDARD.decode(&row.secret).map_err(ApiError::internal)?;
    state.keys.master_key().open(context(row.user_id).as_bytes(), &sealed).map_err(ApiError::internal)
}

/// What is stored for a recovery code: the SHA-256 of its normalized form.
fn recovery_digest(code: &str) -> Vec<u8> {
    match Code::parse(code) {
        Code::Recovery(normalized) | Code::Totp(normalized) => crypto::digest(&normalized),
    }
}

fn new_recovery_codes() -> Result<Vec<String>, ApiError> {
    (0..totp::RECOVERY_CODE_COUNT)
        .map(|_| {
            let mut random = [0u8; totp::RECOVERY_CODE_LEN];
            aws_lc_rs::rand::fill(&mut random).map_err(|_| no_randomness())?;
            Ok(totp::recovery_code(&random))
        })
        .collect()
}

/// The account's authenticator, once confirmed.
pub async fn confirmed<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Option<mfa_totp::Model>, ApiError> {
    Ok(mfa_totp::Entity::find_by_id(user_id).one(db).await?.filter(|t| t.confirmed_at.is_some()))
}

pub async fn has_confirmed<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<bool, ApiError> {
    Ok(confirmed(db, user_id).await?.is_some())
}

/// Starts enrolling a TOTP authenticator for the caller, or restarts an unconfirmed enrolment
/// with a new secret. The secret is sealed with the master key.
pub async fn enrol(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
) -> Result<Enrolment, ApiError> {
    principal.require_session()?;
    let origin = Origin::new(principal.actor(), meta.clone(), state.clock.clone());
    let now = origin.now();
    let mut secret = [0u8; totp::SECRET_BYTES];
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| no_randomness())?;
    let otpauth_uri = totp::otpauth_uri(&secret, &principal.email)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("otpauth URI: {e:?}")))?;
    let sealed = seal(state, principal.user_id, &secret)?;
    let tx = db::begin_write(&state.writer).await?;
    match mfa_totp::Entity::find_by_id(principal.user_id).one(&tx).await? {
        Some(row) if row.confirmed_at.is_some() => return Err(already_enrolled()),
        Some(_) => {
            mfa_totp::Entity::update_many()
                .col_expr(mfa_totp::Column::Secret, Expr::value(sealed))
                .col_expr(mfa_totp::Column::CreatedAt, Expr::value(now))
                .col_expr(mfa_totp::Column::LastStep, Expr::value(Option::<i64>::None))
                .filter(mfa_totp::Column::UserId.eq(principal.user_id))
                .exec(&tx)
                .await?;
        }
        None => {
            mfa_totp::Entity::insert(mfa_totp::ActiveModel {
                user_id: Set(principal.user_id),
                secret: Set(sealed),
                created_at: Set(now),
                confirmed_at: Set(None),
                last_step: Set(None),
            })
            .exec_without_returning(&tx)
            .await?;
        }
    }
    let started = MfaTotpEnrolmentStarted { user_id: principal.user_id };
    changes::record_instance(&tx, &origin, Event::MfaTotpEnrolmentStarted(started)).await?;
    tx.commit().await?;
    Ok(Enrolment { secret_base32: totp::secret_base32(&secret), otpauth_uri })
}

/// Confirms the caller's enrolment with a current code: the authenticator counts from now on,
/// the caller's session has passed MFA, and a fresh set of recovery codes replaces any older.
pub async fn confirm(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
    code: &str,
) -> Result<Confirmed, ApiError> {
    let session_id = principal.require_session()?;
    let origin = Origin::new(principal.actor(), meta.clone(), state.clock.clone());
    let now = origin.now();
    let row = mfa_totp::Entity::find_by_id(principal.user_id).one(&state.db).await?.ok_or_else(|| {
        ApiError::conflict("MFA_NOT_ENROLLING", "start an enrolment at POST /api/v1/auth/mfa/totp first")
    })?;
    if row.confirmed_at.is_some() {
        return Err(already_enrolled());
    }
    let secret = open(state, &row)?;
    let step = match Code::parse(code) {
        Code::Totp(digits) => totp::verify(&secret, &digits, now.timestamp(), row.last_step),
        Code::Recovery(_) => None,
    };
    let Some(step) = step else {
        let message = "is not the authenticator's current code";
        return Err(ApiError::new(ErrorKind::Validation, "INVALID_MFA_CODE", format!("code: {message}"))
            .with_errors(vec![FieldError { field: "code".into(), message: message.into() }]));
    };
    let recovery_codes = new_recovery_codes()?;
    let tx = db::begin_write(&state.writer).await?;
    // Only the enrolment whose secret was checked: a concurrent restart changed the secret.
    let confirmed = mfa_totp::Entity::update_many()
        .col_expr(mfa_totp::Column::ConfirmedAt, Expr::value(now))
        .col_expr(mfa_totp::Column::LastStep, Expr::value(step))
        .filter(mfa_totp::Column::UserId.eq(principal.user_id))
        .filter(mfa_totp::Column::Secret.eq(row.secret.as_str()))
        .filter(mfa_totp::Column::ConfirmedAt.is_null())
        .exec(&tx)
        .await?;
    if confirmed.rows_affected == 0 {
        return Err(ApiError::conflict(
            "MFA_NOT_ENROLLING",
            "the enrolment changed meanwhile; start again at POST /api/v1/auth/mfa/totp",
        ));
    }
    mfa_recovery_code::Entity::delete_many()
        .filter(mfa_recovery_code::Column::UserId.eq(principal.user_id))
        .exec(&tx)
        .await?;
    mfa_recovery_code::Entity::insert_many(recovery_codes.iter().map(|code| {
        mfa_recovery_code::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(principal.user_id),
            code_hash: Set(recovery_digest(code)),
            created_at: Set(now),
            used_at: Set(None),
        }
    }))
    .exec_without_returning(&tx)
    .await?;
    session::Entity::update_many()
        .col_expr(session::Column::MfaAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .exec(&tx)
        .await?;
    let enrolled = MfaTotpEnrolled {
        user_id: principal.user_id,
        recovery_codes: u32::try_from(recovery_codes.len()).unwrap_or(u32::MAX),
    };
    changes::record_instance(&tx, &origin, Event::MfaTotpEnrolled(enrolled)).await?;
    tx.commit().await?;
    Ok(Confirmed { confirmed_at: now, recovery_codes })
}

/// Issues the short-lived, single-use token between a correct password and the second factor.
/// `origin` is the user's own.
pub async fn start_challenge<C: ConnectionTrait>(
    tx: &C,
    origin: &Origin,
    user: user::Model,
) -> Result<Challenge, ApiError> {
    let now = origin.now();
    let token = crypto::new_secret(crypto::MFA_TOKEN_PREFIX).map_err(|_| no_randomness())?;
    mfa_challenge::Entity::insert(mfa_challenge::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        token_hash: Set(crypto::digest(&token)),
        created_at: Set(now),
        expires_at: Set(now + CHALLENGE_TTL),
        attempts: Set(0),
        used_at: Set(None),
    })
    .exec_without_returning(tx)
    .await?;
    changes::record_instance(tx, origin, Event::MfaChallengeIssued(MfaChallengeIssued { user_id: user.id }))
        .await?;
    let expires_in = u64::try_from(CHALLENGE_TTL.num_seconds()).unwrap_or(0);
    Ok(Challenge { mfa_token: token, expires_in, user })
}

/// The condition that keeps a challenge usable: unused, unexpired, attempts left.
fn live(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(mfa_challenge::Column::UsedAt.is_null())
        .add(mfa_challenge::Column::ExpiresAt.gt(now))
        .add(mfa_challenge::Column::Attempts.lt(CHALLENGE_ATTEMPTS))
}

/// A second factor that checked out, before it is spent.
enum Factor {
    Totp { step: i64 },
    RecoveryCode { id: Uuid },
}

/// Finishes a sign-in with a TOTP code or an unused recovery code (which is spent). A wrong
/// code costs the challenge an attempt and counts as a failed sign-in from this client.
pub async fn complete_login(
    state: &AppState,
    meta: &RequestMeta,
    mfa_token: &str,
    code: &str,
) -> Result<SignedIn, ApiError> {
    if !crypto::looks_like(mfa_token, crypto::MFA_TOKEN_PREFIX) {
        return Err(invalid_token());
    }
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
    let now = origin.now();
    let challenge = mfa_challenge::Entity::find()
        .filter(mfa_challenge::Column::TokenHash.eq(crypto::digest(mfa_token)))
        .filter(live(now))
        .one(&state.db)
        .await?
        .ok_or_else(invalid_token)?;
    let user = users::service::get(&state.db, challenge.user_id).await?;
    sessions::check_status(&user)?;
    throttle::check(&state.db, now, user.id, &throttle::client_of(meta)).await?;
    // The authenticator may have been removed since the password step.
    let authenticator = confirmed(&state.db, user.id).await?.ok_or_else(invalid_token)?;
    let code = Code::parse(code);
    let (factor_name, factor) = match &code {
        Code::Totp(digits) => {
            let secret = open(state, &authenticator)?;
            let step = totp::verify(&secret, digits, now.timestamp(), authenticator.last_step);
            ("totp", step.map(|step| Factor::Totp { step }))
        }
        Code::Recovery(normalized) => {
            let found = mfa_recovery_code::Entity::find()
                .filter(mfa_recovery_code::Column::UserId.eq(user.id))
                .filter(mfa_recovery_code::Column::CodeHash.eq(crypto::digest(normalized)))
                .filter(mfa_recovery_code::Column::UsedAt.is_null())
                .one(&state.db)
                .await?;
            ("recovery_code", found.map(|r| Factor::RecoveryCode { id: r.id }))
        }
    };

    let tx = db::begin_write(&state.writer).await?;
    // Spend the factor first; a concurrent sign-in that spent it already makes this one wrong.
    let spent = match factor {
        Some(Factor::Totp { step }) => {
            mfa_totp::Entity::update_many()
                .col_expr(mfa_totp::Column::LastStep, Expr::value(step))
                .filter(mfa_totp::Column::UserId.eq(user.id))
                .filter(
                    Condition::any()
                        .add(mfa_totp::Column::LastStep.is_null())
                        .add(mfa_totp::Column::LastStep.lt(step)),
                )
                .exec(&tx)
                .await?
                .rows_affected
                > 0
        }
        Some(Factor::RecoveryCode { id }) => {
            mfa_recovery_code::Entity::update_many()
                .col_expr(mfa_recovery_code::Column::UsedAt, Expr::value(now))
                .filter(mfa_recovery_code::Column::Id.eq(id))
                .filter(mfa_recovery_code::Column::UsedAt.is_null())
                .exec(&tx)
                .await?
                .rows_affected
                > 0
        }
        None => false,
    };
    if !spent {
        mfa_challenge::Entity::update_many()
            .col_expr(mfa_challenge::Column::Attempts, Expr::col(mfa_challenge::Column::Attempts).add(1))
            .filter(mfa_challenge::Column::Id.eq(challenge.id))
            .exec(&tx)
            .await?;
        throttle::record_failure(&tx, &origin, user.id, factor_name).await?;
        tx.commit().await?;
        let last = challenge.attempts.saturating_add(1) >= CHALLENGE_ATTEMPTS;
        return Err(ApiError::unauthenticated(
            "INVALID_MFA_CODE",
            if last {
                "the code is wrong, and this MFA token has no attempts left; sign in again"
            } else {
                "the code is wrong, expired or already used"
            },
        ));
    }
    let consumed = mfa_challenge::Entity::update_many()
        .col_expr(mfa_challenge::Column::UsedAt, Expr::value(now))
        .filter(mfa_challenge::Column::Id.eq(challenge.id))
        .filter(live(now))
        .exec(&tx)
        .await?;
    if consumed.rows_affected == 0 {
        // Used by a concurrent request; the rollback unspends the factor.
        return Err(invalid_token());
    }
    let origin = origin.as_actor(Actor::User(user.id));
    if matches!(code, Code::Recovery(_)) {
        let remaining = mfa_recovery_code::Entity::find()
            .filter(mfa_recovery_code::Column::UserId.eq(user.id))
            .filter(mfa_recovery_code::Column::UsedAt.is_null())
            .count(&tx)
            .await?;
        let used =
            MfaRecoveryCodeUsed { user_id: user.id, remaining: u32::try_from(remaining).unwrap_or(u32::MAX) };
        changes::record_instance(&tx, &origin, Event::MfaRecoveryCodeUsed(used)).await?;
    }
    throttle::clear(&tx, user.id, meta).await?;
    sessions::finish_sign_in(tx, state, &origin, user, Some(factor_name)).await
}
