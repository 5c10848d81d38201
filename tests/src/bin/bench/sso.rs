//! `sso` mode: what SSO sign-ins cost and how fast they go. One org with `example.com` and
//! `example.org` verified, an OIDC provider for the first (the in-process test issuer,
//! `guildhall_tests::oidc_issuer`) and a SAML provider for the second (IdP-initiated sign-in
//! allowed, responses signed by `tests/sso/saml_idp.py`).
//!
//! - OIDC: `--signins` whole sign-ins of four hops each (login redirect, the issuer's
//!   `/authorize`, our callback, which redeems the code at the issuer and checks the RS256 ID
//!   token, and the code exchange), after a warm-up pass of one sign-in per user (`--concurrency`
//!   users) that creates the accounts by JIT, so the timed sign-ins find their users. Reported:
//!   sign-ins/s, p50/p99 of a whole sign-in and of the callback hop alone, and the server's CPU
//!   per sign-in (from `/proc/<pid>/stat`; the issuer runs in the bench process, not the server).
//!   The issuer answers `/authorize` for one configured user at a time: the warm-up sets it and
//!   sends `/authorize` under a lock (each user signs in exactly once), the timed sign-ins do not
//!   lock, so one of them may sign in as another worker's user; every user already exists then.
//! - SAML: one signed response per sign-in, all made before the timed phase (each assertion is
//!   accepted once), then the same warm-up and `--signins` IdP-initiated sign-ins: the ACS post
//!   and the code exchange. Reported: sign-ins/s, p50/p99 of the ACS post, server CPU per sign-in.
//! - Beside them, measured in the bench process on one thread: one SAML response verification
//!   (`guildhall_server::sso::saml_response::verify`, as the ACS calls it) and one RS256 ID-token
//!   verification with `jsonwebtoken` against the issuer's JWKS.

