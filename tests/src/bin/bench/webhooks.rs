//! `webhooks` mode: what the outbox and webhook delivery cost and how fast they go. One org, one
//! SCIM token; `--creates` SCIM user creates without any webhook endpoint, then as many again
//! with one endpoint subscribed to `scim.user.created` on a loopback receiver. Reported: creates/s
//! and the server's own CPU time per create in both runs (from `/proc/<pid>/stat`, so a load
//! generator sharing the cores does not blur it), deliveries/s, and the latency from a create's
//! answer to its event's arrival at the receiver (p50/p99).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use clap::Args;
use poem::{
    EndpointExt, Server as HttpServer, handler,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use serde_json::{Value, json};

use super::{
    Database, error_of, percentile, server_binary, server_cpu, sign_up_owner, start_server, wait_ready,
};

#[derive(Args)]
pub struct WebhooksArgs {
    /// PostgreSQL URL; when given, the bench runs on PostgreSQL after SQLite.
    #[arg(long, env = "GUILDHALL_BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// SCIM user creates per run (with and without the endpoint).
    #[arg(long, default_value_t = 3000)]
    creates: usize,
    /// Concurrent workers (and connections).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// The server's `webhooks.poll_interval_ms` (its default is 250).
    #[arg(long, default_value_t = 250)]
    poll_ms: u64,
}

pub async fn run(args: WebhooksArgs) -> Result<()> {
    if args.creates == 0 || args.concurrency == 0 {
        bail!("--creates and --concurrency must be at least 1");
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

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// Creates in the calm-pace latency phase.
const PACED: usize = 200;

#[handler]
async fn receive(body: Vec<u8>, arrivals: Data<&Arrivals>) -> &'static str {
    let at = Instant::now();
    if let Ok(event) = serde_json::from_slice::<Value>(&body)
        && let Some(scim_id) = event["data"]["scim_id"].as_str()
    {
        arrivals.lock().expect("arrivals").insert(scim_id.to_string(), at);
    }
    "ok"
}

struct Run {
    rate: f64,
    cpu_per_create: Duration,
    answered: HashMap<String, Instant>,
    started: Instant,
}

async fn creates(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    pid: u32,
    args: &WebhooksArgs,
    tag: &str,
) -> Result<Run> {
    let cpu_before = server_cpu(pid)?;
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let answered: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, base, token, next, answered) =
            (client.clone(), base.to_string(), token.to_string(), next.clone(), answered.clone());
        let (total, tag) = (args.creates, tag.to_string());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return Ok::<_, anyhow::Error>(());
                }
                let user = format!("{tag}-{i}@bench.example");
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user,
                    "emails": [{ "value": user, "primary": true }],
                    "active": true,
                });
                let resp = client
                    .post(format!("{base}/scim/v2/Users"))
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(body.to_string())
                    .send()
                    .await?;
                if !resp.status().is_success() {
                    bail!("create {i}: {}", error_of(resp).await);
                }
                let at = Instant::now();
                let created: Value = resp.json().await?;
                let id = created["id"].as_str().unwrap_or_default().to_string();
                answered.lock().expect("answered").insert(id, at);
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed();
    let cpu = server_cpu(pid)?.saturating_sub(cpu_before);
    let answered = std::mem::take(&mut *answered.lock().expect("answered"));
    Ok(Run {
        rate: args.creates as f64 / elapsed.as_secs_f64(),
        cpu_per_create: cpu / u32::try_from(args.creates).unwrap_or(u32::MAX),
        answered,
        started,
    })
}

