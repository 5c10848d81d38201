//! End-to-end tests: each starts the real server on a loopback port (SQLite, or PostgreSQL when
//! `GUILDHALL_TEST_DATABASE_URL` is set) and talks HTTP to it. One binary for link time.

mod audit;
mod domains;
mod errors;
mod events;
mod instance;
mod invitations;
mod jwt_interop;
mod keys;
mod login;
mod mapping;
mod members;
mod mfa;
mod oidc_issuer_selftest;
mod ops;
mod orgs;
mod refresh;
mod roles;
mod saml_verify;
mod scim_bulk;
mod scim_clients;
mod scim_compliance;
mod scim_discovery;
mod scim_groups;
mod scim_queries;
mod scim_tokens;
mod scim_users;
mod service_accounts;
mod signup;
mod sso_oidc;
mod sso_providers;
mod teams;
mod tokens;
mod trust;
mod users;
mod webhooks;
