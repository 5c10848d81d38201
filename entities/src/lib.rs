//! sea-orm entities of Guildhall: table definitions only, no behaviour.
//!
//! Ids are UUIDv7 strings, times are UTC. Every org-scoped table has an `org_id` column.

pub mod api_token;
pub mod audit_anchor;
pub mod audit_log;
pub mod email_domain;
pub mod email_verification;
pub mod event;
pub mod group_role_mapping;
pub mod instance_settings;
pub mod invitation;
pub mod login_throttle;
pub mod membership;
pub mod mfa_challenge;
pub mod mfa_recovery_code;
pub mod mfa_totp;
pub mod org;
pub mod plugin;
pub mod plugin_run;
pub mod refresh_token;
pub mod role;
pub mod scim_token;
pub mod scim_user;
pub mod session;
pub mod signing_key;
pub mod sso_assertion;
pub mod sso_code;
pub mod sso_identity;
pub mod sso_login;
pub mod sso_provider;
pub mod team;
pub mod team_member;
pub mod user;
pub mod webhook_delivery;
pub mod webhook_endpoint;

pub use sea_orm;
