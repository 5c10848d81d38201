//! `scim` mode: provisioning the way Okta and Entra ID drive it, at the size of a large tenant.
//! One org and one SCIM token; `--users` creates over `--concurrency` connections, `userName eq`
//! lookups at that size, a few `externalId eq` probes and one that must match nothing, then ONE
//! PATCH that adds `--group-members` users to a new group, checked by reading the group back.
//! A step that cannot go on stops the run with its name; a broken check is reported and makes the
//! bench exit non-zero.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use reqwest::{
    Method, RequestBuilder, StatusCode,
    header::{ACCEPT, CONTENT_TYPE},
};
use serde_json::{Value, json};

use super::{
    Database, ERROR_SAMPLES, Outcome, PhaseStats, READY_DEADLINE, REQUEST_TIMEOUT, error_of, mib, number,
    percentile, proc_status_kib, rate, run_phase, server_binary, server_cpu, sign_up_owner, start_server,
    wait_ready,
};

const SCIM_CONTENT_TYPE: &str = "application/scim+json";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const DOMAIN: &str = "bench.example";
const EXTERNAL_ID_PROBES: usize = 20;
/// The big PATCH should finish within this (an IdP's request timeout is far longer, but a
/// membership push that takes seconds holds the org's write path for as long).
const PATCH_TARGET: Duration = Duration::from_secs(1);
/// The big PATCH and reads of the full group get longer than the other requests.
const GROUP_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// The server's default `max_body_bytes`; a larger PATCH needs `GUILDHALL_MAX_BODY_BYTES`.
const DEFAULT_BODY_LIMIT: usize = 1 << 20;
/// Bytes per member in the PATCH body: `{"value":"<36-char uuid>"},` is 49; ids may be longer.
const PATCH_BYTES_PER_MEMBER: usize = 64;
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// Provisioning stops once this many creates failed and they are at least a tenth of those sent:
/// a server that fails most creates would otherwise keep the bench busy for hours.
const GIVE_UP_AFTER_FAILURES: u64 = 100;

#[derive(Args)]
pub struct ScimArgs {
    /// PostgreSQL URL; when given, the bench runs on PostgreSQL after SQLite.
    #[arg(long, env = "GUILDHALL_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// SCIM users provisioned into the org.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Concurrent workers (and connections) for provisioning and lookups.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Members added to one group by a single PATCH.
    #[arg(long, default_value_t = 10_000)]
    group_members: usize,
    /// Duration of the `userName eq` lookup phase.
    #[arg(long, default_value_t = 10)]
    lookup_seconds: u64,
}

