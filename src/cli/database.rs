//! Which database a command uses, named on its first line, and checked before anything
//! is created, so that a mistake gets one line that says what to do.

use std::{
    fmt,
    io::ErrorKind,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use anyhow::bail;
use sea_orm::sqlx::{
    self, Connection,
    postgres::{PgConnectOptions, PgConnection},
    sqlite::SqliteConnectOptions,
};

use crate::store::{self, Db};

/// How long a PostgreSQL server may take to answer the first connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A database URL, understood.
#[derive(Clone, Debug)]
pub enum Target {
    Sqlite {
        url: String,
        /// Absolute, so that messages say where a relative path led.
        path: PathBuf,
        /// `?mode=rwc`: the file may be created.
        create: bool,
        read_only: bool,
    },
    /// `sqlite::memory:`, for tests.
    Memory { url: String },
    Postgres {
        url: String,
        options: Box<PgConnectOptions>,
    },
}

impl Target {
    /// Reads a `--database-url` value; `flag` names how it was given, for the message.
    pub fn parse(url: &str, flag: &str) -> anyhow::Result<Self> {
        let url = url.trim();
        let hint = "use sqlite://PATH?mode=rwc or postgres://USER:PASSWORD@HOST/DATABASE";
        if url.starts_with("sqlite:") {
            let query = url.split_once('?').map_or("", |(_, q)| q);
            let mode = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("mode="))
                .unwrap_or("rw");
            if url.contains(":memory:") || mode == "memory" {
                return Ok(Self::Memory {
                    url: url.to_owned(),
                });
            }
            let options = SqliteConnectOptions::from_str(url).map_err(|e| {
                anyhow::anyhow!("{flag}: {url:?} is not a SQLite URL ({e}); {hint}")
            })?;
            let path = options.get_filename();
            if path.as_os_str().is_empty() {
                bail!("{flag}: {url:?} names no file; {hint}");
            }
            let path = std::env::current_dir()
                .map(|dir| dir.join(path))
                .unwrap_or_else(|_| path.to_owned());
            Ok(Self::Sqlite {
                url: url.to_owned(),
                path,
                create: mode == "rwc",
                read_only: mode == "ro",
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(|e| {
                anyhow::anyhow!(
                    "{flag}: {:?} is not a PostgreSQL URL ({e}); {hint}",
                    redact(url)
                )
            })?;
            Ok(Self::Postgres {
                url: url.to_owned(),
                options: Box::new(options),
            })
        } else {
            bail!("{flag}: {:?} is not a database URL; {hint}", redact(url))
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Memory { url } | Self::Postgres { url, .. } => url,
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Self::Sqlite { path, .. } => Some(path),
            _ => None,
        }
    }

    /// Prints which database the command uses: its first line of output.
    pub fn announce(&self) {
        println!("Database: {self}");
    }

    /// Checks that the database can be opened, before anything is created: the file's
    /// directory and permissions, or the PostgreSQL server, role and database.
    pub async fn check(&self) -> anyhow::Result<()> {
        match self {
            Self::Memory { .. } => Ok(()),
            Self::Sqlite {
                path,
                create,
                read_only,
                ..
            } => check_sqlite(path, *create, *read_only),
            Self::Postgres { options, .. } => check_postgres(options).await,
        }
    }

    /// Opens the pools, without migrating.
    pub async fn connect(&self) -> anyhow::Result<Db> {
        Db::connect(self.url())
            .await
            .map_err(|e| anyhow::anyhow!("cannot open {self}: {}", one_line_db(&e)))
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self, db: &Db) -> anyhow::Result<()> {
        let one_at_a_time = super::lock::migrations(self).await?;
        let migrated = store::migrate(db).await;
        if let Some(lock) = one_at_a_time {
            // Closing the session releases the lock; a failure here changes nothing.
            let _ = lock.close().await;
        }
        migrated.map_err(|e| {
            let mut message = format!("migrating {self} failed: {}", one_line_db(&e));
            if matches!(self, Self::Postgres { .. }) && message.contains("permission denied") {
                message.push_str(
                    "; the role needs to create tables in this database: make it the \
                     database's owner (createdb --owner ROLE, or ALTER DATABASE ... OWNER TO ROLE)",
                );
            }
            anyhow::anyhow!(message)
        })
    }

    /// Checks, connects and migrates: what every command but `demo` does.
    pub async fn open(&self) -> anyhow::Result<Db> {
        self.check().await?;
        let db = self.connect().await?;
        self.migrate(&db).await?;
        Ok(db)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite { path, .. } => write!(f, "SQLite {}", path.display()),
            Self::Memory { .. } => f.write_str("SQLite in memory"),
            Self::Postgres { url, .. } => write!(f, "PostgreSQL {}", redact(url)),
        }
    }
}

/// A database URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn check_sqlite(path: &Path, create: bool, read_only: bool) -> anyhow::Result<()> {
    let shown = path.display();
    let dir = path.parent().unwrap_or(Path::new("/"));
    let dir_shown = dir.display();
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => bail!("{shown} is a directory, not a database file"),
        Ok(_) if read_only => Ok(()),
        Ok(_) => {
            if !writable(path) {
                bail!(
                    "cannot write to {shown}: permission denied; the user running kantlijn \
                     needs to write the file and its directory"
                );
            }
            if !writable(dir) {
                bail!(
                    "cannot write in {dir_shown}: permission denied; SQLite keeps its -wal and \
                     -shm files beside the database, so the user running kantlijn needs to \
                     write the directory"
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if !dir.is_dir() {
                bail!(
                    "cannot create {shown}: the directory {dir_shown} does not exist; create \
                     it first (mkdir -p {dir_shown})"
                );
            }
            if !create {
                bail!(
                    "{shown} does not exist; to create it, add ?mode=rwc to the URL \
                     (sqlite://{shown}?mode=rwc)"
                );
            }
            if !writable(dir) {
                bail!(
                    "cannot create {shown}: permission denied in {dir_shown}; the user \
                     running kantlijn needs to write that directory"
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            bail!("cannot open {shown}: permission denied on the way to it")
        }
        Err(e) => bail!("cannot open {shown}: {e}"),
    }
}

/// Whether this process may write `path`, as the kernel would decide.
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c_path` is a valid NUL-terminated string that outlives the call.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
}

async fn check_postgres(options: &PgConnectOptions) -> anyhow::Result<()> {
    let server = format!("{}:{}", options.get_host(), options.get_port());
    let user = options.get_username();
    let database = options.get_database().unwrap_or(user);
    let attempt = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options));
    let error = match attempt.await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(());
        }
        Ok(Err(error)) => error,
        Err(_) => bail!(
            "PostgreSQL at {server} did not answer within {} s; check the host and port, \
             and that nothing between here and there drops the connection",
            CONNECT_TIMEOUT.as_secs()
        ),
    };
    match &error {
        sqlx::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => bail!(
            "cannot connect to PostgreSQL at {server}: connection refused; is the server \
             running, and is this its host and port?"
        ),
        sqlx::Error::Io(io) => bail!("cannot connect to PostgreSQL at {server}: {io}"),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("3D000") => bail!(
                "PostgreSQL at {server} has no database \"{database}\"; create it, e.g. \
                 `createdb --owner {user} {database}` (README: PostgreSQL)"
            ),
            Some("28000") if db.message().contains("does not exist") => bail!(
                "PostgreSQL at {server} has no role \"{user}\"; create it, e.g. \
                 `createuser --pwprompt {user}` (README: PostgreSQL)"
            ),
            Some("28P01") => bail!(
                "PostgreSQL at {server} refused the password of \"{user}\"; check the \
                 password in the URL"
            ),
            _ => bail!(
                "PostgreSQL at {server} refused \"{user}\" on \"{database}\": {}",
                db.message()
            ),
        },
        other => bail!("cannot connect to PostgreSQL at {server}: {other}"),
    }
}

/// A database error on one line, without the repetition sea-orm's wrapping adds.
fn one_line_db(error: &sea_orm::DbErr) -> String {
    let text = crate::cli::one_line(error);
    text.strip_prefix("Connection Error: ")
        .or_else(|| text.strip_prefix("Execution Error: "))
        .unwrap_or(&text)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_understood_and_passwords_hidden() {
        let target = Target::parse("sqlite://kantlijn.db?mode=rwc", "--database-url").unwrap();
        let path = target.sqlite_path().unwrap();
        assert!(path.is_absolute() && path.ends_with("kantlijn.db"));
        assert!(matches!(target, Target::Sqlite { create: true, .. }));
        assert!(matches!(
            Target::parse("sqlite:///tmp/x.db", "f").unwrap(),
            Target::Sqlite { create: false, .. }
        ));
        assert!(matches!(
            Target::parse("sqlite::memory:", "f").unwrap(),
            Target::Memory { .. }
        ));
        let pg = Target::parse("postgres://kantlijn:geheim@db.example:5433/site", "f").unwrap();
        assert_eq!(
            pg.to_string(),
            "PostgreSQL postgres://kantlijn:***@db.example:5433/site"
        );
        let err = Target::parse("mysql://root:geheim@x/y", "KANTLIJN_DATABASE_URL").unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("KANTLIJN_DATABASE_URL: "), "{err}");
        assert!(!err.contains("geheim"), "{err}");
    }
}
