use sea_orm_migration::{prelude::*, schema::*};

/// Email-domain rules per org, invitations, and email verification.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailDomains::Table)
                    .if_not_exists()
                    .col(uuid(EmailDomains::Id).primary_key())
                    .col(uuid(EmailDomains::OrgId))
                    .col(string(EmailDomains::Domain))
                    .col(boolean(EmailDomains::AutoJoin).default(false))
                    .col(string(EmailDomains::DefaultRole))
                    .col(timestamp_with_time_zone(EmailDomains::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailDomains::Table, EmailDomains::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_domains_org_domain")
                    .table(EmailDomains::Table)
                    .col(EmailDomains::OrgId)
                    .col(EmailDomains::Domain)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_domains_domain")
                    .table(EmailDomains::Table)
                    .col(EmailDomains::Domain)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .if_not_exists()
                    .col(uuid(Invitations::Id).primary_key())
                    .col(uuid(Invitations::OrgId))
                    .col(string(Invitations::Email))
                    .col(string(Invitations::Role))
                    .col(binary(Invitations::TokenHash).unique_key())
                    .col(uuid_null(Invitations::InvitedBy))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(uuid_null(Invitations::AcceptedBy))
                    .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::OrgId)
                            .to(Orgs::Table, Orgs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in
            [("idx_invitations_org_email", Invitations::OrgId), ("idx_invitations_email", Invitations::Email)]
        {
            let mut index = Index::create().name(name).table(Invitations::Table).col(col).to_owned();
            if name == "idx_invitations_org_email" {
                index.col(Invitations::Email);
            }
            manager.create_index(index).await?;
        }

        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailVerifications::Table)
                    .if_not_exists()
                    .col(uuid(EmailVerifications::Id).primary_key())
                    .col(uuid(EmailVerifications::UserId))
                    .col(binary(EmailVerifications::TokenHash).unique_key())
                    .col(timestamp_with_time_zone(EmailVerifications::CreatedAt))
                    .col(timestamp_with_time_zone(EmailVerifications::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailVerifications::Table, EmailVerifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(EmailVerifications::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Invitations::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(EmailDomains::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Orgs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum EmailDomains {
    Table,
    Id,
    OrgId,
    Domain,
    AutoJoin,
    DefaultRole,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    OrgId,
    Email,
    Role,
    TokenHash,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
    RevokedAt,
}

#[derive(DeriveIden)]
enum EmailVerifications {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
}
