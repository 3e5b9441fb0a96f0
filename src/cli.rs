//! The commands of the `kantlijn` binary.

use std::{io::BufRead, process::ExitCode, time::Duration};

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use crate::{
    app::{self, AppState},
    config::{
        self, Cli, CliRole, Command, DatabaseArgs, Secret, ServeArgs, Settings, TokenCommand,
        UserCommand,
    },
    demo,
    domain::validate::{Password, Role, Username},
    security::{self, Keys},
    server,
    store::{self, Db},
};

/// Runs one command and reports failure on stderr with its whole cause chain.
pub async fn run(cli: Cli) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kantlijn: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args, false).await,
        Command::Demo(args) => serve(args, true).await,
        Command::Migrate(database) => {
            open(&database_url(&database, false)).await?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    password_stdin,
                    database,
                },
        } => add_user(&name, role, password_stdin, &database).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    name,
                    label,
                    database,
                },
        } => create_token(&name, &label, &database).await,
    }
}

async fn create_token(name: &str, label: &str, database: &DatabaseArgs) -> anyhow::Result<()> {
    let label = label.trim();
    anyhow::ensure!(
        (1..=100).contains(&label.chars().count()),
        "the label must be 1 to 100 characters"
    );
    let db = open(&database_url(database, false)).await?;
    let user = store::users::find_by_username(db.read(), &name.trim().to_lowercase())
        .await?
        .with_context(|| {
            format!("there is no user {name:?}; create one with `kantlijn user add`")
        })?;
    let token = security::new_api_token();
    store::tokens::create(db.write(), security::token_hash(&token), user.id, label).await?;
    println!(
        "API token for {} ({}), shown once:",
        user.username, user.role
    );
    println!("{token}");
    Ok(())
}

fn database_url(args: &DatabaseArgs, demo: bool) -> String {
    args.database_url.clone().unwrap_or_else(|| {
        if demo {
            config::DEFAULT_DEMO_DATABASE_URL
        } else {
            config::DEFAULT_DATABASE_URL
        }
        .to_owned()
    })
}

/// Connects and migrates.
pub async fn open(url: &str) -> anyhow::Result<Db> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("cannot open database {}", redact(url)))?;
    store::migrate(&db)
        .await
        .context("migrating the database failed")?;
    Ok(db)
}

/// Hides a password in a database URL for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

async fn serve(args: ServeArgs, demo: bool) -> anyhow::Result<()> {
    let base_url = config::base_url(args.base_url.as_deref(), args.bind)?;
    let db = open(&database_url(&args.database, demo)).await?;
    let secret = match args.secret {
        Some(secret) => Secret::parse(&secret)?,
        None => {
            let stored = store::settings::get_or_insert(
                db.write(),
                store::settings::SITE_SECRET,
                &security::random_token(),
            )
            .await
            .context("reading the site secret failed")?;
            Secret::parse(&stored)?
        }
    };
    if demo {
        let logins = demo::prepare(&db, &Keys::derive(&secret))
            .await
            .context("preparing the demo site failed")?;
        println!("Kantlijn demo: {base_url}");
        println!("Log in at {base_url}beheer/inloggen with:");
        for (username, role, password) in logins {
            println!("  {username:<10} {password}   ({role})");
        }
    }
    let settings = Settings {
        secret,
        base_url,
        trusted_proxies: config::trusted_proxies(&args.trusted_proxies)?,
        rate_limits: config::rate_limits(&args.rate_limits)?,
        cors_origins: config::cors_origins(&args.cors_origins)?,
    };
    let state = AppState::load(db.clone(), settings).await?;
    tokio::spawn(purge_sessions(db));
    tokio::spawn(maintain_limiters(state.clone()));

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    tracing::info!(bind = %args.bind, "serving");
    server::run(
        listener,
        app::build(state),
        shutdown_signal(),
        Duration::from_secs(30),
    )
    .await
    .with_context(|| format!("cannot serve on {}", args.bind))?;
    tracing::info!("server stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn purge_sessions(db: Db) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match store::sessions::purge_expired(db.write(), chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "purged expired sessions"),
            Err(err) => tracing::warn!(%err, "purging sessions failed"),
        }
    }
}

/// Prunes recovered rate-limit keys and picks up quotas changed on another instance.
async fn maintain_limiters(state: AppState) {
    let mut every_half_minute = tokio::time::interval(Duration::from_secs(30));
    loop {
        every_half_minute.tick().await;
        state.limiters.prune();
        match store::settings::quotas(state.db.read()).await {
            Ok(quotas) => state.limiters.set_quotas(&quotas),
            Err(err) => tracing::warn!(%err, "reading rate-limit quotas failed"),
        }
    }
}

async fn add_user(
    name: &str,
    role: CliRole,
    password_stdin: bool,
    database: &DatabaseArgs,
) -> anyhow::Result<()> {
    let username = Username::parse(name).map_err(|m| anyhow::anyhow!("{name:?}: {m}"))?;
    let role = match role {
        CliRole::Admin => Role::Admin,
        CliRole::Editor => Role::Editor,
        CliRole::Moderator => Role::Moderator,
    };
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input failed")?;
        let line = line.trim_end_matches(['\n', '\r']).to_owned();
        (line, false)
    } else {
        (security::random_password(), true)
    };
    let password = Password::parse(&password).map_err(|m| anyhow::anyhow!("{m}"))?;
    let db = open(&database_url(database, false)).await?;
    let hash = security::hash_password(password.as_ref())?;
    // One write transaction: it waits for a server that is busy writing, then reads and
    // writes the account with nobody in between.
    let txn = db.begin().await?;
    store::users::upsert(&txn, &username, role, hash).await?;
    txn.commit().await?;
    println!("User {username} ({}) is ready.", role.as_str());
    if generated {
        println!("Password: {}", password.as_ref());
    }
    Ok(())
}