pub async fn run(args: ScimArgs) -> Result<()> {
    if args.users == 0 || args.concurrency == 0 || args.group_members == 0 || args.lookup_seconds == 0 {
        bail!("--users, --concurrency, --group-members and --lookup-seconds must be at least 1");
    }
    if args.group_members > args.users {
        bail!("--group-members ({}) cannot exceed --users ({})", args.group_members, args.users);
    }
    let binary = server_binary()?;
    // `cargo run -p guildhall-tests` does not rebuild the server: say which build is measured.
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .map(|t| chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|_| "at an unknown time".into());
    println!("server binary: {} (built {built})", binary.display());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut databases = vec![Database::Sqlite];
    if let Some(url) = args.database_url.clone().filter(|u| !u.is_empty()) {
        databases.push(Database::Postgres(url));
    }
    let mut failed = false;
    for database in &databases {
        println!();
        match bench_database(&binary, database, &args, cores).await {
            Ok(report) => {
                print_report(&report);
                failed |= !report.failures.is_empty();
            }
            Err(err) => {
                eprintln!("error: {} run failed: {err:#}", database.name());
                failed = true;
            }
        }
    }
    if failed {
        bail!("at least one run failed or broke a check");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SCIM over HTTP
// ---------------------------------------------------------------------------------------------

/// Shared by every worker of a run.
struct ScimCtx {
    client: reqwest::Client,
    base: String,
    /// The `gh_scim_` bearer token.
    token: String,
}

impl ScimCtx {
    /// A request as an IdP sends it: the SCIM token and `Accept: application/scim+json`.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(ACCEPT, SCIM_CONTENT_TYPE)
    }

    /// A request with a SCIM JSON body.
    fn request_with(&self, method: Method, path: &str, body: &Value) -> RequestBuilder {
        self.request(method, path).header(CONTENT_TYPE, SCIM_CONTENT_TYPE).body(body.to_string())
    }
}

/// Why a hot-path request failed: `kind` groups failures (`HTTP 409 Conflict`), `detail` is one
/// example answer.
struct Failure {
    kind: String,
    detail: String,
}

impl Failure {
    fn new(kind: impl Into<String>, detail: impl ToString) -> Self {
        Self { kind: kind.into(), detail: detail.to_string() }
    }

    async fn of(resp: reqwest::Response) -> Self {
        let kind = format!("HTTP {}", resp.status());
        let body = resp.text().await.unwrap_or_default();
        Self { kind, detail: body.chars().take(300).collect() }
    }
}

/// Sends a request and returns its JSON body when the answer has status `want`.
async fn expect_json(request: RequestBuilder, want: StatusCode, what: &str) -> Result<Value> {
    let resp = request.send().await.with_context(|| format!("{what}: no answer"))?;
    if resp.status() != want {
        bail!("{what}: expected {}, got {}", want.as_u16(), error_of(resp).await);
    }
    resp.json().await.with_context(|| format!("{what}: the answer is not JSON"))
}

fn user_name(i: usize) -> String {
    format!("user{i}@{DOMAIN}")
}

/// A user as Okta and Entra ID create one.
fn user_body(i: usize) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name(i),
        "name": { "givenName": format!("G{i}"), "familyName": format!("F{i}") },
        "emails": [{ "value": user_name(i), "type": "work", "primary": true }],
        "displayName": format!("User {i}"),
        "active": true,
        "externalId": format!("ext-{i}"),
    })
}

/// Creates user `i` and returns its SCIM id.
async fn create_user(ctx: &ScimCtx, i: usize) -> Result<String, Failure> {
    let request = ctx.request_with(Method::POST, "/scim/v2/Users", &user_body(i));
    let resp = request.send().await.map_err(|e| Failure::new("transport error", e))?;
    if resp.status() != StatusCode::CREATED {
        return Err(Failure::of(resp).await);
    }
    let body: Value = resp.json().await.map_err(|e| Failure::new("201 with a body that is not JSON", e))?;
    match body["id"].as_str() {
        Some(id) => Ok(id.to_string()),
        None => Err(Failure::new("201 without an id", body)),
    }
}

/// RFC 3986 percent-encoding of a query value (spaces as `%20`, as Okta sends them).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `GET /scim/v2/Users?filter=...`: the ListResponse of a 200 answer.
async fn search_users(ctx: &ScimCtx, filter: &str) -> Result<Value, String> {
    let path = format!("/scim/v2/Users?filter={}", percent_encode(filter));
    let resp = ctx.request(Method::GET, &path).send().await.map_err(|e| format!("transport: {e}"))?;
    if resp.status() != StatusCode::OK {
        return Err(error_of(resp).await);
    }
    resp.json().await.map_err(|e| format!("bad JSON body: {e}"))
}

/// Checks that a ListResponse holds exactly the one resource whose `attribute` is `value`.
fn single_match(list: &Value, attribute: &str, value: &str) -> Result<(), String> {
    match list["totalResults"].as_u64() {
        Some(1) => {}
        Some(n) => return Err(format!("totalResults {n}, expected 1")),
        None => return Err(format!("no totalResults in the answer: {}", truncated(list))),
    }
    match list["Resources"][0][attribute].as_str() {
        Some(found) if found == value => Ok(()),
        Some(_) => Err(format!("the resource found has another {attribute}")),
        None => Err(format!("totalResults 1 but no Resources[0].{attribute}")),
    }
}

fn truncated(value: &Value) -> String {
    value.to_string().chars().take(300).collect()
}

/// splitmix64: a fast, good-enough generator for picking users at random.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_seed() -> u64 {
    uuid::Uuid::new_v4().as_u64_pair().0
}

// ---------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------

