//! The audit log. Every state change writes one entry in the same transaction as the change,
//! so a change and its record commit or vanish together. Entries never hold secrets.

use chrono::{DateTime, Utc};
use guildhall_entities::audit_log;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
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
    /// An unauthenticated caller (failed logins, signups).
    Anonymous,
    /// The server itself or its command line.
    System,
}

impl Actor {
    fn parts(self) -> (&'static str, Option<String>) {
        match self {
            Self::User(id) => ("user", Some(id.to_string())),
            Self::PersonalToken { token_id, .. } => ("token", Some(token_id.to_string())),
            Self::Anonymous => ("anonymous", None),
            Self::System => ("system", None),
        }
    }
}

/// One thing that happened, built with a few chained calls.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    actor: Actor,
    action: &'static str,
    org_id: Option<Uuid>,
    target: Option<(&'static str, String)>,
    details: Option<serde_json::Value>,
}

impl AuditEvent {
    pub fn new(actor: Actor, action: &'static str) -> Self {
        Self { actor, action, org_id: None, target: None, details: None }
    }

    pub fn org(mut self, org_id: Uuid) -> Self {
        self.org_id = Some(org_id);
        self
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    /// Changed fields or context; never secrets.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

pub async fn record<C: ConnectionTrait>(
    db: &C,
    at: DateTime<Utc>,
    meta: &RequestMeta,
    event: AuditEvent,
) -> Result<(), ApiError> {
    let (actor_type, actor_id) = event.actor.parts();
    let (target_type, target_id) = match event.target {
        Some((kind, id)) => (Some(kind.to_string()), Some(id)),
        None => (None, None),
    };
    let row = audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(event.org_id),
        occurred_at: Set(at),
        actor_type: Set(actor_type.to_string()),
        actor_id: Set(actor_id),
        action: Set(event.action.to_string()),
        target_type: Set(target_type),
        target_id: Set(target_id),
        details: Set(event.details.map(|d| d.to_string())),
        request_id: Set(Some(meta.request_id.clone()).filter(|r| !r.is_empty())),
        ip: Set(meta.ip.clone()),
        user_agent: Set(meta.user_agent.clone()),
    };
    audit_log::Entity::insert(row).exec_without_returning(db).await?;
    Ok(())
}
