use guildhall_entities::email_domain;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use super::{dns, names, types::VerificationMethod};
use crate::{
    AppState,
    auth::OrgContext,
    changes::{
        self, Event,
        catalog::{EmailDomainAdded, EmailDomainRemoved, EmailDomainVerified},
    },
    crypto, db,
    error::ApiError,
    permissions,
    scope::scoped,
};

fn new_verification_token() -> Result<String, ApiError> {
    crypto::new_secret("").map_err(|_| ApiError::internal(anyhow::anyhow!("no randomness")))
}

pub async fn list(state: &AppState, ctx: &OrgContext) -> Result<Vec<email_domain::Model>, ApiError> {
    Ok(scoped::<email_domain::Entity>(ctx).order_by_asc(email_domain::Column::Domain).all(&state.db).await?)
}

pub struct NewDomain {
    pub domain: String,
    pub auto_join: bool,
    pub default_role: String,
}

pub async fn add(
    state: &AppState,
    ctx: &OrgContext,
    new: NewDomain,
) -> Result<email_domain::Model, ApiError> {
    if names::is_public_provider(&new.domain) {
        return Err(ApiError::validation("domain", "public email providers cannot be claimed"));
    }
    if names::is_public_suffix(&new.domain) {
        return Err(ApiError::validation("domain", "is a public suffix, under which anyone may register"));
    }
    if new.default_role == permissions::OWNER {
        return Err(ApiError::validation("default_role", "auto-joined members cannot be owners"));
    }
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    if !crate::roles::service::exists(&tx, ctx.org_id(), &new.default_role).await? {
        return Err(ApiError::validation(
            "default_role",
            format!("`{}` is not a role of this org", new.default_role),
        ));
    }
    let granted = crate::roles::service::permissions_of(&tx, ctx.org_id(), &new.default_role).await?;
    if let Some(missing) = granted.difference(ctx.permissions()).next() {
        return Err(ApiError::forbidden(
            "PERMISSION_NOT_HELD",
            format!("the role `{}` grants `{}`, which you do not hold", new.default_role, missing.as_str()),
        ));
    }
    let row = email_domain::Model {
        id: Uuid::now_v7(),
        org_id: ctx.org_id(),
        domain: new.domain,
        auto_join: new.auto_join,
        default_role: new.default_role,
        created_at: now,
        verification_token: new_verification_token()?,
        verified_at: None,
        verification_method: None,
    };
    email_domain::Entity::insert(email_domain::ActiveModel {
        id: Set(row.id),
        org_id: Set(row.org_id),
        domain: Set(row.domain.clone()),
        auto_join: Set(row.auto_join),
        default_role: Set(row.default_role.clone()),
        created_at: Set(now),
        verification_token: Set(row.verification_token.clone()),
        verified_at: Set(None),
        verification_method: Set(None),
    })
    .exec_without_returning(&tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("DOMAIN_EXISTS", format!("the org already lists {}", row.domain))
        }
        _ => e.into(),
    })?;
    let added = EmailDomainAdded {
        domain: row.domain.clone(),
        auto_join: row.auto_join,
        default_role: row.default_role.clone(),
    };
    changes::record(&tx, ctx, Event::EmailDomainAdded(added)).await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn remove(state: &AppState, ctx: &OrgContext, domain: &str) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let row = scoped::<email_domain::Entity>(ctx)
        .filter(email_domain::Column::Domain.eq(domain))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    email_domain::Entity::delete_by_id(row.id).exec(&tx).await?;
    changes::record(&tx, ctx, Event::EmailDomainRemoved(EmailDomainRemoved { domain: domain.to_string() }))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks the org's `domain` verified: by its DNS TXT record, or by an instance admin's say
