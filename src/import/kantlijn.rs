//! Moving in a whole site: `kantlijn import kantlijn FILE.json` reads a file of
//! `kantlijn export` (the format of [`crate::export::format`]) into an empty database.
//!
//! The file is read and checked whole before anything is written: its format and
//! version, every reference between its records (a reaction's article, its parent, a
//! log row's reaction, a user id), and what the database's unique keys and column sizes
//! would refuse. Then every row goes in with the id it had, in one transaction: a file
//! that fails anywhere leaves the database as it was. The whole file is held in memory
//! while it is checked, a few times its size on disk (a reaction with its log rows is
//! about 1 kB of file): simple and enough for a one-off move; the export, which runs
//! beside a live site, streams instead.
//!
//! Accounts come without passwords (the export has none): each gets
//! [`super::NO_PASSWORD`], which matches nothing, until `kantlijn user add NAME --role
//! ROLE` sets one. HTML is rendered and sanitised again from the Markdown.

use std::{
    collections::{HashMap, HashSet},
    fmt::Display,
    fs::File,
    io::BufReader,
    path::Path,
};

use anyhow::{Context, bail};

use crate::store::changes::Change;
use crate::{
    domain::{
        markdown,
        states::Role,
        validate::{Email, Slug, Username, WebUrl},
    },
    entity::{
        bans, comment_votes, import_sources, mail_subscribers, moderation_log, privacy_log,
        settings, settings_changes,
    },
    export::format::{Comment, FORMAT, Header, Site, VERSION, upgrade_from_1},
    store::{
        self, Db,
        export::insert_all,
        imports,
        settings::{SITE_SECRET, SITE_SECRET_CHECK},
    },
};

/// A file read and checked, ready to be written.
#[derive(Debug)]
pub struct Checked {
    site: Site,
    /// Indexes into `site.comments`: every reaction after its parent.
    comment_order: Vec<usize>,
}

/// What an import wrote.
#[derive(Debug)]
pub struct Summary {
    /// Rows per table, in the file's order.
    pub counts: Vec<(&'static str, u64)>,
    /// Every account: name, role, and whether it is disabled.
    pub accounts: Vec<(String, Role, bool)>,
    /// The file holds the check of the old site's secret: the site must run with it.
    pub secret_check: bool,
}

/// Reads `path` and checks it all. A mistake is one line naming what is wrong and
/// where: the table and the record's id, or the JSON path and line.
pub fn read(path: &Path) -> anyhow::Result<Checked> {
    let shown = path.display();
    let open = || {
        File::open(path)
            .map(|f| BufReader::with_capacity(256 * 1024, f))
            .with_context(|| format!("cannot open {shown}"))
    };
    // The header first: a newer file is refused for its version, not for a field or a
    // table this build does not know.
    let header: Header = serde_json::from_reader(open()?).map_err(|e| not_json(path, &e))?;
    let version = check_header(&header).map_err(|why| anyhow::anyhow!("{shown} {why}"))?;
    let at_path = |e: serde_path_to_error::Error<serde_json::Error>| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            anyhow::anyhow!("{shown}: {at}: {inner}")
        } else {
            not_json(path, &inner)
        }
    };
    let site: Site = if version == 1 {
        // An older file becomes the current format as JSON first, then is read as one.
        let mut file: serde_json::Value =
            serde_json::from_reader(open()?).map_err(|e| not_json(path, &e))?;
        upgrade_from_1(&mut file);
        serde_path_to_error::deserialize(file).map_err(at_path)?
    } else {
        let mut reader = serde_json::Deserializer::from_reader(open()?);
        let site = serde_path_to_error::deserialize(&mut reader).map_err(at_path)?;
        reader.end().map_err(|e| not_json(path, &e))?;
        site
    };
    let comment_order = check(&site).map_err(|why| anyhow::anyhow!("{shown}: {why}"))?;
    Ok(Checked {
        site,
        comment_order,
    })
}

