//! `plugins` mode: what WebAssembly plugins cost, with the example components
//! (`plugins/examples`, built for wasm32-wasip2 on first use).
//!
//! - Compilation, in the bench process with the server's default `[plugins]` host: `Host::load`
//!   on a fresh host without a disk cache (median of 5), then with a disk cache in a temporary
//!   directory: the first load compiles and writes `<sha256>-<engine>.cwasm`, a second host
//!   loads that file (median of 5 fresh hosts).
//! - Warm calls, in the bench process on one thread: `--calls` calls of the role-mapper example
//!   and of the Slack transform on one loaded plugin (each call instantiates afresh, as in the
//!   server), with p50/p99 and the fuel of a call.
//! - Sign-ins, against a release server: the `sso` mode's OIDC sign-ins (four hops, see
//!   `sso.rs`) with the provider as created, then with the role-mapper example uploaded to the
//!   org and attached to the provider, then detached again (a control for drift as the
//!   database grows). Each phase follows an untimed pass of one sign-in per user.
//! - SCIM pushes, on the same server: `--scim-members` directory users, then rounds that
//!   alternate without and with the role-mapper example as the org's SCIM role mapper; each
//!   round creates a group of all of them (one request, every member's role derived again) and
//!   deletes it. Also timed: naming the plugin, which derives every member's role at once.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::Args;
use guildhall_plugin_host::{
    Host, HostConfig, Plugin, PluginError, RoleInput, Run, Source, TransformInput, testing::example,
};
use guildhall_server::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    Database, error_of, percentile, server_binary, server_cpu,
    sso::{self, Ctx, Phase},
};

#[derive(Args)]
pub struct PluginsArgs {
    /// Warm calls timed per example plugin.
    #[arg(long, default_value_t = 10_000)]
    calls: usize,
    /// Timed OIDC sign-ins per phase (without, with and again without the role mapper).
    #[arg(long, default_value_t = 300)]
    signins: usize,
    /// Concurrent sign-in workers (and connections); also the number of users.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// PostgreSQL URL; when given, the sign-ins run on PostgreSQL after SQLite.
    #[arg(long, env = "GUILDHALL_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Skip the sign-ins and SCIM pushes (no server is started).
    #[arg(long)]
    no_signins: bool,
    /// Directory users pushed in one SCIM group per round.
    #[arg(long, default_value_t = 200)]
    scim_members: usize,
    /// SCIM rounds each way (without and with the role mapper, alternating).
    #[arg(long, default_value_t = 3)]
    scim_rounds: usize,
}

/// Loads timed per compile figure.
const COMPILE_SAMPLES: usize = 5;
const ROLE_MAPPER: &str = "role-mapper-example";
const TRANSFORM: &str = "slack-transform";

