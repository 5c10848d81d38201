//! The end of every SSO sign-in, whatever the protocol: the IdP's verified word becomes an
//! account, a membership with a role, an audit entry and a one-time code; or a refusal with a
//! reason, audited too. The code is exchanged for tokens at `POST /api/v1/auth/sso/exchange`.
//!
//! Trust rules: an IdP speaks only for the org's verified domains that its provider serves; the
//! account of a subject is linked at its first sign-in and found by (provider, subject) from
//! then on, so a changed email claim never moves a sign-in onto another account.

use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{membership, org, sso_code, sso_identity, sso_provider, user};
use guildhall_plugin_host::{RoleInput, Source};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use super::{
    reason::{Reason, Rejection},
    types::SsoKind,
};
use crate::{
    AppState,
    audit::Actor,
    changes::{
        self, Event,
        catalog::{MemberAdded, MemberRoleChanged, SsoLogin, SsoLoginFailed, TextChange},
    },
    crypto, db,
    domains::{self, names, service::OrgDomains},
    error::ApiError,
    http::RequestMeta,
    mapping::{self, Decided, Group, service::Ranked},
    orgs::{self, MembershipStatus},
    plugins::service::{self as plugins, Ruling, Verdict},
    provisioning::{self, JoinOutcome},
    scope::{OrgId, Origin, Scope},
    sessions::service::{self as sessions, Authn, SignedIn},
    users::{self, UserStatus, email},
};

/// How long the application has to exchange a code.
const CODE_TTL_SECONDS: i64 = 60;
/// Refused sign-ins audited per provider and minute; beyond that they are only logged.
pub const FAILURE_AUDITS_PER_MINUTE: u32 = 60;
/// The most groups taken from one sign-in.
const MAX_GROUPS: usize = 1000;

/// Who the IdP says signed in, after the protocol's own checks (signature, issuer, audience,
/// time, nonce or InResponseTo).
#[derive(Clone, Debug)]
pub struct Asserted {
    pub subject: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// The other claims or attributes, flattened to text (for a role-mapper plugin).
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// A sign-in that did not finish: refused for a reason the user is shown and the org audits, or
/// failed inside the server.
#[derive(Debug)]
pub enum Failure {
    Refused(Rejection),
    Error(Box<ApiError>),
}

impl From<Rejection> for Failure {
    fn from(r: Rejection) -> Self {
        Self::Refused(r)
    }
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Self::Error(Box::new(e))
    }
}

impl From<sea_orm::DbErr> for Failure {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Error(Box::new(e.into()))
    }
}

/// A sign-in that stopped before its end: why, the provider to audit it under when known, and
/// who the IdP named once that was verified.
#[derive(Debug)]
pub struct Stopped {
    pub failure: Failure,
    pub provider: Option<Box<sso_provider::Model>>,
    pub who: Option<Box<Asserted>>,
}

impl Stopped {
    /// Refused for `rejection`, in `provider`'s name when known.
    pub fn refused(rejection: Rejection, provider: Option<&sso_provider::Model>) -> Self {
        Self {
            failure: Failure::Refused(rejection),
            provider: provider.map(|p| Box::new(p.clone())),
            who: None,
        }
    }

    /// The server failed (a database error): a 500, not a refusal.
    pub fn error(err: impl Into<ApiError>) -> Self {
        Self { failure: Failure::Error(Box::new(err.into())), provider: None, who: None }
    }

    pub fn naming(mut self, who: &Asserted) -> Self {
        self.who = Some(Box::new(who.clone()));
        self
    }
}

fn refused(reason: Reason, detail: impl Into<String>) -> Failure {
    Failure::Refused(Rejection::new(reason, detail))
}

/// The one-time code and where to send the browser with it.
pub struct Finished {
    pub code: String,
    pub user_id: Uuid,
}

