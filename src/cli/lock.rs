//! One serving process per database. Each process keeps rendered pages in memory and
//! forgets them when it writes; a second process writing the same database would leave
//! the first serving stale pages. So `serve` and `demo` hold a lock for as long as they
//! run: an advisory `flock` on a file beside a SQLite database, a session advisory lock
//! on PostgreSQL. The CLI's other commands (`user add`, `token create`, `migrate`) need
//! no lock: nothing they write is on a cached page.

use std::{
    fs::{File, OpenOptions},
    io::{Read, Seek, Write},
    os::fd::AsRawFd,
    path::Path,
};

use anyhow::{Context, bail};
use sea_orm::sqlx::{self, Connection, postgres::PgConnection};

use super::database::Target;

/// The PostgreSQL advisory lock key: "KANTLIJN" in ASCII.
const POSTGRES_KEY: i64 = 0x4B41_4E54_4C49_4A4E;

/// Held while the server runs; released when dropped or when the process ends. What it
/// holds is never read: keeping the file or the connection open is the lock.
#[derive(Debug)]
pub enum InstanceLock {
    File(#[allow(dead_code)] File),
    Postgres(#[allow(dead_code)] PgConnection),
    None,
}

/// Takes the lock, or says which process holds it.
pub async fn acquire(target: &Target) -> anyhow::Result<InstanceLock> {
    match target {
        Target::Memory { .. } => Ok(InstanceLock::None),
        Target::Sqlite { path, .. } => lock_file(path).map(InstanceLock::File),
        Target::Postgres { options, .. } => {
            let mut connection = PgConnection::connect_with(options)
                .await
                .with_context(|| format!("cannot connect to {target} to take its lock"))?;
            let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(POSTGRES_KEY)
                .fetch_one(&mut connection)
                .await
                .with_context(|| format!("cannot take the server lock on {target}"))?;
            if !locked {
                bail!(
                    "another kantlijn server is already serving {target}; two servers on \
                     one database would show each other's changes late, so stop the other \
                     one first"
                );
            }
            Ok(InstanceLock::Postgres(connection))
        }
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
