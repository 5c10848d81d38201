//! Load bench of a real `guildhall` server process, reported in plain text.
//!
//! `auth` mode measures, on SQLite and then (when a database URL is given) on PostgreSQL:
//! password logins against the machine's argon2id capacity, refresh-token rotation, and
//! `GET /api/v1/auth/me` against the bare cost of an ES256 verification, each with latency
//! percentiles, plus the server's idle and peak memory. The bench client runs on the same
//! machine as the server, so both share the cores.
//!
//! Run it (release numbers are the ones that mean something):
//!
//! ```text
//! cargo run --release -p guildhall-tests --bin bench -- auth
//! cargo run --release -p guildhall-tests --bin bench -- auth --seconds 10 --concurrency 32 \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `scim` mode provisions an org the way Okta and Entra ID do (see `bench/scim.rs`): SCIM user
//! creates, `userName eq` lookups at that size, and one PATCH that adds 10,000 group members.
//!
//! ```text
//! cargo run --release -p guildhall-tests --bin bench -- scim --users 100000 --group-members 10000 \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `sso` mode signs in through an OIDC issuer and a SAML IdP (see `bench/sso.rs`): sign-ins/s,
//! latency and server CPU per sign-in, beside the bare cost of one signature verification.
//!
//! ```text
//! cargo run --release -p guildhall-tests --bin bench -- sso --signins 500 --concurrency 16 \
//!     --database-url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `plugins` mode measures the WebAssembly plugins (see `bench/plugins.rs`): compile and
//! disk-cache load times and warm-call latency of the examples, in-process, and OIDC sign-ins
//! with and without a role mapper attached to the provider.
//!
//! ```text
//! cargo run --release -p guildhall-tests --bin bench -- plugins --calls 10000 --signins 300
//! ```
//!
//! `GUILDHALL_BENCH_DATABASE_URL` is the default for `--database-url`. The server binary is
//! taken from the bench's own directory and built with cargo when it is missing. Each
//! PostgreSQL run works in a fresh `bench_<uuid>` schema, dropped afterwards with `psql`.

use std::{
    collections::HashMap,
    fs::File,
    future::Future,
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};
use argon2::{Algorithm, Argon2, Params, Version};
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

// Not `src/bin/scim.rs`: cargo would take a file there for a binary of its own.
#[path = "bench/plugins.rs"]
mod plugins;
#[path = "bench/scim.rs"]
mod scim;
#[path = "bench/sso.rs"]
mod sso;
#[path = "bench/webhooks.rs"]
mod webhooks;

const PASSWORD: &str = "correct horse battery staple";
const READY_DEADLINE: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The server's default argon2id parameters (OWASP minimum).
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_ITERATIONS: u32 = 2;
const ARGON2_PARALLELISM: u32 = 1;
const ARGON2_SAMPLES: u32 = 10;
const ES256_SAMPLES: u32 = 2000;
/// Distinct error messages shown per phase.
const ERROR_SAMPLES: usize = 5;

#[derive(Parser)]
#[command(name = "bench", about = "Load bench of a real Guildhall server")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Logins, refresh-token rotation and GET /auth/me.
    Auth(AuthArgs),
    /// SCIM provisioning: user creates, filter lookups and a 10,000-member group PATCH.
    Scim(scim::ScimArgs),
    /// Webhook delivery: deliveries/s, change-to-receipt latency, and what the outbox costs creates.
    Webhooks(webhooks::WebhooksArgs),
    /// SSO sign-ins: OIDC and IdP-initiated SAML sign-ins/s, latency and server CPU per sign-in.
    Sso(sso::SsoArgs),
    /// WebAssembly plugins: compile and cache-load times, warm calls, sign-ins with a role mapper.
    Plugins(plugins::PluginsArgs),
}

