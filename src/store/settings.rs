//! Key/value settings that admins may change at run time, and the generated site secret.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, sea_query::OnConflict};

use crate::entity::settings;

/// The key under which a generated site secret is kept when none is configured.
pub const SITE_SECRET: &str = "site_secret";

pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, DbErr> {
    Ok(settings::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|row| row.value))
}

/// Inserts or replaces one setting.
pub async fn set(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), DbErr> {
    let row = settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(Utc::now()),
    };
    settings::Entity::insert(row)
        .on_conflict(
            OnConflict::column(settings::Column::Key)
                .update_columns([settings::Column::Value, settings::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// Returns the stored value, or stores `candidate` when there is none yet
/// (the first of two racing writers wins; both get the same answer).
pub async fn get_or_insert(
    db: &impl ConnectionTrait,
    key: &str,
    candidate: &str,
) -> Result<String, DbErr> {
    let row = settings::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(candidate.to_owned()),
        updated_at: Set(Utc::now()),
    };
    settings::Entity::insert(row)
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    get(db, key)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("setting {key}")))
}
