use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLogs::Table)
                    .if_not_exists()
                    .col(uuid(AuditLogs::Id).primary_key())
                    .col(uuid_null(AuditLogs::OrgId))
                    .col(timestamp_with_time_zone(AuditLogs::OccurredAt))
                    .col(string(AuditLogs::ActorType))
                    .col(string_null(AuditLogs::ActorId))
                    .col(string(AuditLogs::Action))
                    .col(string_null(AuditLogs::TargetType))
                    .col(string_null(AuditLogs::TargetId))
                    .col(text_null(AuditLogs::Details))
                    .col(string_null(AuditLogs::RequestId))
                    .col(string_null(AuditLogs::Ip))
                    .col(string_null(AuditLogs::UserAgent))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_logs_org_time")
                    .table(AuditLogs::Table)
                    .col(AuditLogs::OrgId)
                    .col(AuditLogs::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditLogs::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Id,
    OrgId,
    OccurredAt,
    ActorType,
    ActorId,
    Action,
    TargetType,
    TargetId,
    Details,
    RequestId,
    Ip,
    UserAgent,
}
