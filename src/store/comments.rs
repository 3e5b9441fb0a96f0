//! Reactions: the thread of an article (one query), the poster's writes and the queue.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
};

use crate::{
    domain::{
        markdown::SafeHtml,
        validate::{AuthorName, CommentBody, Email, WebUrl},
    },
    entity::{articles, comments},
};

/// Where a reaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Approved,
    Rejected,
    Spam,
    Deleted,
}

impl Status {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Spam,
        Self::Deleted,
    ];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Spam => "spam",
            Self::Deleted => "deleted",
        }
    }

    /// The Dutch name for tabs and the log.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Wachtend",
            Self::Approved => "Goedgekeurd",
            Self::Rejected => "Afgewezen",
            Self::Spam => "Spam",
            Self::Deleted => "Verwijderd",
        }
    }
}

/// A checked reaction, ready to store.
#[derive(Debug)]
pub struct NewComment {
    pub article_id: i32,
    pub parent_id: Option<i32>,
    pub author_name: AuthorName,
    pub author_email: Email,
    pub author_url: Option<WebUrl>,
    pub body: CommentBody,
    pub body_html: SafeHtml,
    pub status: Status,
    pub user_id: Option<i32>,
    pub ip_hash: String,
    pub edit_key_hash: Option<String>,
}

