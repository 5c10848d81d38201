//! The one client for outbound HTTP (webhooks now; IdP discovery, JWKS and SAML metadata next).
//! It refuses private, loopback and link-local targets unless `[outbound]
//! allow_private_networks` is on, and checks the addresses it actually connects to (its resolver
//! drops non-public answers, so a name that re-binds to a private address after a check gets
//! nowhere); it follows no redirects, uses no proxy, times out, and reads at most a capped
//! number of response bytes.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use crate::config::OutboundConfig;

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    Refused(String),
    #[error("timed out")]
    Timeout,
    #[error("{0}")]
    Failed(String),
}

/// What came back: the status, the first bytes of the body, and how long it took.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: reqwest::header::HeaderMap,
    pub latency: Duration,
}

#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
    allow_http: bool,
}

impl Outbound {
    pub fn new(config: &OutboundConfig) -> anyhow::Result<Self> {
        let resolver = Arc::new(GuardedResolver { allow_private: config.allow_private_networks });
        let client = reqwest::Client::builder()
            .dns_resolver(resolver)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Guildhall/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, allow_private: config.allow_private_networks, allow_http: config.allow_http })
    }

    /// Whether `url` may be called at all: http(s), no credentials in it, http only where the
    /// instance allows it, and no literal private address. Names are checked when connecting.
    pub fn check(&self, url: &str) -> Result<Url, OutboundError> {
        let url = Url::parse(url).map_err(|e| OutboundError::Refused(format!("not a URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(OutboundError::Refused("must be https".into())),
            other => return Err(OutboundError::Refused(format!("`{other}` URLs are not allowed"))),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OutboundError::Refused("must not carry credentials".into()));
        }
        let refused = || OutboundError::Refused("points at a private, loopback or link-local address".into());
        match url.host() {
            None => return Err(OutboundError::Refused("has no host".into())),
            Some(url::Host::Ipv4(ip)) if !self.allow_private && !is_public(IpAddr::V4(ip)) => {
                return Err(refused());
            }
            Some(url::Host::Ipv6(ip)) if !self.allow_private && !is_public(IpAddr::V6(ip)) => {
                return Err(refused());
            }
            Some(url::Host::Domain(name)) if !self.allow_private && is_localhost(name) => {
                return Err(refused());
            }
            _ => {}
        }
        Ok(url)
    }

    /// Resolves `url`'s host now and refuses it when no public address answers (for a clear
    /// error at configuration time; the connection is checked again when used).
    pub async fn check_resolved(&self, url: &str) -> Result<Url, OutboundError> {
        let url = self.check(url)?;
        if let Some(url::Host::Domain(name)) = url.host()
            && !self.allow_private
        {
            let port = url.port_or_known_default().unwrap_or(443);
            // A slow resolver only costs the early answer; the connection is checked anyway.
            let lookup = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((name, port)));
            if let Ok(Ok(addrs)) = lookup.await {
                let addrs: Vec<SocketAddr> = addrs.collect();
                if !addrs.is_empty() && addrs.iter().all(|a| !is_public(a.ip())) {
                    return Err(OutboundError::Refused(
                        "resolves only to private, loopback or link-local addresses".into(),
                    ));
                }
            }
        }
        Ok(url)
    }

    /// Whether plain-http URLs are allowed (browser-facing URLs follow the same rule).
    pub fn allows_http(&self) -> bool {
        self.allow_http
    }

    /// GETs `url`, refusing a reply longer than `max_body` bytes rather than cutting it.
    pub async fn get(&self, url: &str, timeout: Duration, max_body: usize) -> Result<Reply, OutboundError> {
        let url = self.check(url)?;
        let reply = self.send(self.client.get(url), timeout, max_body + 1).await?;
        if reply.body.len() > max_body {
            return Err(OutboundError::Failed(format!("the reply is larger than {max_body} bytes")));
        }
        Ok(reply)
    }

    /// POSTs `body` with `headers`, reading at most `max_body` bytes of the reply.
    pub async fn post(
        &self,
        url: &str,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Reply, OutboundError> {
        let url = self.check(url)?;
        self.send(self.client.post(url).headers(headers).body(body), timeout, max_body).await
    }

    /// Sends an `http` request (what OAuth and OIDC libraries build), refusing a reply longer than
    /// `max_body` bytes.
    pub async fn execute(
        &self,
        request: ::http::Request<Vec<u8>>,
        timeout: Duration,
        max_body: usize,
    ) -> Result<::http::Response<Vec<u8>>, OutboundError> {
        let (parts, body) = request.into_parts();
        let url = self.check(&parts.uri.to_string())?;
        let builder = self.client.request(parts.method, url).headers(parts.headers).body(body);
        let reply = self.send(builder, timeout, max_body + 1).await?;
        if reply.body.len() > max_body {
            return Err(OutboundError::Failed(format!("the reply is larger than {max_body} bytes")));
        }
        let mut response = ::http::Response::new(reply.body);
        *response.status_mut() =
            ::http::StatusCode::from_u16(reply.status).map_err(|e| OutboundError::Failed(e.to_string()))?;
        *response.headers_mut() = reply.headers;
        Ok(response)
    }

    /// Sends `request`, keeping at most `max_body` bytes of the reply, all within `timeout`.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        timeout: Duration,
        max_body: usize,
    ) -> Result<Reply, OutboundError> {
        let started = Instant::now();
        let request = request.timeout(timeout);
        let send = async {
            let mut response = request.send().await.map_err(classify)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let mut body = Vec::new();
            while body.len() < max_body {
                match response.chunk().await.map_err(classify)? {
                    Some(chunk) => {
                        let room = max_body - body.len();
                        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                    }
                    None => break,
                }
            }
            Ok::<_, OutboundError>((status, headers, body))
        };
        let (status, headers, body) =
            tokio::time::timeout(timeout, send).await.map_err(|_| OutboundError::Timeout)??;
        Ok(Reply { status, body, headers, latency: started.elapsed() })
    }
}

