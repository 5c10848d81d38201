//! SCIM tokens: one org each, shown once, stored as SHA-256. Issuing a new token keeps the
//! previous ones working for 24 hours (in-flight IdP requests), and each use of such a legacy
//! token is audited; revoking removes every token of the org at once.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{org, scim_token};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::{
    AppState,
    audit::Actor,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{ScimTokenIssued, ScimTokenLegacyUsed, ScimTokenRevoked},
    },
    credentials::{self, Standing},
    crypto, db,
    error::ApiError,
    http::RequestMeta,
    plugins::directory::DirectoryMapper,
    scope::{OrgId, Scope},
};

pub const GRACE: Duration = Duration::hours(24);
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

pub struct IssuedScimToken {
    pub id: Uuid,
    pub token: String,
    pub created_at: DateTime<Utc>,
    /// Until when the tokens it replaced keep working, if there were any.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// Issues a token. Through the org's group-to-role mappings a directory confers roles, so the
/// issuer must stand as high as every mapped role (an `owner` mapping makes this owner-only),
/// and only an owner issues a token that may manage owners' memberships.
pub async fn issue(
    state: &AppState,
    ctx: &OrgContext,
    manage_owners: bool,
) -> Result<IssuedScimToken, ApiError> {
    let now = ctx.now();
    let secret = crypto::new_secret(crypto::SCIM_TOKEN_PREFIX)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))?;
    let tx = db::begin_write(&state.writer).await?;
    let issuer = Standing { role: ctx.role().to_string(), permissions: ctx.permissions().clone() };
    let mapped = credentials::mapped_roles(&tx, ctx.org_id()).await?;
    if !credentials::may_issue_scim_token(&issuer, &mapped, manage_owners) {
        let why = if manage_owners && !ctx.is_owner() {
            "only an owner can issue a SCIM token that manages owners".to_string()
        } else {
            let over = mapped.iter().find(|m| !issuer.covers(m)).map_or("", |m| m.role.as_str());
            format!("the org maps directory groups to the role `{over}`, which you do not stand as high as")
        };
        return Err(ApiError::forbidden("PERMISSION_NOT_HELD", why));
    }
    scim_token::Entity::delete_many()
        .filter(scim_token::Column::OrgId.eq(ctx.org_id()))
        .filter(scim_token::Column::ExpiresAt.lte(now))
        .exec(&tx)
        .await?;
    let grace_end = now + GRACE;
    let rotated = scim_token::Entity::update_many()
        .col_expr(scim_token::Column::ExpiresAt, Expr::value(grace_end))
        .filter(scim_token::Column::OrgId.eq(ctx.org_id()))
        .filter(scim_token::Column::ExpiresAt.is_null())
        .exec(&tx)
        .await?;
    let id = Uuid::now_v7();
    scim_token::Entity::insert(scim_token::ActiveModel {
        id: Set(id),
        org_id: Set(ctx.org_id()),
        token_hash: Set(crypto::digest(&secret)),
        created_by: Set(Some(ctx.principal().user_id)),
        created_at: Set(now),
        expires_at: Set(None),
        last_used_at: Set(None),
        manage_owners: Set(manage_owners),
    })
    .exec_without_returning(&tx)
    .await?;
    let previous_valid_until = (rotated.rows_affected > 0).then_some(grace_end);
    let issued = ScimTokenIssued { token_id: id, previous_valid_until, manage_owners };
    let event = if rotated.rows_affected > 0 {
        Event::ScimTokenRotated(issued)
    } else {
        Event::ScimTokenCreated(issued)
    };
    changes::record(&tx, ctx, event).await?;
    tx.commit().await?;
    Ok(IssuedScimToken { id, token: secret, created_at: now, previous_valid_until })
}

pub async fn revoke_all(state: &AppState, ctx: &OrgContext) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let removed = scim_token::Entity::delete_many()
        .filter(scim_token::Column::OrgId.eq(ctx.org_id()))
        .exec(&tx)
        .await?;
    let revoked = ScimTokenRevoked {
        token_id: None,
        tokens_revoked: removed.rows_affected,
        reason: None,
        issuer: None,
    };
    changes::record(&tx, ctx, Event::ScimTokenRevoked(revoked)).await?;
    tx.commit().await?;
    Ok(())
}

