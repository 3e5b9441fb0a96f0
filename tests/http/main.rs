//! Behaviour through the HTTP surface, on SQLite and (when configured) PostgreSQL.

mod helpers;
#[path = "../support/net.rs"]
mod net;
#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/smtp.rs"]
mod smtp;

mod access;
mod api;
mod articles;
mod auth;
mod bodies;
mod cli;
mod crowd;
mod digest;
mod disqus;
mod export;
mod featured;
mod feeds;
mod import;
mod instances;
mod limits;
mod mail;
mod moderation;
mod notifications;
mod pages;
mod policies;
mod preview;
mod privacy;
mod reactions;
mod recent;
mod retention;
mod sanitiser;
mod search;
mod site;
mod sorting;
mod votes;
