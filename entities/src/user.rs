use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub password_hash: Option<String>,
    pub status: String,
    pub is_instance_admin: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub default_org_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    pub email_verified_at: Option<DateTimeUtc>,
    /// `human`, or `service` for a service account.
    pub kind: String,
    /// A service account's name.
    pub display_name: Option<String>,
    /// The org whose directory created this passwordless identity, if one did.
    pub provisioned_by_org_id: Option<Uuid>,
    /// An address a directory gave this identity outside its verified domains: the real holder
    /// of the address claims the identity by proving the address.
    pub unclaimed_email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
