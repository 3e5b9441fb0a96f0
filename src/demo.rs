//! The demo site: content shipped inside the binary, seeded once, with fresh staff
//! passwords on every start.

use anyhow::Context;
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::{
    domain::{
        markdown,
        validate::{ArticleBody, ArticleStatus, Password, Role, Slug, Summary, Title, Username},
    },
    security, store,
    store::articles::ArticleInput,
};

const SEEDED: &str = "demo_seeded";
const ARTICLES: [&str; 2] = [
    include_str!("demo/article-tweede.md"),
    include_str!("demo/article-lerarenportfolio.md"),
];

/// Seeds an empty demo database, gives `redacteur` and `moderator` new random passwords,
/// and returns (username, role, password) for each to print.
pub async fn prepare(
    db: &DatabaseConnection,
) -> anyhow::Result<Vec<(String, &'static str, String)>> {
    let mut logins = Vec::new();
    let mut editor_id = None;
    for (name, role) in [("redacteur", Role::Editor), ("moderator", Role::Moderator)] {
        let password = security::random_password();
        Password::parse(&password).map_err(|m| anyhow::anyhow!(m))?;
        let hash = security::hash_password(&password)?;
        let username = Username::parse(name).map_err(|m| anyhow::anyhow!(m))?;
        let user = store::users::upsert(db, &username, role, hash).await?;
        if role == Role::Editor {
            editor_id = Some(user.id);
        }
        logins.push((name.to_owned(), role.label(), password));
    }
    if store::settings::get(db, SEEDED).await?.is_none() {
        let author = editor_id.context("the demo editor exists")?;
        let txn = db.begin().await?;
        for source in ARTICLES {
            store::articles::insert(&txn, parse_article(source)?, author).await?;
        }
        store::settings::set(&txn, SEEDED, "1").await?;
        txn.commit().await?;
        tracing::info!("seeded the demo site");
    }
    Ok(logins)
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

fn parse_article(source: &str) -> anyhow::Result<ArticleInput> {
    let (fields, body) = split(source)?;
    let bad = |m: &str| anyhow::anyhow!("demo article: {m}");
    let body = ArticleBody::parse(body).map_err(bad)?;
    Ok(ArticleInput {
        title: Title::parse(field(&fields, "title")).map_err(bad)?,
        slug: Slug::parse(field(&fields, "slug")).map_err(bad)?,
        summary: Summary::parse(field(&fields, "summary")).map_err(bad)?,
        body_html: markdown::render_article(body.as_ref()),
        body,
        status: ArticleStatus::Published,
        reactions_open: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_articles_parse() {
        for source in ARTICLES {
            let article = parse_article(source).unwrap();
            assert!(article.body_html.as_str().contains("<p>"));
        }
    }
}
