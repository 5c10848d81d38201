//! Webhook delivery across process boundaries, with the real `guildhall` binary: a node killed
//! mid-delivery (SIGKILL) loses no event, and two nodes on one PostgreSQL database never send
//! one attempt twice.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

mod support;

use support::{Server as Node, free_port, guildhall, wait_ready};

/// Starts a node serving on `port`, with `env` on top of the test settings.
fn start(data: &std::path::Path, port: u16, env: &[(&str, String)]) -> Node {
    let mut cmd = guildhall(data);
    cmd.env("GUILDHALL_OUTBOUND__ALLOW_PRIVATE_NETWORKS", "true")
        .env("GUILDHALL_OUTBOUND__ALLOW_HTTP", "true")
        .env("GUILDHALL_WEBHOOKS__POLL_INTERVAL_MS", "20")
        .env("GUILDHALL_WEBHOOKS__TIMEOUT_SECONDS", "2");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let child = cmd
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let node = Node(child);
    wait_ready(&format!("http://127.0.0.1:{port}"));
    node
}

/// A receiver on loopback that counts each `webhook-id` as it arrives and answers 200 after
/// `delay`; the first `held` requests it holds for `hold` instead (in flight when a node dies).
struct Receiver {
    url: String,
    seen: Arc<Mutex<HashMap<String, usize>>>,
    order: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start(delay: Duration) -> Self {
        Self::holding(0, Duration::ZERO, delay)
    }

    fn holding(held: usize, hold: Duration, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counts = seen.clone();
        let order: Arc<Mutex<Vec<String>>> = Arc::default();
        let arrivals = order.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = counts.clone();
                let arrivals = arrivals.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    let (mut id, mut length) = (String::new(), 0usize);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("webhook-id:") {
                            id = v.trim().to_string();
                        } else if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    let nth = {
                        let mut arrivals = arrivals.lock().unwrap();
                        arrivals.push(id.clone());
                        arrivals.len()
                    };
                    if !id.is_empty() {
                        *counts.lock().unwrap().entry(id).or_default() += 1;
                    }
                    std::thread::sleep(if nth <= held { hold } else { delay });
                    let mut stream = reader.into_inner();
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                });
            }
        });
        Self { url, seen, order }
    }

    fn seen(&self) -> HashMap<String, usize> {
        self.seen.lock().unwrap().clone()
    }

    fn wait_for(&self, distinct: usize, within: Duration) -> HashMap<String, usize> {
        let deadline = Instant::now() + within;
        loop {
            let seen = self.seen();
            if seen.len() >= distinct || Instant::now() > deadline {
                return seen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

struct Api {
    base: String,
    token: String,
    org: String,
    http: reqwest::blocking::Client,
}

impl Api {
    fn signup(port: u16) -> Self {
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::new();
        let body: Value = http
            .post(format!("{base}/api/v1/auth/signup"))
            .json(&json!({ "email": "owner@example.com", "password": "correct horse battery staple" }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = body["access_token"].as_str().unwrap().to_string();
        let org = body["org"]["id"].as_str().unwrap().to_string();
        Self { base, token, org, http }
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let resp = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().unwrap_or(Value::Null)
    }

    fn subscribe(&self, url: &str) {
        let path = format!("/api/v1/orgs/{}/webhooks", self.org);
        self.send(reqwest::Method::POST, &path, json!({ "url": url, "event_types": ["org.updated"] }));
    }

    fn rename(&self, name: &str) {
        let path = format!("/api/v1/orgs/{}", self.org);
        self.send(reqwest::Method::PATCH, &path, json!({ "name": name }));
    }

    /// The ids of the org's `org.updated` events, from the Events API.
    fn event_ids(&self) -> Vec<String> {
        let path = format!("/api/v1/orgs/{}/events?types=org.updated&limit=500", self.org);
        let page = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().unwrap();
        let page: Value = page.json().unwrap();
        page["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
    }
}

#[test]
fn a_node_killed_mid_delivery_loses_no_event() {
    const EVENTS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // The first deliveries hang until well after the node is gone.
    let receiver = Receiver::holding(3, Duration::from_secs(30), Duration::from_millis(10));
    let mut node = start(dir.path(), port, &[]);
    let api = Api::signup(port);
    api.subscribe(&receiver.url);
    for i in 0..EVENTS {
        api.rename(&format!("Name {i}"));
    }
    // Deliveries are in flight (held by the receiver) when the process dies (SIGKILL).
    receiver.wait_for(3, Duration::from_secs(20));
    let in_flight: Vec<String> = receiver.order.lock().unwrap().iter().take(3).cloned().collect();
    node.0.kill().unwrap();
    node.0.wait().unwrap();
    assert!(receiver.seen().len() < EVENTS, "the kill came too late to test anything");

    let _node = start(dir.path(), port, &[]);
    let ids = api.event_ids();
    assert_eq!(ids.len(), EVENTS);
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let seen = receiver.seen();
        let done = ids.iter().all(|id| seen.contains_key(id)) && in_flight.iter().all(|id| seen[id] >= 2);
        if done || Instant::now() > deadline {
            break seen;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for id in &ids {
        assert!(seen.contains_key(id), "event {id} never arrived ({} of {EVENTS} did)", seen.len());
    }
    // What the dead node had in flight was sent again once its lease ran out: at least once,
    // with the same `webhook-id` for the receiver to de-duplicate.
    for id in &in_flight {
        assert!(seen.get(id).copied().unwrap_or(0) >= 2, "in-flight event {id} was not sent again: {seen:?}");
    }
}

#[test]
fn two_nodes_on_one_postgresql_never_send_an_attempt_twice() {
    let Ok(url) = std::env::var("GUILDHALL_TEST_DATABASE_URL") else { return };
    if url.is_empty() {
        return;
    }
    const EVENTS: usize = 60;
    let schema = format!("t_{}", uuid_like());
    let shared = [
        ("GUILDHALL_DATABASE_URL", url.clone()),
        ("GUILDHALL_DATABASE_SCHEMA", schema),
        ("GUILDHALL_MASTER_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string()),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let receiver = Receiver::start(Duration::from_millis(20));
    let _a = start(dir_a.path(), port_a, &shared);
    let _b = start(dir_b.path(), port_b, &shared);
    let api = Api::signup(port_a);
    api.subscribe(&receiver.url);
    for i in 0..EVENTS {
        api.rename(&format!("Name {i}"));
    }
    let seen = receiver.wait_for(EVENTS, Duration::from_secs(60));
    assert_eq!(seen.len(), EVENTS, "every event arrived");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "attempts made twice: {twice:?}");
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos:x}{}", std::process::id())
}