/// The org a SCIM request acts in.
#[derive(Clone, Debug)]
pub struct ScimContext {
    scope: Scope,
    pub org: org::Model,
    pub token_id: Uuid,
    /// An owner allowed this token to adopt, deactivate and delete owners' memberships.
    pub manage_owners: bool,
    /// The org's role-mapper plugin for directory writes, prepared by the first write of the
    /// request ([`super::commit`]) and shared by the copies of the context that write takes.
    role_mapper: Arc<OnceCell<Option<Arc<DirectoryMapper>>>>,
}

/// The SCIM request's [`Scope`]: the token's org, the directory as actor.
impl std::ops::Deref for ScimContext {
    type Target = Scope;

    fn deref(&self) -> &Scope {
        &self.scope
    }
}

impl ScimContext {
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Prepares the org's role mapper for this request's writes (once), if the org names one.
    pub async fn prepare_role_mapper(
        &self,
        state: &AppState,
    ) -> Result<Option<Arc<DirectoryMapper>>, ApiError> {
        let load = || DirectoryMapper::load(state, &self.org, format!("scim-token:{}", self.token_id));
        self.role_mapper.get_or_try_init(load).await.cloned()
    }

    /// The role mapper [`Self::prepare_role_mapper`] prepared.
    pub fn role_mapper(&self) -> Option<&DirectoryMapper> {
        self.role_mapper.get().and_then(Option::as_deref)
    }

    /// The directory may change an owner's membership only with an owner's leave.
    pub fn require_may_manage(
        &self,
        membership: &guildhall_entities::membership::Model,
    ) -> Result<(), ApiError> {
        if membership.role == crate::permissions::OWNER && !self.manage_owners {
            return Err(ApiError::forbidden(
                "OWNER_PROTECTED",
                "this is an owner's membership; the directory may manage owners only with a SCIM token \
                 an owner issued with `manage_owners`",
            )
            .without_scim_type());
        }
        Ok(())
    }
}

/// Checks a `gh_scim_` secret; a rotated token works until its grace ends, and its use is
/// recorded (at most once a minute per token).
pub async fn authenticate(
    state: &AppState,
    meta: &RequestMeta,
    secret: &str,
) -> Result<ScimContext, ApiError> {
    let invalid =
        || ApiError::unauthenticated("INVALID_TOKEN", "the SCIM token is invalid, expired or revoked");
    if !crypto::looks_like(secret, crypto::SCIM_TOKEN_PREFIX) {
        return Err(invalid());
    }
    let now = state.clock.now();
    let (token, org) = scim_token::Entity::find()
        .filter(scim_token::Column::TokenHash.eq(crypto::digest(secret)))
        .find_also_related(org::Entity)
        .one(&state.db)
        .await?
        .ok_or_else(invalid)?;
    let org = org.ok_or_else(invalid)?;
    if token.expires_at.is_some_and(|t| t <= now) {
        return Err(invalid());
    }
    let scope =
        Scope::new(OrgId::of(&org), Actor::Scim { token_id: token.id }, meta.clone(), state.clock.clone());
    if token.last_used_at.is_none_or(|t| now - t >= LAST_USED_GRANULARITY) {
        let tx = db::begin_write(&state.writer).await?;
        scim_token::Entity::update_many()
            .col_expr(scim_token::Column::LastUsedAt, Expr::value(now))
            .filter(scim_token::Column::Id.eq(token.id))
            .exec(&tx)
            .await?;
        if let Some(until) = token.expires_at {
            let used = ScimTokenLegacyUsed { token_id: token.id, valid_until: until };
            changes::record(&tx, &scope, Event::ScimTokenLegacyUsed(used)).await?;
        }
        tx.commit().await?;
    }
    Ok(ScimContext {
        scope,
        org,
        token_id: token.id,
        manage_owners: token.manage_owners,
        role_mapper: Arc::default(),
    })
}
