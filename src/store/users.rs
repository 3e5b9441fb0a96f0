//! Staff accounts.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::{
    domain::validate::{Role, Username},
    entity::users,
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
