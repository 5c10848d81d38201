use sea_orm::entity::prelude::*;

/// One event on its way to one endpoint. `status`: `pending` (due at `next_attempt_at`),
/// `delivering` (a node holds it until `lease_until`), `succeeded`, `failed` (gave up or the
/// endpoint was disabled).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub endpoint_id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    pub status: String,
    /// Attempts made so far.
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub lease_until: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt, if it got one.
    pub response_status: Option<i32>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
