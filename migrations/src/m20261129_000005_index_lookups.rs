//! Indexes for the lookups that run on every post and every moderation view: whether an
//! author is known (hold_first), and a reaction's log rows. Without them both scan
//! whole tables, which a busy site notices first.

use sea_orm_migration::prelude::*;

use crate::m20261128_000002_create_discussion::{Comments, ModerationLog};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_comments_author_email_status")
                    .table(Comments::Table)
                    .col(Comments::AuthorEmail)
                    .col(Comments::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_moderation_log_comment")
                    .table(ModerationLog::Table)
                    .col(ModerationLog::CommentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_moderation_log_comment")
                    .table(ModerationLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_comments_author_email_status")
                    .table(Comments::Table)
                    .to_owned(),
            )
            .await
    }
}
