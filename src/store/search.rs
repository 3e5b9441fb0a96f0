//! The search index: a row of terms for every published article and approved reaction
//! (of a published article), written in the same transaction as the change that makes
//! it visible or not, so that a search never finds what a reader may not see; and the
//! search itself, on FTS5 or a `tsvector`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::{
    domain::{
        markdown::reaction_excerpt,
        search::{Query, index_text, terms},
        states::{ArticleStatus, CommentStatus},
    },
    entity::{articles, comments, search_documents},
    store::{Db, settings},
};

pub const ARTICLE: &str = "article";
pub const REACTION: &str = "reaction";

/// Bumped when what the index holds changes (its terms, what is indexed): a site whose
/// index was built by another version builds it again when it starts.
/// 2: rows written oldest first (a search ranks the newest matches).
const INDEX_VERSION: &str = "2";
pub const VERSION_KEY: &str = "search_index_version";

/// The text of an article that is searched: title, and summary with body as text.
pub fn article_terms(article: &articles::Model) -> (String, String) {
    let body = crate::domain::html_markdown::plain_text(&article.body_html);
    (
        index_text(&article.title),
        index_text(&format!("{} {body}", article.summary)),
    )
}

fn article_row(article: &articles::Model) -> search_documents::ActiveModel {
    let (title, body) = article_terms(article);
    search_documents::ActiveModel {
        kind: Set(ARTICLE.to_owned()),
        ref_id: Set(article.id),
        article_id: Set(article.id),
        title: Set(title),
        body: Set(body),
        sort_at: Set(article.published_at.unwrap_or(article.created_at)),
        ..Default::default()
    }
}

fn reaction_row(comment: &comments::Model) -> search_documents::ActiveModel {
    search_documents::ActiveModel {
        kind: Set(REACTION.to_owned()),
        ref_id: Set(comment.id),
        article_id: Set(comment.article_id),
        title: Set(String::new()),
        body: Set(index_text(&reaction_excerpt(&comment.body_md, usize::MAX))),
        sort_at: Set(comment.created_at),
        ..Default::default()
    }
}

