//! Access tokens: ES256 JWTs (RFC 7519, with the RFC 8725 checks). Only ES256 is accepted, the
//! `kid` must name a known key, and `iss`, `aud`, `exp` and `iat` are checked against the
//! injected clock (jsonwebtoken's own clock is switched off for that reason).

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::KeyStore;
use crate::error::ApiError;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub email: String,
    pub org_id: Option<String>,
    pub org_slug: Option<String>,
    pub org_role: Option<String>,
    pub sid: String,
    /// How the session was signed in to (RFC 8176 values, and `sso`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The org IdP of an SSO session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_provider_id: Option<String>,
}

pub struct Verifier<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub leeway_seconds: i64,
    pub now: DateTime<Utc>,
}

fn invalid(detail: &str) -> ApiError {
    ApiError::unauthenticated("INVALID_TOKEN", detail.to_string())
}

impl KeyStore {
    pub async fn sign(&self, claims: &AccessClaims) -> Result<String, ApiError> {
        let key = self.active().await?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.key).map_err(ApiError::internal)
    }

    pub async fn verify(&self, token: &str, v: &Verifier<'_>) -> Result<AccessClaims, ApiError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid("the token is not a valid JWT"))?;
        if header.alg != Algorithm::ES256 {
            return Err(invalid("the token's algorithm is not accepted"));
        }
        let kid = header.kid.ok_or_else(|| invalid("the token names no signing key"))?;
        let key =
            self.verifying_key(&kid).await?.ok_or_else(|| invalid("the token's signing key is unknown"))?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[v.issuer]);
        validation.set_audience(&[v.audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
            .map_err(|_| invalid("the token's signature or claims are invalid"))?;
        let claims = data.claims;
        let now = v.now.timestamp();
        if claims.exp <= now - v.leeway_seconds {
            return Err(ApiError::unauthenticated("TOKEN_EXPIRED", "the access token has expired"));
        }
        if claims.iat > now + v.leeway_seconds {
            return Err(invalid("the token was issued in the future"));
        }
        Ok(claims)
    }
}
