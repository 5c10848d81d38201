//! Guildhall: a standards-first, multi-tenant identity server.
//!
//! Areas own their handlers (`api.rs`), wire types (`types.rs`) and rules (`service.rs`);
//! `app.rs` assembles them. Request paths never panic: unwrap, expect, panic and indexing are
//! denied outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod changes;
pub mod clock;
pub mod config;
pub mod credentials;
pub mod crypto;
pub mod db;
pub mod domains;
pub mod error;
pub mod group_commit;
pub mod http;
pub mod instance;
pub mod invitations;
pub mod jobs;
pub mod json;
pub mod keys;
pub mod mail;
pub mod mapping;
pub mod members;
pub mod mfa;
pub mod orgs;
pub mod outbound;
pub mod paging;
pub mod passwords;
pub mod permissions;
pub mod plugins;
pub mod provisioning;
pub mod rate;
pub mod roles;
pub mod scim;
pub mod scope;
pub mod service_accounts;
pub mod sessions;
pub mod sso;
pub mod teams;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::sync::Arc;

pub use app::{RunningServer, openapi_json};

/// What every handler may reach: passed in through request data, never a global.
#[derive(Clone)]
pub struct AppState {
    /// Reads, and writes outside a transaction.
    pub db: db::Db,
    /// Write transactions. On SQLite a pool of one connection, so writers queue in order
    /// instead of sleeping in SQLite's busy handler; on PostgreSQL the same pool as `db`.
    pub writer: db::Db,
    /// Group commit on `writer`, for the write-heavy provisioning paths.
    pub commits: group_commit::Commits,
    pub config: Arc<config::Config>,
    pub keys: Arc<keys::KeyStore>,
    pub clock: clock::SharedClock,
    pub passwords: Arc<passwords::PasswordHasher>,
    pub metrics: Arc<http::Metrics>,
    pub mailer: mail::Mailer,
    /// The one client for outbound HTTP.
    pub outbound: outbound::Outbound,
    /// How often each SSO provider may be tested against its IdP.
    pub sso_checks: Arc<rate::Limiter>,
    /// Refused SSO sign-ins audited per provider and minute (the rest are only logged), so
    /// unauthenticated posts cannot flood an org's audit chain.
    pub sso_failure_audits: Arc<rate::Limiter>,
    /// SSO sign-ins each client address may start a minute (each one writes a login record).
    pub sso_login_starts: Arc<rate::Limiter<String>>,
    /// OIDC discovery documents and key sets, per provider, for a few minutes.
    pub sso_discovery: Arc<sso::oidc_flow::DiscoveryCache>,
    /// The WebAssembly plugin host: one engine, compiled components cached by content hash.
    pub plugins: guildhall_plugin_host::Host,
    /// Plugin uploads each org may make a minute (each one compiles a component).
    pub plugin_uploads: Arc<rate::Limiter>,
}
