//! Search: one row per published article and approved reaction, holding its text as
//! search terms (folded and stemmed in Rust, the same for both databases), indexed by
//! SQLite's FTS5 (an external-content table kept in step by triggers) or by a
//! PostgreSQL `tsvector` column with a GIN index. The title weighs more than the body.
//! The rows are filled by the site when it starts (and kept in step by every write that
//! changes what readers see).

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SearchDocuments::Table)
                    .if_not_exists()
                    .col(pk_auto(SearchDocuments::Id))
                    .col(string_len(SearchDocuments::Kind, 16))
                    .col(integer(SearchDocuments::RefId))
                    .col(integer(SearchDocuments::ArticleId))
                    .col(text(SearchDocuments::Title))
                    .col(text(SearchDocuments::Body))
                    .col(timestamp_with_time_zone(SearchDocuments::SortAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_search_documents_item")
                    .table(SearchDocuments::Table)
                    .col(SearchDocuments::Kind)
                    .col(SearchDocuments::RefId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_search_documents_article")
                    .table(SearchDocuments::Table)
                    .col(SearchDocuments::ArticleId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "ALTER TABLE search_documents ADD COLUMN IF NOT EXISTS vector tsvector \
                 GENERATED ALWAYS AS (setweight(to_tsvector('simple', title), 'A') || \
                 setweight(to_tsvector('simple', body), 'B')) STORED",
                "CREATE INDEX IF NOT EXISTS idx_search_documents_vector ON search_documents \
                 USING GIN (vector)",
            ],
            _ => &[
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, \
                 content='search_documents', content_rowid='id')",
                // A deleted row's terms leave the file at once, not at a later merge: an
                // erased reaction's words must not stay readable in the database file
                // (SQLite 3.42 and later).
                "INSERT INTO search_fts(search_fts, rank) VALUES ('secure-delete', 1)",
                "CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON \
                 search_documents BEGIN INSERT INTO search_fts(rowid, title, body) VALUES \
                 (new.id, new.title, new.body); END",
                "CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON \
                 search_documents BEGIN INSERT INTO search_fts(search_fts, rowid, title, body) \
                 VALUES ('delete', old.id, old.title, old.body); END",
                "CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE ON \
                 search_documents BEGIN INSERT INTO search_fts(search_fts, rowid, title, body) \
                 VALUES ('delete', old.id, old.title, old.body); INSERT INTO search_fts(rowid, \
                 title, body) VALUES (new.id, new.title, new.body); END",
            ],
        };
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Built again when the table comes back.
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM settings WHERE key = 'search_index_version'")
            .await?;
        if manager.get_database_backend() != DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS search_fts")
                .await?;
        }
        manager
            .drop_table(Table::drop().table(SearchDocuments::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum SearchDocuments {
    Table,
    Id,
    Kind,
    RefId,
    ArticleId,
    Title,
    Body,
    SortAt,
}