/// Signs `asserted` in to `provider`'s org: finds or links the account, admits it (just in time
/// when the provider allows), sets the role the groups map to, audits `sso.login` and mints the
/// one-time code, in one transaction.
pub async fn complete(
    state: &AppState,
    meta: &RequestMeta,
    provider: &sso_provider::Model,
    method: SsoKind,
    asserted: Asserted,
) -> Result<Finished, Failure> {
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
    let now = origin.now();
    let subject = asserted.subject.trim().to_string();
    if subject.is_empty() || subject.len() > 512 {
        return Err(refused(Reason::MissingSubject, "the IdP sent no usable subject"));
    }
    let email = match asserted.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(raw) => Some(
            email::normalize("email", raw)
                .map_err(|_| refused(Reason::MissingEmail, "the IdP sent an email that is not an address"))?,
        ),
        None => None,
    };
    let org = org::Entity::find_by_id(provider.org_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| refused(Reason::ProviderDisabled, "the provider's org is gone"))?;
    // The org's role mapper decides before the write transaction starts (it may take a while).
    let verdict = match provider.role_mapper_plugin_id {
        Some(plugin_id) => {
            let input = RoleInput {
                org_slug: org.slug.clone(),
                source: match method {
                    SsoKind::Oidc => Source::Oidc,
                    SsoKind::Saml => Source::Saml,
                },
                subject: subject.clone(),
                email: email.clone().unwrap_or_default(),
                groups: asserted.groups.iter().take(MAX_GROUPS).cloned().collect(),
                attributes: asserted.attributes.clone(),
            };
            plugin_verdict(state, meta, provider, plugin_id, input).await?
        }
        None => Verdict::default(),
    };
    let tx = db::begin_write(&state.writer).await?;
    // The provider is the org's (deleted with it), so finding it still enabled finds the org.
    let current = sso_provider::Entity::find_by_id(provider.id).one(&tx).await?;
    if !current.is_some_and(|p| p.enabled) {
        return Err(refused(Reason::ProviderDisabled, "the provider is disabled"));
    }
    let domains = OrgDomains::load(&tx, org.id).await?;
    let linked = sso_identity::Entity::find()
        .filter(sso_identity::Column::ProviderId.eq(provider.id))
        .filter(sso_identity::Column::Subject.eq(subject.as_str()))
        .one(&tx)
        .await?;
    let (account, consent, link) = match linked {
        Some(link) => {
            let account = user::Entity::find_by_id(link.user_id)
                .one(&tx)
                .await?
                .ok_or_else(|| refused(Reason::AccountDisabled, "the linked account is gone"))?;
            // Still the org's: its own identity, or an address in a domain it verifies and this
            // provider serves.
            let consent = if account.provisioned_by_org_id == Some(org.id) {
                provisioning::Consent::OwnIdentity
            } else if serves(provider, &domains, &account.email) {
                provisioning::Consent::VerifiedDomain
            } else {
                return Err(refused(
                    Reason::DomainNotVerified,
                    "the linked account's address is no longer in a verified domain this provider serves",
                ));
            };
            (account, consent, Some(link))
        }
        None => {
            let email = email
                .clone()
                .ok_or_else(|| refused(Reason::MissingEmail, "the IdP sent no email address"))?;
            if !serves(provider, &domains, &email) {
                return Err(refused(
                    Reason::DomainNotVerified,
                    format!(
                        "`{}` is not a verified domain this provider serves",
                        domains::service::domain_of_email(&email)
                    ),
                ));
            }
            let holder = users::service::find_by_email(&tx, &email).await?;
            if !provider.jit && !is_member(&tx, org.id, holder.as_ref()).await? {
                return Err(refused(
                    Reason::NotAMember,
                    "this person is not a member, and the provider does not add members at sign-in",
                ));
            }
            let (account, consent) =
                provisioning::directory_identity(&tx, now, &org, &domains, Some(&email), holder)
                    .await
                    .map_err(refusal)?;
            (account, consent, None)
        }
    };
    if UserStatus::parse(&account.status) != Some(UserStatus::Active) {
        return Err(refused(Reason::AccountDisabled, "the account is disabled or waits for approval"));
    }
    // An org's IdP speaks for the org's people, never for the instance's administrators: that
    // would hand instance-wide power to whoever runs one org's IdP.
    if account.is_instance_admin || account.kind != users::service::KIND_HUMAN {
        return Err(refused(
            Reason::AccountNotEligible,
            "instance admins and service accounts sign in with their own credentials, not through an org's IdP",
        ));
    }
    let scope = origin.as_actor(Actor::User(account.id)).in_org(OrgId::stored(org.id));
    let groups: Vec<&str> = asserted.groups.iter().take(MAX_GROUPS).map(String::as_str).collect();
    let ranked = Ranked::load(&tx, org.id).await?;
    let decided = match verdict.role {
        Some(decided) => Some(decided),
        None => ranked.decide(groups.iter().map(|g| Group { name: g, external_id: None })),
    };
    let (membership, joined) = match provisioning::admit_under(
        &tx,
        &scope,
        &org,
        &domains,
        &account,
        decided.as_ref().map_or(&provider.default_role, |d| &d.role),
        consent,
    )
    .await
    {
        // A linked account that is no longer a member, with no just-in-time provisioning.
        Ok(JoinOutcome::Joined(_)) if !provider.jit => {
            return Err(refused(Reason::NotAMember, "this person is not a member"));
        }
        Ok(JoinOutcome::Joined(m)) => (m, true),
        Ok(JoinOutcome::AlreadyMember(m)) => (m, false),
        Err(e) => return Err(refusal(e)),
    };
    if membership.status != MembershipStatus::Active.as_str() {
        return Err(refused(Reason::AccountDisabled, "the membership is suspended"));
    }
    let role = if joined {
        let added =
            MemberAdded { user_id: account.id, email: account.email.clone(), role: membership.role.clone() };
        changes::record(&tx, &scope, Event::MemberAdded(added)).await?;
        membership.role.clone()
    } else {
        apply_mapped_role(&tx, &scope, &membership, decided.as_ref(), now).await?
    };
    if !verdict.teams.is_empty() {
        crate::teams::service::place_by_name(&tx, &scope, &account, &verdict.teams, now).await?;
    }
    match link {
        Some(link) => {
            sso_identity::Entity::update_many()
                .col_expr(sso_identity::Column::LastLoginAt, Expr::value(now))
                .col_expr(sso_identity::Column::Email, Expr::value(email.clone()))
                .filter(sso_identity::Column::Id.eq(link.id))
                .exec(&tx)
                .await?;
        }
        None => {
            sso_identity::Entity::insert(sso_identity::ActiveModel {
                id: Set(Uuid::now_v7()),
                provider_id: Set(provider.id),
                org_id: Set(org.id),
                subject: Set(subject.clone()),
                user_id: Set(account.id),
                email: Set(email.clone()),
                created_at: Set(now),
                last_login_at: Set(now),
            })
            .exec_without_returning(&tx)
            .await?;
        }
    }
    let code = crypto::new_secret(crypto::SSO_CODE_PREFIX)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))?;
    sso_code::Entity::insert(sso_code::ActiveModel {
        code_hash: Set(code_hash(&code)),
        user_id: Set(account.id),
        org_id: Set(org.id),
        provider_id: Set(provider.id),
        method: Set(method.as_str().to_string()),
        created_at: Set(now),
        expires_at: Set(now + Duration::seconds(CODE_TTL_SECONDS)),
        used_at: Set(None),
    })
    .exec_without_returning(&tx)
    .await?;
    let login = SsoLogin {
        provider_id: provider.id,
        user_id: account.id,
        method: method.as_str().into(),
        subject,
        email: account.email.clone(),
        role,
        joined,
    };
    changes::record(&tx, &scope, Event::SsoLoginSucceeded(login)).await?;
    tx.commit().await?;
    Ok(Finished { code, user_id: account.id })
}

