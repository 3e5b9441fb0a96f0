//! Banned e-mail addresses and address hashes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QuerySelect,
};

use crate::entity::bans;

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

/// Whether either value is under a ban that has not expired.
pub async fn is_banned(
    db: &impl ConnectionTrait,
    email: &str,
    ip_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
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
    let found = bans::Entity::find()
        .select_only()
        .column(bans::Column::Id)
        .filter(matches_value)
        .filter(unexpired)
        .into_tuple::<i32>()
        .one(db)
        .await?;
    Ok(found.is_some())
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
