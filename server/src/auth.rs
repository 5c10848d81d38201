//! Who is calling. Every authenticated operation takes a [`BearerAuth`], which accepts an access
//! JWT or a personal API token (`gh_pat_...`) in `Authorization: Bearer` and yields the
//! [`Principal`]. Permission checks live here and nowhere else.

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};
use uuid::Uuid;

use crate::{AppState, audit::Actor, crypto, error::ApiError, sessions, tokens};

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
    pub org: Option<OrgRef>,
    pub credential: Credential,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::Session { .. } => Actor::User(self.user_id),
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