/// Signs up an owner (which creates the org) and issues the org's SCIM token.
async fn scim_token(client: &reqwest::Client, base: &str) -> Result<String> {
    let (access, org) = sign_up_owner(client, base, &format!("owner@{DOMAIN}")).await?;
    let issue = client.post(format!("{base}/api/v1/orgs/{org}/scim/token")).bearer_auth(access);
    let issued = expect_json(issue, StatusCode::CREATED, "POST /api/v1/orgs/{org}/scim/token").await?;
    let token = issued["token"].as_str().context("the SCIM token answer has no token")?;
    Ok(token.to_string())
}

struct Provisioning {
    /// Failures are grouped by status, each with one example answer.
    phase: PhaseStats,
    /// The SCIM id of each user by index; `None` where its create failed.
    ids: Vec<Option<String>>,
}

#[derive(Default)]
struct CreateStats {
    latencies: Vec<Duration>,
    ids: Vec<(usize, String)>,
    /// Count and one example answer per kind of failure.
    errors: HashMap<String, (u64, String)>,
}

/// Creates `users` users over `workers` connections. User 0 goes first, alone, so that a missing
/// or broken endpoint stops the run with its answer instead of failing `users` times; a run where
/// most creates fail stops early too (`GIVE_UP_AFTER_FAILURES`), with the failures by status.
async fn provision(ctx: &Arc<ScimCtx>, users: usize, workers: usize) -> Result<Provisioning> {
    let start = Instant::now();
    let first = create_user(ctx, 0)
        .await
        .map_err(|f| anyhow!("POST /scim/v2/Users ({}): {}: {}", user_name(0), f.kind, f.detail))?;
    let first_latency = start.elapsed();

    let next = Arc::new(AtomicUsize::new(1));
    let failed = Arc::new(AtomicU64::new(0));
    let give_up = Arc::new(AtomicBool::new(false));
    let progress = {
        let (next, failed) = (next.clone(), failed.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                let sent = next.load(Ordering::Relaxed).min(users);
                let failed = failed.load(Ordering::Relaxed);
                println!(
                    "  provisioning: {sent}/{users} sent, {failed} failed, after {:.0} s",
                    start.elapsed().as_secs_f64()
                );
            }
        })
    };
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let ctx = ctx.clone();
        let (next, failed, give_up) = (next.clone(), failed.clone(), give_up.clone());
        handles.push(tokio::spawn(async move {
            let mut stats = CreateStats::default();
            while !give_up.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= users {
                    break;
                }
                let sent = Instant::now();
                match create_user(&ctx, i).await {
                    Ok(id) => {
                        stats.latencies.push(sent.elapsed());
                        stats.ids.push((i, id));
                    }
                    Err(failure) => {
                        stats.errors.entry(failure.kind).or_insert((0, failure.detail)).0 += 1;
                        let failures = failed.fetch_add(1, Ordering::Relaxed) + 1;
                        let sent = next.load(Ordering::Relaxed).min(users) as u64;
                        if failures >= GIVE_UP_AFTER_FAILURES && failures * 10 >= sent {
                            give_up.store(true, Ordering::Relaxed);
                        }
                    }
                }
            }
            stats
        }));
    }
    let mut ids = vec![None; users];
    ids[0] = Some(first);
    let mut latencies = vec![first_latency];
    let mut kinds: HashMap<String, (u64, String)> = HashMap::new();
    let mut joined = Ok(());
    for handle in handles {
        match handle.await {
            Ok(worker) => {
                latencies.extend(worker.latencies);
                for (i, id) in worker.ids {
                    ids[i] = Some(id);
                }
                for (kind, (count, detail)) in worker.errors {
                    kinds.entry(kind).or_insert((0, detail)).0 += count;
                }
            }
            Err(err) => joined = Err(anyhow!("a provisioning worker panicked: {err}")),
        }
    }
    progress.abort();
    joined?;
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    let errors = kinds.values().map(|(count, _)| count).sum();
    let mut error_samples: Vec<(String, u64)> =
        kinds.into_iter().map(|(kind, (count, detail))| (format!("{kind}, e.g. {detail}"), count)).collect();
    error_samples.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    error_samples.truncate(ERROR_SAMPLES);
    if give_up.load(Ordering::Relaxed) {
        let by_status: Vec<String> =
            error_samples.iter().map(|(message, count)| format!("\n    {count} x {message}")).collect();
        bail!(
            "gave up after {errors} failed creates ({} users created in {:.1} s); failures by status:{}",
            latencies.len(),
            elapsed.as_secs_f64(),
            by_status.concat()
        );
    }
    let phase = PhaseStats {
        name: "provision",
        successes: latencies.len() as u64,
        errors,
        elapsed,
        latencies,
        error_samples,
    };
    Ok(Provisioning { phase, ids })
}

