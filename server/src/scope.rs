//! Where a piece of work happens and on whose behalf. [`Scope`] is the one type every org-scoped
//! caller holds (the API's org context, a SCIM token's org, SSO provisioning, workers): the org
//! as an [`OrgId`], the actor, the request metadata and the clock. Reads of org data start from
//! [`scoped`], which takes only a scope, so an org query without the org filter cannot be
//! written; writes record their change through `changes::record` with the same scope.
//! [`Origin`] is the same without an org, for instance-level changes (signups, key rotation).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{audit::Actor, clock::SharedClock, http::RequestMeta};

/// An organization's id. Only an org row (or a row that names its org) yields one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(Uuid);

impl OrgId {
    pub fn of(org: &guildhall_entities::org::Model) -> Self {
        Self(org.id)
    }

    /// The org id a stored row names (a token's, an invitation's): it was checked when stored.
    pub fn stored(id: Uuid) -> Self {
        Self(id)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl std::fmt::Display for OrgId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Who acts, from where, and the clock they act by.
#[derive(Clone)]
pub struct Origin {
    actor: Actor,
    meta: RequestMeta,
    clock: SharedClock,
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin").field("actor", &self.actor).field("meta", &self.meta).finish()
    }
}

impl Origin {
    pub fn new(actor: Actor, meta: RequestMeta, clock: SharedClock) -> Self {
        Self { actor, meta, clock }
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    pub fn meta(&self) -> &RequestMeta {
        &self.meta
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The same origin acting as someone else (the server on a user's behalf, say).
    pub fn as_actor(&self, actor: Actor) -> Self {
        Self { actor, ..self.clone() }
    }

    /// This origin, acting in `org`.
    pub fn in_org(&self, org: OrgId) -> Scope {
        Scope { org, origin: self.clone() }
    }
}

/// Work in one org: the org, who acts, from where, by which clock.
#[derive(Clone, Debug)]
pub struct Scope {
    org: OrgId,
    origin: Origin,
}

impl Scope {
    pub fn new(org: OrgId, actor: Actor, meta: RequestMeta, clock: SharedClock) -> Self {
        Self { org, origin: Origin::new(actor, meta, clock) }
    }

    pub fn org(&self) -> OrgId {
        self.org
    }

    pub fn org_id(&self) -> Uuid {
        self.org.0
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn actor(&self) -> Actor {
        self.origin.actor
    }

    pub fn meta(&self) -> &RequestMeta {
        &self.origin.meta
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.origin.now()
    }

    /// The same scope acting as someone else.
    pub fn as_actor(&self, actor: Actor) -> Self {
        Self { org: self.org, origin: self.origin.as_actor(actor) }
    }
}

/// Entities whose rows belong to one org.
pub trait OrgScoped: sea_orm::EntityTrait {
    fn org_column() -> Self::Column;
}

/// The start of every read of org data: the entity's rows in the scope's org, and no others.
pub fn scoped<E: OrgScoped>(scope: &Scope) -> sea_orm::Select<E> {
    use sea_orm::{ColumnTrait, QueryFilter};
    E::find().filter(E::org_column().eq(scope.org_id()))
}

macro_rules! org_scoped {
    ($($module:ident),*) => {$(
        impl OrgScoped for guildhall_entities::$module::Entity {
            fn org_column() -> Self::Column {
                guildhall_entities::$module::Column::OrgId
            }
        }
    )*};
}

org_scoped!(
    membership,
    role,
    api_token,
    audit_log,
    team,
    team_member,
    email_domain,
    invitation,
    scim_token,
    scim_user,
    group_role_mapping,
    event,
    webhook_endpoint,
    webhook_delivery,
    sso_provider,
    plugin,
    plugin_run
);
