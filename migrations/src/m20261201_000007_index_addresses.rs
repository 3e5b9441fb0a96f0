//! An index for the moderation queue's author history: how many reactions came from one
//! address hash per status, and the queue filtered to them. Without it each queue page
//! scans the whole table, as the e-mail side would without `idx_comments_author_email_status`.

use sea_orm_migration::prelude::*;

use crate::m20261128_000002_create_discussion::Comments;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_comments_ip_hash_status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(NAME)
                    .table(Comments::Table)
                    .col(Comments::IpHash)
                    .col(Comments::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Comments::Table).to_owned())
            .await
    }
}
