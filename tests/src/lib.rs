//! Test support: start the real Guildhall server in-process on an ephemeral loopback port, on a
//! fresh SQLite database, or on a fresh PostgreSQL schema when `GUILDHALL_TEST_DATABASE_URL` is
//! set, and talk HTTP to it.

pub mod browser;
pub mod dns;
pub mod oidc_issuer;
pub mod receiver;
pub mod saml_idp;

use std::sync::Arc;

use guildhall_server::{
    RunningServer,
    clock::{ManualClock, SharedClock},
    config::{Config, PasswordConfig},
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use guildhall_server;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub server: RunningServer,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The database URL and schema for one test server.
pub fn test_database() -> (String, String) {
    match std::env::var("GUILDHALL_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => (url, format!("t_{}", uuid::Uuid::new_v4().simple())),
        _ => (String::new(), String::new()),
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `adjust` has changed the test configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, database_schema) = test_database();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url,
            database_schema,
            database_max_connections: 8,
            bind: "127.0.0.1:0".parse().expect("addr"),
            // Cheap hashes keep the suite fast; the bench measures the real parameters.
            passwords: PasswordConfig {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
                max_concurrent_hashes: 4,
            },
            max_body_bytes: 64 * 1024,
            ..Config::default()
        };
        adjust(&mut config);
        config.validate().expect("valid test configuration");
        let clock = Arc::new(ManualClock::default());
        let shared: SharedClock = clock.clone();
        let server = RunningServer::start(config, shared).await.expect("server starts");
        let base = format!("http://{}", server.addr);
        Self { base, clock, server, http: reqwest::Client::new(), _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// An unauthenticated client.
    pub fn anon(&self) -> Client {
        Client { base: self.base.clone(), http: self.http.clone(), token: None }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { base: self.base.clone(), http: self.http.clone(), token: Some(token.to_string()) }
    }

    /// Signs up `email` and returns a client holding its access token, plus the response body.
    pub async fn signup(&self, email: &str) -> (Client, Value) {
        let resp =
            self.anon().post("/api/v1/auth/signup", &json!({ "email": email, "password": PASSWORD })).await;
        assert_eq!(resp.status, StatusCode::CREATED, "signup {email}: {}", resp.body);
        let token = resp.body["access_token"].as_str().expect("access_token").to_string();
        (self.with_token(&token), resp.body)
    }

    /// A server with its first user (an instance admin).
    pub async fn with_admin() -> (Self, Client) {
        let server = Self::start().await;
        let (admin, _) = server.signup("admin@example.com").await;
        (server, admin)
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.anon().post("/api/v1/auth/login", &json!({ "email": email, "password": password })).await
    }

    /// Signs up `email` (with an org of their own), has `owner` invite them to `org` with `role`,
    /// accepts the mailed invitation, and returns a client whose active org is `org`, plus the
    /// new user's id.
    pub async fn member_of(&self, owner: &Client, org: &str, email: &str, role: &str) -> (Client, String) {
        let (client, body) = self.signup(email).await;
        let user_id = body["user"]["id"].as_str().expect("user id").to_string();
        self.invite_and_accept(owner, &client, org, email, role).await;
        let selected = client.post_empty(&format!("/api/v1/orgs/{org}/select")).await;
        let token = selected.expect(200)["access_token"].as_str().expect("access_token").to_string();
        (self.with_token(&token), user_id)
    }

    /// Lists `domain` for `org` and verifies it by hand; `admin` must be an instance admin (the
    /// first account of a server is) with `domains:write` in `org`.
    pub async fn verify_domain(&self, admin: &Client, org: &str, domain: &str) {
        let path = format!("/api/v1/orgs/{org}/email-domains");
        admin.post(&path, &json!({ "domain": domain })).await.expect(201);
        admin.post(&format!("{path}/{domain}/verify"), &json!({ "method": "manual" })).await.expect(200);
    }

    /// `owner` invites `email` to `org` as `role`, and `invitee` (signed in as `email`) accepts.
    pub async fn invite_and_accept(
        &self,
        owner: &Client,
        invitee: &Client,
        org: &str,
        email: &str,
        role: &str,
    ) {
        let invited = owner
            .post(&format!("/api/v1/orgs/{org}/invitations"), &json!({ "email": email, "role": role }))
            .await;
        invited.expect(201);
        let token = self.token_mailed_to(email, "gh_inv_").expect("an invitation mailed");
        invitee.post("/api/v1/invitations/accept", &json!({ "token": token })).await.expect(200);
    }

    /// The messages the file mail transport wrote to `to`, oldest first, with quoted-printable
    /// soft line breaks undone.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let dir = self._dir.path().join("mail");
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| {
                        let modified = e.metadata().and_then(|m| m.modified()).ok()?;
                        let text = std::fs::read_to_string(e.path()).ok()?;
                        Some((modified, text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")))
                    })
                    .collect()
            })
            .unwrap_or_default();
        mails.sort_by_key(|(t, _)| *t);
        mails
            .into_iter()
            .map(|(_, m)| m)
            .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(to)))
            .collect()
    }

    /// The newest token with `prefix` mailed to `to`.
    pub fn token_mailed_to(&self, to: &str, prefix: &str) -> Option<String> {
        let mails = self.mails_to(to);
        let mail = mails.last()?;
        let start = mail.rfind(prefix)?;
        let token: String = mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        Some(token)
    }

    /// The server's database, for tests that tamper with rows directly.
    pub fn db(&self) -> &guildhall_server::db::Db {
        &self.server.state.db
    }
}

/// An HTTP client bound to one server and, optionally, one bearer token.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

/// A response: status, headers and the body as JSON (or `Value::Null` when it is not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with `status` and returns its `code`.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "expected {status}, got {}: {}", self.status, self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "problem content type: {}",
            self.text
        );
        assert_eq!(self.body["status"], json!(status), "{}", self.text);
        assert!(self.body["request_id"].is_string(), "problem has a request id: {}", self.text);
        self.body["code"].as_str().unwrap_or_default().to_string()
    }

    /// The first field named in a validation problem.
    pub fn field(&self) -> Option<&str> {
        self.body["errors"][0]["field"].as_str()
    }

    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "expected {status}, got {}: {}", self.status, self.text);
        &self.body
    }
}

impl Client {
    pub fn with_token(&self, token: &str) -> Client {
        Client { token: Some(token.to_string()), ..self.clone() }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<(&str, Vec<u8>)>) -> Resp {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some((content_type, bytes)) = body {
            req = req.header("content-type", content_type).body(bytes);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, text, body }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(("application/json", body.to_string().into_bytes()))).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PUT, path, Some(("application/json", body.to_string().into_bytes()))).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, path, Some(("application/json", body.to_string().into_bytes()))).await
    }

    /// Posts raw bytes with a content type, for malformed-input tests.
    pub async fn post_raw(&self, path: &str, content_type: &str, bytes: impl Into<Vec<u8>>) -> Resp {
        self.send(Method::POST, path, Some((content_type, bytes.into()))).await
    }

    /// Sends JSON with extra headers (`If-Match`, `If-None-Match`, ...).
    pub async fn send_json_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/scim+json").body(body.to_string());
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, text, body }
    }

    pub async fn post_empty(&self, path: &str) -> Resp {
        self.send(Method::POST, path, None).await
    }
}
