use sea_orm::entity::prelude::*;

/// One row (id = 1): the instance-wide settings admins change at run time.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub signup_open: bool,
    pub approval_required: bool,
    pub password_min_length: i32,
    pub max_login_attempts: i32,
    pub lockout_minutes: i32,
    pub updated_at: DateTimeUtc,
    pub require_mfa: bool,
    pub session_ttl_minutes: i32,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub welcome_text: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
