//! The audit log. Every state change writes one entry in the same transaction as the change,
//! so a change and its record commit or vanish together. Entries never hold secrets.
//! Entries form a hash chain per org (instance-level events have their own chain): each stores
//! SHA-256 over the previous entry's hash and its own canonical content, so an edited, removed
//! or reordered entry breaks verification. A retention purge keeps the last purged hash as the
//! chain's anchor.

pub mod api;
pub mod chain;
pub mod service;
pub mod types;

use chrono::{DateTime, Utc};
use guildhall_entities::audit_log;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel};
use uuid::Uuid;

use crate::{error::ApiError, http::RequestMeta};

/// Who did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(Uuid),
    PersonalToken {
        user_id: Uuid,
        token_id: Uuid,
    },
    ServiceAccount {
        id: Uuid,
        token_id: Uuid,
    },
    /// An identity provider's directory sync, through a SCIM token.
    Scim {
        token_id: Uuid,
    },
    /// An unauthenticated caller (failed logins, signups).
    Anonymous,
    /// The server itself or its command line.
    System,
}

impl Actor {
    pub fn parts(self) -> (&'static str, Option<String>) {
        match self {
            Self::User(id) => ("user", Some(id.to_string())),
            Self::PersonalToken { token_id, .. } => ("token", Some(token_id.to_string())),
            Self::ServiceAccount { id, .. } => ("service_account", Some(id.to_string())),
            Self::Scim { token_id } => ("scim", Some(token_id.to_string())),
            Self::Anonymous => ("anonymous", None),
            Self::System => ("system", None),
        }
    }
}

/// One entry to append, built by `changes` from a catalog event.
#[derive(Clone, Debug)]
pub(crate) struct AuditEvent {
    actor: Actor,
    action: &'static str,
    org_id: Option<Uuid>,
    target: Option<(&'static str, String)>,
    details: Option<serde_json::Value>,
}

impl AuditEvent {
    pub(crate) fn new(actor: Actor, action: &'static str) -> Self {
        Self { actor, action, org_id: None, target: None, details: None }
    }

    pub(crate) fn org(mut self, org_id: Uuid) -> Self {
        self.org_id = Some(org_id);
        self
    }

    pub(crate) fn target_of(mut self, target: Option<(&'static str, String)>) -> Self {
        self.target = target;
        self
    }

    /// Changed fields or context; never secrets.
    pub(crate) fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

/// Appends `event` to its chain inside the caller's transaction and answers the entry written.
/// Only `changes::record` calls it: every audit entry is a catalog event.
pub(crate) async fn append<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    meta: &RequestMeta,
    event: AuditEvent,
) -> Result<audit_log::Model, ApiError> {
    let chain = chain::chain_of(event.org_id);
    let head = chain::head(db, &chain, event.org_id).await?;
    let entry = next(head, chain, at, meta, event);
    let row = entry.clone().into_active_model().reset_all();
    audit_log::Entity::insert(row).exec_without_returning(db).await?;
    Ok(entry)
}

/// The entry that extends the chain whose last `(seq, hash)` is `head` with `event`.
pub(crate) fn next(
    (last_seq, last_hash): (i64, Vec<u8>),
    chain: String,
    at: DateTime<Utc>,
    meta: &RequestMeta,
    event: AuditEvent,
) -> audit_log::Model {
    let (actor_type, actor_id) = event.actor.parts();
    let (target_type, target_id) = match event.target {
        Some((kind, id)) => (Some(kind.to_string()), Some(id)),
        None => (None, None),
    };
    let mut entry = audit_log::Model {
        id: Uuid::now_v7(),
        org_id: event.org_id,
        occurred_at: chain::truncate(at),
        actor_type: actor_type.to_string(),
        actor_id,
        action: event.action.to_string(),
        target_type,
        target_id,
        details: event.details.map(|d| d.to_string()),
        request_id: Some(meta.request_id.clone()).filter(|r| !r.is_empty()),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.clone(),
        chain,
        seq: last_seq + 1,
        prev_hash: Some(last_hash.clone()),
        hash: None,
    };
    entry.hash = Some(chain::hash(&last_hash, &entry));
    entry
}

impl AuditEvent {
    pub(crate) fn org_id(&self) -> Option<Uuid> {
        self.org_id
    }
}