#[derive(Args)]
struct AuthArgs {
    /// PostgreSQL URL; when given, the bench runs on PostgreSQL after SQLite.
    #[arg(long, env = "GUILDHALL_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Duration of each phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent workers (and connections) per phase.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Accounts signed up before the phases.
    #[arg(long, default_value_t = 16)]
    users: usize,
}

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let cli = Cli::parse();
    match cli.mode {
        Mode::Auth(args) => run_auth(args).await,
        Mode::Scim(args) => scim::run(args).await,
        Mode::Webhooks(args) => webhooks::run(args).await,
        Mode::Sso(args) => sso::run(args).await,
        Mode::Plugins(args) => plugins::run(args).await,
    }
}

async fn run_auth(args: AuthArgs) -> Result<()> {
    if args.concurrency == 0 || args.users == 0 || args.seconds == 0 {
        bail!("--seconds, --concurrency and --users must be at least 1");
    }
    let binary = server_binary()?;
    println!("server binary: {}", binary.display());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let single_ms = argon2_ms_per_hash()?;
    // argon2id is memory-bound: hashes running side by side slow each other down, so the
    // machine's capacity is measured with one hashing thread per core, not derived from one.
    let hash_ms = argon2_effective_ms_per_hash(cores)?;
    println!(
        "argon2id alone: {single_ms:.1} ms/hash; with {cores} threads: {:.1} hashes/s",
        cores as f64 * 1e3 / hash_ms
    );

    let mut databases = vec![Database::Sqlite];
    if let Some(url) = args.database_url.clone().filter(|u| !u.is_empty()) {
        databases.push(Database::Postgres(url));
    }
    let mut failed = false;
    for database in &databases {
        println!();
        match bench_database(&binary, database, &args, cores, hash_ms).await {
            Ok(report) => {
                print_report(&report);
                failed |= report.phases.iter().any(|p| p.successes == 0);
            }
            Err(err) => {
                eprintln!("error: {} run failed: {err:#}", database.name());
                failed = true;
            }
        }
    }
    if failed {
        bail!("at least one run failed or had a phase without a single success");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

enum Database {
    Sqlite,
    Postgres(String),
}

impl Database {
    fn name(&self) -> &'static str {
        match self {
            Database::Sqlite => "sqlite",
            Database::Postgres(_) => "postgres",
        }
    }
}

/// The `guildhall` binary next to the bench's own executable, built first when missing.
fn server_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the bench's own executable")?;
    let dir = exe.parent().context("the bench's executable has no parent directory")?;
    let binary = dir.join(format!("guildhall{}", std::env::consts::EXE_SUFFIX));
    if binary.is_file() {
        return Ok(binary);
    }
    println!("{} is missing; building it", binary.display());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.arg("build");
    if !cfg!(debug_assertions) {
        build.arg("--release");
    }
    build.args(["-p", "guildhall-server", "--bin", "guildhall"]).current_dir(env!("CARGO_MANIFEST_DIR"));
    let status = build.status().context("cannot run cargo build")?;
    if !status.success() {
        bail!("cargo build of the server failed ({status})");
    }
    if !binary.is_file() {
        bail!("cargo build succeeded but {} is still missing", binary.display());
    }
    Ok(binary)
}

/// A running server child process; dropping it kills the process and drops its schema.
struct Server {
    child: Child,
    base: String,
    log_path: PathBuf,
    /// PostgreSQL URL and schema to drop once the server is gone.
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((url, schema)) = &self.schema {
            // Best effort: a leftover schema only costs disk space.
            let _ = Command::new("psql")
                .args([url.as_str(), "-X", "-q", "-c"])
                .arg(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The last `n` lines the server wrote.
    fn log_tail(&self, n: usize) -> Vec<String> {
        let Ok(file) = File::open(&self.log_path) else {
            return Vec::new();
        };
        let lines: Vec<String> =
            BufReader::new(file).lines().map_while(|l| l.ok()).map(|l| strip_ansi(&l)).collect();
        lines[lines.len().saturating_sub(n)..].to_vec()
    }
}

/// The line without its terminal colour codes (`ESC [ ... m`), which the server's text log has.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind a loopback port")?;
    Ok(listener.local_addr().context("no local address")?.port())
}

/// Starts the server on a fresh database; `env` adds `GUILDHALL_*` settings.
fn start_server(binary: &Path, database: &Database, env: &[(&str, String)]) -> Result<Server> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let data_dir = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let log = File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let bind = format!("127.0.0.1:{}", free_port()?);

