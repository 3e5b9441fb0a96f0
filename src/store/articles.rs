//! Articles: the public list and page, and the editors' writes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};

use crate::{
    domain::{
        markdown::SafeHtml,
        position::Position,
        states::{ArticleStatus, CommentStatus},
        validate::{ArticleBody, Slug, Summary, Title},
    },
    entity::{articles, former_slugs},
};

/// An article on the front page, with its approved-reaction count.
#[derive(Debug, FromQueryResult)]
pub struct PublishedSummary {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub published_at: Option<DateTime<Utc>>,
    pub reaction_count: i64,
}

/// A row of the editors' article list.
#[derive(Debug, FromQueryResult)]
pub struct EditorListItem {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub status: ArticleStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A checked article as an editor submitted it, with its body already rendered.
#[derive(Debug)]
pub struct ArticleInput {
    pub title: Title,
    pub slug: Slug,
    pub summary: Summary,
    pub body: ArticleBody,
    pub body_html: SafeHtml,
    pub status: ArticleStatus,
    pub reactions_open: bool,
}

/// The approved-reaction count of each article row: the one definition of that count
/// for lists (`store::comments::approved_count` counts one article).
fn approved_count_expr() -> Expr {
    Expr::cust(format!(
        "(SELECT COUNT(*) FROM comments \
         WHERE comments.article_id = articles.id AND comments.status = '{}')",
        CommentStatus::Approved.as_str()
    ))
}

/// Where a page of published articles continues: after this `(published_at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub published_at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    /// The cursor that continues after `last`.
    pub fn after(last: &PublishedSummary) -> Option<Self> {
        last.published_at.map(|published_at| Self {
            published_at,
            id: last.id.into(),
        })
    }

    /// The text a client passes back (see [`Position`]).
    pub fn encode(self) -> String {
        Position {
            at: self.published_at,
            id: self.id,
        }
        .encode()
    }

    pub fn decode(text: &str) -> Option<Self> {
        Position::decode(text).map(|p| Self {
            published_at: p.at,
            id: p.id,
        })
    }
}

/// A page of published articles after a cursor, newest first, each with its
/// approved-reaction count, in one query.
pub async fn published_page(
    db: &impl ConnectionTrait,
    after: Option<Cursor>,
    limit: u64,
) -> Result<Vec<PublishedSummary>, DbErr> {
    let mut query = published_query();
    if let Some(Cursor { published_at, id }) = after {
        query = query.filter(
            Condition::any()
                .add(articles::Column::PublishedAt.lt(published_at))
                .add(
                    Condition::all()
                        .add(articles::Column::PublishedAt.eq(published_at))
                        .add(articles::Column::Id.lt(id)),
                ),
        );
    }
    query.limit(limit).into_model().all(db).await
}

/// How many approved reactions an article has.
pub async fn approved_count(db: &impl ConnectionTrait, id: i32) -> Result<i64, DbErr> {
    let count: Option<i64> = articles::Entity::find_by_id(id)
        .select_only()
        .column_as(approved_count_expr(), "count")
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.unwrap_or(0))
}

fn published_query() -> sea_orm::Select<articles::Entity> {
    articles::Entity::find()
        .select_only()
        .columns([
            articles::Column::Id,
            articles::Column::Slug,
            articles::Column::Title,
            articles::Column::Summary,
            articles::Column::PublishedAt,
        ])
        .column_as(approved_count_expr(), "reaction_count")
        .filter(articles::Column::Status.eq(ArticleStatus::Published))
        .order_by_desc(articles::Column::PublishedAt)
        .order_by_desc(articles::Column::Id)
}

