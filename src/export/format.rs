//! The Kantlijn export format, version 2: one JSON object per site, one record type per
//! table, written by `kantlijn export` and read by `kantlijn import kantlijn`. These types
//! are its only definition in code; `docs/export-format.md` describes it for people and
//! `docs/export-format.schema.json` for programs (a test holds the three together).
//!
//! Every table is an array ordered by id (settings by key), every record an object whose
//! keys come in the order of its struct. Timestamps are RFC 3339 in UTC with exactly six
//! decimals (`2026-12-01T09:30:00.123456Z`), so that SQLite (which keeps nanoseconds) and
//! PostgreSQL (microseconds) write the same text. States are their stored names.
//!
//! Left out on purpose: password hashes, sessions, API tokens, reactions' edit keys
//! (proof tokens), queued mail, privacy links and background job runs: secrets, or
//! things that only make sense on the machine that made them. Rendered HTML is left out
//! too: it is derived from the Markdown, and the import renders and sanitises it again,
//! so that no HTML from a file is ever trusted.
//!
//! Version 2 added reactions' `featured_at` and `helpful_count` and the table
//! `comment_votes`; a version 1 file is upgraded as JSON before it is read
//! ([`upgrade_from_1`]).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{
    domain::states::{ArticleStatus, CommentStatus, LogAction, Role},
    entity::{
        articles, bans, comment_votes, comments, import_sources, mail_subscribers, moderation_log,
        privacy_log, settings, settings_changes, users,
    },
};

/// The value of the top-level `format` key.
pub const FORMAT: &str = "kantlijn-export";
/// The version this build writes and the newest it reads.
pub const VERSION: u32 = 2;

/// The tables of the file, in the order they are written and imported (each after the
/// tables it refers to).
pub const TABLES: [&str; 11] = [
    "users",
    "articles",
    "comments",
    "comment_votes",
    "moderation_log",
    "bans",
    "settings",
    "settings_changes",
    "import_sources",
    "mail_subscribers",
    "privacy_log",
];

/// The tables the export leaves out on purpose: secrets and proof tokens (sessions, API
/// tokens), mail waiting to be sent, privacy links, and when background jobs last ran.
/// Every other table of the schema is in [`TABLES`] (a test holds the two to the schema).
pub const LEFT_OUT: [&str; 7] = [
    "sessions",
    "api_tokens",
    "outbox",
    "privacy_requests",
    "job_runs",
    // Made from the articles and reactions; built again after an import.
    "search_documents",
    // Not in the format yet: links under a renamed article's former slug.
    "former_slugs",
];

/// A whole export, as the import reads it (the export writes the same shape a record at
/// a time, see `export::write`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub format: String,
    pub format_version: u32,
    pub users: Vec<User>,
    pub articles: Vec<Article>,
    pub comments: Vec<Comment>,
    pub comment_votes: Vec<Vote>,
    pub moderation_log: Vec<LogEntry>,
    pub bans: Vec<Ban>,
    pub settings: Vec<Setting>,
    pub settings_changes: Vec<SettingChange>,
    pub import_sources: Vec<ImportSource>,
    pub mail_subscribers: Vec<MailSubscriber>,
    pub privacy_log: Vec<PrivacyLogEntry>,
}

/// The first two keys, read before the rest: a file of a newer version is refused for
/// its version, not for a field this build does not know.
#[derive(Debug, Default, Deserialize)]
pub struct Header {
    #[serde(default)]
    pub format: Option<serde_json::Value>,
    #[serde(default)]
    pub format_version: Option<serde_json::Value>,
}