pub async fn run(args: PluginsArgs) -> Result<()> {
    if args.calls == 0
        || args.signins == 0
        || args.concurrency == 0
        || args.scim_members == 0
        || args.scim_rounds == 0
    {
        bail!("--calls, --signins, --concurrency, --scim-members and --scim-rounds must be at least 1");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mapper = read_example(ROLE_MAPPER)?;
    let transform = read_example(TRANSFORM)?;

    println!("== plugins: compilation (server default [plugins] host, {cores} cores) ==");
    for (name, bytes) in [(ROLE_MAPPER, &mapper), (TRANSFORM, &transform)] {
        let bytes = bytes.clone();
        let times = tokio::task::spawn_blocking(move || compile_times(&bytes)).await??;
        println!(
            "{name:<20} {:>4} KB   cold compile {:>6.1} ms (median of {COMPILE_SAMPLES}, {:.1}–{:.1})   \
             compile + write cache {:>6.1} ms   load from disk cache {:>5.2} ms (median of {COMPILE_SAMPLES})   \
             .cwasm {} KB",
            bytes_kb(times.size as u64),
            ms(times.cold_median),
            ms(times.cold_min),
            ms(times.cold_max),
            ms(times.first_with_cache),
            ms(times.from_disk_median),
            bytes_kb(times.cwasm_size),
        );
    }

    println!();
    println!("== plugins: warm calls in the bench process, one thread, {} calls each ==", args.calls);
    let calls = args.calls;
    let role = tokio::task::spawn_blocking(move || {
        let input = role_input();
        warm_calls(&mapper, calls, |p, limits| p.map_role(&input, limits))
    })
    .await??;
    print_calls(ROLE_MAPPER, "groups [acme-admins, engineering-core]", &role);
    let slack = tokio::task::spawn_blocking(move || {
        let input = transform_input();
        warm_calls(&transform, calls, |p, limits| p.transform(&input, limits))
    })
    .await??;
    print_calls(TRANSFORM, "member.created, 6 fields", &slack);

    if args.no_signins {
        return Ok(());
    }
    let binary = server_binary()?;
    let mut databases = vec![Database::Sqlite];
    if let Some(url) = args.database_url.clone().filter(|u| !u.is_empty()) {
        databases.push(Database::Postgres(url));
    }
    for database in &databases {
        println!();
        signins(&binary, database, &args).await.with_context(|| format!("{} sign-ins", database.name()))?;
    }
    Ok(())
}

fn read_example(name: &str) -> Result<Vec<u8>> {
    let path = example(name).with_context(|| format!("cannot find or build the example {name}"))?;
    std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Compilation
// ---------------------------------------------------------------------------------------------

struct CompileTimes {
    size: usize,
    cold_median: Duration,
    cold_min: Duration,
    cold_max: Duration,
    first_with_cache: Duration,
    from_disk_median: Duration,
    cwasm_size: u64,
}

/// The server's host configuration with its defaults, with or without a disk cache.
fn host_config(cache_dir: Option<&Path>) -> HostConfig {
    let mut config = guildhall_server::plugins::host_config(&Config::default(), false);
    config.cache_dir = cache_dir.map(Path::to_path_buf);
    config
}

/// `host.load` of `bytes` on a fresh host (its setup not timed).
fn timed_load(config: &HostConfig, bytes: &[u8]) -> Result<Duration> {
    let host = Host::new(config.clone())?;
    let started = Instant::now();
    host.load(bytes)?;
    Ok(started.elapsed())
}

fn compile_times(bytes: &[u8]) -> Result<CompileTimes> {
    let no_cache = host_config(None);
    let mut cold = (0..COMPILE_SAMPLES).map(|_| timed_load(&no_cache, bytes)).collect::<Result<Vec<_>>>()?;
    cold.sort_unstable();

    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let cached = host_config(Some(dir.path()));
    let first_with_cache = timed_load(&cached, bytes)?;
    let cwasm_size = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    if cwasm_size == 0 {
        bail!("the host with a cache directory wrote no .cwasm file");
    }
    let mut from_disk =
        (0..COMPILE_SAMPLES).map(|_| timed_load(&cached, bytes)).collect::<Result<Vec<_>>>()?;
    from_disk.sort_unstable();
    Ok(CompileTimes {
        size: bytes.len(),
        cold_median: percentile(&cold, 0.5),
        cold_min: percentile(&cold, 0.0),
        cold_max: percentile(&cold, 1.0),
        first_with_cache,
        from_disk_median: percentile(&from_disk, 0.5),
        cwasm_size,
    })
}

// ---------------------------------------------------------------------------------------------
// Warm calls
// ---------------------------------------------------------------------------------------------

fn role_input() -> RoleInput {
    RoleInput {
        org_slug: "acme".into(),
        source: Source::Oidc,
        subject: "00u1bench".into(),
        email: "ada@example.com".into(),
        groups: vec!["acme-admins".into(), "engineering-core".into()],
        attributes: [("department".to_string(), "Engineering".to_string())].into(),
    }
}

fn transform_input() -> TransformInput {
    TransformInput {
        event_type: "member.created".into(),
        payload: json!({
            "id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "type": "member.created",
            "org_id": "0190a1b2-0000-7000-8000-000000000001",
            "occurred_at": "2025-01-01T12:00:00Z",
            "data": { "user_id": "0190a1b2-0000-7000-8000-000000000002", "email": "ada@example.com" },
        }),
    }
}

struct Calls {
    /// Sorted.
    latencies: Vec<Duration>,
    elapsed: Duration,
    fuel_min: u64,
    fuel_max: u64,
    output: Value,
}

/// `calls` calls of one loaded plugin after one untimed call, each timed from the outside.
fn warm_calls<O: serde::Serialize>(
    bytes: &[u8],
    calls: usize,
    call: impl Fn(&Plugin, &guildhall_plugin_host::Limits) -> Result<Run<O>, PluginError>,
) -> Result<Calls> {
    let host = Host::new(host_config(None))?;
    let plugin = host.load(bytes)?;
    let limits = host.limits().clone();
    let first = call(&plugin, &limits)?;
    let output = serde_json::to_value(&first.output)?;
    let mut latencies = Vec::with_capacity(calls);
    let (mut fuel_min, mut fuel_max) = (u64::MAX, 0);
    let started = Instant::now();
    for _ in 0..calls {
        let sent = Instant::now();
        let run = call(&plugin, &limits)?;
        latencies.push(sent.elapsed());
        fuel_min = fuel_min.min(run.fuel_used);
        fuel_max = fuel_max.max(run.fuel_used);
        std::hint::black_box(run.output);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Calls { latencies, elapsed, fuel_min, fuel_max, output })
}

fn print_calls(name: &str, input: &str, calls: &Calls) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let fuel = if calls.fuel_min == calls.fuel_max {
        format!("{}", calls.fuel_min)
    } else {
        format!("{}–{}", calls.fuel_min, calls.fuel_max)
    };
    println!(
        "{name:<20} p50 {:>6.1} µs  p99 {:>6.1} µs  {:>7.0} calls/s   fuel {fuel}/call   ({input})",
        us(percentile(&calls.latencies, 0.50)),
        us(percentile(&calls.latencies, 0.99)),
        calls.latencies.len() as f64 / calls.elapsed.as_secs_f64().max(1e-9),
    );
    let output = calls.output.to_string();
    let output: String = output.chars().take(160).collect();
    println!("{:<20} output {output}", "");
}

// ---------------------------------------------------------------------------------------------
// Sign-ins with and without a role mapper
// ---------------------------------------------------------------------------------------------

async fn signins(binary: &Path, database: &Database, args: &PluginsArgs) -> Result<()> {
    let users = args.concurrency.min(args.signins);
    let sso::OidcOrg { server, ctx, access, org } =
        sso::start_oidc_org(binary, database, args.concurrency).await?;
    let pid = server.pid();
    let ctx = Arc::new(ctx);
    // Each phase: an untimed pass (the first one creates the accounts by JIT), then the timed one.
    let phase = |label: &'static str| {
        let ctx = ctx.clone();
        async move {
            let warm = sso::oidc_signins(&ctx, pid, users, users, args.concurrency, true).await?;
            if warm.errors > 0 {
                bail!(
                    "{label}: {} of {users} warm-up sign-ins failed: {:?}",
                    warm.errors,
                    warm.error_samples
                );
            }
            sso::oidc_signins(&ctx, pid, args.signins, users, args.concurrency, false).await
        }
    };
    println!(
        "== plugins: OIDC sign-ins on {} ({} timed per phase, {} workers, {users} users) ==",
        database.name(),
        args.signins,
        args.concurrency
    );
    println!("server binary: {}", binary.display());
    let without = phase("without a plugin").await?;
    print_phase("without a role mapper", &without);

    let bytes = read_example(ROLE_MAPPER)?;
    let plugin_id = match upload(&ctx, &access, &org, &bytes).await? {
        Uploaded::Id(id) => id,
        Uploaded::NoEndpoint(status) => {
            println!(
                "with a role mapper: skipped: the server has no plugin upload endpoint yet (HTTP {status})"
            );
            return check(&[&without]);
        }
    };
    attach(&ctx, &access, &org, Some(&plugin_id)).await?;
    let with = phase("with the role mapper").await?;
    print_phase("with role-mapper-example", &with);
    print_runs(&ctx, &access, &org, &plugin_id).await?;
    attach(&ctx, &access, &org, None).await?;
    let again = phase("without a plugin again").await?;
    print_phase("without, again (control)", &again);

    let p50 = |p: &Phase| ms(percentile(&p.totals, 0.50));
    let baseline_p50 = (p50(&without) + p50(&again)) / 2.0;
    let baseline_cpu = (without.cpu_ms_per_signin() + again.cpu_ms_per_signin()) / 2.0;
    println!(
        "role mapper adds: p50 {:+.2} ms, server CPU {:+.3} ms/sign-in (against the mean of both runs without)",
        p50(&with) - baseline_p50,
        with.cpu_ms_per_signin() - baseline_cpu
    );
    check(&[&without, &with, &again])?;
    println!();
    scim_pushes(&ctx, pid, &access, &org, &plugin_id, args).await
}

