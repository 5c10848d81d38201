//! Sign-up: a new account and its first org, or a seat in the org that invited it. An address
//! whose account has no password (made by a directory or an org's verified domain) is claimed
//! instead: the chosen password takes effect when the emailed link proves the address.

use guildhall_entities::user;
use sea_orm::EntityTrait;

use super::service::{MAX_PASSWORD, SignedIn, sign_access, start_session};
use crate::{
    AppState,
    audit::Actor,
    changes::{
        self, Event,
        catalog::{OrgCreated, UserSignedUp},
    },
    db,
    error::ApiError,
    http::RequestMeta,
    instance, invitations, mfa, orgs,
    scope::{OrgId, Origin},
    users::{self, UserStatus, email, service::NewUser},
};

const MAX_ORG_NAME: usize = 100;

pub enum SignupOutcome {
    SignedIn(Box<SignedIn>),
    Pending(Box<user::Model>),
    /// The address had an account without a password (made by a directory or an org's verified
    /// domain): the chosen password takes effect when the emailed link proves the address.
    VerifyToClaim(Box<user::Model>),
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
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
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
    if let Some(existing) = users::service::find_by_email(&state.db, &email).await? {
        if !users::service::is_claimable(&existing) {
            return Err(ApiError::conflict("EMAIL_TAKEN", "an account with this email already exists"));
        }
        let hash = state.passwords.hash(&new.password).await?;
        let now = origin.now();
        let tx = db::begin_write(&state.writer).await?;
        let token = users::verification::issue_claim(&tx, state, now, existing.id, hash).await?;
        tx.commit().await?;
        users::verification::send_claim(state, &existing.email, &token).await;
        return Ok(SignupOutcome::VerifyToClaim(Box::new(existing)));
    }
    let now = origin.now();
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
        NewUser {
            email,
            password_hash: Some(hash),
            status,
            is_instance_admin: first,
            provisioned_by_org_id: None,
            unclaimed_email: None,
        },
    )
    .await?;
    let signed_up = UserSignedUp { user_id: user.id, status: status.as_str().into(), instance_admin: first };
    changes::record_instance(&tx, &origin, Event::UserSignedUp(signed_up)).await?;
    let origin = origin.as_actor(Actor::User(user.id));
    let (org, verification) = match &invitation_token {
        // The token reached this address: the address is verified, and the user joins the
        // inviting org (and any other org that invited them) instead of getting one of their own.
        Some(token) => {
            let invitation = invitations::service::check_token(&tx, token, &user.email, now).await?;
            let joined = invitations::service::accept_in(&tx, &origin, invitation, &user).await?;
            let verified = users::service::mark_verified(&tx, user.clone(), now).await?;
            crate::provisioning::on_verified_address(&tx, &origin, &verified).await?;
            (joined, None)
        }
        None => {
            let org = orgs::service::create_with_owner(&tx, now, &org_name, user.id).await?;
            let created = OrgCreated { org_id: org.id, name: org.name.clone(), slug: org.slug.clone() };
            changes::record(&tx, &origin.in_org(OrgId::stored(org.id)), Event::OrgCreated(created)).await?;
            let token = users::verification::issue(&tx, state, now, user.id).await?;
            (org, Some(token))
        }
    };
    // A new account has no second factor yet: it starts outside an org that requires one.
    let org = if mfa::policy::requires_by_id(&tx, org.id).await? { None } else { Some(org) };
    let session = if status == UserStatus::Active {
        Some(start_session(&tx, state, now, user.id, org.as_ref().map(|o| o.id)).await?)
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
    let access_token = sign_access(state, now, &user, org.as_ref(), session_id, &Default::default()).await?;
    Ok(SignupOutcome::SignedIn(Box::new(SignedIn {
        access_token,
        refresh_token: refresh,
        expires_in: state.config.tokens.access_ttl_seconds,
        user,
        org,
    })))
}
