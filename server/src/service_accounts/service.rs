use guildhall_entities::{api_token, membership, user};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{
            ServiceAccountCreated, ServiceAccountDeleted, ServiceAccountTokenCreated,
            ServiceAccountTokenRevoked,
        },
    },
    credentials::{self, Standing},
    db,
    error::ApiError,
    members::service as members,
    scope::scoped,
    tokens::service::{self as tokens, IssuedToken, NewToken},
    users::service::{KIND_SERVICE, NewUser, UserStatus},
};

pub const MAX_TOKENS_PER_ACCOUNT: u64 = 20;

pub struct ServiceAccount {
    pub user: user::Model,
    pub role: String,
    pub token_count: u64,
}

pub async fn list(state: &AppState, ctx: &OrgContext) -> Result<Vec<ServiceAccount>, ApiError> {
    let rows = scoped::<membership::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(user::Column::Kind.eq(KIND_SERVICE))
        .order_by_asc(membership::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for (m, u) in rows {
        let Some(u) = u else { continue };
        let token_count =
            api_token::Entity::find().filter(api_token::Column::UserId.eq(u.id)).count(&state.db).await?;
        out.push(ServiceAccount { user: u, role: m.role, token_count });
    }
    Ok(out)
}

/// A service account of the org. It belongs to the org it was created in, and nowhere else is
/// it found: should it have a membership elsewhere (joined before that was refused), that org
/// still cannot manage it.
async fn find<C: sea_orm::ConnectionTrait>(
    db: &C,
    ctx: &OrgContext,
    id: Uuid,
) -> Result<(user::Model, String), ApiError> {
    let (m, u) = scoped::<membership::Entity>(ctx)
        .find_also_related(user::Entity)
        .filter(membership::Column::UserId.eq(id))
        .filter(user::Column::Kind.eq(KIND_SERVICE))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let older_home = membership::Entity::find()
        .filter(membership::Column::UserId.eq(id))
        .filter(membership::Column::OrgId.ne(ctx.org_id()))
        .filter(membership::Column::CreatedAt.lte(m.created_at))
        .count(db)
        .await?;
    if older_home > 0 {
        return Err(ApiError::not_found());
    }
    Ok((u.ok_or_else(ApiError::not_found)?, m.role))
}

pub async fn create(
    state: &AppState,
    ctx: &OrgContext,
    name: String,
    role: String,
) -> Result<ServiceAccount, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    members::check_role_assignable(&tx, ctx, &role).await?;
    let id = Uuid::now_v7();
    // Service accounts have no mailbox; the reserved `.invalid` TLD (RFC 2606) keeps the
    // identity unique without colliding with a person's address.
    let mut account = crate::users::service::insert(
        &tx,
        now,
        NewUser {
            email: format!("sa-{}@service.invalid", id.simple()),
            password_hash: None,
            status: UserStatus::Active,
            is_instance_admin: false,
            provisioned_by_org_id: None,
            unclaimed_email: None,
        },
    )
    .await?;
    user::Entity::update_many()
        .col_expr(user::Column::Kind, sea_orm::sea_query::Expr::value(KIND_SERVICE))
        .col_expr(user::Column::DisplayName, sea_orm::sea_query::Expr::value(name.clone()))
        .filter(user::Column::Id.eq(account.id))
        .exec(&tx)
        .await?;
    account.kind = KIND_SERVICE.into();
    account.display_name = Some(name.clone());
    crate::orgs::service::insert_membership(&tx, now, ctx.org_id(), account.id, &role).await?;
    let created = ServiceAccountCreated { service_account_id: account.id, name, role: role.clone() };
    changes::record(&tx, ctx, Event::ServiceAccountCreated(created)).await?;
    tx.commit().await?;
    Ok(ServiceAccount { user: account, role, token_count: 0 })
}

pub async fn delete(state: &AppState, ctx: &OrgContext, id: Uuid) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let (account, role) = find(&tx, ctx, id).await?;
    if role == crate::permissions::OWNER {
        ctx.require_owner()?;
    }
    user::Entity::delete_by_id(account.id).exec(&tx).await?;
    let deleted = ServiceAccountDeleted {
        service_account_id: account.id,
        name: account.display_name.unwrap_or_default(),
    };
    changes::record(&tx, ctx, Event::ServiceAccountDeleted(deleted)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn create_token(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
    new: NewToken,
) -> Result<IssuedToken, ApiError> {
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    let (account, role) = find(&tx, ctx, id).await?;
    // A token acts with the account's role: minting one takes standing as high as that role.
    let issuer = Standing { role: ctx.role().to_string(), permissions: ctx.permissions().clone() };
    let account_standing = Standing {
        permissions: crate::roles::service::permissions_of(&tx, ctx.org_id(), &role).await?,
        role,
    };
    if !credentials::may_mint_for(&issuer, &account_standing) {
        return Err(ApiError::forbidden(
            "PERMISSION_NOT_HELD",
            format!(
                "this service account is `{}`; minting its tokens takes holding every permission of that role",
                account_standing.role
            ),
        ));
    }
    let existing =
        api_token::Entity::find().filter(api_token::Column::UserId.eq(account.id)).count(&tx).await?;
    if existing >= MAX_TOKENS_PER_ACCOUNT {
        return Err(ApiError::conflict(
            "TOO_MANY_TOKENS",
            format!("a service account may hold at most {MAX_TOKENS_PER_ACCOUNT} tokens"),
        ));
    }
    let issued =
        tokens::insert(&tx, now, account.id, ctx.org_id(), new, false, Some(ctx.principal().user_id)).await?;
    let created = ServiceAccountTokenCreated {
        service_account_id: account.id,
        token_id: issued.token.id,
        name: issued.token.name.clone(),
    };
    changes::record(&tx, ctx, Event::ServiceAccountTokenCreated(created)).await?;
    tx.commit().await?;
    Ok(issued)
}

pub async fn list_tokens(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
) -> Result<Vec<api_token::Model>, ApiError> {
    let (account, _) = find(&state.db, ctx, id).await?;
    Ok(scoped::<api_token::Entity>(ctx)
        .filter(api_token::Column::UserId.eq(account.id))
        .order_by_asc(api_token::Column::Id)
        .all(&state.db)
        .await?)
}

pub async fn revoke_token(
    state: &AppState,
    ctx: &OrgContext,
    id: Uuid,
    token_id: Uuid,
) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let (account, _) = find(&tx, ctx, id).await?;
    let token = scoped::<api_token::Entity>(ctx)
        .filter(api_token::Column::UserId.eq(account.id))
        .filter(api_token::Column::Id.eq(token_id))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    api_token::Entity::delete_by_id(token.id).exec(&tx).await?;
    let revoked = ServiceAccountTokenRevoked {
        service_account_id: account.id,
        token_id: token.id,
        name: token.name,
        reason: None,
        issuer: None,
    };
    changes::record(&tx, ctx, Event::ServiceAccountTokenRevoked(revoked)).await?;
    tx.commit().await?;
    Ok(())
}