/// (`Manual`; the caller checks who may). Verifying a domain twice is a no-op. Refused while
/// another org has verified the domain, a parent or a subdomain of it: a verified domain decides
/// who owns the addresses under it.
pub async fn verify(
    state: &AppState,
    ctx: &OrgContext,
    domain: &str,
    method: VerificationMethod,
) -> Result<email_domain::Model, ApiError> {
    let row = scoped::<email_domain::Entity>(ctx)
        .filter(email_domain::Column::Domain.eq(domain))
        .one(&state.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if row.verified_at.is_some() {
        return Ok(row);
    }
    // Rows listed before these checks existed may name what nobody can own.
    if names::is_public_provider(domain) || names::is_public_suffix(domain) {
        return Err(ApiError::validation(
            "domain",
            "public mail providers and public suffixes cannot be verified",
        ));
    }
    refuse_if_verified_elsewhere(&state.db, ctx.org_id(), domain).await?;
    if method == VerificationMethod::Dns {
        // Outside the write transaction: a slow resolver must not hold the writer.
        prove_by_dns(state, &row).await?;
    }
    let now = ctx.now();
    let tx = db::begin_write(&state.writer).await?;
    lock_related(&tx, domain).await?;
    let row = scoped::<email_domain::Entity>(ctx)
        .filter(email_domain::Column::Id.eq(row.id))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if row.verified_at.is_some() {
        return Ok(row);
    }
    refuse_if_verified_elsewhere(&tx, ctx.org_id(), domain).await?;
    email_domain::Entity::update_many()
        .set(email_domain::ActiveModel {
            verified_at: Set(Some(now)),
            verification_method: Set(Some(method.as_str().to_string())),
            ..Default::default()
        })
        .filter(email_domain::Column::Id.eq(row.id))
        .exec(&tx)
        .await
        .map_err(|e| match e.sql_err() {
            // The partial unique index: another org verified the same domain meanwhile.
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => verified_elsewhere(domain),
            _ => e.into(),
        })?;
    let verified = EmailDomainVerified { domain: domain.to_string(), method: method.as_str().to_string() };
    changes::record(&tx, ctx, Event::EmailDomainVerified(verified)).await?;
    // Read back: the database keeps the time at its own precision.
    let verified = scoped::<email_domain::Entity>(ctx)
        .filter(email_domain::Column::Id.eq(row.id))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(verified)
}

async fn prove_by_dns(state: &AppState, row: &email_domain::Model) -> Result<(), ApiError> {
    let name = dns::txt_name(&row.domain);
    let expected = dns::txt_value(&row.verification_token);
    let found = match dns::txt_records(state.config.dns.resolver_addr(), &name).await {
        Ok(values) => values.iter().any(|v| v.trim() == expected),
        Err(err) => {
            tracing::info!(domain = %row.domain, error = %format!("{err:#}"), "domain TXT lookup failed");
            false
        }
    };
    if found {
        return Ok(());
    }
    Err(ApiError::conflict(
        "DOMAIN_NOT_VERIFIED",
        format!("no TXT record `{name}` with the value `{expected}` was found; publish it and try again"),
    ))
}

fn verified_elsewhere(domain: &str) -> ApiError {
    ApiError::conflict(
        "DOMAIN_VERIFIED_ELSEWHERE",
        format!("another organization has verified {domain}, a parent or a subdomain of it"),
    )
}

/// Rows for `domain`, its parents and its subdomains, in any org.
fn related(domain: &str) -> Select<email_domain::Entity> {
    email_domain::Entity::find().filter(
        Condition::any()
            .add(email_domain::Column::Domain.is_in(names::suffixes(domain)))
            // Normalized names hold only letters, digits, `-` and `.`: no LIKE wildcards.
            .add(email_domain::Column::Domain.like(format!("%.{domain}"))),
    )
}

/// On PostgreSQL, two orgs verifying a parent and a subdomain at once each lock both rows (in
/// one order), so the second waits and then sees the first; the unique index only covers equal
/// names. SQLite has one writer at a time anyway.
async fn lock_related<C: ConnectionTrait>(db: &C, domain: &str) -> Result<(), ApiError> {
    if db.get_database_backend() == DbBackend::Postgres {
        related(domain)
            .select_only()
            .column(email_domain::Column::Id)
            .order_by_asc(email_domain::Column::Id)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .all(db)
            .await?;
    }
    Ok(())
}

async fn refuse_if_verified_elsewhere<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    domain: &str,
) -> Result<(), ApiError> {
    let others = related(domain)
        .filter(email_domain::Column::OrgId.ne(org_id))
        .filter(email_domain::Column::VerifiedAt.is_not_null())
        .all(db)
        .await?;
    if others.iter().any(|o| names::matches(domain, &o.domain) || names::matches(&o.domain, domain)) {
        return Err(verified_elsewhere(domain));
    }
    Ok(())
}

