//! Delivery. A dispatcher turns each enabled endpoint's new events into deliveries (advancing
//! the endpoint's cursor in the same transaction); a sender claims due deliveries with a lease
//! (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so several nodes never claim one attempt twice),
//! commits the claim, makes the HTTP call with no transaction open, and settles the outcome only
//! if it still holds the lease. A node that dies mid-attempt leaves the lease to expire and the
//! attempt to another node: delivery is at least once, de-duplicated by `webhook-id`.
//!
//! Retries follow 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (plus up to 10 % jitter), or the
//! receiver's `Retry-After` on 429 and 503; 410 Gone disables the endpoint at once, and so does
//! failing without a success for `webhooks.disable_after_hours`.

use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use guildhall_entities::{event, webhook_delivery, webhook_endpoint};
use poem_openapi::types::ToJSON;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType, Query},
};
use tokio::{sync::Semaphore, task::JoinHandle};
use uuid::Uuid;

use super::{service::seal_context, signing, types::WebhookTestResult};
use crate::{
    AppState,
    audit::Actor,
    changes::{self, Event, api::EventEnvelope, catalog::WebhookDisabled, service::TypeFilter},
    db,
    error::ApiError,
    http::RequestMeta,
    outbound::OutboundError,
    plugins::service as plugins,
    scope::{OrgId, Origin},
};
use guildhall_plugin_host::{TransformInput, TransformOutput};

pub const PENDING: &str = "pending";
pub const DELIVERING: &str = "delivering";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";
/// The endpoint's transform plugin chose not to deliver this event.
pub const DROPPED: &str = "dropped";

/// Waits after the 1st, 2nd, ... failed attempt; after the last, the delivery fails for good.
pub const SCHEDULE: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];
/// Bytes of a receiver's answer kept (for the error shown in deliveries).
const MAX_REPLY: usize = 16 * 1024;
/// Events one dispatch pass turns into deliveries per endpoint.
const DISPATCH_BATCH: u64 = 1000;
const MAX_RETRY_AFTER: Duration = Duration::hours(24);

/// Runs the dispatcher and the sender every `webhooks.poll_interval_ms` until aborted.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker =
            tokio::time::interval(StdDuration::from_millis(state.config.webhooks.poll_interval_ms));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let slots = Arc::new(Semaphore::new(state.config.webhooks.concurrency));
        loop {
            ticker.tick().await;
            if let Err(err) = dispatch(&state).await {
                tracing::warn!(error = %err, "webhook dispatch failed");
            }
            // Keep the pipeline full: while passes find work, wait for a free slot and claim
            // again, instead of waiting for the next tick.
            loop {
                match slots.acquire().await {
                    Ok(permit) => drop(permit),
                    Err(_) => break,
                }
                match send_due(&state, &slots).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "webhook delivery pass failed");
                        break;
                    }
                }
            }
        }
    })
}

/// An endpoint's subscription as a filter.
pub fn filter_of(endpoint: &webhook_endpoint::Model) -> TypeFilter {
    let patterns: Vec<String> = serde_json::from_str(&endpoint.event_types).unwrap_or_default();
    TypeFilter::stored(patterns)
}

