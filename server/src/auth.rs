//! Who is calling. Every authenticated operation takes a [`BearerAuth`], which accepts an access
//! JWT or a personal API token (`gh_pat_...`) in `Authorization: Bearer` and yields the
//! [`Principal`]. Permission checks live here and nowhere else.

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};
use uuid::Uuid;

use crate::{
    AppState,
    audit::Actor,
    crypto,
    error::ApiError,
    http::RequestMeta,
    permissions::{self, Permission, PermissionSet},
    scope::{OrgId, Scope},
    sessions, tokens,
};

/// The org a credential acts in, with the caller's role there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgRef {
    pub id: Uuid,
    pub slug: String,
    pub role: String,
}

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    Session { session_id: Uuid },
    PersonalToken { token_id: Uuid },
}

#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: Uuid,
    pub email: String,
    pub is_instance_admin: bool,
    /// A service account acting through one of its tokens.
    pub is_service_account: bool,
    pub org: Option<OrgRef>,
    pub credential: Credential,
    /// When this session passed a second factor (always `None` for personal tokens, which
    /// are checked against `require_mfa` when they authenticate).
    pub mfa_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The org IdP a session was signed in through.
    pub sso_provider_id: Option<Uuid>,
    /// The account as loaded while authenticating (its password hash never leaves `Debug`).
    pub account: Account,
}

/// The caller's account row, read once per request.
#[derive(Clone)]
pub struct Account(pub guildhall_entities::user::Model);

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("id", &self.0.id).field("status", &self.0.status).finish()
    }
}

impl Principal {
    /// How this session was signed in to (carried into a session opened from it).
    pub fn authn(&self) -> crate::sessions::service::Authn {
        crate::sessions::service::Authn { mfa_at: self.mfa_at, sso_provider_id: self.sso_provider_id }
    }

    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::Session { .. } => Actor::User(self.user_id),
            Credential::PersonalToken { token_id } if self.is_service_account => {
                Actor::ServiceAccount { id: self.user_id, token_id }
            }
            Credential::PersonalToken { token_id } => {
                Actor::PersonalToken { user_id: self.user_id, token_id }
            }
        }
    }

    pub fn require_instance_admin(&self) -> Result<(), ApiError> {
        if self.is_instance_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("FORBIDDEN", "this requires an instance admin"))
        }
    }

    /// Some operations (minting tokens, logging out) need an interactive session, not a token.
    pub fn require_session(&self) -> Result<Uuid, ApiError> {
        match self.credential {
            Credential::Session { session_id } => Ok(session_id),
            Credential::PersonalToken { .. } => Err(ApiError::forbidden(
                "SESSION_REQUIRED",
                "this needs a signed-in session; personal API tokens cannot do it",
            )),
        }
    }
}

/// `Authorization: Bearer <access JWT | gh_pat_ token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "authenticate", rename = "bearer")]
pub struct BearerAuth(pub Principal);

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing from request")))?;
    let token = bearer.token.trim();
    let principal = if token.starts_with(crypto::PERSONAL_TOKEN_PREFIX) {
        tokens::service::authenticate(state, token).await?
    } else {
        sessions::service::authenticate(state, token).await?
    };
    Ok(principal)
}

/// The request's org and what the caller may do there. Built only by its extractor from the
/// `{org}` path parameter (id or slug) and the bearer credential: the caller must be an active
/// member of that org (a personal token only of its own org), else the org is "not found".
/// In an org that requires MFA, a session that has not passed it gets 403 `MFA_REQUIRED`.
/// Permissions come from the caller's current role in the database.
#[derive(Clone, Debug)]
pub struct OrgContext {
    scope: Scope,
    org: guildhall_entities::org::Model,
    principal: Principal,
    role: String,
    permissions: PermissionSet,
}

/// The context is the request's [`Scope`]: `scoped(&ctx)` and `changes::record(tx, &ctx, ..)`.
impl std::ops::Deref for OrgContext {
    type Target = Scope;

    fn deref(&self) -> &Scope {
        &self.scope
    }
}

impl OrgContext {
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn org_id(&self) -> Uuid {
        self.org.id
    }

