//! An index on a reaction's parent, for the retention job: it asks which of the
//! reactions it would remove have replies (those keep their place), and every deleted
//! reaction makes the database check that no reply still points at it. Without the
//! index both scan the whole table once per reaction.

use sea_orm_migration::prelude::*;

use crate::m20261128_000002_create_discussion::Comments;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_comments_parent";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(NAME)
                    .table(Comments::Table)
                    .col(Comments::ParentId)
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