/// Queues `events` for `endpoint`, due now.
pub async fn enqueue<'e, C: ConnectionTrait>(
    db: &C,
    endpoint: &webhook_endpoint::Model,
    events: impl Iterator<Item = &'e event::Model>,
    now: DateTime<Utc>,
) -> Result<u64, ApiError> {
    let rows: Vec<webhook_delivery::ActiveModel> = events
        .map(|e| webhook_delivery::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(endpoint.org_id),
            endpoint_id: Set(endpoint.id),
            event_id: Set(e.id),
            event_type: Set(e.event_type.clone()),
            status: Set(PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(Some(now)),
            lease_until: Set(None),
            response_status: Set(None),
            latency_ms: Set(None),
            error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    let count = rows.len() as u64;
    for chunk in rows.chunks(500) {
        webhook_delivery::Entity::insert_many(chunk.to_vec()).exec_without_returning(db).await?;
    }
    Ok(count)
}

/// Fails the endpoint's pending deliveries (it was disabled).
pub async fn cancel_pending<C: ConnectionTrait>(
    db: &C,
    endpoint_id: Uuid,
    now: DateTime<Utc>,
    why: &str,
) -> Result<(), ApiError> {
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(FAILED))
        .col_expr(webhook_delivery::Column::Error, Expr::value(why))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes finished deliveries (succeeded or failed) older than the event retention: their
/// events are gone too, so there is nothing left to retry or replay. Returns how many went.
pub async fn purge_finished(state: &AppState, now: DateTime<Utc>) -> Result<u64, ApiError> {
    let cutoff = now - Duration::days(i64::from(state.config.events.retention_days));
    let tx = db::begin_write(&state.writer).await?;
    let gone = webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::Status.is_in([SUCCEEDED, FAILED, DROPPED]))
        .filter(webhook_delivery::Column::UpdatedAt.lt(cutoff))
        .exec(&tx)
        .await?;
    tx.commit().await?;
    Ok(gone.rows_affected)
}

/// Turns new events into deliveries for every enabled endpoint. Returns how many it queued.
pub async fn dispatch(state: &AppState) -> Result<u64, ApiError> {
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(&state.db)
        .await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let mut org_ids: Vec<Uuid> = endpoints.iter().map(|e| e.org_id).collect();
    org_ids.sort();
    org_ids.dedup();
    let heads: Vec<(Uuid, Option<i64>)> = event::Entity::find()
        .select_only()
        .column(event::Column::OrgId)
        .column_as(event::Column::Seq.max(), "head")
        .filter(event::Column::OrgId.is_in(org_ids))
        .group_by(event::Column::OrgId)
        .into_tuple()
        .all(&state.db)
        .await?;
    let heads: HashMap<Uuid, i64> = heads.into_iter().filter_map(|(org, head)| Some((org, head?))).collect();
    let postgres = state.db.get_database_backend() == DbBackend::Postgres;
    let mut queued = 0;
    for endpoint in endpoints {
        if heads.get(&endpoint.org_id).is_none_or(|head| *head <= endpoint.cursor_seq) {
            continue;
        }
        let tx = db::begin_write(&state.writer).await?;
        let mut query = webhook_endpoint::Entity::find_by_id(endpoint.id);
        if postgres {
            // Another node dispatching this endpoint holds it; let it.
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let Some(endpoint) = query.one(&tx).await?.filter(|e| e.enabled) else { continue };
        let events = event::Entity::find()
            .filter(event::Column::OrgId.eq(endpoint.org_id))
            .filter(event::Column::Seq.gt(endpoint.cursor_seq))
            .order_by_asc(event::Column::Seq)
            .limit(DISPATCH_BATCH)
            .all(&tx)
            .await?;
        let Some(last) = events.last().map(|e| e.seq) else { continue };
        let filter = filter_of(&endpoint);
        queued += enqueue(
            &tx,
            &endpoint,
            events.iter().filter(|e| filter.accepts(&e.event_type)),
            state.clock.now(),
        )
        .await?;
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::CursorSeq, Expr::value(last))
            .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
            .exec(&tx)
            .await?;
        tx.commit().await?;
    }
    Ok(queued)
}

/// Claims due deliveries, as many as `slots` has free, and starts sending them (each holds a
/// slot until settled). Returns how many it claimed.
pub async fn send_due(state: &AppState, slots: &Arc<Semaphore>) -> Result<usize, ApiError> {
    let free = slots.available_permits();
    if free == 0 {
        return Ok(0);
    }
    let now = state.clock.now();
    let timeout = Duration::seconds(i64::try_from(state.config.webhooks.timeout_seconds).unwrap_or(15));
    // Longer than any attempt (the client times out first), short enough to take over soon.
    let lease = (now + timeout + Duration::seconds(5)).trunc_subsecs(6);
    let due = Condition::any()
        .add(
            Condition::all()
                .add(webhook_delivery::Column::Status.eq(PENDING))
                .add(webhook_delivery::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(webhook_delivery::Column::Status.eq(DELIVERING))
                .add(webhook_delivery::Column::LeaseUntil.lt(now)),
        );
    let mut pick = Query::select();
    pick.column(webhook_delivery::Column::Id)
        .from(webhook_delivery::Entity)
        .cond_where(due)
        .order_by(webhook_delivery::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(free as u64);
    if state.db.get_database_backend() == DbBackend::Postgres {
        pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let tx = db::begin_write(&state.writer).await?;
    let claimed = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(DELIVERING))
        .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(lease))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.in_subquery(pick))
        .exec_with_returning(&tx)
        .await?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();
    for delivery in claimed {
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Not expected (this task alone takes slots); the lease hands it back later.
            break;
        };
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(err) = attempt(&state, delivery, lease).await {
                tracing::warn!(error = %err, "webhook attempt could not be settled");
            }
            drop(slot);
        });
    }
    Ok(count)
}

