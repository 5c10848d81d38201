//! OpenID Connect sign-in with the `openidconnect` crate: the authorization request (code flow,
//! PKCE S256, state and nonce) and the callback's checks (RFC 9207 `iss`, code exchange, ID
//! token signature against the IdP's JWKS, refetched once on an unknown key, issuer, audience,
//! expiry, nonce; userinfo for what the ID token lacks). Discovery documents and key sets come
//! through the guarded outbound client and are cached per provider for a few minutes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine;
use guildhall_entities::sso_provider;
use openidconnect::{
    AdditionalProviderMetadata, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    IssuerUrl, JsonWebKeySetUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadata, RedirectUrl, ResponseTypes, Scope, TokenResponse, TokenUrl, UserInfoUrl,
    core::{
        CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
        CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey, CoreJsonWebKeySet,
        CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm,
        CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    },
};
use serde_json::Value;

use super::{
    oidc::OidcSettings,
    reason::{Reason, Rejection},
    signin::Asserted,
};
use crate::{AppState, error::ApiError, outbound::OutboundError};

const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_DOCUMENT: usize = 512 * 1024;
/// How long a discovery document and key set are reused.
const CACHE_TTL: Duration = Duration::from_secs(300);
const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// What discovery says beyond OpenID Connect Discovery itself: whether the IdP puts `iss` in
/// its authorization responses (RFC 9207 §3); if it says so, a callback without `iss` is refused.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct Rfc9207 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for Rfc9207 {}

type CoreProviderMetadata = ProviderMetadata<
    Rfc9207,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Signature algorithms an ID token may use: asymmetric only (never `none`, never HMAC keyed
/// with something public).
const ALLOWED_ALGS: &[CoreJwsSigningAlgorithm] = &[
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// Discovery documents (with their key sets) by provider, valid while the provider is unchanged.
#[derive(Default)]
pub struct DiscoveryCache {
    entries: Mutex<HashMap<uuid::Uuid, Cached>>,
}

#[derive(Clone)]
struct Cached {
    version: chrono::DateTime<chrono::Utc>,
    at: Instant,
    metadata: CoreProviderMetadata,
}

impl DiscoveryCache {
    fn get(&self, provider: &sso_provider::Model) -> Option<CoreProviderMetadata> {
        let entries = self.entries.lock().ok()?;
        let cached = entries.get(&provider.id)?;
        (cached.version == provider.updated_at && cached.at.elapsed() < CACHE_TTL)
            .then(|| cached.metadata.clone())
    }

    fn put(&self, provider: &sso_provider::Model, metadata: &CoreProviderMetadata) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() > 10_000 {
                entries.clear();
            }
            let cached =
                Cached { version: provider.updated_at, at: Instant::now(), metadata: metadata.clone() };
            entries.insert(provider.id, cached);
        }
    }
}

fn unreachable(what: &str, why: impl std::fmt::Display) -> Rejection {
    Rejection::new(Reason::IdpUnreachable, format!("{what}: {why}"))
}

/// The issuer we expect: configured, or the discovery URL without its well-known suffix.
fn expected_issuer(settings: &OidcSettings) -> Option<String> {
    settings.issuer.clone().or_else(|| {
        settings.discovery_url.as_deref().map(|url| url.strip_suffix(WELL_KNOWN).unwrap_or(url).to_string())
    })
}

async fn fetch_json(state: &AppState, what: &str, url: &str) -> Result<Vec<u8>, Rejection> {
    let reply =
        state.outbound.get(url, FETCH_TIMEOUT, MAX_DOCUMENT).await.map_err(|e| unreachable(what, e))?;
    if reply.status != 200 {
        return Err(unreachable(what, format!("answered HTTP {}", reply.status)));
    }
    Ok(reply.body)
}

async fn fetch_jwks(state: &AppState, url: &str) -> Result<CoreJsonWebKeySet, Rejection> {
    let body = fetch_json(state, "the JWKS", url).await?;
    serde_json::from_slice(&body)
        .map_err(|e| unreachable("the JWKS", format!("is not a JSON Web Key Set: {e}")))
}

