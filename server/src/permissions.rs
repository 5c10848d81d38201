//! Permissions and roles: one table maps each permission to its wire name, and one function
//! gives a built-in role's permissions. Custom roles are named sets of these permissions.

use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    OrgRead,
    OrgUpdate,
    OrgDelete,
    MembersRead,
    MembersWrite,
    RolesWrite,
    InvitationsWrite,
    TeamsWrite,
    DomainsWrite,
    ServiceAccountsWrite,
    SsoManage,
    ScimManage,
    TokensManage,
    AuditRead,
    EventsRead,
    WebhooksManage,
    PluginsManage,
}

const NAMES: &[(Permission, &str)] = &[
    (Permission::OrgRead, "org:read"),
    (Permission::OrgUpdate, "org:update"),
    (Permission::OrgDelete, "org:delete"),
    (Permission::MembersRead, "members:read"),
    (Permission::MembersWrite, "members:write"),
    (Permission::RolesWrite, "roles:write"),
    (Permission::InvitationsWrite, "invitations:write"),
    (Permission::TeamsWrite, "teams:write"),
    (Permission::DomainsWrite, "domains:write"),
    (Permission::ServiceAccountsWrite, "service_accounts:write"),
    (Permission::SsoManage, "sso:manage"),
    (Permission::ScimManage, "scim:manage"),
    (Permission::TokensManage, "tokens:manage"),
    (Permission::AuditRead, "audit:read"),
    (Permission::EventsRead, "events:read"),
    (Permission::WebhooksManage, "webhooks:manage"),
    (Permission::PluginsManage, "plugins:manage"),
];

impl Permission {
    pub fn as_str(self) -> &'static str {
        NAMES.iter().find(|(p, _)| *p == self).map_or("", |(_, n)| n)
    }

    pub fn parse(name: &str) -> Option<Self> {
        NAMES.iter().find(|(_, n)| *n == name).map(|(p, _)| *p)
    }

    pub fn all() -> impl Iterator<Item = Permission> {
        NAMES.iter().map(|(p, _)| *p)
    }

    pub fn names() -> Vec<&'static str> {
        NAMES.iter().map(|(_, n)| *n).collect()
    }
}

pub type PermissionSet = BTreeSet<Permission>;

/// The built-in roles, highest first.
pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const MEMBER: &str = "member";
pub const BUILT_IN: &[&str] = &[OWNER, ADMIN, MEMBER];

pub fn is_built_in(role: &str) -> bool {
    BUILT_IN.contains(&role)
}

/// A built-in role's permissions; `None` for a custom role key.
pub fn built_in(role: &str) -> Option<PermissionSet> {
    match role {
        OWNER => Some(Permission::all().collect()),
        ADMIN => Some(Permission::all().filter(|p| *p != Permission::OrgDelete).collect()),
        MEMBER => Some([Permission::OrgRead, Permission::MembersRead].into_iter().collect()),
        _ => None,
    }
}

/// Whether a holder of `holder_role` with `holder` permissions stands as high as `role` (with
/// `granted`): they hold every permission it grants, and only an owner stands as high as an
/// owner. Granting a role, minting a credential with it, and taking it away all need this.
pub fn covers(holder_role: &str, holder: &PermissionSet, role: &str, granted: &PermissionSet) -> bool {
    (role != OWNER || holder_role == OWNER) && granted.is_subset(holder)
}

/// Parses stored or requested permission names, naming the first unknown one.
pub fn parse_set<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<PermissionSet, String> {
    names.into_iter().map(|n| Permission::parse(n).ok_or_else(|| n.to_string())).collect()
}

pub fn to_names(set: &PermissionSet) -> Vec<String> {
    set.iter().map(|p| p.as_str().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_roles_nest() {
        for p in Permission::all() {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        let owner = built_in(OWNER).unwrap();
        let admin = built_in(ADMIN).unwrap();
        let member = built_in(MEMBER).unwrap();
        assert!(member.is_subset(&admin) && admin.is_subset(&owner));
        assert!(!admin.contains(&Permission::OrgDelete));
        assert_eq!(parse_set(["org:read", "nope"]), Err("nope".to_string()));
        assert!(built_in("auditor").is_none());
        assert!(covers(OWNER, &owner, OWNER, &owner));
        assert!(!covers(ADMIN, &owner, OWNER, &owner), "only an owner stands as high as an owner");
        assert!(covers(ADMIN, &admin, MEMBER, &member));
        assert!(!covers(MEMBER, &member, ADMIN, &admin));
    }
}
