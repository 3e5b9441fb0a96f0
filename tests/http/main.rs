//! Behaviour through the HTTP surface, on SQLite and (when configured) PostgreSQL.

mod helpers;

mod articles;
mod auth;
mod moderation;
mod reactions;
mod site;
