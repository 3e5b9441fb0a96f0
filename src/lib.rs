//! Kantlijn: articles with moderated reader discussion, in one binary.
// Outside tests a panic is a bug: errors are answered, and start-up code that may
// assume its constants says so where it does (`#[allow(..., reason)]`).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod digest;
pub mod discussion;
pub mod domain;
pub mod editorial;
pub mod entity;
pub mod error;
pub mod export;
pub mod import;
pub mod instances;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod notifications;
pub mod privacy;
pub mod retention;
pub mod search;
pub mod security;
pub mod server;
pub mod store;
pub mod votes;
pub mod web;
