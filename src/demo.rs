//! The demo site: content shipped inside the binary, seeded once, with fresh staff
//! passwords on every start.

use std::{collections::HashMap, sync::Arc};

use anyhow::Context;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::store::changes::Change;
use crate::{
    discussion::{self, Action, FormSignals, Outcome, RawComment, Submission},
    domain::{
        states::{ArticleStatus, CommentStatus, Role},
        validate::{Password, Username},
    },
    editorial::{self, Draft},
    entity::articles,
    metrics::Metrics,
    security::{self, AddressHash, Keys},
    store::{self, Db},
};

/// Set when demo takes a database, before it writes anything else there: from then on
/// the database is a demo and demo may write it again. (`demo_seeded` marks databases
/// seeded before this marker existed.)
const DEMO_SITE: &str = "demo_site";
const SEEDED: &str = "demo_seeded";
const REACTIONS_SEEDED: &str = "demo_reactions_seeded";
const REACTIONS: &str = include_str!("demo/reactions.md");
const ARTICLES: [&str; 2] = [
    include_str!("demo/article-tweede.md"),
    include_str!("demo/article-lerarenportfolio.md"),
];

/// Takes a database for the demo, or refuses one that holds a site demo did not make:
/// demo must never add its articles to a live site or give its accounts new passwords.
/// A database is demo's when it is new (no tables, or Kantlijn's tables with no user,
/// article or reaction in them) or demo marked it before. Runs before migrations, since
/// migrating is a write too.
pub async fn claim(db: &Db) -> anyhow::Result<()> {
    let conn = db.write();
    let backend = conn.get_database_backend();
    let tables = match backend {
        DbBackend::Postgres => {
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let tables: Vec<String> = conn
        .query_all_raw(Statement::from_string(backend, tables))
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<_, _>>()?;
    if tables.is_empty() {
        return Ok(());
    }
    if !tables.iter().any(|t| t == "seaql_migrations") {
        anyhow::bail!(
            "it holds tables that are not Kantlijn's ({}); give demo a database of its own, \
             or leave out --database-url",
            tables
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for marker in [DEMO_SITE, SEEDED] {
        if store::settings::get(conn, marker).await?.is_some() {
            return Ok(());
        }
    }
    for table in ["users", "articles", "comments"] {
        let sql = format!("SELECT 1 AS one FROM {table} LIMIT 1");
        if conn
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .is_some()
        {
            anyhow::bail!(
                "it holds a site that demo did not make (it has {table}); demo never \
                 touches a live site: leave out --database-url to use the demo's own \
                 database, or give it an empty one"
            );
        }
    }
    Ok(())
}

/// Seeds an empty demo database, gives `redacteur` and `moderator` new random passwords,
/// and returns (username, role, password) for each to print.
pub async fn prepare(db: &Db, keys: &Keys) -> anyhow::Result<Vec<(String, &'static str, String)>> {
    store::settings::set(db.write(), DEMO_SITE, "1").await?;
    let mut logins = Vec::new();
    let mut editor_id = None;
    let mut moderator_id = None;
    // The demo's accounts are named after their roles' Dutch names.
    for role in [Role::Editor, Role::Moderator] {
        let name = role.label();
        let password = security::random_password();
        Password::parse(&password).map_err(|m| anyhow::anyhow!(m))?;
        let hash = security::hash_password(&password)?;
        let username = Username::parse(name).map_err(|m| anyhow::anyhow!(m))?;
        let user = store::users::upsert(db.write(), &username, role, hash).await?;
        match role {
            Role::Editor => editor_id = Some(user.id),
            _ => moderator_id = Some(user.id),
        }
        logins.push((name.to_owned(), role.label(), password));
    }
    if store::settings::get(db.read(), SEEDED).await?.is_none() {
        let author = editor_id.context("the demo editor exists")?;
        for source in ARTICLES {
            let (fields, body) = split(source)?;
            // A start that stopped halfway left some: never a second copy under `-2`.
            if store::articles::find_by_slug(db.read(), field(&fields, "slug"))
                .await?
                .is_some()
            {
                continue;
            }
            editorial::create(db, article_draft(&fields, body), author)
                .await?
                .map_err(|errors| anyhow::anyhow!("demo article is invalid: {errors:?}"))?;
        }
        store::settings::set(db.write(), SEEDED, "1").await?;
        db.changed(Change::Site).await;
        tracing::info!("seeded the demo articles");
    }
    if store::settings::get(db.read(), REACTIONS_SEEDED)
        .await?
        .is_none()
    {
        let moderator = moderator_id.context("the demo moderator exists")?;
        seed_reactions(db, keys, moderator).await?;
        store::settings::set(db.write(), REACTIONS_SEEDED, "1").await?;
        tracing::info!("seeded the demo reactions");
    }
    Ok(logins)
}

/// Posts the demo reactions through the same path readers use, so the rules decide and
/// log as always; those marked approved are then approved by the demo moderator.
async fn seed_reactions(db: &Db, keys: &Keys, moderator_id: i32) -> anyhow::Result<()> {
    let article = store::articles::find_by_slug(db.read(), MAIN_ARTICLE_SLUG)
        .await?
        .context("the demo article exists")?;
    let mut ids: HashMap<&str, i32> = HashMap::new();
    for block in REACTIONS.split("\n===\n") {
        let (fields, body) = split(block)?;
        let parent_id = match field(&fields, "parent") {
            "" => None,
            key => Some(
                *ids.get(key)
                    .context("a demo reply comes after its parent")?,
            ),
        };
        let id = post(db, keys, &article, &fields, body, parent_id).await?;
        if CommentStatus::parse(field(&fields, "status")) == Some(CommentStatus::Approved) {
            discussion::moderate(db, &[id], Action::Approve, moderator_id, None, None).await?;
        }
        ids.insert(field(&fields, "key"), id);
    }
    Ok(())
}

/// The slug of the demo's main article (the real binary's tests post to it).
pub const MAIN_ARTICLE_SLUG: &str = "lerarenregister-wordt-lerarenportfolio";

async fn post(
    db: &Db,
    keys: &Keys,
    article: &articles::Model,
    fields: &[(&str, &str)],
    body: &str,
    parent_id: Option<i32>,
) -> anyhow::Result<i32> {
    let input = RawComment {
        author_name: field(fields, "author_name"),
        author_email: field(fields, "author_email"),
        author_url: field(fields, "author_url"),
        body,
        parent_id: Ok(parent_id),
    };
    let submission = Submission {
        article,
        input,
        staff_user_id: None,
        address: AddressHash::of(keys.ip_hash(&format!("demo-{}", field(fields, "key")))),
        form: Some(FormSignals {
            honeypot_filled: false,
            age_seconds: Some(60),
        }),
        notify_replies: false,
        mailer: None,
    };
    let rules = store::settings::moderation_rules(db.read()).await?;
    // The demo's posts are not the site's traffic: counted apart, then dropped.
    let metrics = Metrics::new();
    match discussion::submit(db, Arc::new(rules), &metrics, submission).await? {
        Outcome::Stored { comment, .. } => Ok(comment.id),
        other => anyhow::bail!("demo reaction was not stored: {other:?}"),
    }
}

/// Splits a demo file into its `key: value` header and its Markdown body.
fn split(source: &str) -> anyhow::Result<(Vec<(&str, &str)>, &str)> {
    let (header, body) = source
        .split_once("\n---\n")
        .context("a demo file has a header, a line `---` and a body")?;
    let fields = header
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim(), value.trim()))
        .collect();
    Ok((fields, body.trim()))
}

fn field<'a>(fields: &[(&str, &'a str)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v)
}

/// A demo article as the editorial service reads it.
fn article_draft<'a>(fields: &[(&str, &'a str)], body: &'a str) -> Draft<'a> {
    Draft {
        title: field(fields, "title"),
        slug: field(fields, "slug"),
        summary: field(fields, "summary"),
        body,
        status: Ok(ArticleStatus::Published),
        reactions_open: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discussion::CommentInput;

    #[test]
    fn shipped_reactions_parse() {
        let blocks: Vec<_> = REACTIONS.split("\n===\n").collect();
        assert_eq!(blocks.len(), 6);
        for block in blocks {
            let (fields, body) = split(block).unwrap();
            CommentInput::try_from(RawComment {
                author_name: field(&fields, "author_name"),
                author_email: field(&fields, "author_email"),
                author_url: field(&fields, "author_url"),
                body,
                parent_id: Ok(None),
            })
            .unwrap();
        }
    }

    #[test]
    fn shipped_articles_pass_the_editorial_check() {
        for source in ARTICLES {
            let (fields, body) = split(source).unwrap();
            let article = editorial::check(&article_draft(&fields, body)).unwrap();
            assert!(article.body_html.as_str().contains("<p>"));
        }
    }
}
