//! Reactions (comments), the moderation log and bans.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261128_000001_create_site::{Articles, Users};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .if_not_exists()
                    .col(pk_auto(Comments::Id))
                    .col(integer(Comments::ArticleId))
                    .col(integer_null(Comments::ParentId))
                    .col(string_len(Comments::AuthorName, 80))
                    .col(string_len(Comments::AuthorEmail, 254))
                    .col(string_len_null(Comments::AuthorUrl, 2048))
                    .col(text(Comments::BodyMd))
                    .col(text(Comments::BodyHtml))
                    .col(string_len(Comments::Status, 16))
                    .col(integer_null(Comments::UserId))
                    .col(string_len(Comments::IpHash, 64))
                    .col(string_len_null(Comments::EditKeyHash, 64))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .col(timestamp_with_time_zone(Comments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::ArticleId)
                            .to(Articles::Table, Articles::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::ParentId)
                            .to(Comments::Table, Comments::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_comments_article_status_created")
                    .table(Comments::Table)
                    .col(Comments::ArticleId)
                    .col(Comments::Status)
                    .col(Comments::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_comments_status_created")
                    .table(Comments::Table)
                    .col(Comments::Status)
                    .col(Comments::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ModerationLog::Table)
                    .if_not_exists()
                    .col(pk_auto(ModerationLog::Id))
                    .col(integer(ModerationLog::CommentId))
                    .col(string_len(ModerationLog::Actor, 64))
                    .col(string_len(ModerationLog::Action, 32))
                    .col(string_len_null(ModerationLog::FromStatus, 16))
                    .col(string_len(ModerationLog::ToStatus, 16))
                    .col(text_null(ModerationLog::Reason))
                    .col(timestamp_with_time_zone(ModerationLog::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_moderation_log_created")
                    .table(ModerationLog::Table)
                    .col(ModerationLog::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Bans::Table)
                    .if_not_exists()
                    .col(pk_auto(Bans::Id))
                    .col(string_len(Bans::Kind, 16))
                    .col(string_len(Bans::Value, 254))
                    .col(text_null(Bans::Reason))
                    .col(timestamp_with_time_zone_null(Bans::ExpiresAt))
                    .col(integer_null(Bans::CreatedBy))
                    .col(timestamp_with_time_zone(Bans::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_bans_kind_value")
                    .table(Bans::Table)
                    .col(Bans::Kind)
                    .col(Bans::Value)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Bans::Table.into_iden(),
            ModerationLog::Table.into_iden(),
            Comments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Comments {
    Table,
    Id,
    ArticleId,
    ParentId,
    AuthorName,
    AuthorEmail,
    AuthorUrl,
    BodyMd,
    BodyHtml,
    Status,
    UserId,
    IpHash,
    EditKeyHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum ModerationLog {
    Table,
    Id,
    CommentId,
    Actor,
    Action,
    FromStatus,
    ToStatus,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Bans {
    Table,
    Id,
    Kind,
    Value,
    Reason,
    ExpiresAt,
    CreatedBy,
    CreatedAt,
}
