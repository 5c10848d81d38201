use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};

use crate::{
    AppState,
    app::Tag,
    audit::Actor,
    auth::BearerAuth,
    changes::{self, Event, catalog::SigningKeyRotated},
    db,
    error::{ApiError, ApiResult},
    http::RequestMeta,
    scope::Origin,
};

pub struct KeysApi;

/// One public key (RFC 7517).
#[derive(Object)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    #[oai(rename = "use")]
    pub use_: String,
    pub alg: String,
}

/// The JSON Web Key Set that verifies Guildhall's access tokens.
#[derive(Object)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(ApiResponse)]
pub enum JwksResponse {
    /// The current and recently retired public keys.
    #[oai(status = 200)]
    Ok(Json<Jwks>, #[oai(header = "Cache-Control")] String),
}

#[derive(Object)]
pub struct RotatedKey {
    /// The id (`kid`) of the new active key.
    pub kid: String,
}

#[OpenApi]
impl KeysApi {
    /// The JSON Web Key Set (public keys) that verifies access tokens.
    #[oai(path = "/.well-known/jwks.json", method = "get", tag = "Tag::Keys", operation_id = "get_jwks")]
    async fn get_jwks(&self, state: Data<&AppState>) -> ApiResult<JwksResponse> {
        let set = state.keys.current().await?;
        let keys = set
            .jwks
            .iter()
            .map(|k| Jwk {
                kty: k.kty.clone(),
                crv: k.crv.clone(),
                x: k.x.clone(),
                y: k.y.clone(),
                kid: k.kid.clone(),
                use_: k.use_.clone(),
                alg: k.alg.clone(),
            })
            .collect();
        Ok(JwksResponse::Ok(Json(Jwks { keys }), "public, max-age=60".into()))
    }

    /// Rotate the signing key: a new key signs from now on; the old public key stays in the
    /// JWKS until the tokens it signed have expired.
    ///
    /// Requires an instance admin.
    #[oai(
        path = "/api/v1/admin/signing-keys/rotate",
        method = "post",
        tag = "Tag::Admin",
        operation_id = "rotate_signing_key"
    )]
    async fn rotate_signing_key(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        meta: RequestMeta,
    ) -> ApiResult<Json<RotatedKey>> {
        auth.0.require_instance_admin()?;
        let origin = Origin::new(Actor::User(auth.0.user_id), meta, state.clock.clone());
        let kid = rotate(&state, &origin).await?;
        Ok(Json(RotatedKey { kid }))
    }
}

/// Rotates the key and records it; used by the API and by `guildhall keys rotate`.
pub async fn rotate(state: &AppState, origin: &Origin) -> Result<String, ApiError> {
    let tx = db::begin_write(&state.writer).await?;
    let kid = state.keys.rotate(&tx).await?;
    changes::record_instance(&tx, origin, Event::SigningKeyRotated(SigningKeyRotated { kid: kid.clone() }))
        .await?;
    tx.commit().await?;
    state.keys.reload().await?;
    Ok(kid)
}