/// Whether `email` is in a domain `provider` serves and its org has verified.
pub fn serves(provider: &sso_provider::Model, verified: &OrgDomains, email: &str) -> bool {
    let domain = domains::service::domain_of_email(email);
    let served: Vec<String> = serde_json::from_str(&provider.domains).unwrap_or_default();
    served.iter().any(|d| names::matches(&domain, d)) && verified.verifies_domain(&domain)
}

async fn is_member<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    holder: Option<&user::Model>,
) -> Result<bool, ApiError> {
    let Some(holder) = holder else { return Ok(false) };
    Ok(membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(holder.id))
        .one(db)
        .await?
        .is_some())
}

/// A provisioning rule saying no becomes the refusal it is; anything else stays an error.
fn refusal(err: ApiError) -> Failure {
    match err.code() {
        "MAX_USERS_REACHED" => refused(Reason::OrgFull, err.to_string()),
        "EMAIL_TAKEN" => refused(Reason::AccountNotEligible, err.to_string()),
        _ if provisioning::is_refusal(&err) => refused(Reason::DomainNotVerified, err.to_string()),
        _ => Failure::Error(Box::new(err)),
    }
}

/// A role the groups map to, or the plugin decided, becomes an existing member's role at every
/// sign-in, within the decision's reach (never the org's last owner); groups that map to
/// nothing leave it as it is.
async fn apply_mapped_role(
    tx: &DatabaseTransaction,
    scope: &Scope,
    membership: &membership::Model,
    decided: Option<&Decided>,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let Some(decided) = decided else { return Ok(membership.role.clone()) };
    let Some(change) = mapping::service::apply(tx, membership, decided, now).await? else {
        return Ok(membership.role.clone());
    };
    let changed =
        MemberRoleChanged { user_id: change.user_id, role: TextChange { from: change.from, to: change.to } };
    changes::record(tx, scope, Event::MemberRoleChanged(changed)).await?;
    Ok(decided.role.clone())
}