/// What one attempt got.
struct Outcome {
    status: Option<u16>,
    latency_ms: Option<i64>,
    error: Option<String>,
    retry_after: Option<Duration>,
    /// Retrying cannot help (the event is gone, the endpoint is off).
    permanent: bool,
    /// The transform plugin dropped the event: nothing was sent, and nothing failed.
    dropped: bool,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

async fn attempt(
    state: &AppState,
    delivery: webhook_delivery::Model,
    lease: DateTime<Utc>,
) -> Result<(), ApiError> {
    let endpoint = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id).one(&state.db).await?;
    let event = event::Entity::find_by_id(delivery.event_id).one(&state.db).await?;
    let outcome = match (&endpoint, event) {
        (Some(endpoint), Some(event)) if endpoint.enabled => {
            let envelope = EventEnvelope::from(event);
            match transformed(state, endpoint, &envelope).await {
                Ok(Some((body, extra))) => {
                    send(state, endpoint, &delivery.event_id.to_string(), body, extra).await
                }
                Ok(None) => Outcome::dropped(),
                Err(outcome) => outcome,
            }
        }
        (Some(_), Some(_)) => Outcome::permanent("the endpoint is disabled"),
        (_, None) => Outcome::permanent("the event is past its retention"),
        (None, _) => return Ok(()),
    };
    settle(state, &delivery, lease, outcome).await
}

impl Outcome {
    fn failed(why: &str) -> Self {
        Self {
            status: None,
            latency_ms: None,
            error: Some(why.into()),
            retry_after: None,
            permanent: false,
            dropped: false,
        }
    }

    fn dropped() -> Self {
        Self { error: None, permanent: true, dropped: true, ..Self::failed("") }
    }

    fn permanent(why: &str) -> Self {
        Self { permanent: true, ..Self::failed(why) }
    }
}

/// Headers a transform may not set: ours, and those of the transport.
const RESERVED_HEADERS: &[&str] =
    &["content-type", "content-length", "host", "transfer-encoding", "connection"];

/// The body to deliver (and extra headers): the envelope as is, or what the endpoint's
/// transform plugin made of it; `None` when the plugin dropped it. A failing plugin fails the
/// delivery for good (a plugin is deterministic, and nothing untransformed is ever sent).
async fn transformed(
    state: &AppState,
    endpoint: &webhook_endpoint::Model,
    envelope: &EventEnvelope,
) -> Result<Option<(Vec<u8>, Vec<(String, String)>)>, Outcome> {
    let body = envelope.to_json_string();
    let Some(plugin_id) = endpoint.transform_plugin_id else {
        return Ok(Some((body.into_bytes(), Vec::new())));
    };
    let payload = serde_json::from_str(&body)
        .map_err(|e| Outcome::permanent(&format!("the event is not JSON: {e}")))?;
    let meta = crate::http::RequestMeta::default();
    let call = plugins::Call {
        org_id: endpoint.org_id,
        plugin_id,
        hook: plugins::Hook::Webhook,
        hook_id: endpoint.id.to_string(),
        consequence: "not_delivered",
        meta: &meta,
    };
    let input = TransformInput { event_type: envelope.type_.clone(), payload };
    match plugins::transform(state, &call, input).await {
        Ok(TransformOutput::Replace { payload, headers }) => {
            let body = serde_json::to_vec(&payload).map_err(|e| Outcome::permanent(&e.to_string()))?;
            let extra = headers
                .into_iter()
                .filter(|(name, _)| {
                    let name = name.to_ascii_lowercase();
                    !RESERVED_HEADERS.contains(&name.as_str()) && !name.starts_with("webhook-")
                })
                .collect();
            Ok(Some((body, extra)))
        }
        Ok(TransformOutput::Drop) => Ok(None),
        Err(failed) => Err(Outcome::permanent(&format!(
            "the transform plugin failed ({}): {}",
            failed.code, failed.message
        ))),
    }
}

