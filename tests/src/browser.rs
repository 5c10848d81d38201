//! A browser for SSO tests: follows nothing by itself, keeps the sign-in cookie by hand, and
//! reports each hop (status, `Location`, body), so tests can stop, replay or tamper at any hop.

use reqwest::{StatusCode, redirect::Policy};
use serde_json::Value;

#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    /// The `guildhall_sso` cookie, once the server set it.
    pub cookie: Option<String>,
}

/// One hop's answer.
#[derive(Debug)]
pub struct Hop {
    pub status: StatusCode,
    pub location: Option<String>,
    pub text: String,
    pub body: Value,
}

impl Hop {
    pub fn location(&self) -> &str {
        self.location.as_deref().unwrap_or_else(|| panic!("no Location in {} {}", self.status, self.text))
    }

    /// The query parameter `name` of the `Location`.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(self.location()).ok()?;
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// The refusal's reason (`reason` of the problem body).
    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or_else(|| panic!("no reason in {} {}", self.status, self.text))
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        let http = reqwest::Client::builder().redirect(Policy::none()).build().expect("client");
        Self { http, cookie: None }
    }

    async fn hop(&mut self, request: reqwest::RequestBuilder) -> Hop {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", format!("guildhall_sso={cookie}")),
            None => request,
        };
        let response = request.send().await.expect("request");
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap_or_default();
            if let Some(value) = set.strip_prefix("guildhall_sso=") {
                self.cookie = value.split(';').next().map(str::to_string);
            }
        }
        let status = response.status();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Hop { status, location, text, body }
    }

    pub async fn get(&mut self, url: &str) -> Hop {
        let request = self.http.get(url).header("accept", "application/json");
        self.hop(request).await
    }

    /// An HTML form post (what an IdP's auto-submitting page makes the browser send).
    pub async fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Hop {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        self.hop(request).await
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
