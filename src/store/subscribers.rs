//! Readers' consent to reply notifications: one row per address, confirmed by the
//! double opt-in link, and marked when the address unsubscribes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};

use crate::entity::mail_subscribers;

/// The row of an address (stored as the reaction form gave it).
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<mail_subscribers::Model>, DbErr> {
    mail_subscribers::Entity::find()
        .filter(mail_subscribers::Column::Email.eq(email))
        .one(db)
        .await
}

pub async fn find(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<mail_subscribers::Model>, DbErr> {
    mail_subscribers::Entity::find_by_id(id).one(db).await
}

/// A new, unconfirmed row for an address.
pub async fn insert(
    db: &impl ConnectionTrait,
    email: &str,
    now: DateTime<Utc>,
) -> Result<mail_subscribers::Model, DbErr> {
    mail_subscribers::ActiveModel {
        email: Set(email.to_owned()),
        confirmed_at: Set(None),
        unsubscribed_at: Set(None),
        confirmation_sent_at: Set(Some(now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Notes that a confirmation mail went out again (after an unsubscribe, or a day after
/// an unanswered one): the address must confirm anew.
pub async fn ask_again(
    db: &impl ConnectionTrait,
    id: i32,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    mail_subscribers::Entity::update_many()
        .col_expr(
            mail_subscribers::Column::ConfirmedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            mail_subscribers::Column::UnsubscribedAt,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            mail_subscribers::Column::ConfirmationSentAt,
            Expr::value(now),
        )
        .filter(mail_subscribers::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
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
