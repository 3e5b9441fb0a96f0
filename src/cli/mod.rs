//! The commands of the `kantlijn` binary. Each one that uses a database names it on its
//! first line. A mistake ends a command with one line on stderr saying what to do, and
//! exit status 1, or 2 for a mistake in how it was called (as clap's own usage errors).

mod database;
mod lock;
mod secret;

use std::{
    io::{BufRead, IsTerminal},
    net::SocketAddr,
    process::ExitCode,
    time::Duration,
};

use anyhow::Context;
use tracing_subscriber::EnvFilter;

pub use database::{Target, redact};

use crate::{
    app::{self, AppState},
    config::{
        self, Cli, Command, DatabaseArgs, Given, ImportSource, Secret, ServeArgs, Settings,
        TokenCommand, UserCommand,
    },
    demo,
    domain::validate::{Password, Role, TokenLabel, Username},
    security::{self, Keys},
    server,
    store::{self, Db},
};

/// The log filter when `RUST_LOG` is not set: what the site does, without a line for
/// every migration check of every command.
const DEFAULT_LOG: &str = "info,sqlx=warn,sea_orm_migration=warn";

/// A mistake in how the command was called, such as a flag's value: exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Runs one command; `given` says how each of its arguments was given, for messages.
pub async fn run(cli: Cli, given: Given) -> ExitCode {
    if let Err(err) = init_logs() {
        return fail(&err);
    }
    match execute(cli, &given).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    eprintln!("kantlijn: {}", one_line(err.as_ref()));
    if err.is::<UsageError>() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// An error and its causes on one line, leaving out a cause its error already quotes.
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    crate::error::chain(err)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Logs on stderr: colours only on a terminal (a file or a log shipper gets plain text),
/// or one JSON object per line with `KANTLIJN_LOG_FORMAT=json` (the request's span, with
/// its id, in each line).
fn init_logs() -> anyhow::Result<()> {
    let filter = log_filter()?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("KANTLIJN_LOG_FORMAT").as_deref() {
        Err(_) | Ok("" | "text") => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        Ok("json") => builder.json().with_current_span(true).init(),
        Ok(other) => {
            return Err(usage(format!(
                "KANTLIJN_LOG_FORMAT={other:?}: use text (the default) or json"
            )));
        }
    }
    Ok(())
}

/// `RUST_LOG` as tracing-subscriber documents it; a value it cannot read is refused.
fn log_filter() -> anyhow::Result<EnvFilter> {
    match std::env::var("RUST_LOG") {
        Err(std::env::VarError::NotPresent) => Ok(EnvFilter::new(DEFAULT_LOG)),
        Ok(value) if value.trim().is_empty() => Ok(EnvFilter::new(DEFAULT_LOG)),
        Ok(value) => EnvFilter::builder().parse(&value).map_err(|e| {
            usage(format!(
                "RUST_LOG={value:?} is not a log filter ({e}); write e.g. RUST_LOG=debug or \
                 RUST_LOG=info,kantlijn=debug"
            ))
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(usage("RUST_LOG is not valid UTF-8")),
    }
}

async fn execute(cli: Cli, given: &Given) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(args, given, false).await,
        Command::Demo(args) => serve(args, given, true).await,
        Command::Migrate(database) => {
            let target = chosen(&database, given)?;
            target.announce();
            target.open().await?;
            println!("The database schema is up to date.");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    password_stdin,
                    reset,
                    database,
                },
        } => {
            let user = NewUser {
                name: &name,
                role,
                password_stdin,
                reset,
            };
            add_user(user, chosen(&database, given)?).await
        }
        Command::User {
            command: UserCommand::Disable { name, database },
        } => disable_user(&name, chosen(&database, given)?).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    name,
                    label,
                    database,
                },
        } => create_token(&name, &label, chosen(&database, given)?).await,
        Command::Import { source } => match source {
            ImportSource::Wordpress {
                file,
                pages,
                database,
            } => {
                let options = crate::import::wordpress::Options { pages };
                import_wordpress(&file, options, chosen(&database, given)?).await
            }
            ImportSource::Disqus { file, database } => {
                import_disqus(&file, chosen(&database, given)?).await
            }
            ImportSource::Kantlijn { file, database } => {
                import_kantlijn(&file, chosen(&database, given)?).await
            }
        },
        Command::Export { file, database } => export(&file, chosen(&database, given)?).await,
    }
}

