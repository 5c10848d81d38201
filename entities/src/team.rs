use sea_orm::entity::prelude::*;

/// A team of one org. `name_key` is the name lowercased: names are unique per org regardless
/// of case. `external_id` is the directory's id for the team (SCIM `externalId`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub name_key: String,
    pub external_id: Option<String>,
    /// Created or adopted by SCIM: its membership is the directory's to change.
    pub directory_managed: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
    #[sea_orm(has_many = "super::team_member::Entity")]
    TeamMember,
}

impl Related<super::org::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Org.def()
    }
}

impl Related<super::team_member::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::TeamMember.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
