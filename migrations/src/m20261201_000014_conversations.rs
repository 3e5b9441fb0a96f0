//! Conversations worth reading: a reaction a moderator featured (and when), its count of
//! "Nuttig" votes, and the votes themselves: one per browser (a keyed hash of the vote
//! cookie's id) and per address hash per reaction, so that a count survives restarts and
//! is shared by every instance, and no vote says who cast it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261128_000002_create_discussion::Comments;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            timestamp_with_time_zone_null(NewColumns::FeaturedAt).to_owned(),
            integer(NewColumns::HelpfulCount).default(0).to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Comments::Table)
                        .add_column_if_not_exists(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CommentVotes::Table)
                    .if_not_exists()
                    .col(pk_auto(CommentVotes::Id))
                    .col(integer(CommentVotes::CommentId))
                    .col(string_len_null(CommentVotes::Voter, 64))
                    .col(string_len_null(CommentVotes::IpHash, 64))
                    .col(timestamp_with_time_zone(CommentVotes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_comment_votes_comment")
                            .from(CommentVotes::Table, CommentVotes::CommentId)
                            .to(Comments::Table, Comments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_comment_votes_voter")
                    .table(CommentVotes::Table)
                    .col(CommentVotes::CommentId)
                    .col(CommentVotes::Voter)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_comment_votes_ip_hash")
                    .table(CommentVotes::Table)
                    .col(CommentVotes::CommentId)
                    .col(CommentVotes::IpHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_comments_featured")
                    .table(Comments::Table)
                    .col(Comments::ArticleId)
                    .col(NewColumns::FeaturedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_comments_featured")
                    .table(Comments::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(CommentVotes::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        for column in [NewColumns::HelpfulCount, NewColumns::FeaturedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Comments::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum NewColumns {
    FeaturedAt,
    HelpfulCount,
}

#[derive(DeriveIden)]
enum CommentVotes {
    Table,
    Id,
    CommentId,
    Voter,
    IpHash,
    CreatedAt,
}
