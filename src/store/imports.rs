//! What imports write: articles and reactions as they were elsewhere (their dates and
//! states kept), and the record of where each came from, which makes a second import of
//! the same file add nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QuerySelect,
};

use crate::{
    domain::{
        markdown::SafeHtml,
        states::{ArticleStatus, CommentStatus},
    },
    entity::{articles, comments, import_sources},
};

/// What an imported item is, in `import_sources.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Article,
    Comment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Article => "article",
            Self::Comment => "comment",
        }
    }
}

/// The local id of each of `source_ids` imported from `source` before.
pub async fn imported(
    db: &impl ConnectionTrait,
    source: &str,
    kind: Kind,
    source_ids: &[&str],
) -> Result<HashMap<String, i32>, DbErr> {
    let mut found = HashMap::new();
    for chunk in source_ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(String, i32)> = import_sources::Entity::find()
            .select_only()
            .columns([
                import_sources::Column::SourceId,
                import_sources::Column::LocalId,
            ])
            .filter(import_sources::Column::Source.eq(source))
            .filter(import_sources::Column::Kind.eq(kind.as_str()))
            .filter(import_sources::Column::SourceId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Records that `local_id` came from `source_id` in `source`.
pub async fn remember(
    db: &impl ConnectionTrait,
    source: &str,
    kind: Kind,
    source_id: &str,
    local_id: i32,
) -> Result<(), DbErr> {
    import_sources::ActiveModel {
        source: Set(source.to_owned()),
        kind: Set(kind.as_str().to_owned()),
        source_id: Set(source_id.to_owned()),
        local_id: Set(local_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// An article as another system had it.
#[derive(Debug)]
pub struct ImportedArticle {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub body_md: String,
    pub body_html: SafeHtml,
    pub status: ArticleStatus,
    pub published_at: Option<DateTime<Utc>>,
    pub author_id: i32,
    pub reactions_open: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_article(
    db: &impl ConnectionTrait,
    article: ImportedArticle,
) -> Result<articles::Model, DbErr> {
    articles::ActiveModel {
        slug: Set(article.slug),
        title: Set(article.title),
        summary: Set(article.summary),
        body_md: Set(article.body_md),
        body_html: Set(article.body_html.into_inner()),
        status: Set(article.status),
        published_at: Set(article.published_at),
        author_id: Set(article.author_id),
        reactions_open: Set(article.reactions_open),
        created_at: Set(article.created_at),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// A reaction as another system had it. Its `updated_at` is the moment of the import,
/// so the retention job gives moderators the whole period to handle one that waits.
#[derive(Debug)]
pub struct ImportedComment {
    pub article_id: i32,
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_md: String,
    pub body_html: SafeHtml,
    pub status: CommentStatus,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_comment(
    db: &impl ConnectionTrait,
    comment: ImportedComment,
) -> Result<comments::Model, DbErr> {
    comments::ActiveModel {
        article_id: Set(comment.article_id),
        parent_id: Set(comment.parent_id),
        author_name: Set(comment.author_name),
        author_email: Set(comment.author_email),
        author_url: Set(comment.author_url),
        body_md: Set(comment.body_md),
        body_html: Set(comment.body_html.into_inner()),
        status: Set(comment.status),
        user_id: Set(None),
        // No address: the source's IP addresses are not carried over.
        ip_hash: Set(String::new()),
        edit_key_hash: Set(None),
        created_at: Set(comment.created_at),
        updated_at: Set(Utc::now()),
        notify_replies: Set(false),
        reply_notified: Set(false),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The article of each of these reactions (those that still exist).
pub async fn articles_of(
    db: &impl ConnectionTrait,
    comment_ids: &[i32],
) -> Result<HashMap<i32, i32>, DbErr> {
    let mut found = HashMap::new();
    for chunk in comment_ids.chunks(super::IN_CHUNK) {
        let rows: Vec<(i32, i32)> = comments::Entity::find()
            .select_only()
            .columns([comments::Column::Id, comments::Column::ArticleId])
            .filter(comments::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}
