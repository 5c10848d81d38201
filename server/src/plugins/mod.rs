//! WebAssembly plugins: an org's own role mappers and webhook transforms, run in-process and
//! sandboxed by the host crate (`guildhall-plugin-host`: fuel, memory, stack and time limits, a
//! WASI context that grants nothing).
//!
//! Every node builds one [`Host`] from the `[plugins]` configuration; compiled components are
//! cached in memory and under the data directory (`plugins-cache/`), keyed by content hash, so
//! a restart or another node loads rather than recompiles. The components themselves live in
//! the database, so nodes stay stateless.

pub mod api;
pub mod directory;
pub mod service;
pub mod types;

use std::{collections::BTreeMap, time::Duration};

use guildhall_plugin_host::{Host, HostConfig, Limits};

use crate::config::Config;

/// At most this many attributes, each name and value at most this long, reach a plugin.
const MAX_PLUGIN_ATTRIBUTES: usize = 64;
const MAX_PLUGIN_ATTRIBUTE_LEN: usize = 1024;

/// Claims or attributes as a role mapper sees them: text values, bounded in count and length.
pub fn plugin_attributes<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter(|(name, value)| {
            name.len() <= MAX_PLUGIN_ATTRIBUTE_LEN && value.len() <= MAX_PLUGIN_ATTRIBUTE_LEN
        })
        .take(MAX_PLUGIN_ATTRIBUTES)
        .map(|(name, value)| (name.to_string(), value))
        .collect()
}

/// Uploads an org may make a minute: each one compiles a component, up to the size cap.
pub const UPLOADS_PER_MINUTE: u32 = 20;

/// How long the record of a plugin's calls is kept.
pub const RUN_RETENTION_DAYS: i64 = 30;

/// The limits every call runs under, from the `[plugins]` configuration.
pub fn limits(config: &Config) -> Limits {
    let plugins = &config.plugins;
    Limits {
        fuel: plugins.fuel,
        memory_bytes: mib(plugins.memory_mib),
        max_input_bytes: kib(plugins.max_input_kib),
        max_output_bytes: kib(plugins.max_output_kib),
        timeout: Duration::from_millis(plugins.timeout_ms),
    }
}

/// The host of this configuration: its limits, the stack and upload caps, and the on-disk cache
/// of compiled components (`<data dir>/plugins-cache`, or none with `with_disk_cache: false`).
pub fn host_config(config: &Config, with_disk_cache: bool) -> HostConfig {
    HostConfig {
        cache_dir: with_disk_cache.then(|| config.data_dir.join("plugins-cache")),
        limits: limits(config),
        max_stack_bytes: kib(config.plugins.max_stack_kib),
        max_component_bytes: kib(config.plugins.max_component_kib),
    }
}

/// A host for this configuration.
pub fn host(config: &Config, with_disk_cache: bool) -> anyhow::Result<Host> {
    Host::new(host_config(config, with_disk_cache))
        .map_err(|e| anyhow::anyhow!("the plugin host cannot start: {e}"))
}

fn kib(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX).saturating_mul(1024)
}

fn mib(n: u32) -> usize {
    kib(n).saturating_mul(1024)
}
