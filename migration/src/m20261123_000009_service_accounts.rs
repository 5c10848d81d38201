use sea_orm_migration::{prelude::*, schema::*};

/// Service accounts are users of kind `service`: non-human members of exactly one org that
/// authenticate only with their API tokens.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string(Users::Kind).default("human"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Users::Table).add_column(string_null(Users::DisplayName)).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_users_kind").table(Users::Table).col(Users::Kind).to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Kind,
    DisplayName,
}
