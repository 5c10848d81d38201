use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Deserialize;

use super::service::Member;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum MemberStatus {
    Active,
    /// Kept but cannot sign in to this org (e.g. deactivated by the directory).
    Suspended,
}

impl MemberStatus {
    pub fn domain(self) -> crate::orgs::MembershipStatus {
        match self {
            Self::Active => crate::orgs::MembershipStatus::Active,
            Self::Suspended => crate::orgs::MembershipStatus::Suspended,
        }
    }
}

/// A member of the org.
#[derive(Object)]
pub struct MemberResponse {
    pub user_id: uuid::Uuid,
    pub email: String,
    pub role: String,
    pub status: MemberStatus,
    pub joined_at: DateTime<Utc>,
    /// True for an identity a directory provisioned outside the org's verified domains: `email`
    /// is what the directory gave, and the account becomes that person's when they sign up (or
    /// in) and prove the address.
    pub unclaimed: bool,
}

impl From<Member> for MemberResponse {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.membership.user_id,
            email: m.email,
            status: if m.membership.status == "suspended" {
                MemberStatus::Suspended
            } else {
                MemberStatus::Active
            },
            role: m.membership.role,
            joined_at: m.membership.created_at,
            unclaimed: m.unclaimed,
        }
    }
}

#[derive(Object)]
pub struct MemberPage {
    pub data: Vec<MemberResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// Add an existing user, named by `user_id` or `email` (exactly one).
#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    pub user_id: Option<uuid::Uuid>,
    pub email: Option<String>,
    /// A role key of the org: `owner` (owners only), `admin`, `member` or a custom role.
    pub role: String,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    pub role: String,
}
