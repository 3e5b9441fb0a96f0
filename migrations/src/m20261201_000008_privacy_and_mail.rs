//! What privacy and mail need: the outbox that mail waits in, readers' consent to reply
//! notifications, privacy requests and their log, the background jobs' last runs, a
//! reaction's wish to hear of replies, and a staff member's address and digest choice.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{m20261128_000001_create_site::Users, m20261128_000002_create_discussion::Comments};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(pk_auto(Outbox::Id))
                    .col(string_len(Outbox::Kind, 32))
                    .col(string_len(Outbox::Recipient, 254))
                    .col(text(Outbox::Subject))
                    .col(text(Outbox::BodyText))
                    .col(text(Outbox::BodyHtml))
                    .col(text_null(Outbox::Unsubscribe))
                    .col(string_len(Outbox::MessageId, 128))
                    .col(integer_null(Outbox::CommentId))
                    .col(string_len(Outbox::Status, 16))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Outbox::ClaimedUntil))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_outbox_status_next_attempt")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailSubscribers::Table)
                    .if_not_exists()
                    .col(pk_auto(MailSubscribers::Id))
                    .col(string_len_uniq(MailSubscribers::Email, 254))
                    .col(timestamp_with_time_zone_null(MailSubscribers::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(
                        MailSubscribers::UnsubscribedAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        MailSubscribers::ConfirmationSentAt,
                    ))
                    .col(timestamp_with_time_zone(MailSubscribers::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PrivacyRequests::Table)
                    .if_not_exists()
                    .col(pk_auto(PrivacyRequests::Id))
                    .col(string_len(PrivacyRequests::Email, 254))
                    .col(timestamp_with_time_zone(PrivacyRequests::CreatedAt))
                    .col(timestamp_with_time_zone(PrivacyRequests::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PrivacyLog::Table)
                    .if_not_exists()
                    .col(pk_auto(PrivacyLog::Id))
                    .col(string_len(PrivacyLog::Action, 32))
                    .col(string_len(PrivacyLog::Actor, 64))
                    .col(integer(PrivacyLog::Reactions).default(0))
                    .col(timestamp_with_time_zone(PrivacyLog::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobRuns::Table)
                    .if_not_exists()
                    .col(string_len(JobRuns::Name, 32).primary_key())
                    .col(timestamp_with_time_zone(JobRuns::LastRunAt))
                    .col(text(JobRuns::Report))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            (
                Comments::Table.into_iden(),
                boolean(NewColumns::NotifyReplies).default(false).to_owned(),
            ),
            (
                Comments::Table.into_iden(),
                boolean(NewColumns::ReplyNotified).default(false).to_owned(),
            ),
            (
                Users::Table.into_iden(),
                string_len_null(NewColumns::Email, 254).to_owned(),
            ),
            (
                Users::Table.into_iden(),
                boolean(NewColumns::Digest).default(false).to_owned(),
            ),
            (
                Users::Table.into_iden(),
                timestamp_with_time_zone_null(NewColumns::DigestSentAt).to_owned(),
            ),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column_if_not_exists(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Users::Table.into_iden(), NewColumns::DigestSentAt),
            (Users::Table.into_iden(), NewColumns::Digest),
            (Users::Table.into_iden(), NewColumns::Email),
            (Comments::Table.into_iden(), NewColumns::ReplyNotified),
            (Comments::Table.into_iden(), NewColumns::NotifyReplies),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        for table in [
            JobRuns::Table.into_iden(),
            PrivacyLog::Table.into_iden(),
            PrivacyRequests::Table.into_iden(),
            MailSubscribers::Table.into_iden(),
            Outbox::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    Recipient,
    Subject,
    BodyText,
    BodyHtml,
    Unsubscribe,
    MessageId,
    CommentId,
    Status,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastError,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MailSubscribers {
    Table,
    Id,
    Email,
    ConfirmedAt,
    UnsubscribedAt,
    ConfirmationSentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PrivacyRequests {
    Table,
    Id,
    Email,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum PrivacyLog {
    Table,
    Id,
    Action,
    Actor,
    Reactions,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    Name,
    LastRunAt,
    Report,
}

#[derive(DeriveIden)]
enum NewColumns {
    NotifyReplies,
    ReplyNotified,
    Email,
    Digest,
    DigestSentAt,
}
