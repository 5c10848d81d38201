use chrono::{DateTime, Utc};
use guildhall_entities::{membership, org};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::settings::{Branding, OrgAuthSettings};
use crate::{error::ApiError, permissions};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipStatus {
    Active,
    Suspended,
}

impl MembershipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
        }
    }
}

/// The org a session acts in, with the caller's role there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveOrg {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub role: String,
}

const MAX_SLUG: usize = 48;

/// Lowercase ASCII letters and digits joined by single dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
        if slug.len() >= MAX_SLUG {
            break;
        }
    }
    let slug = slug.trim_matches('-').to_string();
    if slug.is_empty() { "org".to_string() } else { slug }
}

/// A slug derived from `name` that no org uses yet.
async fn free_slug<C: ConnectionTrait>(db: &C, name: &str) -> Result<String, ApiError> {
    let base = slugify(name);
    let taken: Vec<String> = org::Entity::find()
        .select_only()
        .column(org::Column::Slug)
        .filter(org::Column::Slug.starts_with(&base))
        .into_tuple()
        .all(db)
        .await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    let mut n = 2;
    loop {
        let candidate = format!("{base}-{n}");
        if !taken.contains(&candidate) {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// What a new org starts with.
#[derive(Clone, Debug)]
pub struct NewOrg {
    pub name: String,
    pub slug: Option<String>,
    pub metadata: String,
    pub max_users: Option<i32>,
    pub data_retention_days: i32,
    pub branding: Branding,
    pub auth: OrgAuthSettings,
}

impl NewOrg {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            slug: None,
            metadata: "{}".into(),
            max_users: None,
            data_retention_days: DEFAULT_RETENTION_DAYS,
            branding: Branding::default(),
            auth: OrgAuthSettings::default(),
        }
    }
}

pub const DEFAULT_RETENTION_DAYS: i32 = 90;

/// Creates an org with `owner` as its owner.
pub async fn create_with_owner<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    name: &str,
    owner: Uuid,
) -> Result<ActiveOrg, ApiError> {
    let row = insert(db, now, NewOrg::named(name), owner).await?;
    Ok(ActiveOrg { id: row.id, name: row.name, slug: row.slug, role: permissions::OWNER.into() })
}

/// Inserts an org and its owner's membership.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    new: NewOrg,
    owner: Uuid,
) -> Result<org::Model, ApiError> {
    let slug = match new.slug {
        Some(slug) => slug,
        None => free_slug(db, &new.name).await?,
    };
    let id = Uuid::now_v7();
    let row = org::ActiveModel {
        id: Set(id),
        name: Set(new.name),
        slug: Set(slug.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        metadata: Set(new.metadata),
        max_users: Set(new.max_users),
        data_retention_days: Set(new.data_retention_days),
        logo_url: Set(new.branding.logo_url),
        primary_color: Set(new.branding.primary_color),
        welcome_text: Set(new.branding.welcome_text),
        password_min_length: Set(new.auth.password_min_length),
        require_mfa: Set(new.auth.require_mfa),
        session_ttl_minutes: Set(new.auth.session_ttl_minutes),
        max_login_attempts: Set(new.auth.max_login_attempts),
        lockout_minutes: Set(new.auth.lockout_minutes),
        scim_role_mapper_plugin_id: Set(None),
        scim_plugin_fail_closed: Set(false),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("SLUG_TAKEN", format!("the slug `{slug}` is taken"))
        }
        _ => e.into(),
    })?;
    insert_membership(db, now, id, owner, permissions::OWNER).await?;
    Ok(row)
}

/// Adds an active membership; the callers check the org's rules first.
pub async fn insert_membership<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<membership::Model, ApiError> {
    let row = membership::Model {
        id: Uuid::now_v7(),
        org_id,
        user_id,
        role: role.to_string(),
        status: MembershipStatus::Active.as_str().into(),
        created_at: now,
        updated_at: now,
    };
    membership::Entity::insert(row.clone().into_active_model().reset_all())
        .exec_without_returning(db)
        .await?;
    Ok(row)
}

/// The user's active membership in `org_id`, if any.
pub async fn active_membership<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<ActiveOrg>, ApiError> {
    let found = membership::Entity::find()
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .find_also_related(org::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(m, o)| o.map(|o| ActiveOrg { id: o.id, name: o.name, slug: o.slug, role: m.role })))
}

/// The org a new session starts in: the user's default org if they are still an active member,
/// else the org they joined first.
pub async fn starting_org<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    default_org: Option<Uuid>,
) -> Result<Option<ActiveOrg>, ApiError> {
    if let Some(org_id) = default_org
        && let Some(found) = active_membership(db, org_id, user_id).await?
    {
        return Ok(Some(found));
    }
    let first = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .order_by_asc(membership::Column::CreatedAt)
        .find_also_related(org::Entity)
        .one(db)
        .await?;
    Ok(first.and_then(|(m, o)| o.map(|o| ActiveOrg { id: o.id, name: o.name, slug: o.slug, role: m.role })))
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_url_safe() {
        for (name, slug) in [
            ("Acme Corp", "acme-corp"),
            ("  Ünïcode & Co!! ", "n-code-co"),
            ("---", "org"),
            ("a".repeat(100).as_str(), &"a".repeat(48)),
        ] {
            assert_eq!(slugify(name), slug, "{name}");
        }
    }
}
