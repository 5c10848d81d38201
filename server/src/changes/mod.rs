//! The one write path's record: a change writes its audit entry and, when it happens in an org,
//! its event in the outbox, in the caller's transaction, so the change, its record and its
//! delivery commit together or not at all. Audit actions and event types both come from the
//! [`Event`] catalog, never from string literals.

pub mod api;
pub mod catalog;
pub mod service;

use std::{
    collections::{BTreeMap, HashMap},
    future::Future,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use guildhall_entities::{audit_log, event};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};
use uuid::Uuid;

pub use catalog::Event;

use crate::{
    audit::{self, AuditEvent},
    error::ApiError,
    http::RequestMeta,
    scope::{Origin, Scope},
};

/// Records `event` in the scope's org: its audit entry in the org's chain and its event in the
/// outbox. The event's id is the audit entry's id, its `seq` the entry's place in the chain.
pub async fn record<C: ConnectionTrait>(db: &C, scope: &Scope, event: Event) -> Result<(), ApiError> {
    debug_assert!(event.audience().in_org_chain(), "{} is recorded in the instance chain only", event.name());
    let data = event.data();
    let audit = AuditEvent::new(scope.actor(), event.name())
        .org(scope.org_id())
        .target_of(event.target())
        .details(data.clone());
    let outbox = Outbox { org_id: scope.org_id(), event_type: event.name(), version: event.version(), data };
    if let Ok(pending) = PENDING.try_with(Arc::clone) {
        lock(&pending).records.push(Deferred {
            at: scope.now(),
            meta: scope.meta().clone(),
            audit,
            outbox: Some(outbox),
        });
        return Ok(());
    }
    let entry = audit::append(db, scope.now(), scope.meta(), audit).await?;
    let row = outbox.row(&entry);
    event::Entity::insert(row.into_active_model().reset_all()).exec_without_returning(db).await?;
    Ok(())
}

/// Records `event` in the instance's audit chain only (signups, key rotation, instance
/// settings): no org receives it.
pub async fn record_instance<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    event: Event,
) -> Result<(), ApiError> {
    let audit = AuditEvent::new(origin.actor(), event.name()).target_of(event.target()).details(event.data());
    if let Ok(pending) = PENDING.try_with(Arc::clone) {
        lock(&pending).records.push(Deferred {
            at: origin.now(),
            meta: origin.meta().clone(),
            audit,
            outbox: None,
        });
        return Ok(());
    }
    audit::append(db, origin.now(), origin.meta(), audit).await.map(|_| ())
}

/// An org event's outbox row, but for what its audit entry decides (id, seq, time).
struct Outbox {
    org_id: Uuid,
    event_type: &'static str,
    version: i32,
    data: serde_json::Value,
}

impl Outbox {
    fn row(self, entry: &audit_log::Model) -> event::Model {
        event::Model {
            id: entry.id,
            org_id: self.org_id,
            seq: entry.seq,
            event_type: self.event_type.to_string(),
            version: self.version,
            occurred_at: entry.occurred_at,
            data: self.data.to_string(),
        }
    }
}

tokio::task_local! {
    /// Set while a group commit applies its writes (see `group_commit`): what they record
    /// waits here until the batch is done.
    static PENDING: Arc<Mutex<Pending>>;
}

/// What a batch of writes recorded, in order, not yet in any chain.
#[derive(Default)]
pub struct Pending {
    records: Vec<Deferred>,
}

struct Deferred {
    at: DateTime<Utc>,
    meta: RequestMeta,
    audit: AuditEvent,
    outbox: Option<Outbox>,
}

impl Pending {
    pub fn shared() -> Arc<Mutex<Self>> {
        Arc::default()
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    // Nothing panics while holding it; a poisoned lock still holds consistent data.
    pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `apply` with its records deferred into `pending`.
pub async fn deferred<F: Future>(pending: Arc<Mutex<Pending>>, apply: F) -> F::Output {
    PENDING.scope(pending, apply).await
}

/// Appends what a batch recorded to its chains, in order, and inserts the entries and events
/// a few hundred rows per statement. Each chain's head is read (and on PostgreSQL locked) once,
/// here, so a batch holds no chain while its writes run; chains are taken in a fixed order so
/// two batches never wait on each other's.
pub async fn flush<C: ConnectionTrait>(db: &C, pending: &Mutex<Pending>) -> Result<(), ApiError> {
    const ROWS_PER_INSERT: usize = 256;
    let records = std::mem::take(&mut lock(pending).records);
    if records.is_empty() {
        return Ok(());
    }
    let chains: BTreeMap<String, Option<Uuid>> =
        records.iter().map(|r| (audit::chain::chain_of(r.audit.org_id()), r.audit.org_id())).collect();
    let mut heads = HashMap::with_capacity(chains.len());
    for (chain, org_id) in chains {
        let head = audit::chain::head(db, &chain, org_id).await?;
        heads.insert(chain, head);
    }
    let mut entries = Vec::with_capacity(records.len());
    let mut events = Vec::with_capacity(records.len());
    for record in records {
        let chain = audit::chain::chain_of(record.audit.org_id());
        let head = heads.remove(&chain).unwrap_or_default();
        let entry = audit::next(head, chain.clone(), record.at, &record.meta, record.audit);
        heads.insert(chain, (entry.seq, entry.hash.clone().unwrap_or_default()));
        if let Some(outbox) = record.outbox {
            events.push(outbox.row(&entry));
        }
        entries.push(entry);
    }
    for chunk in entries.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|e| e.clone().into_active_model().reset_all());
        audit_log::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let rows = chunk.iter().map(|e| e.clone().into_active_model().reset_all());
        event::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}
