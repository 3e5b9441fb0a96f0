//! What the export reads and the Kantlijn import writes: whole tables, a page at a time
//! by id, and rows inserted with the ids they had.

use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, IntoActiveModel, IsolationLevel, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};

use super::{Db, settings::SITE_SECRET_CHECK};
use crate::entity::{
    articles, bans, comment_votes, comments, import_sources, mail_subscribers, moderation_log,
    privacy_log, settings, settings_changes, users,
};

/// Rows per insert statement: 200 rows of the widest table are some 3,000 parameters,
/// far below what SQLite and PostgreSQL accept.
pub const INSERT_CHUNK: usize = 200;

/// A read transaction that sees one moment of the database throughout, so that an export
/// taken while the site runs never holds a reaction whose article it does not hold. On
/// SQLite a transaction on a reader connection keeps its snapshot (WAL mode); on
/// PostgreSQL it is `REPEATABLE READ`.
pub async fn snapshot(db: &Db) -> Result<DatabaseTransaction, DbErr> {
    match db.backend() {
        DbBackend::Postgres => {
            db.read()
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await
        }
        _ => db.read().begin().await,
    }
}

/// Up to `limit` rows of a table whose id is above `after`, by id.
pub async fn page<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    after: i32,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr> {
    E::find()
        .filter(id.gt(after))
        .order_by_asc(id)
        .limit(limit)
        .all(db)
        .await
}

/// Every setting, ordered by key byte by byte (in Rust: a PostgreSQL collation may
/// order `_` differently from SQLite, and the file must not depend on the database).
pub async fn settings(db: &impl ConnectionTrait) -> Result<Vec<settings::Model>, DbErr> {
    let mut rows = settings::Entity::find().all(db).await?;
    rows.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    Ok(rows)
}

/// The tables the import fills that already hold rows, with their counts. The check of
/// the site secret that `kantlijn serve` stores on its first start does not count (the
/// import replaces it with the exported site's), nor the search index's version.
pub async fn occupied(db: &impl ConnectionTrait) -> Result<Vec<(&'static str, u64)>, DbErr> {
    let counts = [
        ("users", users::Entity::find().count(db).await?),
        ("articles", articles::Entity::find().count(db).await?),
        ("comments", comments::Entity::find().count(db).await?),
        (
            "comment_votes",
            comment_votes::Entity::find().count(db).await?,
        ),
        (
            "moderation_log",
            moderation_log::Entity::find().count(db).await?,
        ),
        ("bans", bans::Entity::find().count(db).await?),
        (
            "settings",
            settings::Entity::find()
                .filter(settings::Column::Key.ne(SITE_SECRET_CHECK))
                // Written by `serve` when it builds the (empty) search index.
                .filter(settings::Column::Key.ne(super::search::VERSION_KEY))
                .count(db)
                .await?,
        ),
        (
            "settings_changes",
            settings_changes::Entity::find().count(db).await?,
        ),
        (
            "import_sources",
            import_sources::Entity::find().count(db).await?,
        ),
        (
            "mail_subscribers",
            mail_subscribers::Entity::find().count(db).await?,
        ),
        ("privacy_log", privacy_log::Entity::find().count(db).await?),
    ];
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

/// Deletes one setting (the import's way to replace the secret check).
pub async fn delete_setting(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    settings::Entity::delete_by_id(key.to_owned())
        .exec(db)
        .await
        .map(|_| ())
}

/// Inserts rows as they are, ids included, [`INSERT_CHUNK`] to a statement.
pub async fn insert_all<M, A>(db: &impl ConnectionTrait, rows: Vec<M>) -> Result<(), DbErr>
where
    M: IntoActiveModel<A>,
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows
            .by_ref()
            .take(INSERT_CHUNK)
            .map(IntoActiveModel::into_active_model)
            .collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The tables with a generated id that the import fills.
const WITH_IDS: [&str; 10] = [
    "users",
    "articles",
    "comments",
    "comment_votes",
    "moderation_log",
    "bans",
    "settings_changes",
    "import_sources",
    "mail_subscribers",
    "privacy_log",
];

/// After rows went in with their own ids: on PostgreSQL, moves each table's id sequence
/// past the highest id, so the next new row does not take one that is in use. (SQLite
/// moves its counter by itself.)
pub async fn move_sequences_on(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    for table in WITH_IDS {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
        ))
        .await?;
    }
    Ok(())
}