/// Asks the provider's role-mapper plugin. A denial refuses the sign-in with the plugin's
/// reason; a failure (already audited as `plugin.failed`) refuses it only when the provider
/// fails closed, and otherwise leaves the decision to the mapping table and default role.
async fn plugin_verdict(
    state: &AppState,
    meta: &RequestMeta,
    provider: &sso_provider::Model,
    plugin_id: Uuid,
    input: RoleInput,
) -> Result<Verdict, Failure> {
    let call = plugins::Call {
        org_id: provider.org_id,
        plugin_id,
        hook: plugins::Hook::Sso,
        hook_id: provider.id.to_string(),
        consequence: if provider.plugin_fail_closed { "refused" } else { "fallback" },
        meta,
    };
    match plugins::map_role(state, &call, input).await {
        Ok(Ruling::Assign(verdict)) => Ok(verdict),
        Ok(Ruling::Deny(reason)) => {
            Err(refused(Reason::DeniedByPlugin, reason.chars().take(300).collect::<String>()))
        }
        Err(failed) if provider.plugin_fail_closed => Err(refused(
            Reason::PluginFailed,
            format!(
                "the org's role-mapping plugin failed ({}), and this provider refuses sign-ins then",
                failed.code
            ),
        )),
        Err(_) => Ok(Verdict::default()),
    }
}

/// Audits a refused sign-in in the provider's org (`sso.login_failed`), at most
/// [`FAILURE_AUDITS_PER_MINUTE`] per provider and minute: refusals need no credentials, so
/// beyond that budget they are only logged. A failure to audit is logged, never shown instead of
/// the refusal.
pub async fn record_failure(
    state: &AppState,
    meta: &RequestMeta,
    provider: &sso_provider::Model,
    method: SsoKind,
    rejection: &Rejection,
    who: Option<&Asserted>,
) {
    if !state.sso_failure_audits.allows(&provider.id) {
        tracing::warn!(
            provider_id = %provider.id,
            reason = rejection.reason.as_str(),
            "refused SSO sign-in not audited: the provider's audit budget for this minute is spent"
        );
        return;
    }
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
    let scope = origin.in_org(OrgId::stored(provider.org_id));
    let failed = SsoLoginFailed {
        provider_id: provider.id,
        method: method.as_str().into(),
        reason: rejection.reason.as_str().into(),
        detail: rejection.detail.chars().take(500).collect(),
        subject: who.map(|w| w.subject.chars().take(512).collect()),
        email: who.and_then(|w| w.email.clone()),
    };
    let recorded = async {
        let tx = db::begin_write(&state.writer).await?;
        changes::record(&tx, &scope, Event::SsoLoginFailed(failed)).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    };
    if let Err(e) = recorded.await {
        tracing::error!(provider_id = %provider.id, error = %e, "could not audit a refused SSO sign-in");
    }
}