/// `userName eq` lookups of random provisioned users until `duration` has passed. One lookup
/// goes first, alone, so that a missing endpoint stops the run with its answer.
async fn lookup_phase(
    ctx: &Arc<ScimCtx>,
    created: Arc<Vec<usize>>,
    workers: usize,
    duration: Duration,
) -> Result<PhaseStats> {
    let first = *created.first().context("no user was created")?;
    let filter = format!("userName eq \"{}\"", user_name(first));
    let list =
        search_users(ctx, &filter).await.map_err(|e| anyhow!("GET /scim/v2/Users?filter={filter}: {e}"))?;
    single_match(&list, "userName", &user_name(first))
        .map_err(|e| anyhow!("GET /scim/v2/Users?filter={filter}: {e}"))?;

    let states: Vec<u64> = (0..workers).map(|_| random_seed()).collect();
    let ctx = ctx.clone();
    run_phase("userName eq", states, duration, move |mut seed: u64| {
        let ctx = ctx.clone();
        let created = created.clone();
        async move {
            let i = created[(next_random(&mut seed) % created.len() as u64) as usize];
            let name = user_name(i);
            let outcome = match search_users(&ctx, &format!("userName eq \"{name}\"")).await {
                Ok(list) => match single_match(&list, "userName", &name) {
                    Ok(()) => Outcome::Success,
                    Err(e) => Outcome::Failure(e),
                },
                Err(e) => Outcome::Failure(e),
            };
            (seed, outcome)
        }
    })
    .await
}

struct Probes {
    /// Latencies of the `externalId eq` probes that found their user, sorted.
    external_id: Vec<Duration>,
    no_match: Duration,
}

/// A few `externalId eq` lookups that must find their user (with the id its create returned),
/// and one `userName eq` that must find nobody. Broken checks go to `failures`.
async fn probes(ctx: &ScimCtx, ids: &[Option<String>], failures: &mut Vec<String>) -> Probes {
    let created: Vec<(usize, &str)> =
        ids.iter().enumerate().filter_map(|(i, id)| Some((i, id.as_deref()?))).collect();
    let mut seed = random_seed();
    let mut external_id = Vec::new();
    for _ in 0..EXTERNAL_ID_PROBES.min(created.len()) {
        let (i, id) = created[(next_random(&mut seed) % created.len() as u64) as usize];
        let filter = format!("externalId eq \"ext-{i}\"");
        let sent = Instant::now();
        let checked = search_users(ctx, &filter).await.and_then(|list| {
            single_match(&list, "externalId", &format!("ext-{i}"))?;
            match list["Resources"][0]["id"].as_str() {
                Some(found) if found == id => Ok(()),
                _ => Err(format!("the user found is not the one created (id {id})")),
            }
        });
        match checked {
            Ok(()) => external_id.push(sent.elapsed()),
            Err(e) => failures.push(format!("GET /scim/v2/Users?filter={filter}: {e}")),
        }
    }
    external_id.sort_unstable();

    let filter = format!("userName eq \"nobody@{DOMAIN}\"");
    let sent = Instant::now();
    let checked = search_users(ctx, &filter).await.and_then(|list| match list["totalResults"].as_u64() {
        Some(0) => Ok(()),
        Some(n) => Err(format!("totalResults {n}, expected 0")),
        None => Err(format!("no totalResults in the answer: {}", truncated(&list))),
    });
    let no_match = sent.elapsed();
    if let Err(e) = checked {
        failures.push(format!("GET /scim/v2/Users?filter={filter}: {e}"));
    }
    Probes { external_id, no_match }
}

struct GroupReport {
    members_sent: usize,
    patch_bytes: usize,
    patch: Duration,
    patch_status: StatusCode,
    read_full: Duration,
    members_read: usize,
    missing: usize,
    unexpected: usize,
    read_excluded: Duration,
}

