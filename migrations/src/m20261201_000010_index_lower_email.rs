//! An index on a reaction's e-mail address without case, for the privacy pages: a
//! request, its overview, export and erasure find a reader's reactions by
//! `LOWER(author_email)` (one address may have been typed as `Anna@…` and `anna@…`),
//! which without it scans the whole table on every request.

use sea_orm_migration::prelude::*;

use crate::m20261128_000002_create_discussion::Comments;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_comments_author_email_lower";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // sea-query builds expression indexes for PostgreSQL only; this statement reads
        // the same in SQLite and PostgreSQL.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {NAME} ON comments (lower(author_email))"
            ))
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Comments::Table).to_owned())
            .await
    }
}
