use sea_orm::entity::prelude::*;

/// A WebAssembly component an org uploaded. `world` is `role-mapper` or `webhook-transform`
/// (detected from the component); `fuel` and `memory_mib` tighten the instance's limits for
/// it; `ceiling_role` is the uploader's role, the most a role mapper may confer.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub world: String,
    pub sha256: String,
    pub size: i64,
    pub component: Vec<u8>,
    pub fuel: Option<i64>,
    pub memory_mib: Option<i32>,
    pub ceiling_role: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