/// The provider's metadata with its key set: from the cache, or discovered (or assembled from
/// the configured endpoints) and fetched now. `fresh_keys` skips the cache.
async fn metadata(
    state: &AppState,
    provider: &sso_provider::Model,
    settings: &OidcSettings,
    fresh_keys: bool,
) -> Result<CoreProviderMetadata, Rejection> {
    if !fresh_keys && let Some(cached) = state.sso_discovery.get(provider) {
        return Ok(cached);
    }
    let issuer = expected_issuer(settings)
        .ok_or_else(|| unreachable("the provider", "has neither an issuer nor a discovery URL"))?;
    let mut metadata = match &settings.discovery_url {
        Some(url) => {
            let body = fetch_json(state, "discovery", url).await?;
            let metadata: CoreProviderMetadata = serde_json::from_slice(&body)
                .map_err(|e| unreachable("discovery", format!("is not OpenID provider metadata: {e}")))?;
            if metadata.issuer().as_str().trim_end_matches('/') != issuer.trim_end_matches('/') {
                return Err(Rejection::new(
                    Reason::IssuerMismatch,
                    format!("discovery names the issuer `{}`, not `{issuer}`", metadata.issuer().as_str()),
                ));
            }
            metadata
        }
        None => explicit_metadata(settings, &issuer)?,
    };
    // Endpoints given explicitly win over discovered ones.
    if let Some(url) = &settings.authorization_endpoint {
        let url = AuthUrl::new(url.clone()).map_err(|e| unreachable("authorization_endpoint", e))?;
        metadata = metadata.set_authorization_endpoint(url);
    }
    if let Some(url) = &settings.token_endpoint {
        metadata = metadata.set_token_endpoint(Some(
            TokenUrl::new(url.clone()).map_err(|e| unreachable("token_endpoint", e))?,
        ));
    }
    if let Some(url) = &settings.userinfo_endpoint {
        let url = UserInfoUrl::new(url.clone()).map_err(|e| unreachable("userinfo_endpoint", e))?;
        metadata = metadata.set_userinfo_endpoint(Some(url));
    }
    let jwks_uri = settings.jwks_uri.clone().unwrap_or_else(|| metadata.jwks_uri().url().to_string());
    let jwks = fetch_jwks(state, &jwks_uri).await?;
    let metadata = metadata.set_jwks(jwks);
    state.sso_discovery.put(provider, &metadata);
    Ok(metadata)
}

fn explicit_metadata(settings: &OidcSettings, issuer: &str) -> Result<CoreProviderMetadata, Rejection> {
    let missing = |what: &str| unreachable("the provider", format!("has no {what}"));
    let issuer = IssuerUrl::new(issuer.to_string()).map_err(|e| unreachable("issuer", e))?;
    let auth = settings.authorization_endpoint.clone().ok_or_else(|| missing("authorization_endpoint"))?;
    let jwks = settings.jwks_uri.clone().ok_or_else(|| missing("jwks_uri"))?;
    Ok(CoreProviderMetadata::new(
        issuer,
        AuthUrl::new(auth).map_err(|e| unreachable("authorization_endpoint", e))?,
        JsonWebKeySetUrl::new(jwks).map_err(|e| unreachable("jwks_uri", e))?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        ALLOWED_ALGS.to_vec(),
        Rfc9207::default(),
    ))
}

/// The provider's client secret, unsealed (a failure is the server's, not the IdP's).
pub fn client_secret(
    state: &AppState,
    provider: &sso_provider::Model,
) -> Result<Option<ClientSecret>, ApiError> {
    let Some(sealed) = &provider.client_secret else { return Ok(None) };
    let plain = state
        .keys
        .master_key()
        .open(&super::service::seal_context(provider.id), sealed)
        .map_err(ApiError::internal)?;
    let text = String::from_utf8(plain).map_err(ApiError::internal)?;
    Ok(Some(ClientSecret::new(text)))
}

/// What the login record keeps for the callback.
pub struct Authorization {
    pub url: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The IdP's authorization URL for a new sign-in with `state`.
pub async fn authorization(
    state: &AppState,
    provider: &sso_provider::Model,
    settings: &OidcSettings,
    login_state: &str,
) -> Result<Authorization, Rejection> {
    let metadata = metadata(state, provider, settings, false).await?;
    let redirect = RedirectUrl::new(super::oidc_redirect_uri(&state.config.public_base_url))
        .map_err(|e| unreachable("redirect URI", e))?;
    let client =
        CoreClient::from_provider_metadata(metadata, ClientId::new(settings.client_id.clone()), None)
            .set_redirect_uri(redirect);
    let verifier = PkceCodeVerifier::new(random_token()?);
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let nonce = random_token()?;
    let login_state = login_state.to_string();
    let nonce_value = nonce.clone();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            move || CsrfToken::new(login_state),
            move || Nonce::new(nonce_value),
        )
        .set_pkce_challenge(challenge);
    for scope in settings.scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, _, _) = request.url();
    Ok(Authorization { url: url.to_string(), nonce, pkce_verifier: verifier.secret().clone() })
}

