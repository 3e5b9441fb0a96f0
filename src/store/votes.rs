//! "Nuttig" votes on reactions: the rows of `comment_votes` and the count kept with each
//! reaction. A vote names no one: it holds a keyed hash of the browser's vote cookie
//! and the address hash, nothing else, and no query here lists who voted.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use crate::entity::{comment_votes, comments};

/// Who votes: the hash of the browser's vote cookie, when it has one, and the address
/// hash. Either one matching a vote on a reaction is that vote.
#[derive(Clone, Debug)]
pub struct VoterKeys {
    pub voter: Option<String>,
    pub ip_hash: String,
}

/// The reaction, locked for the rest of the transaction (PostgreSQL `FOR UPDATE`; a
/// SQLite write transaction excludes every other writer anyway), so that two votes on
/// it are counted one after the other.
pub async fn lock_comment(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<comments::Model>, DbErr> {
    comments::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await
}

/// The votes on a reaction that are this voter's: by their browser or by their address.
pub async fn matching(
    db: &impl ConnectionTrait,
    comment_id: i32,
    keys: &VoterKeys,
) -> Result<Vec<i32>, DbErr> {
    let mut either = Condition::any().add(comment_votes::Column::IpHash.eq(keys.ip_hash.as_str()));
    if let Some(voter) = &keys.voter {
        either = either.add(comment_votes::Column::Voter.eq(voter.as_str()));
    }
    comment_votes::Entity::find()
        .select_only()
        .column(comment_votes::Column::Id)
        .filter(comment_votes::Column::CommentId.eq(comment_id))
        .filter(either)
        .into_tuple()
        .all(db)
        .await
}

/// Stores a vote. A second vote of the same browser on the same reaction breaks the
/// unique index `(comment_id, voter)`.
pub async fn add(
    db: &impl ConnectionTrait,
    comment_id: i32,
    keys: &VoterKeys,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    comment_votes::ActiveModel {
        comment_id: Set(comment_id),
        voter: Set(keys.voter.clone()),
        ip_hash: Set(Some(keys.ip_hash.clone())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

pub async fn remove(db: &impl ConnectionTrait, ids: &[i32]) -> Result<(), DbErr> {
    comment_votes::Entity::delete_many()
        .filter(comment_votes::Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Counts the votes on a reaction and keeps the count with it; returns the count.
pub async fn recount(db: &impl ConnectionTrait, comment_id: i32) -> Result<i32, DbErr> {
    let count = comment_votes::Entity::find()
        .filter(comment_votes::Column::CommentId.eq(comment_id))
        .count(db)
        .await?;
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    comments::Entity::update_many()
        .col_expr(comments::Column::HelpfulCount, Expr::value(count))
        .filter(comments::Column::Id.eq(comment_id))
        .exec(db)
        .await?;
    Ok(count)
}

/// Clears the address hash of votes cast before `before`; returns how many. The vote
/// stays, still one per browser.
pub async fn clear_address_hashes(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    comment_votes::Entity::update_many()
        .col_expr(
            comment_votes::Column::IpHash,
            Expr::value(Option::<String>::None),
        )
        .filter(comment_votes::Column::CreatedAt.lt(before))
        .filter(comment_votes::Column::IpHash.is_not_null())
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}
