//! Kantlijn: articles with moderated reader discussion, in one binary.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod discussion;
pub mod domain;
pub mod editorial;
pub mod entity;
pub mod error;
pub mod metrics;
pub mod security;
pub mod server;
pub mod store;
pub mod web;
