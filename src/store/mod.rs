//! Every query the site runs, one file per aggregate. Functions take
//! `&impl ConnectionTrait` so they work inside and outside a transaction.

pub mod articles;
pub mod audit;
pub mod bans;
pub mod comments;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, sqlx};

/// Opens a pool: SQLite in WAL mode with a busy timeout, or PostgreSQL.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        let in_memory = url.contains(":memory:");
        options
            // An in-memory database lives in one connection; a file can be shared.
            .max_connections(if in_memory { 1 } else { 8 })
            .min_connections(1)
            .map_sqlx_sqlite_opts(move |o| {
                let o = o
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
                if in_memory {
                    o
                } else {
                    o.journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                }
            });
    } else {
        options.max_connections(16);
    }
    Database::connect(options).await
}

/// Brings the schema up to date; safe to run on every start.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Answers whether the database responds at all.
pub async fn ping(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Whether an error is a unique-constraint violation (turned into a form error, never a 500).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
