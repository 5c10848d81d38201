use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{invitation, membership, org, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::{
    AppState,
    audit::Actor,
    auth::{OrgContext, Principal},
    changes::{
        self, Event,
        catalog::{InvitationAccepted, InvitationCreated, InvitationResent, InvitationRevoked},
    },
    crypto, db,
    error::ApiError,
    http::RequestMeta,
    mail::Mail,
    members::service as members,
    orgs::ActiveOrg,
    paging::PageRequest,
    permissions::Permission,
    provisioning::{self, Consent, JoinOutcome},
    scope::{OrgId, Origin, scoped},
};

/// What the API shows of an invitation.
pub struct InvitationView {
    pub invitation: invitation::Model,
    /// Whether the email with the link was handed to the mail transport.
    pub email_sent: Option<bool>,
}

fn ttl(state: &AppState) -> Duration {
    Duration::hours(i64::try_from(state.config.tokens.invitation_ttl_hours).unwrap_or(168))
}

fn new_token() -> Result<String, ApiError> {
    crypto::new_secret(crypto::INVITATION_TOKEN_PREFIX)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))
}

/// Sends the invitation email; a failure is logged and reported, the invitation stays.
async fn send(state: &AppState, org_name: &str, inv: &invitation::Model, token: &str) -> bool {
    let base = &state.config.public_base_url;
    let body = format!(
        "You have been invited to join {org_name} on Guildhall as {role}.\n\n\
         Accept the invitation:\n{base}/invitations/accept?token={token}\n\n\
         Or present this invitation token when you sign up or while signed in as {email}:\n{token}\n\n\
         The invitation expires at {expires} (UTC).\n",
        role = inv.role,
        email = inv.email,
        expires = inv.expires_at.format("%Y-%m-%d %H:%M"),
    );
    let mail = Mail { to: inv.email.clone(), subject: format!("Join {org_name} on Guildhall"), body };
    match state.mailer.send(mail).await {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), invitation_id = %inv.id, "invitation email not sent");
            false
        }
    }
}

pub async fn create(
    state: &AppState,
    ctx: &OrgContext,
    email: String,
    role: String,
) -> Result<InvitationView, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    members::check_role_assignable(&tx, ctx, &role).await?;
    crate::domains::service::require_allowed(&tx, ctx.org_id(), &email).await?;
    let already_member = scoped::<membership::Entity>(ctx)
        .inner_join(user::Entity)
        .filter(user::Column::Email.eq(email.as_str()))
        .count(&tx)
        .await?;
    if already_member > 0 {
        return Err(ApiError::conflict("ALREADY_MEMBER", "that email already belongs to a member"));
    }
    let pending = scoped::<invitation::Entity>(ctx)
        .filter(invitation::Column::Email.eq(email.as_str()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .one(&tx)
        .await?;
    if let Some(p) = pending {
        return Err(ApiError::conflict(
            "INVITATION_PENDING",
            format!(
                "{email} already has a pending invitation; resend it with POST /api/v1/invitations/{}/resend",
                p.id
            ),
        ));
    }
    let token = new_token()?;
    let row = invitation::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(ctx.org_id()),
        email: Set(email.clone()),
        role: Set(role.clone()),
        token_hash: Set(crypto::digest(&token)),
        invited_by: Set(Some(ctx.principal().user_id)),
        created_at: Set(now),
        expires_at: Set(now + ttl(state)),
        accepted_at: Set(None),
        accepted_by: Set(None),
        revoked_at: Set(None),
    }
    .insert(&tx)
    .await?;
    let created = InvitationCreated {
        invitation_id: row.id,
        email: email.clone(),
        role: role.clone(),
        expires_at: row.expires_at,
    };
    changes::record(&tx, ctx, Event::InvitationCreated(created)).await?;
    tx.commit().await?;
    let sent = send(state, &ctx.org().name, &row, &token).await;
    Ok(InvitationView { invitation: row, email_sent: Some(sent) })
}

