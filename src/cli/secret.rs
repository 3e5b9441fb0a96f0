//! Where the site secret comes from. The key that hashes client addresses is derived from
//! it, so it must not live in the database those hashes are stored in: a copy of the
//! database alone would reverse every address by brute force (IPv4 has 2^32). Given
//! with `--secret` it is used as it is; otherwise it is kept in a file of its own, mode
//! 0600: beside a SQLite database by default, wherever `--secret-file` says.
//!
//! Earlier versions generated the secret into the database's settings. A secret found
//! there moves into the file on the first start, so that address hashes, bans and
//! readers' edit cookies stay valid; then it is deleted from the database.

use std::{
    fs::{self, OpenOptions},
    io::{ErrorKind, Write},
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use anyhow::Context;

use super::{database::Target, usage};
use crate::{
    config::Secret,
    security,
    store::{
        self, Db,
        settings::{SITE_SECRET, SITE_SECRET_CHECK},
    },
};

/// Where the secret of one run comes from.
#[derive(Debug)]
pub enum Source {
    Given(Secret),
    File(PathBuf),
    /// An in-memory database lives as long as the process; so does its secret.
    Fresh,
}

impl Source {
    /// Chooses from the flags and the database; `flag` names `--secret-file` as given.
    pub fn choose(
        secret: Option<Secret>,
        secret_file: Option<&Path>,
        target: &Target,
        flag: &str,
    ) -> anyhow::Result<Self> {
        if let Some(secret) = secret {
            return Ok(Self::Given(secret));
        }
        if let Some(path) = secret_file {
            let path = std::env::current_dir()
                .map(|dir| dir.join(path))
                .unwrap_or_else(|_| path.to_owned());
            return Ok(Self::File(path));
        }
        match target {
            Target::Sqlite { path, .. } => {
                let mut name = path.as_os_str().to_owned();
                name.push(".secret");
                Ok(Self::File(name.into()))
            }
            Target::Memory { .. } => Ok(Self::Fresh),
            Target::Postgres { .. } => Err(usage(format!(
                "on PostgreSQL the site secret is not kept in the database: give it with \
                 --secret (KANTLIJN_SECRET), or a file to keep it in with {flag} (created \
                 with mode 0600 when missing)"
            ))),
        }
    }

    /// The secret, from the flag or the file (made on the first start); a secret still
    /// kept in the database moves out of it. A secret other than the one the database
    /// was used with is refused: its address hashes, bans and readers' edit cookies would
    /// silently stop matching (a database restored without its secret file, say).
    pub async fn load(self, db: &Db) -> anyhow::Result<Secret> {
        let setting = |key| store::settings::get(db.write(), key);
        let stored = setting(SITE_SECRET)
            .await
            .context("reading the settings failed")?;
        let known = setting(SITE_SECRET_CHECK)
            .await
            .context("reading the settings failed")?;
        let differs = |secret: &Secret| {
            stored
                .as_ref()
                .is_some_and(|s| s.as_bytes() != secret.expose())
        };
        let secret = match self {
            Self::Fresh => Secret::parse(&security::random_token())?,
            Self::Given(secret) => {
                anyhow::ensure!(
                    !differs(&secret),
                    "the database still holds the site secret it was used with, and --secret \
                     gives another; start once with --secret-file instead (the stored secret \
                     moves into that file), or give the stored one"
                );
                secret
            }
            Self::File(path) => {
                anyhow::ensure!(
                    path.exists() || stored.is_some() || known.is_none(),
                    "the site secret file {} is missing, but this database was used with a \
                     site secret: put the file back (back it up with the database), or give \
                     the secret with --secret",
                    path.display()
                );
                let candidate = stored.clone().unwrap_or_else(security::random_token);
                let (secret, created) = read_or_create(&path, &candidate)?;
                anyhow::ensure!(
                    !differs(&secret),
                    "{} holds another site secret than the one the database still holds; \
                     move the file aside and start again to move the stored one into it",
                    path.display()
                );
                if created {
                    let origin = if stored.is_some() {
                        "moved from the database"
                    } else {
                        "generated"
                    };
                    println!("Site secret {origin} into {}", path.display());
                }
                secret
            }
        };
        let check = security::secret_check(&secret);
        match known {
            Some(known) => anyhow::ensure!(
                known == check,
                "this is not the site secret the database was used with: its address hashes, \
                 bans and readers' edit links would stop matching. Give the right one; to \
                 change the secret on purpose, delete the setting {SITE_SECRET_CHECK} first"
            ),
            None => store::settings::set(db.write(), SITE_SECRET_CHECK, &check)
                .await
                .context("storing the site secret's check failed")?,
        }
        if stored.is_some() {
            store::settings::erase(db, SITE_SECRET)
                .await
                .context("deleting the site secret from the database failed")?;
        }
        Ok(secret)
    }
}

/// Reads the secret file, or creates it holding `candidate`; says whether it created it.
fn read_or_create(path: &Path, candidate: &str) -> anyhow::Result<(Secret, bool)> {
    let created = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut file) => {
            // The file and its name on disk before the database lets go of its copy.
            writeln!(file, "{candidate}")
                .and_then(|()| file.sync_all())
                .and_then(|()| match path.parent() {
                    Some(dir) => fs::File::open(dir)?.sync_all(),
                    None => Ok(()),
                })
                .with_context(|| format!("cannot write the site secret to {}", path.display()))?;
            true
        }
        Err(err) if err.kind() == ErrorKind::AlreadyExists => false,
        Err(err) => {
            return Err(err).with_context(|| {
                format!(
                    "cannot create the site secret file {}; the user running kantlijn needs \
                     to write its directory, or give --secret-file",
                    path.display()
                )
            });
        }
    };
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the site secret file {}", path.display()))?;
    let secret = Secret::parse(text.trim_end_matches(['\r', '\n']))
        .with_context(|| format!("the site secret in {}", path.display()))?;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            file = %path.display(),
            "the site secret file can be read by other users; make it private with chmod 600"
        );
    }
    Ok((secret, created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_file_is_private_and_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.db.secret");
        let candidate = "a".repeat(43);
        let (first, created) = read_or_create(&path, &candidate).unwrap();
        assert!(created);
        assert_eq!(first.expose(), candidate.as_bytes());
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, created) = read_or_create(&path, &"b".repeat(43)).unwrap();
        assert!(!created);
        assert_eq!(again, first);
    }

    #[test]
    fn a_short_secret_in_the_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kort.secret");
        fs::write(&path, "kort\n").unwrap();
        let err = read_or_create(&path, &"a".repeat(43)).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("kort.secret"), "{text}");
        assert!(text.contains("at least 32 characters"), "{text}");
    }
}
