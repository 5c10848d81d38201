use sea_orm::entity::prelude::*;

/// Members of a directory group get `role`. `group_name` matches a SCIM group (team) by its
/// displayName (case-insensitively, via `group_key`) or its externalId, and later IdP group
/// claims from SSO by the same values.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_role_mappings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub group_name: String,
    pub group_key: String,
    pub role: String,
    /// The role of whoever made the mapping: it never changes a member whose role reaches
    /// above that. `None` on mappings older than the column.
    pub ceiling_role: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
