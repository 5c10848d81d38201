//! Runs Guildhall's WebAssembly plugins: components that implement the `role-mapper` or
//! `webhook-transform` world of `plugins/wit/guildhall.wit`.
//!
//! One [`Host`] per process holds the wasmtime engine, a thread that drives the wall-clock
//! timeout, and the caches of compiled components. [`Host::load`] validates and compiles a
//! component (or finds it in a cache) and returns a [`Plugin`]; [`Plugin::map_role`] and
//! [`Plugin::transform`] run it once, synchronously (wrap calls in `spawn_blocking`).
//!
//! Invariants:
//! - every call gets a fresh store and instance, so nothing survives from one call to the
//!   next, and a trap never poisons the plugin;
//! - every call runs under [`Limits`]: fuel, linear memory, input and output size and a
//!   wall-clock timeout; the effective limits are never looser than the host's;
//! - a plugin sees WASI 0.2 with nothing behind it: no files, environment, arguments,
//!   network or stdio, clocks fixed at zero and a fixed random stream, so a call is a
//!   deterministic function of its input (the same input costs the same fuel);
//! - what a plugin returns is validated before the caller sees it ([`PluginError::InvalidOutput`]).
//!
//! ```no_run
//! # fn main() -> Result<(), guildhall_plugin_host::PluginError> {
//! use guildhall_plugin_host::{Host, HostConfig, RoleInput, Source};
//! let host = Host::new(HostConfig::default())?;
//! let plugin = host.load(&std::fs::read("role_mapper_example.wasm").unwrap_or_default())?;
//! let input = RoleInput {
//!     org_slug: "acme".into(),
//!     source: Source::Oidc,
//!     subject: "00u1".into(),
//!     email: "ada@acme.test".into(),
//!     groups: vec!["platform-admins".into()],
//!     attributes: Default::default(),
//! };
//! let run = plugin.map_role(&input, host.limits())?;
//! println!("{:?} in {:?} using {} fuel", run.output, run.duration, run.fuel_used);
//! # Ok(()) }
//! ```
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

mod bindings;
mod cache;
mod error;
mod host;
mod limits;
mod plugin;
mod store;
pub mod testing;
mod types;

pub use error::PluginError;
pub use host::Host;
pub use limits::{HostConfig, Limits};
pub use plugin::{Plugin, Run};
pub use types::{RoleDecision, RoleInput, Source, TransformInput, TransformOutput, World};

/// The lowercase hex SHA-256 of `bytes`: the identity of a component in every cache.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
