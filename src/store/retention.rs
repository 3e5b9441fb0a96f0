//! The retention job's queries (`crate::retention`): what has been kept too long, and
//! taking it away. Each takes the moment before which data is too old, so the job's
//! clock decides, not the database's.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};

use crate::{
    domain::states::CommentStatus,
    entity::{comments, mail_subscribers, moderation_log, outbox, privacy_requests},
    store::outbox::FAILED,
};

/// Clears the address hash of every reaction posted before `before` that still has one;
/// returns how many. `updated_at` stays: the reaction itself did not change.
pub async fn clear_address_hashes(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    comments::Entity::update_many()
        .col_expr(comments::Column::IpHash, Expr::value(""))
        .filter(comments::Column::CreatedAt.lt(before))
        .filter(comments::Column::IpHash.ne(""))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// A reaction that waited for a moderator too long.
#[derive(Clone, Copy, Debug)]
pub struct Unhandled {
    pub id: i32,
    pub article_id: i32,
    pub status: CommentStatus,
}

/// Pending and spam reactions last changed before `before`. On PostgreSQL they stay
/// locked to the end of the transaction: a moderator's approval that commits meanwhile
/// takes the reaction out of the set (the row is checked again once the lock is had)
/// instead of being deleted with it. (SQLite's write transaction excludes that anyway.)
pub async fn unhandled(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<Vec<Unhandled>, DbErr> {
    let rows: Vec<(i32, i32, CommentStatus)> = comments::Entity::find()
        .select_only()
        .columns([
            comments::Column::Id,
            comments::Column::ArticleId,
            comments::Column::Status,
        ])
        .filter(comments::Column::Status.is_in([CommentStatus::Pending, CommentStatus::Spam]))
        .filter(comments::Column::UpdatedAt.lt(before))
        .lock_exclusive()
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, article_id, status)| Unhandled {
            id,
            article_id,
            status,
        })
        .collect())
}

/// Which of `ids` have at least one reply, of any status.
pub async fn with_replies(db: &impl ConnectionTrait, ids: &[i32]) -> Result<HashSet<i32>, DbErr> {
    let mut parents = HashSet::new();
    for chunk in ids.chunks(super::IN_CHUNK) {
        let found: Vec<Option<i32>> = comments::Entity::find()
            .select_only()
            .column(comments::Column::ParentId)
            .distinct()
            .filter(comments::Column::ParentId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        parents.extend(found.into_iter().flatten());
    }
    Ok(parents)
}

/// Deletes reactions without replies, with their log rows and any mail about them;
/// returns how many reactions went.
pub async fn delete(db: &impl ConnectionTrait, ids: &[i32]) -> Result<u64, DbErr> {
    super::outbox::delete_about(db, ids).await?;
    let mut deleted = 0;
    for chunk in ids.chunks(super::IN_CHUNK) {
        let chunk = chunk.iter().copied();
        moderation_log::Entity::delete_many()
            .filter(moderation_log::Column::CommentId.is_in(chunk.clone()))
            .exec(db)
            .await?;
        deleted += comments::Entity::delete_many()
            .filter(comments::Column::Id.is_in(chunk))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

/// Deletes privacy requests whose link expired before `now`.
pub async fn delete_expired_privacy_requests(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    privacy_requests::Entity::delete_many()
        .filter(privacy_requests::Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Deletes addresses that never confirmed they want reply notifications, when the
/// confirmation went out (or, never sent, the address was given) before `before`.
pub async fn delete_unconfirmed_subscribers(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    mail_subscribers::Entity::delete_many()
        .filter(mail_subscribers::Column::ConfirmedAt.is_null())
        // An unsubscribe is remembered: that address is never asked again.
        .filter(mail_subscribers::Column::UnsubscribedAt.is_null())
        .filter(
            Condition::any()
                .add(mail_subscribers::Column::ConfirmationSentAt.lt(before))
                .add(
                    Condition::all()
                        .add(mail_subscribers::Column::ConfirmationSentAt.is_null())
                        .add(mail_subscribers::Column::CreatedAt.lt(before)),
                ),
        )
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Deletes mail given up on that was queued before `before`.
pub async fn delete_failed_mail(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    outbox::Entity::delete_many()
        .filter(outbox::Column::Status.eq(FAILED))
        .filter(outbox::Column::CreatedAt.lt(before))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