async fn bench_database(binary: &std::path::Path, database: &Database, args: &WebhooksArgs) -> Result<()> {
    let arrivals: Arrivals = Arc::default();
    let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await?;
    let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).context("receiver address")?;
    let app = receive.data(arrivals.clone());
    let receiver = tokio::spawn(async move { HttpServer::new_with_acceptor(acceptor).run(app).await });

    let env = [
        ("GUILDHALL_OUTBOUND__ALLOW_PRIVATE_NETWORKS", "true".to_string()),
        ("GUILDHALL_OUTBOUND__ALLOW_HTTP", "true".to_string()),
        ("GUILDHALL_WEBHOOKS__POLL_INTERVAL_MS", args.poll_ms.to_string()),
        ("GUILDHALL_MAX_BODY_BYTES", (1 << 20).to_string()),
    ];
    let mut server = start_server(binary, database, &env)?;
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
    wait_ready(&mut server, &client).await?;
    let pid = server.pid();
    let base = server.url("");
    let (access, org) = sign_up_owner(&client, &base, "owner@bench.example").await?;
    let scim: Value = client
        .post(format!("{base}/api/v1/orgs/{org}/scim/token"))
        .bearer_auth(&access)
        .send()
        .await?
        .json()
        .await?;
    let scim = scim["token"].as_str().context("scim token")?.to_string();

    let without = creates(&client, &base, &scim, pid, args, "plain").await?;
    let hook = client
        .post(format!("{base}/api/v1/orgs/{org}/webhooks"))
        .bearer_auth(&access)
        .json(&json!({ "url": format!("http://{addr}/hook"), "event_types": ["scim.user.created"] }))
        .send()
        .await?;
    if !hook.status().is_success() {
        bail!("creating the endpoint: {}", error_of(hook).await);
    }
    let cpu_before = server_cpu(pid)?;
    let with = creates(&client, &base, &scim, pid, args, "hooked").await?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while arrivals.lock().expect("arrivals").len() < args.creates {
        if Instant::now() > deadline {
            bail!("only {} of {} deliveries arrived", arrivals.lock().expect("arrivals").len(), args.creates);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cpu_total = server_cpu(pid)?.saturating_sub(cpu_before);
    let arrivals_now = arrivals.clone();
    let arrivals = std::mem::take(&mut *arrivals.lock().expect("arrivals"));
    let last = arrivals.values().max().copied().unwrap_or_else(Instant::now);
    let mut latencies: Vec<Duration> = with
        .answered
        .iter()
        .filter_map(|(id, answered)| {
            arrivals.get(id).map(|arrived| arrived.saturating_duration_since(*answered))
        })
        .collect();
    latencies.sort_unstable();
    let span = last.saturating_duration_since(with.started);

    // At a calm pace (one create every 20 ms, one connection) the latency is the pipeline's own:
    // the poll interval, the claim, the HTTP call.
    let mut paced = Vec::new();
    for i in 0..PACED {
        let user = format!("paced-{i}@bench.example");
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user,
            "emails": [{ "value": user, "primary": true }],
        });
        let resp = client
            .post(format!("{base}/scim/v2/Users"))
            .bearer_auth(&scim)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await?;
        let answered = Instant::now();
        let created: Value = resp.json().await?;
        paced.push((created["id"].as_str().unwrap_or_default().to_string(), answered));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut calm: Vec<Duration> = loop {
        let got = arrivals_now.lock().expect("arrivals").clone();
        if paced.iter().all(|(id, _)| got.contains_key(id)) || Instant::now() > deadline {
            break paced
                .iter()
                .filter_map(|(id, answered)| got.get(id).map(|at| at.saturating_duration_since(*answered)))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    calm.sort_unstable();
    receiver.abort();

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let per = |d: Duration| ms(d) / args.creates as f64;
    println!(
        "== webhooks on {} ({} creates, {} workers, poll {} ms)",
        database.name(),
        args.creates,
        args.concurrency,
        args.poll_ms
    );
    println!(
        "SCIM creates without an endpoint   {:>8.0}/s   server CPU {:.2} ms/create",
        without.rate,
        ms(without.cpu_per_create)
    );
    println!(
        "SCIM creates with one endpoint     {:>8.0}/s   server CPU {:.2} ms/create (creates only)",
        with.rate,
        ms(with.cpu_per_create)
    );
    println!("  ... and delivering them too      server CPU {:.2} ms/create+delivery", per(cpu_total));
    println!(
        "deliveries                          {:>8.0}/s   (first create to last arrival: {:.1} s)",
        args.creates as f64 / span.as_secs_f64(),
        span.as_secs_f64()
    );
    println!(
        "create answered -> event received  p50 {:.0} ms   p99 {:.0} ms   max {:.0} ms (under full load)",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "                                   p50 {:.0} ms   p99 {:.0} ms   ({} of {PACED} creates 20 ms apart)",
        ms(percentile(&calm, 0.50)),
        ms(percentile(&calm, 0.99)),
        calm.len()
    );
    Ok(())
}
