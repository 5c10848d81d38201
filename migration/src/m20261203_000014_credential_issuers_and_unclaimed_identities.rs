use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_accounts::Users;

/// Who issued a service account's token (so it is revoked when they lose the right), whether a
/// SCIM token may manage owners' memberships (an owner's say), and identities a directory
/// provisioned: `provisioned_by_org_id` names the org whose directory created a passwordless
/// account, and `unclaimed_email` the address it gave outside the org's verified domains, which
/// the real holder of that address claims by proving it. A signup for an address whose account has
/// no password yet keeps the chosen password on the emailed verification until the link is used.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(ApiTokens::Table).add_column(uuid_null(ApiTokens::CreatedBy)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ScimTokens::Table)
                    .add_column(boolean(ScimTokens::ManageOwners).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(uuid_null(UsersNew::ProvisionedByOrgId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_null(UsersNew::UnclaimedEmail))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailVerifications::Table)
                    .add_column(string_null(EmailVerifications::PendingPasswordHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_unclaimed_email")
                    .table(Users::Table)
                    .col(UsersNew::UnclaimedEmail)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_tokens_created_by")
                    .table(ApiTokens::Table)
                    .col(ApiTokens::CreatedBy)
                    .to_owned(),
            )
            .await?;
        // Placeholder identities that directories made before this migration are their org's own.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE users SET provisioned_by_org_id = \
                 (SELECT m.org_id FROM memberships m WHERE m.user_id = users.id ORDER BY m.created_at LIMIT 1) \
                 WHERE email LIKE 'scim-%@directory.invalid' AND password_hash IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    CreatedBy,
}

#[derive(DeriveIden)]
enum ScimTokens {
    Table,
    ManageOwners,
}

#[derive(DeriveIden)]
enum EmailVerifications {
    Table,
    PendingPasswordHash,
}

#[derive(DeriveIden)]
enum UsersNew {
    ProvisionedByOrgId,
    UnclaimedEmail,
}
