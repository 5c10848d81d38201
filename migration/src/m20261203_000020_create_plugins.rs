use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_accounts::Users;

/// WebAssembly plugins, per org:
/// - `plugins`: the uploaded component (kept in the database so nodes stay stateless), its
///   content hash and world, the limits it tightens, and the role of whoever uploaded it (a
///   role mapper never confers more than that role);
/// - `plugin_runs`: every call made in a real flow (hook, input hash, outcome, time, fuel), so
///   an author can see why a sign-in got the role it got;
/// - SSO providers may name a role-mapper plugin (and whether its failure refuses the sign-in);
///   webhook endpoints may name a transform plugin.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plugins::Table)
                    .if_not_exists()
                    .col(uuid(Plugins::Id).primary_key())
                    .col(uuid(Plugins::OrgId))
                    .col(string(Plugins::Name))
                    .col(string(Plugins::World))
                    .col(string(Plugins::Sha256))
                    .col(big_integer(Plugins::Size))
                    .col(binary(Plugins::Component))
                    .col(big_integer_null(Plugins::Fuel))
                    .col(integer_null(Plugins::MemoryMib))
                    .col(string(Plugins::CeilingRole))
                    .col(uuid_null(Plugins::CreatedBy))
                    .col(timestamp_with_time_zone(Plugins::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Plugins::Table, Plugins::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_plugins_org_name")
                    .table(Plugins::Table)
                    .col(Plugins::OrgId)
                    .col(Plugins::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PluginRuns::Table)
                    .if_not_exists()
                    .col(uuid(PluginRuns::Id).primary_key())
                    .col(uuid(PluginRuns::PluginId))
                    .col(uuid(PluginRuns::OrgId))
                    .col(string(PluginRuns::Hook))
                    .col(string_null(PluginRuns::HookId))
                    .col(string(PluginRuns::InputSha256))
                    .col(string(PluginRuns::Outcome))
                    .col(text_null(PluginRuns::Detail))
                    .col(big_integer(PluginRuns::DurationUs))
                    .col(big_integer(PluginRuns::FuelUsed))
                    .col(timestamp_with_time_zone(PluginRuns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PluginRuns::Table, PluginRuns::PluginId)
                            .to(Plugins::Table, Plugins::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_plugin_runs_plugin", PluginRuns::PluginId),
            ("idx_plugin_runs_created", PluginRuns::CreatedAt),
        ] {
            manager
                .create_index(Index::create().name(name).table(PluginRuns::Table).col(column).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(SsoProviders::Table)
                    .add_column(uuid_null(SsoProviders::RoleMapperPluginId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SsoProviders::Table)
                    .add_column(boolean(SsoProviders::PluginFailClosed).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoints::Table)
                    .add_column(uuid_null(WebhookEndpoints::TransformPluginId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WebhookEndpoints::Table)
                    .drop_column(WebhookEndpoints::TransformPluginId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SsoProviders::Table)
                    .drop_column(SsoProviders::PluginFailClosed)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SsoProviders::Table)
                    .drop_column(SsoProviders::RoleMapperPluginId)
                    .to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table(PluginRuns::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Plugins::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Plugins {
    Table,
    Id,
    OrgId,
    Name,
    World,
    Sha256,
    Size,
    Component,
    Fuel,
    MemoryMib,
    CeilingRole,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PluginRuns {
    Table,
    Id,
    PluginId,
    OrgId,
    Hook,
    HookId,
    InputSha256,
    Outcome,
    Detail,
    DurationUs,
    FuelUsed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SsoProviders {
    Table,
    RoleMapperPluginId,
    PluginFailClosed,
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    TransformPluginId,
}