/// The database of every command but `demo`.
fn chosen(args: &DatabaseArgs, given: &Given) -> anyhow::Result<Target> {
    let url = args.database_url.as_deref();
    target(url.unwrap_or(config::DEFAULT_DATABASE_URL), given)
}

/// The database of `demo`: its own, unless `--database-url` is on the command line. A
/// `KANTLIJN_DATABASE_URL` exported for the real site is not a reason to seed it.
fn demo_database(args: &DatabaseArgs, given: &Given) -> anyhow::Result<Target> {
    match &args.database_url {
        Some(url) if !given.from_env("database_url") => target(url, given),
        _ => target(config::DEFAULT_DEMO_DATABASE_URL, given),
    }
}

/// A database URL as the operator gave it; a mistake names the flag or the variable.
fn target(url: &str, given: &Given) -> anyhow::Result<Target> {
    Target::parse(url, given.name("database_url")).map_err(|e| usage(e.to_string()))
}

/// The flags of `serve` and `demo`, checked before anything is touched.
struct ServeConfig {
    host: String,
    port: u16,
    base_url: Option<url::Url>,
    secret: Option<Secret>,
    trusted_proxies: Vec<ipnet::IpNet>,
    rate_limits: config::RateLimitMode,
    cors_origins: Vec<String>,
    metrics_token: Option<Secret>,
    mail: Option<std::sync::Arc<crate::mail::MailSettings>>,
    redis: Option<config::RedisSettings>,
}

impl ServeConfig {
    fn check(args: &ServeArgs, given: &Given) -> anyhow::Result<Self> {
        let flag = |id: &str| {
            let name = given.name(id).to_owned();
            move |e: anyhow::Error| usage(format!("{name}: {e:#}"))
        };
        let (host, port) = config::bind_address(&args.bind).map_err(flag("bind"))?;
        Ok(Self {
            host,
            port,
            base_url: args
                .base_url
                .as_deref()
                .map(config::base_url)
                .transpose()
                .map_err(flag("base_url"))?,
            secret: args
                .secret
                .as_deref()
                .map(Secret::parse)
                .transpose()
                .map_err(flag("secret"))?,
            trusted_proxies: config::trusted_proxies(&args.trusted_proxies)
                .map_err(flag("trusted_proxies"))?,
            rate_limits: config::rate_limits(&args.rate_limits).map_err(flag("rate_limits"))?,
            cors_origins: config::cors_origins(&args.cors_origins).map_err(flag("cors_origins"))?,
            metrics_token: args
                .metrics_token
                .as_deref()
                .map(Secret::parse)
                .transpose()
                .map_err(flag("metrics_token"))?,
            mail: match (&args.smtp_url, &args.mail_from) {
                (None, None) => None,
                (Some(url), Some(from)) => Some(std::sync::Arc::new(
                    crate::mail::MailSettings::parse(url, from).map_err(flag("smtp_url"))?,
                )),
                (Some(_), None) => {
                    return Err(usage(format!(
                        "{} is set but {} is not: say who the site's mail comes from, e.g. \"Kantlijn <reacties@example.nl>\"",
                        given.name("smtp_url"),
                        given.name("mail_from")
                    )));
                }
                (None, Some(_)) => {
                    return Err(usage(format!(
                        "{} is set but {} is not: name the SMTP server to send through",
                        given.name("mail_from"),
                        given.name("smtp_url")
                    )));
                }
            },
            redis: args
                .redis_url
                .as_deref()
                .map(config::RedisSettings::parse)
                .transpose()
                .map_err(flag("redis_url"))?,
        })
    }
}

