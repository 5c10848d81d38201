use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20261123_000001_create_accounts::Users, m20261203_000017_create_sso_providers::SsoProviders};

/// What SSO sign-in keeps between the browser's trips, every row short-lived and in the database
/// so every node sees it:
/// - `sso_logins`: a sign-in that was started (state, nonce and PKCE verifier for OIDC, the
///   AuthnRequest id for SAML, the browser binding, where to return), finished at most once;
/// - `sso_assertions`: SAML assertion ids already used, kept until they expire (replay defence);
/// - `sso_identities`: the account an IdP's subject is, remembered at the first sign-in;
/// - `sso_codes`: one-time codes (hashed) that the application exchanges for tokens.
///
/// Sessions learn how they were started (`auth_method`, `sso_provider_id`), so every access
/// token of the session says so.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SsoLogins::Table)
                    .if_not_exists()
                    .col(uuid(SsoLogins::Id).primary_key())
                    .col(uuid(SsoLogins::ProviderId))
                    .col(uuid(SsoLogins::OrgId))
                    .col(string(SsoLogins::StateHash))
                    .col(string_null(SsoLogins::BrowserHash))
                    .col(string_null(SsoLogins::Nonce))
                    .col(string_null(SsoLogins::PkceVerifier))
                    .col(string_null(SsoLogins::SamlRequestId))
                    .col(text(SsoLogins::ReturnTo))
                    .col(text_null(SsoLogins::ClientState))
                    .col(timestamp_with_time_zone(SsoLogins::CreatedAt))
                    .col(timestamp_with_time_zone(SsoLogins::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SsoLogins::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SsoLogins::Table, SsoLogins::ProviderId)
                            .to(SsoProviders::Table, SsoProviders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in [
            ("idx_sso_logins_state", SsoLogins::StateHash, true),
            ("idx_sso_logins_saml_request", SsoLogins::SamlRequestId, false),
            ("idx_sso_logins_expires", SsoLogins::ExpiresAt, false),
        ] {
            let mut index = Index::create();
            index.name(name).table(SsoLogins::Table).col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SsoAssertions::Table)
                    .if_not_exists()
                    .col(uuid(SsoAssertions::ProviderId))
                    .col(string(SsoAssertions::AssertionId))
                    .col(timestamp_with_time_zone(SsoAssertions::ExpiresAt))
                    .primary_key(
                        Index::create().col(SsoAssertions::ProviderId).col(SsoAssertions::AssertionId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SsoAssertions::Table, SsoAssertions::ProviderId)
                            .to(SsoProviders::Table, SsoProviders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sso_assertions_expires")
                    .table(SsoAssertions::Table)
                    .col(SsoAssertions::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SsoIdentities::Table)
                    .if_not_exists()
                    .col(uuid(SsoIdentities::Id).primary_key())
                    .col(uuid(SsoIdentities::ProviderId))
                    .col(uuid(SsoIdentities::OrgId))
                    .col(string(SsoIdentities::Subject))
                    .col(uuid(SsoIdentities::UserId))
                    .col(string_null(SsoIdentities::Email))
                    .col(timestamp_with_time_zone(SsoIdentities::CreatedAt))
                    .col(timestamp_with_time_zone(SsoIdentities::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SsoIdentities::Table, SsoIdentities::ProviderId)
                            .to(SsoProviders::Table, SsoProviders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SsoIdentities::Table, SsoIdentities::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sso_identities_subject")
                    .table(SsoIdentities::Table)
                    .col(SsoIdentities::ProviderId)
                    .col(SsoIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sso_identities_user")
                    .table(SsoIdentities::Table)
                    .col(SsoIdentities::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SsoCodes::Table)
                    .if_not_exists()
                    .col(string(SsoCodes::CodeHash).primary_key())
                    .col(uuid(SsoCodes::UserId))
                    .col(uuid(SsoCodes::OrgId))
                    .col(uuid(SsoCodes::ProviderId))
                    .col(string(SsoCodes::Method))
                    .col(timestamp_with_time_zone(SsoCodes::CreatedAt))
                    .col(timestamp_with_time_zone(SsoCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SsoCodes::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SsoCodes::Table, SsoCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sso_codes_expires")
                    .table(SsoCodes::Table)
                    .col(SsoCodes::ExpiresAt)
                    .to_owned(),
            )
            .await?;

        // SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(string_null(Sessions::AuthMethod))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(uuid_null(Sessions::SsoProviderId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SsoCodes::Table.into_iden(),
            SsoIdentities::Table.into_iden(),
            SsoAssertions::Table.into_iden(),
            SsoLogins::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter().table(Sessions::Table).drop_column(Sessions::SsoProviderId).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::AuthMethod).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SsoLogins {
    Table,
    Id,
    ProviderId,
    OrgId,
    StateHash,
    BrowserHash,
    Nonce,
    PkceVerifier,
    SamlRequestId,
    ReturnTo,
    ClientState,
    CreatedAt,
    ExpiresAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum SsoAssertions {
    Table,
    ProviderId,
    AssertionId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SsoIdentities {
    Table,
    Id,
    ProviderId,
    OrgId,
    Subject,
    UserId,
    Email,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum SsoCodes {
    Table,
    CodeHash,
    UserId,
    OrgId,
    ProviderId,
    Method,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    AuthMethod,
    SsoProviderId,
}
