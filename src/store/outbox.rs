//! The outbox: mail waits here from the transaction that caused it until the worker
//! (`mail::worker`) has handed it to the SMTP server. A claim keeps two workers (two
//! instances) from sending one mail twice; a crashed worker's claim runs out.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::{entity::outbox, security};

/// `status` of a mail still to be sent.
pub const PENDING: &str = "pending";
/// `status` of a mail given up on (a permanent refusal, or too many attempts).
pub const FAILED: &str = "failed";

/// A mail to queue, composed (`mail::messages`).
#[derive(Clone, Debug)]
pub struct NewMail {
    /// What it is for: `confirm`, `reply`, `privacy`, `digest`.
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL, for mail that has one.
    pub unsubscribe: Option<String>,
    /// The reaction the mail is about.
    pub comment_id: Option<i32>,
}

/// Queues a mail; call inside the transaction of the event that causes it, and wake the
/// worker (`Db::mail_queued`) after the commit.
pub async fn queue(
    db: &impl ConnectionTrait,
    mail: NewMail,
    host: &str,
    now: DateTime<Utc>,
) -> Result<i32, DbErr> {
    let row = outbox::ActiveModel {
        kind: Set(mail.kind.to_owned()),
        recipient: Set(mail.to),
        subject: Set(mail.subject),
        body_text: Set(mail.text),
        body_html: Set(mail.html),
        unsubscribe: Set(mail.unsubscribe),
        message_id: Set(format!("<{}@{host}>", security::random_token())),
        comment_id: Set(mail.comment_id),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// Up to `limit` mails due at `now` that nobody holds a claim on, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    outbox::Entity::find()
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(unclaimed(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

fn unclaimed(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(outbox::Column::ClaimedUntil.is_null())
        .add(outbox::Column::ClaimedUntil.lt(now))
}

/// Claims one mail until `until`; false when another worker claimed (or sent) it first.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = outbox::Entity::update_many()
        .col_expr(outbox::Column::ClaimedUntil, Expr::value(until))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(PENDING))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(unclaimed(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The SMTP server took the mail: nothing of it stays.
pub async fn sent(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    outbox::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// A send failed: try again at `retry_at`, or give up when it is `None`.
pub async fn failed(
    db: &impl ConnectionTrait,
    mail: &outbox::Model,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let error: String = error.chars().take(500).collect();
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(mail.attempts + 1))
        .col_expr(
            outbox::Column::ClaimedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(outbox::Column::LastError, Expr::value(error));
    update = match retry_at {
        Some(at) => update.col_expr(outbox::Column::NextAttemptAt, Expr::value(at)),
        None => update.col_expr(outbox::Column::Status, Expr::value(FAILED)),
    };
    update
        .filter(outbox::Column::Id.eq(mail.id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes mail about these reactions (waiting or given up), when they go or lose
/// their personal data.
pub async fn delete_about(db: &impl ConnectionTrait, comment_ids: &[i32]) -> Result<(), DbErr> {
    for chunk in comment_ids.chunks(super::IN_CHUNK) {
        outbox::Entity::delete_many()
            .filter(outbox::Column::CommentId.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// How many mails wait, and how many were given up on.
pub async fn counts(db: &impl ConnectionTrait) -> Result<(u64, u64), DbErr> {
    let count = |status: &'static str| {
        outbox::Entity::find()
            .filter(outbox::Column::Status.eq(status))
            .count(db)
    };
    Ok((count(PENDING).await?, count(FAILED).await?))
}
