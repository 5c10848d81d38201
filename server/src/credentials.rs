//! No credential is stronger than its issuer. A SCIM token can make people members and, through
//! the org's group-to-role mappings, give them roles; a service account's token acts with the
//! account's role. So each needs an issuer who holds that much, and keeps needing one: when the
//! issuer is removed, suspended or loses the rights (a role change, a role edit, a new mapping),
//! the credentials they issued are revoked, and the org's audit log says so.

use std::collections::HashMap;

use guildhall_entities::{api_token, group_role_mapping, membership, scim_token, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{
    changes::{
        self, Event,
        catalog::{ScimTokenRevoked, ServiceAccountTokenRevoked},
    },
    error::ApiError,
    orgs::MembershipStatus,
    permissions::{self, Permission, PermissionSet},
    roles,
    scope::{OrgId, Origin, Scope},
    users::UserStatus,
};

/// The `reason` of a credential revoked because its issuer no longer backs it.
const ISSUER_LOST_RIGHTS: &str = "issuer_lost_rights";

/// A role and what it grants, for standing comparisons.
#[derive(Clone, Debug)]
pub struct Standing {
    pub role: String,
    pub permissions: PermissionSet,
}

impl Standing {
    pub fn covers(&self, other: &Standing) -> bool {
        permissions::covers(&self.role, &self.permissions, &other.role, &other.permissions)
    }
}

/// What issuing a SCIM token in the org takes: `scim:manage`, and standing as high as every
/// role the org's mappings can confer through it (so an `owner` mapping makes it owner-only);
/// a token that may manage owners' memberships is an owner's alone.
pub fn may_issue_scim_token(issuer: &Standing, mapped: &[Standing], manage_owners: bool) -> bool {
    issuer.permissions.contains(&Permission::ScimManage)
        && mapped.iter().all(|role| issuer.covers(role))
        && (!manage_owners || issuer.role == permissions::OWNER)
}

/// What minting a token for a service account takes: `service_accounts:write` and standing as
/// high as the account's role.
pub fn may_mint_for(issuer: &Standing, account: &Standing) -> bool {
    issuer.permissions.contains(&Permission::ServiceAccountsWrite) && issuer.covers(account)
}

/// The roles the org's group-to-role mappings can confer.
pub async fn mapped_roles<C: ConnectionTrait>(db: &C, org_id: Uuid) -> Result<Vec<Standing>, ApiError> {
    let mappings = group_role_mapping::Entity::find()
        .filter(group_role_mapping::Column::OrgId.eq(org_id))
        .all(db)
        .await?;
    let mut out: Vec<Standing> = Vec::new();
    for mapping in mappings {
        if out.iter().any(|s| s.role == mapping.role) {
            continue;
        }
        let permissions = roles::service::permissions_of(db, org_id, &mapping.role).await?;
        out.push(Standing { role: mapping.role, permissions });
    }
    Ok(out)
}

/// Where `user_id` stands in the org now: their role if their account and membership are active.
async fn standing_of<C: ConnectionTrait>(
    db: &C,
    org_id: Uuid,
    user_id: Uuid,
    cache: &mut HashMap<Uuid, Option<Standing>>,
) -> Result<Option<Standing>, ApiError> {
    if let Some(found) = cache.get(&user_id) {
        return Ok(found.clone());
    }
    let member = membership::Entity::find()
        .inner_join(user::Entity)
        .filter(membership::Column::OrgId.eq(org_id))
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::Status.eq(MembershipStatus::Active.as_str()))
        .filter(user::Column::Status.eq(UserStatus::Active.as_str()))
        .one(db)
        .await?;
    let standing = match member {
        Some(m) => Some(Standing {
            permissions: roles::service::permissions_of(db, org_id, &m.role).await?,
            role: m.role,
        }),
        None => None,
    };
    cache.insert(user_id, standing.clone());
    Ok(standing)
}

