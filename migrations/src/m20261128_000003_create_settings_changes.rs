//! Who changed which run-time setting, and when.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261128_000001_create_site::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SettingsChanges::Table)
                    .if_not_exists()
                    .col(pk_auto(SettingsChanges::Id))
                    .col(string_len(SettingsChanges::Key, 64))
                    .col(text_null(SettingsChanges::OldValue))
                    .col(text(SettingsChanges::NewValue))
                    .col(integer_null(SettingsChanges::UserId))
                    .col(timestamp_with_time_zone(SettingsChanges::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SettingsChanges::Table, SettingsChanges::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(SettingsChanges::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SettingsChanges {
    Table,
    Id,
    Key,
    OldValue,
    NewValue,
    UserId,
    CreatedAt,
}
