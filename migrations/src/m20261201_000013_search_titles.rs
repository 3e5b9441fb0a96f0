//! Search: article titles indexed on their own. A search puts articles whose title holds
//! every word first; finding them among all matches of a common word read every match
//! (FTS5 cannot skip to a column; a GIN index keeps no weights). SQLite gets a second
//! FTS5 table over the article rows' titles, kept in step by triggers; PostgreSQL a
//! partial GIN index over the article rows.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &[
                "CREATE INDEX IF NOT EXISTS idx_search_documents_article_vector ON \
                 search_documents USING GIN (vector) WHERE kind = 'article'",
            ],
            _ => &[
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_titles USING fts5(title, \
                 content='search_documents', content_rowid='id')",
                "INSERT INTO search_titles(search_titles, rank) VALUES ('secure-delete', 1)",
                "INSERT INTO search_titles(rowid, title) SELECT id, title FROM \
                 search_documents WHERE kind = 'article'",
                "CREATE TRIGGER IF NOT EXISTS search_titles_ai AFTER INSERT ON \
                 search_documents WHEN new.kind = 'article' BEGIN INSERT INTO \
                 search_titles(rowid, title) VALUES (new.id, new.title); END",
                "CREATE TRIGGER IF NOT EXISTS search_titles_ad AFTER DELETE ON \
                 search_documents WHEN old.kind = 'article' BEGIN INSERT INTO \
                 search_titles(search_titles, rowid, title) VALUES ('delete', old.id, \
                 old.title); END",
                "CREATE TRIGGER IF NOT EXISTS search_titles_au_old AFTER UPDATE ON \
                 search_documents WHEN old.kind = 'article' BEGIN INSERT INTO \
                 search_titles(search_titles, rowid, title) VALUES ('delete', old.id, \
                 old.title); END",
                "CREATE TRIGGER IF NOT EXISTS search_titles_au_new AFTER UPDATE ON \
                 search_documents WHEN new.kind = 'article' BEGIN INSERT INTO \
                 search_titles(rowid, title) VALUES (new.id, new.title); END",
            ],
        };
        let db = manager.get_connection();
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let statements: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &["DROP INDEX IF EXISTS idx_search_documents_article_vector"],
            _ => &[
                "DROP TRIGGER IF EXISTS search_titles_ai",
                "DROP TRIGGER IF EXISTS search_titles_ad",
                "DROP TRIGGER IF EXISTS search_titles_au_old",
                "DROP TRIGGER IF EXISTS search_titles_au_new",
                "DROP TABLE IF EXISTS search_titles",
            ],
        };
        let db = manager.get_connection();
        for statement in statements {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }
}
