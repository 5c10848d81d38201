//! A small, real OpenID Connect issuer on loopback for tests of the server's OIDC sign-in: discovery,
//! JWKS (RSA, RS256), an authorization endpoint that "authenticates" a configured user at once,
//! a token endpoint (authorization code + PKCE S256, client_secret_basic or client_secret_post)
//! and userinfo. Written independently of the server's code. Switches ([`Tamper`]) make the next
//! authorization or token misbehave in one precise way.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::{KeyPair as _, RSA_PKCS1_SHA256},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use poem::{
    EndpointExt, Request, Response, Route, Server, get, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use serde_json::{Map, Value, json};

/// The issuer a [`Tamper::WrongIssuer`] token and a [`Tamper::WrongIssParam`] redirect name.
pub const WRONG_ISSUER: &str = "https://wrong-issuer.example";
/// The audience of a [`Tamper::WrongAudience`] token.
pub const WRONG_AUDIENCE: &str = "some-other-client";
/// The nonce of a [`Tamper::WrongNonce`] token.
pub const WRONG_NONCE: &str = "not-the-nonce-that-was-sent";
/// Where a [`Tamper::GroupsOverage`] token says the groups are (as Entra ID does).
pub const OVERAGE_ENDPOINT: &str = "https://graph.microsoft.com/v1.0/users/me/getMemberObjects";
/// Lifetime of ID and access tokens, in seconds.
pub const TOKEN_LIFETIME: i64 = 300;

/// The user the issuer "authenticates" at `/authorize`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdpUser {
    pub sub: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub groups: Vec<String>,
    /// Added to the ID token and to userinfo last: they win over the standard claims of the same
    /// name (a way to craft a defect that [`Tamper`] has no switch for).
    pub extra: Map<String, Value>,
}

impl IdpUser {
    /// A user with a verified `email`, no groups and no extra claims.
    pub fn new(sub: &str, email: &str) -> Self {
        Self { sub: sub.into(), email: Some(email.into()), email_verified: true, ..Self::default() }
    }

    pub fn groups(mut self, groups: &[&str]) -> Self {
        self.groups = groups.iter().map(|g| g.to_string()).collect();
        self
    }

    pub fn unverified(mut self) -> Self {
        self.email_verified = false;
        self
    }

    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }
}

/// One defect, for the next authorization (and the token redeemed from its code), then reset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// ID token `iss` is [`WRONG_ISSUER`].
    WrongIssuer,
    /// ID token `aud` is [`WRONG_AUDIENCE`].
    WrongAudience,
    /// ID token `exp` = now - 600, `iat` = now - 900.
    Expired,
    /// ID token `nonce` is [`WRONG_NONCE`].
    WrongNonce,
    /// ID token signed by a fresh RSA key that is never published, under its own kid.
    UnknownKid,
    /// ID token header `{"alg":"none"}`, empty signature.
    AlgNone,
    /// ID token HS256 keyed with the current public key's PEM ([`OidcIssuer::public_key_pem`]),
    /// header kid = the real kid.
    HmacWithPublicKey,
    /// The authorization response has no `iss` parameter.
    NoIssParam,
    /// The authorization response's `iss` is [`WRONG_ISSUER`].
    WrongIssParam,
    /// No `groups` in the ID token or userinfo; `_claim_names`/`_claim_sources` point elsewhere.
    GroupsOverage,
    /// The authorization response is `error=<this>&state=..&iss=..` instead of a code.
    IdpError(&'static str),
    /// `groups` only in userinfo, not in the ID token.
    GroupsOnlyInUserinfo,
}

/// How a token request authenticated the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic (`client_secret_basic`).
    Basic,
    /// `client_id` and `client_secret` in the form (`client_secret_post`).
    Post,
    /// Both at once (refused, RFC 6749 §2.3).
    Both,
    /// Neither.
    None,
}

/// A request that reached `/token`, and how it was answered.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub client_auth: ClientAuth,
    /// The client id presented (Basic user name, else the form's `client_id`).
    pub client_id: Option<String>,
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    /// Every form field (the secret included).
    pub form: BTreeMap<String, String>,
    pub status: u16,
    /// The OAuth `error` answered, if any.
    pub error: Option<String>,
}