/// Every article, drafts included, most recently changed first.
pub async fn list_all(db: &impl ConnectionTrait) -> Result<Vec<EditorListItem>, DbErr> {
    articles::Entity::find()
        .select_only()
        .columns([
            articles::Column::Id,
            articles::Column::Slug,
            articles::Column::Title,
            articles::Column::Status,
            articles::Column::PublishedAt,
            articles::Column::UpdatedAt,
        ])
        .order_by_desc(articles::Column::UpdatedAt)
        .order_by_desc(articles::Column::Id)
        .into_model::<EditorListItem>()
        .all(db)
        .await
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<articles::Model>, DbErr> {
    // No stored slug has a NUL, and PostgreSQL refuses one even in a WHERE clause.
    if slug.contains('\0') {
        return Ok(None);
    }
    articles::Entity::find()
        .filter(articles::Column::Slug.eq(slug))
        .one(db)
        .await
}

/// Whole published articles, newest first (for feeds and the sitemap).
pub async fn latest_published(
    db: &impl ConnectionTrait,
    limit: Option<u64>,
) -> Result<Vec<articles::Model>, DbErr> {
    articles::Entity::find()
        .filter(articles::Column::Status.eq(ArticleStatus::Published))
        .order_by_desc(articles::Column::PublishedAt)
        .order_by_desc(articles::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Every published article's address and last change, for the sitemap: no bodies.
pub async fn published_slugs(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    articles::Entity::find()
        .select_only()
        .columns([articles::Column::Slug, articles::Column::UpdatedAt])
        .filter(articles::Column::Status.eq(ArticleStatus::Published))
        .order_by_desc(articles::Column::PublishedAt)
        .order_by_desc(articles::Column::Id)
        .into_tuple()
        .all(db)
        .await
}

/// An article a reader may see: published, or also a draft when `drafts_too`
/// (staff look at drafts on the site). A former slug finds the article it was renamed
/// from; the answer carries the slug it has now.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    slug: &str,
    drafts_too: bool,
) -> Result<Option<articles::Model>, DbErr> {
    Ok(find_current(db, slug)
        .await?
        .filter(|a| drafts_too || a.status.is_published()))
}

/// The article with this slug, or else the one that had it before a rename.
pub async fn find_current(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<articles::Model>, DbErr> {
    if let Some(article) = find_by_slug(db, slug).await? {
        return Ok(Some(article));
    }
    match renamed_from(db, slug).await? {
        Some(id) => find_by_id(db, id).await,
        None => Ok(None),
    }
}

/// The article that had `slug` before it was renamed.
pub async fn renamed_from(db: &impl ConnectionTrait, slug: &str) -> Result<Option<i32>, DbErr> {
    if slug.contains('\0') {
        return Ok(None);
    }
    former_slugs::Entity::find()
        .select_only()
        .column(former_slugs::Column::ArticleId)
        .filter(former_slugs::Column::Slug.eq(slug))
        .into_tuple()
        .one(db)
        .await
}

/// `slug` is an article's own now: it no longer leads to an article it was renamed from.
async fn take_slug(db: &impl ConnectionTrait, slug: &str) -> Result<(), DbErr> {
    former_slugs::Entity::delete_many()
        .filter(former_slugs::Column::Slug.eq(slug))
        .exec(db)
        .await
        .map(drop)
}

/// Keeps the slug an article is renamed from, so that links under it still find it.
async fn keep_former_slug(
    db: &impl ConnectionTrait,
    article_id: i32,
    slug: String,
) -> Result<(), DbErr> {
    former_slugs::ActiveModel {
        slug: Set(slug),
        article_id: Set(article_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(drop)
}

/// These articles, in no particular order.
pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<Vec<articles::Model>, DbErr> {
    articles::Entity::find()
        .filter(articles::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<articles::Model>, DbErr> {
    articles::Entity::find_by_id(id).one(db).await
}

/// How many articles there are, in any status.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    articles::Entity::find().count(db).await
}

/// The wanted slug, or the first of `-2`, `-3`, ... that no other article uses.
pub async fn free_slug(
    db: &impl ConnectionTrait,
    wanted: &Slug,
    except_id: Option<i32>,
) -> Result<Slug, DbErr> {
    let mut query = articles::Entity::find()
        .select_only()
        .column(articles::Column::Slug)
        .filter(articles::Column::Slug.starts_with(wanted.as_ref()));
    if let Some(id) = except_id {
        query = query.filter(articles::Column::Id.ne(id));
    }
    let taken: std::collections::HashSet<String> = query
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    if !taken.contains(wanted.as_ref()) {
        return Ok(wanted.clone());
    }
    // `taken` is finite: some suffix is free.
    let mut n = 2;
    loop {
        let candidate = wanted.with_suffix(n);
        if !taken.contains(candidate.as_ref()) {
            return Ok(candidate);
        }
        n += 1;
    }
}

pub async fn insert(
    db: &impl ConnectionTrait,
    input: ArticleInput,
    author_id: i32,
) -> Result<articles::Model, DbErr> {
    let now = Utc::now();
    let published = input.status == ArticleStatus::Published;
    take_slug(db, input.slug.as_ref()).await?;
    articles::ActiveModel {
        slug: Set(input.slug.into_inner()),
        title: Set(input.title.into_inner()),
        summary: Set(input.summary.into_inner()),
        body_md: Set(input.body.into_inner()),
        body_html: Set(input.body_html.into_inner()),
        status: Set(input.status),
        published_at: Set(published.then_some(now)),
        author_id: Set(author_id),
        reactions_open: Set(input.reactions_open),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Saves an edit. `published_at` is set on the first publish and kept after that,
/// also through an unpublish, so a republished article keeps its date.
pub async fn update(
    db: &impl ConnectionTrait,
    existing: articles::Model,
    input: ArticleInput,
) -> Result<articles::Model, DbErr> {
    let now = Utc::now();
    let first_publish = input.status == ArticleStatus::Published && existing.published_at.is_none();
    if existing.slug != input.slug.as_ref() {
        take_slug(db, input.slug.as_ref()).await?;
        keep_former_slug(db, existing.id, existing.slug.clone()).await?;
    }
    let mut row: articles::ActiveModel = existing.into();
    row.slug = Set(input.slug.into_inner());
    row.title = Set(input.title.into_inner());
    row.summary = Set(input.summary.into_inner());
    row.body_md = Set(input.body.into_inner());
    row.body_html = Set(input.body_html.into_inner());
    row.status = Set(input.status);
    row.reactions_open = Set(input.reactions_open);
    row.updated_at = Set(now);
    if first_publish {
        row.published_at = Set(Some(now));
    }
    row.update(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            published_at: Utc::now(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("nonsense"), None);
        assert_eq!(Cursor::decode(""), None);
    }
}