/// A moment, written as RFC 3339 UTC with microseconds and read back only in that form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// The text the file holds: what is stored, cut to microseconds.
    pub fn text(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Reads exactly what [`Timestamp::text`] writes.
    pub fn parse(text: &str) -> Option<Self> {
        let parsed = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
        let moment = Self(parsed);
        (moment.text() == text).then_some(moment)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(moment: DateTime<Utc>) -> Self {
        Self(moment)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl de::Visitor<'_> for Text {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a UTC time like \"2026-12-01T09:30:00.123456Z\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
                Timestamp::parse(text).ok_or_else(|| {
                    E::custom(format!(
                        "{text:?} is not a UTC time written like \"2026-12-01T09:30:00.123456Z\" \
                         (six decimals, Z)"
                    ))
                })
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// A staff account, without its password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: Timestamp,
    pub email: Option<String>,
    pub digest: bool,
    pub digest_sent_at: Option<Timestamp>,
}

/// An article; its HTML is rendered again from `body_md` on import.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_md: String,
    pub status: ArticleStatus,
    pub published_at: Option<Timestamp>,
    pub author_id: i32,
    pub reactions_open: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A reaction, without its edit key; its HTML is rendered again from `body_md`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comment {
    pub id: i32,
    pub article_id: i32,
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_md: String,
    pub status: CommentStatus,
    pub user_id: Option<i32>,
    pub ip_hash: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub notify_replies: bool,
    pub reply_notified: bool,
    pub featured_at: Option<Timestamp>,
    /// The number of its `comment_votes` (the import checks it).
    pub helpful_count: i32,
}

/// A reader's "Nuttig" vote: hashes only, no one is named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vote {
    pub id: i32,
    pub comment_id: i32,
    /// Keyed hash of the browser's vote cookie; `null` for a vote cast by address alone.
    pub voter: Option<String>,
    /// The address hash; `null` once retention cleared it.
    pub ip_hash: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEntry {
    pub id: i32,
    pub comment_id: i32,
    pub actor: String,
    pub action: LogAction,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reason: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ban {
    pub id: i32,
    /// `email` or `ip_hash`.
    pub kind: String,
    pub value: String,
    pub reason: Option<String>,
    pub expires_at: Option<Timestamp>,
    pub created_by: Option<i32>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingChange {
    pub id: i32,
    pub key: String,
    pub old_value: Option<String>,
    pub new_value: String,
    pub user_id: Option<i32>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSource {
    pub id: i32,
    pub source: String,
    /// `article` or `comment`.
    pub kind: String,
    pub source_id: String,
    /// The article's or reaction's id here (it may be gone since: retention deletes
    /// unhandled reactions, and their origin stays so a re-import does not bring them back).
    pub local_id: i32,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSubscriber {
    pub id: i32,
    pub email: String,
    pub confirmed_at: Option<Timestamp>,
    pub unsubscribed_at: Option<Timestamp>,
    pub confirmation_sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyLogEntry {
    pub id: i32,
    pub action: String,
    pub actor: String,
    pub reactions: i32,
    pub created_at: Timestamp,
}

fn stamp(moment: Option<DateTime<Utc>>) -> Option<Timestamp> {
    moment.map(Timestamp)
}

fn moment(stamp: Option<Timestamp>) -> Option<DateTime<Utc>> {
    stamp.map(|t| t.0)
}

impl From<users::Model> for User {
    fn from(m: users::Model) -> Self {
        Self {
            id: m.id,
            username: m.username,
            display_name: m.display_name,
            role: m.role,
            disabled: m.disabled,
            created_at: m.created_at.into(),
            email: m.email,
            digest: m.digest,
            digest_sent_at: stamp(m.digest_sent_at),
        }
    }
}

impl User {
    /// The row, with a password hash that matches no password.
    pub fn into_model(self, password_hash: &str) -> users::Model {
        users::Model {
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            password_hash: password_hash.to_owned(),
            role: self.role,
            disabled: self.disabled,
            created_at: self.created_at.0,
            email: self.email,
            digest: self.digest,
            digest_sent_at: moment(self.digest_sent_at),
        }
    }
}

impl From<articles::Model> for Article {
    fn from(m: articles::Model) -> Self {
        Self {
            id: m.id,
            slug: m.slug,
            title: m.title,
            summary: m.summary,
            body_md: m.body_md,
            status: m.status,
            published_at: stamp(m.published_at),
            author_id: m.author_id,
            reactions_open: m.reactions_open,
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

impl Article {
    /// The row, with `body_html` as rendered from `body_md` by the caller.
    pub fn into_model(self, body_html: String) -> articles::Model {
        articles::Model {
            id: self.id,
            slug: self.slug,
            title: self.title,
            summary: self.summary,
            body_md: self.body_md,
            body_html,
            status: self.status,
            published_at: moment(self.published_at),
            author_id: self.author_id,
            reactions_open: self.reactions_open,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
        }
    }
}

impl From<comments::Model> for Comment {
    fn from(m: comments::Model) -> Self {
        Self {
            id: m.id,
            article_id: m.article_id,
            parent_id: m.parent_id,
            author_name: m.author_name,
            author_email: m.author_email,
            author_url: m.author_url,
            body_md: m.body_md,
            status: m.status,
            user_id: m.user_id,
            ip_hash: m.ip_hash,
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
            notify_replies: m.notify_replies,
            reply_notified: m.reply_notified,
            featured_at: stamp(m.featured_at),
            helpful_count: m.helpful_count,
        }
    }
}

impl Comment {
    /// The row, with `body_html` as rendered from `body_md` by the caller, and no edit
    /// key (the reader's cookie for it was made for the old site anyway).
    pub fn into_model(self, body_html: String) -> comments::Model {
        comments::Model {
            id: self.id,
            article_id: self.article_id,
            parent_id: self.parent_id,
            author_name: self.author_name,
            author_email: self.author_email,
            author_url: self.author_url,
            body_md: self.body_md,
            body_html,
            status: self.status,
            user_id: self.user_id,
            ip_hash: self.ip_hash,
            edit_key_hash: None,
            created_at: self.created_at.0,
            updated_at: self.updated_at.0,
            notify_replies: self.notify_replies,
            reply_notified: self.reply_notified,
            featured_at: moment(self.featured_at),
            helpful_count: self.helpful_count,
        }
    }
}

/// Records whose row has exactly the record's fields convert both ways.
macro_rules! same_fields {
    ($record:ident, $model:path, [$($field:ident),*], [$($time:ident),*], [$($optional_time:ident),*]) => {
        impl From<$model> for $record {
            fn from(m: $model) -> Self {
                Self {
                    $($field: m.$field,)*
                    $($time: m.$time.into(),)*
                    $($optional_time: stamp(m.$optional_time),)*
                }
            }
        }

        impl From<$record> for $model {
            fn from(r: $record) -> Self {
                Self {
                    $($field: r.$field,)*
                    $($time: r.$time.0,)*
                    $($optional_time: moment(r.$optional_time),)*
                }
            }
        }
    };
}

same_fields!(
    Vote,
    comment_votes::Model,
    [id, comment_id, voter, ip_hash],
    [created_at],
    []
);
same_fields!(
    LogEntry,
    moderation_log::Model,
    [
        id,
        comment_id,
        actor,
        action,
        from_status,
        to_status,
        reason
    ],
    [created_at],
    []
);
same_fields!(
    Ban,
    bans::Model,
    [id, kind, value, reason, created_by],
    [created_at],
    [expires_at]
);
same_fields!(Setting, settings::Model, [key, value], [updated_at], []);
same_fields!(
    SettingChange,
    settings_changes::Model,
    [id, key, old_value, new_value, user_id],
    [created_at],
    []
);
same_fields!(
    ImportSource,
    import_sources::Model,
    [id, source, kind, source_id, local_id],
    [created_at],
    []
);
same_fields!(
    MailSubscriber,
    mail_subscribers::Model,
    [id, email],
    [created_at],
    [confirmed_at, unsubscribed_at, confirmation_sent_at]
);
same_fields!(
    PrivacyLogEntry,
    privacy_log::Model,
    [id, action, actor, reactions],
    [created_at],
    []
);

/// A format 1 file as format 2: reactions gain `featured_at` (none) and
/// `helpful_count` (0), and the file an empty `comment_votes`. Anything that is not a
/// format 1 file is left as it is, for the reading to refuse.
pub fn upgrade_from_1(file: &mut serde_json::Value) {
    let Some(site) = file.as_object_mut() else {
        return;
    };
    if site
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        != Some(1)
    {
        return;
    }
    if let Some(comments) = site
        .get_mut("comments")
        .and_then(serde_json::Value::as_array_mut)
    {
        for comment in comments.iter_mut().filter_map(|c| c.as_object_mut()) {
            comment.insert("featured_at".to_owned(), serde_json::Value::Null);
            comment.insert("helpful_count".to_owned(), 0.into());
        }
    }
    site.insert(
        "comment_votes".to_owned(),
        serde_json::Value::Array(Vec::new()),
    );
    site.insert("format_version".to_owned(), VERSION.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_with_microseconds_in_utc_and_read_back_only_so() {
        let moment = DateTime::parse_from_rfc3339("2026-12-01T10:30:00.123456789+01:00")
            .unwrap()
            .with_timezone(&Utc);
        let text = Timestamp(moment).text();
        assert_eq!(text, "2026-12-01T09:30:00.123456Z");
        let back = Timestamp::parse(&text).unwrap();
        assert_eq!(back.text(), text);
        for other in [
            "2026-12-01T09:30:00Z",
            "2026-12-01T09:30:00.123Z",
            "2026-12-01T10:30:00.123456+01:00",
            "2026-12-01T09:30:00.123456+00:00",
            "2026-12-01 09:30:00.123456Z",
            "gisteren",
        ] {
            assert_eq!(Timestamp::parse(other), None, "{other}");
            let json = format!("{other:?}");
            assert!(serde_json::from_str::<Timestamp>(&json).is_err(), "{other}");
        }
    }

    #[test]
    fn a_format_1_file_is_upgraded_to_no_votes_and_nothing_featured() {
        let mut file = serde_json::json!({
            "format": FORMAT,
            "format_version": 1,
            "comments": [{"id": 1}, {"id": 2}],
        });
        upgrade_from_1(&mut file);
        assert_eq!(file["format_version"], VERSION);
        assert_eq!(file["comment_votes"], serde_json::json!([]));
        for comment in file["comments"].as_array().unwrap() {
            assert_eq!(comment["featured_at"], serde_json::Value::Null);
            assert_eq!(comment["helpful_count"], 0);
        }
        let mut newer = serde_json::json!({"format_version": 2, "comments": [{"id": 1}]});
        let before = newer.clone();
        upgrade_from_1(&mut newer);
        assert_eq!(newer, before, "only a format 1 file is touched");
    }

    #[test]
    fn a_record_with_a_field_the_format_does_not_have_is_refused() {
        let json = r#"{"key": "k", "value": "v", "updated_at": "2026-12-01T09:30:00.000000Z",
                       "extra": 1}"#;
        let err = serde_json::from_str::<Setting>(json).unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }
}