// SCIM pushes with and without the org's SCIM role mapper
// ---------------------------------------------------------------------------------------------

/// A request the bench makes with the owner's or the SCIM token, which must answer `want`.
async fn call(req: reqwest::RequestBuilder, want: StatusCode, what: &str) -> Result<Value> {
    let resp = req.send().await.with_context(|| what.to_string())?;
    if resp.status() != want {
        bail!("{what}: expected {want}, got {}", error_of(resp).await);
    }
    Ok(resp.json().await.unwrap_or(Value::Null))
}

async fn scim_pushes(
    ctx: &Ctx,
    pid: u32,
    access: &str,
    org: &str,
    plugin_id: &str,
    args: &PluginsArgs,
) -> Result<()> {
    let members = args.scim_members;
    let issue = ctx.client.post(ctx.url(&format!("/api/v1/orgs/{org}/scim/token"))).bearer_auth(access);
    let token = call(issue, StatusCode::CREATED, "issuing a SCIM token").await?;
    let token = token["token"].as_str().context("no SCIM token")?.to_string();
    let mut ids = Vec::with_capacity(members);
    for i in 0..members {
        let email = format!("dir{i}@example.com");
        let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email,
            "emails": [{ "value": email, "primary": true }], "externalId": format!("ext-{i}") });
        let req = ctx.client.post(ctx.url("/scim/v2/Users")).bearer_auth(&token).json(&body);
        let user = call(req, StatusCode::CREATED, "creating a SCIM user").await?;
        ids.push(json!({ "value": user["id"].as_str().context("no SCIM id")? }));
    }
    let mapping = json!({ "group": "re:.*-admins", "role": "admin" });
    let req =
        ctx.client.post(ctx.url(&format!("/api/v1/orgs/{org}/group-role-mappings"))).bearer_auth(access);
    call(req.json(&mapping), StatusCode::CREATED, "mapping *-admins to admin").await?;
    println!(
        "== plugins: SCIM pushes ({members} members in one group per round, {} rounds each way, alternating) ==",
        args.scim_rounds
    );
    let setting = ctx.url(&format!("/api/v1/orgs/{org}/group-role-mappings/plugin"));
    let mut totals: [(Duration, Duration); 2] = Default::default();
    for round in 0..args.scim_rounds * 2 {
        let with = round % 2 == 1;
        let plugin = if with { json!(plugin_id) } else { Value::Null };
        let cpu_before = server_cpu(pid)?;
        let started = Instant::now();
        let req = ctx.client.put(&setting).bearer_auth(access).json(&json!({ "plugin_id": plugin }));
        call(req, StatusCode::OK, "setting the SCIM role mapper").await?;
        if round == 1 {
            println!(
                "naming the plugin (derives all {members} members): {:.1} ms, server CPU {:.1} ms",
                ms(started.elapsed()),
                ms(server_cpu(pid)?.saturating_sub(cpu_before))
            );
        }
        let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": format!("round{round}-admins"), "members": ids });
        let cpu_before = server_cpu(pid)?;
        let started = Instant::now();
        let req = ctx.client.post(ctx.url("/scim/v2/Groups")).bearer_auth(&token).json(&body);
        let group = call(req, StatusCode::CREATED, "pushing a SCIM group").await?;
        let (wall, cpu) = (started.elapsed(), server_cpu(pid)?.saturating_sub(cpu_before));
        totals[usize::from(with)].0 += wall;
        totals[usize::from(with)].1 += cpu;
        let path = format!("/scim/v2/Groups/{}", group["id"].as_str().context("no group id")?);
        let req = ctx.client.delete(ctx.url(&path)).bearer_auth(&token);
        call(req, StatusCode::NO_CONTENT, "deleting the SCIM group").await?;
    }
    let rounds = u32::try_from(args.scim_rounds).unwrap_or(u32::MAX);
    let per_member = |d: Duration| ms(d / rounds) * 1e3 / members as f64;
    for (label, (wall, cpu)) in
        [("without a role mapper", totals[0]), ("with role-mapper-example", totals[1])]
    {
        println!(
            "{label:<26} push {:>7.1} ms   server CPU {:>7.1} ms   = {:>6.0} µs CPU per member",
            ms(wall / rounds),
            ms(cpu / rounds),
            per_member(cpu)
        );
    }
    println!(
        "the SCIM role mapper adds {:+.0} µs of server CPU per member whose role is derived",
        per_member(totals[1].1) - per_member(totals[0].1)
    );
    print_runs(ctx, access, org, plugin_id).await
}