use std::{
    collections::HashMap,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use clap::Args;
use guildhall_server::sso::saml_response::{Expectations, decode_post, verify};
use guildhall_tests::{
    oidc_issuer::{IdpUser, OidcIssuer},
    saml_idp::{ResponseSpec, SamlIdp},
};
use reqwest::{StatusCode, redirect::Policy};
use serde_json::{Value, json};

use super::{
    Database, ERROR_SAMPLES, REQUEST_TIMEOUT, Server, error_of, percentile, server_binary, server_cpu,
    sign_up_owner, start_server, wait_ready,
};

#[derive(Args)]
pub struct SsoArgs {
    /// PostgreSQL URL; when given, the bench runs on PostgreSQL after SQLite.
    #[arg(long, env = "GUILDHALL_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Timed sign-ins per phase (OIDC, then SAML).
    #[arg(long, default_value_t = 500)]
    signins: usize,
    /// Concurrent workers (and connections); also the number of users per protocol.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

const RETURN_URL: &str = "https://app.example.test/done";
const SAML_ENTITY_ID: &str = "http://www.okta.com/exk-bench";
/// Calls timed for the in-process SAML verification.
const SAML_VERIFY_SAMPLES: u32 = 200;
/// Calls timed for the in-process RS256 verification.
const RS256_SAMPLES: u32 = 2000;
/// How long each pre-generated SAML response stays valid (seconds after it is made).
const SAML_VALIDITY: i64 = 3600;

pub async fn run(args: SsoArgs) -> Result<()> {
    if args.signins == 0 || args.concurrency == 0 {
        bail!("--signins and --concurrency must be at least 1");
    }
    let binary = server_binary()?;
    println!("server binary: {}", binary.display());
    let mut databases = vec![Database::Sqlite];
    if let Some(url) = args.database_url.clone().filter(|u| !u.is_empty()) {
        databases.push(Database::Postgres(url));
    }
    for database in &databases {
        println!();
        bench_database(&binary, database, &args).await.with_context(|| format!("{} run", database.name()))?;
    }
    Ok(())
}

/// What one sign-in took: the whole of it, and the one hop reported on its own.
struct Timing {
    total: Duration,
    hop: Duration,
}

/// A phase of sign-ins.
pub(crate) struct Phase {
    elapsed: Duration,
    cpu: Duration,
    /// Sorted.
    pub(crate) totals: Vec<Duration>,
    /// Sorted.
    pub(crate) hops: Vec<Duration>,
    pub(crate) errors: usize,
    pub(crate) error_samples: Vec<(String, usize)>,
}

impl Phase {
    pub(crate) fn successes(&self) -> usize {
        self.totals.len()
    }

    pub(crate) fn rate(&self) -> f64 {
        self.successes() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn cpu_ms_per_signin(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e3 / self.successes().max(1) as f64
    }
}

/// Runs sign-ins `0..count` on `workers` workers (each takes the next index) and measures them
/// with the server's CPU time.
async fn drive<F, Fut>(pid: u32, count: usize, workers: usize, step: F) -> Result<Phase>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Timing, String>> + Send,
{
    let cpu_before = server_cpu(pid)?;
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers.min(count) {
        let (next, step) = (next.clone(), step.clone());
        handles.push(tokio::spawn(async move {
            let mut timings = Vec::new();
            let mut errors: HashMap<String, usize> = HashMap::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return (timings, errors);
                }
                match step(i).await {
                    Ok(timing) => timings.push(timing),
                    Err(message) => *errors.entry(message).or_default() += 1,
                }
            }
        }));
    }
    let (mut totals, mut hops) = (Vec::with_capacity(count), Vec::with_capacity(count));
    let mut kinds: HashMap<String, usize> = HashMap::new();
    for handle in handles {
        let (timings, errors) = handle.await.context("a sign-in worker panicked")?;
        for timing in timings {
            totals.push(timing.total);
            hops.push(timing.hop);
        }
        for (message, n) in errors {
            *kinds.entry(message).or_default() += n;
        }
    }
    let elapsed = started.elapsed();
    let cpu = server_cpu(pid)?.saturating_sub(cpu_before);
    totals.sort_unstable();
    hops.sort_unstable();
    let errors = kinds.values().sum();
    let mut error_samples: Vec<(String, usize)> = kinds.into_iter().collect();
    error_samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    error_samples.truncate(ERROR_SAMPLES);
    Ok(Phase { elapsed, cpu, totals, hops, errors, error_samples })
}

/// What every sign-in shares.
pub(crate) struct Ctx {
    pub(crate) client: reqwest::Client,
    base: String,
    pub(crate) oidc_provider: String,
    pub(crate) issuer: OidcIssuer,
    /// Held from `sign_in_as` to the answer of `/authorize` when the user must be exact.
    issuer_lock: tokio::sync::Mutex<()>,
}

impl Ctx {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn oidc_user(n: usize) -> IdpUser {
    IdpUser::new(&format!("bench|oidc-{n}"), &format!("user{n}@example.com")).groups(&["Everyone"])
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Checks the status of a redirect and returns its `Location`.
async fn redirect(resp: reqwest::Response, expected: StatusCode, hop: &str) -> Result<String, String> {
    if resp.status() != expected {
        return Err(format!("{hop}: expected {expected}, got {}", error_of(resp).await));
    }
    location(&resp).ok_or_else(|| format!("{hop}: {expected} without a Location"))
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Trades the one-time code from the return URL for a token pair.
async fn exchange(ctx: &Ctx, return_location: &str) -> Result<(), String> {
    if !return_location.starts_with(RETURN_URL) {
        return Err(format!("redirected to {return_location}, not to the return URL"));
    }
    let code = query_param(return_location, "code").ok_or_else(|| format!("no code in {return_location}"))?;
    let resp = ctx
        .client
        .post(ctx.url("/api/v1/auth/sso/exchange"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .map_err(|e| format!("exchange: transport: {e}"))?;
    if resp.status() != StatusCode::OK {
        return Err(format!("exchange: {}", error_of(resp).await));
    }
    let body: Value = resp.json().await.map_err(|e| format!("exchange: bad JSON: {e}"))?;
    if body["access_token"].as_str().is_none() {
        return Err(format!("exchange: no access_token in {body}"));
    }
    Ok(())
}

/// One OIDC sign-in of the four hops as user `n`; `exact` holds the issuer's lock so the
/// issuer authenticates exactly that user.
async fn oidc_sign_in(ctx: &Ctx, n: usize, exact: bool) -> Result<Timing, String> {
    let transport = |hop: &'static str| move |e: reqwest::Error| format!("{hop}: transport: {e}");
    let started = Instant::now();
    let login_url = ctx.url(&format!(
        "/api/v1/auth/sso/login?provider_id={}&return_to={}",
        ctx.oidc_provider,
        guildhall_tests::browser::urlencode(RETURN_URL)
    ));
    let resp = ctx.client.get(login_url).header("accept", "application/json").send().await;
    let resp = resp.map_err(transport("login"))?;
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("guildhall_sso="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let Some(cookie) = cookie else {
        return Err(format!("login: no guildhall_sso cookie, {}", error_of(resp).await));
    };
    let at_issuer = redirect(resp, StatusCode::FOUND, "login").await?;

    let callback = {
        let _guard = if exact { Some(ctx.issuer_lock.lock().await) } else { None };
        ctx.issuer.sign_in_as(oidc_user(n));
        let resp = ctx.client.get(&at_issuer).send().await.map_err(transport("authorize"))?;
        redirect(resp, StatusCode::FOUND, "authorize").await?
    };

    let hop_started = Instant::now();
    let resp = ctx
        .client
        .get(&callback)
        .header("accept", "application/json")
        .header("cookie", format!("guildhall_sso={cookie}"))
        .send()
        .await
        .map_err(transport("callback"))?;
    let back = redirect(resp, StatusCode::SEE_OTHER, "callback").await?;
    let hop = hop_started.elapsed();

    exchange(ctx, &back).await?;
    Ok(Timing { total: started.elapsed(), hop })
}

/// One IdP-initiated SAML sign-in: the ACS post of `response`, then the exchange.
async fn saml_sign_in(ctx: &Ctx, response: &str) -> Result<Timing, String> {
    let started = Instant::now();
    let body = form_urlencoded::Serializer::new(String::new()).append_pair("SAMLResponse", response).finish();
    let resp = ctx
        .client
        .post(ctx.url("/api/v1/auth/sso/saml/acs"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("acs: transport: {e}"))?;
    let back = redirect(resp, StatusCode::SEE_OTHER, "acs").await?;
    let hop = started.elapsed();
    exchange(ctx, &back).await?;
    Ok(Timing { total: started.elapsed(), hop })
}

/// Posts `body` as an instance admin's JSON request and returns the answer's JSON.
async fn admin_post(ctx: &Ctx, token: &str, path: &str, body: &Value, expected: StatusCode) -> Result<Value> {
    let resp = ctx.client.post(ctx.url(path)).bearer_auth(token).json(body).send().await?;
    if resp.status() != expected {
        bail!("POST {path}: expected {expected}, got {}", error_of(resp).await);
    }
    Ok(resp.json().await.unwrap_or(Value::Null))
}

/// The SAML responses: per user, one for the warm-up and one per timed sign-in of that user
/// (timed sign-in `i` is user `i % users`), made with one script run per user, one run per core at a time.
struct SamlResponses {
    warm_up: Vec<String>,
    timed: Vec<String>,
    /// An extra response, never posted, for the in-process verification.
    spare: String,
}

async fn saml_responses(
    idp: &Arc<SamlIdp>,
    spec: &ResponseSpec,
    users: usize,
    signins: usize,
) -> Result<SamlResponses> {
    let mut batches = Vec::with_capacity(users);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut made: Vec<Vec<String>> = Vec::with_capacity(users);
    for n in 0..users {
        let timed = signins / users + usize::from(n < signins % users);
        // User 0 makes the spare.
        let count = 1 + timed + usize::from(n == 0);
        let email = format!("user{n}@example.org");
        let mut spec = spec.clone();
        spec.name_id = email.clone();
        spec.attributes = vec![("email".into(), vec![email]), ("groups".into(), vec!["Everyone".into()])];
        let idp = idp.clone();
        batches.push(tokio::task::spawn_blocking(move || idp.responses(&spec, count)));
        if batches.len() == cores {
            for batch in batches.drain(..) {
                made.push(batch.await.context("saml_idp.py failed")?);
            }
        }
    }
    for batch in batches {
        made.push(batch.await.context("saml_idp.py failed")?);
    }
    let mut per_user: Vec<std::vec::IntoIter<String>> = made.into_iter().map(Vec::into_iter).collect();
    let mut next = |n: usize| per_user[n].next().context("too few SAML responses");
    let warm_up = (0..users).map(&mut next).collect::<Result<Vec<_>>>()?;
    let timed = (0..signins).map(|i| next(i % users)).collect::<Result<Vec<_>>>()?;
    let spare = next(0)?;
    Ok(SamlResponses { warm_up, timed, spare })
}

/// Microseconds per `verify` of one response, with the expectations the ACS builds.
fn saml_verify_us(response: &str, cert_pem: &str, sp_entity_id: &str, acs_url: &str) -> Result<f64> {
    let xml =
        decode_post(response).map_err(|r| anyhow::anyhow!("decode_post: {:?}: {}", r.reason, r.detail))?;
    let certificates = [cert_pem.to_string()];
    let expect = Expectations {
        idp_entity_id: SAML_ENTITY_ID,
        certificates: &certificates,
        sp_entity_id,
        acs_url,
        now: Utc::now(),
        clock_skew: chrono::Duration::seconds(120),
        email_attribute: None,
        groups_attribute: None,
        decryption_key: None,
        require_encrypted: false,
    };
    let verified =
        verify(&xml, &expect).map_err(|r| anyhow::anyhow!("verify: {:?}: {}", r.reason, r.detail))?;
    if !verified.name_id.ends_with("@example.org") {
        bail!("verify gave the NameID {}", verified.name_id);
    }
    let started = Instant::now();
    for _ in 0..SAML_VERIFY_SAMPLES {
        std::hint::black_box(verify(std::hint::black_box(&xml), &expect).ok());
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(SAML_VERIFY_SAMPLES))
}

/// Microseconds per RS256 verification (signature and claims) of an ID token the issuer made for
/// the bench: an authorization and a token request of our own, then its JWKS.
async fn rs256_us(ctx: &Ctx) -> Result<f64> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};

    let issuer = &ctx.issuer;
    let redirect_uri = "http://127.0.0.1:9/callback";
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let challenge =
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &issuer.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid email")
        .append_pair("state", "bench-state")
        .append_pair("nonce", "bench-nonce")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let location = {
        let _guard = ctx.issuer_lock.lock().await;
        issuer.sign_in_as(oidc_user(0));
        let resp = ctx.client.get(format!("{}/authorize?{query}", issuer.issuer)).send().await?;
        redirect(resp, StatusCode::FOUND, "authorize").await.map_err(anyhow::Error::msg)?
    };
    let code = query_param(&location, "code").with_context(|| format!("no code in {location}"))?;
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "authorization_code")
        .append_pair("code", &code)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("code_verifier", &verifier)
        .append_pair("client_id", &issuer.client_id)
        .append_pair("client_secret", &issuer.client_secret)
        .finish();
    let resp = ctx
        .client
        .post(format!("{}/token", issuer.issuer))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("issuer /token: {}", error_of(resp).await);
    }
    let tokens: Value = resp.json().await?;
    let id_token = tokens["id_token"].as_str().context("no id_token from the issuer")?.to_string();
    let jwks: Value = ctx.client.get(format!("{}/jwks", issuer.issuer)).send().await?.json().await?;
    let kid = decode_header(&id_token).context("the ID token's header")?.kid;
    let keys = jwks["keys"].as_array().context("the JWKS has no keys")?;
    let jwk = keys.iter().find(|k| k["kid"].as_str() == kid.as_deref()).context("no JWK for the kid")?;
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().context("the JWK has no n")?,
        jwk["e"].as_str().context("the JWK has no e")?,
    )
    .context("the JWK is not an RSA key")?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[issuer.client_id.as_str()]);
    validation.set_issuer(&[issuer.issuer.as_str()]);
    let check = || decode::<Value>(&id_token, &key, &validation);
    let claims = check().context("the ID token does not verify against the issuer's JWKS")?;
    if claims.claims["nonce"] != "bench-nonce" {
        bail!("the ID token has the wrong nonce: {}", claims.claims);
    }
    let started = Instant::now();
    for _ in 0..RS256_SAMPLES {
        std::hint::black_box(check().context("RS256 verification")?);
    }
    Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(RS256_SAMPLES))
}

/// A running server with one org: `example.com` and `example.org` verified, and an OIDC
/// provider (the in-process issuer) for `example.com`.
pub(crate) struct OidcOrg {
    pub(crate) server: Server,
    pub(crate) ctx: Ctx,
    /// The org owner's access token.
    pub(crate) access: String,
    pub(crate) org: String,
}

/// Starts the issuer and a server, and sets up the org of [`OidcOrg`].
pub(crate) async fn start_oidc_org(
    binary: &Path,
    database: &Database,
    concurrency: usize,
) -> Result<OidcOrg> {
    let issuer = OidcIssuer::start_now().await;
    let env = [
        ("GUILDHALL_OUTBOUND__ALLOW_PRIVATE_NETWORKS", "true".to_string()),
        ("GUILDHALL_OUTBOUND__ALLOW_HTTP", "true".to_string()),
        ("GUILDHALL_SSO__RETURN_URLS", RETURN_URL.to_string()),
        ("GUILDHALL_SSO__LOGIN_STARTS_PER_MINUTE", "1000000".to_string()),
    ];
    let mut server = start_server(binary, database, &env)?;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .pool_max_idle_per_host(concurrency)
        .timeout(REQUEST_TIMEOUT)
        .build()?;
    wait_ready(&mut server, &client).await?;
    let mut ctx = Ctx {
        client,
        base: server.url(""),
        oidc_provider: String::new(),
        issuer,
        issuer_lock: tokio::sync::Mutex::new(()),
    };

    let (access, org) = sign_up_owner(&ctx.client, &ctx.base, "owner@bench.example").await?;
    for domain in ["example.com", "example.org"] {
        let path = format!("/api/v1/orgs/{org}/email-domains");
        admin_post(&ctx, &access, &path, &json!({ "domain": domain }), StatusCode::CREATED).await?;
        let verify = json!({ "method": "manual" });
        admin_post(&ctx, &access, &format!("{path}/{domain}/verify"), &verify, StatusCode::OK).await?;
    }
    let providers = format!("/api/v1/orgs/{org}/sso/providers");
    let oidc = oidc_provider_body(&ctx.issuer);
    let created = admin_post(&ctx, &access, &providers, &oidc, StatusCode::CREATED).await?;
    ctx.oidc_provider = created["id"].as_str().context("OIDC provider id")?.to_string();
    Ok(OidcOrg { server, ctx, access, org })
}

/// The body that creates (POST) or replaces (PUT) the bench's OIDC provider.
pub(crate) fn oidc_provider_body(issuer: &OidcIssuer) -> Value {
    json!({
        "kind": "oidc",
        "name": "Bench OIDC",
        "domains": ["example.com"],
        "oidc": {
            "discovery_url": issuer.discovery_url(),
            "client_id": issuer.client_id,
            "client_secret": issuer.client_secret,
            "groups_claim": "groups",
        },
    })
}

/// OIDC sign-ins `0..count` on `workers` workers, sign-in `i` as user `i % users`; `exact` makes
/// the issuer authenticate exactly that user (the warm-up, which creates the accounts).
pub(crate) async fn oidc_signins(
    ctx: &Arc<Ctx>,
    pid: u32,
    count: usize,
    users: usize,
    workers: usize,
    exact: bool,
) -> Result<Phase> {
    let ctx = ctx.clone();
    let users = users.max(1);
    drive(pid, count, workers, move |i| {
        let ctx = ctx.clone();
        async move { oidc_sign_in(&ctx, i % users, exact).await }
    })
    .await
}

async fn bench_database(binary: &Path, database: &Database, args: &SsoArgs) -> Result<()> {
    let users = args.concurrency.min(args.signins);
    let saml_idp = Arc::new(tokio::task::spawn_blocking(|| SamlIdp::new(SAML_ENTITY_ID)).await?);
    let OidcOrg { server, ctx, access, org } = start_oidc_org(binary, database, args.concurrency).await?;
    let pid = server.pid();
    let providers = format!("/api/v1/orgs/{org}/sso/providers");
    let saml = json!({
        "kind": "saml",
        "name": "Bench SAML",
        "domains": ["example.org"],
        "saml": {
            "idp_entity_id": SAML_ENTITY_ID,
            "sso_url": "http://127.0.0.1:9/sso",
            "certificates": [saml_idp.cert_pem],
            "allow_idp_initiated": true,
        },
    });
    let created = admin_post(&ctx, &access, &providers, &saml, StatusCode::CREATED).await?;
    let saml_provider = created["id"].as_str().context("SAML provider id")?.to_string();
    let sp_entity_id = ctx.url(&format!("/api/v1/auth/sso/saml/metadata/{saml_provider}"));
    let acs_url = ctx.url("/api/v1/auth/sso/saml/acs");

    // Every SAML response is signed before anything is timed.
    let made = Instant::now();
    let now = Utc::now();
    let spec = ResponseSpec::new(&sp_entity_id, &acs_url, now)
        .valid(now.timestamp() - 60, now.timestamp() + SAML_VALIDITY);
    let responses = saml_responses(&saml_idp, &spec, users, args.signins).await?;
    let made = made.elapsed();
    let ctx = Arc::new(ctx);

    // OIDC: warm-up (each user once, exactly), then the timed sign-ins.
    let warm = oidc_signins(&ctx, pid, users, users, args.concurrency, true).await?;
    if warm.errors > 0 {
        bail!("OIDC warm-up: {} of {users} sign-ins failed: {:?}", warm.errors, warm.error_samples);
    }
    let oidc = oidc_signins(&ctx, pid, args.signins, users, args.concurrency, false).await?;

    // SAML: the same, with the responses made above.
    let warm_up = Arc::new(responses.warm_up);
    let warm = {
        let (ctx, warm_up) = (ctx.clone(), warm_up.clone());
        drive(pid, users, args.concurrency, move |i| {
            let (ctx, warm_up) = (ctx.clone(), warm_up.clone());
            async move { saml_sign_in(&ctx, &warm_up[i]).await }
        })
        .await?
    };
    if warm.errors > 0 {
        bail!("SAML warm-up: {} of {users} sign-ins failed: {:?}", warm.errors, warm.error_samples);
    }
    let timed = Arc::new(responses.timed);
    let saml = {
        let (ctx, timed) = (ctx.clone(), timed.clone());
        drive(pid, args.signins, args.concurrency, move |i| {
            let (ctx, timed) = (ctx.clone(), timed.clone());
            async move { saml_sign_in(&ctx, &timed[i]).await }
        })
        .await?
    };

    // The bare costs, with the machine quiet again.
    let spare = responses.spare;
    let cert = saml_idp.cert_pem.clone();
    let saml_us =
        tokio::task::spawn_blocking(move || saml_verify_us(&spare, &cert, &sp_entity_id, &acs_url)).await??;
    let rs256_us = rs256_us(&ctx).await?;

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "== sso on {} ({} timed sign-ins per protocol, {} workers, {users} users per protocol, {cores} cores) ==",
        database.name(),
        args.signins,
        args.concurrency,
    );
    println!(
        "warm-up: {users} OIDC and {users} SAML sign-ins first (one per user: JIT created every account), \
         not timed; {} SAML responses signed beforehand in {:.1} s",
        users + args.signins + 1,
        made.as_secs_f64()
    );
    println!(
        "OIDC sign-in, 4 hops      {:>7.1}/s   p50 {:>6.1} ms  p99 {:>6.1} ms   server CPU {:.2} ms/sign-in   errors {}",
        oidc.rate(),
        ms(percentile(&oidc.totals, 0.50)),
        ms(percentile(&oidc.totals, 0.99)),
        oidc.cpu_ms_per_signin(),
        oidc.errors
    );
    println!(
        "  callback hop alone                  p50 {:>6.1} ms  p99 {:>6.1} ms",
        ms(percentile(&oidc.hops, 0.50)),
        ms(percentile(&oidc.hops, 0.99))
    );
    for (message, count) in &oidc.error_samples {
        println!("    {count} x {message}");
    }
    println!(
        "SAML ACS + exchange       {:>7.1}/s   p50 {:>6.1} ms  p99 {:>6.1} ms   server CPU {:.2} ms/sign-in   errors {}",
        saml.rate(),
        ms(percentile(&saml.totals, 0.50)),
        ms(percentile(&saml.totals, 0.99)),
        saml.cpu_ms_per_signin(),
        saml.errors
    );
    println!(
        "  ACS post alone                      p50 {:>6.1} ms  p99 {:>6.1} ms",
        ms(percentile(&saml.hops, 0.50)),
        ms(percentile(&saml.hops, 0.99))
    );
    for (message, count) in &saml.error_samples {
        println!("    {count} x {message}");
    }
    println!(
        "in the bench process, one thread: SAML response verify {saml_us:.0} µs/call ({SAML_VERIFY_SAMPLES} calls), \
         RS256 ID-token verify {rs256_us:.1} µs/call ({RS256_SAMPLES} calls)"
    );
    if oidc.successes() == 0 || saml.successes() == 0 {
        bail!("a phase had not a single successful sign-in");
    }
    Ok(())
}
