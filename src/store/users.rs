//! Staff accounts.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, sea_query::Expr,
};

use crate::{
    domain::validate::{Email, Role, Username},
    entity::{api_tokens, sessions, users},
};

pub async fn count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    users::Entity::find().count(db).await
}

pub async fn find_by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(db)
        .await
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<users::Model>, DbErr> {
    users::Entity::find()
        .order_by_asc(users::Column::Username)
        .all(db)
        .await
}

/// Creates an account; a taken name fails with the database's unique violation.
pub async fn insert(
    db: &impl ConnectionTrait,
    username: &Username,
    role: Role,
    password_hash: String,
) -> Result<users::Model, DbErr> {
    users::ActiveModel {
        username: Set(username.as_ref().to_owned()),
        display_name: Set(username.as_ref().to_owned()),
        password_hash: Set(password_hash),
        role: Set(role),
        disabled: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Sets the name shown for an account.
pub async fn set_display_name(
    db: &impl ConnectionTrait,
    id: i32,
    display_name: &str,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::DisplayName, Expr::value(display_name))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Creates an account, or gives an existing one a new password and role
/// (so `user add` doubles as a password reset).
pub async fn upsert(
    db: &impl ConnectionTrait,
    username: &Username,
    role: Role,
    password_hash: String,
) -> Result<users::Model, DbErr> {
    if let Some(existing) = find_by_username(db, username.as_ref()).await? {
        let mut row: users::ActiveModel = existing.into();
        row.password_hash = Set(password_hash);
        row.role = Set(role);
        row.disabled = Set(false);
        return row.update(db).await;
    }
    insert(db, username, role, password_hash).await
}

/// Ends every way in of one account: its sessions and its API tokens. Part of a password
/// reset and of disabling, in the same transaction.
pub async fn end_access(db: &impl ConnectionTrait, user_id: i32) -> Result<(), DbErr> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    api_tokens::Entity::delete_many()
        .filter(api_tokens::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Shuts an account out: it can no longer log in, and its sessions and tokens end.
/// `user add` with its name enables it again, with a new password.
pub async fn disable(db: &impl ConnectionTrait, user: users::Model) -> Result<(), DbErr> {
    let id = user.id;
    let mut row: users::ActiveModel = user.into();
    row.disabled = Set(true);
    row.update(db).await?;
    end_access(db, id).await
}

pub async fn find_by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find_by_id(id).one(db).await
}

/// Stops a staff member's digest (their unsubscribe link); true when the account exists.
pub async fn stop_digest(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    let result = users::Entity::update_many()
        .col_expr(users::Column::Digest, Expr::value(false))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Sets a staff member's own e-mail address (none: removed) and digest choice.
pub async fn update_contact(
    db: &impl ConnectionTrait,
    id: i32,
    email: Option<&Email>,
    digest: bool,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(
            users::Column::Email,
            Expr::value(email.map(|e| e.as_ref().to_owned())),
        )
        .col_expr(users::Column::Digest, Expr::value(digest))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Enabled moderators and admins who want the digest, have an address for it, and were
/// last sent one before `sent_before` (or never).
pub async fn digest_recipients(
    db: &impl ConnectionTrait,
    sent_before: DateTime<Utc>,
) -> Result<Vec<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Role.is_in([Role::Moderator, Role::Admin]))
        .filter(users::Column::Disabled.eq(false))
        .filter(users::Column::Digest.eq(true))
        .filter(users::Column::Email.is_not_null())
        .filter(users::Column::Email.ne(""))
        .filter(
            Condition::any()
                .add(users::Column::DigestSentAt.is_null())
                .add(users::Column::DigestSentAt.lte(sent_before)),
        )
        .order_by_asc(users::Column::Id)
        .all(db)
        .await
}

/// Records that a digest went to `id` at `at`.
pub async fn digest_sent(
    db: &impl ConnectionTrait,
    id: i32,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::DigestSentAt, Expr::value(at))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}
