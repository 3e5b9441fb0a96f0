//! Searching the site: published articles and approved reactions, Dutch-aware
//! (`domain::search`), ranked by the database's index (`store::search`), each with a
//! snippet of its text around what was found.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::DbErr;

use crate::{
    domain::{
        markdown::reaction_excerpt,
        search::{Highlighter, Piece, Query},
        states::{ArticleStatus, CommentStatus},
    },
    store::{self, Db},
};

/// Results per page.
pub const PAGE_SIZE: u64 = 20;
/// Words in a snippet.
const SNIPPET_WORDS: usize = 30;

/// One thing found.
#[derive(Clone, Debug)]
pub struct Found {
    /// A reaction (with its author) or an article.
    pub reaction_by: Option<String>,
    pub reaction_id: Option<i32>,
    pub article_title: String,
    /// Where it is on the site.
    pub url: String,
    /// When the article was published or the reaction written.
    pub at: DateTime<Utc>,
    pub snippet: Vec<Piece>,
}

/// A page of results, and whether there are more after it.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub found: Vec<Found>,
    pub more: bool,
}

/// What `query` finds, `limit` results from `offset`.
pub async fn find(db: &Db, query: &Query, offset: u64, limit: u64) -> Result<Results, DbErr> {
    let mut hits = store::search::search(db.read(), query, offset, limit + 1).await?;
    let more = hits.len() as u64 > limit;
    hits.truncate(limit as usize);
    let comment_ids: Vec<i32> = hits
        .iter()
        .filter(|h| h.kind == store::search::REACTION)
        .map(|h| h.ref_id)
        .collect();
    let mut article_ids: Vec<i32> = hits.iter().map(|h| h.article_id).collect();
    article_ids.sort_unstable();
    article_ids.dedup();
    let articles: HashMap<i32, _> = store::articles::find_many(db.read(), &article_ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let comments: HashMap<i32, _> = store::comments::find_many(db.read(), &comment_ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut highlighter = Highlighter::new(query);
    let mut found = Vec::with_capacity(hits.len());
    for hit in hits {
        // The index follows every write; this is the last word on what readers may see.
        let Some(article) = articles
            .get(&hit.article_id)
            .filter(|a| a.status == ArticleStatus::Published)
        else {
            continue;
        };
        let page = format!("/artikelen/{}", article.slug);
        if hit.kind == store::search::REACTION {
            let Some(comment) = comments
                .get(&hit.ref_id)
                .filter(|c| c.status == CommentStatus::Approved && c.article_id == article.id)
            else {
                continue;
            };
            let text = reaction_excerpt(&comment.body_md, usize::MAX);
            found.push(Found {
                reaction_by: Some(comment.author_name.clone()),
                reaction_id: Some(comment.id),
                article_title: article.title.clone(),
                url: format!("{page}?reactie={id}#reactie-{id}", id = comment.id),
                at: comment.created_at,
                snippet: highlighter.snippet(&text, SNIPPET_WORDS),
            });
        } else {
            let text = format!(
                "{} {}",
                article.summary,
                crate::domain::html_markdown::plain_text(&article.body_html)
            );
            found.push(Found {
                reaction_by: None,
                reaction_id: None,
                article_title: article.title.clone(),
                url: page,
                at: article.published_at.unwrap_or(article.created_at),
                snippet: highlighter.snippet(text.trim(), SNIPPET_WORDS),
            });
        }
    }
    Ok(Results { found, more })
}