struct SigningKey {
    kid: String,
    pair: KeyPair,
    n: String,
    e: String,
    pem: String,
}

impl SigningKey {
    fn generate() -> Self {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let public = pair.public_key();
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        // RFC 7638 thumbprint as the kid: unique per key, never reused.
        let thumbprint = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD
            .encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, thumbprint.as_bytes()));
        let spki = public.as_der().expect("SPKI DER");
        let pem = pem("PUBLIC KEY", spki.as_ref());
        Self { kid, pair, n, e, pem }
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "n": self.n, "e": self.e })
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair.sign(&RSA_PKCS1_SHA256, &rng, input, &mut signature).expect("RS256 signature");
        signature
    }
}

/// PEM as OpenSSL writes it: 64 columns, a final newline.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ascii"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()))
}

struct Grant {
    redirect_uri: String,
    nonce: String,
    challenge: String,
    user: IdpUser,
    tamper: Option<Tamper>,
}

struct Issued {
    user: IdpUser,
    tamper: Option<Tamper>,
    expires: i64,
}

#[derive(Default)]
struct Inner {
    user: Option<IdpUser>,
    tamper: Option<Tamper>,
    /// Published keys, oldest first; the last signs.
    keys: Vec<Arc<SigningKey>>,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, Issued>,
    authorize_requests: Vec<BTreeMap<String, String>>,
    token_requests: Vec<TokenRequest>,
}

struct State {
    issuer: String,
    client_id: String,
    client_secret: String,
    now: Arc<dyn Fn() -> i64 + Send + Sync>,
    jwks_fetches: AtomicUsize,
    userinfo_fetches: AtomicUsize,
    inner: Mutex<Inner>,
}

impl State {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("issuer lock")
    }
}

/// An OAuth error answer: `{error, error_description}`.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

fn oauth_error(status: StatusCode, error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError { status, error, description: description.into() }
}

impl OAuthError {
    fn into_response(self, basic: bool) -> Response {
        let mut response = Response::builder()
            .status(self.status)
            .content_type("application/json")
            .header("cache-control", "no-store");
        if self.status == StatusCode::UNAUTHORIZED && basic {
            response = response.header("www-authenticate", r#"Basic realm="test-idp""#);
        }
        response.body(json!({ "error": self.error, "error_description": self.description }).to_string())
    }
}

fn json_response(value: &Value) -> Response {
    Response::builder()
        .content_type("application/json")
        .header("cache-control", "no-store")
        .body(value.to_string())
}

pub struct OidcIssuer {
    /// `http://127.0.0.1:PORT`, as discovery and the tokens name it.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    state: Arc<State>,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for OidcIssuer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

#[handler]
fn discovery_endpoint(state: Data<&Arc<State>>) -> Response {
    let issuer = &state.issuer;
    json_response(&json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile", "groups"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "at_hash", "email", "email_verified", "groups"],
        "authorization_response_iss_parameter_supported": true,
    }))
}

#[handler]
fn jwks_endpoint(state: Data<&Arc<State>>) -> Response {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<Value> = state.lock().keys.iter().map(|k| k.jwk()).collect();
    json_response(&json!({ "keys": keys }))
}

#[handler]
fn authorize_endpoint(req: &Request, state: Data<&Arc<State>>) -> Response {
    let params: BTreeMap<String, String> =
        form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes()).into_owned().collect();
    state.lock().authorize_requests.push(params.clone());
    match authorization(&state, &params) {
        Ok(location) => Response::builder().status(StatusCode::FOUND).header("location", location).finish(),
        Err(e) => e.into_response(false),
    }
}