/// The lowercase ASCII domain of an email, as domains are stored.
pub fn domain_of_email(email: &str) -> String {
    let raw = names::of_email(email);
    names::normalize("email", raw).unwrap_or_else(|_| raw.to_ascii_lowercase())
}

/// Verified rows whose domain is the email's domain or a parent of it.
fn verified_matching(email: &str) -> Select<email_domain::Entity> {
    email_domain::Entity::find()
        .filter(email_domain::Column::VerifiedAt.is_not_null())
        .filter(email_domain::Column::Domain.is_in(names::suffixes(&domain_of_email(email))))
}

/// Whether `org_id` has verified the domain of `email` (or a parent of it).
pub async fn verified_for<C: ConnectionTrait>(db: &C, org_id: Uuid, email: &str) -> Result<bool, ApiError> {
    Ok(OrgDomains::load(db, org_id).await?.verifies(email))
}

/// Refuses `email` when the org lists domains and none of them matches.
pub async fn require_allowed<C: ConnectionTrait>(db: &C, org_id: Uuid, email: &str) -> Result<(), ApiError> {
    OrgDomains::load(db, org_id).await?.require_allowed(email)
}

/// An org's email domains, read once for the several checks one change makes.
pub struct OrgDomains(Vec<email_domain::Model>);

impl OrgDomains {
    pub async fn load<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<Self, ApiError> {
        Ok(Self(email_domain::Entity::find().filter(email_domain::Column::OrgId.eq(org_id)).all(db).await?))
    }

    /// Whether the org has verified the domain of `email` (or a parent of it).
    pub fn verifies(&self, email: &str) -> bool {
        self.verifies_domain(&domain_of_email(email))
    }

    /// Whether the org has verified `domain` (normalized) or a parent of it.
    pub fn verifies_domain(&self, domain: &str) -> bool {
        self.0.iter().any(|d| d.verified_at.is_some() && names::matches(domain, &d.domain))
    }

    /// Refuses `email` when the org lists domains and none of them matches.
    pub fn require_allowed(&self, email: &str) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let domain = domain_of_email(email);
        if self.0.iter().any(|d| names::matches(&domain, &d.domain)) {
            return Ok(());
        }
        Err(ApiError::forbidden(
            "DOMAIN_NOT_ALLOWED",
            format!("the org only admits emails of its listed domains, not {domain}"),
        ))
    }
}

/// The auto-join rules that match `email`: `(org_id, default_role)`, one per org. Only verified
/// domains count: an org cannot pull in addresses it has not proved it owns.
pub async fn auto_join_for<C: ConnectionTrait>(db: &C, email: &str) -> Result<Vec<(Uuid, String)>, ApiError> {
    let rows = verified_matching(email)
        .filter(email_domain::Column::AutoJoin.eq(true))
        .order_by_asc(email_domain::Column::CreatedAt)
        .all(db)
        .await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|r| seen.insert(r.org_id)).map(|r| (r.org_id, r.default_role)).collect())
}

pub async fn count<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<u64, ApiError> {
    Ok(email_domain::Entity::find().filter(email_domain::Column::OrgId.eq(org_id)).count(db).await?)
}
