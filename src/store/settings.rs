//! Key/value settings that admins may change at run time, and the generated site secret.

use std::{
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::OnConflict,
};

use crate::{
    domain::{
        limits::{Action, Quota, Quotas},
        moderation::{Mode, Rules},
        retention::Retention,
    },
    entity::{settings, settings_changes},
};

/// The key under which versions before the secret file kept a generated site secret;
/// `kantlijn serve` moves it out of the database (`cli::secret`).
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

/// A check of the site secret the database is used with (an HMAC under it, which says
/// nothing of the secret), so that another one is refused (`cli::secret`).
pub const SITE_SECRET_CHECK: &str = "site_secret_check";

/// Deletes one setting so that its value is gone from the files too: SQLite overwrites
/// the deleted row and empties its journal, PostgreSQL rewrites the table.
pub async fn erase(db: &crate::store::Db, key: &str) -> Result<(), DbErr> {
    let write = db.write();
    let sqlite = write.get_database_backend() == sea_orm::DbBackend::Sqlite;
    if sqlite {
        write
            .execute_unprepared("PRAGMA secure_delete = ON")
            .await?;
    }
    settings::Entity::delete_by_id(key.to_owned())
        .exec(write)
        .await?;
    if sqlite {
        write
            .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    } else {
        write.execute_unprepared("VACUUM FULL settings").await?;
    }
    Ok(())
}

/// Setting keys of how long personal data is kept (`domain::retention`).
pub const RETENTION_IP_DAYS: &str = "retention_ip_days";
pub const RETENTION_UNHANDLED_DAYS: &str = "retention_unhandled_days";

/// The retention periods as admins set them, with the defaults of DESIGN.md for the rest.
pub async fn retention(db: &impl ConnectionTrait) -> Result<Retention, DbErr> {
    let rows = settings::Entity::find()
        .filter(settings::Column::Key.is_in([RETENTION_IP_DAYS, RETENTION_UNHANDLED_DAYS]))
        .all(db)
        .await?;
    let mut retention = Retention::default();
    for row in rows {
        let Some(days) = Retention::parse_days(&row.value) else {
            continue;
        };
        match row.key.as_str() {
            RETENTION_IP_DAYS => retention.ip_days = days,
            RETENTION_UNHANDLED_DAYS => retention.unhandled_days = days,
            _ => {}
        }
    }
    Ok(retention)
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

/// The moderation rules, kept in memory: read on every post, changed a few times a year.
/// A change through this process applies at once ([`RulesCache::forget`]); one made
/// elsewhere (another instance, the database by hand) within [`RulesCache::MAX_AGE`].
#[derive(Debug, Default)]
pub struct RulesCache {
    current: Mutex<Option<(Instant, Arc<Rules>)>>,
    /// Bumped by every `forget`, so a read that raced a change is not kept.
    changes: AtomicU64,
}

impl RulesCache {
    pub const MAX_AGE: Duration = Duration::from_secs(5);

    /// The rules, from memory when they were read recently enough.
    pub async fn get(&self, db: &impl ConnectionTrait) -> Result<Arc<Rules>, DbErr> {
        if let Some((read_at, rules)) = self.lock().as_ref()
            && read_at.elapsed() < Self::MAX_AGE
        {
            return Ok(Arc::clone(rules));
        }
        let changes = self.changes.load(Ordering::Acquire);
        let read_at = Instant::now();
        let rules = Arc::new(moderation_rules(db).await?);
        let mut current = self.lock();
        if self.changes.load(Ordering::Acquire) == changes {
            *current = Some((read_at, Arc::clone(&rules)));
        }
        Ok(rules)
    }

    /// Drops what is in memory, so the next post reads the rules again.
    pub fn forget(&self) {
        let mut current = self.lock();
        self.changes.fetch_add(1, Ordering::AcqRel);
        *current = None;
    }

    fn lock(&self) -> MutexGuard<'_, Option<(Instant, Arc<Rules>)>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }
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

/// The setting key of one action's quota (`burst,per_minute`).
pub fn quota_key(action: Action) -> String {
    format!("quota_{}", action.as_str())
}

/// The rate-limit quotas as admins set them, with the defaults for the rest.
pub async fn quotas(db: &impl ConnectionTrait) -> Result<Quotas, DbErr> {
    let keys: Vec<String> = Action::ALL.into_iter().map(quota_key).collect();
    let rows = settings::Entity::find()
        .filter(settings::Column::Key.is_in(keys))
        .all(db)
        .await?;
    let mut quotas = Quotas::default();
    for action in Action::ALL {
        let stored = rows.iter().find(|r| r.key == quota_key(action));
        if let Some(quota) = stored.and_then(|r| Quota::parse(&r.value)) {
            quotas.0.insert(action, quota);
        }
    }
    Ok(quotas)
}

/// Stores the settings that differ from their effective value now (`current`, defaults
/// included), and logs each change with who made it. Returns the keys that changed.
pub async fn save_changes(
    db: &impl ConnectionTrait,
    values: &[(String, String)],
    current: &std::collections::HashMap<String, String>,
    user_id: i32,
) -> Result<Vec<String>, DbErr> {
    let mut changed = Vec::new();
    for (key, value) in values {
        let old = current.get(key);
        if old == Some(value) {
            continue;
        }
        set(db, key, value).await?;
        settings_changes::ActiveModel {
            key: Set(key.clone()),
            old_value: Set(old.cloned()),
            new_value: Set(value.clone()),
            user_id: Set(Some(user_id)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        changed.push(key.clone());
    }
    Ok(changed)
}

/// The most recent setting changes, newest first.
pub async fn recent_changes(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<settings_changes::Model>, DbErr> {
    settings_changes::Entity::find()
        .order_by_desc(settings_changes::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