/// Checks an authorization request and returns where to redirect.
fn authorization(state: &State, params: &BTreeMap<String, String>) -> Result<String, OAuthError> {
    let bad = |description: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description);
    let param = |name: &str| params.get(name).map(String::as_str).filter(|v| !v.is_empty());
    if param("client_id") != Some(state.client_id.as_str()) {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client", "unknown client_id"));
    }
    let redirect_uri = param("redirect_uri").ok_or_else(|| bad("redirect_uri is required"))?;
    let mut location = reqwest::Url::parse(redirect_uri).map_err(|_| bad("redirect_uri is not a URL"))?;
    if !matches!(location.scheme(), "http" | "https") || location.fragment().is_some() {
        return Err(bad("redirect_uri must be an http(s) URL without a fragment"));
    }
    if param("response_type") != Some("code") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if !param("scope").is_some_and(|s| s.split(' ').any(|s| s == "openid")) {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", "scope must contain openid"));
    }
    let state_param = param("state").ok_or_else(|| bad("state is required"))?;
    let nonce = param("nonce").ok_or_else(|| bad("nonce is required"))?;
    let challenge = param("code_challenge").ok_or_else(|| bad("code_challenge is required"))?;
    if param("code_challenge_method") != Some("S256") {
        return Err(bad("code_challenge_method must be S256"));
    }
    if challenge.len() != 43 || URL_SAFE_NO_PAD.decode(challenge).map(|d| d.len()) != Ok(32) {
        return Err(bad("code_challenge is not a base64url SHA-256 digest"));
    }

    let mut inner = state.lock();
    let tamper = inner.tamper.take();
    let user = inner.user.clone();
    let iss = match tamper {
        Some(Tamper::NoIssParam) => None,
        Some(Tamper::WrongIssParam) => Some(WRONG_ISSUER),
        _ => Some(state.issuer.as_str()),
    };
    let mut query = location.query_pairs_mut();
    match (tamper, user) {
        (Some(Tamper::IdpError(error)), _) => {
            query.append_pair("error", error).append_pair("error_description", "the test IdP refused");
        }
        (_, None) => {
            query
                .append_pair("error", "login_required")
                .append_pair("error_description", "no user is signed in at the test IdP (sign_in_as)");
        }
        (_, Some(user)) => {
            let code = random_token();
            inner.codes.insert(
                code.clone(),
                Grant {
                    redirect_uri: redirect_uri.to_string(),
                    nonce: nonce.to_string(),
                    challenge: challenge.to_string(),
                    user,
                    tamper,
                },
            );
            query.append_pair("code", &code);
        }
    }
    query.append_pair("state", state_param);
    if let Some(iss) = iss {
        query.append_pair("iss", iss);
    }
    drop(query);
    Ok(location.to_string())
}

/// `Authorization: Basic` credentials, form-urldecoded (RFC 6749 §2.3.1).
fn basic_credentials(req: &Request) -> Option<Option<(String, String)>> {
    let header = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decode = |s: &str| -> String {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(
        STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|text| text.split_once(':').map(|(id, secret)| (decode(id), decode(secret)))),
    )
}

#[handler]
fn token_endpoint(req: &Request, body: Vec<u8>, state: Data<&Arc<State>>) -> Response {
    let form: BTreeMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let basic = basic_credentials(req);
    let client_auth = match (basic.is_some(), form.contains_key("client_secret")) {
        (true, true) => ClientAuth::Both,
        (true, false) => ClientAuth::Basic,
        (false, true) => ClientAuth::Post,
        (false, false) => ClientAuth::None,
    };
    let presented_id = match &basic {
        Some(Some((id, _))) => Some(id.clone()),
        _ => form.get("client_id").cloned(),
    };
    let result = exchange(&state, &form, client_auth, basic.flatten());
    let (response, status, error) = match result {
        Ok(body) => (json_response(&body), 200, None),
        Err(e) => {
            let (status, error) = (e.status.as_u16(), Some(e.error.to_string()));
            (e.into_response(client_auth == ClientAuth::Basic), status, error)
        }
    };
    state.lock().token_requests.push(TokenRequest {
        client_auth,
        client_id: presented_id,
        grant_type: form.get("grant_type").cloned(),
        code: form.get("code").cloned(),
        redirect_uri: form.get("redirect_uri").cloned(),
        code_verifier: form.get("code_verifier").cloned(),
        form,
        status,
        error,
    });
    response
}

