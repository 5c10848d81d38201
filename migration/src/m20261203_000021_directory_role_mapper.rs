use sea_orm_migration::{prelude::*, schema::*};

/// Who decides a directory-managed member's role, and how far a decision reaches:
/// - `orgs.scim_role_mapper_plugin_id`: a role-mapper plugin that decides the roles of the
///   members the org's SCIM client provisions (before the mapping table), and
///   `orgs.scim_plugin_fail_closed`: whether its failure refuses the SCIM write;
/// - `group_role_mappings.ceiling_role`: the role of whoever made the mapping. A mapping never
///   changes a member whose role reaches above it. Rows made before this migration have none,
///   and keep reaching every role but the last owner's, as they did.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orgs::Table)
                    .add_column(uuid_null(Orgs::ScimRoleMapperPluginId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orgs::Table)
                    .add_column(boolean(Orgs::ScimPluginFailClosed).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(GroupRoleMappings::Table)
                    .add_column(string_null(GroupRoleMappings::CeilingRole))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(GroupRoleMappings::Table)
                    .drop_column(GroupRoleMappings::CeilingRole)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Orgs::Table).drop_column(Orgs::ScimPluginFailClosed).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(Orgs::Table).drop_column(Orgs::ScimRoleMapperPluginId).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    ScimRoleMapperPluginId,
    ScimPluginFailClosed,
}

#[derive(DeriveIden)]
enum GroupRoleMappings {
    Table,
    CeilingRole,
}
