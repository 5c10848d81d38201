use sea_orm::entity::prelude::*;

/// An email domain an org allows (and optionally auto-joins) its members from.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_domains")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// Lowercase ASCII (IDNs in their `xn--` form).
    pub domain: String,
    pub auto_join: bool,
    pub default_role: String,
    pub created_at: DateTimeUtc,
    /// The value of the TXT record that proves the org controls the domain.
    pub verification_token: String,
    /// When the org proved it controls the domain; a verified domain belongs to one org.
    pub verified_at: Option<DateTimeUtc>,
    /// `dns` or `manual` (an instance admin's say).
    pub verification_method: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::org::Entity",
        from = "Column::OrgId",
        to = "super::org::Column::Id",
        on_delete = "Cascade"
    )]
    Org,
}

impl Related<super::org::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
