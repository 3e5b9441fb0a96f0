//! The background jobs' bookkeeping: when each last ran and what it did (`job_runs`),
//! and the lock that keeps a job to one instance at a time.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, EntityTrait, Statement,
    sea_query::OnConflict,
};

use crate::entity::job_runs;

/// Takes the PostgreSQL advisory lock `key` for the rest of the transaction `txn`;
/// false when another session holds it. SQLite has one writer at a time already (every
/// write transaction holds its lock from the start), so there it is always true.
pub async fn try_lock(txn: &impl ConnectionTrait, key: i64) -> Result<bool, DbErr> {
    let backend = txn.get_database_backend();
    if backend != DbBackend::Postgres {
        return Ok(true);
    }
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_try_advisory_xact_lock($1) AS locked",
            [key.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("pg_try_advisory_xact_lock returned no row".into()))?;
    row.try_get("", "locked")
}

/// When the job `name` last ran, and its report.
pub async fn last_run(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<job_runs::Model>, DbErr> {
    job_runs::Entity::find_by_id(name.to_owned()).one(db).await
}

/// Records a run of the job `name` at `at`, replacing the previous one.
pub async fn record_run(
    db: &impl ConnectionTrait,
    name: &str,
    at: DateTime<Utc>,
    report: &str,
) -> Result<(), DbErr> {
    let row = job_runs::ActiveModel {
        name: Set(name.to_owned()),
        last_run_at: Set(at),
        report: Set(report.to_owned()),
    };
    job_runs::Entity::insert(row)
        .on_conflict(
            OnConflict::column(job_runs::Column::Name)
                .update_columns([job_runs::Column::LastRunAt, job_runs::Column::Report])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
}
