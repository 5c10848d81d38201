//! Payloads of the org's own changes: the org, its members, invitations, domains, roles, teams.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use super::common::{ListChange, TextChange, ValueChange};

#[derive(Clone, Debug, Object)]
pub struct OrgCreated {
    pub org_id: Uuid,
    pub name: String,
    pub slug: String,
}

/// Only the fields that changed are present.
#[derive(Clone, Debug, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct OrgUpdated {
    pub org_id: Uuid,
    pub name: Option<ValueChange>,
    pub slug: Option<ValueChange>,
    pub max_users: Option<ValueChange>,
    pub data_retention_days: Option<ValueChange>,
    pub logo_url: Option<ValueChange>,
    pub primary_color: Option<ValueChange>,
    pub welcome_text: Option<ValueChange>,
    pub password_min_length: Option<ValueChange>,
    pub require_mfa: Option<ValueChange>,
    pub session_ttl_minutes: Option<ValueChange>,
    pub max_login_attempts: Option<ValueChange>,
    pub lockout_minutes: Option<ValueChange>,
    pub metadata: Option<ValueChange>,
}

#[derive(Clone, Debug, Object)]
pub struct OrgDeleted {
    pub org_id: Uuid,
    pub name: String,
    pub slug: String,
}

/// One side of an ownership transfer.
#[derive(Clone, Debug, Object)]
pub struct OwnershipParty {
    pub user_id: Uuid,
    pub role: TextChange,
}

#[derive(Clone, Debug, Object)]
pub struct OrgOwnershipTransferred {
    pub from: OwnershipParty,
    pub to: OwnershipParty,
}

#[derive(Clone, Debug, Object)]
pub struct OrgSelected {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct MemberAdded {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
}

#[derive(Clone, Debug, Object)]
pub struct MemberAutoJoined {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
}

#[derive(Clone, Debug, Object)]
pub struct MemberRoleChanged {
    pub user_id: Uuid,
    pub role: TextChange,
}

#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct MemberRemoved {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
    /// Why, when the member did not leave or get removed by an admin (`account_deleted`).
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Object)]
pub struct MemberLeft {
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
}

/// A person proved the address a directory gave an identity, and took it over.
#[derive(Clone, Debug, Object)]
pub struct MemberIdentityClaimed {
    pub user_id: Uuid,
    pub email: String,
    /// The placeholder account the directory had made, now merged into `user_id`.
    pub identity: Uuid,
}

#[derive(Clone, Debug, Object)]
pub struct InvitationCreated {
    pub invitation_id: Uuid,
    pub email: String,
    pub role: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Object)]
pub struct InvitationResent {
    pub invitation_id: Uuid,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Object)]
pub struct InvitationRevoked {
    pub invitation_id: Uuid,
    pub email: String,
}

#[derive(Clone, Debug, Object)]
pub struct InvitationAccepted {
    pub invitation_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub role: String,
}

#[derive(Clone, Debug, Object)]
pub struct EmailDomainAdded {
    pub domain: String,
    pub auto_join: bool,
    pub default_role: String,
}

#[derive(Clone, Debug, Object)]
pub struct EmailDomainRemoved {
    pub domain: String,
}

#[derive(Clone, Debug, Object)]
pub struct EmailDomainVerified {
    pub domain: String,
    /// `dns` or `manual`.
    pub method: String,
}

#[derive(Clone, Debug, Object)]
pub struct RoleCreated {
    pub key: String,
    pub name: String,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug, Object)]
pub struct RoleUpdated {
    pub key: String,
    pub name: TextChange,
    pub permissions: ListChange,
}

#[derive(Clone, Debug, Object)]
pub struct RoleDeleted {
    pub key: String,
}

#[derive(Clone, Debug, Object)]
pub struct TeamCreated {
    pub team_id: Uuid,
    pub name: String,
    pub external_id: Option<String>,
}

/// Only the fields that changed are present.
#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TeamUpdated {
    pub team_id: Uuid,
    pub name: Option<ValueChange>,
    pub external_id: Option<ValueChange>,
}

#[derive(Clone, Debug, Object)]
pub struct TeamDeleted {
    pub team_id: Uuid,
    pub name: String,
    pub external_id: Option<String>,
    pub member_count: u64,
}

#[derive(Clone, Debug, Object)]
pub struct TeamMemberAdded {
    pub team_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
}

#[derive(Clone, Debug, Object)]
pub struct TeamMemberRemoved {
    pub team_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
}
