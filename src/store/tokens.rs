//! API tokens.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait,
    sea_query::Expr,
};

use crate::{
    domain::validate::TokenLabel,
    entity::{api_tokens, users},
    store::Db,
};

pub async fn create(
    db: &impl ConnectionTrait,
    hash: String,
    user_id: i32,
    label: &TokenLabel,
) -> Result<api_tokens::Model, DbErr> {
    api_tokens::ActiveModel {
        hash: Set(hash),
        user_id: Set(user_id),
        label: Set(label.as_ref().to_owned()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// How stale `last_used_at` may get: noting every use would make each API call a write.
const USE_NOTED_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The enabled user behind a token hash, noting the use (to the minute).
pub async fn use_token(
    db: &Db,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<users::Model>, DbErr> {
    let found = api_tokens::Entity::find()
        .filter(api_tokens::Column::Hash.eq(hash))
        .find_also_related(users::Entity)
        .one(db.read())
        .await?;
    let Some((token, Some(user))) = found else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    if token
        .last_used_at
        .is_none_or(|at| now - at >= USE_NOTED_EVERY)
    {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
            .filter(api_tokens::Column::Id.eq(token.id))
            .exec(db.write())
            .await?;
    }
    Ok(Some(user))
}

/// A token row for the admin page.
#[derive(Debug, FromQueryResult)]
pub struct TokenRow {
    pub id: i32,
    pub label: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<TokenRow>, DbErr> {
    api_tokens::Entity::find()
        .select_only()
        .columns([
            api_tokens::Column::Id,
            api_tokens::Column::Label,
            api_tokens::Column::CreatedAt,
            api_tokens::Column::LastUsedAt,
        ])
        .column_as(users::Column::Username, "username")
        .join(JoinType::InnerJoin, api_tokens::Relation::User.def())
        .order_by_desc(api_tokens::Column::Id)
        .into_model::<TokenRow>()
        .all(db)
        .await
}

/// Revokes a token; returns whether it existed.
pub async fn revoke(db: &impl ConnectionTrait, id: i32) -> Result<bool, DbErr> {
    api_tokens::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map(|r| r.rows_affected > 0)
}
