//! The event catalog: every change Guildhall records, as one typed enum. A variant's name is the
//! audit log's action and the event's `type`; its payload is the audit entry's details and the
//! event's `data`; its version grows when the payload changes incompatibly. The OpenAPI document
//! and `GET /api/v1/event-types` describe every payload from these types.

mod accounts;
mod common;
mod credentials;
mod directory;
mod orgs;
mod plugins;
mod sso;
mod webhooks;

pub use accounts::*;
pub use common::*;
pub use credentials::*;
pub use directory::*;
pub use orgs::*;
pub use plugins::*;
pub use sso::*;
pub use webhooks::*;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};
use serde_json::Value;

/// What an audit entry points at: a kind (`user`, `team`, ...) and an id.
pub type Target = Option<(&'static str, String)>;

/// Where a type is recorded: in an org's audit chain (and then it is an event the org receives
/// by webhook and the Events API), in the instance's chain only, or either, depending on whether
/// the change happened in an org (a sign-in into an org or into none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Org,
    Instance,
    Both,
}

impl Audience {
    /// Whether orgs receive events of this type.
    pub fn delivered(self) -> bool {
        self != Self::Instance
    }

    pub fn in_org_chain(self) -> bool {
        self != Self::Instance
    }

    pub fn in_instance_chain(self) -> bool {
        self != Self::Org
    }
}

/// One catalog entry, as `GET /api/v1/event-types` lists it.
pub struct EventType {
    pub name: &'static str,
    pub version: i32,
    pub audience: Audience,
    pub description: &'static str,
    /// The payload's component name in the OpenAPI document.
    pub payload: String,
    register: fn(&mut Registry),
}

impl EventType {
    /// Registers the payload's schema (and those it refers to) in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        (self.register)(registry)
    }
}

macro_rules! catalog {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident($payload:ident) = $name:literal, $version:literal, $audience:ident, |$e:ident| $target:expr;
    )*) => {
        /// A change, with its payload.
        // Built once per change and moved straight into `changes::record`: boxing the large
        // payloads would buy nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Clone, Debug)]
        pub enum Event {
            $( $(#[doc = $doc])+ $variant($payload), )*
        }

        impl Event {
            /// The event's `type` and the audit entry's action, e.g. `member.added`.
            pub fn name(&self) -> &'static str {
                match self { $( Self::$variant(_) => $name, )* }
            }

            pub fn version(&self) -> i32 {
                match self { $( Self::$variant(_) => $version, )* }
            }

            /// Which audit chain it is recorded in, and so whether orgs receive it.
            pub fn audience(&self) -> Audience {
                match self { $( Self::$variant(_) => Audience::$audience, )* }
            }

            /// What the audit entry points at.
            pub fn target(&self) -> Target {
                match self { $( Self::$variant($e) => $target, )* }
            }

            /// The payload as JSON: the event's `data` and the audit entry's details.
            pub fn data(&self) -> Value {
                match self { $( Self::$variant(p) => p.to_json().unwrap_or(Value::Null), )* }
            }
        }

        /// Every event type, in catalog order.
        pub fn types() -> Vec<EventType> {
            vec![$(
                EventType {
                    name: $name,
                    version: $version,
                    audience: Audience::$audience,
                    description: concat!($($doc, "\n"),+).trim_ascii(),
                    payload: <$payload as Type>::name().into_owned(),
                    register: <$payload as Type>::register,
                },
            )*]
        }
    };
}