async fn insert(
    db: &impl ConnectionTrait,
    rows: Vec<search_documents::ActiveModel>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(200) {
        search_documents::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Brings an article's own row in the index in step with the database: after an edit
/// that did not change whether it is published (its reactions' rows stay as they are).
pub async fn sync_article_text(db: &impl ConnectionTrait, article_id: i32) -> Result<(), DbErr> {
    search_documents::Entity::delete_many()
        .filter(search_documents::Column::Kind.eq(ARTICLE))
        .filter(search_documents::Column::RefId.eq(article_id))
        .exec(db)
        .await?;
    match articles::Entity::find_by_id(article_id).one(db).await? {
        Some(article) if article.status == ArticleStatus::Published => {
            insert(db, vec![article_row(&article)]).await
        }
        _ => Ok(()),
    }
}

/// Brings an article and all its reactions in the index in step with the database:
/// after it is published or unpublished, or imported.
pub async fn sync_article(db: &impl ConnectionTrait, article_id: i32) -> Result<(), DbErr> {
    search_documents::Entity::delete_many()
        .filter(search_documents::Column::ArticleId.eq(article_id))
        .exec(db)
        .await?;
    let Some(article) = articles::Entity::find_by_id(article_id).one(db).await? else {
        return Ok(());
    };
    if article.status != ArticleStatus::Published {
        return Ok(());
    }
    let mut rows = vec![article_row(&article)];
    let approved = comments::Entity::find()
        .filter(comments::Column::ArticleId.eq(article_id))
        .filter(comments::Column::Status.eq(CommentStatus::Approved))
        .order_by_asc(comments::Column::CreatedAt)
        .order_by_asc(comments::Column::Id)
        .all(db)
        .await?;
    rows.extend(
        approved
            .iter()
            .filter(|c| c.body_md != crate::domain::privacy::REMOVED_BODY)
            .map(reaction_row),
    );
    insert(db, rows).await
}

/// Brings these reactions in the index in step with the database: after a status
/// change, an edit, an erasure.
pub async fn sync_comments(db: &impl ConnectionTrait, ids: &[i32]) -> Result<(), DbErr> {
    for chunk in ids.chunks(super::IN_CHUNK) {
        if db.get_database_backend() == DbBackend::Postgres {
            // Waits for a publication or unpublication of their articles that is under
            // way (and holds one off): otherwise an approval racing a publication would
            // each see the other's row as it was, and the reaction would never be indexed.
            // (SQLite's one writer runs them one after the other anyway.)
            let sql = format!(
                "SELECT a.id FROM articles a JOIN comments c ON c.article_id = a.id \
                 WHERE c.id IN ({}) FOR SHARE OF a",
                chunk
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await?;
        }
        search_documents::Entity::delete_many()
            .filter(search_documents::Column::Kind.eq(REACTION))
            .filter(search_documents::Column::RefId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
        let visible = comments::Entity::find()
            .inner_join(articles::Entity)
            .filter(comments::Column::Id.is_in(chunk.iter().copied()))
            .filter(comments::Column::Status.eq(CommentStatus::Approved))
            .filter(articles::Column::Status.eq(ArticleStatus::Published))
            .order_by_asc(comments::Column::CreatedAt)
            .order_by_asc(comments::Column::Id)
            .all(db)
            .await?;
        // A body an erasure removed is no text to find ("verwijderd" would list them all).
        insert(
            db,
            visible
                .iter()
                .filter(|c| c.body_md != crate::domain::privacy::REMOVED_BODY)
                .map(reaction_row)
                .collect(),
        )
        .await?;
    }
    Ok(())
}

/// Builds the whole index again when it was built by another version (or never): at
/// start-up, in one transaction.
pub async fn ensure_built(db: &Db) -> Result<bool, DbErr> {
    if settings::get(db.read(), VERSION_KEY).await?.as_deref() == Some(INDEX_VERSION) {
        return Ok(false);
    }
    rebuild(db).await?;
    Ok(true)
}

/// Builds the whole index again, in one transaction.
pub async fn rebuild(db: &Db) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    rebuild_in(&txn).await?;
    txn.commit().await
}

/// Builds the whole index again inside the caller's transaction (an import's, so that
/// the site and its index come in together or not at all), oldest first: the order a
/// search takes as newest first.
pub async fn rebuild_in(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    search_documents::Entity::delete_many().exec(db).await?;
    let articles: HashMap<i32, articles::Model> = articles::Entity::find()
        .filter(articles::Column::Status.eq(ArticleStatus::Published))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    #[derive(FromQueryResult)]
    struct Reaction {
        id: i32,
        created_at: DateTime<Utc>,
    }
    let reactions = comments::Entity::find()
        .select_only()
        .columns([comments::Column::Id, comments::Column::CreatedAt])
        .inner_join(articles::Entity)
        .filter(comments::Column::Status.eq(CommentStatus::Approved))
        .filter(articles::Column::Status.eq(ArticleStatus::Published))
        .into_model::<Reaction>()
        .all(db)
        .await?;
    // (when, article or reaction, id)
    let mut order: Vec<(DateTime<Utc>, &str, i32)> = articles
        .values()
        .map(|a| (a.published_at.unwrap_or(a.created_at), ARTICLE, a.id))
        .chain(reactions.iter().map(|r| (r.created_at, REACTION, r.id)))
        .collect();
    order.sort_unstable();
    for chunk in order.chunks(super::IN_CHUNK) {
        let ids = chunk
            .iter()
            .filter(|(_, kind, _)| *kind == REACTION)
            .map(|&(_, _, id)| id);
        let comments: HashMap<i32, comments::Model> = comments::Entity::find()
            .filter(comments::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let rows = chunk.iter().filter_map(|&(_, kind, id)| {
            if kind == ARTICLE {
                return articles.get(&id).map(article_row);
            }
            comments
                .get(&id)
                .filter(|c| c.body_md != crate::domain::privacy::REMOVED_BODY)
                .map(reaction_row)
        });
        insert(db, rows.collect()).await?;
    }
    settings::set(db, VERSION_KEY, INDEX_VERSION).await
}

/// How many of the newest matches are ranked by relevance. Ranking every match of a
/// common word (56,000 reactions say "school" in the benchmark's 100,000) reads every
/// match and sorts them all, hundreds of milliseconds for 20 results; the newest five
/// pages are what a reader looks through, and older ones follow, newest first.
const RANKED: u64 = 100;
/// At most this many articles whose title holds every wanted word come first.
const TITLED: u64 = 100;

/// One thing a search found.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct Hit {
    pub id: i32,
    pub kind: String,
    pub ref_id: i32,
    pub article_id: i32,
    pub sort_at: DateTime<Utc>,
}

/// A match with its terms, to be ranked.
#[derive(Debug, FromQueryResult)]
struct Candidate {
    id: i32,
    kind: String,
    ref_id: i32,
    article_id: i32,
    sort_at: DateTime<Utc>,
    title: String,
    body: String,
}

#[derive(Debug, FromQueryResult)]
struct Id {
    id: i32,
}

/// The statements of a search on one database.
struct SearchSql {
    /// Articles whose title holds every wanted word: `(query, limit)`.
    titled: &'static str,
    /// The newest matches: `(query, limit)`.
    newest: &'static str,
    /// Matches older than an id, newest first: `(query, id, limit, offset)`; `{not_titled}`
    /// is where the titled ones are left out.
    older: &'static str,
    /// The name of a match's id in `older`.
    id: &'static str,
}

const SQLITE: SearchSql = SearchSql {
    titled: "SELECT rowid AS id FROM search_titles WHERE search_titles MATCH ? \
             ORDER BY rowid DESC LIMIT ?",
    // FTS5 reads its matches by rowid, backwards here, and stops at the limit.
    newest: "SELECT rowid AS id FROM search_fts WHERE search_fts MATCH ? \
             ORDER BY rowid DESC LIMIT ?",
    older: "SELECT rowid AS id FROM search_fts WHERE search_fts MATCH ? AND rowid < ?\
            {not_titled} ORDER BY rowid DESC LIMIT ? OFFSET ?",
    id: "rowid",
};

const POSTGRES: SearchSql = SearchSql {
    // idx_search_documents_article_vector, a partial index of the article rows.
    titled: "SELECT d.id FROM search_documents d WHERE d.kind = 'article' \
             AND d.vector @@ to_tsquery('simple', $1) ORDER BY d.id DESC LIMIT $2",
    newest: "SELECT d.id FROM search_documents d WHERE d.vector @@ to_tsquery('simple', $1) \
             ORDER BY d.id DESC LIMIT $2",
    older: "SELECT d.id FROM search_documents d \
            WHERE d.vector @@ to_tsquery('simple', $1) AND d.id < $2{not_titled} \
            ORDER BY d.id DESC LIMIT $3 OFFSET $4",
    id: "d.id",
};

/// What `query` finds, `limit` from `offset`, in this order: articles whose title holds
/// every wanted word, best first; then the newest [`RANKED`] other matches, best first
/// (`Query::score`, the same on both databases; newer above older at an equal score);
/// then older matches, newest first. "Newest" is the order of the index, which
/// [`rebuild_in`] writes oldest first and every later write appends to.
pub async fn search(
    db: &impl ConnectionTrait,
    query: &Query,
    offset: u64,
    limit: u64,
) -> Result<Vec<Hit>, DbErr> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (sql, title_query, match_query) = match backend {
        DbBackend::Postgres => (&POSTGRES, query.tsquery_title(), query.tsquery()),
        _ => (&SQLITE, query.fts5_wanted(), query.fts5()),
    };
    let ids = |statement: &str, query: String, limit: u64| {
        Id::find_by_statement(Statement::from_sql_and_values(
            backend,
            statement,
            [query.into(), (limit as i64).into()],
        ))
        .all(db)
    };
    let titled: Vec<i32> = ids(sql.titled, title_query, TITLED)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    let newest: Vec<i32> = ids(sql.newest, match_query.clone(), RANKED)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();

    // The ranked part, in order. (The titles' index knows no exclusions: they are
    // checked here.)
    let candidates = rows(db, titled.iter().chain(&newest).copied()).await?;
    let split: Vec<(Vec<&str>, Vec<&str>)> = candidates
        .iter()
        .map(|c| (terms(&c.title), terms(&c.body)))
        .collect();
    let average_len = split
        .iter()
        .map(|(title, body)| (title.len() + body.len()) as f64)
        .sum::<f64>()
        / split.len().max(1) as f64;
    let mut ranked: Vec<(bool, f64, &Candidate)> = candidates
        .iter()
        .zip(&split)
        .filter(|(_, (title, body))| !query.excludes(title, body))
        .map(|(c, (title, body))| {
            let in_title = titled.contains(&c.id);
            (in_title, query.score(title, body, average_len), c)
        })
        .collect();
    ranked.sort_by(|(title_a, score_a, a), (title_b, score_b, b)| {
        title_b
            .cmp(title_a)
            .then(score_b.total_cmp(score_a))
            .then(b.sort_at.cmp(&a.sort_at))
            .then(b.id.cmp(&a.id))
    });
    let ranked_len = ranked.len() as u64;
    let mut page: Vec<Hit> = ranked
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|(_, _, c)| Hit::from(c))
        .collect();

    // The older matches, newest first, when there are more than were ranked.
    if newest.len() as u64 == RANKED && (page.len() as u64) < limit {
        let oldest_ranked = newest.iter().copied().min().unwrap_or(0);
        let not_titled = if titled.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = titled.iter().map(i32::to_string).collect();
            format!(" AND {} NOT IN ({})", sql.id, ids.join(","))
        };
        let statement = sql.older.replace("{not_titled}", &not_titled);
        let older = Id::find_by_statement(Statement::from_sql_and_values(
            backend,
            statement,
            [
                match_query.into(),
                oldest_ranked.into(),
                ((limit - page.len() as u64) as i64).into(),
                (offset.saturating_sub(ranked_len) as i64).into(),
            ],
        ))
        .all(db)
        .await?;
        let older: Vec<i32> = older.into_iter().map(|row| row.id).collect();
        let mut found: HashMap<i32, Hit> = rows(db, older.iter().copied())
            .await?
            .into_iter()
            .map(|c| (c.id, Hit::from(&c)))
            .collect();
        page.extend(older.iter().filter_map(|id| found.remove(id)));
    }
    Ok(page)
}

impl From<&Candidate> for Hit {
    fn from(c: &Candidate) -> Self {
        Self {
            id: c.id,
            kind: c.kind.clone(),
            ref_id: c.ref_id,
            article_id: c.article_id,
            sort_at: c.sort_at,
        }
    }
}

/// The index rows of these ids, each once.
async fn rows(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i32>,
) -> Result<Vec<Candidate>, DbErr> {
    let mut ids: Vec<i32> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(super::IN_CHUNK) {
        found.extend(
            search_documents::Entity::find()
                .filter(search_documents::Column::Id.is_in(chunk.iter().copied()))
                .into_model::<Candidate>()
                .all(db)
                .await?,
        );
    }
    Ok(found)
}