fn exchange(
    state: &State,
    form: &BTreeMap<String, String>,
    client_auth: ClientAuth,
    basic: Option<(String, String)>,
) -> Result<Value, OAuthError> {
    let field = |name: &str| form.get(name).map(String::as_str);
    let invalid_client = |d: &str| oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", d);
    let (id, secret) = match client_auth {
        ClientAuth::Both => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "more than one client authentication method",
            ));
        }
        ClientAuth::None => return Err(invalid_client("client authentication is required")),
        ClientAuth::Basic => basic.ok_or_else(|| invalid_client("malformed Basic credentials"))?,
        ClientAuth::Post => (
            field("client_id").unwrap_or_default().to_string(),
            field("client_secret").unwrap_or_default().to_string(),
        ),
    };
    if id != state.client_id || secret != state.client_secret {
        return Err(invalid_client("wrong client credentials"));
    }
    if client_auth == ClientAuth::Basic && field("client_id").is_some_and(|f| f != id) {
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "client_id differs from Basic"));
    }
    if field("grant_type") != Some("authorization_code") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code is supported",
        ));
    }
    let invalid_grant = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", d);
    let code = field("code")
        .ok_or_else(|| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code is required"))?;
    // Single use: a code presented by the client is spent, whatever follows.
    let grant = state.lock().codes.remove(code).ok_or_else(|| invalid_grant("unknown or used code"))?;
    if field("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri does not match the authorization request"));
    }
    let verifier = field("code_verifier").ok_or_else(|| {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "code_verifier is required")
    })?;
    if s256(verifier) != grant.challenge {
        return Err(invalid_grant("code_verifier does not match code_challenge"));
    }

    let now = (state.now)();
    let (tamper, key) = {
        let mut inner = state.lock();
        let tamper = grant.tamper.or_else(|| inner.tamper.take());
        (tamper, inner.keys.last().cloned().expect("a signing key"))
    };
    let access_token = random_token();
    let id_token = id_token(state, &grant, tamper, &key, &access_token, now);
    state
        .lock()
        .access_tokens
        .insert(access_token.clone(), Issued { user: grant.user, tamper, expires: now + TOKEN_LIFETIME });
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "id_token": id_token,
        "scope": "openid email profile groups",
    }))
}

fn id_token(
    state: &State,
    grant: &Grant,
    tamper: Option<Tamper>,
    key: &SigningKey,
    access_token: &str,
    now: i64,
) -> String {
    let user = &grant.user;
    let (iat, exp) = match tamper {
        Some(Tamper::Expired) => (now - 900, now - 600),
        _ => (now, now + TOKEN_LIFETIME),
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    let mut claims = Map::new();
    let mut put = |name: &str, value: Value| {
        claims.insert(name.to_string(), value);
    };
    put("iss", json!(if tamper == Some(Tamper::WrongIssuer) { WRONG_ISSUER } else { &state.issuer }));
    put("sub", json!(user.sub));
    put("aud", json!(if tamper == Some(Tamper::WrongAudience) { WRONG_AUDIENCE } else { &state.client_id }));
    put("exp", json!(exp));
    put("iat", json!(iat));
    put("nonce", json!(if tamper == Some(Tamper::WrongNonce) { WRONG_NONCE } else { &grant.nonce }));
    put("at_hash", json!(URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])));
    if let Some(email) = &user.email {
        put("email", json!(email));
    }
    put("email_verified", json!(user.email_verified));
    match tamper {
        Some(Tamper::GroupsOverage) => {
            put("_claim_names", json!({ "groups": "src1" }));
            put("_claim_sources", json!({ "src1": { "endpoint": OVERAGE_ENDPOINT } }));
        }
        Some(Tamper::GroupsOnlyInUserinfo) => {}
        _ => put("groups", json!(user.groups)),
    }
    for (name, value) in &user.extra {
        put(name, value.clone());
    }
    let claims = Value::Object(claims);

    match tamper {
        Some(Tamper::AlgNone) => format!("{}.{}.", b64_json(&json!({ "alg": "none" })), b64_json(&claims)),
        Some(Tamper::HmacWithPublicKey) => {
            let input = format!(
                "{}.{}",
                b64_json(&json!({ "alg": "HS256", "typ": "JWT", "kid": key.kid })),
                b64_json(&claims)
            );
            let hmac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.pem.as_bytes());
            let tag = aws_lc_rs::hmac::sign(&hmac, input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        }
        _ => {
            let stranger;
            let signer = if tamper == Some(Tamper::UnknownKid) {
                stranger = SigningKey::generate();
                &stranger
            } else {
                key
            };
            let input = format!(
                "{}.{}",
                b64_json(&json!({ "alg": "RS256", "typ": "JWT", "kid": signer.kid })),
                b64_json(&claims)
            );
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signer.sign(input.as_bytes())))
        }
    }
}

