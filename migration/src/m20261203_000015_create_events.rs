use sea_orm_migration::{prelude::*, schema::*};

/// The outbox of domain events: one row per org-level change, written in the transaction of
/// the change and its audit entry. `seq` is the audit entry's place in the org's chain, so
/// events read in `seq` order are in commit order. No foreign key to the org: like the audit
/// log, an org's events outlive it until the retention purge.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .if_not_exists()
                    .col(uuid(Events::Id).primary_key())
                    .col(uuid(Events::OrgId))
                    .col(big_integer(Events::Seq))
                    .col(string(Events::EventType))
                    .col(integer(Events::Version))
                    .col(timestamp_with_time_zone(Events::OccurredAt))
                    .col(text(Events::Data))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_org_seq")
                    .table(Events::Table)
                    .col(Events::OrgId)
                    .col(Events::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_events_occurred_at")
                    .table(Events::Table)
                    .col(Events::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Events::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Events {
    Table,
    Id,
    OrgId,
    Seq,
    EventType,
    Version,
    OccurredAt,
    Data,
}