fn check(phases: &[&Phase]) -> Result<()> {
    if phases.iter().any(|p| p.successes() == 0) {
        bail!("a phase had not a single successful sign-in");
    }
    Ok(())
}

fn print_phase(label: &str, p: &Phase) {
    println!(
        "{label:<26} {:>6.1}/s   p50 {:>6.1} ms  p99 {:>6.1} ms   callback p50 {:>6.1} ms   \
         server CPU {:.2} ms/sign-in   errors {}",
        p.rate(),
        ms(percentile(&p.totals, 0.50)),
        ms(percentile(&p.totals, 0.99)),
        ms(percentile(&p.hops, 0.50)),
        p.cpu_ms_per_signin(),
        p.errors
    );
    for (message, count) in &p.error_samples {
        println!("    {count} x {message}");
    }
}

enum Uploaded {
    Id(String),
    /// The server answered 404 or 405: it has no upload endpoint.
    NoEndpoint(StatusCode),
}

/// `POST /api/v1/orgs/{org}/plugins?name=…` with the component as the body.
async fn upload(ctx: &Ctx, access: &str, org: &str, bytes: &[u8]) -> Result<Uploaded> {
    let path = format!("/api/v1/orgs/{org}/plugins?name={ROLE_MAPPER}");
    let resp = ctx
        .client
        .post(ctx.url(&path))
        .bearer_auth(access)
        .header("content-type", "application/wasm")
        .body(bytes.to_vec())
        .send()
        .await
        .context("plugin upload")?;
    let status = resp.status();
    if matches!(status, StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED) {
        return Ok(Uploaded::NoEndpoint(status));
    }
    if status != StatusCode::CREATED {
        bail!("POST {path}: expected 201, got {}", error_of(resp).await);
    }
    let body: Value = resp.json().await.context("the upload's answer is not JSON")?;
    if body["world"] != "role-mapper" {
        bail!("the upload answered world {} rather than role-mapper: {body}", body["world"]);
    }
    Ok(Uploaded::Id(body["id"].as_str().context("the upload's answer has no id")?.to_string()))
}

