use sea_orm::entity::prelude::*;

/// The account an IdP's subject (OIDC `sub`, SAML NameID) is: linked at the first sign-in and
/// trusted from then on, whatever email the IdP sends later.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_identities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub provider_id: Uuid,
    pub org_id: Uuid,
    pub subject: String,
    pub user_id: Uuid,
    /// The address the IdP sent at the last sign-in.
    pub email: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_login_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
