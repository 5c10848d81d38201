use sea_orm_migration::{prelude::*, schema::*};

/// Organization settings (metadata, limits, branding and auth overrides), the instance defaults
/// they inherit, custom roles, and the per-org hash chain of the audit log.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            text(Orgs::Metadata).default("{}").to_owned(),
            integer_null(Orgs::MaxUsers).to_owned(),
            integer(Orgs::DataRetentionDays).default(90).to_owned(),
            string_null(Orgs::LogoUrl).to_owned(),
            string_null(Orgs::PrimaryColor).to_owned(),
            string_null(Orgs::WelcomeText).to_owned(),
            integer_null(Orgs::PasswordMinLength).to_owned(),
            boolean_null(Orgs::RequireMfa).to_owned(),
            integer_null(Orgs::SessionTtlMinutes).to_owned(),
            integer_null(Orgs::MaxLoginAttempts).to_owned(),
            integer_null(Orgs::LockoutMinutes).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(Orgs::Table).add_column(col).to_owned()).await?;
        }
        for col in [
            boolean(InstanceSettings::RequireMfa).default(false).to_owned(),
            integer(InstanceSettings::SessionTtlMinutes).default(43_200).to_owned(),
            string_null(InstanceSettings::LogoUrl).to_owned(),
            string_null(InstanceSettings::PrimaryColor).to_owned(),
            string_null(InstanceSettings::WelcomeText).to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(InstanceSettings::Table).add_column(col).to_owned())
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Roles::Table)
                    .if_not_exists()
                    .col(uuid(Roles::Id).primary_key())
                    .col(uuid(Roles::OrgId))
                    .col(string(Roles::Key))
                    .col(string(Roles::Name))
                    .col(string_null(Roles::Description))
                    .col(text(Roles::Permissions))
                    .col(timestamp_with_time_zone(Roles::CreatedAt))
                    .col(timestamp_with_time_zone(Roles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Roles::Table, Roles::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_roles_org_key")
                    .table(Roles::Table)
                    .col(Roles::OrgId)
                    .col(Roles::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;

        // The chain an entry belongs to: its org's id, or "instance" for instance-level events.
        for col in [
            string(AuditLogs::Chain).default("instance").to_owned(),
            big_integer(AuditLogs::Seq).default(0).to_owned(),
            binary_null(AuditLogs::PrevHash).to_owned(),
            binary_null(AuditLogs::Hash).to_owned(),
        ] {
            manager.alter_table(Table::alter().table(AuditLogs::Table).add_column(col).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_logs_chain_seq")
                    .table(AuditLogs::Table)
                    .col(AuditLogs::Chain)
                    .col(AuditLogs::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // What a retention purge removed: the last purged entry's sequence and hash, so the rest
        // of the chain still verifies.
        manager
            .create_table(
                Table::create()
                    .table(AuditAnchors::Table)
                    .if_not_exists()
                    .col(string(AuditAnchors::Chain).primary_key())
                    .col(big_integer(AuditAnchors::Seq))
                    .col(binary(AuditAnchors::Hash))
                    .col(timestamp_with_time_zone(AuditAnchors::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditAnchors::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Roles::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
    Metadata,
    MaxUsers,
    DataRetentionDays,
    LogoUrl,
    PrimaryColor,
    WelcomeText,
    PasswordMinLength,
    RequireMfa,
    SessionTtlMinutes,
    MaxLoginAttempts,
    LockoutMinutes,
}

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    RequireMfa,
    SessionTtlMinutes,
    LogoUrl,
    PrimaryColor,
    WelcomeText,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    OrgId,
    Key,
    Name,
    Description,
    Permissions,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditLogs {
    Table,
    Chain,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditAnchors {
    Table,
    Chain,
    Seq,
    Hash,
    UpdatedAt,
}
