use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    kantlijn::cli::run(kantlijn::config::Cli::parse()).await
}
