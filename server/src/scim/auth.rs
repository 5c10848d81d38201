//! `Authorization: Bearer gh_scim_...` on `/scim/v2`: the token decides the org.

use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use super::tokens::{self, ScimContext};
use crate::{AppState, error::ScimError, http::RequestMeta};

#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "gh_scim_ token", checker = "authenticate", rename = "scim_bearer")]
pub struct ScimAuth(pub ScimContext);

async fn authenticate(req: &Request, bearer: Bearer) -> poem::Result<ScimContext> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| ScimError(crate::error::ApiError::internal(anyhow::anyhow!("app state missing"))))?;
    let meta = req.extensions().get::<RequestMeta>().cloned().unwrap_or_default();
    Ok(tokens::authenticate(state, &meta, bearer.token.trim()).await.map_err(ScimError)?)
}
