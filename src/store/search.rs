//! The search index: a row of terms for every published article and approved reaction
//! (of a published article), written in the same transaction as the change that makes
//! it visible or not, so that a search never finds what a reader may not see; and the
//! search itself, on FTS5 or a `tsvector`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, Statement,
};

use crate::{
    domain::{
        markdown::reaction_excerpt,
        search::{Query, index_text},
        states::{ArticleStatus, CommentStatus},
    },
    entity::{articles, comments, search_documents},
    store::{Db, settings},
};

pub const ARTICLE: &str = "article";
pub const REACTION: &str = "reaction";

/// Bumped when what the index holds changes (its terms, what is indexed): a site whose
/// index was built by another version builds it again when it starts.
const INDEX_VERSION: &str = "1";
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
/// the site and its index come in together or not at all).
pub async fn rebuild_in(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    search_documents::Entity::delete_many().exec(db).await?;
    let published: Vec<i32> = articles::Entity::find()
        .filter(articles::Column::Status.eq(ArticleStatus::Published))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    for id in published {
        sync_article(db, id).await?;
    }
    settings::set(db, VERSION_KEY, INDEX_VERSION).await
}

/// One thing a search found.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct Hit {
    pub kind: String,
    pub ref_id: i32,
    pub article_id: i32,
    pub sort_at: DateTime<Utc>,
}

/// What `query` finds, best first (title above body; newer above older at an equal
/// score), `limit` from `offset`.
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
    let statement = match backend {
        DbBackend::Postgres => Statement::from_sql_and_values(
            backend,
            "SELECT d.kind, d.ref_id, d.article_id, d.sort_at \
             FROM search_documents d, to_tsquery('simple', $1) q \
             WHERE d.vector @@ q \
             ORDER BY ts_rank(d.vector, q, 0) DESC, d.sort_at DESC, d.id DESC \
             LIMIT $2 OFFSET $3",
            [
                query.tsquery().into(),
                (limit as i64).into(),
                (offset as i64).into(),
            ],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            "SELECT d.kind, d.ref_id, d.article_id, d.sort_at \
             FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid \
             WHERE search_fts MATCH ? \
             ORDER BY bm25(search_fts, 10.0, 1.0), d.sort_at DESC, d.id DESC \
             LIMIT ? OFFSET ?",
            [
                query.fts5().into(),
                (limit as i64).into(),
                (offset as i64).into(),
            ],
        ),
    };
    Hit::find_by_statement(statement).all(db).await
}
