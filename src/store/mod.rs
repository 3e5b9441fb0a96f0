//! Every query the site runs, one file per aggregate. Functions take
//! `&impl ConnectionTrait` so they work inside and outside a transaction.

pub mod articles;
pub mod audit;
pub mod bans;
pub mod changes;
pub mod comments;
pub mod export;
pub mod imports;
pub mod inbox;
pub mod jobs;
pub mod outbox;
pub mod privacy;
pub mod retention;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod subscribers;
pub mod tokens;
pub mod users;
pub mod votes;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use inbox::Inbox;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait, sqlx,
};

/// Bound parameters per `IN (...)` query, well below what SQLite and PostgreSQL accept.
const IN_CHUNK: usize = 500;

/// The site's database: a pool for reads and a writer that every write queues on.
///
/// On SQLite the writer is a single connection and every write transaction takes the
/// write lock when it begins (`BEGIN IMMEDIATE`), so writers wait their turn in order
/// instead of failing with `SQLITE_BUSY` when a read-then-write transaction finds
/// another writer got there first; a writer in another process (the CLI beside a
/// running server) waits through the busy timeout. Reads have a pool of their own that
/// cannot write (`query_only`) and, in WAL mode, never wait for the writer. On
/// PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Db {
    read: DatabaseConnection,
    write: DatabaseConnection,
    versions: Arc<Versions>,
    inbox: Inbox,
    mail_wake: Arc<tokio::sync::Notify>,
    /// This process among the instances on one database: its own notifications are
    /// not applied twice.
    instance: u64,
}

impl Db {
    /// Opens the pools: SQLite in WAL mode with a busy timeout, or PostgreSQL.
    pub async fn connect(url: &str) -> Result<Self, DbErr> {
        let (read, write) = if url.starts_with("sqlite:") {
            if url.contains(":memory:") {
                // An in-memory database lives in one connection: it reads and writes.
                let only = Database::connect(sqlite_options(url, 1, Role::Memory)).await?;
                (only.clone(), only)
            } else {
                // The writer first: it creates the file and switches it to WAL.
                let write = Database::connect(sqlite_options(url, 1, Role::Writer)).await?;
                let read = Database::connect(sqlite_options(url, READERS, Role::Reader)).await?;
                (read, write)
            }
        } else {
            let mut options = ConnectOptions::new(url);
            common_options(&mut options).max_connections(16);
            let pool = Database::connect(options).await?;
            (pool.clone(), pool)
        };
        Ok(Self {
            inbox: Inbox::start(write.clone()),
            read,
            write,
            versions: Arc::default(),
            mail_wake: Arc::default(),
            instance: rand::random(),
        })
    }

    /// For queries that only read.
    pub fn read(&self) -> &DatabaseConnection {
        &self.read
    }

    /// For a write of a single statement; use [`Db::begin`] for more than one.
    pub fn write(&self) -> &DatabaseConnection {
        &self.write
    }

    /// A write transaction that holds the write lock from the start.
    pub async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        begin_write(&self.write).await
    }

    /// Where new reactions queue to be written in batches.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    pub fn backend(&self) -> DbBackend {
        self.write.get_database_backend()
    }

    /// Wakes the mail worker: call after committing a transaction that queued mail.
    pub fn mail_queued(&self) {
        self.mail_wake.notify_one();
    }

    /// What the mail worker waits on between rounds.
    pub fn mail_wake(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.mail_wake)
    }

    /// The versions of what readers see, for caches of rendered pages.
    pub fn versions(&self) -> &Versions {
        &self.versions
    }

    /// Records a committed change: in this process's versions at once, and (on
    /// PostgreSQL) for every other instance before the caller answers. A notification
    /// that cannot be sent is logged; the change itself is stored already.
    pub async fn changed(&self, change: changes::Change) {
        change.apply(&self.versions);
        if let Err(err) = changes::publish(&self.write, self.instance, change).await {
            tracing::warn!(%err, ?change, "telling the other instances about a change failed");
        }
    }

    /// This process among the instances on one database.
    pub fn instance(&self) -> u64 {
        self.instance
    }

    /// Closes every connection (the site answers 503 afterwards).
    pub async fn close(&self) -> Result<(), DbErr> {
        self.read.clone().close().await?;
        if self.write.get_database_backend() == DbBackend::Sqlite {
            self.write.clone().close().await?;
        }
        Ok(())
    }
}

/// A write transaction on `write` that holds the write lock from its start (SQLite
/// `BEGIN IMMEDIATE`; PostgreSQL locks per row anyway).
async fn begin_write(write: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    match write.get_database_backend() {
        DbBackend::Sqlite => {
            write
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await
        }
        _ => write.begin().await,
    }
}

/// Connections in SQLite's read pool. Each is a thread with its own page and statement
/// caches; with two cores, more than four bought no throughput, only memory.
const READERS: u32 = 4;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Memory,
    Writer,
    Reader,
}

fn common_options(options: &mut ConnectOptions) -> &mut ConnectOptions {
    options
        // Every statement at debug (`RUST_LOG=sqlx=debug`), a slow one as a warning.
        .sqlx_logging(true)
        .sqlx_logging_level(log::LevelFilter::Debug)
        .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, Duration::from_secs(1))
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // Pinging a connection on every checkout doubled the round trips of a busy
        // site; only one idle long enough to have been dropped is checked first.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
}

