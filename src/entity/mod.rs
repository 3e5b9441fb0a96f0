//! sea-orm entities, one file per table. Plain data: no logic lives here.

pub mod api_tokens;
pub mod articles;
pub mod bans;
pub mod comment_votes;
pub mod comments;
pub mod former_slugs;
pub mod import_sources;
pub mod job_runs;
pub mod mail_subscribers;
pub mod moderation_log;
pub mod outbox;
pub mod privacy_log;
pub mod privacy_requests;
pub mod search_documents;
pub mod sessions;
pub mod settings;
pub mod settings_changes;
pub mod users;
