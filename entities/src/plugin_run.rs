use sea_orm::entity::prelude::*;

/// One call of a plugin in a real flow: the hook (`sso`, `scim`, `webhook`) and what it ran for
/// (`hook_id`: the provider or endpoint), a hash of the input, the outcome (`assigned`,
/// `denied`, `replaced`, `dropped`, or the failure's code) and what it cost.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_runs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plugin_id: Uuid,
    pub org_id: Uuid,
    pub hook: String,
    pub hook_id: Option<String>,
    pub input_sha256: String,
    pub outcome: String,
    pub detail: Option<String>,
    pub duration_us: i64,
    pub fuel_used: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