pub async fn list_pending(
    state: &AppState,
    ctx: &OrgContext,
    page: PageRequest,
) -> Result<(Vec<invitation::Model>, Option<String>, bool), ApiError> {
    let now = ctx.now();
    let mut query = scoped::<invitation::Entity>(ctx)
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_asc(invitation::Column::Id)
        .limit(page.fetch());
    if let Some(after) = page.after {
        query = query.filter(invitation::Column::Id.gt(after));
    }
    Ok(page.finish(query.all(&state.db).await?, |i| i.id))
}

/// Finds an invitation by id for someone who may manage invitations in its org; anyone else
/// (including members of other orgs) gets "not found".
async fn manageable(
    state: &AppState,
    meta: &RequestMeta,
    principal: Principal,
    id: Uuid,
) -> Result<(OrgContext, invitation::Model), ApiError> {
    // The id alone names no org; the org scope is applied right after, by resolving the context.
    let found = invitation::Entity::find_by_id(id).one(&state.db).await?.ok_or_else(ApiError::not_found)?;
    let ctx = OrgContext::resolve(state, meta.clone(), principal, &found.org_id.to_string()).await?;
    ctx.require(Permission::InvitationsWrite)?;
    Ok((ctx, found))
}

fn not_pending(i: &invitation::Model, now: DateTime<Utc>) -> Option<ApiError> {
    if i.accepted_at.is_some() {
        Some(ApiError::conflict("INVITATION_USED", "the invitation has already been accepted"))
    } else if i.revoked_at.is_some() {
        Some(ApiError::conflict("INVITATION_REVOKED", "the invitation has been revoked"))
    } else if i.expires_at <= now {
        Some(ApiError::conflict("INVITATION_EXPIRED", "the invitation has expired"))
    } else {
        None
    }
}

/// A new token and expiry; the old link stops working. Also revives an expired invitation.
pub async fn resend(
    state: &AppState,
    meta: &RequestMeta,
    principal: Principal,
    id: Uuid,
) -> Result<InvitationView, ApiError> {
    let (ctx, found) = manageable(state, meta, principal, id).await?;
    let now = ctx.now();
    if let Some(err) = not_pending(&found, now).filter(|e| e.code() != "INVITATION_EXPIRED") {
        return Err(err);
    }
    let token = new_token()?;
    let tx = db::begin_write(&state.writer).await?;
    let mut row = found.into_active_model();
    row.token_hash = Set(crypto::digest(&token));
    row.expires_at = Set(now + ttl(state));
    let row = row.update(&tx).await?;
    let resent =
        InvitationResent { invitation_id: row.id, email: row.email.clone(), expires_at: row.expires_at };
    changes::record(&tx, &ctx, Event::InvitationResent(resent)).await?;
    tx.commit().await?;
    let sent = send(state, &ctx.org().name, &row, &token).await;
    Ok(InvitationView { invitation: row, email_sent: Some(sent) })
}

pub async fn revoke(
    state: &AppState,
    meta: &RequestMeta,
    principal: Principal,
    id: Uuid,
) -> Result<InvitationView, ApiError> {
    let (ctx, found) = manageable(state, meta, principal, id).await?;
    let now = ctx.now();
    if found.accepted_at.is_some() || found.revoked_at.is_some() {
        return Err(not_pending(&found, now)
            .unwrap_or_else(|| ApiError::conflict("INVITATION_REVOKED", "already revoked")));
    }
    let tx = db::begin_write(&state.writer).await?;
    let mut row = found.into_active_model();
    row.revoked_at = Set(Some(now));
    let row = row.update(&tx).await?;
    let revoked = InvitationRevoked { invitation_id: row.id, email: row.email.clone() };
    changes::record(&tx, &ctx, Event::InvitationRevoked(revoked)).await?;
    tx.commit().await?;
    Ok(InvitationView { invitation: row, email_sent: None })
}