async fn serve(args: ServeArgs, given: &Given, demo: bool) -> anyhow::Result<()> {
    security::return_large_blocks();
    let flags = ServeConfig::check(&args, given)?;
    let target = if demo {
        demo_database(&args.database, given)?
    } else {
        chosen(&args.database, given)?
    };
    target.announce();
    let secret_source = secret::Source::choose(
        flags.secret,
        args.secret_file.as_deref(),
        &target,
        given.name("secret_file"),
    )?;
    if demo && given.from_env("database_url") {
        println!(
            "Not using KANTLIJN_DATABASE_URL: demo keeps to its own database unless \
             --database-url is given."
        );
    }
    // The port first: a taken one is said before a database file is created.
    let listener = listen(&flags.host, flags.port, given.name("bind")).await?;
    let listening = listener.local_addr()?;
    target.check().await?;
    let _lock = lock::acquire(&target).await?;
    let db = target.connect().await?;
    if demo {
        demo::claim(&db)
            .await
            .with_context(|| format!("demo leaves {target} alone"))?;
    }
    target.migrate(&db).await?;
    // A site from before search (or with an index another version made) gets its index.
    if store::search::ensure_built(&db)
        .await
        .context("building the search index failed")?
    {
        tracing::info!("built the search index");
    }
    let secret = secret_source.load(&db).await?;
    let base_url = flags
        .base_url
        .unwrap_or_else(|| config::base_url_of(&shown_address(&flags.host, listening)));
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
        base_url: base_url.clone(),
        trusted_proxies: flags.trusted_proxies,
        rate_limits: flags.rate_limits,
        cors_origins: flags.cors_origins,
        metrics_token: flags.metrics_token,
        mail: flags.mail,
        redis: flags.redis,
    };
    let state = AppState::load(db.clone(), settings).await?;
    crate::instances::follow(&state, target.url())
        .await
        .context("cannot listen for the changes of other instances")?;
    state.limiters.announce().await;
    tokio::spawn(purge_sessions(db));
    tokio::spawn(maintain_limiters(state.clone()));
    crate::jobs::spawn(&state);

    println!("Serving {base_url} (listening on {listening}); Ctrl-C stops.");
    tracing::info!(%listening, "serving");
    server::run(
        listener,
        app::build(state),
        shutdown_signal(),
        Duration::from_secs(30),
    )
    .await
    .with_context(|| format!("serving on {listening} failed"))?;
    tracing::info!("server stopped");
    Ok(())
}

/// Binds HOST:PORT; a host name is looked up and its IPv4 addresses are tried first.
async fn listen(host: &str, port: u16, flag: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let mut addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| usage(format!("{flag}: cannot look up the host {host:?}: {e}")))?
        .collect();
    addresses.sort_by_key(SocketAddr::is_ipv6);
    addresses.dedup();
    let mut first_error = None;
    for address in &addresses {
        match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => return Ok(listener),
            Err(err) => {
                first_error.get_or_insert((*address, err));
            }
        }
    }
    let Some((address, err)) = first_error else {
        return Err(usage(format!("{flag}: {host:?} has no address")));
    };
    let why = match err.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "the port is already in use (another kantlijn, or another program); choose \
             another port with {flag}"
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            format!("this machine has no such address; check {flag}")
        }
        std::io::ErrorKind::PermissionDenied => {
            "permission denied (ports below 1024 need extra rights)".to_owned()
        }
        _ => err.to_string(),
    };
    anyhow::bail!("cannot listen on {address}: {why}")
}

/// The address to print and to derive a base URL from: the host as given, with the port
/// really bound (which differs when port 0 was asked for).
fn shown_address(host: &str, listening: SocketAddr) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() {
        listening.to_string()
    } else {
        format!("{host}:{}", listening.port())
    }
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