fn not_json(path: &Path, err: &serde_json::Error) -> anyhow::Error {
    let shown = path.display();
    match err.classify() {
        serde_json::error::Category::Io => anyhow::anyhow!("cannot read {shown}: {err}"),
        serde_json::error::Category::Data => anyhow::anyhow!(
            "{shown} is not a Kantlijn export (a JSON object with \"format\": \"{FORMAT}\"): {err}"
        ),
        _ => anyhow::anyhow!("{shown} is not valid JSON: {err}"),
    }
}

/// The format's name and version (which is returned); the error completes "FILE ...".
fn check_header(header: &Header) -> Result<u32, String> {
    match header.format.as_ref().and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format!(
                "is not a Kantlijn export: its \"format\" is {other:?}, not \"{FORMAT}\""
            ));
        }
        None => {
            return Err(format!(
                "is not a Kantlijn export: it has no \"format\": \"{FORMAT}\""
            ));
        }
    }
    match header.format_version.as_ref().and_then(|v| v.as_u64()) {
        Some(v @ 1..) if v <= u64::from(VERSION) => Ok(u32::try_from(v).unwrap_or(VERSION)),
        Some(v) if v > u64::from(VERSION) => Err(format!(
            "was written by a newer Kantlijn (format version {v}; this one reads version \
             {VERSION}): import it with that version of kantlijn or a later one"
        )),
        _ => Err(format!(
            "has no valid \"format_version\" (this kantlijn reads version {VERSION})"
        )),
    }
}

/// One record's problem: `table: id ID: what`.
fn bad(table: &str, id: impl Display, what: impl Display) -> String {
    format!("{table}: id {id}: {what}")
}

/// Ids that must be unique and positive, as the table's primary key.
fn ids<'a>(table: &str, all: impl Iterator<Item = i32> + 'a) -> Result<HashSet<i32>, String> {
    let mut seen = HashSet::new();
    for id in all {
        if id < 1 {
            return Err(bad(table, id, "ids are positive"));
        }
        if !seen.insert(id) {
            return Err(bad(table, id, "the id appears twice"));
        }
    }
    Ok(seen)
}

/// A value the database keeps in a column of at most `max` characters.
fn fits(table: &str, id: impl Display, field: &str, value: &str, max: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length > max {
        return Err(bad(
            table,
            id,
            format!("{field} is {length} characters long; at most {max} fit"),
        ));
    }
    Ok(())
}

/// A value unique in its table.
/// Refuses a value that is not one the site would have stored.
fn valid(table: &str, id: impl Display, field: &str, ok: bool) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(bad(
            table,
            id,
            format!("its {field} is not a valid {field}"),
        ))
    }
}

fn once<'a>(
    table: &str,
    id: impl Display,
    field: &str,
    value: &'a str,
    seen: &mut HashSet<&'a str>,
) -> Result<(), String> {
    if !seen.insert(value) {
        return Err(bad(table, id, format!("{field} {value:?} appears twice")));
    }
    Ok(())
}

/// A reference to a user that must be in the file.
fn user_ref(
    table: &str,
    id: i32,
    field: &str,
    user: Option<i32>,
    users: &HashSet<i32>,
) -> Result<(), String> {
    match user {
        Some(user) if !users.contains(&user) => Err(bad(
            table,
            id,
            format!("its {field} {user} is not among the file's users"),
        )),
        _ => Ok(()),
    }
}

