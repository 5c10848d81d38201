use sea_orm_migration::{prelude::*, schema::*};

/// SCIM bearer tokens, one org each. A rotated token keeps working until `expires_at`.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScimTokens::Table)
                    .if_not_exists()
                    .col(uuid(ScimTokens::Id).primary_key())
                    .col(uuid(ScimTokens::OrgId))
                    .col(binary(ScimTokens::TokenHash).unique_key())
                    .col(uuid_null(ScimTokens::CreatedBy))
                    .col(timestamp_with_time_zone(ScimTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScimTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ScimTokens::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimTokens::Table, ScimTokens::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scim_tokens_org")
                    .table(ScimTokens::Table)
                    .col(ScimTokens::OrgId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ScimTokens::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScimTokens {
    Table,
    Id,
    OrgId,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}
