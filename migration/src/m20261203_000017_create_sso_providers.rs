use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_accounts::Orgs;

/// An org's identity providers (OIDC or SAML 2.0). `settings` is the kind's non-secret
/// configuration as JSON; an OIDC client secret is sealed with the master key (it must be sent
/// to the IdP, so it is recoverable) and never shown again. `domains` is a JSON array of the
/// org's verified domains this provider signs people in for. `metadata_refreshed_at` is when
/// a SAML provider's metadata URL was last fetched.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SsoProviders::Table)
                    .if_not_exists()
                    .col(uuid(SsoProviders::Id).primary_key())
                    .col(uuid(SsoProviders::OrgId))
                    .col(string(SsoProviders::Kind))
                    .col(string(SsoProviders::Name))
                    .col(boolean(SsoProviders::Enabled))
                    .col(text(SsoProviders::Domains))
                    .col(boolean(SsoProviders::Jit))
                    .col(string(SsoProviders::DefaultRole))
                    .col(boolean(SsoProviders::SsoRequired))
                    .col(text(SsoProviders::Settings))
                    .col(binary_null(SsoProviders::ClientSecret))
                    .col(timestamp_with_time_zone_null(SsoProviders::MetadataRefreshedAt))
                    .col(uuid_null(SsoProviders::CreatedBy))
                    .col(timestamp_with_time_zone(SsoProviders::CreatedAt))
                    .col(timestamp_with_time_zone(SsoProviders::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SsoProviders::Table, SsoProviders::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sso_providers_org")
                    .table(SsoProviders::Table)
                    .col(SsoProviders::OrgId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SsoProviders::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum SsoProviders {
    Table,
    Id,
    OrgId,
    Kind,
    Name,
    Enabled,
    Domains,
    Jit,
    DefaultRole,
    SsoRequired,
    Settings,
    ClientSecret,
    MetadataRefreshedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}