/// Prunes recovered rate-limit keys. (Quotas changed on another instance arrive with
/// its change notification: `crate::instances`.)
async fn maintain_limiters(state: AppState) {
    let mut every_half_minute = tokio::time::interval(Duration::from_secs(30));
    loop {
        every_half_minute.tick().await;
        state.limiters.prune();
    }
}

/// The arguments of `user add`.
struct NewUser<'a> {
    name: &'a str,
    role: Role,
    password_stdin: bool,
    reset: bool,
}

async fn add_user(user: NewUser<'_>, target: Target) -> anyhow::Result<()> {
    let name = user.name.trim();
    let username = Username::parse(name).map_err(|m| usage(format!("{name:?}: {}", m.english)))?;
    let role = user.role;
    let (password, generated) = if user.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input failed")?;
        (line.trim_end_matches(['\n', '\r']).to_owned(), false)
    } else {
        (security::random_password(), true)
    };
    let password = Password::parse(&password)
        .map_err(|m| anyhow::anyhow!("the password on standard input: {}", m.english))?;
    target.announce();
    let db = target.open().await?;
    let hash = security::hash_password(password.as_ref())?;
    // One write transaction: it waits for a server that is busy writing, then reads and
    // writes the account with nobody in between.
    let txn = db.begin().await?;
    let existing = store::users::find_by_username(&txn, username.as_ref()).await?;
    if let Some(account) = &existing
        && name != username.as_ref()
        && !user.reset
    {
        anyhow::bail!(
            "there is already a user {username} ({}); names are lowercase, so {name:?} is that \
             account. Add --reset to give it a new password, or choose another name",
            account.role
        );
    }
    let account = store::users::upsert(&txn, &username, role, hash).await?;
    if existing.is_some() {
        // A reset is what one does for a stolen password: whoever holds it is out.
        store::users::end_access(&txn, account.id).await?;
    }
    txn.commit().await?;
    match existing {
        None if name != username.as_ref() => println!(
            "Created user {username} ({}); names are lowercase, so {name:?} became {username}.",
            role.as_str()
        ),
        None => println!("Created user {username} ({}).", role.as_str()),
        Some(account) if account.role != role => println!(
            "Password reset for existing user {username}; role changed from {} to {}; its \
             sessions and API tokens are ended.",
            account.role,
            role.as_str()
        ),
        Some(_) => println!(
            "Password reset for existing user {username} ({}); its sessions and API tokens \
             are ended.",
            role.as_str()
        ),
    }
    if generated {
        println!("Password: {}", password.as_ref());
    }
    Ok(())
}

async fn disable_user(name: &str, target: Target) -> anyhow::Result<()> {
    let username = Username::parse(name).map_err(|m| usage(format!("{name:?}: {}", m.english)))?;
    target.announce();
    let db = target.open().await?;
    let txn = db.begin().await?;
    let user = store::users::find_by_username(&txn, username.as_ref())
        .await?
        .with_context(|| format!("there is no user {username} in this database"))?;
    let role = user.role;
    store::users::disable(&txn, user).await?;
    txn.commit().await?;
    println!(
        "Disabled user {username}: no more logins, its sessions and API tokens are ended. \
         `kantlijn user add {username} --role {role}` enables it again with a new password."
    );
    Ok(())
}

async fn create_token(name: &str, label: &str, target: Target) -> anyhow::Result<()> {
    let label = TokenLabel::parse(label).map_err(|m| usage(format!("--label: {}", m.english)))?;
    let username = Username::parse(name).map_err(|m| usage(format!("{name:?}: {}", m.english)))?;
    target.announce();
    let db = target.open().await?;
    let user = store::users::find_by_username(db.read(), username.as_ref())
        .await?
        .with_context(|| {
            format!(
                "there is no user {name:?} in this database; create one with `kantlijn user add`"
            )
        })?;
    let token = security::new_api_token();
    store::tokens::create(db.write(), security::token_hash(&token), user.id, &label).await?;
    println!(
        "API token for {} ({}), shown once:",
        user.username, user.role
    );
    println!("{token}");
    Ok(())
}

