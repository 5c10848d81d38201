//! Webhook endpoints of an org: create (the secret shown once), change, delete, rotate the
//! secret (the previous one signs beside the new one for a day), list deliveries, retry one,
//! send a test ping, replay past events.

use chrono::{DateTime, Duration, Utc};
use guildhall_entities::{event, webhook_delivery, webhook_endpoint};
use guildhall_plugin_host::World;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{signing, worker};
use crate::{
    AppState,
    changes::{
        self, Event,
        catalog::{
            ValueChange, WebhookCreated, WebhookDeleted, WebhookReplayed, WebhookSecretRotated,
            WebhookUpdated,
        },
        service::TypeFilter,
    },
    db,
    error::ApiError,
    outbound::OutboundError,
    paging::PageRequest,
    plugins,
    scope::{Scope, scoped},
};

pub const MAX_URL: usize = 2048;
pub const MAX_DESCRIPTION: usize = 512;
/// Endpoints one org may have.
pub const MAX_ENDPOINTS: u64 = 50;
/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// Events one replay queues at most.
pub const MAX_REPLAY: u64 = 10_000;

pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub transform_plugin_id: Option<Uuid>,
}

#[derive(Default)]
pub struct WebhookChange {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    /// `Some(None)` detaches the transform.
    pub transform_plugin_id: Option<Option<Uuid>>,
}

/// A transform an endpoint names must be the org's, and a transform.
async fn check_transform<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    plugin: Option<Uuid>,
) -> Result<(), ApiError> {
    if let Some(plugin) = plugin {
        plugins::service::require_world(
            db,
            scope.org_id(),
            plugin,
            World::WebhookTransform,
            "transform_plugin_id",
        )
        .await?;
    }
    Ok(())
}

/// The sealing context of an endpoint's secrets: a sealed secret opens only for its endpoint.
pub fn seal_context(id: Uuid) -> Vec<u8> {
    format!("webhook:{id}").into_bytes()
}

/// Checks a URL against the outbound rules (400 on `url` when refused).
pub async fn check_url(state: &AppState, url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    if url.is_empty() || url.chars().count() > MAX_URL {
        return Err(ApiError::validation("url", format!("must be 1..={MAX_URL} characters")));
    }
    match state.outbound.check_resolved(url).await {
        Ok(parsed) => Ok(parsed.to_string()),
        Err(OutboundError::Refused(why)) => Err(ApiError::validation("url", why)),
        Err(other) => Err(ApiError::validation("url", other.to_string())),
    }
}

/// Validates event type patterns; none means all.
pub fn check_types(types: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let types: Vec<String> =
        types.unwrap_or_else(|| vec!["*".into()]).into_iter().map(|t| t.trim().to_string()).collect();
    if types.is_empty() {
        return Err(ApiError::validation("event_types", "name at least one type or pattern (`*` for all)"));
    }
    if types.iter().any(String::is_empty) {
        return Err(ApiError::validation("event_types", "must not hold empty names"));
    }
    TypeFilter::of("event_types", types.clone())?;
    Ok(types)
}

