use sea_orm::entity::prelude::*;

/// A URL an org receives its events at. `secret` and `previous_secret` are sealed with the
/// master key; `event_types` is a JSON array of names and patterns (`member.*`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub url: String,
    pub description: String,
    pub event_types: String,
    pub enabled: bool,
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// The last event `seq` of the org turned into deliveries for this endpoint.
    pub cursor_seq: i64,
    /// Since when every delivery has failed (cleared by a success).
    pub failing_since: Option<DateTimeUtc>,
    pub disabled_reason: Option<String>,
    /// A webhook-transform plugin of the org that reshapes (or drops) each delivery.
    pub transform_plugin_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
