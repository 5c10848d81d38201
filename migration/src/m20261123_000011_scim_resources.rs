use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_accounts::{Orgs, Users};

/// SCIM resources. A SCIM User is an org's membership of a user: `scim_users` shares the
/// membership's id, so the row's existence is what marks a membership as managed by the
/// directory, and deleting the membership deletes it. `attributes` holds the resource's
/// canonical JSON; `user_name_key` (userName lowercased) and `external_id` are the indexed
/// copies that uniqueness and filters use.
/// Teams gain `directory_managed` (created or adopted by SCIM), and orgs map groups to roles.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScimUsers::Table)
                    .if_not_exists()
                    .col(uuid(ScimUsers::Id).primary_key())
                    .col(uuid(ScimUsers::OrgId))
                    .col(uuid(ScimUsers::UserId))
                    .col(string(ScimUsers::UserNameKey))
                    .col(string_null(ScimUsers::ExternalId))
                    .col(json_binary(ScimUsers::Attributes))
                    .col(timestamp_with_time_zone(ScimUsers::CreatedAt))
                    .col(timestamp_with_time_zone(ScimUsers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimUsers::Table, ScimUsers::Id)
                            .to(Memberships::Table, Memberships::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimUsers::Table, ScimUsers::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScimUsers::Table, ScimUsers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            ("idx_scim_users_org_user_name", vec![ScimUsers::OrgId, ScimUsers::UserNameKey], true),
            ("idx_scim_users_org_external_id", vec![ScimUsers::OrgId, ScimUsers::ExternalId], false),
            ("idx_scim_users_org_user", vec![ScimUsers::OrgId, ScimUsers::UserId], true),
        ] {
            let mut index = Index::create();
            index.name(name).table(ScimUsers::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Teams::Table)
                    .add_column(boolean(Teams::DirectoryManaged).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupRoleMappings::Table)
                    .if_not_exists()
                    .col(uuid(GroupRoleMappings::Id).primary_key())
                    .col(uuid(GroupRoleMappings::OrgId))
                    .col(string(GroupRoleMappings::GroupName))
                    .col(string(GroupRoleMappings::GroupKey))
                    .col(string(GroupRoleMappings::Role))
                    .col(timestamp_with_time_zone(GroupRoleMappings::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupRoleMappings::Table, GroupRoleMappings::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_role_mappings_org_group")
                    .table(GroupRoleMappings::Table)
                    .col(GroupRoleMappings::OrgId)
                    .col(GroupRoleMappings::GroupKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(GroupRoleMappings::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Teams::Table).drop_column(Teams::DirectoryManaged).to_owned())
            .await?;
        manager.drop_table(Table::drop().table(ScimUsers::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    DirectoryManaged,
}

#[derive(DeriveIden)]
enum ScimUsers {
    Table,
    Id,
    OrgId,
    UserId,
    UserNameKey,
    ExternalId,
    Attributes,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupRoleMappings {
    Table,
    Id,
    OrgId,
    GroupName,
    GroupKey,
    Role,
    CreatedAt,
}
