use chrono::{DateTime, Utc};
use guildhall_entities::instance_settings;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, IntoActiveModel};

use crate::{
    changes::{
        self, Event,
        catalog::{InstanceSettingsUpdated, ValueChange},
    },
    config::InstanceDefaults,
    db::{self, Db},
    error::ApiError,
    scope::Origin,
};

const ROW_ID: i32 = 1;

pub type Settings = instance_settings::Model;

/// Creates the settings row from the configured defaults if it does not exist yet.
pub async fn ensure(db: &Db, defaults: &InstanceDefaults, now: DateTime<Utc>) -> Result<(), ApiError> {
    if instance_settings::Entity::find_by_id(ROW_ID).one(db).await?.is_some() {
        return Ok(());
    }
    let row = instance_settings::ActiveModel {
        id: Set(ROW_ID),
        signup_open: Set(defaults.signup_open),
        approval_required: Set(defaults.approval_required),
        password_min_length: Set(to_i32(defaults.password_min_length)),
        max_login_attempts: Set(to_i32(defaults.max_login_attempts)),
        lockout_minutes: Set(to_i32(defaults.lockout_minutes)),
        updated_at: Set(now),
        require_mfa: Set(false),
        session_ttl_minutes: Set(43_200),
        logo_url: Set(None),
        primary_color: Set(None),
        welcome_text: Set(None),
    };
    match instance_settings::Entity::insert(row).exec_without_returning(db).await {
        Ok(_) => Ok(()),
        // Another node created it first.
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub async fn get<C: ConnectionTrait>(db: &C) -> Result<Settings, ApiError> {
    instance_settings::Entity::find_by_id(ROW_ID)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("instance settings row is missing")))
}

/// A partial update: `None` leaves a setting as it is.
#[derive(Debug, Default)]
pub struct SettingsChange {
    pub signup_open: Option<bool>,
    pub approval_required: Option<bool>,
    pub password_min_length: Option<i32>,
    pub max_login_attempts: Option<i32>,
    pub lockout_minutes: Option<i32>,
    pub require_mfa: Option<bool>,
    pub session_ttl_minutes: Option<i32>,
    pub logo_url: Option<Option<String>>,
    pub primary_color: Option<Option<String>>,
    pub welcome_text: Option<Option<String>>,
}

pub async fn update(db: &Db, origin: &Origin, change: SettingsChange) -> Result<Settings, ApiError> {
    let now = origin.now();
    let tx = db::begin_write(db).await?;
    let before = get(&tx).await?;
    let mut row = before.clone().into_active_model();
    let mut payload = InstanceSettingsUpdated::default();
    let mut changed = false;
    macro_rules! apply {
        ($field:ident) => {
            if let Some(value) = change.$field {
                if value != before.$field {
                    payload.$field = Some(ValueChange::new(&before.$field, &value));
                    changed = true;
                    row.$field = Set(value);
                }
            }
        };
    }
    apply!(signup_open);
    apply!(approval_required);
    apply!(password_min_length);
    apply!(max_login_attempts);
    apply!(lockout_minutes);
    apply!(require_mfa);
    apply!(session_ttl_minutes);
    apply!(logo_url);
    apply!(primary_color);
    apply!(welcome_text);
    if !changed {
        return Ok(before);
    }
    row.updated_at = Set(now);
    let after = row.update(&tx).await?;
    changes::record_instance(&tx, origin, Event::InstanceSettingsUpdated(payload)).await?;
    tx.commit().await?;
    Ok(after)
}