/// Signs and POSTs `body` to the endpoint, with a transform's `extra` headers.
async fn send(
    state: &AppState,
    endpoint: &webhook_endpoint::Model,
    id: &str,
    body: Vec<u8>,
    extra: Vec<(String, String)>,
) -> Outcome {
    let now = state.clock.now();
    let keys = match keys_of(state, endpoint, now) {
        Ok(keys) => keys,
        Err(err) => return Outcome::failed(&format!("the signing secret cannot be opened: {err}")),
    };
    let timestamp = now.timestamp();
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = reqwest::header::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    put("content-type", "application/json".into());
    put("webhook-id", id.to_string());
    put("webhook-timestamp", timestamp.to_string());
    put("webhook-signature", signing::header(&keys, id, timestamp, &body));
    let timeout = StdDuration::from_secs(state.config.webhooks.timeout_seconds);
    match state.outbound.post(&endpoint.url, headers, body, timeout, MAX_REPLY).await {
        Ok(reply) => {
            let retry_after = if matches!(reply.status, 429 | 503) {
                reply
                    .headers
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now))
            } else {
                None
            };
            let error = (!(200..300).contains(&reply.status)).then(|| {
                let text = String::from_utf8_lossy(&reply.body);
                let text: String = text.chars().take(500).collect();
                format!(
                    "the endpoint answered {}{}",
                    reply.status,
                    if text.is_empty() { String::new() } else { format!(": {text}") }
                )
            });
            Outcome {
                status: Some(reply.status),
                latency_ms: Some(i64::try_from(reply.latency.as_millis()).unwrap_or(i64::MAX)),
                error,
                retry_after,
                permanent: false,
                dropped: false,
            }
        }
        Err(OutboundError::Timeout) => Outcome::failed(&format!("timed out after {} s", timeout.as_secs())),
        Err(err) => Outcome::failed(&err.to_string()),
    }
}

/// The current secret's key, and the previous one's during a rotation's overlap.
fn keys_of(
    state: &AppState,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let master = state.keys.master_key();
    let context = seal_context(endpoint.id);
    let open = |sealed: &[u8]| -> anyhow::Result<Vec<u8>> {
        let secret = String::from_utf8(master.open(&context, sealed)?)?;
        signing::key_of(&secret)
    };
    let mut keys = vec![open(&endpoint.secret)?];
    if let (Some(previous), Some(until)) = (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > now
    {
        keys.push(open(previous)?);
    }
    Ok(keys)
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3), kept within a day.
fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<i64>() {
        Ok(seconds) => Duration::seconds(seconds),
        Err(_) => DateTime::parse_from_rfc2822(value).ok()?.with_timezone(&Utc) - now,
    };
    Some(wait.clamp(Duration::seconds(1), MAX_RETRY_AFTER))
}

/// Up to 10 % more than `wait`, so retries of many deliveries spread out.
fn jittered(wait: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = aws_lc_rs::rand::fill(&mut byte);
    wait + wait * i32::from(byte[0] % 101) / 1000
}

/// The wait after `attempts` failed attempts, or `None` when the schedule is spent.
pub fn next_wait(attempts: i32) -> Option<Duration> {
    usize::try_from(attempts).ok().and_then(|n| n.checked_sub(1)).and_then(|i| SCHEDULE.get(i)).copied()
}

