//! Payloads of webhook endpoint changes.

use poem_openapi::Object;
use uuid::Uuid;

#[derive(Clone, Debug, Object)]
pub struct WebhookCreated {
    pub webhook_id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub enabled: bool,
}

/// Only the fields that changed are present.
#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookUpdated {
    pub webhook_id: Uuid,
    pub url: Option<super::ValueChange>,
    pub event_types: Option<super::ValueChange>,
    pub enabled: Option<super::ValueChange>,
    pub description: Option<super::ValueChange>,
    pub transform_plugin_id: Option<super::ValueChange>,
}

#[derive(Clone, Debug, Object)]
pub struct WebhookDeleted {
    pub webhook_id: Uuid,
    pub url: String,
}

#[derive(Clone, Debug, Object)]
pub struct WebhookSecretRotated {
    pub webhook_id: Uuid,
    /// Until when the previous secret still signs beside the new one.
    pub previous_valid_until: chrono::DateTime<chrono::Utc>,
}

/// The endpoint was disabled: it answered 410 Gone, or failed without a success for too long.
#[derive(Clone, Debug, Object)]
pub struct WebhookDisabled {
    pub webhook_id: Uuid,
    pub url: String,
    /// `gone` (410) or `failing` (no success for the configured time).
    pub reason: String,
}

/// Events were queued again for an endpoint.
#[derive(Clone, Debug, Object)]
pub struct WebhookReplayed {
    pub webhook_id: Uuid,
    pub since: chrono::DateTime<chrono::Utc>,
    pub queued: u64,
}