/// Opens an import's file, with its size for the progress bar.
async fn open_file(
    path: &std::path::Path,
) -> anyhow::Result<(tokio::io::BufReader<tokio::fs::File>, u64)> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    Ok((tokio::io::BufReader::with_capacity(256 * 1024, file), size))
}

/// Prints what an import did, also when it stopped halfway.
fn report(summary: &crate::import::Summary) {
    for line in summary.lines() {
        println!("{line}");
    }
}

async fn import_wordpress(
    path: &std::path::Path,
    options: crate::import::wordpress::Options,
    target: Target,
) -> anyhow::Result<()> {
    let (input, size) = open_file(path).await?;
    target.announce();
    let db = target.open().await?;
    let mut importer = crate::import::Importer::new(&db, "wordpress".to_owned(), None);
    let mut progress = crate::import::Progress::for_terminal(size);
    let result =
        crate::import::wordpress::import(input, &mut importer, options, &mut progress).await;
    report(&importer.summary);
    result.with_context(|| format!("importing {} stopped", path.display()))
}

async fn import_disqus(path: &std::path::Path, target: Target) -> anyhow::Result<()> {
    use crate::import::ImportError;
    let (input, size) = open_file(path).await?;
    target.announce();
    let db = target.open().await?;
    let mut importer = crate::import::Importer::new(&db, "disqus".to_owned(), None);
    let mut progress = crate::import::Progress::for_terminal(size);
    let result = crate::import::disqus::import(input, &mut importer, &mut progress).await;
    // A file refused at its first element was not read: there is nothing to sum up.
    if !matches!(result, Err(ImportError::NotDisqus(_))) {
        report(&importer.summary);
    }
    let file = path.display();
    result.map_err(|err| {
        let context = match &err {
            ImportError::NotDisqus(_) => format!("cannot import {file}"),
            ImportError::Database(_) => format!("importing {file} stopped"),
            _ => format!(
                "importing {file} stopped; what came before that point is imported, and \
                 running it again on the whole file adds only what is missing"
            ),
        };
        anyhow::Error::new(err).context(context)
    })
}

async fn import_kantlijn(path: &std::path::Path, target: Target) -> anyhow::Result<()> {
    target.announce();
    // The whole file is read and checked before the database is opened (or created).
    let checked = crate::import::kantlijn::read(path)?;
    let db = target.open().await?;
    let summary = crate::import::kantlijn::import(&db, checked).await?;
    println!("Imported {} into {target}:", path.display());
    for (table, n) in &summary.counts {
        match *table {
            "users" if *n > 0 => println!(
                "{table}: {n} (no passwords: set one with `kantlijn user add NAME --role ROLE`)"
            ),
            _ => println!("{table}: {n}"),
        }
    }
    let enabled: Vec<_> = summary.accounts.iter().filter(|a| !a.2).collect();
    if !enabled.is_empty() {
        println!("No account can log in until it has a password again:");
        for (name, role, _) in enabled {
            println!("  kantlijn user add {name} --role {role}");
        }
    }
    if summary.secret_check {
        println!(
            "Start this site with the old site's secret (copy its secret file, e.g. \
             site.db.secret beside site.db, or give --secret): address hashes and address \
             bans only match under it, and `kantlijn serve` refuses another one."
        );
    }
    Ok(())
}

async fn export(path: &std::path::Path, target: Target) -> anyhow::Result<()> {
    target.announce();
    let db = target.open().await?;
    let counts = crate::export::to_file(&db, path).await?;
    println!("Exported {target} to {}:", path.display());
    for (table, n) in counts {
        println!("{table}: {n}");
    }
    println!(
        "Left out: password hashes, sessions, API tokens, reactions' edit keys, queued mail, \
         privacy links and job runs. The file holds readers' e-mail addresses: keep it private."
    );
    Ok(())
}
