//! The index an article page's thread is laid out from: approved reactions of one
//! article in order, with their parents, read from the index alone. It replaces the
//! index on (article_id, status, created_at), which is its prefix.

use sea_orm_migration::prelude::*;

use crate::m20261128_000002_create_discussion::Comments;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD: &str = "idx_comments_article_status_created";
const NEW: &str = "idx_comments_thread";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(NEW)
                    .table(Comments::Table)
                    .col(Comments::ArticleId)
                    .col(Comments::Status)
                    .col(Comments::CreatedAt)
                    .col(Comments::Id)
                    .col(Comments::ParentId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(OLD).table(Comments::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(OLD)
                    .table(Comments::Table)
                    .col(Comments::ArticleId)
                    .col(Comments::Status)
                    .col(Comments::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(NEW).table(Comments::Table).to_owned())
            .await
    }
}
