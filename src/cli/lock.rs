//! One serving process per SQLite file. Each process keeps rendered pages in memory and
//! forgets them when it writes; a second process writing the same file would leave the
//! first serving stale pages. So `serve` and `demo` hold an advisory `flock` on a file
//! beside a SQLite database for as long as they run. On PostgreSQL any number of
//! instances may serve one database: they tell each other their changes
//! (`crate::instances`), and migrate one at a time ([`migrations`]). The CLI's other
//! commands (`user add`, `token create`, `migrate`) need no server lock: nothing they
//! write is on a cached page.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Seek, Write},
    os::fd::AsRawFd,
    path::Path,
};

use anyhow::{Context, bail};
use sea_orm::sqlx::{self, Connection, postgres::PgConnection};

use super::database::Target;

/// The PostgreSQL advisory lock of a migration: "KANTLIJN" in ASCII, plus three (the
/// retention job and the digest have plus one and two).
const MIGRATION_KEY: i64 = 0x4B41_4E54_4C49_4A4E + 3;

/// On PostgreSQL, a connection holding the migration lock, taken once every other
/// process migrating the same database is done: instances started together migrate one
/// after another, and the later ones find the work done. Close it (or drop it) to let
/// the next one in. SQLite needs none (one server per file, and its migrations take
/// the write lock).
pub async fn migrations(target: &Target) -> anyhow::Result<Option<PgConnection>> {
    let Target::Postgres { options, .. } = target else {
        return Ok(None);
    };
    let mut connection = PgConnection::connect_with(options)
        .await
        .with_context(|| format!("cannot connect to {target} to migrate it"))?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_KEY)
        .execute(&mut connection)
        .await
        .with_context(|| format!("cannot take the migration lock on {target}"))?;
    Ok(Some(connection))
}

/// Held while the server runs; released when dropped or when the process ends. What it
/// holds is never read: keeping the file open is the lock.
#[derive(Debug)]
pub enum InstanceLock {
    File(#[allow(dead_code)] File),
    None,
}

/// Takes the lock (SQLite only), or says which process holds it.
pub async fn acquire(target: &Target) -> anyhow::Result<InstanceLock> {
    match target {
        Target::Sqlite { path, .. } => lock_file(path).map(InstanceLock::File),
        Target::Memory { .. } | Target::Postgres { .. } => Ok(InstanceLock::None),
    }
}

fn lock_file(database: &Path) -> anyhow::Result<File> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let path = Path::new(&name);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    // SAFETY: a plain flock on a file descriptor this function owns.
    let taken = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    if !taken {
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = match holder.trim() {
            "" => String::new(),
            pid => format!(" (process {pid})"),
        };
        bail!(
            "another kantlijn server{holder} is already serving {}; two servers on one \
             SQLite file would show each other's changes late, so stop the other one first \
             (it holds {})",
            database.display(),
            path.display()
        );
    }
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())?;
    Ok(file)
}
