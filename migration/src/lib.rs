//! Database migrations of Guildhall. One file per change, named for what it does; the same
//! migrations run on SQLite and PostgreSQL.

pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod m20261123_000001_create_accounts;
mod m20261123_000002_create_sessions;
mod m20261123_000003_create_signing_keys;
mod m20261123_000004_create_api_tokens;
mod m20261123_000005_create_audit_logs;
mod m20261123_000006_org_settings_roles_audit_chain;
mod m20261123_000007_create_teams;
mod m20261123_000008_create_domains_invitations_verifications;
mod m20261123_000009_service_accounts;
mod m20261123_000010_create_scim_tokens;
mod m20261123_000011_scim_resources;
mod m20261203_000012_verified_domains;
mod m20261203_000013_mfa_and_login_throttle;
mod m20261203_000014_credential_issuers_and_unclaimed_identities;
mod m20261203_000015_create_events;
mod m20261203_000016_create_webhooks;
mod m20261203_000017_create_sso_providers;
mod m20261203_000018_sso_sign_in;
mod m20261203_000019_sso_sp_keys;
mod m20261203_000020_create_plugins;
mod m20261203_000021_directory_role_mapper;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_accounts::Migration),
            Box::new(m20261123_000002_create_sessions::Migration),
            Box::new(m20261123_000003_create_signing_keys::Migration),
            Box::new(m20261123_000004_create_api_tokens::Migration),
            Box::new(m20261123_000005_create_audit_logs::Migration),
            Box::new(m20261123_000006_org_settings_roles_audit_chain::Migration),
            Box::new(m20261123_000007_create_teams::Migration),
            Box::new(m20261123_000008_create_domains_invitations_verifications::Migration),
            Box::new(m20261123_000009_service_accounts::Migration),
            Box::new(m20261123_000010_create_scim_tokens::Migration),
            Box::new(m20261123_000011_scim_resources::Migration),
            Box::new(m20261203_000012_verified_domains::Migration),
            Box::new(m20261203_000013_mfa_and_login_throttle::Migration),
            Box::new(m20261203_000014_credential_issuers_and_unclaimed_identities::Migration),
            Box::new(m20261203_000015_create_events::Migration),
            Box::new(m20261203_000016_create_webhooks::Migration),
            Box::new(m20261203_000017_create_sso_providers::Migration),
            Box::new(m20261203_000018_sso_sign_in::Migration),
            Box::new(m20261203_000019_sso_sp_keys::Migration),
            Box::new(m20261203_000020_create_plugins::Migration),
            Box::new(m20261203_000021_directory_role_mapper::Migration),
        ]
    }
}
