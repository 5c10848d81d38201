//! TXT lookups that prove control of a domain. A resolver is built per lookup: verification is
//! rare, and a fresh resolver has no cache, so a record published after a failed attempt counts at
//! once. Every lookup is bounded in time; a failure of any kind is reported, never retried here.

use std::{net::SocketAddr, time::Duration};

use hickory_resolver::{
    TokioResolver,
    config::{ConnectionConfig, NameServerConfig, ResolverConfig},
    net::runtime::TokioRuntimeProvider,
    proto::rr::RData,
};

/// The longest a verification waits for DNS.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where an org publishes its challenge: a leading underscore label, as RFC 8552 reserves for
/// such records, so it cannot collide with a host name.
pub fn txt_name(domain: &str) -> String {
    format!("_guildhall-challenge.{domain}")
}

pub fn txt_value(token: &str) -> String {
    format!("guildhall-verification={token}")
}

/// The TXT strings published at `name`, each record's character-strings joined as RFC 7208
/// §3.3 does for long values. `resolver` is `ADDRESS:PORT`, or `None` for the system's resolvers.
pub async fn txt_records(resolver: Option<SocketAddr>, name: &str) -> anyhow::Result<Vec<String>> {
    let resolver = build(resolver)?;
    // The trailing dot makes the name absolute, so no search domain is tried.
    let lookup = tokio::time::timeout(TIMEOUT, resolver.txt_lookup(format!("{name}.")))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {} seconds", TIMEOUT.as_secs()))??;
    Ok(lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part)).collect()),
            _ => None,
        })
        .collect())
}

fn build(resolver: Option<SocketAddr>) -> anyhow::Result<TokioResolver> {
    let mut builder = match resolver {
        Some(addr) => {
            let connections = [ConnectionConfig::udp(), ConnectionConfig::tcp()]
                .into_iter()
                .map(|mut c| {
                    c.port = addr.port();
                    c
                })
                .collect();
            let server = NameServerConfig::new(addr.ip(), true, connections);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio()?,
    };
    let options = builder.options_mut();
    options.timeout = TIMEOUT;
    options.attempts = 1;
    options.cache_size = 0;
    Ok(builder.build()?)
}
