use sea_orm::entity::prelude::*;

/// One domain event in the outbox. `id` is the audit entry's id and `seq` its place in the
/// org's chain (commit order); `data` is the payload as JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub seq: i64,
    pub event_type: String,
    pub version: i32,
    pub occurred_at: DateTimeUtc,
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
