//! sea-orm entities, one file per table. Plain data: no logic lives here.

pub mod api_tokens;
pub mod articles;
pub mod bans;
pub mod comments;
pub mod moderation_log;
pub mod sessions;
pub mod settings;
pub mod settings_changes;
pub mod users;
