use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orgs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Free JSON object, as text.
    pub metadata: String,
    pub max_users: Option<i32>,
    pub data_retention_days: i32,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub welcome_text: Option<String>,
    pub password_min_length: Option<i32>,
    pub require_mfa: Option<bool>,
    pub session_ttl_minutes: Option<i32>,
    pub max_login_attempts: Option<i32>,
    pub lockout_minutes: Option<i32>,
    /// A role-mapper plugin deciding the roles of the members the org's SCIM client provisions.
    pub scim_role_mapper_plugin_id: Option<Uuid>,
    /// Whether that plugin failing refuses the SCIM write (else the mapping table decides).
    pub scim_plugin_fail_closed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