/// Checks every record against the others and against what the database accepts;
/// returns the order to write the reactions in (parents first).
fn check(site: &Site) -> Result<Vec<usize>, String> {
    let users = ids("users", site.users.iter().map(|u| u.id))?;
    let mut names = HashSet::new();
    for u in &site.users {
        once("users", u.id, "username", &u.username, &mut names)?;
        fits("users", u.id, "username", &u.username, 64)?;
        // Values the site checks where they are typed, checked again here: a file is
        // data from outside, and a name `user add` cannot reach locks its account out.
        valid(
            "users",
            u.id,
            "username",
            Username::parse(&u.username).is_ok(),
        )?;
        valid(
            "users",
            u.id,
            "email",
            u.email.as_deref().is_none_or(|e| Email::parse(e).is_ok()),
        )?;
        fits("users", u.id, "display_name", &u.display_name, 80)?;
        fits(
            "users",
            u.id,
            "email",
            u.email.as_deref().unwrap_or(""),
            254,
        )?;
    }

    let articles = ids("articles", site.articles.iter().map(|a| a.id))?;
    let mut slugs = HashSet::new();
    for a in &site.articles {
        once("articles", a.id, "slug", &a.slug, &mut slugs)?;
        fits("articles", a.id, "slug", &a.slug, 120)?;
        valid("articles", a.id, "slug", Slug::parse(&a.slug).is_ok())?;
        fits("articles", a.id, "title", &a.title, 200)?;
        user_ref("articles", a.id, "author_id", Some(a.author_id), &users)?;
    }

    ids("comments", site.comments.iter().map(|c| c.id))?;
    let article_of: HashMap<i32, i32> =
        site.comments.iter().map(|c| (c.id, c.article_id)).collect();
    for c in &site.comments {
        if !articles.contains(&c.article_id) {
            return Err(bad(
                "comments",
                c.id,
                format!(
                    "its article_id {} is not among the file's articles",
                    c.article_id
                ),
            ));
        }
        if let Some(parent) = c.parent_id {
            match article_of.get(&parent) {
                None => {
                    return Err(bad(
                        "comments",
                        c.id,
                        format!("its parent_id {parent} is not among the file's comments"),
                    ));
                }
                Some(&article) if article != c.article_id => {
                    return Err(bad(
                        "comments",
                        c.id,
                        format!(
                            "its parent {parent} is on article {article}, not on its own \
                             article {}",
                            c.article_id
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        user_ref("comments", c.id, "user_id", c.user_id, &users)?;
        fits("comments", c.id, "author_name", &c.author_name, 80)?;
        fits("comments", c.id, "author_email", &c.author_email, 254)?;
        fits(
            "comments",
            c.id,
            "author_url",
            c.author_url.as_deref().unwrap_or(""),
            2048,
        )?;
        fits("comments", c.id, "ip_hash", &c.ip_hash, 64)?;
        // The URL becomes a link on the page: only an http(s) address a reader could
        // have given.
        valid(
            "comments",
            c.id,
            "author_url",
            c.author_url
                .as_deref()
                .is_none_or(|url| matches!(WebUrl::parse_optional(url), Ok(Some(_)))),
        )?;
        valid(
            "comments",
            c.id,
            "author_email",
            c.author_email.is_empty() || Email::parse(&c.author_email).is_ok(),
        )?;
    }
    let comment_order = parents_first(&site.comments)?;
    check_votes(site, &article_of)?;

    ids("moderation_log", site.moderation_log.iter().map(|l| l.id))?;
    for l in &site.moderation_log {
        if !article_of.contains_key(&l.comment_id) {
            return Err(bad(
                "moderation_log",
                l.id,
                format!(
                    "its comment_id {} is not among the file's comments",
                    l.comment_id
                ),
            ));
        }
        fits("moderation_log", l.id, "actor", &l.actor, 64)?;
    }

    ids("bans", site.bans.iter().map(|b| b.id))?;
    for b in &site.bans {
        if store::bans::Kind::parse(&b.kind).is_none() {
            return Err(bad(
                "bans",
                b.id,
                format!("kind {:?} is neither \"email\" nor \"ip_hash\"", b.kind),
            ));
        }
        fits("bans", b.id, "value", &b.value, 254)?;
        user_ref("bans", b.id, "created_by", b.created_by, &users)?;
    }

    let mut keys = HashSet::new();
    for s in &site.settings {
        if s.key == SITE_SECRET {
            return Err(format!(
                "settings: key {SITE_SECRET}: the site secret is never exported (it lives in \
                 its own file); remove this record"
            ));
        }
        if !keys.insert(s.key.as_str()) {
            return Err(format!("settings: key {:?} appears twice", s.key));
        }
        if s.key.chars().count() > 64 {
            return Err(format!(
                "settings: key {:?} is longer than 64 characters",
                s.key
            ));
        }
    }

    ids(
        "settings_changes",
        site.settings_changes.iter().map(|s| s.id),
    )?;
    for s in &site.settings_changes {
        fits("settings_changes", s.id, "key", &s.key, 64)?;
        user_ref("settings_changes", s.id, "user_id", s.user_id, &users)?;
    }

    ids("import_sources", site.import_sources.iter().map(|s| s.id))?;
    let mut origins = HashSet::new();
    let kinds = [
        imports::Kind::Article.as_str(),
        imports::Kind::Comment.as_str(),
    ];
    for s in &site.import_sources {
        if !kinds.contains(&s.kind.as_str()) {
            return Err(bad(
                "import_sources",
                s.id,
                format!("kind {:?} is neither \"article\" nor \"comment\"", s.kind),
            ));
        }
        if !origins.insert((&s.source, &s.kind, &s.source_id)) {
            return Err(bad(
                "import_sources",
                s.id,
                format!("{} {} {:?} appears twice", s.source, s.kind, s.source_id),
            ));
        }
        fits("import_sources", s.id, "source", &s.source, 300)?;
        fits("import_sources", s.id, "source_id", &s.source_id, 100)?;
    }

    ids(
        "mail_subscribers",
        site.mail_subscribers.iter().map(|m| m.id),
    )?;
    let mut addresses = HashSet::new();
    for m in &site.mail_subscribers {
        once("mail_subscribers", m.id, "email", &m.email, &mut addresses)?;
        fits("mail_subscribers", m.id, "email", &m.email, 254)?;
    }

    ids("privacy_log", site.privacy_log.iter().map(|p| p.id))?;
    for p in &site.privacy_log {
        fits("privacy_log", p.id, "action", &p.action, 32)?;
        fits("privacy_log", p.id, "actor", &p.actor, 64)?;
    }
    Ok(comment_order)
}

/// Votes are on reactions in the file, one per browser per reaction, and each
/// reaction's `helpful_count` is the number of its votes.
fn check_votes(site: &Site, article_of: &HashMap<i32, i32>) -> Result<(), String> {
    ids("comment_votes", site.comment_votes.iter().map(|v| v.id))?;
    let mut counted: HashMap<i32, i32> = HashMap::new();
    let mut browsers = HashSet::new();
    for v in &site.comment_votes {
        if !article_of.contains_key(&v.comment_id) {
            return Err(bad(
                "comment_votes",
                v.id,
                format!(
                    "its comment_id {} is not among the file's comments",
                    v.comment_id
                ),
            ));
        }
        if let Some(voter) = &v.voter
            && !browsers.insert((v.comment_id, voter.as_str()))
        {
            return Err(bad(
                "comment_votes",
                v.id,
                format!("a second vote of one voter on comment {}", v.comment_id),
            ));
        }
        fits(
            "comment_votes",
            v.id,
            "voter",
            v.voter.as_deref().unwrap_or(""),
            64,
        )?;
        fits(
            "comment_votes",
            v.id,
            "ip_hash",
            v.ip_hash.as_deref().unwrap_or(""),
            64,
        )?;
        *counted.entry(v.comment_id).or_default() += 1;
    }
    for c in &site.comments {
        let votes = counted.get(&c.id).copied().unwrap_or(0);
        if c.helpful_count != votes {
            return Err(bad(
                "comments",
                c.id,
                format!(
                    "its helpful_count is {} but comment_votes holds {votes} votes on it",
                    c.helpful_count
                ),
            ));
        }
    }
    Ok(())
}

/// The order to write reactions in: by depth in their thread, then by id, so that every
/// reply comes after its parent (the database checks the reference). A loop of parents
/// is an error. Expects every parent to be among `comments`.
fn parents_first(comments: &[Comment]) -> Result<Vec<usize>, String> {
    const UNKNOWN: u32 = u32::MAX;
    let index: HashMap<i32, usize> = comments
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut depth = vec![UNKNOWN; comments.len()];
    let mut visited = vec![false; comments.len()];
    for start in 0..comments.len() {
        // Walk up to the first ancestor whose depth is known (or the top), then number
        // the way back down.
        let mut chain = Vec::new();
        let mut at = Some(start);
        let mut base = 0;
        while let Some(i) = at {
            if depth[i] != UNKNOWN {
                base = depth[i] + 1;
                break;
            }
            if visited[i] {
                return Err(bad(
                    "comments",
                    comments[i].id,
                    "its parents lead back to itself",
                ));
            }
            visited[i] = true;
            chain.push(i);
            at = comments[i].parent_id.and_then(|p| index.get(&p).copied());
        }
        for (steps, &i) in chain.iter().rev().enumerate() {
            depth[i] = base + u32::try_from(steps).unwrap_or(UNKNOWN - 1);
        }
    }
    let mut order: Vec<usize> = (0..comments.len()).collect();
    order.sort_by_key(|&i| (depth[i], comments[i].id));
    Ok(order)
}

/// Writes a checked file into `db`, which must hold no site: one transaction, refused
/// as a whole when any table the import fills already has rows.
pub async fn import(db: &Db, checked: Checked) -> anyhow::Result<Summary> {
    let Checked {
        site,
        comment_order,
    } = checked;
    // The single writer connection on SQLite: everything below goes through `txn`.
    let txn = db.begin().await?;
    let occupied = store::export::occupied(&txn).await?;
    if !occupied.is_empty() {
        let holds: Vec<String> = occupied.iter().map(|(t, n)| format!("{t}: {n}")).collect();
        bail!(
            "the database is not empty ({}): `kantlijn import kantlijn` only fills an empty \
             database; give the --database-url of a new one",
            holds.join(", ")
        );
    }
    let counts = vec![
        ("users", site.users.len() as u64),
        ("articles", site.articles.len() as u64),
        ("comments", site.comments.len() as u64),
        ("comment_votes", site.comment_votes.len() as u64),
        ("moderation_log", site.moderation_log.len() as u64),
        ("bans", site.bans.len() as u64),
        ("settings", site.settings.len() as u64),
        ("settings_changes", site.settings_changes.len() as u64),
        ("import_sources", site.import_sources.len() as u64),
        ("mail_subscribers", site.mail_subscribers.len() as u64),
        ("privacy_log", site.privacy_log.len() as u64),
    ];
    let accounts = site
        .users
        .iter()
        .map(|u| (u.username.clone(), u.role, u.disabled))
        .collect();
    let secret_check = site.settings.iter().any(|s| s.key == SITE_SECRET_CHECK);

    let what = |table: &str| format!("writing {table} failed; nothing was imported");
    insert_all(
        &txn,
        site.users
            .into_iter()
            .map(|u| u.into_model(super::NO_PASSWORD))
            .collect(),
    )
    .await
    .with_context(|| what("users"))?;
    insert_all(
        &txn,
        site.articles
            .into_iter()
            .map(|a| {
                let html = markdown::render_article(&a.body_md).into_inner();
                a.into_model(html)
            })
            .collect(),
    )
    .await
    .with_context(|| what("articles"))?;
    let mut comments: Vec<Option<Comment>> = site.comments.into_iter().map(Some).collect();
    insert_all(
        &txn,
        comment_order
            .into_iter()
            .filter_map(|i| comments[i].take())
            .map(|c| {
                let html = markdown::render_reaction(&c.body_md).into_inner();
                c.into_model(html)
            })
            .collect(),
    )
    .await
    .with_context(|| what("comments"))?;
    insert_all(
        &txn,
        into_rows::<_, comment_votes::Model>(site.comment_votes),
    )
    .await
    .with_context(|| what("comment_votes"))?;
    insert_all(
        &txn,
        into_rows::<_, moderation_log::Model>(site.moderation_log),
    )
    .await
    .with_context(|| what("moderation_log"))?;
    insert_all(&txn, into_rows::<_, bans::Model>(site.bans))
        .await
        .with_context(|| what("bans"))?;
    if secret_check {
        store::export::delete_setting(&txn, SITE_SECRET_CHECK).await?;
    }
    insert_all(&txn, into_rows::<_, settings::Model>(site.settings))
        .await
        .with_context(|| what("settings"))?;
    insert_all(
        &txn,
        into_rows::<_, settings_changes::Model>(site.settings_changes),
    )
    .await
    .with_context(|| what("settings_changes"))?;
    insert_all(
        &txn,
        into_rows::<_, import_sources::Model>(site.import_sources),
    )
    .await
    .with_context(|| what("import_sources"))?;
    insert_all(
        &txn,
        into_rows::<_, mail_subscribers::Model>(site.mail_subscribers),
    )
    .await
    .with_context(|| what("mail_subscribers"))?;
    insert_all(&txn, into_rows::<_, privacy_log::Model>(site.privacy_log))
        .await
        .with_context(|| what("privacy_log"))?;
    store::export::move_sequences_on(&txn)
        .await
        .context("moving the id sequences past the imported ids failed; nothing was imported")?;
    // The index is made from what was imported, not carried in the file.
    store::search::rebuild_in(&txn)
        .await
        .context("building the search index of the imported site failed; nothing was imported")?;
    txn.commit().await?;
    db.changed(Change::Site).await;
    Ok(Summary {
        counts,
        accounts,
        secret_check,
    })
}

/// Records as the rows of their table.
fn into_rows<R, M: From<R>>(records: Vec<R>) -> Vec<M> {
    records.into_iter().map(M::from).collect()
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{domain::states::CommentStatus, export::format::Timestamp};

    fn comment(id: i32, parent_id: Option<i32>) -> Comment {
        let now = Timestamp(Utc::now());
        Comment {
            id,
            article_id: 1,
            parent_id,
            author_name: "Lien".into(),
            author_email: String::new(),
            author_url: None,
            body_md: "tekst".into(),
            status: CommentStatus::Approved,
            user_id: None,
            ip_hash: String::new(),
            created_at: now,
            updated_at: now,
            notify_replies: false,
            reply_notified: false,
            featured_at: None,
            helpful_count: 0,
        }
    }

    #[test]
    fn replies_are_written_after_their_parents_whatever_their_ids() {
        let comments = vec![
            comment(5, Some(9)),
            comment(9, None),
            comment(2, Some(5)),
            comment(7, None),
            comment(3, Some(7)),
        ];
        let order: Vec<i32> = parents_first(&comments)
            .unwrap()
            .into_iter()
            .map(|i| comments[i].id)
            .collect();
        assert_eq!(order, [7, 9, 3, 5, 2]);
    }

    #[test]
    fn a_loop_of_parents_is_refused() {
        let comments = vec![comment(1, None), comment(2, Some(3)), comment(3, Some(2))];
        let err = parents_first(&comments).unwrap_err();
        assert!(err.starts_with("comments: id "), "{err}");
        assert!(err.contains("lead back to itself"), "{err}");
    }

    #[test]
    fn a_newer_or_a_foreign_file_is_refused_by_its_header() {
        let header = |json: &str| serde_json::from_str::<Header>(json).unwrap();
        assert!(
            check_header(&header(
                r#"{"format": "kantlijn-export", "format_version": 1}"#
            ))
            .is_ok()
        );
        assert_eq!(
            check_header(&header(
                r#"{"format": "kantlijn-export", "format_version": 2}"#
            )),
            Ok(2)
        );
        let newer = check_header(&header(
            r#"{"format": "kantlijn-export", "format_version": 3, "x": []}"#,
        ))
        .unwrap_err();
        assert!(newer.contains("written by a newer Kantlijn"), "{newer}");
        let foreign =
            check_header(&header(r#"{"format": "wxr", "format_version": 1}"#)).unwrap_err();
        assert!(foreign.contains("not a Kantlijn export"), "{foreign}");
        assert!(check_header(&header(r#"{"format_version": 1}"#)).is_err());
        assert!(
            check_header(&header(
                r#"{"format": "kantlijn-export", "format_version": "1"}"#
            ))
            .is_err()
        );
        assert!(
            check_header(&header(
                r#"{"format": "kantlijn-export", "format_version": 0}"#
            ))
            .is_err()
        );
    }
}
