//! A webhook receiver on loopback for tests: records every request and answers from a script
//! (status, delay, headers), 200 once the script runs out. Signatures are checked here with the
//! Standard Webhooks algorithm, written independently of the server's code.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use poem::{
    EndpointExt, Request, Response, Server, handler,
    http::StatusCode,
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use serde_json::Value;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self { status, delay: Duration::ZERO, headers: Vec::new() }
    }

    /// Answers 200 only after `delay` (longer than the server's timeout: a timeout).
    pub fn slow(delay: Duration) -> Self {
        Self { status: 200, delay, headers: Vec::new() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub raw: Vec<u8>,
    pub body: Value,
    /// Every header, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn event_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }

    /// Whether one of the space-separated `v1,` signatures was made with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let key = STANDARD.decode(secret.trim_start_matches("whsec_")).expect("secret is base64");
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        let mut signed = format!("{}.{}.", self.id, self.timestamp).into_bytes();
        signed.extend_from_slice(&self.raw);
        let expected = STANDARD.encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref());
        self.signature.split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    received: Vec<Received>,
}

pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

#[handler]
async fn receive(req: &Request, body: Vec<u8>, inner: Data<&Arc<Mutex<Inner>>>) -> Response {
    let header =
        |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let received = Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        raw: body,
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_ascii_lowercase(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
    };
    let reply = {
        let mut inner = inner.lock().expect("receiver lock");
        inner.received.push(received);
        inner.script.pop_front().unwrap_or_else(|| Reply::status(200))
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::builder().status(StatusCode::from_u16(reply.status).expect("status"));
    for (name, value) in &reply.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response.body("ok")
}

impl Receiver {
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("receiver binds");
        let addr = *acceptor.local_addr().first().and_then(|a| a.as_socket_addr()).expect("receiver address");
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = receive.data(inner.clone());
        let handle = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self { url: format!("http://{addr}/hook"), inner, handle }
    }

    /// Answers the next requests with `replies`, in order.
    pub fn reply_with(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().expect("receiver lock").script.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("receiver lock").received.clone()
    }

    /// Waits (up to 20 s) until `count` requests arrived, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the receiver got {} of {count} requests: {:?}",
                received.len(),
                received.iter().map(|r| r.event_type().to_string()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until requests of all `event_types` arrived (in any order: deliveries run side by
    /// side), and returns everything received.
    pub async fn wait_for_types(&self, event_types: &[&str]) -> Vec<Received> {
        for event_type in event_types {
            self.wait_for_type(event_type).await;
        }
        self.received()
    }

    /// Waits until a request of `event_type` arrived, and returns it.
    pub async fn wait_for_type(&self, event_type: &str) -> Received {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(r) = self.received().into_iter().find(|r| r.event_type() == event_type) {
                return r;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no `{event_type}` arrived; got {:?}",
                self.received().iter().map(|r| r.event_type().to_string()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