#[handler]
fn userinfo_endpoint(req: &Request, state: Data<&Arc<State>>) -> Response {
    state.userinfo_fetches.fetch_add(1, Ordering::SeqCst);
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let now = (state.now)();
    let inner = state.lock();
    let Some(issued) = token.and_then(|t| inner.access_tokens.get(&t)).filter(|i| i.expires > now) else {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", r#"Bearer error="invalid_token""#)
            .content_type("application/json")
            .body(json!({ "error": "invalid_token" }).to_string());
    };
    let user = &issued.user;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.sub));
    if let Some(email) = &user.email {
        claims.insert("email".into(), json!(email));
    }
    claims.insert("email_verified".into(), json!(user.email_verified));
    if issued.tamper != Some(Tamper::GroupsOverage) {
        claims.insert("groups".into(), json!(user.groups));
    }
    for (name, value) in &user.extra {
        claims.insert(name.clone(), value.clone());
    }
    json_response(&Value::Object(claims))
}

impl OidcIssuer {
    /// Starts the issuer on `127.0.0.1:0` with one signing key. `now` gives the unix time tokens
    /// are stamped with (pass the server's manual clock).
    pub async fn start(now: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("issuer binds");
        let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).expect("issuer address");
        let issuer = format!("http://{addr}");
        let client_id = format!("guildhall-{}", uuid::Uuid::new_v4().simple());
        let client_secret = random_token();
        let key = tokio::task::spawn_blocking(SigningKey::generate).await.expect("key generation");
        let state = Arc::new(State {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: client_secret.clone(),
            now,
            jwks_fetches: AtomicUsize::new(0),
            userinfo_fetches: AtomicUsize::new(0),
            inner: Mutex::new(Inner { keys: vec![Arc::new(key)], ..Inner::default() }),
        });
        let app = Route::new()
            .at("/.well-known/openid-configuration", get(discovery_endpoint))
            .at("/jwks", get(jwks_endpoint))
            .at("/authorize", get(authorize_endpoint))
            .at("/token", poem::post(token_endpoint))
            .at("/userinfo", get(userinfo_endpoint).post(userinfo_endpoint))
            .data(state.clone());
        let handle = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self { issuer, client_id, client_secret, state, handle }
    }

    /// Starts the issuer on the system clock.
    pub async fn start_now() -> Self {
        Self::start(Arc::new(|| chrono::Utc::now().timestamp())).await
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer)
    }

    /// Who `/authorize` "authenticates" from now on (until the next call). Before any call,
    /// `/authorize` answers `error=login_required`.
    pub fn sign_in_as(&self, user: IdpUser) {
        self.state.lock().user = Some(user);
    }

    /// Arms one defect. The next `/authorize` takes it (and the code it issues carries it to
    /// `/token`); a tamper armed after the code was issued is taken by the next successful
    /// `/token` instead. Either way it then resets.
    pub fn tamper(&self, t: Tamper) {
        self.state.lock().tamper = Some(t);
    }

    /// How many times `/jwks` was fetched.
    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    /// How many requests reached `/userinfo` (good token or not).
    pub fn userinfo_fetches(&self) -> usize {
        self.state.userinfo_fetches.load(Ordering::SeqCst)
    }

    /// The query parameters of every request that reached `/authorize`, oldest first.
    pub fn authorize_requests(&self) -> Vec<BTreeMap<String, String>> {
        self.state.lock().authorize_requests.clone()
    }

    /// Every request that reached `/token`, oldest first, with how it was answered.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state.lock().token_requests.clone()
    }

    /// Generates a new key, makes it current for signing, and publishes it beside the old ones.
    pub fn rotate_key(&self) {
        let key = SigningKey::generate();
        self.state.lock().keys.push(Arc::new(key));
    }

    /// The kid of the current signing key.
    pub fn current_kid(&self) -> String {
        self.state.lock().keys.last().expect("a signing key").kid.clone()
    }

    /// The current public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, 64 columns, final
    /// newline): the HMAC key of [`Tamper::HmacWithPublicKey`].
    pub fn public_key_pem(&self) -> String {
        self.state.lock().keys.last().expect("a signing key").pem.clone()
    }
}
