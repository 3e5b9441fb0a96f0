//! Moving out: `kantlijn export FILE.json` writes the whole site, but its secrets,
//! sessions and tokens, in the format of [`format`] (read back by
//! `crate::import::kantlijn`).
//!
//! The file is written a page of rows at a time from one consistent read of the
//! database, so a site of any size exports in little memory, into `FILE.tmp` (mode 0600:
//! it holds readers' e-mail addresses), which becomes `FILE` only when it is complete.

pub mod format;

use std::{
    fs::OpenOptions,
    io::{BufWriter, Write},
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

use anyhow::Context;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde::Serialize;

use crate::{
    entity::{
        articles, bans, comment_votes, comments, import_sources, mail_subscribers, moderation_log,
        privacy_log, settings_changes, users,
    },
    store::{self, Db, settings::SITE_SECRET},
};

/// Rows read per query.
const PAGE: u64 = 1000;

/// How many records of each table an export wrote, in the file's order.
pub type Counts = Vec<(&'static str, u64)>;

/// Writes the site to `path`, through `path.tmp`; an existing file is replaced only once
/// the new one is complete. (The file is written with blocking calls: this runs in the
/// command, not in a server's request.)
pub async fn to_file(db: &Db, path: &Path) -> anyhow::Result<Counts> {
    let temporary = temporary_path(path);
    // A FILE.tmp left by a run that died goes first; the new one is made afresh
    // (`create_new`: never through a link someone put there, never with other rights).
    match std::fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("cannot remove {}", temporary.display()));
        }
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("cannot create {}", temporary.display()))?;
    let written = async {
        let mut out = BufWriter::with_capacity(256 * 1024, file);
        let counts = write(db, &mut out).await?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        anyhow::Ok(counts)
    }
    .await
    .with_context(|| format!("writing {} failed", temporary.display()));
    let counts = match written {
        Ok(counts) => counts,
        Err(err) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(err);
        }
    };
    if let Err(err) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(err)
            .with_context(|| format!("cannot move {} to {}", temporary.display(), path.display()));
    }
    Ok(counts)
}

