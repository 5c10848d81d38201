use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(uuid(Users::Id).primary_key())
                    .col(string(Users::Email).unique_key())
                    .col(string_null(Users::PasswordHash))
                    .col(string(Users::Status))
                    .col(boolean(Users::IsInstanceAdmin).default(false))
                    .col(integer(Users::FailedLogins).default(0))
                    .col(timestamp_with_time_zone_null(Users::LockedUntil))
                    .col(uuid_null(Users::DefaultOrgId))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_status_created")
                    .table(Users::Table)
                    .col(Users::Status)
                    .col(Users::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InstanceSettings::Table)
                    .if_not_exists()
                    .col(integer(InstanceSettings::Id).primary_key())
                    .col(boolean(InstanceSettings::SignupOpen))
                    .col(boolean(InstanceSettings::ApprovalRequired))
                    .col(integer(InstanceSettings::PasswordMinLength))
                    .col(integer(InstanceSettings::MaxLoginAttempts))
                    .col(integer(InstanceSettings::LockoutMinutes))
                    .col(timestamp_with_time_zone(InstanceSettings::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Orgs::Table)
                    .if_not_exists()
                    .col(uuid(Orgs::Id).primary_key())
                    .col(string(Orgs::Name))
                    .col(string(Orgs::Slug).unique_key())
                    .col(timestamp_with_time_zone(Orgs::CreatedAt))
                    .col(timestamp_with_time_zone(Orgs::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .if_not_exists()
                    .col(uuid(Memberships::Id).primary_key())
                    .col(uuid(Memberships::OrgId))
                    .col(uuid(Memberships::UserId))
                    .col(string(Memberships::Role))
                    .col(string(Memberships::Status))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .col(timestamp_with_time_zone(Memberships::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_org_user")
                    .table(Memberships::Table)
                    .col(Memberships::OrgId)
                    .col(Memberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memberships_user")
                    .table(Memberships::Table)
                    .col(Memberships::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Memberships::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Orgs::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(InstanceSettings::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Users::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    Status,
    IsInstanceAdmin,
    FailedLogins,
    LockedUntil,
    DefaultOrgId,
    CreatedAt,
    UpdatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Id,
    SignupOpen,
    ApprovalRequired,
    PasswordMinLength,
    MaxLoginAttempts,
    LockoutMinutes,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Orgs {
    Table,
    Id,
    Name,
    Slug,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    OrgId,
    UserId,
    Role,
    Status,
    CreatedAt,
    UpdatedAt,
}
