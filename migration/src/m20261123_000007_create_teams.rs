use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_accounts::{Orgs, Users};

/// Teams of an org and their members. A team's name is unique per org regardless of case
/// (`name_key` holds it lowercased); `external_id` is the directory's id (SCIM `externalId`).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Teams::Table)
                    .if_not_exists()
                    .col(uuid(Teams::Id).primary_key())
                    .col(uuid(Teams::OrgId))
                    .col(string(Teams::Name))
                    .col(string(Teams::NameKey))
                    .col(string_null(Teams::ExternalId))
                    .col(timestamp_with_time_zone(Teams::CreatedAt))
                    .col(timestamp_with_time_zone(Teams::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Teams::Table, Teams::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_teams_org_name_key")
                    .table(Teams::Table)
                    .col(Teams::OrgId)
                    .col(Teams::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_teams_org_external_id")
                    .table(Teams::Table)
                    .col(Teams::OrgId)
                    .col(Teams::ExternalId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TeamMembers::Table)
                    .if_not_exists()
                    .col(uuid(TeamMembers::Id).primary_key())
                    .col(uuid(TeamMembers::OrgId))
                    .col(uuid(TeamMembers::TeamId))
                    .col(uuid(TeamMembers::UserId))
                    .col(timestamp_with_time_zone(TeamMembers::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TeamMembers::Table, TeamMembers::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TeamMembers::Table, TeamMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_team_members_team_user")
                    .table(TeamMembers::Table)
                    .col(TeamMembers::TeamId)
                    .col(TeamMembers::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Removing a member from the org removes them from all its teams.
        manager
            .create_index(
                Index::create()
                    .name("idx_team_members_org_user")
                    .table(TeamMembers::Table)
                    .col(TeamMembers::OrgId)
                    .col(TeamMembers::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TeamMembers::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Teams::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    OrgId,
    Name,
    NameKey,
    ExternalId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    OrgId,
    TeamId,
    UserId,
    CreatedAt,
}