/// `FILE.json` -> `FILE.json.tmp`, beside it (so the rename stays on one file system).
fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes the whole site as one JSON document to `out`, from one snapshot of the
/// database. The bytes are exactly what `serde_json::to_writer_pretty` makes of a
/// [`format::Site`], and a newline.
pub async fn write(db: &Db, out: &mut impl Write) -> anyhow::Result<Counts> {
    let txn = store::export::snapshot(db).await?;
    let mut json = Json::start(out)?;
    let mut counts = Counts::new();
    counts.push((
        "users",
        table::<users::Entity, format::User, _>(&txn, &mut json, "users", users::Column::Id)
            .await?,
    ));
    counts.push((
        "articles",
        table::<articles::Entity, format::Article, _>(
            &txn,
            &mut json,
            "articles",
            articles::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "comments",
        table::<comments::Entity, format::Comment, _>(
            &txn,
            &mut json,
            "comments",
            comments::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "comment_votes",
        table::<comment_votes::Entity, format::Vote, _>(
            &txn,
            &mut json,
            "comment_votes",
            comment_votes::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "moderation_log",
        table::<moderation_log::Entity, format::LogEntry, _>(
            &txn,
            &mut json,
            "moderation_log",
            moderation_log::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "bans",
        table::<bans::Entity, format::Ban, _>(&txn, &mut json, "bans", bans::Column::Id).await?,
    ));
    // A site secret of an old version still in the settings is a secret; `serve` moves
    // it out on its first start, but an export must not depend on that. The search
    // index is not exported (it is made from what is): nor is the note of its version.
    let settings: Vec<format::Setting> = store::export::settings(&txn)
        .await?
        .into_iter()
        .filter(|s| s.key != SITE_SECRET && s.key != store::search::VERSION_KEY)
        .map(format::Setting::from)
        .collect();
    json.open_table("settings")?;
    for setting in &settings {
        json.record(setting)?;
    }
    json.close_table()?;
    counts.push(("settings", settings.len() as u64));
    counts.push((
        "settings_changes",
        table::<settings_changes::Entity, format::SettingChange, _>(
            &txn,
            &mut json,
            "settings_changes",
            settings_changes::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "import_sources",
        table::<import_sources::Entity, format::ImportSource, _>(
            &txn,
            &mut json,
            "import_sources",
            import_sources::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "mail_subscribers",
        table::<mail_subscribers::Entity, format::MailSubscriber, _>(
            &txn,
            &mut json,
            "mail_subscribers",
            mail_subscribers::Column::Id,
        )
        .await?,
    ));
    counts.push((
        "privacy_log",
        table::<privacy_log::Entity, format::PrivacyLogEntry, _>(
            &txn,
            &mut json,
            "privacy_log",
            privacy_log::Column::Id,
        )
        .await?,
    ));
    json.finish()?;
    txn.commit().await?;
    Ok(counts)
}

/// Writes one table a page at a time; returns how many records it wrote.
async fn table<E, R, W>(
    db: &impl ConnectionTrait,
    json: &mut Json<'_, W>,
    name: &str,
    id: E::Column,
) -> anyhow::Result<u64>
where
    E: EntityTrait,
    R: From<E::Model> + Serialize + HasId,
    W: Write,
{
    json.open_table(name)?;
    let mut after = 0;
    let mut count = 0;
    loop {
        let rows = store::export::page::<E>(db, id, after, PAGE).await?;
        let Some(last) = rows.len().checked_sub(1) else {
            break;
        };
        for (i, row) in rows.into_iter().enumerate() {
            let record = R::from(row);
            if i == last {
                after = record.id();
            }
            json.record(&record)?;
            count += 1;
        }
    }
    json.close_table()?;
    Ok(count)
}

/// A record's id, where the next page starts.
trait HasId {
    fn id(&self) -> i32;
}

macro_rules! has_id {
    ($($record:ident),*) => {
        $(impl HasId for format::$record {
            fn id(&self) -> i32 {
                self.id
            }
        })*
    };
}

has_id!(
    User,
    Article,
    Comment,
    Vote,
    LogEntry,
    Ban,
    SettingChange,
    ImportSource,
    MailSubscriber,
    PrivacyLogEntry
);

/// The document, written piece by piece in serde_json's pretty layout (two spaces per
/// level), so that the streamed file is byte for byte what serde would write of the
/// whole [`format::Site`].
struct Json<'a, W: Write> {
    out: &'a mut W,
    /// Records written in the open table.
    in_table: u64,
    /// Reused for each record before it is indented into the file.
    buffer: Vec<u8>,
}

impl<'a, W: Write> Json<'a, W> {
    fn start(out: &'a mut W) -> anyhow::Result<Self> {
        write!(
            out,
            "{{\n  \"format\": {},\n  \"format_version\": {}",
            serde_json::to_string(format::FORMAT)?,
            format::VERSION
        )?;
        Ok(Self {
            out,
            in_table: 0,
            buffer: Vec::new(),
        })
    }

    fn open_table(&mut self, name: &str) -> anyhow::Result<()> {
        write!(self.out, ",\n  {}: [", serde_json::to_string(name)?)?;
        self.in_table = 0;
        Ok(())
    }

    fn record(&mut self, record: &impl Serialize) -> anyhow::Result<()> {
        self.buffer.clear();
        serde_json::to_writer_pretty(&mut self.buffer, record)?;
        self.out
            .write_all(if self.in_table == 0 { b"\n" } else { b",\n" })?;
        // Two levels in: every line of the record moves four spaces right. A newline in
        // pretty JSON only ever ends a line (one inside a string is written `\n`).
        self.out.write_all(b"    ")?;
        for line in self.buffer.split_inclusive(|&b| b == b'\n') {
            self.out.write_all(line)?;
            if line.ends_with(b"\n") {
                self.out.write_all(b"    ")?;
            }
        }
        self.in_table += 1;
        Ok(())
    }

    fn close_table(&mut self) -> anyhow::Result<()> {
        self.out
            .write_all(if self.in_table == 0 { b"]" } else { b"\n  ]" })?;
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        self.out.write_all(b"\n}\n")?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::{format::*, *};
    use crate::domain::states::{ArticleStatus, CommentStatus, Role};

    fn at(second: u32) -> Timestamp {
        Timestamp(Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, second).unwrap())
    }

    /// The streamed layout is serde's own pretty layout of the whole site.
    #[test]
    fn streamed_json_is_what_serde_writes_of_the_whole_site() {
        let site = Site {
            format: FORMAT.to_owned(),
            format_version: VERSION,
            users: vec![User {
                id: 1,
                username: "anna".into(),
                display_name: "Anna \"Ä\" de Vries".into(),
                role: Role::Admin,
                disabled: false,
                created_at: at(1),
                email: None,
                digest: true,
                digest_sent_at: Some(at(2)),
            }],
            articles: vec![Article {
                id: 3,
                slug: "een".into(),
                title: "Eén".into(),
                summary: String::new(),
                body_md: "regel\nregel\n\n    code".into(),
                status: ArticleStatus::Published,
                published_at: None,
                author_id: 1,
                reactions_open: true,
                created_at: at(3),
                updated_at: at(4),
            }],
            comments: (1..=2)
                .map(|id| Comment {
                    id,
                    article_id: 3,
                    parent_id: (id > 1).then_some(id - 1),
                    author_name: "Lien".into(),
                    author_email: "lien@example.nl".into(),
                    author_url: None,
                    body_md: "tekst".into(),
                    status: CommentStatus::Approved,
                    user_id: None,
                    ip_hash: String::new(),
                    created_at: at(5),
                    updated_at: at(6),
                    notify_replies: false,
                    reply_notified: false,
                    featured_at: (id == 2).then(|| at(7)),
                    helpful_count: i32::from(id == 1),
                })
                .collect(),
            comment_votes: vec![Vote {
                id: 1,
                comment_id: 1,
                voter: Some("ab".into()),
                ip_hash: None,
                created_at: at(8),
            }],
            settings: vec![Setting {
                key: "k".into(),
                value: "v".into(),
                updated_at: at(7),
            }],
            ..Site::default()
        };
        let mut streamed = Vec::new();
        {
            let mut json = Json::start(&mut streamed).unwrap();
            json.open_table("users").unwrap();
            site.users.iter().for_each(|r| json.record(r).unwrap());
            json.close_table().unwrap();
            json.open_table("articles").unwrap();
            site.articles.iter().for_each(|r| json.record(r).unwrap());
            json.close_table().unwrap();
            json.open_table("comments").unwrap();
            site.comments.iter().for_each(|r| json.record(r).unwrap());
            json.close_table().unwrap();
            json.open_table("comment_votes").unwrap();
            site.comment_votes
                .iter()
                .for_each(|r| json.record(r).unwrap());
            json.close_table().unwrap();
            for name in ["moderation_log", "bans"] {
                json.open_table(name).unwrap();
                json.close_table().unwrap();
            }
            json.open_table("settings").unwrap();
            site.settings.iter().for_each(|r| json.record(r).unwrap());
            json.close_table().unwrap();
            for name in [
                "settings_changes",
                "import_sources",
                "mail_subscribers",
                "privacy_log",
            ] {
                json.open_table(name).unwrap();
                json.close_table().unwrap();
            }
            json.finish().unwrap();
        }
        let whole = serde_json::to_string_pretty(&site).unwrap() + "\n";
        assert_eq!(String::from_utf8(streamed).unwrap(), whole);
    }
}
