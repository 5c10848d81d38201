//! The one write path's record: a change writes its audit entry and, when it happens in an org,
//! its event in the outbox, in the caller's transaction, so the change, its record and its
//! delivery commit together or not at all. Audit actions and event types both come from the
//! [`Event`] catalog, never from string literals.

pub mod api;
pub mod catalog;
pub mod service;

use guildhall_entities::event;
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
    let entry = audit::append(
        db,
        scope.now(),
        scope.meta(),
        AuditEvent::new(scope.actor(), event.name())
            .org(scope.org_id())
            .target_of(event.target())
            .details(data.clone()),
    )
    .await?;
    let row = event::Model {
        id: entry.id,
        org_id: scope.org_id(),
        seq: entry.seq,
        event_type: event.name().to_string(),
        version: event.version(),
        occurred_at: entry.occurred_at,
        data: data.to_string(),
    };
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
    audit::append(
        db,
        origin.now(),
        origin.meta(),
        AuditEvent::new(origin.actor(), event.name()).target_of(event.target()).details(event.data()),
    )
    .await
    .map(|_| ())
}