/// Sends a request, reads the whole answer and times both.
async fn timed(request: RequestBuilder, what: &str) -> Result<(StatusCode, Vec<u8>, Duration)> {
    let sent = Instant::now();
    let resp =
        request.timeout(GROUP_REQUEST_TIMEOUT).send().await.with_context(|| format!("{what}: no answer"))?;
    let status = resp.status();
    let body = resp.bytes().await.with_context(|| format!("{what}: the answer broke off"))?;
    Ok((status, body.to_vec(), sent.elapsed()))
}

fn body_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// Creates a group, adds `members` users to it with ONE PATCH, and reads it back both whole and
/// with `excludedAttributes=members`.
async fn group_patch(
    ctx: &ScimCtx,
    ids: &[Option<String>],
    members: usize,
    failures: &mut Vec<String>,
) -> Result<GroupReport> {
    let sent: Vec<&str> = ids.iter().filter_map(|id| id.as_deref()).take(members).collect();
    if sent.len() < members {
        bail!("only {} users were created; the PATCH needs {members}", sent.len());
    }
    let name = format!("bench-{}", group_label(members));
    let create = ctx.request_with(
        Method::POST,
        "/scim/v2/Groups",
        &json!({ "schemas": [GROUP_SCHEMA], "displayName": name }),
    );
    let group = expect_json(create, StatusCode::CREATED, "POST /scim/v2/Groups").await?;
    let id = group["id"].as_str().context("POST /scim/v2/Groups: the answer has no id")?;
    let path = format!("/scim/v2/Groups/{id}");

    let value: Vec<Value> = sent.iter().map(|id| json!({ "value": id })).collect();
    let patch = json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{ "op": "add", "path": "members", "value": value }],
    });
    let patch_bytes = patch.to_string().len();
    let what = format!("PATCH {path} ({members} members, {patch_bytes} bytes)");
    let (patch_status, body, patch_time) =
        timed(ctx.request_with(Method::PATCH, &path, &patch), &what).await?;
    // RFC 7644 §3.5.2: 200 with the resource, or 204 without.
    if !matches!(patch_status, StatusCode::OK | StatusCode::NO_CONTENT) {
        bail!(
            "{what}: expected 200 or 204, got HTTP {patch_status} after {:.0} ms: {}",
            patch_time.as_secs_f64() * 1e3,
            body_text(&body)
        );
    }

    let what = format!("GET {path}");
    let (status, body, read_full) = timed(ctx.request(Method::GET, &path), &what).await?;
    if status != StatusCode::OK {
        bail!("{what}: expected 200, got HTTP {status}: {}", body_text(&body));
    }
    let read: Value =
        serde_json::from_slice(&body).with_context(|| format!("{what}: the answer is not JSON"))?;
    let read_ids: HashSet<&str> = match read.get("members") {
        None | Some(Value::Null) => HashSet::new(),
        Some(Value::Array(list)) => list.iter().filter_map(|m| m["value"].as_str()).collect(),
        Some(other) => bail!("{what}: members is not an array: {}", truncated(other)),
    };
    let members_read = read["members"].as_array().map_or(0, Vec::len);
    let sent_ids: HashSet<&str> = sent.iter().copied().collect();
    let missing = sent_ids.difference(&read_ids).count();
    let unexpected = read_ids.difference(&sent_ids).count();
    if members_read != members || missing > 0 || unexpected > 0 {
        failures.push(format!(
            "the group has {members_read} members after the PATCH, expected {members} \
             ({missing} missing, {unexpected} unexpected)"
        ));
    }

    let what = format!("GET {path}?excludedAttributes=members");
    let (status, body, read_excluded) =
        timed(ctx.request(Method::GET, &format!("{path}?excludedAttributes=members")), &what).await?;
    if status != StatusCode::OK {
        bail!("{what}: expected 200, got HTTP {status}: {}", body_text(&body));
    }
    let excluded: Value =
        serde_json::from_slice(&body).with_context(|| format!("{what}: the answer is not JSON"))?;
    if excluded["members"].as_array().is_some_and(|m| !m.is_empty()) {
        failures.push(format!("{what} still returned members"));
    }
    Ok(GroupReport {
        members_sent: members,
        patch_bytes,
        patch: patch_time,
        patch_status,
        read_full,
        members_read,
        missing,
        unexpected,
        read_excluded,
    })
}

