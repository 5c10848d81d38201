use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use serde::Deserialize;

use super::service::InvitationView;
use crate::sessions::types::OrgSummary;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Revoked,
    Expired,
}

/// An invitation. The token itself is only ever sent to the invitee's email.
#[derive(Object)]
pub struct InvitationResponse {
    pub id: uuid::Uuid,
    pub org_id: uuid::Uuid,
    pub email: String,
    pub role: String,
    pub status: InvitationStatus,
    pub invited_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Whether the email with the link was handed to the mail transport (on create and resend).
    #[oai(skip_serializing_if_is_none)]
    pub email_sent: Option<bool>,
}

impl InvitationResponse {
    pub fn new(view: InvitationView, now: DateTime<Utc>) -> Self {
        let i = view.invitation;
        let status = if i.accepted_at.is_some() {
            InvitationStatus::Accepted
        } else if i.revoked_at.is_some() {
            InvitationStatus::Revoked
        } else if i.expires_at <= now {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Pending
        };
        Self {
            id: i.id,
            org_id: i.org_id,
            email: i.email,
            role: i.role,
            status,
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
            email_sent: view.email_sent,
        }
    }
}

#[derive(Object)]
pub struct InvitationPage {
    pub data: Vec<InvitationResponse>,
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    pub email: String,
    /// A role key of the org; `owner` only by owners.
    pub role: String,
}

#[derive(Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The `gh_inv_...` token from the invitation email.
    pub token: String,
}

/// The org joined by accepting an invitation.
#[derive(Object)]
pub struct AcceptedInvitation {
    pub org: OrgSummary,
}
