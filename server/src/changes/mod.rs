//! The one write path's record: a change writes its audit entry and, when it happens in an org,
//! its event in the outbox, in the caller's transaction, so the change, its record and its
//! delivery commit together or not at all. Audit actions and event types both come from the
//! [`Event`] catalog, never from string literals.

pub mod api;
pub mod catalog;
pub mod service;

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
};

use guildhall_entities::{audit_log, event};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};

pub use catalog::Event;

use crate::{
    audit::{self, AuditEvent},
    error::ApiError,
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
    let entry = match PENDING.try_with(Arc::clone) {
        Ok(pending) => defer(db, &pending, scope.now(), scope.meta(), audit).await?,
        Err(_) => audit::append(db, scope.now(), scope.meta(), audit).await?,
    };
    let row = event::Model {
        id: entry.id,
        org_id: scope.org_id(),
        seq: entry.seq,
        event_type: event.name().to_string(),
        version: event.version(),
        occurred_at: entry.occurred_at,
        data: data.to_string(),
    };
    match PENDING.try_with(Arc::clone) {
        Ok(pending) => lock(&pending).events.push(row),
        Err(_) => {
            event::Entity::insert(row.into_active_model().reset_all()).exec_without_returning(db).await?;
        }
    }
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
    match PENDING.try_with(Arc::clone) {
        Ok(pending) => defer(db, &pending, origin.now(), origin.meta(), audit).await.map(|_| ()),
        Err(_) => audit::append(db, origin.now(), origin.meta(), audit).await.map(|_| ()),
    }
}

tokio::task_local! {
    /// Set while a group commit applies its writes (see `group_commit`): what they record
    /// waits here and is inserted together when the batch is done.
    static PENDING: Arc<Mutex<Pending>>;
}

/// The audit entries and events a batch of writes recorded, not inserted yet, and the head of
/// each chain they extend.
#[derive(Default)]
pub struct Pending {
    heads: HashMap<String, (i64, Vec<u8>)>,
    entries: Vec<audit_log::Model>,
    events: Vec<event::Model>,
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

/// The next entry of the event's chain, its head read from the database once per batch.
async fn defer<C: ConnectionTrait>(
    db: &C,
    pending: &Mutex<Pending>,
    at: chrono::DateTime<chrono::Utc>,
    meta: &crate::http::RequestMeta,
    audit: AuditEvent,
) -> Result<audit_log::Model, ApiError> {
    let chain = audit::chain::chain_of(audit.org_id());
    let known = lock(pending).heads.get(&chain).cloned();
    let head = match known {
        Some(head) => head,
        None => audit::chain::head(db, &chain, audit.org_id()).await?,
    };
    let entry = audit::next(head, chain.clone(), at, meta, audit);
    let mut pending = lock(pending);
    pending.heads.insert(chain, (entry.seq, entry.hash.clone().unwrap_or_default()));
    pending.entries.push(entry.clone());
    Ok(entry)
}

/// Inserts what a batch recorded, in order, a few hundred rows per statement.
pub async fn flush<C: ConnectionTrait>(db: &C, pending: &Mutex<Pending>) -> Result<(), ApiError> {
    const ROWS_PER_INSERT: usize = 256;
    let (entries, events) = {
        let mut pending = lock(pending);
        (std::mem::take(&mut pending.entries), std::mem::take(&mut pending.events))
    };
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
