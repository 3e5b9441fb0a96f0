//! Banned e-mail addresses and address hashes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
    sea_query::{Expr, Query},
};

use crate::{
    entity::{bans, comments},
    store::comments::Status,
};

/// What a ban matches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Email,
    IpHash,
}

impl Kind {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "email" => Some(Self::Email),
            "ip_hash" => Some(Self::IpHash),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::IpHash => "ip_hash",
        }
    }
}

/// Bans on either value that have not expired.
fn bans_matching(email: &str, ip_hash: &str, now: DateTime<Utc>) -> sea_orm::Select<bans::Entity> {
    let matches_value = Condition::any()
        .add(
            Condition::all()
                .add(bans::Column::Kind.eq(Kind::Email.as_str()))
                .add(bans::Column::Value.eq(email.to_lowercase())),
        )
        .add(
            Condition::all()
                .add(bans::Column::Kind.eq(Kind::IpHash.as_str()))
                .add(bans::Column::Value.eq(ip_hash)),
        );
    let unexpired = Condition::any()
        .add(bans::Column::ExpiresAt.is_null())
        .add(bans::Column::ExpiresAt.gt(now));
    bans::Entity::find()
        .select_only()
        .column(bans::Column::Id)
        .filter(matches_value)
        .filter(unexpired)
}

/// What the moderation rules need to know of a poster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Their e-mail address or address hash is banned.
    pub banned: bool,
    /// This name and e-mail together have an approved reaction (the hold_first rule).
    pub known_author: bool,
}

/// A poster's [`Standing`], in one query (it runs on every post).
pub async fn standing(
    db: &impl ConnectionTrait,
    email: &str,
    name: &str,
    ip_hash: &str,
    now: DateTime<Utc>,
) -> Result<Standing, DbErr> {
    let known = comments::Entity::find()
        .select_only()
        .column(comments::Column::Id)
        .filter(comments::Column::AuthorEmail.eq(email))
        .filter(comments::Column::AuthorName.eq(name))
        .filter(comments::Column::Status.eq(Status::Approved.as_str()))
        .into_query();
    let query = Query::select()
        .expr_as(
            Expr::exists(bans_matching(email, ip_hash, now).into_query()),
            "banned",
        )
        .expr_as(Expr::exists(known), "known_author")
        .to_owned();
    let row = db
        .query_one(&query)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("poster standing".into()))?;
    Ok(Standing {
        banned: row.try_get("", "banned")?,
        known_author: row.try_get("", "known_author")?,
    })
}

pub async fn insert(
    db: &impl ConnectionTrait,
    kind: Kind,
    value: &str,
    reason: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
    created_by: i32,
) -> Result<bans::Model, DbErr> {
    let value = match kind {
        Kind::Email => value.to_lowercase(),
        Kind::IpHash => value.to_owned(),
    };
    bans::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        value: Set(value),
        reason: Set(reason.map(str::to_owned)),
        expires_at: Set(expires_at),
        created_by: Set(Some(created_by)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}