/// Revokes every credential in the org whose issuer no longer stands high enough for it, with
/// an audit entry each. Call it in the transaction of any change to roles, members, mappings or
/// accounts.
pub async fn reconcile<C: ConnectionTrait>(db: &C, scope: &Scope) -> Result<(), ApiError> {
    let org_id = scope.org_id();
    let mut standings = HashMap::new();
    let scim_tokens = scim_token::Entity::find()
        .filter(scim_token::Column::OrgId.eq(org_id))
        .filter(scim_token::Column::CreatedBy.is_not_null())
        .all(db)
        .await?;
    if !scim_tokens.is_empty() {
        let mapped = mapped_roles(db, org_id).await?;
        for token in scim_tokens {
            let Some(issuer) = token.created_by else { continue };
            let standing = standing_of(db, org_id, issuer, &mut standings).await?;
            if standing.is_some_and(|s| may_issue_scim_token(&s, &mapped, token.manage_owners)) {
                continue;
            }
            scim_token::Entity::delete_by_id(token.id).exec(db).await?;
            let revoked = ScimTokenRevoked {
                token_id: Some(token.id),
                tokens_revoked: 1,
                reason: Some(ISSUER_LOST_RIGHTS.into()),
                issuer: Some(issuer),
            };
            changes::record(db, scope, Event::ScimTokenRevoked(revoked)).await?;
        }
    }
    let minted = api_token::Entity::find()
        .filter(api_token::Column::OrgId.eq(org_id))
        .filter(api_token::Column::CreatedBy.is_not_null())
        .all(db)
        .await?;
    for token in minted {
        let Some(issuer) = token.created_by else { continue };
        let issuer_standing = standing_of(db, org_id, issuer, &mut standings).await?;
        let account_standing = standing_of(db, org_id, token.user_id, &mut standings).await?;
        let backed = match (issuer_standing, account_standing) {
            (Some(issuer), Some(account)) => may_mint_for(&issuer, &account),
            _ => false,
        };
        if backed {
            continue;
        }
        api_token::Entity::delete_by_id(token.id).exec(db).await?;
        let revoked = ServiceAccountTokenRevoked {
            service_account_id: token.user_id,
            token_id: token.id,
            name: token.name,
            reason: Some(ISSUER_LOST_RIGHTS.into()),
            issuer: Some(issuer),
        };
        changes::record(db, scope, Event::ServiceAccountTokenRevoked(revoked)).await?;
    }
    Ok(())
}

/// [`reconcile`] in every org `user_id` belongs to, after a change to their account.
pub async fn reconcile_orgs_of<C: ConnectionTrait>(
    db: &C,
    origin: &Origin,
    org_ids: &[Uuid],
) -> Result<(), ApiError> {
    for org_id in org_ids {
        reconcile(db, &origin.in_org(OrgId::stored(*org_id))).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(role: &str) -> Standing {
        Standing { role: role.into(), permissions: permissions::built_in(role).unwrap_or_default() }
    }

    #[test]
    fn credentials_never_outrank_their_issuer() {
        let (owner, admin, member) = (standing("owner"), standing("admin"), standing("member"));
        assert!(may_issue_scim_token(&admin, std::slice::from_ref(&admin), false));
        assert!(
            !may_issue_scim_token(&admin, std::slice::from_ref(&owner), false),
            "owner mapping is owner-only"
        );
        assert!(!may_issue_scim_token(&admin, &[], true), "managing owners is owner-only");
        assert!(may_issue_scim_token(&owner, std::slice::from_ref(&owner), true));
        assert!(!may_issue_scim_token(&member, &[], false), "needs scim:manage");
        assert!(may_mint_for(&admin, &member));
        assert!(!may_mint_for(&admin, &owner));
        let custom = Standing {
            role: "sa-writer".into(),
            permissions: [Permission::ServiceAccountsWrite].into_iter().collect(),
        };
        assert!(!may_mint_for(&custom, &admin), "a narrow role cannot mint an admin's token");
        assert!(!may_mint_for(&member, &member), "needs service_accounts:write");
    }
}