/// Looks up a presented token for `email`, with the distinct errors of each bad case.
pub async fn check_token<C: ConnectionTrait>(
    db: &C,
    token: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<invitation::Model, ApiError> {
    let unknown = || {
        ApiError::new(
            crate::error::ErrorKind::NotFound,
            "INVITATION_NOT_FOUND",
            "no invitation has this token",
        )
    };
    if !crypto::looks_like(token, crypto::INVITATION_TOKEN_PREFIX) {
        return Err(unknown());
    }
    let found = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(crypto::digest(token)))
        .one(db)
        .await?
        .ok_or_else(unknown)?;
    if let Some(err) = not_pending(&found, now) {
        return Err(err);
    }
    if found.email != email {
        return Err(ApiError::forbidden(
            "INVITATION_EMAIL_MISMATCH",
            "the invitation was sent to another email address; sign in as that address",
        ));
    }
    Ok(found)
}

/// Joins the invitation's org and marks it accepted, inside the caller's transaction.
pub async fn accept_in<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    inv: invitation::Model,
    user: &user::Model,
) -> Result<ActiveOrg, ApiError> {
    let now = origin.now();
    let org = org::Entity::find_by_id(inv.org_id).one(db).await?.ok_or_else(ApiError::not_found)?;
    let scope = origin.as_actor(Actor::User(user.id)).in_org(OrgId::of(&org));
    let role = match provisioning::admit(db, &scope, &org, user, &inv.role, Consent::Invitation).await? {
        JoinOutcome::Joined(m) | JoinOutcome::AlreadyMember(m) => m.role,
    };
    let mut row = inv.clone().into_active_model();
    row.accepted_at = Set(Some(now));
    row.accepted_by = Set(Some(user.id));
    row.update(db).await?;
    let accepted = InvitationAccepted {
        invitation_id: inv.id,
        user_id: user.id,
        email: user.email.clone(),
        role: role.clone(),
    };
    changes::record(db, &scope, Event::InvitationAccepted(accepted)).await?;
    Ok(ActiveOrg { id: org.id, name: org.name, slug: org.slug, role })
}

/// Accepts every pending invitation for the user's (verified) email. An invitation the org's
/// rules now refuse (full org, domain no longer allowed) stays pending.
pub async fn accept_pending_for<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    user: &user::Model,
) -> Result<Vec<ActiveOrg>, ApiError> {
    let now = origin.now();
    let pending = invitation::Entity::find()
        .filter(invitation::Column::Email.eq(user.email.as_str()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::RevokedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_asc(invitation::Column::Id)
        .all(db)
        .await?;
    let mut joined = Vec::new();
    for inv in pending {
        let id = inv.id;
        match accept_in(db, origin, inv, user).await {
            Ok(org) => joined.push(org),
            Err(err) if err.kind() != crate::error::ErrorKind::Internal => {
                tracing::info!(invitation_id = %id, code = err.code(), "pending invitation not accepted automatically");
            }
            Err(err) => return Err(err),
        }
    }
    Ok(joined)
}

/// Explicit acceptance by a signed-in user presenting the token.
pub async fn accept(
    state: &AppState,
    meta: &RequestMeta,
    principal: &Principal,
    token: &str,
) -> Result<ActiveOrg, ApiError> {
    let origin = Origin::new(principal.actor(), meta.clone(), state.clock.clone());
    let now = origin.now();
    let tx = db::begin_write(&state.writer).await?;
    let inv = check_token(&tx, token, &principal.email, now).await?;
    let user = crate::users::service::get(&tx, principal.user_id).await?;
    let org = accept_in(&tx, &origin, inv, &user).await?;
    // The token reached this address, so the address is the user's.
    let user = crate::users::service::mark_verified(&tx, user, now).await?;
    provisioning::on_verified_address(&tx, &origin, &user).await?;
    tx.commit().await?;
    Ok(org)
}
