//! What the privacy pages read and erase of one e-mail address: its reactions with
//! their articles and moderation history, its consent to reply notifications, its
//! bans, the mailed links that name it, and the log of every use of the pages (which
//! never holds an address).
//!
//! Addresses are compared without case, by the database's `LOWER` on both sides (so
//! SQLite and PostgreSQL each agree with themselves), which the index
//! `idx_comments_author_email_lower` serves.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr},
};

use crate::{
    domain::{privacy::Use, states::ArticleStatus},
    entity::{
        articles, bans, comments, mail_subscribers, moderation_log, outbox, privacy_log,
        privacy_requests,
    },
    store::bans::Kind,
};

/// `column` holds `email`, ignoring case.
fn same_address(column: impl ColumnTrait, email: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col(column))).eq(Func::lower(Expr::val(email)))
}

/// Whether anything is kept about `email`: a reaction, a wish for notifications or a ban.
pub async fn is_known(db: &impl ConnectionTrait, email: &str) -> Result<bool, DbErr> {
    if email.is_empty() {
        return Ok(false);
    }
    let reaction: Option<i32> = comments::Entity::find()
        .select_only()
        .column(comments::Column::Id)
        .filter(same_address(comments::Column::AuthorEmail, email))
        .into_tuple()
        .one(db)
        .await?;
    if reaction.is_some() || subscriber(db, email).await?.is_some() {
        return Ok(true);
    }
    // A ban outlives the reactions that led to it: the reader may still see and erase it.
    let banned = bans::Entity::find()
        .filter(bans::Column::Kind.eq(Kind::Email.as_str()))
        .filter(same_address(bans::Column::Value, email))
        .count(db)
        .await?;
    Ok(banned > 0)
}

