use chrono::{DateTime, Utc};
use guildhall_entities::{webhook_delivery, webhook_endpoint};
use poem_openapi::{Object, types::MaybeUndefined};
use serde::Deserialize;
use uuid::Uuid;

/// A new webhook endpoint.
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// Where events are POSTed: https (http only where the instance allows it), at most 2048
    /// characters, not a private, loopback or link-local address.
    pub url: String,
    /// Event types and patterns (`member.*`, `org.updated`, `*`); absent means all.
    pub event_types: Option<Vec<String>>,
    /// At most 512 characters.
    pub description: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    /// A `webhook-transform` plugin of the org that reshapes (or drops) each delivery to this
    /// endpoint; if it fails, the delivery fails (nothing untransformed is sent).
    pub transform_plugin_id: Option<Uuid>,
}

/// Changes to an endpoint: only the fields sent change. Enabling a disabled endpoint resumes
/// delivery from new events on (replay what it missed with `POST .../replay`).
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    /// A `webhook-transform` plugin of the org; `null` detaches it.
    #[serde(default)]
    pub transform_plugin_id: MaybeUndefined<Uuid>,
}

/// A webhook endpoint. `secret` appears only when it is made or rotated.
#[derive(Object)]
pub struct WebhookResponse {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub enabled: bool,
    /// Why the server disabled it: `gone` (it answered 410) or `failing`.
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// The transform plugin applied to each delivery.
    pub transform_plugin_id: Option<Uuid>,
    /// The signing secret (`whsec_...`), shown only in the answer that made it.
    #[oai(skip_serializing_if_is_none)]
    pub secret: Option<String>,
    /// Until when the previous secret also signs, after a rotation.
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookResponse {
    pub fn of(row: webhook_endpoint::Model, secret: Option<String>, now: DateTime<Utc>) -> Self {
        Self {
            id: row.id,
            url: row.url,
            event_types: serde_json::from_str(&row.event_types).unwrap_or_default(),
            description: row.description,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since,
            transform_plugin_id: row.transform_plugin_id,
            secret,
            previous_secret_valid_until: row.previous_secret_until.filter(|t| *t > now),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(Object)]
pub struct WebhookPage {
    pub data: Vec<WebhookResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// One event's delivery to the endpoint.
#[derive(Object)]
pub struct DeliveryResponse {
    pub id: Uuid,
    /// The event's id: the `webhook-id` header of every attempt.
    pub event_id: Uuid,
    pub event_type: String,
    /// `pending`, `delivering`, `succeeded`, `failed` (gave up, or the endpoint was disabled) or
    /// `dropped` (the endpoint's transform plugin chose not to deliver it).
    pub status: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// The HTTP status of the last attempt, when it got one.
    pub response_status: Option<i32>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<webhook_delivery::Model> for DeliveryResponse {
    fn from(d: webhook_delivery::Model) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            next_attempt_at: d.next_attempt_at.filter(|_| d.status == super::worker::PENDING),
            status: d.status,
            attempts: d.attempts,
            response_status: d.response_status,
            latency_ms: d.latency_ms,
            error: d.error,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Object)]
pub struct DeliveryPage {
    pub data: Vec<DeliveryResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// What a test ping got.
#[derive(Object)]
pub struct WebhookTestResult {
    /// The endpoint answered 2xx.
    pub ok: bool,
    pub response_status: Option<u16>,
    pub latency_ms: Option<u64>,
    pub error: Option<String>,
}

#[derive(Object)]
pub struct ReplayResult {
    /// Deliveries queued.
    pub queued: u64,
    /// More events matched than one replay queues (10,000); replay again from the last one's time.
    pub truncated: bool,
}
