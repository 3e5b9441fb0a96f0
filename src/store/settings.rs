//! Key/value settings that admins may change at run time, and the generated site secret.

use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::OnConflict,
};

use crate::{
    domain::moderation::{Mode, Rules},
    entity::settings,
};

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

/// Setting keys of the moderation rules.
pub const MODERATION_MODE: &str = "moderation_mode";
pub const LINK_THRESHOLD: &str = "link_threshold";
pub const MODERATION_WORDS: &str = "moderation_words";
pub const BLOCK_WORDS: &str = "block_words";

/// The moderation rules as admins set them, with the defaults of DESIGN.md for the rest.
pub async fn moderation_rules(db: &impl ConnectionTrait) -> Result<Rules, DbErr> {
    let rows = settings::Entity::find()
        .filter(settings::Column::Key.is_in([
            MODERATION_MODE,
            LINK_THRESHOLD,
            MODERATION_WORDS,
            BLOCK_WORDS,
        ]))
        .all(db)
        .await?;
    let mut rules = Rules::default();
    for row in rows {
        match row.key.as_str() {
            MODERATION_MODE => {
                if let Some(mode) = Mode::parse(&row.value) {
                    rules.mode = mode;
                }
            }
            LINK_THRESHOLD => {
                if let Ok(threshold) = row.value.trim().parse() {
                    rules.link_threshold = threshold;
                }
            }
            MODERATION_WORDS => rules.moderation_words = word_list(&row.value),
            BLOCK_WORDS => rules.block_words = word_list(&row.value),
            _ => {}
        }
    }
    Ok(rules)
}

/// One word or phrase per line (commas separate too), blanks dropped.
pub fn word_list(value: &str) -> Vec<String> {
    value
        .split(['\n', ','])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}
