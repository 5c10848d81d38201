//! Connecting to the database and running migrations. SQLite runs in WAL mode with foreign
//! keys on and a busy timeout; write transactions on SQLite begin IMMEDIATE so two writers
//! queue on the lock instead of failing on upgrade.

use std::time::Duration;

use guildhall_migration::{Migrator, sea_orm_migration::MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::Config;

pub type Db = DatabaseConnection;

/// The pool for write transactions (see `AppState::writer`).
pub async fn connect_writer(config: &Config, db: &Db) -> anyhow::Result<Db> {
    if !config.is_sqlite() {
        return Ok(db.clone());
    }
    let single = Config { database_max_connections: 1, ..config.clone() };
    connect(&single).await
}

pub async fn connect(config: &Config) -> anyhow::Result<Db> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)?;
    } else if !config.database_schema.is_empty() {
        // Create the schema on a plain connection before pinning the pool's search path to it.
        let plain = Database::connect(config.database_url.as_str()).await?;
        plain
            .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", config.database_schema))
            .await?;
        plain.close().await?;
    }
    let mut options = ConnectOptions::new(config.database_url.as_str());
    options
        .max_connections(config.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if config.is_sqlite() {
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    } else if !config.database_schema.is_empty() {
        options.set_schema_search_path(config.database_schema.clone());
    }
    Ok(Database::connect(options).await?)
}

pub async fn migrate(db: &Db) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begins a transaction that will write.
pub async fn begin_write(db: &Db) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// A cheap round trip for `/readyz`.
pub async fn ping(db: &Db) -> Result<(), DbErr> {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), "SELECT 1")).await.map(|_| ())
}

/// `lower(column) LIKE '%needle%'` with the needle's own `%`, `_` and `\` taken literally.
pub fn contains_ci(
    column: impl sea_orm::sea_query::IntoColumnRef,
    needle: &str,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Func::lower(Expr::col(column)).like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}
