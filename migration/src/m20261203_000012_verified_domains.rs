use sea_orm_migration::{prelude::*, schema::*};

/// Email domains are proved by a DNS TXT record (or by an instance admin): each gets the token
/// to publish and, once proved, `verified_at`. A verified domain belongs to one org, which a
/// partial unique index enforces. Rows that predate verification get a token and stay unverified.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailDomains::Table)
                    .add_column(string(EmailDomains::VerificationToken).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailDomains::Table)
                    .add_column(timestamp_with_time_zone_null(EmailDomains::VerifiedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailDomains::Table)
                    .add_column(string_null(EmailDomains::VerificationMethod))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let random = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "md5(random()::text || id::text)",
            _ => "lower(hex(randomblob(16)))",
        };
        db.execute_unprepared(&format!(
            "UPDATE email_domains SET verification_token = {random} WHERE verification_token = ''"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_email_domains_verified ON email_domains (domain) \
             WHERE verified_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveIden)]
enum EmailDomains {
    Table,
    VerificationToken,
    VerifiedAt,
    VerificationMethod,
}