fn code_hash(code: &str) -> String {
    super::login::digest_hex(code)
}

fn invalid_code() -> ApiError {
    ApiError::unauthenticated("INVALID_SSO_CODE", "the code is unknown, expired or already used")
}

/// Exchanges a one-time code for a token pair with the sign-in's org active; the session says
/// it was signed in through the provider.
pub async fn exchange(state: &AppState, meta: &RequestMeta, code: &str) -> Result<SignedIn, ApiError> {
    if !crypto::looks_like(code.trim(), crypto::SSO_CODE_PREFIX) {
        return Err(invalid_code());
    }
    let origin = Origin::new(Actor::Anonymous, meta.clone(), state.clock.clone());
    let now = origin.now();
    let hash = code_hash(code.trim());
    let tx = db::begin_write(&state.writer).await?;
    let used = sso_code::Entity::update_many()
        .col_expr(sso_code::Column::UsedAt, Expr::value(now))
        .filter(sso_code::Column::CodeHash.eq(hash.as_str()))
        .filter(sso_code::Column::UsedAt.is_null())
        .filter(sso_code::Column::ExpiresAt.gt(now))
        .exec(&tx)
        .await?;
    if used.rows_affected != 1 {
        return Err(invalid_code());
    }
    let row = sso_code::Entity::find_by_id(hash).one(&tx).await?.ok_or_else(invalid_code)?;
    let account = users::service::get(&tx, row.user_id).await.map_err(|_| invalid_code())?;
    sessions::check_status(&account)?;
    let org =
        orgs::service::active_membership(&tx, row.org_id, account.id).await?.ok_or_else(invalid_code)?;
    let authn = Authn { mfa_at: None, sso_provider_id: Some(row.provider_id) };
    let origin = origin.as_actor(Actor::User(account.id));
    sessions::finish_into(tx, state, &origin, account, authn, Some(org), None).await
}

/// The provider `account` must sign in through, if any: an enabled provider that requires SSO,
/// in an org the account is a member of, serving the account's address.
pub async fn required_for<C: ConnectionTrait>(
    db: &C,
    account: &user::Model,
) -> Result<Option<sso_provider::Model>, ApiError> {
    // Instance admins never sign in through an org's IdP, so no org can require it of them.
    if account.is_instance_admin {
        return Ok(None);
    }
    let orgs: Vec<Uuid> = membership::Entity::find()
        .filter(membership::Column::UserId.eq(account.id))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.org_id)
        .collect();
    if orgs.is_empty() {
        return Ok(None);
    }
    let providers = sso_provider::Entity::find()
        .filter(sso_provider::Column::OrgId.is_in(orgs))
        .filter(sso_provider::Column::Enabled.eq(true))
        .filter(sso_provider::Column::SsoRequired.eq(true))
        .all(db)
        .await?;
    for provider in providers {
        let verified = OrgDomains::load(db, provider.org_id).await?;
        if serves(&provider, &verified, &account.email) {
            return Ok(Some(provider));
        }
    }
    Ok(None)
}

/// The answer to a password sign-in of someone whose org requires SSO: where to go instead.
pub fn sso_required(state: &AppState, provider: &sso_provider::Model) -> ApiError {
    ApiError::forbidden(
        "SSO_REQUIRED",
        format!(
            "this account signs in through its organization's identity provider `{}`: {}/api/v1/auth/sso/login?provider_id={}",
            provider.name, state.config.public_base_url, provider.id
        ),
    )
}

/// Deletes expired sign-ins, codes and replay records (an expired assertion is refused for its
/// time anyway). Returns how many rows went.
pub async fn purge_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let logins = guildhall_entities::sso_login::Entity::delete_many()
        .filter(guildhall_entities::sso_login::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    let codes = sso_code::Entity::delete_many().filter(sso_code::Column::ExpiresAt.lte(now)).exec(db).await?;
    let assertions = guildhall_entities::sso_assertion::Entity::delete_many()
        .filter(guildhall_entities::sso_assertion::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(logins.rows_affected + codes.rows_affected + assertions.rows_affected)
}
