//! Payloads of directory sync: SCIM users, groups and tokens, and group-to-role mappings.

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use uuid::Uuid;

use super::common::RoleChange;

#[derive(Clone, Debug, Object)]
pub struct ScimUserCreated {
    pub user_id: Uuid,
    pub scim_id: Uuid,
    pub user_name: String,
    /// The primary email (or email-shaped `userName`) the user was found or made by, if any.
    pub email: Option<String>,
    pub active: bool,
    /// The person was already a member; the directory took over their membership.
    pub adopted_membership: bool,
}

/// A SCIM user's attributes changed (`scim.user.updated`), or it was deactivated or
/// reactivated (`scim.user.deactivated`, `scim.user.reactivated`).
#[derive(Clone, Debug, Object)]
pub struct ScimUserUpdated {
    pub user_id: Uuid,
    pub scim_id: Uuid,
    pub user_name: String,
    pub active: bool,
}

#[derive(Clone, Debug, Object)]
pub struct ScimUserDeleted {
    pub user_id: Uuid,
    pub scim_id: Uuid,
    pub user_name: Option<String>,
    /// The account existed only for this directory and went with it.
    pub account_deleted: bool,
}

#[derive(Clone, Debug, Object)]
pub struct ScimGroupCreated {
    pub team_id: Uuid,
    pub name: String,
    pub external_id: Option<String>,
    pub members_added: u64,
    pub role_changes: Vec<RoleChange>,
}

#[derive(Clone, Debug, Object)]
pub struct ScimGroupUpdated {
    pub team_id: Uuid,
    pub name: String,
    pub renamed_from: Option<String>,
    pub members_added: u64,
    pub members_removed: u64,
    pub role_changes: Vec<RoleChange>,
}

#[derive(Clone, Debug, Object)]
pub struct ScimGroupDeleted {
    pub team_id: Uuid,
    pub name: String,
    pub member_count: u64,
    pub role_changes: Vec<RoleChange>,
}

/// A SCIM token was issued (`scim.token.created`) or rotated (`scim.token.rotated`).
#[derive(Clone, Debug, Object)]
pub struct ScimTokenIssued {
    pub token_id: Uuid,
    /// When rotated: the previous token keeps working until then.
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub manage_owners: bool,
}

#[derive(Clone, Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ScimTokenRevoked {
    /// The token revoked, when one was singled out.
    pub token_id: Option<Uuid>,
    pub tokens_revoked: u64,
    /// `issuer_lost_rights` when the token's issuer no longer holds what it confers.
    pub reason: Option<String>,
    pub issuer: Option<Uuid>,
}

/// A rotated-out SCIM token was used during its grace period.
#[derive(Clone, Debug, Object)]
pub struct ScimTokenLegacyUsed {
    pub token_id: Uuid,
    pub valid_until: DateTime<Utc>,
}

#[derive(Clone, Debug, Object)]
pub struct GroupRoleMappingCreated {
    pub mapping_id: Uuid,
    pub group: String,
    pub role: String,
    pub role_changes: Vec<RoleChange>,
}

/// The org's role-mapper plugin for directory-managed members was named, changed or removed.
#[derive(Clone, Debug, Object)]
pub struct GroupRoleMappingPluginChanged {
    /// The plugin now deciding (none: the mapping table alone).
    pub plugin_id: Option<Uuid>,
    /// `open` or `closed`.
    pub plugin_failure: String,
    pub role_changes: Vec<RoleChange>,
}

#[derive(Clone, Debug, Object)]
pub struct GroupRoleMappingDeleted {
    pub mapping_id: Uuid,
    pub group: String,
    pub role: String,
    pub role_changes: Vec<RoleChange>,
}