/// `localhost` and its subdomains (RFC 6761 §6.3), in any case, with or without the root dot.
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

fn classify(err: reqwest::Error) -> OutboundError {
    if err.is_timeout() {
        return OutboundError::Timeout;
    }
    // The resolver's refusal travels as the source of a connect error.
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return OutboundError::Refused(refused.to_string());
        }
        source = e.source();
    }
    if err.is_connect() {
        return OutboundError::Failed("could not connect".into());
    }
    OutboundError::Failed(err.without_url().to_string())
}

#[derive(Debug, thiserror::Error)]
#[error("resolves only to private, loopback or link-local addresses")]
struct Refused;

/// Resolves with the system resolver and keeps only public addresses (all, when allowed).
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> =
                found.into_iter().filter(|a| allow_private || is_public(a.ip())).collect();
            if kept.is_empty() {
                return Err(Box::new(Refused) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an ordinary public unicast address (not loopback, private, link-local,
/// carrier-grade NAT, unique-local, multicast, documentation, benchmarking or reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments().first().copied().unwrap_or_default();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || first == 0x2001 && v6.segments().get(1) == Some(&0x0db8)
                || first == 0x0064 && v6.segments().get(1) == Some(&0xff9b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for (ip, public) in [
            ("93.184.215.14", true),
            ("2606:4700::1111", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("255.255.255.255", false),
            ("::1", false),
            ("fe80::1", false),
            ("fd00::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:169.254.169.254", false),
            ("64:ff9b::a9fe:a9fe", false),
        ] {
            assert_eq!(is_public(ip.parse().unwrap()), public, "{ip}");
        }
    }

    #[test]
    fn urls_are_checked_before_any_connection() {
        let strict = Outbound::new(&OutboundConfig::default()).unwrap();
        for bad in [
            "http://example.com/hook",
            "https://127.0.0.1/hook",
            "https://[::1]/hook",
            "https://169.254.169.254/latest",
            "https://localhost/hook",
            "https://LocalHost./hook",
            "https://api.localhost/hook",
            "https://user:pw@example.com/",
            "ftp://example.com/",
            "not a url",
        ] {
            assert!(strict.check(bad).is_err(), "{bad}");
        }
        assert!(strict.check("https://example.com/hook").is_ok());
        let open = Outbound::new(&OutboundConfig { allow_private_networks: true, allow_http: true }).unwrap();
        assert!(open.check("http://127.0.0.1:8080/hook").is_ok());
    }

    /// Names are checked on the addresses they resolve to when connecting, not only when an
    /// endpoint is saved: `localhost` resolves to loopback on every machine, and the client's
    /// resolver refuses it unless private networks are allowed.
    #[tokio::test]
    async fn the_resolver_refuses_what_resolves_to_private_addresses() {
        let strict = GuardedResolver { allow_private: false };
        let refused = strict.resolve("localhost".parse().unwrap()).await;
        let err = refused.err().expect("loopback refused");
        assert!(err.downcast_ref::<Refused>().is_some(), "{err}");
        let open = GuardedResolver { allow_private: true };
        let addrs: Vec<SocketAddr> = open.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty(), "{addrs:?}");
    }
}