// `= name, version, audience, |payload| target`: the target names what the change is about.
catalog! {
    /// An organization was created.
    OrgCreated(OrgCreated) = "org.created", 1, Org, |e| Some(("org", e.org_id.to_string()));
    /// The organization's name, slug, branding or policies changed.
    OrgUpdated(OrgUpdated) = "org.updated", 1, Org, |e| Some(("org", e.org_id.to_string()));
    /// The organization was deleted (recorded in the instance's audit chain).
    OrgDeleted(OrgDeleted) = "org.deleted", 1, Instance, |e| Some(("org", e.org_id.to_string()));
    /// An owner handed ownership to another member.
    OrgOwnershipTransferred(OrgOwnershipTransferred) = "org.ownership_transferred", 1, Org,
        |e| Some(("user", e.to.user_id.to_string()));
    /// A member switched their session to this organization.
    OrgSelected(OrgSelected) = "org.selected", 1, Org, |e| Some(("session", e.session_id.to_string()));
    /// An admin added an existing account as a member.
    MemberAdded(MemberAdded) = "member.added", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// A person joined through one of the org's verified email domains.
    MemberAutoJoined(MemberAutoJoined) = "member.auto_joined", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// A member's role changed.
    MemberRoleChanged(MemberRoleChanged) = "member.role_changed", 1, Org,
        |e| Some(("user", e.user_id.to_string()));
    /// A member was removed (by an admin, or with their account).
    MemberRemoved(MemberRemoved) = "member.removed", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// A member left the organization.
    MemberLeft(MemberLeft) = "member.left", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// A person proved the address of an identity the directory made, and took it over.
    MemberIdentityClaimed(MemberIdentityClaimed) = "member.identity_claimed", 1, Org,
        |e| Some(("user", e.user_id.to_string()));
    /// An invitation was sent.
    InvitationCreated(InvitationCreated) = "invitation.created", 1, Org,
        |e| Some(("invitation", e.invitation_id.to_string()));
    /// An invitation was sent again, with a new link and expiry.
    InvitationResent(InvitationResent) = "invitation.resent", 1, Org,
        |e| Some(("invitation", e.invitation_id.to_string()));
    /// An invitation was revoked.
    InvitationRevoked(InvitationRevoked) = "invitation.revoked", 1, Org,
        |e| Some(("invitation", e.invitation_id.to_string()));
    /// An invitation was accepted: its holder is now a member.
    InvitationAccepted(InvitationAccepted) = "invitation.accepted", 1, Org,
        |e| Some(("invitation", e.invitation_id.to_string()));
    /// An email domain was added (unverified until proved).
    EmailDomainAdded(EmailDomainAdded) = "email_domain.added", 1, Org,
        |e| Some(("email_domain", e.domain.clone()));
    /// An email domain was removed.
    EmailDomainRemoved(EmailDomainRemoved) = "email_domain.removed", 1, Org,
        |e| Some(("email_domain", e.domain.clone()));
    /// An email domain was proved to be the organization's.
    EmailDomainVerified(EmailDomainVerified) = "email_domain.verified", 1, Org,
        |e| Some(("email_domain", e.domain.clone()));
    /// A custom role was created.
    RoleCreated(RoleCreated) = "role.created", 1, Org, |e| Some(("role", e.key.clone()));
    /// A custom role's name or permissions changed.
    RoleUpdated(RoleUpdated) = "role.updated", 1, Org, |e| Some(("role", e.key.clone()));
    /// A custom role was deleted.
    RoleDeleted(RoleDeleted) = "role.deleted", 1, Org, |e| Some(("role", e.key.clone()));
    /// A team was created.
    TeamCreated(TeamCreated) = "team.created", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// A team was renamed or its external id changed.
    TeamUpdated(TeamUpdated) = "team.updated", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// A team was deleted.
    TeamDeleted(TeamDeleted) = "team.deleted", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// A member was added to a team.
    TeamMemberAdded(TeamMemberAdded) = "team.member_added", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// A member was removed from a team.
    TeamMemberRemoved(TeamMemberRemoved) = "team.member_removed", 1, Org,
        |e| Some(("team", e.team_id.to_string()));
    /// The directory (SCIM) created a user in the organization.
    ScimUserCreated(ScimUserCreated) = "scim.user.created", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// The directory changed a user's attributes.
    ScimUserUpdated(ScimUserUpdated) = "scim.user.updated", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// The directory deactivated a user: their membership is suspended.
    ScimUserDeactivated(ScimUserUpdated) = "scim.user.deactivated", 1, Org,
        |e| Some(("user", e.user_id.to_string()));
    /// The directory reactivated a user.
    ScimUserReactivated(ScimUserUpdated) = "scim.user.reactivated", 1, Org,
        |e| Some(("user", e.user_id.to_string()));
    /// The directory deleted a user: their membership is gone.
    ScimUserDeleted(ScimUserDeleted) = "scim.user.deleted", 1, Org, |e| Some(("user", e.user_id.to_string()));
    /// The directory created a group (a team).
    ScimGroupCreated(ScimGroupCreated) = "scim.group.created", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// The directory renamed a group or changed its members.
    ScimGroupUpdated(ScimGroupUpdated) = "scim.group.updated", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// The directory deleted a group.
    ScimGroupDeleted(ScimGroupDeleted) = "scim.group.deleted", 1, Org, |e| Some(("team", e.team_id.to_string()));
    /// A SCIM token was issued.
    ScimTokenCreated(ScimTokenIssued) = "scim.token.created", 1, Org,
        |e| Some(("scim_token", e.token_id.to_string()));
    /// The SCIM token was rotated; the previous one works for a grace period.
    ScimTokenRotated(ScimTokenIssued) = "scim.token.rotated", 1, Org,
        |e| Some(("scim_token", e.token_id.to_string()));
    /// SCIM tokens were revoked.
    ScimTokenRevoked(ScimTokenRevoked) = "scim.token.revoked", 1, Org,
        |e| e.token_id.map(|id| ("scim_token", id.to_string()));
    /// A rotated-out SCIM token was used during its grace period.
    ScimTokenLegacyUsed(ScimTokenLegacyUsed) = "scim.token.legacy_used", 1, Org,
        |e| Some(("scim_token", e.token_id.to_string()));
    /// A group-to-role mapping was created; `role_changes` lists the members it re-roled.
    GroupRoleMappingCreated(GroupRoleMappingCreated) = "group_role_mapping.created", 1, Org,
        |e| Some(("group_role_mapping", e.mapping_id.to_string()));
    /// A group-to-role mapping was deleted; `role_changes` lists the members it re-roled.
    GroupRoleMappingDeleted(GroupRoleMappingDeleted) = "group_role_mapping.deleted", 1, Org,
        |e| Some(("group_role_mapping", e.mapping_id.to_string()));
    /// The org's role-mapper plugin for directory-managed members changed; `role_changes` lists
    /// the members it re-roled.
    GroupRoleMappingPluginChanged(GroupRoleMappingPluginChanged) = "group_role_mapping.plugin_changed", 1, Org,
        |e| e.plugin_id.map(|id| ("plugin", id.to_string()));
    /// A member made a personal API token for this organization.
    ApiTokenCreated(ApiTokenCreated) = "api_token.created", 1, Org, |e| Some(("api_token", e.token_id.to_string()));
    /// A personal API token was revoked.
    ApiTokenRevoked(ApiTokenRevoked) = "api_token.revoked", 1, Org, |e| Some(("api_token", e.token_id.to_string()));
    /// A service account was created.
    ServiceAccountCreated(ServiceAccountCreated) = "service_account.created", 1, Org,
        |e| Some(("service_account", e.service_account_id.to_string()));
    /// A service account was deleted, with its tokens.
    ServiceAccountDeleted(ServiceAccountDeleted) = "service_account.deleted", 1, Org,
        |e| Some(("service_account", e.service_account_id.to_string()));
    /// A token was minted for a service account.
    ServiceAccountTokenCreated(ServiceAccountTokenCreated) = "service_account.token_created", 1, Org,
        |e| Some(("service_account", e.service_account_id.to_string()));
    /// A service account's token was revoked.
    ServiceAccountTokenRevoked(ServiceAccountTokenRevoked) = "service_account.token_revoked", 1, Org,
        |e| Some(("service_account", e.service_account_id.to_string()));
    /// A person signed up (instance chain).
    UserSignedUp(UserSignedUp) = "user.signed_up", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// The command line created an account (instance chain).
    UserCreated(UserCreated) = "user.created", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// An instance admin approved a pending account.
    UserApproved(UserStatusChanged) = "user.approved", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// An instance admin enabled a disabled account.
    UserEnabled(UserStatusChanged) = "user.enabled", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// An instance admin disabled an account.
    UserDisabled(UserStatusChanged) = "user.disabled", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// An account was deleted, with the orgs only it belonged to.
    UserDeleted(UserDeleted) = "user.deleted", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// The command line made an account an instance admin.
    UserPromotedToAdmin(UserPromotedToAdmin) = "user.promoted_to_admin", 1, Instance,
        |e| Some(("user", e.user_id.to_string()));
    /// A person proved their address and claimed a passwordless account made for it.
    UserAccountClaimed(UserEmailVerified) = "user.account_claimed", 1, Instance,
        |e| Some(("user", e.user_id.to_string()));
    /// A person proved their email address.
    UserEmailVerified(UserEmailVerified) = "user.email_verified", 1, Instance,
        |e| Some(("user", e.user_id.to_string()));
    /// An account's password, sessions and tokens were revoked.
    UserCredentialsRevoked(UserCredentialsRevoked) = "user.credentials_revoked", 1, Both,
        |e| Some(("user", e.user_id.to_string()));
    /// A sign-in failed.
    UserLoginFailed(UserLoginFailed) = "user.login_failed", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// Repeated failures locked an account for a while.
    UserLocked(UserLoginFailed) = "user.locked", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// A person signed in.
    UserLoggedIn(UserLoggedIn) = "user.logged_in", 1, Both, |e| Some(("session", e.session_id.to_string()));
    /// A person signed out.
    UserLoggedOut(UserLoggedOut) = "user.logged_out", 1, Both, |e| Some(("session", e.session_id.to_string()));
    /// A session ended for good (its refresh token expired or was revoked).
    SessionExpired(SessionExpired) = "session.expired", 1, Org, |e| Some(("session", e.session_id.to_string()));
    /// A refresh token was used twice; the session was revoked.
    SessionRefreshReuseDetected(SessionRefreshReuseDetected) = "session.refresh_reuse_detected", 1, Both,
        |e| Some(("session", e.session_id.to_string()));
    /// A person started enrolling an authenticator app.
    MfaTotpEnrolmentStarted(MfaTotpEnrolmentStarted) = "mfa.totp_enrolment_started", 1, Instance,
        |e| Some(("user", e.user_id.to_string()));
    /// A person confirmed an authenticator app and got recovery codes.
    MfaTotpEnrolled(MfaTotpEnrolled) = "mfa.totp_enrolled", 1, Instance, |e| Some(("user", e.user_id.to_string()));
    /// A correct password asked for a second factor.
    MfaChallengeIssued(MfaChallengeIssued) = "mfa.challenge_issued", 1, Instance,
        |e| Some(("user", e.user_id.to_string()));
    /// A recovery code was spent.
    MfaRecoveryCodeUsed(MfaRecoveryCodeUsed) = "mfa.recovery_code_used", 1, Instance,
        |e| Some(("user", e.user_id.to_string()));
    /// A webhook endpoint was added.
    WebhookCreated(WebhookCreated) = "webhook.created", 1, Org, |e| Some(("webhook", e.webhook_id.to_string()));
    /// A webhook endpoint's URL, event types, description or enabled flag changed.
    WebhookUpdated(WebhookUpdated) = "webhook.updated", 1, Org, |e| Some(("webhook", e.webhook_id.to_string()));
    /// A webhook endpoint was deleted.
    WebhookDeleted(WebhookDeleted) = "webhook.deleted", 1, Org, |e| Some(("webhook", e.webhook_id.to_string()));
    /// A webhook endpoint's signing secret was rotated.
    WebhookSecretRotated(WebhookSecretRotated) = "webhook.secret_rotated", 1, Org,
        |e| Some(("webhook", e.webhook_id.to_string()));
    /// A webhook endpoint was disabled by the server (410 Gone, or failing for too long).
    WebhookDisabled(WebhookDisabled) = "webhook.disabled", 1, Org, |e| Some(("webhook", e.webhook_id.to_string()));
    /// Past events were queued again for a webhook endpoint.
    WebhookReplayed(WebhookReplayed) = "webhook.replayed", 1, Org, |e| Some(("webhook", e.webhook_id.to_string()));
    /// An identity provider was connected to the org.
    SsoProviderCreated(SsoProviderCreated) = "sso.provider_created", 1, Org,
        |e| Some(("sso_provider", e.provider_id.to_string()));
    /// An identity provider's configuration changed.
    SsoProviderUpdated(SsoProviderChanged) = "sso.provider_updated", 1, Org,
        |e| Some(("sso_provider", e.provider_id.to_string()));
    /// Sign-ins through an identity provider were allowed again.
    SsoProviderEnabled(SsoProviderChanged) = "sso.provider_enabled", 1, Org,
        |e| Some(("sso_provider", e.provider_id.to_string()));
    /// Sign-ins through an identity provider were stopped.
    SsoProviderDisabled(SsoProviderChanged) = "sso.provider_disabled", 1, Org,
        |e| Some(("sso_provider", e.provider_id.to_string()));
    /// An identity provider was removed from the org.
    SsoProviderDeleted(SsoProviderDeleted) = "sso.provider_deleted", 1, Org,
        |e| Some(("sso_provider", e.provider_id.to_string()));
    /// A person signed in through an org's identity provider.
    SsoLoginSucceeded(SsoLogin) = "sso.login", 1, Org, |e| Some(("sso_provider", e.provider_id.to_string()));
    /// A sign-in through an org's identity provider was refused (the reason says why).
    SsoLoginFailed(SsoLoginFailed) = "sso.login_failed", 1, Org,
        |e| Some(("sso_provider", e.provider_id.to_string()));
    /// A plugin was uploaded to the org.
    PluginUploaded(PluginUploaded) = "plugin.uploaded", 1, Org, |e| Some(("plugin", e.plugin_id.to_string()));
    /// A plugin was deleted.
    PluginDeleted(PluginDeleted) = "plugin.deleted", 1, Org, |e| Some(("plugin", e.plugin_id.to_string()));
    /// A plugin failed in a sign-in, a provisioning or a delivery.
    PluginFailed(PluginFailed) = "plugin.failed", 1, Org, |e| Some(("plugin", e.plugin_id.to_string()));
    /// An instance admin changed instance settings.
    InstanceSettingsUpdated(InstanceSettingsUpdated) = "instance.settings_updated", 1, Instance, |_e| None;
    /// The token signing key was rotated.
    SigningKeyRotated(SigningKeyRotated) = "signing_key.rotated", 1, Instance, |e| Some(("signing_key", e.kid.clone()));
}

/// An event's `data`: one of the payloads of the catalog, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct EventData(pub Value);

impl Type for EventData {
    const IS_REQUIRED: bool = true;
    type RawValueType = Value;
    type RawElementValueType = Value;

    fn name() -> std::borrow::Cow<'static, str> {
        "EventData".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Reference(Self::name().into_owned())
    }

    fn register(registry: &mut Registry) {
        registry.create_schema::<Self, _>(Self::name().into_owned(), |registry| {
            let mut payloads: Vec<String> = Vec::new();
            for t in types() {
                t.register(registry);
                if !payloads.contains(&t.payload) {
                    payloads.push(t.payload);
                }
            }
            MetaSchema {
                description: Some("The payload of the event's `type` (see `GET /api/v1/event-types`)."),
                any_of: payloads.into_iter().map(MetaSchemaRef::Reference).collect(),
                ..MetaSchema::ANY
            }
        })
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(&self.0))
    }
}

impl ToJSON for EventData {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.clone())
    }
}

impl poem_openapi::types::ParseFromJSON for EventData {
    fn parse_from_json(value: Option<Value>) -> poem_openapi::types::ParseResult<Self> {
        Ok(Self(value.unwrap_or(Value::Null)))
    }
}
