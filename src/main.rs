#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use clap::{CommandFactory, FromArgMatches};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let command = kantlijn::config::Cli::command();
    let matches = command.clone().get_matches();
    let cli = kantlijn::config::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let given = kantlijn::config::Given::new(&command, &matches);
    kantlijn::cli::run(cli, given).await
}
