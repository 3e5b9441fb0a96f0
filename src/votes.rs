//! Readers' "Nuttig" votes, one code path for the site's button and the API: each vote
//! or withdrawal runs in one transaction with the reaction locked, recounts its votes
//! into `comments.helpful_count`, and bumps the article's version before it returns.

use chrono::Utc;
use sea_orm::TransactionTrait;

use crate::{
    domain::votes::{Change, Wish, takes_votes},
    error::AppResult,
    store::{self, Db, votes::VoterKeys},
};

/// The reaction a vote is for.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    pub comment_id: i32,
    /// The article the request named (the site's path does); `None` for the API's.
    pub article_id: Option<i32>,
    /// The reader posted this reaction themselves (their edit-key cookie says so).
    pub own: bool,
}

/// A reaction's count, and whether this reader's vote is in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tally {
    pub helpful_count: i32,
    pub voted: bool,
}

/// What came of a vote request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voted {
    Counted(Tally),
    /// No approved reaction on a published article (on the article named) has this id.
    NotFound,
    /// The reader's own reaction.
    Own,
}

/// Votes, withdraws or toggles, as `wish` says, and answers the count afterwards.
pub async fn cast(db: &Db, target: Target, keys: &VoterKeys, wish: Wish) -> AppResult<Voted> {
    let txn = db.begin().await?;
    let Some(comment) = store::votes::lock_comment(&txn, target.comment_id).await? else {
        return Ok(Voted::NotFound);
    };
    let published = store::articles::find_by_id(&txn, comment.article_id)
        .await?
        .is_some_and(|a| a.status.is_published());
    let on_named = target.article_id.is_none_or(|id| id == comment.article_id);
    if !on_named || !takes_votes(comment.status, published) {
        return Ok(Voted::NotFound);
    }
    if target.own {
        return Ok(Voted::Own);
    }
    let mine = store::votes::matching(&txn, comment.id, keys).await?;
    let had_voted = !mine.is_empty();
    let change = wish.change(had_voted);
    match change {
        Change::Add => add_once(&txn, comment.id, keys).await?,
        Change::Remove => store::votes::remove(&txn, &mine).await?,
        Change::Keep => {}
    }
    let helpful_count = if change == Change::Keep {
        comment.helpful_count
    } else {
        store::votes::recount(&txn, comment.id).await?
    };
    txn.commit().await?;
    if change != Change::Keep {
        db.changed(store::changes::Change::ArticleOnly(comment.article_id))
            .await;
    }
    Ok(Voted::Counted(Tally {
        helpful_count,
        voted: change.voted_after(had_voted),
    }))
}

/// Adds the vote in a savepoint: should another request of the same browser have got
/// its vote in first (the unique index says so), this one is that vote.
async fn add_once(
    txn: &sea_orm::DatabaseTransaction,
    comment_id: i32,
    keys: &VoterKeys,
) -> AppResult<()> {
    let savepoint = txn.begin().await?;
    match store::votes::add(&savepoint, comment_id, keys, Utc::now()).await {
        Ok(()) => savepoint.commit().await?,
        Err(err) if store::is_unique_violation(&err) => savepoint.rollback().await?,
        Err(err) => return Err(err.into()),
    }
    Ok(())
}