pub fn check_description(description: &str) -> Result<String, ApiError> {
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(ApiError::validation(
            "description",
            format!("is longer than {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(description.trim().to_string())
}

pub async fn list(
    state: &AppState,
    scope: &Scope,
    page: PageRequest,
) -> Result<(Vec<webhook_endpoint::Model>, Option<String>, bool), ApiError> {
    let mut query = scoped::<webhook_endpoint::Entity>(scope)
        .order_by_asc(webhook_endpoint::Column::Id)
        .limit(page.fetch());
    if let Some(after) = page.after {
        query = query.filter(webhook_endpoint::Column::Id.gt(after));
    }
    Ok(page.finish(query.all(&state.db).await?, |w| w.id))
}

pub async fn find<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    id: Uuid,
) -> Result<webhook_endpoint::Model, ApiError> {
    scoped::<webhook_endpoint::Entity>(scope)
        .filter(webhook_endpoint::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The org's last event `seq`: a new or re-enabled endpoint receives what comes after it.
async fn head_seq<C: ConnectionTrait>(db: &C, scope: &Scope) -> Result<i64, ApiError> {
    let last: Option<i64> = scoped::<event::Entity>(scope)
        .select_only()
        .column(event::Column::Seq)
        .order_by_desc(event::Column::Seq)
        .into_tuple()
        .one(db)
        .await?;
    Ok(last.unwrap_or(0))
}

/// Creates an endpoint and answers it with its secret, the only time the secret is shown.
pub async fn create(
    state: &AppState,
    scope: &Scope,
    created_by: Uuid,
    new: NewWebhook,
) -> Result<(webhook_endpoint::Model, String), ApiError> {
    let now = scope.now();
    let id = Uuid::now_v7();
    let secret = signing::new_secret().map_err(ApiError::internal)?;
    let sealed =
        state.keys.master_key().seal(&seal_context(id), secret.as_bytes()).map_err(ApiError::internal)?;
    let tx = db::begin_write(&state.writer).await?;
    if scoped::<webhook_endpoint::Entity>(scope).count(&tx).await? >= MAX_ENDPOINTS {
        return Err(ApiError::conflict(
            "WEBHOOK_LIMIT_REACHED",
            format!("an org may have at most {MAX_ENDPOINTS} webhook endpoints"),
        ));
    }
    check_transform(&tx, scope, new.transform_plugin_id).await?;
    let row = webhook_endpoint::Model {
        id,
        org_id: scope.org_id(),
        url: new.url,
        description: new.description,
        event_types: serde_json::to_string(&new.event_types).map_err(ApiError::internal)?,
        enabled: new.enabled,
        secret: sealed,
        previous_secret: None,
        previous_secret_until: None,
        cursor_seq: head_seq(&tx, scope).await?,
        failing_since: None,
        disabled_reason: None,
        transform_plugin_id: new.transform_plugin_id,
        created_by: Some(created_by),
        created_at: now,
        updated_at: now,
    };
    webhook_endpoint::Entity::insert(row.clone().into_active_model().reset_all())
        .exec_without_returning(&tx)
        .await?;
    let created = WebhookCreated {
        webhook_id: id,
        url: row.url.clone(),
        event_types: new.event_types,
        enabled: row.enabled,
    };
    changes::record(&tx, scope, Event::WebhookCreated(created)).await?;
    tx.commit().await?;
    Ok((row, secret))
}

pub async fn update(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    change: WebhookChange,
) -> Result<webhook_endpoint::Model, ApiError> {
    let now = scope.now();
    let tx = db::begin_write(&state.writer).await?;
    let before = find(&tx, scope, id).await?;
    let before_types: Vec<String> = serde_json::from_str(&before.event_types).unwrap_or_default();
    let mut row = before.clone().into_active_model();
    let mut updated = WebhookUpdated {
        webhook_id: id,
        url: None,
        event_types: None,
        enabled: None,
        description: None,
        transform_plugin_id: None,
    };
    if let Some(plugin) = change.transform_plugin_id.filter(|p| *p != before.transform_plugin_id) {
        check_transform(&tx, scope, plugin).await?;
        updated.transform_plugin_id = Some(ValueChange::new(before.transform_plugin_id, plugin));
        row.transform_plugin_id = Set(plugin);
    }
    if let Some(url) = change.url.filter(|u| *u != before.url) {
        updated.url = Some(ValueChange::new(&before.url, &url));
        row.url = Set(url);
    }
    if let Some(types) = change.event_types.filter(|t| *t != before_types) {
        updated.event_types = Some(ValueChange::new(&before_types, &types));
        row.event_types = Set(serde_json::to_string(&types).map_err(ApiError::internal)?);
    }
    if let Some(description) = change.description.filter(|d| *d != before.description) {
        updated.description = Some(ValueChange::new(&before.description, &description));
        row.description = Set(description);
    }
    if let Some(enabled) = change.enabled.filter(|e| *e != before.enabled) {
        updated.enabled = Some(ValueChange::new(before.enabled, enabled));
        row.enabled = Set(enabled);
        if enabled {
            // Back from being off: deliver what comes next; `replay` brings what it missed.
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
            row.cursor_seq = Set(head_seq(&tx, scope).await?);
        }
    }
    let nothing = updated.url.is_none()
        && updated.transform_plugin_id.is_none()
        && updated.event_types.is_none()
        && updated.description.is_none()
        && updated.enabled.is_none();
    if nothing {
        return Ok(before);
    }
    row.updated_at = Set(now);
    let after = row.update(&tx).await?;
    if !after.enabled {
        worker::cancel_pending(&tx, after.id, now, "the endpoint is disabled").await?;
    }
    changes::record(&tx, scope, Event::WebhookUpdated(updated)).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete(state: &AppState, scope: &Scope, id: Uuid) -> Result<(), ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let row = find(&tx, scope, id).await?;
    webhook_endpoint::Entity::delete_by_id(row.id).exec(&tx).await?;
    changes::record(&tx, scope, Event::WebhookDeleted(WebhookDeleted { webhook_id: row.id, url: row.url }))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret; the current one keeps signing beside it for [`ROTATION_OVERLAP`].
pub async fn rotate_secret(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
) -> Result<(webhook_endpoint::Model, String), ApiError> {
    let now = scope.now();
    let secret = signing::new_secret().map_err(ApiError::internal)?;
    let sealed =
        state.keys.master_key().seal(&seal_context(id), secret.as_bytes()).map_err(ApiError::internal)?;
    let tx = db::begin_write(&state.writer).await?;
    let before = find(&tx, scope, id).await?;
    let until = now + ROTATION_OVERLAP;
    let mut row = before.clone().into_active_model();
    row.previous_secret = Set(Some(before.secret));
    row.previous_secret_until = Set(Some(until));
    row.secret = Set(sealed);
    row.updated_at = Set(now);
    let after = row.update(&tx).await?;
    let rotated = WebhookSecretRotated { webhook_id: id, previous_valid_until: until };
    changes::record(&tx, scope, Event::WebhookSecretRotated(rotated)).await?;
    tx.commit().await?;
    Ok((after, secret))
}

pub async fn deliveries(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    page: PageRequest,
) -> Result<(Vec<webhook_delivery::Model>, Option<String>, bool), ApiError> {
    let endpoint = find(&state.db, scope, id).await?;
    let mut query = scoped::<webhook_delivery::Entity>(scope)
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(page.fetch());
    if let Some(after) = page.after {
        query = query.filter(webhook_delivery::Column::Id.gt(after));
    }
    Ok(page.finish(query.all(&state.db).await?, |d| d.id))
}

/// Queues a delivery for another attempt now (one in flight answers 409).
pub async fn retry(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    delivery_id: Uuid,
) -> Result<webhook_delivery::Model, ApiError> {
    let now = scope.now();
    let tx = db::begin_write(&state.writer).await?;
    let endpoint = find(&tx, scope, id).await?;
    let delivery = scoped::<webhook_delivery::Entity>(scope)
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Id.eq(delivery_id))
        .one(&tx)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if delivery.status == worker::DELIVERING && delivery.lease_until.is_some_and(|t| t > now) {
        return Err(ApiError::conflict("DELIVERY_IN_FLIGHT", "an attempt of this delivery is under way"));
    }
    if !endpoint.enabled {
        return Err(ApiError::conflict(
            "WEBHOOK_DISABLED",
            "enable the endpoint before retrying its deliveries",
        ));
    }
    let mut row = delivery.into_active_model();
    row.status = Set(worker::PENDING.into());
    row.next_attempt_at = Set(Some(now));
    row.lease_until = Set(None);
    row.updated_at = Set(now);
    let after = row.update(&tx).await?;
    tx.commit().await?;
    Ok(after)
}

/// Queues again, for this endpoint, the org's events since `since` that it subscribes to.
pub async fn replay(
    state: &AppState,
    scope: &Scope,
    id: Uuid,
    since: DateTime<Utc>,
) -> Result<(u64, bool), ApiError> {
    let now = scope.now();
    let oldest = now - Duration::days(i64::from(state.config.events.retention_days));
    if since > now {
        return Err(ApiError::validation("since", "is in the future"));
    }
    let since = since.max(oldest);
    let tx = db::begin_write(&state.writer).await?;
    let endpoint = find(&tx, scope, id).await?;
    if !endpoint.enabled {
        return Err(ApiError::conflict(
            "WEBHOOK_DISABLED",
            "enable the endpoint before replaying events to it",
        ));
    }
    let types = worker::filter_of(&endpoint);
    let events: Vec<event::Model> = scoped::<event::Entity>(scope)
        .filter(event::Column::OccurredAt.gte(since))
        .order_by_asc(event::Column::Seq)
        .limit(MAX_REPLAY + 1)
        .all(&tx)
        .await?;
    let truncated = events.len() as u64 > MAX_REPLAY;
    let matching: Vec<&event::Model> =
        events.iter().take(MAX_REPLAY as usize).filter(|e| types.accepts(&e.event_type)).collect();
    let queued = matching.len() as u64;
    worker::enqueue(&tx, &endpoint, matching.into_iter(), now).await?;
    let replayed = WebhookReplayed { webhook_id: id, since, queued };
    changes::record(&tx, scope, Event::WebhookReplayed(replayed)).await?;
    tx.commit().await?;
    Ok((queued, truncated))
}