/// What the article page needs of each reaction; never the e-mail or address hash.
#[derive(Clone, Debug, FromQueryResult)]
pub struct ThreadComment {
    pub id: i32,
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub body_html: String,
    pub status: String,
    pub user_id: Option<i32>,
    pub edit_key_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A reaction's place in a thread, without its content: enough to lay out and page the
/// thread of a long article before reading what is on the page.
#[derive(Clone, Debug, FromQueryResult)]
pub struct Placement {
    pub id: i32,
    pub parent_id: Option<i32>,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Bound parameters per `IN (...)` query, well below what SQLite and PostgreSQL accept.
const IN_CHUNK: usize = 500;

/// The shape of an article's public thread, oldest first: its approved reactions and
/// the hidden reactions they reply to (shown as placeholders). Held and spam reactions
/// are never read, however many there are.
pub async fn public_placements(
    db: &impl ConnectionTrait,
    article_id: i32,
) -> Result<Vec<Placement>, DbErr> {
    let mut rows: Vec<Placement> = comments::Entity::find()
        .select_only()
        .columns(PLACEMENT_COLUMNS)
        .filter(comments::Column::ArticleId.eq(article_id))
        .filter(comments::Column::Status.eq(Status::Approved.as_str()))
        .order_by_asc(comments::Column::CreatedAt)
        .order_by_asc(comments::Column::Id)
        .into_model()
        .all(db)
        .await?;
    let mut known: HashSet<i32> = rows.iter().map(|r| r.id).collect();
    let mut missing = unknown_parents(&rows, &known);
    let mut added = false;
    // Each round reads one level of hidden ancestors; chains of them are rare and short.
    while !missing.is_empty() {
        let found = placements(db, article_id, &missing).await?;
        known.extend(found.iter().map(|r| r.id));
        missing = unknown_parents(&found, &known);
        added |= !found.is_empty();
        rows.extend(found);
    }
    if added {
        rows.sort_by_key(|r| (r.created_at, r.id));
    }
    Ok(rows)
}

const PLACEMENT_COLUMNS: [comments::Column; 4] = [
    comments::Column::Id,
    comments::Column::ParentId,
    comments::Column::Status,
    comments::Column::CreatedAt,
];

fn unknown_parents(rows: &[Placement], known: &HashSet<i32>) -> Vec<i32> {
    let mut parents: Vec<i32> = rows
        .iter()
        .filter_map(|r| r.parent_id)
        .filter(|p| !known.contains(p))
        .collect();
    parents.sort_unstable();
    parents.dedup();
    parents
}

async fn placements(
    db: &impl ConnectionTrait,
    article_id: i32,
    ids: &[i32],
) -> Result<Vec<Placement>, DbErr> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        rows.extend(
            comments::Entity::find()
                .select_only()
                .columns(PLACEMENT_COLUMNS)
                .filter(comments::Column::ArticleId.eq(article_id))
                .filter(comments::Column::Id.is_in(chunk.iter().copied()))
                .into_model::<Placement>()
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// What a page shows of these reactions of one article (any status; the caller asked
/// for the ones it may show), in no particular order.
pub async fn thread_rows(
    db: &impl ConnectionTrait,
    article_id: i32,
    ids: &[i32],
) -> Result<Vec<ThreadComment>, DbErr> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        rows.extend(
            comments::Entity::find()
                .select_only()
                .columns([
                    comments::Column::Id,
                    comments::Column::ParentId,
                    comments::Column::AuthorName,
                    comments::Column::AuthorUrl,
                    comments::Column::BodyHtml,
                    comments::Column::Status,
                    comments::Column::UserId,
                    comments::Column::EditKeyHash,
                    comments::Column::CreatedAt,
                    comments::Column::UpdatedAt,
                ])
                .filter(comments::Column::ArticleId.eq(article_id))
                .filter(comments::Column::Id.is_in(chunk.iter().copied()))
                .into_model::<ThreadComment>()
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// The newest approved reactions of an article, newest first (for its feed).
pub async fn latest_approved(
    db: &impl ConnectionTrait,
    article_id: i32,
    limit: u64,
) -> Result<Vec<comments::Model>, DbErr> {
    comments::Entity::find()
        .filter(comments::Column::ArticleId.eq(article_id))
        .filter(comments::Column::Status.eq(Status::Approved.as_str()))
        .order_by_desc(comments::Column::CreatedAt)
        .order_by_desc(comments::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<Option<comments::Model>, DbErr> {
    comments::Entity::find_by_id(id).one(db).await
}

/// Whether `id` is an approved reaction on `article_id` (a reply's parent must be).
pub async fn is_approved_on(
    db: &impl ConnectionTrait,
    id: i32,
    article_id: i32,
) -> Result<bool, DbErr> {
    let found: Option<i32> = comments::Entity::find_by_id(id)
        .select_only()
        .column(comments::Column::Id)
        .filter(comments::Column::ArticleId.eq(article_id))
        .filter(comments::Column::Status.eq(Status::Approved.as_str()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.is_some())
}

pub async fn find_many(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<Vec<comments::Model>, DbErr> {
    comments::Entity::find()
        .filter(comments::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(comments::Column::Id)
        .all(db)
        .await
}

/// Whether this name and e-mail together have an approved reaction (the hold_first rule).
pub async fn author_is_known(
    db: &impl ConnectionTrait,
    email: &Email,
    name: &AuthorName,
) -> Result<bool, DbErr> {
    let found = comments::Entity::find()
        .select_only()
        .column(comments::Column::Id)
        .filter(comments::Column::AuthorEmail.eq(email.as_ref()))
        .filter(comments::Column::AuthorName.eq(name.as_ref()))
        .filter(comments::Column::Status.eq(Status::Approved.as_str()))
        .into_tuple::<i32>()
        .one(db)
        .await?;
    Ok(found.is_some())
}

pub async fn set_status(
    db: &impl ConnectionTrait,
    comment: comments::Model,
    status: Status,
) -> Result<comments::Model, DbErr> {
    let mut row: comments::ActiveModel = comment.into();
    row.status = Set(status.as_str().to_owned());
    row.updated_at = Set(Utc::now());
    row.update(db).await
}

/// Saves a reader's edit with the status the rules gave it.
pub async fn update_body(
    db: &impl ConnectionTrait,
    comment: comments::Model,
    body: CommentBody,
    body_html: SafeHtml,
    status: Status,
) -> Result<comments::Model, DbErr> {
    let mut row: comments::ActiveModel = comment.into();
    row.body_md = Set(body.into_inner());
    row.body_html = Set(body_html.into_inner());
    row.status = Set(status.as_str().to_owned());
    row.updated_at = Set(Utc::now());
    row.update(db).await
}

/// A reaction in the moderation queue, with its article.
#[derive(Clone, Debug, FromQueryResult)]
pub struct QueueComment {
    pub id: i32,
    pub article_id: i32,
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_html: String,
    pub status: String,
    pub user_id: Option<i32>,
    pub ip_hash: String,
    pub created_at: DateTime<Utc>,
    pub article_title: String,
    pub article_slug: String,
}

/// Reactions with one status (optionally of one article), after an id cursor: the
/// oldest first for the pending queue, the newest first otherwise.
pub async fn queue(
    db: &impl ConnectionTrait,
    status: Status,
    article_id: Option<i32>,
    after_id: Option<i32>,
    limit: u64,
) -> Result<Vec<QueueComment>, DbErr> {
    let mut query = comments::Entity::find()
        .select_only()
        .columns([
            comments::Column::Id,
            comments::Column::ArticleId,
            comments::Column::ParentId,
            comments::Column::AuthorName,
            comments::Column::AuthorEmail,
            comments::Column::AuthorUrl,
            comments::Column::BodyHtml,
            comments::Column::Status,
            comments::Column::UserId,
            comments::Column::IpHash,
            comments::Column::CreatedAt,
        ])
        .column_as(articles::Column::Title, "article_title")
        .column_as(articles::Column::Slug, "article_slug")
        .join(JoinType::InnerJoin, comments::Relation::Article.def())
        .filter(comments::Column::Status.eq(status.as_str()));
    if let Some(id) = article_id {
        query = query.filter(comments::Column::ArticleId.eq(id));
    }
    // Ids grow with time, so ordering by id is ordering by arrival, and a stable cursor.
    let oldest_first = status == Status::Pending;
    if let Some(after) = after_id {
        query = query.filter(if oldest_first {
            comments::Column::Id.gt(after)
        } else {
            comments::Column::Id.lt(after)
        });
    }
    query = if oldest_first {
        query.order_by_asc(comments::Column::Id)
    } else {
        query.order_by_desc(comments::Column::Id)
    };
    query
        .limit(limit)
        .into_model::<QueueComment>()
        .all(db)
        .await
}

/// How many reactions have each status (optionally of one article).
pub async fn status_counts(
    db: &impl ConnectionTrait,
    article_id: Option<i32>,
) -> Result<HashMap<Status, i64>, DbErr> {
    let mut query = comments::Entity::find()
        .select_only()
        .column(comments::Column::Status)
        .column_as(comments::Column::Id.count(), "count")
        .group_by(comments::Column::Status);
    if let Some(id) = article_id {
        query = query.filter(comments::Column::ArticleId.eq(id));
    }
    let rows: Vec<(String, i64)> = query.into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(status, count)| Status::parse(&status).map(|s| (s, count)))
        .collect())
}

/// Counts every reaction (for tests and the demo).
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    comments::Entity::find().count(db).await
}
