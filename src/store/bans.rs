//! Banned e-mail addresses and address hashes.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr};

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

/// What the moderation rules need to know of a poster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    /// Their e-mail address or address hash is banned.
    pub banned: bool,
    /// This name and e-mail together have an approved reaction (the hold_first rule).
    pub known_author: bool,
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