/// Stores a request whose mailed link works until `expires_at`.
pub async fn insert_request(
    db: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<privacy_requests::Model, DbErr> {
    privacy_requests::ActiveModel {
        email: Set(email.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// How many links for `email` still work at `now`.
pub async fn open_requests(
    db: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    privacy_requests::Entity::find()
        .filter(same_address(privacy_requests::Column::Email, email))
        .filter(privacy_requests::Column::ExpiresAt.gt(now))
        .count(db)
        .await
}

/// The request a link names, while it has not expired.
pub async fn find_request(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
) -> Result<Option<privacy_requests::Model>, DbErr> {
    privacy_requests::Entity::find_by_id(id)
        .filter(privacy_requests::Column::ExpiresAt.gt(now))
        .one(db)
        .await
}

/// The article a reaction stands under, as the privacy pages show it.
#[derive(Clone, Debug)]
pub struct ArticleRef {
    pub slug: String,
    pub title: String,
    pub status: ArticleStatus,
}

/// Every reaction posted with `email`, oldest first, with its article.
pub async fn reactions(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Vec<(comments::Model, ArticleRef)>, DbErr> {
    // Erased reactions keep an empty address: it names nobody.
    if email.is_empty() {
        return Ok(Vec::new());
    }
    let rows = comments::Entity::find()
        .filter(same_address(comments::Column::AuthorEmail, email))
        .order_by_asc(comments::Column::CreatedAt)
        .order_by_asc(comments::Column::Id)
        .all(db)
        .await?;
    let mut ids: Vec<i32> = rows.iter().map(|c| c.article_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found: HashMap<i32, ArticleRef> = HashMap::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let articles: Vec<(i32, String, String, ArticleStatus)> = articles::Entity::find()
            .select_only()
            .columns([
                articles::Column::Id,
                articles::Column::Slug,
                articles::Column::Title,
                articles::Column::Status,
            ])
            .filter(articles::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(articles.into_iter().map(|(id, slug, title, status)| {
            (
                id,
                ArticleRef {
                    slug,
                    title,
                    status,
                },
            )
        }));
    }
    rows.into_iter()
        .map(|c| {
            let article = found.get(&c.article_id).cloned().ok_or_else(|| {
                DbErr::RecordNotFound(format!("article {} of reaction {}", c.article_id, c.id))
            })?;
            Ok((c, article))
        })
        .collect()
}

/// The moderation log of these reactions, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    comment_ids: &[i32],
) -> Result<Vec<moderation_log::Model>, DbErr> {
    let mut rows = Vec::new();
    for chunk in comment_ids.chunks(super::IN_CHUNK) {
        rows.extend(
            moderation_log::Entity::find()
                .filter(moderation_log::Column::CommentId.is_in(chunk.iter().copied()))
                .order_by_asc(moderation_log::Column::Id)
                .all(db)
                .await?,
        );
    }
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// The address's wish for reply notifications, if it ever expressed one.
pub async fn subscriber(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<mail_subscribers::Model>, DbErr> {
    if email.is_empty() {
        return Ok(None);
    }
    mail_subscribers::Entity::find()
        .filter(same_address(mail_subscribers::Column::Email, email))
        .one(db)
        .await
}

/// The bans on the address itself.
pub async fn email_bans(db: &impl ConnectionTrait, email: &str) -> Result<Vec<bans::Model>, DbErr> {
    if email.is_empty() {
        return Ok(Vec::new());
    }
    bans::Entity::find()
        .filter(bans::Column::Kind.eq(Kind::Email.as_str()))
        .filter(same_address(bans::Column::Value, email))
        .order_by_asc(bans::Column::Id)
        .all(db)
        .await
}

/// Log rows with a reason that may name the person: every row about `comment_ids`
/// that has one, and any other row whose reason contains one of `phrases` (without
/// case; a first sieve, the caller decides).
pub async fn reasons_to_check(
    db: &impl ConnectionTrait,
    comment_ids: &[i32],
    phrases: &[&str],
) -> Result<Vec<moderation_log::Model>, DbErr> {
    let mut rows = history(db, comment_ids).await?;
    rows.retain(|r| r.reason.is_some());
    let mut mentions = Condition::any();
    for phrase in phrases.iter().filter(|p| !p.is_empty()) {
        let pattern = format!("%{}%", escape_like(&phrase.to_lowercase()));
        mentions = mentions.add(
            Expr::expr(Func::lower(Expr::col(moderation_log::Column::Reason)))
                .like(LikeExpr::new(pattern).escape('\\')),
        );
    }
    if !mentions.is_empty() {
        let others = moderation_log::Entity::find()
            .filter(moderation_log::Column::Reason.is_not_null())
            .filter(mentions)
            .all(db)
            .await?;
        for row in others {
            if !rows.iter().any(|r| r.id == row.id) {
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Rewrites the reason of one log row.
pub async fn set_reason(db: &impl ConnectionTrait, id: i32, reason: &str) -> Result<(), DbErr> {
    moderation_log::Entity::update_many()
        .col_expr(moderation_log::Column::Reason, Expr::value(reason))
        .filter(moderation_log::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes what else names the address: its consent to notifications, its privacy
/// links, mail waiting to go to it or about `comment_ids`, and bans of the address.
pub async fn forget_address(
    db: &impl ConnectionTrait,
    email: &str,
    comment_ids: &[i32],
) -> Result<(), DbErr> {
    if email.is_empty() {
        return Ok(());
    }
    mail_subscribers::Entity::delete_many()
        .filter(same_address(mail_subscribers::Column::Email, email))
        .exec(db)
        .await?;
    privacy_requests::Entity::delete_many()
        .filter(same_address(privacy_requests::Column::Email, email))
        .exec(db)
        .await?;
    outbox::Entity::delete_many()
        .filter(same_address(outbox::Column::Recipient, email))
        .exec(db)
        .await?;
    super::outbox::delete_about(db, comment_ids).await?;
    bans::Entity::delete_many()
        .filter(bans::Column::Kind.eq(Kind::Email.as_str()))
        .filter(same_address(bans::Column::Value, email))
        .exec(db)
        .await?;
    Ok(())
}

/// The bans on any of these address hashes.
pub async fn address_bans(
    db: &impl ConnectionTrait,
    hashes: &[&str],
) -> Result<Vec<bans::Model>, DbErr> {
    let mut found = Vec::new();
    for chunk in hashes.chunks(super::IN_CHUNK) {
        found.extend(
            bans::Entity::find()
                .filter(bans::Column::Kind.eq(Kind::IpHash.as_str()))
                .filter(bans::Column::Value.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    Ok(found)
}

/// Replaces a ban's note.
pub async fn set_ban_reason(db: &impl ConnectionTrait, id: i32, reason: &str) -> Result<(), DbErr> {
    bans::Entity::update_many()
        .col_expr(bans::Column::Reason, Expr::value(reason))
        .filter(bans::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes waiting digests that name any of `names`: a moderators' digest lists the
/// authors of pending reactions, and belongs to no reaction of its own. (The moderator
/// gets the next digest when something new waits.)
pub async fn forget_in_digests(db: &impl ConnectionTrait, names: &[&str]) -> Result<u64, DbErr> {
    let mut deleted = 0;
    for name in names.iter().filter(|n| !n.is_empty()) {
        let pattern = format!("%{}%", escape_like(name));
        deleted += outbox::Entity::delete_many()
            .filter(outbox::Column::Kind.eq(crate::mail::messages::DIGEST))
            .filter(outbox::Column::BodyText.like(LikeExpr::new(pattern).escape('\\')))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

/// After an erasure on SQLite: copies the WAL (which still holds the pages as they were
/// before) into the database file and empties it. Deleted and overwritten content in
/// the file itself is zeroed by `secure_delete` (`store::sqlite_options`). Returns
/// false when a reader kept the checkpoint from finishing; the next one finishes it.
/// PostgreSQL keeps old row versions until autovacuum reuses their space.
pub async fn checkpoint(write: &DatabaseConnection) -> Result<bool, DbErr> {
    if write.get_database_backend() != DbBackend::Sqlite {
        return Ok(true);
    }
    let row = write
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ))
        .await?;
    let busy: i32 = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };
    Ok(busy == 0)
}

/// Records one use of the privacy pages: `actor` is `reader` or an admin's id.
pub async fn log_use(
    db: &impl ConnectionTrait,
    action: Use,
    actor: &str,
    reactions: usize,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    privacy_log::ActiveModel {
        action: Set(action.as_str().to_owned()),
        actor: Set(actor.to_owned()),
        reactions: Set(i32::try_from(reactions).unwrap_or(i32::MAX)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// The most recent uses of the privacy pages, newest first.
pub async fn recent_uses(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<privacy_log::Model>, DbErr> {
    privacy_log::Entity::find()
        .order_by_desc(privacy_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
