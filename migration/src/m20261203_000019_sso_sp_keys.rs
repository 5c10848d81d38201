use sea_orm_migration::{prelude::*, schema::*};

/// Each SAML provider gets its own service-provider key pair: the private key (PKCS#8, sealed
/// with the master key) signs AuthnRequests for IdPs that want them signed and decrypts
/// encrypted assertions; the self-signed certificate is published in our SP metadata.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SsoProviders::Table)
                    .add_column(binary_null(SsoProviders::SpKey))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SsoProviders::Table)
                    .add_column(text_null(SsoProviders::SpCertificate))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(SsoProviders::Table).drop_column(SsoProviders::SpCertificate).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(SsoProviders::Table).drop_column(SsoProviders::SpKey).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SsoProviders {
    Table,
    SpKey,
    SpCertificate,
}