async fn settle(
    state: &AppState,
    delivery: &webhook_delivery::Model,
    lease: DateTime<Utc>,
    outcome: Outcome,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let attempts = delivery.attempts + 1;
    let tx = db::begin_write(&state.writer).await?;
    // Read the endpoint again under the write lock: another attempt may have disabled it.
    let Some(endpoint) = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id).one(&tx).await? else {
        return Ok(());
    };
    let gone = outcome.status == Some(410);
    let (status, next) = if outcome.dropped {
        (DROPPED, None)
    } else if outcome.ok() {
        (SUCCEEDED, None)
    } else if gone || outcome.permanent || !endpoint.enabled {
        (FAILED, None)
    } else {
        match outcome.retry_after.map(Some).unwrap_or_else(|| next_wait(attempts).map(jittered)) {
            Some(wait) => (PENDING, Some(now + wait)),
            None => (FAILED, None),
        }
    };
    let settled = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(next))
        .col_expr(webhook_delivery::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(webhook_delivery::Column::ResponseStatus, Expr::value(outcome.status.map(i32::from)))
        .col_expr(webhook_delivery::Column::LatencyMs, Expr::value(outcome.latency_ms))
        .col_expr(webhook_delivery::Column::Error, Expr::value(outcome.error.clone()))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(delivery.id))
        .filter(webhook_delivery::Column::Status.eq(DELIVERING))
        .filter(webhook_delivery::Column::LeaseUntil.eq(lease))
        .exec(&tx)
        .await?;
    // Another node took the attempt over after our lease ran out: its outcome stands. A
    // dropped event says nothing about the endpoint's health.
    if settled.rows_affected == 0 || !endpoint.enabled || outcome.dropped {
        tx.commit().await?;
        return Ok(());
    }
    if outcome.ok() {
        if endpoint.failing_since.is_some() {
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&tx)
                .await?;
        }
    } else {
        let since = endpoint.failing_since.unwrap_or(now);
        let limit = Duration::hours(i64::from(state.config.webhooks.disable_after_hours));
        if gone {
            disable(state, &tx, &endpoint, "gone", now).await?;
        } else if now - since >= limit {
            disable(state, &tx, &endpoint, "failing", now).await?;
        } else if endpoint.failing_since.is_none() {
            webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(Some(now)))
                .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
                .exec(&tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Switches the endpoint off, fails what was queued for it, and says so in the org's audit log.
async fn disable<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    endpoint: &webhook_endpoint::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(webhook_endpoint::Column::DisabledReason, Expr::value(reason))
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now))
        .filter(webhook_endpoint::Column::Id.eq(endpoint.id))
        .exec(db)
        .await?;
    cancel_pending(db, endpoint.id, now, "the endpoint was disabled").await?;
    let scope = Origin::new(Actor::System, RequestMeta::system("webhooks"), state.clock.clone())
        .in_org(OrgId::stored(endpoint.org_id));
    let disabled =
        WebhookDisabled { webhook_id: endpoint.id, url: endpoint.url.clone(), reason: reason.into() };
    changes::record(db, &scope, Event::WebhookDisabled(disabled)).await
}

/// Sends a `webhook.ping` to the endpoint now, outside the queue, and answers what happened.
pub async fn ping(state: &AppState, endpoint: &webhook_endpoint::Model) -> WebhookTestResult {
    let id = Uuid::now_v7();
    let body = serde_json::json!({
        "id": id,
        "type": "webhook.ping",
        "timestamp": state.clock.now(),
        "org_id": endpoint.org_id,
        "version": 1,
        "data": { "webhook_id": endpoint.id },
    });
    let outcome = send(state, endpoint, &id.to_string(), body.to_string().into_bytes(), Vec::new()).await;
    WebhookTestResult {
        ok: outcome.ok(),
        response_status: outcome.status,
        latency_ms: outcome.latency_ms.and_then(|l| u64::try_from(l).ok()),
        error: outcome.error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_spans_about_32_hours_and_then_ends() {
        let total: Duration = SCHEDULE.iter().copied().sum();
        assert_eq!(total, Duration::seconds(5) + Duration::minutes(35) + Duration::hours(27));
        assert_eq!(next_wait(1), Some(Duration::seconds(5)));
        assert_eq!(next_wait(7), Some(Duration::hours(10)));
        assert_eq!(next_wait(8), None);
        assert_eq!(next_wait(0), None);
        for _ in 0..100 {
            let w = jittered(Duration::seconds(100));
            assert!(w >= Duration::seconds(100) && w <= Duration::seconds(110), "{w}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_within_a_day() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(parse_retry_after("Thu, 03 Dec 2026 10:01:00 GMT", now), Some(Duration::seconds(60)));
        assert_eq!(parse_retry_after("0", now), Some(Duration::seconds(1)));
        assert_eq!(parse_retry_after("9999999", now), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
