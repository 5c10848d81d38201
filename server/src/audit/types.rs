use chrono::{DateTime, Utc};
use guildhall_entities::audit_log;
use poem_openapi::Object;

/// Who or what acted: `user`, `token`, `service_account`, `scim`, `system` or `anonymous`.
#[derive(Object)]
pub struct AuditActor {
    #[oai(rename = "type")]
    pub type_: String,
    pub id: Option<String>,
}

#[derive(Object)]
pub struct AuditTarget {
    #[oai(rename = "type")]
    pub type_: String,
    pub id: String,
}

/// One audit entry.
#[derive(Object)]
pub struct AuditEntry {
    pub id: uuid::Uuid,
    pub occurred_at: DateTime<Utc>,
    /// `org.updated`, `member.role_changed`, `invitation.revoked`, ...
    pub action: String,
    pub actor: AuditActor,
    pub target: Option<AuditTarget>,
    /// Changed fields (`{"field": {"from": .., "to": ..}}`) or context; never secrets.
    pub details: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Position in the org's hash chain.
    pub seq: i64,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(e: audit_log::Model) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            action: e.action,
            actor: AuditActor { type_: e.actor_type, id: e.actor_id },
            target: e.target_type.zip(e.target_id).map(|(type_, id)| AuditTarget { type_, id }),
            details: e.details.and_then(|d| serde_json::from_str(&d).ok()),
            request_id: e.request_id,
            ip: e.ip,
            user_agent: e.user_agent,
            seq: e.seq,
        }
    }
}

#[derive(Object)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Object)]
pub struct BrokenLink {
    pub id: uuid::Uuid,
    pub seq: i64,
}

/// The outcome of recomputing the org's audit hash chain.
#[derive(Object)]
pub struct AuditVerification {
    /// True when every entry links to its predecessor and its content matches its hash.
    pub valid: bool,
    /// Entries checked (up to and including the first broken one).
    pub checked: u64,
    /// The first entry that does not match, if any.
    pub first_broken: Option<BrokenLink>,
}