    pub fn org(&self) -> &guildhall_entities::org::Model {
        &self.org
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub fn role(&self) -> &str {
        &self.role
    }

    pub fn permissions(&self) -> &PermissionSet {
        &self.permissions
    }

    pub fn actor(&self) -> Actor {
        self.scope.actor()
    }

    pub fn is_owner(&self) -> bool {
        self.role == permissions::OWNER
    }

    pub fn has(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "FORBIDDEN",
                format!("this requires the `{}` permission", permission.as_str()),
            ))
        }
    }

    /// Passes when the caller holds at least one of `permissions` (the first is named if not).
    pub fn require_any(&self, permissions: &[Permission]) -> Result<(), ApiError> {
        match permissions.iter().find(|p| self.has(**p)) {
            Some(_) => Ok(()),
            None => Err(ApiError::forbidden(
                "FORBIDDEN",
                format!(
                    "this requires one of: {}",
                    permissions.iter().map(|p| format!("`{}`", p.as_str())).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    pub fn require_owner(&self) -> Result<(), ApiError> {
        if self.is_owner() {
            Ok(())
        } else {
            Err(ApiError::forbidden("OWNER_REQUIRED", "only an owner of the organization can do this"))
        }
    }

    /// Resolves `org_ref` (id or slug) for `principal`.
    pub async fn resolve(
        state: &AppState,
        meta: RequestMeta,
        principal: Principal,
        org_ref: &str,
    ) -> Result<Self, ApiError> {
        use guildhall_entities::{membership, org};
        use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};

        let by_ref = match org_ref.parse::<Uuid>() {
            Ok(id) => Condition::any().add(org::Column::Id.eq(id)).add(org::Column::Slug.eq(org_ref)),
            Err(_) => Condition::all().add(org::Column::Slug.eq(org_ref.to_ascii_lowercase())),
        };
        let found = membership::Entity::find()
            .find_also_related(org::Entity)
            .filter(membership::Column::UserId.eq(principal.user_id))
            .filter(membership::Column::Status.eq(crate::orgs::MembershipStatus::Active.as_str()))
            .filter(by_ref)
            .one(&state.db)
            .await?;
        let Some((member, Some(org))) = found else {
            return Err(ApiError::not_found());
        };
        // A personal token acts only in the org it was made for.
        if matches!(principal.credential, Credential::PersonalToken { .. })
            && principal.org.as_ref().map(|o| o.id) != Some(org.id)
        {
            return Err(ApiError::not_found());
        }
        // `require_mfa`: a session acts here only once it passed a second factor.
        if matches!(principal.credential, Credential::Session { .. })
            && principal.mfa_at.is_none()
            && crate::mfa::policy::requires(&state.db, &org).await?
        {
            return Err(crate::mfa::policy::mfa_required());
        }
        let permissions = crate::roles::service::permissions_of(&state.db, org.id, &member.role).await?;
        let scope = Scope::new(OrgId::of(&org), principal.actor(), meta, state.clock.clone());
        Ok(Self { scope, org, principal, role: member.role, permissions })
    }
}

impl<'a> poem_openapi::ApiExtractor<'a> for OrgContext {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::Parameter, poem_openapi::ApiExtractorType::SecurityScheme];
    const PARAM_IS_REQUIRED: bool = true;
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut poem_openapi::registry::Registry) {
        <BearerAuth as poem_openapi::ApiExtractor>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        <BearerAuth as poem_openapi::ApiExtractor>::security_schemes()
    }

    fn param_in() -> Option<poem_openapi::registry::MetaParamIn> {
        Some(poem_openapi::registry::MetaParamIn::Path)
    }

    fn param_schema_ref() -> Option<poem_openapi::registry::MetaSchemaRef> {
        Some(<String as poem_openapi::types::Type>::schema_ref())
    }

    async fn from_request(
        req: &'a Request,
        body: &mut poem::RequestBody,
        param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let org_ref = req.raw_path_param(param_opts.name).unwrap_or_default().to_string();
        let auth = <BearerAuth as poem_openapi::ApiExtractor>::from_request(
            req,
            body,
            poem_openapi::ExtractParamOptions::default(),
        )
        .await?;
        let state = req
            .data::<AppState>()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("app state missing from request")))?;
        let meta = req.extensions().get::<RequestMeta>().cloned().unwrap_or_default();
        Ok(OrgContext::resolve(state, meta, auth.0, &org_ref).await?)
    }
}

/// Handlers take the org context as `org: tenant::Path`. poem-openapi numbers path parameters
/// by counting arguments whose type path has a `Path` segment; this alias keeps that count
/// right, so `{org}` is the first path parameter and later `Path<T>` arguments get theirs.
pub mod tenant {
    pub type Path = super::OrgContext;
}
