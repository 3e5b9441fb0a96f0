//! Changes readers could see, told to every instance on the same PostgreSQL.
//!
//! Each process keeps rendered pages in memory, kept honest by [`Versions`]. A writer
//! bumps the versions of its own process and, on PostgreSQL, sends the change with
//! `pg_notify` on [`CHANNEL`] before it answers; every other instance listens
//! (`crate::instances`) and bumps its own. PostgreSQL hands a notification to its
//! listeners when the statement sending it commits, so by the time the writer's client
//! has its answer, the notification is on its way to every other instance.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::Versions;

/// The PostgreSQL notification channel of the site's changes.
pub const CHANNEL: &str = "kantlijn_changes";

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// One article or its approved reactions, and with them the site's lists.
    Article(i32),
    /// Something only the article's own pages show (a reaction's vote count).
    ArticleOnly(i32),
    /// What the site lists (home page, feeds, recent reactions).
    Site,
    /// The site's settings: rate-limit quotas, moderation rules.
    Settings,
}

impl Change {
    /// Applies the change to this process's versions (settings have none).
    pub fn apply(self, versions: &Versions) {
        match self {
            Self::Article(id) => versions.article_changed(id),
            Self::ArticleOnly(id) => versions.only_article_changed(id),
            Self::Site => versions.site_changed(),
            Self::Settings => {}
        }
    }

    /// The notification's payload: the sending instance, then the change.
    pub fn encode(self, instance: u64) -> String {
        match self {
            Self::Article(id) => format!("{instance:x} article {id}"),
            Self::ArticleOnly(id) => format!("{instance:x} article-only {id}"),
            Self::Site => format!("{instance:x} site"),
            Self::Settings => format!("{instance:x} settings"),
        }
    }

    /// The sender and change of a payload made by [`Change::encode`].
    pub fn decode(payload: &str) -> Option<(u64, Self)> {
        let mut words = payload.split(' ');
        let instance = u64::from_str_radix(words.next()?, 16).ok()?;
        let id = |word: Option<&str>| word.and_then(|w| w.parse::<i32>().ok());
        let change = match words.next()? {
            "article" => Self::Article(id(words.next())?),
            "article-only" => Self::ArticleOnly(id(words.next())?),
            "site" => Self::Site,
            "settings" => Self::Settings,
            _ => return None,
        };
        words.next().is_none().then_some((instance, change))
    }
}

/// Tells the other instances about `change` (PostgreSQL only; SQLite has one instance).
pub async fn publish(
    db: &impl ConnectionTrait,
    instance: u64,
    change: Change,
) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), change.encode(instance).into()],
    ))
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_as_written() {
        for change in [
            Change::Article(7),
            Change::ArticleOnly(i32::MAX),
            Change::Site,
            Change::Settings,
        ] {
            assert_eq!(
                Change::decode(&change.encode(0xfeed)),
                Some((0xfeed, change))
            );
        }
        for junk in [
            "",
            "x site",
            "1 article",
            "1 article x",
            "1 site 2",
            "1 nothing",
        ] {
            assert_eq!(Change::decode(junk), None, "{junk:?}");
        }
    }
}
