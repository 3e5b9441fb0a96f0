//! Settings: CLI flags > environment (`KANTLIJN_*`) > defaults, read once at start-up.

use std::{fmt, net::SocketAddr};

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::domain::limits::Mode as RateLimitMode;

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
    /// Create a staff account (or reset its password and role when it exists).
    Add {
        /// Login name: lowercase letters, digits, `.`, `_`, `-`.
        name: String,
        #[arg(long, value_enum)]
        role: CliRole,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CliRole {
    Admin,
    Editor,
    Moderator,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH?mode=rwc or postgres://USER@HOST/DB.
    #[arg(long, env = "KANTLIJN_DATABASE_URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KANTLIJN_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Site secret (at least 32 characters); when unset, one is generated and kept in the database.
    #[arg(long, env = "KANTLIJN_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Public address of the site, e.g. https://kantlijn.example.nl; https turns on Secure cookies.
    #[arg(long, env = "KANTLIJN_BASE_URL")]
    pub base_url: Option<String>,
    /// Proxies whose X-Forwarded-For is believed: comma-separated IPs and CIDR ranges.
    #[arg(long, env = "KANTLIJN_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// `on`, `off` (every limit but login) or `off-including-login`.
    #[arg(long, env = "KANTLIJN_RATE_LIMITS", default_value = "on")]
    pub rate_limits: String,
    /// Origins allowed to read the API from a browser (comma-separated); none by default.
    #[arg(long, env = "KANTLIJN_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
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
            "KANTLIJN_SECRET must be at least {} characters long",
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
}

impl Settings {
    /// Session and CSRF cookies are only sent over https when the site is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }
}

/// Parses and checks the base URL, or derives one from the bind address.
pub fn base_url(configured: Option<&str>, bind: SocketAddr) -> anyhow::Result<url::Url> {
    let raw = configured.map_or_else(|| format!("http://{bind}/"), str::to_owned);
    let url = url::Url::parse(&raw)
        .map_err(|e| anyhow::anyhow!("KANTLIJN_BASE_URL {raw:?} is not a valid URL: {e}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "KANTLIJN_BASE_URL must start with http:// or https://"
    );
    Ok(url)
}

/// Parses `KANTLIJN_TRUSTED_PROXIES`.
pub fn trusted_proxies(value: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    crate::web::middleware::client_ip::parse_trusted(value)
        .map_err(|e| anyhow::anyhow!("KANTLIJN_TRUSTED_PROXIES: {e}"))
}

/// Parses `KANTLIJN_CORS_ORIGINS`: comma-separated `http(s)://host[:port]` origins.
pub fn cors_origins(value: &str) -> anyhow::Result<Vec<String>> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|origin| {
            let url = url::Url::parse(origin)
                .map_err(|e| anyhow::anyhow!("KANTLIJN_CORS_ORIGINS: {origin:?}: {e}"))?;
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https")
                    && url.path() == "/"
                    && url.query().is_none(),
                "KANTLIJN_CORS_ORIGINS: {origin:?} is not an origin like https://example.nl"
            );
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

/// Parses `KANTLIJN_RATE_LIMITS`.
pub fn rate_limits(value: &str) -> anyhow::Result<RateLimitMode> {
    RateLimitMode::parse(value).ok_or_else(|| {
        anyhow::anyhow!(
            "KANTLIJN_RATE_LIMITS must be on, off or off-including-login, not {value:?}"
        )
    })
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
    fn base_url_defaults_to_bind_address() {
        let url = base_url(None, "127.0.0.1:8080".parse().unwrap()).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/");
        assert!(base_url(Some("ftp://x"), "127.0.0.1:1".parse().unwrap()).is_err());
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
        Cli::try_parse_from([
            "kantlijn",
            "user",
            "add",
            "anna",
            "--role",
            "editor",
            "--password-stdin",
        ])
        .unwrap();
    }
}
