//! Schema migrations for Kantlijn, written once for SQLite and PostgreSQL alike.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_create_site;
mod m20261128_000002_create_discussion;
mod m20261128_000003_create_settings_changes;
mod m20261128_000004_create_api_tokens;
mod m20261129_000005_index_lookups;
mod m20261129_000006_thread_index;
mod m20261201_000007_index_addresses;
mod m20261201_000008_privacy_and_mail;
mod m20261201_000009_reply_index;
mod m20261201_000010_index_lower_email;
mod m20261201_000011_import_sources;
mod m20261201_000012_search;
mod m20261201_000013_search_titles;
mod m20261201_000014_conversations;
mod m20261201_000015_former_slugs;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_create_site::Migration),
            Box::new(m20261128_000002_create_discussion::Migration),
            Box::new(m20261128_000003_create_settings_changes::Migration),
            Box::new(m20261128_000004_create_api_tokens::Migration),
            Box::new(m20261129_000005_index_lookups::Migration),
            Box::new(m20261129_000006_thread_index::Migration),
            Box::new(m20261201_000007_index_addresses::Migration),
            Box::new(m20261201_000008_privacy_and_mail::Migration),
            Box::new(m20261201_000009_reply_index::Migration),
            Box::new(m20261201_000010_index_lower_email::Migration),
            Box::new(m20261201_000011_import_sources::Migration),
            Box::new(m20261201_000012_search::Migration),
            Box::new(m20261201_000013_search_titles::Migration),
            Box::new(m20261201_000014_conversations::Migration),
            Box::new(m20261201_000015_former_slugs::Migration),
        ]
    }
}