fn random_token() -> Result<String, Rejection> {
    crate::crypto::new_secret("").map_err(|_| Rejection::new(Reason::InvalidRequest, "no randomness"))
}

/// What the IdP sent back to the callback.
pub struct Callback<'a> {
    pub code: &'a str,
    pub iss: Option<&'a str>,
    pub nonce: &'a str,
    /// From [`client_secret`].
    pub client_secret: Option<ClientSecret>,
    pub pkce_verifier: &'a str,
}

/// Verifies the callback and returns who signed in. `Err` carries, once the ID token verified,
/// who it named (for the audit entry).
pub async fn finish(
    state: &AppState,
    provider: &sso_provider::Model,
    settings: &OidcSettings,
    callback: Callback<'_>,
) -> Result<Asserted, (Rejection, Option<Asserted>)> {
    let bare = |r: Rejection| (r, None);
    let mut metadata = metadata(state, provider, settings, false).await.map_err(bare)?;
    let issuer = metadata.issuer().as_str().to_string();
    match callback.iss {
        Some(iss) if iss.trim_end_matches('/') != issuer.trim_end_matches('/') => {
            return Err(bare(Rejection::new(
                Reason::IssuerMismatch,
                format!("the authorization response names the issuer `{iss}`, not `{issuer}` (RFC 9207)"),
            )));
        }
        None if metadata.additional_metadata().authorization_response_iss_parameter_supported
            == Some(true) =>
        {
            return Err(bare(Rejection::new(
                Reason::IssuerMismatch,
                "the authorization response lacks `iss`, which this IdP's discovery promises (RFC 9207): \
                 it may come from another IdP (mix-up)",
            )));
        }
        _ => {}
    }
    let http = outbound_client(state);
    let secret = callback.client_secret;
    let redirect = RedirectUrl::new(super::oidc_redirect_uri(&state.config.public_base_url))
        .map_err(|e| bare(unreachable("redirect URI", e)))?;
    let auth_type = if settings.token_auth_method == "client_secret_post" {
        AuthType::RequestBody
    } else {
        AuthType::BasicAuth
    };
    let client = CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(settings.client_id.clone()),
        secret.clone(),
    )
    .set_redirect_uri(redirect.clone())
    .set_auth_type(auth_type.clone());
    let tokens = client
        .exchange_code(AuthorizationCode::new(callback.code.to_string()))
        .map_err(|e| bare(Rejection::new(Reason::TokenExchangeFailed, e.to_string())))?
        .set_pkce_verifier(PkceCodeVerifier::new(callback.pkce_verifier.to_string()))
        .request_async(&http)
        .await
        .map_err(|e| bare(Rejection::new(Reason::TokenExchangeFailed, token_error(&e))))?;
    let id_token = tokens.id_token().ok_or_else(|| {
        bare(Rejection::new(Reason::TokenExchangeFailed, "the token response has no id_token"))
    })?;
    let nonce = Nonce::new(callback.nonce.to_string());
    let clock = state.clock.clone();
    let mut refetched = false;
    loop {
        let client = CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(settings.client_id.clone()),
            secret.clone(),
        );
        let clock = clock.clone();
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(ALLOWED_ALGS.iter().cloned())
            .set_time_fn(move || clock.now());
        match id_token.claims(&verifier, &nonce) {
            Ok(_) => break,
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) if !refetched => {
                // The IdP may have rotated its keys since we cached them: fetch once more.
                refetched = true;
                metadata = self::metadata(state, provider, settings, true).await.map_err(bare)?;
            }
            Err(e) => return Err(bare(claims_rejection(&e))),
        }
    }
    // Verified: read the claims (groups included) from the token's own payload.
    let mut claims = payload(&id_token.to_string()).map_err(bare)?;
    let subject = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_string();
    let groups_claim = settings.groups_claim.as_deref().unwrap_or("groups");
    let lacks = |c: &serde_json::Map<String, Value>| {
        !c.contains_key("email") || (!c.contains_key(groups_claim) && !overage(c, groups_claim))
    };
    if lacks(&claims)
        && let Some(url) = metadata.userinfo_endpoint()
    {
        let info = userinfo(state, url.as_str(), tokens.access_token().secret()).await.map_err(bare)?;
        if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
            return Err(bare(Rejection::new(Reason::InvalidRequest, "userinfo names another subject")));
        }
        for (key, value) in info {
            claims.entry(key).or_insert(value);
        }
    }
    let email_verified =
        claims.get("email_verified").and_then(|v| v.as_bool().or_else(|| v.as_str().map(|s| s == "true")));
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|_| email_verified != Some(false))
        .map(str::to_string);
    let groups: Vec<String> = match claims.get(groups_claim) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    // Everything but the token's own mechanics, for a role-mapper plugin.
    const MECHANICS: &[&str] =
        &["iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "auth_time", "azp", "sid", "jti"];
    let attributes = crate::plugins::plugin_attributes(
        claims
            .iter()
            .filter(|(name, _)| !MECHANICS.contains(&name.as_str()) && name.as_str() != groups_claim)
            .map(|(name, value)| {
                (name.as_str(), value.as_str().map_or_else(|| value.to_string(), str::to_string))
            }),
    );
    let asserted = Asserted { subject, email, groups, attributes };
    if asserted.groups.is_empty() && overage(&claims, groups_claim) {
        let rejection = Rejection::new(
            Reason::GroupsOverage,
            "the IdP says the user is in too many groups to list in the token (`_claim_names`); \
             emit groups filtered to the application, or assign fewer groups",
        );
        return Err((rejection, Some(asserted)));
    }
    if asserted.email.is_none() && email_verified == Some(false) {
        let rejection = Rejection::new(Reason::MissingEmail, "the IdP says the email is not verified");
        return Err((rejection, Some(asserted)));
    }
    Ok(asserted)
}

