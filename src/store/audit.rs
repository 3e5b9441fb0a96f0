//! The moderation log: one row for every status change, by a person or by a rule.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    domain::states::{CommentStatus, LogAction},
    entity::moderation_log,
};

/// The actor of automatic decisions.
pub const SYSTEM: &str = "system";
/// The actor of a reader's own edit or deletion.
pub const READER: &str = "reader";

/// One change to record.
#[derive(Debug)]
pub struct Entry<'a> {
    pub comment_id: i32,
    pub actor: &'a str,
    pub action: LogAction,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reason: Option<&'a str>,
}

pub async fn record(db: &impl ConnectionTrait, entry: Entry<'_>) -> Result<(), DbErr> {
    moderation_log::ActiveModel {
        comment_id: Set(entry.comment_id),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action),
        from_status: Set(entry.from_status),
        to_status: Set(entry.to_status),
        reason: Set(entry.reason.map(str::to_owned)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// The rule behind the latest automatic decision on each of these reactions.
pub async fn latest_rules(
    db: &impl ConnectionTrait,
    comment_ids: &[i32],
) -> Result<HashMap<i32, String>, DbErr> {
    let rows: Vec<(i32, Option<String>)> = moderation_log::Entity::find()
        .select_only()
        .columns([
            moderation_log::Column::CommentId,
            moderation_log::Column::Reason,
        ])
        .filter(moderation_log::Column::CommentId.is_in(comment_ids.iter().copied()))
        .filter(moderation_log::Column::Actor.eq(SYSTEM))
        .order_by_asc(moderation_log::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    // Later rows overwrite earlier ones: the latest decision wins.
    Ok(rows
        .into_iter()
        .filter_map(|(id, reason)| reason.map(|r| (id, r)))
        .collect())
}

/// A row of the log page.
#[derive(Debug, FromQueryResult)]
pub struct LogRow {
    pub id: i32,
    pub comment_id: i32,
    pub actor: String,
    pub action: LogAction,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The newest entries first, optionally of one actor and/or one action.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: Option<&str>,
    action: Option<LogAction>,
    limit: u64,
) -> Result<Vec<LogRow>, DbErr> {
    let mut query = moderation_log::Entity::find();
    if let Some(actor) = actor {
        query = query.filter(moderation_log::Column::Actor.eq(actor));
    }
    if let Some(action) = action {
        query = query.filter(moderation_log::Column::Action.eq(action));
    }
    query
        .order_by_desc(moderation_log::Column::Id)
        .limit(limit)
        .into_model::<LogRow>()
        .all(db)
        .await
}

/// Every row about one reaction, oldest first.
pub async fn for_comment(
    db: &impl ConnectionTrait,
    comment_id: i32,
) -> Result<Vec<moderation_log::Model>, DbErr> {
    moderation_log::Entity::find()
        .filter(moderation_log::Column::CommentId.eq(comment_id))
        .order_by_asc(moderation_log::Column::Id)
        .all(db)
        .await
}
