use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{api_token, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    AppState,
    auth::{Credential, OrgRef, Principal},
    changes::{
        self, Event,
        catalog::{ApiTokenCreated, ApiTokenRevoked},
    },
    crypto, db,
    error::ApiError,
    http::RequestMeta,
    mfa, orgs,
    paging::PageRequest,
    scope::{OrgId, Origin, Scope},
    users::UserStatus,
};

pub const MAX_TOKENS_PER_USER: u64 = 100;
const MAX_NAME: usize = 100;
pub const DEFAULT_TOKEN_NAME: &str = "default";
/// `last_used_at` is written at most this often per token, to keep reads cheap.
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

pub struct NewToken {
    pub name: String,
    pub expires_at: Option<DateTime<Utc>>,
}

pub fn validate(
    name: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<NewToken, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::validation("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::validation("name", format!("must be at most {MAX_NAME} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::validation("name", "must not contain control characters"));
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::validation("expires_at", "must be in the future"));
    }
    Ok(NewToken { name: name.to_string(), expires_at })
}

/// A token and, right after creation only, its secret.
pub struct IssuedToken {
    pub token: api_token::Model,
    pub secret: Option<String>,
}

fn acting_org(principal: &Principal) -> Result<&OrgRef, ApiError> {
    principal
        .org
        .as_ref()
        .ok_or_else(|| ApiError::conflict("NO_ACTIVE_ORG", "select an organization before creating tokens"))
}

/// The caller acting in the org of a token (theirs: its org is the one it was stored for).
fn token_scope(state: &AppState, meta: &RequestMeta, principal: &Principal, org_id: Uuid) -> Scope {
    Origin::new(principal.actor(), meta.clone(), state.clock.clone()).in_org(OrgId::stored(org_id))
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    user_id: Uuid,
    org_id: Uuid,
    new: NewToken,
    is_default: bool,
    created_by: Option<Uuid>,
) -> Result<IssuedToken, ApiError> {
    let secret = crypto::new_secret(crypto::PERSONAL_TOKEN_PREFIX)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))?;
    let token = api_token::Model {
        id: Uuid::now_v7(),
        user_id,
        org_id,
        name: new.name,
        token_hash: crypto::digest(&secret),
        is_default,
        created_at: now,
        last_used_at: None,
        expires_at: new.expires_at,
        created_by,
    };
    api_token::Entity::insert(api_token::ActiveModel {
        id: Set(token.id),
        user_id: Set(token.user_id),
        org_id: Set(token.org_id),
        name: Set(token.name.clone()),
        token_hash: Set(token.token_hash.clone()),
        is_default: Set(is_default),
        created_at: Set(now),
        last_used_at: Set(None),
        expires_at: Set(token.expires_at),
        created_by: Set(created_by),
    })
    .exec_without_returning(db)
    .await?;
    Ok(IssuedToken { token, secret: Some(secret) })
}

pub async fn create(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
    new: NewToken,
) -> Result<IssuedToken, ApiError> {
    principal.require_session()?;
    let org = acting_org(principal)?;
    mfa::policy::check_session(&state.db, principal, org.id).await?;
    let scope = token_scope(state, meta, principal, org.id);
    let now = scope.now();
    let tx = db::begin_write(&state.writer).await?;
    let existing =
        api_token::Entity::find().filter(api_token::Column::UserId.eq(principal.user_id)).count(&tx).await?;
    if existing >= MAX_TOKENS_PER_USER {
        return Err(ApiError::conflict(
            "TOO_MANY_TOKENS",
            format!("a user may hold at most {MAX_TOKENS_PER_USER} tokens"),
        ));
    }
    let issued = insert(&tx, now, principal.user_id, org.id, new, false, None).await?;
    let created = ApiTokenCreated {
        token_id: issued.token.id,
        user_id: issued.token.user_id,
        name: issued.token.name.clone(),
        expires_at: issued.token.expires_at,
        default: None,
    };
    changes::record(&tx, &scope, Event::ApiTokenCreated(created)).await?;
    tx.commit().await?;
    Ok(issued)
}

