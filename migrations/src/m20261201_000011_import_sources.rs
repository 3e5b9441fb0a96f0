//! Where imported articles and reactions came from: one row per source item (a WordPress
//! post or comment, a Disqus thread or post), so that importing the same file again adds
//! nothing. A row outlives what it points to: a reaction the retention job deleted is not
//! brought back by the next import.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportSources::Table)
                    .if_not_exists()
                    .col(pk_auto(ImportSources::Id))
                    .col(string_len(ImportSources::Source, 300))
                    .col(string_len(ImportSources::Kind, 16))
                    .col(string_len(ImportSources::SourceId, 100))
                    .col(integer(ImportSources::LocalId))
                    .col(timestamp_with_time_zone(ImportSources::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_import_sources_item")
                    .table(ImportSources::Table)
                    .col(ImportSources::Source)
                    .col(ImportSources::Kind)
                    .col(ImportSources::SourceId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportSources::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum ImportSources {
    Table,
    Id,
    Source,
    Kind,
    SourceId,
    LocalId,
    CreatedAt,
}