/// Replaces the OIDC provider with its creation body, with `role_mapper_plugin_id` or without
/// (which detaches the plugin).
async fn attach(ctx: &Ctx, access: &str, org: &str, plugin_id: Option<&str>) -> Result<()> {
    let path = format!("/api/v1/orgs/{org}/sso/providers/{}", ctx.oidc_provider);
    let mut body = sso::oidc_provider_body(&ctx.issuer);
    if let Some(id) = plugin_id {
        body["role_mapper_plugin_id"] = json!(id);
    }
    let resp = ctx.client.put(ctx.url(&path)).bearer_auth(access).json(&body).send().await?;
    if !resp.status().is_success() {
        bail!("PUT {path}: {}", error_of(resp).await);
    }
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if answer.get("role_mapper_plugin_id").is_some_and(|id| id.as_str() != plugin_id) {
        bail!("PUT {path} answered role_mapper_plugin_id {}", answer["role_mapper_plugin_id"]);
    }
    Ok(())
}

/// The server's record of the newest calls (one page of 200): outcomes, time and fuel, which
/// shows the sign-ins really ran the plugin.
async fn print_runs(ctx: &Ctx, access: &str, org: &str, plugin_id: &str) -> Result<()> {
    let path = format!("/api/v1/orgs/{org}/plugins/{plugin_id}/runs?limit=200");
    let resp = ctx.client.get(ctx.url(&path)).bearer_auth(access).send().await?;
    if !resp.status().is_success() {
        bail!("GET {path}: {}", error_of(resp).await);
    }
    let page: Value = resp.json().await.context("the runs page is not JSON")?;
    let runs = page["data"].as_array().context("the runs page has no data")?;
    let mut outcomes: Vec<(String, usize)> = Vec::new();
    for run in runs {
        let outcome = run["outcome"].as_str().unwrap_or("?").to_string();
        match outcomes.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => *n += 1,
            None => outcomes.push((outcome, 1)),
        }
    }
    let mut durations: Vec<Duration> =
        runs.iter().filter_map(|r| r["duration_us"].as_u64()).map(Duration::from_micros).collect();
    durations.sort_unstable();
    let mut fuel: Vec<u64> = runs.iter().filter_map(|r| r["fuel_used"].as_u64()).collect();
    fuel.sort_unstable();
    let outcomes: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} x{n}")).collect();
    println!(
        "  the server's runs record (newest {}{}): {}; call p50 {:.0} µs, p99 {:.0} µs; fuel p50 {}",
        runs.len(),
        if page["has_more"] == true { ", more" } else { "" },
        outcomes.join(", "),
        percentile(&durations, 0.50).as_secs_f64() * 1e6,
        percentile(&durations, 0.99).as_secs_f64() * 1e6,
        fuel.get(fuel.len() / 2).copied().unwrap_or(0),
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn bytes_kb(n: u64) -> String {
    format!("{:.0}", n as f64 / 1000.0)
}