/// `10k` for 10000, `2500` for 2500.
fn group_label(members: usize) -> String {
    if members >= 1000 && members.is_multiple_of(1000) {
        format!("{}k", members / 1000)
    } else {
        members.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------------

struct Report {
    database: &'static str,
    cores: usize,
    concurrency: usize,
    users: usize,
    /// The server's `max_body_bytes` when the bench had to raise it.
    body_limit: Option<usize>,
    provision: PhaseStats,
    /// The server's own CPU time per create while provisioning.
    create_cpu: Duration,
    lookups: PhaseStats,
    /// The same lookups from one connection: the latency of a lookup itself, not of the queue.
    single_lookups: PhaseStats,
    probes: Probes,
    group: GroupReport,
    idle_rss_kib: u64,
    provisioned_rss_kib: u64,
    peak_rss_kib: u64,
    /// Warnings and errors the server logged.
    log_lines: usize,
    log_tail: Vec<String>,
    /// Broken checks; any of them fails the run.
    failures: Vec<String>,
}

async fn bench_database(
    binary: &std::path::Path,
    database: &Database,
    args: &ScimArgs,
    cores: usize,
) -> Result<Report> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;
    // Raise the body limit only when the PATCH would not fit the default, so that the default
    // is what gets measured whenever it suffices.
    let needed = args.group_members * PATCH_BYTES_PER_MEMBER + 1024;
    let body_limit = (needed > DEFAULT_BODY_LIMIT).then_some(2 * needed);
    let env: Vec<(&str, String)> =
        body_limit.map(|limit| ("GUILDHALL_MAX_BODY_BYTES", limit.to_string())).into_iter().collect();
    let mut server = start_server(binary, database, &env)?;
    wait_ready(&mut server, &client)
        .await
        .with_context(|| format!("step 1 (start the server, {READY_DEADLINE:?} allowed)"))?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss_kib = proc_status_kib(server.pid(), "VmRSS")?;

    let token = scim_token(&client, &server.base).await.context("step 1 (owner and SCIM token)")?;
    let ctx = Arc::new(ScimCtx { client, base: server.base.clone(), token });
    let mut failures = Vec::new();

    println!("{}: provisioning {} users over {} connections", database.name(), args.users, args.concurrency);
    let cpu_before = server_cpu(server.pid())?;
    let Provisioning { phase: creates, ids } =
        provision(&ctx, args.users, args.concurrency).await.context("step 2 (provision users)")?;
    let create_cpu = server_cpu(server.pid())?.saturating_sub(cpu_before)
        / u32::try_from(creates.successes.max(1)).unwrap_or(u32::MAX);
    if creates.errors > 0 {
        failures.push(format!("{} of {} creates failed", creates.errors, args.users));
    }
    let provisioned_rss_kib = proc_status_kib(server.pid(), "VmRSS")?;

    println!("{}: userName lookups for {} s", database.name(), args.lookup_seconds);
    let created: Arc<Vec<usize>> =
        Arc::new(ids.iter().enumerate().filter_map(|(i, id)| id.as_ref().map(|_| i)).collect());
    let lookups =
        lookup_phase(&ctx, created.clone(), args.concurrency, Duration::from_secs(args.lookup_seconds))
            .await
            .context("step 3 (userName eq lookups)")?;
    let single_lookups = lookup_phase(&ctx, created, 1, Duration::from_secs(args.lookup_seconds.min(5)))
        .await
        .context("step 3 (userName eq lookups, one connection)")?;
    if lookups.errors + single_lookups.errors > 0 {
        failures.push(format!("{} userName lookups failed", lookups.errors + single_lookups.errors));
    }
    let probes = probes(&ctx, &ids, &mut failures).await;

    println!("{}: group PATCH with {} members", database.name(), args.group_members);
    let group =
        group_patch(&ctx, &ids, args.group_members, &mut failures).await.context("step 4 (group PATCH)")?;

    let peak_rss_kib = proc_status_kib(server.pid(), "VmHWM")?;
    let log_lines = server.log_tail(usize::MAX);
    let log_tail = log_lines[log_lines.len().saturating_sub(5)..].to_vec();
    Ok(Report {
        database: database.name(),
        cores,
        concurrency: args.concurrency,
        users: args.users,
        body_limit,
        provision: creates,
        create_cpu,
        lookups,
        single_lookups,
        probes,
        group,
        idle_rss_kib,
        provisioned_rss_kib,
        peak_rss_kib,
        log_lines: log_lines.len(),
        log_tail,
        failures,
    })
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn print_phase(label: &str, phase: &PhaseStats, throughput: &str) {
    let max = phase.latencies.last().copied().unwrap_or_default();
    println!(
        "{label:<15}: {throughput:<34} p50 {:>7.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  errors {}",
        phase.percentile_ms(0.50),
        phase.percentile_ms(0.99),
        ms(max),
        phase.errors
    );
    for (message, count) in &phase.error_samples {
        println!("    {count} x {message}");
    }
}

fn print_report(r: &Report) {
    println!(
        "== guildhall scim bench: {} ({} cores, {} connections, {} users) ==",
        r.database, r.cores, r.concurrency, r.users
    );
    let p = &r.provision;
    print_phase(
        "POST /Users",
        p,
        &format!("{} created in {:.1} s: {}", p.successes, p.elapsed.as_secs_f64(), rate(p.rate())),
    );
    let l = &r.lookups;
    print_phase(
        "userName eq",
        l,
        &format!("{} in {:.1} s: {}", l.successes, l.elapsed.as_secs_f64(), rate(l.rate())),
    );
    let one = &r.single_lookups;
    print_phase(
        "  1 connection",
        one,
        &format!("{} in {:.1} s: {}", one.successes, one.elapsed.as_secs_f64(), rate(one.rate())),
    );
    let e = &r.probes.external_id;
    println!(
        "{:<15}: {} of {EXTERNAL_ID_PROBES} probes found their user  p50 {:.1} ms  max {:.1} ms",
        "externalId eq",
        e.len(),
        ms(percentile(e, 0.50)),
        ms(e.last().copied().unwrap_or_default())
    );
    println!("{:<15}: {:.1} ms", "no match", ms(r.probes.no_match));
    let g = &r.group;
    let verdict = if g.patch < PATCH_TARGET { "met" } else { "MISSED" };
    println!(
        "{:<15}: {} members in one request ({} KB) -> HTTP {} in {:.0} ms (target < {} ms: {verdict})",
        "group PATCH",
        g.members_sent,
        g.patch_bytes / 1000,
        g.patch_status.as_u16(),
        ms(g.patch),
        PATCH_TARGET.as_millis()
    );
    if let Some(limit) = r.body_limit {
        println!("    (server started with max_body_bytes = {limit}; the default is {DEFAULT_BODY_LIMIT})");
    }
    println!(
        "{:<15}: {} members read back ({} missing, {} unexpected) in {:.0} ms",
        "GET group",
        g.members_read,
        g.missing,
        g.unexpected,
        ms(g.read_full)
    );
    println!("{:<15}: {:.1} ms", "GET excl. mbrs", ms(g.read_excluded));
    println!(
        "{:<15}: idle {:.1} MiB RSS, after provisioning {:.1} MiB, peak {:.1} MiB",
        "server memory",
        mib(r.idle_rss_kib),
        mib(r.provisioned_rss_kib),
        mib(r.peak_rss_kib)
    );
    if r.log_lines > 0 {
        println!("server log     : {} warning/error lines; the last ones:", r.log_lines);
        for line in &r.log_tail {
            println!("    {line}");
        }
    }
    println!("-- summary --");
    println!("database       : {}", r.database);
    println!("users          : {}", r.users);
    println!("creates/s      : {}", number(p.rate()));
    println!("server CPU     : {:.2} ms per create", ms(r.create_cpu));
    println!("lookup p99     : {:.1} ms ({})", l.percentile_ms(0.99), rate(l.rate()));
    println!("lookup p99 (1) : {:.1} ms, one connection", one.percentile_ms(0.99));
    println!("{:<15}: {:.0} ms", format!("{} PATCH", group_label(g.members_sent)), ms(g.patch));
    println!("members        : {} of {}", g.members_read, g.members_sent);
    println!("server RSS     : peak {:.1} MiB", mib(r.peak_rss_kib));
    if r.failures.is_empty() {
        println!("checks         : all passed");
    } else {
        println!("checks         : {} FAILED", r.failures.len());
        for failure in &r.failures {
            println!("    {failure}");
        }
    }
}
