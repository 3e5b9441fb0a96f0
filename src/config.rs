//! Settings: CLI flags > environment (`KANTLIJN_*`) > defaults, read once at start-up.

use std::{collections::HashMap, fmt};

use clap::{ArgMatches, Args, Parser, Subcommand, ValueEnum, parser::ValueSource};

pub use crate::domain::limits::Mode as RateLimitMode;
use crate::domain::states::Role;

/// The default database of `serve` and `migrate`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kantlijn.db?mode=rwc";
/// The default database of `demo`: never the real site's.
pub const DEFAULT_DEMO_DATABASE_URL: &str = "sqlite://kantlijn-demo.db?mode=rwc";

/// Kantlijn: articles with moderated reader discussion.
#[derive(Debug, Parser)]
#[command(name = "kantlijn", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve the site.
    Serve(ServeArgs),
    /// Serve a demo site on its own database, seeding it when empty.
    Demo(ServeArgs),
    /// Bring the database schema up to date and exit.
    Migrate(DatabaseArgs),
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Bring in articles and reactions from WordPress or Disqus, or a whole site from
    /// `kantlijn export`.
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Write the whole site (but secrets, sessions and tokens) to a JSON file.
    Export {
        /// Where to write it (an existing file is replaced once the export is complete).
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// A WordPress export (Tools > Export, a WXR file): posts, their comments and their
    /// threads; running it again adds nothing.
    Wordpress {
        file: std::path::PathBuf,
        /// Pages (and their comments) too, not only posts.
        #[arg(long)]
        pages: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// A Disqus export (the XML file Disqus mails): threads and their posts; running it
    /// again adds nothing.
    Disqus {
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// A file of `kantlijn export`, into an empty database.
    Kantlijn {
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting with NAME's role; prints it once, alone on the last line.
    Create {
        /// The staff account the token acts as.
        name: String,
        /// What the token is for.
        #[arg(long, default_value = "aangemaakt op de opdrachtregel")]
        label: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account, or give an existing one a new password and this role.
    Add {
        /// Login name: lowercase letters, digits, `.`, `_`, `-`.
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Needed to reset the password of an existing account when NAME is written in
        /// other capitals than the account (names are lowercase: `Beheer` is `beheer`).
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Shut an account out: no more logins, its sessions and API tokens end (`user add`
    /// enables it again with a new password).
    Disable {
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `--role`: the stored names of the roles, listed by `--help`.
impl ValueEnum for Role {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self::Admin, Self::Editor, Self::Moderator]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH?mode=rwc (PATH relative to the current directory, or
    /// sqlite:///abs/path?mode=rwc) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "KANTLIJN_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT: 127.0.0.1:8080, localhost:8080, [::1]:8080.
    #[arg(long, env = "KANTLIJN_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Site secret (at least 32 characters); when unset, one is generated into the secret file.
    #[arg(long, env = "KANTLIJN_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// File that keeps the generated site secret (mode 0600): by default beside a SQLite
    /// database (`site.db.secret`); needed on PostgreSQL unless --secret is given.
    #[arg(long, env = "KANTLIJN_SECRET_FILE")]
    pub secret_file: Option<std::path::PathBuf>,
    /// Public address of the site, e.g. https://kantlijn.example.nl; https turns on Secure cookies.
    #[arg(long, env = "KANTLIJN_BASE_URL")]
    pub base_url: Option<String>,
    /// Proxies whose X-Forwarded-For is believed: comma-separated IPs and CIDR ranges.
    #[arg(long, env = "KANTLIJN_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// `on`, `off` (every limit but login) or `off-including-login`.
    #[arg(long, env = "KANTLIJN_RATE_LIMITS", default_value = "on")]
    pub rate_limits: String,
    /// Token that Prometheus sends to read /metrics (`Authorization: Bearer TOKEN`, at
    /// least 32 characters); without one, /metrics answers nobody.
    #[arg(long, env = "KANTLIJN_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Origins allowed to read the API from a browser (comma-separated); none by default.
    #[arg(long, env = "KANTLIJN_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// SMTP server for mail: smtp://user:password@host:587 (STARTTLS), smtps://…:465
    /// (TLS) or smtp://host:25?tls=none (a relay on this machine); unset: no mail.
    #[arg(long, env = "KANTLIJN_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of the site's mail, e.g. "Kantlijn <reacties@example.nl>".
    #[arg(long, env = "KANTLIJN_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Redis that several instances share their rate limits through:
    /// redis://[:password@]host:6379[/db]; unset (or while it is down): each instance
    /// limits on its own.
    #[arg(long, env = "KANTLIJN_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
}

/// A secret that never shows up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub const MIN_LEN: usize = 32;

    /// Accepts a secret of at least [`Secret::MIN_LEN`] bytes.
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            value.len() >= Self::MIN_LEN,
            "must be at least {} characters long",
            Self::MIN_LEN
        );
        Ok(Self(value.as_bytes().to_vec()))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What the running site needs to know, checked at start-up. Tests build it directly.
#[derive(Clone, Debug)]
pub struct Settings {
    pub secret: Secret,
    pub base_url: url::Url,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub rate_limits: RateLimitMode,
    /// Origins (`https://host[:port]`) allowed to read `/api` cross-origin.
    pub cors_origins: Vec<String>,
    /// What a scraper of `/metrics` must send as its bearer token; `None`: nobody may.
    pub metrics_token: Option<Secret>,
    /// Where mail goes; `None`: the site sends none, and forms that need mail say so.
    pub mail: Option<std::sync::Arc<crate::mail::MailSettings>>,
    /// Where rate limits are shared with other instances; `None`: this one limits alone.
    pub redis: Option<RedisSettings>,
}

impl Settings {
    /// Session and CSRF cookies are only sent over https when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }
}

/// The Redis that instances share their rate limits through (`KANTLIJN_REDIS_URL`).
#[derive(Clone)]
pub struct RedisSettings {
    client: redis::Client,
    /// The URL without its password, for logs.
    shown: String,
    /// What every key starts with: `kantlijn:rl` (tests take one of their own).
    pub key_prefix: String,
    /// The longest one call may take before the request is limited locally instead.
    pub timeout: std::time::Duration,
    /// While Redis is down, how long to limit locally before asking it again.
    pub retry_every: std::time::Duration,
}

impl RedisSettings {
    pub const DEFAULT_KEY_PREFIX: &str = "kantlijn:rl";

    /// Reads `redis://[[user]:password@]host[:port][/db]` (or `redis+unix:///path`); it
    /// connects nothing yet.
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let hint = "write redis://host:6379, redis://:password@host:6379/0 or redis+unix:///path/to/redis.sock";
        let mut url =
            url::Url::parse(raw.trim()).map_err(|_| anyhow::anyhow!("not a URL; {hint}"))?;
        match url.scheme() {
            "redis" | "redis+unix" | "unix" => {}
            "rediss" => anyhow::bail!("rediss:// (TLS) is not supported; {hint}"),
            other => anyhow::bail!("{other}:// is not a Redis URL; {hint}"),
        }
        let client =
            redis::Client::open(url.as_str()).map_err(|e| anyhow::anyhow!("{e}; {hint}"))?;
        if url.password().is_some() {
            // Cannot fail: the URL has a host, or it could not have had a password.
            let _ = url.set_password(Some("***"));
        }
        Ok(Self {
            client,
            shown: url.to_string(),
            key_prefix: Self::DEFAULT_KEY_PREFIX.to_owned(),
            timeout: std::time::Duration::from_millis(150),
            retry_every: std::time::Duration::from_secs(3),
        })
    }

    pub fn client(&self) -> &redis::Client {
        &self.client
    }

    /// The URL with its password hidden.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.shown)
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .field("retry_every", &self.retry_every)
            .finish_non_exhaustive()
    }
}

/// Parses and checks a configured base URL. Its path always ends in `/`, so that links
/// made from it keep it: `https://example.nl/blog` links to `/blog/feed.xml`.
pub fn base_url(raw: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("{raw:?} is not a URL: {e}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https") && url.has_host(),
        "{raw:?} must start with http:// or https:// and name a host"
    );
    anyhow::ensure!(
        url.query().is_none() && url.fragment().is_none(),
        "{raw:?} must not have a query or a fragment"
    );
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The base URL when none is configured: the address the server listens on.
#[allow(clippy::expect_used, reason = "start-up: a constant URL")]
pub fn base_url_of(listening: &str) -> url::Url {
    url::Url::parse(&format!("http://{listening}/"))
        .unwrap_or_else(|_| url::Url::parse("http://localhost/").expect("a valid URL"))
}

/// Splits a `--bind` value into host and port; the host may be a name, an IPv4 address
/// or a bracketed IPv6 address.
pub fn bind_address(value: &str) -> anyhow::Result<(String, u16)> {
    let hint = "give HOST:PORT, e.g. 127.0.0.1:8080, localhost:8080 or [::1]:8080";
    let (host, port) = value
        .trim()
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("{value:?} has no port: {hint}"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| anyhow::anyhow!("{value:?} has no valid port: {hint}"))?;
    let (host, bracketed) = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => (inner, true),
        None => (host, false),
    };
    anyhow::ensure!(
        !host.is_empty() && !host.contains(['[', ']', '/', ' ']),
        "{value:?} has no valid host: {hint}"
    );
    anyhow::ensure!(
        !host.contains(':') || (bracketed && host.parse::<std::net::Ipv6Addr>().is_ok()),
        "{value:?}: write an IPv6 address in brackets, e.g. [::1]:8080"
    );
    Ok((host.to_owned(), port))
}

/// Parses `KANTLIJN_TRUSTED_PROXIES`.
pub fn trusted_proxies(value: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    crate::web::middleware::client_ip::parse_trusted(value).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Parses `KANTLIJN_CORS_ORIGINS`: comma-separated `http(s)://host[:port]` origins.
pub fn cors_origins(value: &str) -> anyhow::Result<Vec<String>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let not_an_origin =
                || anyhow::anyhow!("{origin:?} is not an origin like https://example.nl");
            let url = url::Url::parse(origin).map_err(|_| not_an_origin())?;
            if !(matches!(url.scheme(), "http" | "https")
                && url.path() == "/"
                && url.query().is_none())
            {
                return Err(not_an_origin());
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// Parses `KANTLIJN_RATE_LIMITS`.
pub fn rate_limits(value: &str) -> anyhow::Result<RateLimitMode> {
    RateLimitMode::parse(value)
        .ok_or_else(|| anyhow::anyhow!("must be on, off or off-including-login, not {value:?}"))
}

/// How each argument of the command that runs was given, to name it in a message the way
/// the operator wrote it: `--rate-limits` from the command line, `KANTLIJN_RATE_LIMITS`
/// from the environment.
#[derive(Clone, Debug, Default)]
pub struct Given {
    names: HashMap<String, String>,
    from_env: Vec<String>,
}

impl Given {
    /// Reads the sources of the innermost subcommand's arguments.
    pub fn new(command: &clap::Command, matches: &ArgMatches) -> Self {
        let (mut command, mut matches) = (command, matches);
        while let Some((name, sub)) = matches.subcommand() {
            let Some(found) = command.find_subcommand(name) else {
                break;
            };
            (command, matches) = (found, sub);
        }
        let mut given = Self::default();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            let env = arg.get_env().and_then(|e| e.to_str());
            let name = match (matches.value_source(id), env) {
                (Some(ValueSource::EnvVariable), Some(env)) => {
                    given.from_env.push(id.to_owned());
                    env.to_owned()
                }
                _ => arg
                    .get_long()
                    .map_or_else(|| id.to_owned(), |long| format!("--{long}")),
            };
            given.names.insert(id.to_owned(), name);
        }
        given
    }

    /// `--flag` or `KANTLIJN_VARIABLE`, whichever gave argument `id`.
    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.names.get(id).map_or(id, String::as_str)
    }

    /// Whether argument `id` came from its environment variable.
    pub fn from_env(&self, id: &str) -> bool {
        self.from_env.iter().any(|e| e == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secret_is_refused() {
        assert!(Secret::parse("kort").is_err());
        let secret = Secret::parse(&"x".repeat(32)).unwrap();
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }

    #[test]
    fn base_url_keeps_its_path_with_or_without_the_slash() {
        assert_eq!(
            base_url_of("127.0.0.1:8080").as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(base_url_of("[::1]:80").as_str(), "http://[::1]/");
        for raw in ["https://example.nl/blog", "https://example.nl/blog/"] {
            let url = base_url(raw).unwrap();
            assert_eq!(url.as_str(), "https://example.nl/blog/");
            assert_eq!(
                url.join("feed.xml").unwrap().as_str(),
                "https://example.nl/blog/feed.xml"
            );
        }
        assert_eq!(
            base_url("https://example.nl").unwrap().as_str(),
            "https://example.nl/"
        );
        for bad in [
            "ftp://x",
            "example.nl",
            "https://example.nl/?a=1",
            "http://",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bind_accepts_names_and_addresses() {
        assert_eq!(
            bind_address("localhost:8080").unwrap(),
            ("localhost".into(), 8080)
        );
        assert_eq!(
            bind_address("127.0.0.1:0").unwrap(),
            ("127.0.0.1".into(), 0)
        );
        assert_eq!(bind_address("[::1]:9000").unwrap(), ("::1".into(), 9000));
        for bad in [
            "localhost",
            "localhost:http",
            ":8080",
            "::1:8080",
            "a b:80",
            "x:99999",
        ] {
            assert!(bind_address(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn given_names_the_flag_or_the_variable() {
        let command = <Cli as clap::CommandFactory>::command();
        let matches = command
            .clone()
            .try_get_matches_from(["kantlijn", "serve", "--rate-limits", "x"])
            .unwrap();
        let given = Given::new(&command, &matches);
        assert_eq!(given.name("rate_limits"), "--rate-limits");
        assert!(!given.from_env("rate_limits"));
        // Defaults are named by their flag too.
        assert_eq!(given.name("cors_origins"), "--cors-origins");
    }

    #[test]
    fn cors_origins_parse() {
        assert_eq!(cors_origins("").unwrap(), Vec::<String>::new());
        assert_eq!(
            cors_origins("https://a.example, http://b.example:8080").unwrap(),
            vec!["https://a.example", "http://b.example:8080"]
        );
        assert!(cors_origins("https://a.example/pad").is_err());
        assert!(cors_origins("*").is_err());
    }

    #[test]
    fn redis_urls_parse_and_hide_their_password() {
        let redis = RedisSettings::parse("redis://:geheim@127.0.0.1:6379/2").unwrap();
        assert_eq!(redis.shown(), "redis://:***@127.0.0.1:6379/2");
        assert!(!format!("{redis:?}").contains("geheim"));
        assert_eq!(redis.key_prefix, "kantlijn:rl");
        RedisSettings::parse("redis://localhost").unwrap();
        RedisSettings::parse("redis+unix:///run/redis/redis.sock").unwrap();
        for bad in [
            "",
            "localhost:6379",
            "http://localhost:6379",
            "rediss://localhost:6379",
            "redis://0.0.0.0:6379",
        ] {
            assert!(RedisSettings::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rate_limit_modes_and_proxies_parse() {
        assert_eq!(rate_limits("off").unwrap(), RateLimitMode::Off);
        assert_eq!(
            rate_limits("off-including-login").unwrap(),
            RateLimitMode::OffIncludingLogin
        );
        assert!(rate_limits("maybe").is_err());
        assert_eq!(trusted_proxies("127.0.0.1,10.0.0.0/8").unwrap().len(), 2);
        assert!(trusted_proxies("nope").is_err());
    }

    #[test]
    fn cli_parses_the_documented_commands() {
        Cli::try_parse_from(["kantlijn", "serve", "--bind", "127.0.0.1:9000"]).unwrap();
        Cli::try_parse_from(["kantlijn", "demo"]).unwrap();
        Cli::try_parse_from(["kantlijn", "migrate", "--database-url", "sqlite::memory:"]).unwrap();
        Cli::try_parse_from(["kantlijn", "token", "create", "anna", "--label", "CI"]).unwrap();
        for role in [Role::Admin, Role::Editor, Role::Moderator] {
            let cli = Cli::try_parse_from([
                "kantlijn",
                "user",
                "add",
                "anna",
                "--role",
                role.as_str(),
                "--password-stdin",
                "--reset",
            ])
            .unwrap();
            let Command::User {
                command: UserCommand::Add { role: parsed, .. },
            } = cli.command
            else {
                panic!("user add");
            };
            assert_eq!(parsed, role);
        }
        assert!(Cli::try_parse_from(["kantlijn", "user", "add", "a", "--role", "root"]).is_err());
    }
}