fn sqlite_options(url: &str, connections: u32, role: Role) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    common_options(&mut options)
        .max_connections(connections)
        .min_connections(1)
        .map_sqlx_sqlite_opts(move |o| {
            let o = o
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                // The connection's thread hands rows over in a channel; at the default of
                // 50 it stalls every 50 rows of a long thread's layout and waits to be
                // woken, which cost more than reading the rows.
                .row_buffer_size(4096);
            match role {
                // Deleted and overwritten content is zeroed rather than left in free
                // space, so that what a reader had erased cannot be read back from the
                // file (the privacy pages checkpoint the WAL after an erasure).
                Role::Memory => o.pragma("secure_delete", "ON"),
                Role::Writer => o
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .pragma("secure_delete", "ON"),
                // Readers leave the journal mode to the writer and refuse to write, so a
                // write that took the wrong door fails loudly in tests, not under load.
                // A small page cache each: eight of SQLite's default 2 MB filled up on a
                // site read through once, and the file is in the OS's cache anyway.
                Role::Reader => o.pragma("query_only", "ON").pragma("cache_size", "-512"),
            }
        });
    options
}

/// What part of the site a change touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Everything shown of one article: the article itself and its approved reactions.
    Article(i32),
    /// What lists articles or reactions across the site (home page, site feeds).
    Site,
}

/// Counters that grow with every change readers could see. A cached rendering records
/// the versions it was made from and is stale once they moved on; a writer bumps them
/// after its commit and before it answers, so nobody is served the old state after a
/// redirect.
#[derive(Debug, Default)]
pub struct Versions {
    site: AtomicU64,
    articles: Mutex<HashMap<i32, u64>>,
    /// Moves on when anything may have changed unseen (another instance's changes could
    /// not be heard for a while): every snapshot taken before is stale.
    generation: AtomicU64,
}

/// What a cached rendering was made from: a scope at one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub scope: Scope,
    pub version: u64,
    generation: u64,
}

impl Versions {
    /// The version of `scope` now, to note before reading what a rendering shows.
    pub fn snapshot(&self, scope: Scope) -> Snapshot {
        Snapshot {
            generation: self.generation.load(Ordering::Acquire),
            scope,
            version: self.get(scope),
        }
    }

    /// Whether nothing in the snapshot's scope has changed since it was taken.
    pub fn is_current(&self, snapshot: Snapshot) -> bool {
        self.get(snapshot.scope) == snapshot.version
            && self.generation.load(Ordering::Acquire) == snapshot.generation
    }

    /// Records that anything may have changed: no snapshot taken so far is current.
    pub fn everything_changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The current version of `scope`.
    pub fn get(&self, scope: Scope) -> u64 {
        match scope {
            Scope::Site => self.site.load(Ordering::Acquire),
            Scope::Article(id) => self
                .articles
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(&id)
                .copied()
                .unwrap_or(0),
        }
    }

    /// Records a change to one article (and so to the site's lists too).
    pub fn article_changed(&self, id: i32) {
        self.only_article_changed(id);
        self.site_changed();
    }

    /// Records a change that only the article's own pages show (a reaction's vote
    /// count): the site's lists stay as they are.
    pub fn only_article_changed(&self, id: i32) {
        *self
            .articles
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(id)
            .or_default() += 1;
    }

    /// Records a change to what the site lists.
    pub fn site_changed(&self) {
        self.site.fetch_add(1, Ordering::AcqRel);
    }
}

/// Opens a pool: SQLite in WAL mode with a busy timeout, or PostgreSQL. Prefer
/// [`Db::connect`]; this is for one-off administration (tests creating databases).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    common_options(&mut options).max_connections(2);
    Database::connect(options).await
}

/// Brings the schema up to date; safe to run on every start.
pub async fn migrate(db: &Db) -> Result<(), DbErr> {
    Migrator::up(db.write(), None).await
}

/// Answers whether the database responds at all.
pub async fn ping(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Whether an error says the database cannot be reached right now (down, restarting, out
/// of connections), as opposed to a query that is wrong: the request may be tried again
/// later, and is answered 503 with `Retry-After`. SQLite's "busy" stays a 500: after its
/// 10-second timeout it means writers contend, which is a bug to fix, not a pause.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return matches!(err, DbErr::Conn(_));
    };
    match sqlx.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(db) => {
            let postgres = db
                .try_downcast_ref::<sea_orm::SqlxPostgresError>()
                .is_some();
            postgres && db.code().is_some_and(|code| is_transient_sqlstate(&code))
        }
        _ => false,
    }
}

/// PostgreSQL's SQLSTATEs for a lost or refused connection, a server shutting down or
/// starting up, and too many connections.
fn is_transient_sqlstate(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57P")
}

/// Whether an error is a unique-constraint violation (turned into a form error, never a 500).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use std::{io, sync::Arc};

    use sea_orm::{ConnAcquireErr, RuntimeErr, sqlx};

    use super::*;

    fn sqlx_error(err: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
    }

    /// What a request may try again later (503) against what is a bug (500).
    #[test]
    fn a_lost_database_is_unavailable_a_bad_query_is_not() {
        let unavailable = [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            sqlx_error(sqlx::Error::PoolTimedOut),
            sqlx_error(sqlx::Error::PoolClosed),
            sqlx_error(sqlx::Error::Io(io::Error::from(
                io::ErrorKind::ConnectionReset,
            ))),
        ];
        for err in &unavailable {
            assert!(is_unavailable(err), "{err}");
        }
        let bugs = [
            DbErr::RecordNotFound("x".into()),
            DbErr::Custom("x".into()),
            sqlx_error(sqlx::Error::RowNotFound),
            sqlx_error(sqlx::Error::ColumnNotFound("x".into())),
        ];
        for err in &bugs {
            assert!(!is_unavailable(err), "{err}");
        }
        for code in ["08006", "57P01", "57P03", "53300"] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
        for code in ["23505", "42601", "40001"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }
}