/// Entra ID's groups overage: the claim is replaced by a pointer in `_claim_names`.
fn overage(claims: &serde_json::Map<String, Value>, groups_claim: &str) -> bool {
    claims.get("_claim_names").and_then(|names| names.get(groups_claim)).is_some()
}

fn payload(jwt: &str) -> Result<serde_json::Map<String, Value>, Rejection> {
    let bad = || Rejection::new(Reason::InvalidRequest, "the ID token's payload is not JSON");
    let part = jwt.split('.').nth(1).ok_or_else(bad)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

async fn userinfo(
    state: &AppState,
    url: &str,
    access_token: &str,
) -> Result<serde_json::Map<String, Value>, Rejection> {
    let request = ::http::Request::get(url)
        .header("authorization", format!("Bearer {access_token}"))
        .header("accept", "application/json")
        .body(Vec::new())
        .map_err(|e| unreachable("userinfo", e))?;
    let reply = state
        .outbound
        .execute(request, FETCH_TIMEOUT, MAX_DOCUMENT)
        .await
        .map_err(|e| unreachable("userinfo", e))?;
    if reply.status() != 200 {
        return Err(unreachable("userinfo", format!("answered HTTP {}", reply.status())));
    }
    serde_json::from_slice(reply.body()).map_err(|_| {
        unreachable("userinfo", "did not answer a JSON object (signed userinfo is not supported)")
    })
}

fn claims_rejection(err: &openidconnect::ClaimsVerificationError) -> Rejection {
    use openidconnect::{ClaimsVerificationError as E, SignatureVerificationError as S};
    let reason = match err {
        E::InvalidIssuer(_) => Reason::IssuerMismatch,
        E::InvalidAudience(_) => Reason::AudienceMismatch,
        E::Expired(_) => Reason::Expired,
        E::InvalidNonce(_) => Reason::NonceMismatch,
        E::SignatureVerification(S::DisallowedAlg(_) | S::UnsupportedAlg(_) | S::NoSignature) => {
            Reason::UnsupportedAlgorithm
        }
        E::SignatureVerification(_) => Reason::InvalidSignature,
        _ => Reason::InvalidRequest,
    };
    Rejection::new(reason, format!("the ID token was refused: {err}"))
}

fn token_error<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse + 'static>(
    err: &openidconnect::RequestTokenError<RE, T>,
) -> String {
    match err {
        openidconnect::RequestTokenError::ServerResponse(response) => format!("the IdP answered: {response}"),
        other => format!("the token request failed: {other}"),
    }
}

/// The `openidconnect` HTTP client: requests go through the guarded outbound client.
fn outbound_client(
    state: &AppState,
) -> impl Fn(
    openidconnect::HttpRequest,
) -> std::pin::Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, OutboundError>> + Send>>
+ use<> {
    let outbound = Arc::new(state.outbound.clone());
    move |request| {
        let outbound = outbound.clone();
        Box::pin(async move { outbound.execute(request, FETCH_TIMEOUT, MAX_DOCUMENT).await })
    }
}
