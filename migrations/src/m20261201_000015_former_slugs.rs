//! The slugs an article had before it was renamed, so that a link shared under an old
//! slug still leads to it (pages answer with a redirect, the API with the article). The
//! slug an article has now always wins: taking a slug removes it from this table.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261128_000001_create_site::Articles;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FormerSlugs::Table)
                    .if_not_exists()
                    .col(pk_auto(FormerSlugs::Id))
                    .col(string_len_uniq(FormerSlugs::Slug, 120))
                    .col(integer(FormerSlugs::ArticleId))
                    .col(timestamp_with_time_zone(FormerSlugs::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_former_slugs_article")
                            .from(FormerSlugs::Table, FormerSlugs::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FormerSlugs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FormerSlugs {
    Table,
    Id,
    Slug,
    ArticleId,
    CreatedAt,
}
