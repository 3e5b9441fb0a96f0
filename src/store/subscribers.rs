//! Readers' consent to reply notifications: one row per address (lowercased: `Anna@`
//! and `anna@` are one reader, and one consent), confirmed by the double opt-in link,
//! and marked when the address unsubscribes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use crate::entity::mail_subscribers;

/// How an address is kept here: lowercased.
pub fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The row of an address, in any case.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<mail_subscribers::Model>, DbErr> {
    mail_subscribers::Entity::find()
        .filter(mail_subscribers::Column::Email.eq(key(email)))
        .one(db)
        .await
}

/// The addresses (any case) among `emails` that confirmed and did not unsubscribe, by
/// their [`key`].
pub async fn confirmed(
    db: &impl ConnectionTrait,
    emails: &[&str],
) -> Result<Vec<mail_subscribers::Model>, DbErr> {
    let keys: Vec<String> = emails.iter().map(|e| key(e)).collect();
    mail_subscribers::Entity::find()
        .filter(mail_subscribers::Column::Email.is_in(keys))
        .filter(mail_subscribers::Column::ConfirmedAt.is_not_null())
        .filter(mail_subscribers::Column::UnsubscribedAt.is_null())
        .all(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<mail_subscribers::Model>, DbErr> {
    mail_subscribers::Entity::find_by_id(id).one(db).await
}

/// A new, unconfirmed row for an address; `None` when the address has one already
/// (also one another instance stored a moment ago).
pub async fn insert_new(
    db: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Option<mail_subscribers::Model>, DbErr> {
    let row = mail_subscribers::ActiveModel {
        email: Set(key(email)),
        confirmed_at: Set(None),
        unsubscribed_at: Set(None),
        confirmation_sent_at: Set(Some(now)),
        created_at: Set(now),
        ..Default::default()
    };
    let inserted = mail_subscribers::Entity::insert(row)
        .on_conflict(
            OnConflict::column(mail_subscribers::Column::Email)
                .do_nothing()
                .to_owned(),
        )
        .exec_with_returning(db)
        .await;
    match inserted {
        Ok(model) => Ok(Some(model)),
        Err(DbErr::RecordNotInserted) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Confirms the address; true when the row exists.
pub async fn confirm(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = mail_subscribers::Entity::update_many()
        .col_expr(mail_subscribers::Column::ConfirmedAt, Expr::value(now))
        .col_expr(
            mail_subscribers::Column::UnsubscribedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .filter(mail_subscribers::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Stops all reply notifications to the address; true when the row exists.
pub async fn unsubscribe(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = mail_subscribers::Entity::update_many()
        .col_expr(mail_subscribers::Column::UnsubscribedAt, Expr::value(now))
        .filter(mail_subscribers::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