/// The caller's default token for their active org, made on first request (secret shown then).
pub async fn default_token(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
) -> Result<IssuedToken, ApiError> {
    let org = acting_org(principal)?;
    let find = || {
        api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(principal.user_id))
            .filter(api_token::Column::OrgId.eq(org.id))
            .filter(api_token::Column::IsDefault.eq(true))
    };
    mfa::policy::check_session(&state.db, principal, org.id).await?;
    if let Some(token) = find().one(&state.db).await? {
        return Ok(IssuedToken { token, secret: None });
    }
    principal.require_session()?;
    let scope = token_scope(state, meta, principal, org.id);
    let now = scope.now();
    let tx = db::begin_write(&state.writer).await?;
    // Re-check under the write lock so two first requests make one token.
    if let Some(token) = find().one(&tx).await? {
        return Ok(IssuedToken { token, secret: None });
    }
    let new = NewToken { name: DEFAULT_TOKEN_NAME.into(), expires_at: None };
    let issued = insert(&tx, now, principal.user_id, org.id, new, true, None).await?;
    let created = ApiTokenCreated {
        token_id: issued.token.id,
        user_id: issued.token.user_id,
        name: DEFAULT_TOKEN_NAME.into(),
        expires_at: None,
        default: Some(true),
    };
    changes::record(&tx, &scope, Event::ApiTokenCreated(created)).await?;
    tx.commit().await?;
    Ok(issued)
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    page: PageRequest,
) -> Result<(Vec<api_token::Model>, Option<String>, bool), ApiError> {
    let mut query = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(principal.user_id))
        .order_by_asc(api_token::Column::Id)
        .limit(page.fetch());
    if let Some(after) = page.after {
        query = query.filter(api_token::Column::Id.gt(after));
    }
    let rows = query.all(&state.db).await?;
    Ok(page.finish(rows, |t| t.id))
}

/// Revokes one of the caller's own tokens; anyone else's is "not found".
pub async fn revoke(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
    id: Uuid,
) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let token = api_token::Entity::find_by_id(id)
        .filter(api_token::Column::UserId.eq(principal.user_id))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    api_token::Entity::delete_by_id(token.id).exec(&tx).await?;
    let scope = token_scope(state, meta, principal, token.org_id);
    let revoked = ApiTokenRevoked { token_id: token.id, user_id: token.user_id, name: token.name };
    changes::record(&tx, &scope, Event::ApiTokenRevoked(revoked)).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a `gh_pat_` secret: it must exist, be unexpired, belong to an active user who is
/// still an active member of the token's org. A person's token for an org that requires MFA
/// works only while they have a confirmed authenticator (service accounts have none and are
/// exempt).
pub async fn authenticate(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let invalid =
        || ApiError::unauthenticated("INVALID_TOKEN", "the API token is invalid, expired or revoked");
    if !crypto::looks_like(secret, crypto::PERSONAL_TOKEN_PREFIX) {
        return Err(invalid());
    }
    let now = state.clock.now();
    let (token, user) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(crypto::digest(secret)))
        .find_also_related(user::Entity)
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let user = user.ok_or_else(invalid)?;
    if token.expires_at.is_some_and(|t| t <= now) {
        return Err(invalid());
    }
    if UserStatus::parse(&user.status) != Some(UserStatus::Active) {
        return Err(ApiError::unauthenticated("ACCOUNT_DISABLED", "the account is not active"));
    }
    let org =
        orgs::service::active_membership(&state.db, token.org_id, user.id).await?.ok_or_else(invalid)?;
    if user.kind != crate::users::service::KIND_SERVICE
        && mfa::policy::requires_by_id(&state.db, org.id).await?
        && !mfa::service::has_confirmed(&state.db, user.id).await?
    {
        return Err(mfa::policy::mfa_required());
    }
    if token.last_used_at.is_none_or(|t| now - t >= LAST_USED_GRANULARITY) {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(token.id))
            .exec(&state.db)
            .await?;
    }
    Ok(Principal {
        user_id: user.id,
        email: user.email.clone(),
        is_instance_admin: user.is_instance_admin,
        is_service_account: user.kind == crate::users::service::KIND_SERVICE,
        org: Some(OrgRef { id: org.id, slug: org.slug, role: org.role }),
        credential: Credential::PersonalToken { token_id: token.id },
        mfa_at: None,
        sso_provider_id: None,
        account: crate::auth::Account(user),
    })
}
