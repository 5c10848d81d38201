use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};
use serde_json::Value;
use uuid::Uuid;

use super::{
    catalog::{self, EventData},
    service::{self, TypeFilter},
};
use crate::{
    AppState,
    app::Tag,
    auth::tenant,
    error::{ApiError, ApiResult},
    permissions::Permission,
};

/// One event: the same object a webhook delivers as its body.
#[derive(Object)]
pub struct EventEnvelope {
    /// Unique and stable: the webhook's `webhook-id`, usable to de-duplicate.
    pub id: Uuid,
    /// The catalog name, e.g. `member.added`.
    #[oai(rename = "type")]
    pub type_: String,
    /// When the change was committed (RFC 3339).
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub org_id: Uuid,
    /// The payload's version within its type.
    pub version: i32,
    pub data: EventData,
}

impl From<guildhall_entities::event::Model> for EventEnvelope {
    fn from(e: guildhall_entities::event::Model) -> Self {
        Self {
            id: e.id,
            type_: e.event_type,
            timestamp: e.occurred_at,
            org_id: e.org_id,
            version: e.version,
            data: EventData(serde_json::from_str(&e.data).unwrap_or(Value::Null)),
        }
    }
}

#[derive(Object)]
pub struct EventPage {
    pub data: Vec<EventEnvelope>,
    /// Pass as `after` to read on; given even when nothing followed, so consumers can poll.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// One entry of the event catalog.
#[derive(Clone, Object)]
pub struct EventTypeDescription {
    /// The name, e.g. `member.added`.
    pub name: String,
    pub description: String,
    pub version: i32,
    /// Whether orgs receive it (webhooks, the Events API); `false` for instance-level changes,
    /// which only the instance's audit chain records.
    pub delivered: bool,
    /// The payload's component in the OpenAPI document.
    pub payload: String,
    /// JSON Schema of `data` (references resolved).
    pub schema: Value,
}

#[derive(Object)]
pub struct EventTypeList {
    pub data: Vec<EventTypeDescription>,
}

/// Who may read the org's event stream, by the Events API or through a webhook they set up.
pub const READERS: &[Permission] = &[Permission::EventsRead, Permission::AuditRead];

pub struct EventsApi;

#[OpenApi]
impl EventsApi {
    /// The org's events, oldest first, after a cursor: every change in the org, in commit
    /// order. Kept for the instance's event retention (30 days by default).
    ///
    /// Requires `events:read` or `audit:read`.
    #[oai(
        path = "/api/v1/orgs/:org/events",
        method = "get",
        tag = "Tag::Events",
        operation_id = "list_events"
    )]
    async fn list_events(
        &self,
        state: Data<&AppState>,
        org: tenant::Path,
        /// The `next_cursor` of the previous page; absent to start at the oldest event kept.
        after: Query<Option<String>>,
        /// Comma-separated types or patterns (`member.*,org.updated`); absent for all.
        types: Query<Option<String>>,
        /// Page size, 1..=500 (default 100).
        limit: Query<Option<u64>>,
    ) -> ApiResult<Json<EventPage>> {
        org.require_any(READERS)?;
        let limit = limit.0.unwrap_or(service::DEFAULT_LIMIT);
        if !(1..=service::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation(
                "limit",
                format!("must be between 1 and {}", service::MAX_LIMIT),
            ));
        }
        let after = after.0.as_deref().filter(|c| !c.is_empty()).map(service::decode_cursor).transpose()?;
        let types = TypeFilter::parse("types", types.0.as_deref().unwrap_or_default())?;
        let (rows, next_cursor, has_more) = service::list(&state, &org, after, &types, limit).await?;
        Ok(Json(EventPage { data: rows.into_iter().map(Into::into).collect(), next_cursor, has_more }))
    }

    /// The event catalog: every event type, its description and the JSON Schema of its payload.
    #[oai(
        path = "/api/v1/event-types",
        method = "get",
        tag = "Tag::Events",
        operation_id = "list_event_types"
    )]
    async fn list_event_types(&self) -> Json<EventTypeList> {
        static CATALOG: std::sync::LazyLock<Vec<EventTypeDescription>> = std::sync::LazyLock::new(describe);
        Json(EventTypeList { data: CATALOG.clone() })
    }
}

fn describe() -> Vec<EventTypeDescription> {
    let mut registry = poem_openapi::registry::Registry::new();
    let types = catalog::types();
    for t in &types {
        t.register(&mut registry);
    }
    let schemas: serde_json::Map<String, Value> = registry
        .schemas
        .iter()
        .map(|(name, schema)| (name.clone(), serde_json::to_value(schema).unwrap_or(Value::Null)))
        .collect();
    types
        .into_iter()
        .map(|t| {
            let schema = inline(schemas.get(&t.payload).cloned().unwrap_or(Value::Null), &schemas, 0);
            EventTypeDescription {
                name: t.name.to_string(),
                description: t.description.to_string(),
                version: t.version,
                delivered: t.audience.delivered(),
                payload: t.payload,
                schema,
            }
        })
        .collect()
}

/// Replaces `{"$ref": "#/components/schemas/X"}` with X's schema, so each entry stands alone.
fn inline(value: Value, schemas: &serde_json::Map<String, Value>, depth: usize) -> Value {
    const PREFIX: &str = "#/components/schemas/";
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(target) = r.strip_prefix(PREFIX).and_then(|n| schemas.get(n))
                && depth < 8
            {
                return inline(target.clone(), schemas, depth + 1);
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, inline(v, schemas, depth))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| inline(v, schemas, depth)).collect()),
        other => other,
    }
}