    let mut command = Command::new(binary);
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["--bind", &bind])
        .env("GUILDHALL_LOG", "warn")
        .env("GUILDHALL_INSTANCE__MAX_LOGIN_ATTEMPTS", "100")
        // Our own variable and anything that would point the server elsewhere.
        .env_remove("GUILDHALL_BENCH_DATABASE_URL")
        .env_remove("GUILDHALL_DATABASE_URL")
        .env_remove("GUILDHALL_DATABASE_SCHEMA")
        .env_remove("GUILDHALL_CONFIG")
        .env_remove("GUILDHALL_DATA_DIR")
        .env_remove("GUILDHALL_BIND")
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().context("cannot share the log file")?))
        .stderr(Stdio::from(log));
    command.envs(env.iter().map(|(key, value)| (*key, value)));
    let mut schema = None;
    if let Database::Postgres(url) = database {
        let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
        command.args(["--database-url", url]).env("GUILDHALL_DATABASE_SCHEMA", &name);
        schema = Some((url.clone(), name));
    }
    let child = command.spawn().with_context(|| format!("cannot start {}", binary.display()))?;
    Ok(Server { child, base: format!("http://{bind}"), log_path, schema, _dir: dir })
}

/// Polls `/readyz` until it answers 200; fails early when the process exits.
async fn wait_ready(server: &mut Server, client: &reqwest::Client) -> Result<()> {
    let deadline = Instant::now() + READY_DEADLINE;
    let url = server.url("/readyz");
    loop {
        if let Some(status) = server.child.try_wait().context("cannot poll the server")? {
            bail!(
                "the server exited ({status}) before it was ready; its log ends with:\n{}",
                server.log_tail(30).join("\n")
            );
        }
        if let Ok(resp) = client.get(&url).send().await
            && resp.status() == reqwest::StatusCode::OK
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "the server was not ready within {READY_DEADLINE:?}; its log ends with:\n{}",
                server.log_tail(30).join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The server process's CPU time so far (user + system, all threads), from `/proc/<pid>/stat`:
/// what the server itself spent, whatever else shares the cores.
fn server_cpu(pid: u32) -> Result<Duration> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The fields after the command name (which may hold spaces) start at `state`, field 3;
    // utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| anyhow!("{path} is not a stat line"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64> {
        let field = fields.get(i).ok_or_else(|| anyhow!("{path} is too short"))?;
        field.parse().with_context(|| format!("field {} of {path} is not a number", i + 3))
    };
    let total = ticks(11)? + ticks(12)?;
    let per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100);
    Ok(Duration::from_secs_f64(total as f64 / per_second as f64))
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`).
fn proc_status_kib(pid: u32, field: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .with_context(|| format!("{path} has no {field}"))?;
    let kib = line.trim().trim_end_matches("kB").trim();
    kib.parse().with_context(|| format!("{field} in {path} is not a number: {line}"))
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------------------------

/// Shared by every worker of a run.
struct Ctx {
    client: reqwest::Client,
    base: String,
    emails: Vec<String>,
}

impl Ctx {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

struct Tokens {
    access: String,
    refresh: String,
}

/// Why a request failed: `HTTP <status>: <body>` or the transport error.
async fn error_of(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    format!("HTTP {status}: {body}")
}

/// Sends a request and returns the JSON body of a 2xx answer.
async fn send_json(request: reqwest::RequestBuilder) -> Result<Value, String> {
    let resp = request.send().await.map_err(|e| format!("transport: {e}"))?;
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    resp.json().await.map_err(|e| format!("bad JSON body: {e}"))
}

/// Sends a request and only checks for a 2xx answer (the body is read and discarded).
async fn send_ok(request: reqwest::RequestBuilder) -> Result<(), String> {
    let resp = request.send().await.map_err(|e| format!("transport: {e}"))?;
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    resp.bytes().await.map_err(|e| format!("transport: {e}"))?;
    Ok(())
}

fn tokens_of(body: &Value) -> Result<Tokens, String> {
    let field = |name: &str| {
        body[name].as_str().map(str::to_string).ok_or_else(|| format!("the answer has no {name}: {body}"))
    };
    Ok(Tokens { access: field("access_token")?, refresh: field("refresh_token")? })
}

fn login_request(ctx: &Ctx, email: &str) -> reqwest::RequestBuilder {
    ctx.client.post(ctx.url("/api/v1/auth/login")).json(&json!({ "email": email, "password": PASSWORD }))
}

async fn login(ctx: &Ctx, email: &str) -> Result<Tokens, String> {
    tokens_of(&send_json(login_request(ctx, email)).await?)
}

/// Signs up the first account of a fresh server (`email`): its access token and the id of the
/// org it owns.
async fn sign_up_owner(client: &reqwest::Client, base: &str, email: &str) -> Result<(String, String)> {
    let resp = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .with_context(|| format!("signup of {email}"))?;
    if resp.status() != reqwest::StatusCode::CREATED {
        bail!("signup of {email}: expected 201, got {}", error_of(resp).await);
    }
    let body: Value = resp.json().await.with_context(|| format!("signup of {email}"))?;
    let access = body["access_token"].as_str().context("the signup answer has no access_token")?;
    let org = body["org"]["id"].as_str().context("the signup answer has no org.id")?;
    Ok((access.to_string(), org.to_string()))
}

/// Signs up `count` accounts one after the other and returns the first one's tokens.
async fn signup_users(client: &reqwest::Client, base: &str, count: usize) -> Result<(Vec<String>, Tokens)> {
    let mut emails = Vec::with_capacity(count);
    let mut first = None;
    for i in 0..count {
        let email = format!("bench{i}@example.com");
        let resp = client
            .post(format!("{base}/api/v1/auth/signup"))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .with_context(|| format!("signup of {email}"))?;
        if resp.status() != reqwest::StatusCode::CREATED {
            bail!("signup of {email}: expected 201, got {}", error_of(resp).await);
        }
        let body: Value = resp.json().await.with_context(|| format!("signup of {email}"))?;
        let tokens = tokens_of(&body).map_err(|e| anyhow!("signup of {email}: {e}"))?;
        first.get_or_insert(tokens);
        emails.push(email);
    }
    Ok((emails, first.context("no account signed up")?))
}

/// One session per worker, opened concurrently (not timed).
async fn login_workers(ctx: &Arc<Ctx>, workers: usize) -> Result<Vec<Tokens>> {
    let mut handles = Vec::with_capacity(workers);
    for i in 0..workers {
        let ctx = ctx.clone();
        handles.push(tokio::spawn(async move {
            let email = &ctx.emails[i % ctx.emails.len()];
            login(&ctx, email).await.map_err(|e| anyhow!("setup login of {email}: {e}"))
        }));
    }
    let mut sessions = Vec::with_capacity(workers);
    for handle in handles {
        sessions.push(handle.await.context("a setup login task failed")??);
    }
    Ok(sessions)
}

// ---------------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------------

/// What one step of a worker did.
enum Outcome {
    /// A 2xx answer; its latency counts.
    Success,
    /// Anything else; the message is kept as a sample.
    Failure(String),
    /// Bookkeeping (such as signing in again after a failure): neither counted nor timed.
    Untimed,
}

#[derive(Default)]
struct WorkerStats {
    latencies: Vec<Duration>,
    errors: u64,
    error_kinds: HashMap<String, u64>,
}

struct PhaseStats {
    name: &'static str,
    successes: u64,
    errors: u64,
    elapsed: Duration,
    /// Latencies of the successful requests, sorted.
    latencies: Vec<Duration>,
    /// The most frequent error messages with their counts.
    error_samples: Vec<(String, u64)>,
}

impl PhaseStats {
    fn rate(&self) -> f64 {
        self.successes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        percentile(&self.latencies, p).as_secs_f64() * 1e3
    }
}

/// Runs one worker per state until `duration` has passed. Each step takes the worker's state
/// and gives it back with the outcome, so a worker carries its session from one request to the
/// next. No step starts after the deadline.
async fn run_phase<S, F, Fut>(
    name: &'static str,
    states: Vec<S>,
    duration: Duration,
    step: F,
) -> Result<PhaseStats>
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = (S, Outcome)> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut handles = Vec::with_capacity(states.len());
    for mut state in states {
        let step = step.clone();
        handles.push(tokio::spawn(async move {
            let mut stats = WorkerStats::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let (next, outcome) = step(state).await;
                state = next;
                match outcome {
                    Outcome::Success => stats.latencies.push(sent.elapsed()),
                    Outcome::Failure(message) => {
                        stats.errors += 1;
                        *stats.error_kinds.entry(message).or_default() += 1;
                    }
                    Outcome::Untimed => {}
                }
            }
            stats
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut kinds: HashMap<String, u64> = HashMap::new();
    for handle in handles {
        let worker = handle.await.with_context(|| format!("a {name} worker panicked"))?;
        latencies.extend(worker.latencies);
        errors += worker.errors;
        for (message, count) in worker.error_kinds {
            *kinds.entry(message).or_default() += count;
        }
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let mut error_samples: Vec<(String, u64)> = kinds.into_iter().collect();
    error_samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    error_samples.truncate(ERROR_SAMPLES);
    Ok(PhaseStats { name, successes: latencies.len() as u64, errors, elapsed, latencies, error_samples })
}

/// Password logins, cycling over the accounts.
async fn login_phase(ctx: &Arc<Ctx>, workers: usize, duration: Duration) -> Result<PhaseStats> {
    let ctx = ctx.clone();
    let states: Vec<usize> = (0..workers).collect();
    run_phase("login", states, duration, move |n: usize| {
        let ctx = ctx.clone();
        async move {
            let email = &ctx.emails[n % ctx.emails.len()];
            let outcome = match send_ok(login_request(&ctx, email)).await {
                Ok(()) => Outcome::Success,
                Err(e) => Outcome::Failure(e),
            };
            (n + workers, outcome)
        }
    })
    .await
}

/// A refresh worker's session: its account and its latest, never used refresh token.
struct RefreshState {
    email: String,
    refresh: Option<String>,
}

/// Refresh-token rotation: each worker always sends the token from its previous answer.
async fn refresh_phase(ctx: &Arc<Ctx>, workers: usize, duration: Duration) -> Result<PhaseStats> {
    let sessions = login_workers(ctx, workers).await?;
    let states = sessions
        .into_iter()
        .enumerate()
        .map(|(i, t)| RefreshState {
            email: ctx.emails[i % ctx.emails.len()].clone(),
            refresh: Some(t.refresh),
        })
        .collect();
    let ctx = ctx.clone();
    run_phase("refresh", states, duration, move |mut state: RefreshState| {
        let ctx = ctx.clone();
        async move {
            // `take` makes sure a token is never sent twice, even when its request failed.
            let Some(token) = state.refresh.take() else {
                // The last refresh failed: sign in again for a fresh session.
                let outcome = match login(&ctx, &state.email).await {
                    Ok(tokens) => {
                        state.refresh = Some(tokens.refresh);
                        Outcome::Untimed
                    }
                    Err(e) => Outcome::Failure(format!("re-login: {e}")),
                };
                return (state, outcome);
            };
            let request =
                ctx.client.post(ctx.url("/api/v1/auth/refresh")).json(&json!({ "refresh_token": token }));
            let outcome = match send_json(request).await.and_then(|body| tokens_of(&body)) {
                Ok(tokens) => {
                    state.refresh = Some(tokens.refresh);
                    Outcome::Success
                }
                Err(e) => Outcome::Failure(e),
            };
            (state, outcome)
        }
    })
    .await
}

/// `GET /auth/me`, each worker with the access token of its own session.
async fn me_phase(ctx: &Arc<Ctx>, workers: usize, duration: Duration) -> Result<PhaseStats> {
    let sessions = login_workers(ctx, workers).await?;
    let states: Vec<Arc<str>> = sessions.into_iter().map(|t| Arc::from(t.access)).collect();
    let ctx = ctx.clone();
    run_phase("GET /auth/me", states, duration, move |token: Arc<str>| {
        let ctx = ctx.clone();
        async move {
            let request = ctx.client.get(ctx.url("/api/v1/auth/me")).bearer_auth(&token);
            let outcome = match send_ok(request).await {
                Ok(()) => Outcome::Success,
                Err(e) => Outcome::Failure(e),
            };
            (token, outcome)
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Baselines measured in the bench process, on one thread
// ---------------------------------------------------------------------------------------------

/// Mean milliseconds of one argon2id hash with the server's default parameters.
fn argon2_ms_per_hash() -> Result<f64> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM, Some(32))
        .map_err(|e| anyhow!("argon2 parameters: {e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = *b"guildhall-bench!";
    let mut out = [0u8; 32];
    let mut hash = |i: u32| {
        argon2
            .hash_password_into(format!("{PASSWORD} {i}").as_bytes(), &salt, &mut out)
            .map_err(|e| anyhow!("argon2id hash: {e}"))
    };
    hash(0)?; // warm up the allocator
    let start = Instant::now();
    for i in 1..=ARGON2_SAMPLES {
        hash(i)?;
    }
    std::hint::black_box(out);
    Ok(start.elapsed().as_secs_f64() * 1e3 / f64::from(ARGON2_SAMPLES))
}

/// Milliseconds of hashing per hash and core when every core hashes at once
/// (`cores / hashes-per-second`), so that `cores / this` is the machine's hash capacity.
fn argon2_effective_ms_per_hash(cores: usize) -> Result<f64> {
    let start = Instant::now();
    let workers: Vec<_> = (0..cores).map(|_| std::thread::spawn(argon2_ms_per_hash)).collect();
    for worker in workers {
        worker.join().map_err(|_| anyhow!("argon2 worker panicked"))??;
    }
    let hashes = (cores as f64) * f64::from(ARGON2_SAMPLES + 1);
    Ok(cores as f64 * start.elapsed().as_secs_f64() * 1e3 / hashes)
}

/// Mean microseconds of one ES256 signature and claims check of a real access token, with the
/// key published in the server's JWKS.
async fn es256_us_per_verify(ctx: &Ctx, token: &str) -> Result<f64> {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};

    let jwks: Value = ctx
        .client
        .get(ctx.url("/.well-known/jwks.json"))
        .send()
        .await
        .context("GET /.well-known/jwks.json")?
        .error_for_status()
        .context("GET /.well-known/jwks.json")?
        .json()
        .await
        .context("the JWKS is not JSON")?;
    let keys = jwks["keys"].as_array().context("the JWKS has no keys")?;
    let kid = decode_header(token).context("the access token has no valid header")?.kid;
    let jwk = keys
        .iter()
        .find(|k| kid.is_some() && k["kid"].as_str() == kid.as_deref())
        .or_else(|| keys.first())
        .context("the JWKS is empty")?;
    let (x, y) =
        (jwk["x"].as_str().context("the JWK has no x")?, jwk["y"].as_str().context("the JWK has no y")?);
    let key = DecodingKey::from_ec_components(x, y).context("the JWK is not a P-256 key")?;
    let mut validation = Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&["guildhall"]);
    let verify = || decode::<Value>(token, &key, &validation);
    verify().context("the access token does not verify against the JWKS")?;
    let start = Instant::now();
    for _ in 0..ES256_SAMPLES {
        std::hint::black_box(verify().context("ES256 verification")?);
    }
    Ok(start.elapsed().as_secs_f64() * 1e6 / f64::from(ES256_SAMPLES))
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

struct Report {
    database: &'static str,
    cores: usize,
    concurrency: usize,
    seconds: u64,
    hash_ms: f64,
    es256_us: f64,
    phases: Vec<PhaseStats>,
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    /// Warnings and errors the server logged.
    log_lines: usize,
    log_tail: Vec<String>,
}

impl Report {
    /// Hashes per second the whole machine can compute.
    fn hash_capacity(&self) -> f64 {
        self.cores as f64 / (self.hash_ms / 1e3)
    }
}

async fn bench_database(
    binary: &Path,
    database: &Database,
    args: &AuthArgs,
    cores: usize,
    hash_ms: f64,
) -> Result<Report> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;
    let mut server = start_server(binary, database, &[])?;
    wait_ready(&mut server, &client).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss_kib = proc_status_kib(server.pid(), "VmRSS")?;

    let (emails, first) = signup_users(&client, &server.base, args.users).await?;
    let ctx = Arc::new(Ctx { client, base: server.base.clone(), emails });
    let es256_us = es256_us_per_verify(&ctx, &first.access).await?;

    let duration = Duration::from_secs(args.seconds);
    let phases = vec![
        login_phase(&ctx, args.concurrency, duration).await?,
        refresh_phase(&ctx, args.concurrency, duration).await?,
        me_phase(&ctx, args.concurrency, duration).await?,
    ];

    let peak_rss_kib = proc_status_kib(server.pid(), "VmHWM")?;
    let log_lines = server.log_tail(usize::MAX);
    let log_tail = log_lines[log_lines.len().saturating_sub(5)..].to_vec();
    Ok(Report {
        database: database.name(),
        cores,
        concurrency: args.concurrency,
        seconds: args.seconds,
        hash_ms,
        es256_us,
        phases,
        idle_rss_kib,
        peak_rss_kib,
        log_lines: log_lines.len(),
        log_tail,
    })
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

/// The element at index `(len - 1) * p` of sorted samples (zero when there are none).
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// A rate with sensible precision: `52.3`, `2900`.
fn number(value: f64) -> String {
    if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// A rate per second: `52.3/s`, `2900/s`.
fn rate(per_second: f64) -> String {
    format!("{}/s", number(per_second))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print_report(r: &Report) {
    println!(
        "== guildhall auth bench: {} ({} cores, {} connections, {} s per phase) ==",
        r.database, r.cores, r.concurrency, r.seconds
    );
    println!(
        "argon2id ({ARGON2_MEMORY_KIB} KiB, t={ARGON2_ITERATIONS}, p={ARGON2_PARALLELISM}): \
         {:.1} ms/hash per core under full load -> capacity {} hashes/s on {} cores",
        r.hash_ms,
        number(r.hash_capacity()),
        r.cores
    );
    for phase in &r.phases {
        let throughput = if phase.name == "login" {
            format!(
                "{} ({:.1}% of hash capacity)",
                rate(phase.rate()),
                100.0 * phase.rate() / r.hash_capacity()
            )
        } else {
            format!("{} ({} per core)", rate(phase.rate()), rate(phase.rate() / r.cores as f64))
        };
        println!(
            "{:<15}: {throughput:<34} p50 {:>7.1} ms  p99 {:>7.1} ms  errors {}",
            phase.name,
            phase.percentile_ms(0.50),
            phase.percentile_ms(0.99),
            phase.errors
        );
        for (message, count) in &phase.error_samples {
            println!("    {count} x {message}");
        }
    }
    println!("{:<15}: {:.1} µs", "ES256 verify", r.es256_us);
    println!(
        "{:<15}: idle {:.1} MiB RSS, peak {:.1} MiB",
        "server memory",
        mib(r.idle_rss_kib),
        mib(r.peak_rss_kib)
    );
    if r.log_lines > 0 {
        println!("server log     : {} warning/error lines; the last ones:", r.log_lines);
        for line in &r.log_tail {
            println!("    {line}");
        }
    }
}
