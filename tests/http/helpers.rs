//! The test harness: a fresh, migrated database per test (SQLite in a temp file, or a
//! PostgreSQL database of its own when `KANTLIJN_TEST_POSTGRES_URL` is set) and a client
//! that keeps cookies and CSRF tokens like a browser.

use std::{
    collections::BTreeMap,
    io::Write,
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use kantlijn::{
    app::{self, AppState},
    config::{self, RateLimitMode, Secret, Settings},
    domain::validate::{Role, Username},
    security,
    store::{self, Db},
};
use poem::{
    Endpoint, EndpointExt, IntoResponse,
    endpoint::BoxEndpoint,
    http::{HeaderMap, Method, StatusCode, header},
    test::TestClient,
};
use sea_orm::DbBackend;

pub const PASSWORD: &str = "een lang test-wachtwoord";

/// Runs a test body once on SQLite and once on PostgreSQL. The PostgreSQL run is skipped
/// with a note when `KANTLIJN_TEST_POSTGRES_URL` is unset, and fails instead when
/// `KANTLIJN_REQUIRE_POSTGRES=1` (as `.ci/run` sets it).
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            #[tokio::test]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                $body
            }

            $(#[$meta])*
            #[tokio::test]
            async fn postgres() {
                let Some($app) = $crate::helpers::TestApp::spawn_postgres().await else {
                    return;
                };
                $body
            }
        }
    };
}

/// The Redis of `KANTLIJN_TEST_REDIS_URL` with a key prefix of its own, so that every
/// caller starts with fresh rate-limit buckets; `None` when it is unset.
pub fn test_redis() -> Option<config::RedisSettings> {
    let url = std::env::var("KANTLIJN_TEST_REDIS_URL").ok()?;
    let mut redis = config::RedisSettings::parse(&url).expect("a valid KANTLIJN_TEST_REDIS_URL");
    redis.key_prefix = format!("kantlijn-test:{}:rl", security::random_token());
    Some(redis)
}

/// `TEST_LOG=1 cargo test NAME` shows the site's own log (filtered by `RUST_LOG`, `debug`
/// when unset) beside a failing test's output: the cause of a 500, say.
fn init_test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
        // Only the first test of the process installs it; the others find it there.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A response, read whole.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as text (empty when it is not UTF-8, e.g. compressed).
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_redirect(&self, location: &str) -> &Self {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "body: {}", self.body);
        assert_eq!(self.location(), location);
        self
    }

    #[track_caller]
    pub fn assert_contains(&self, fragment: &str) -> &Self {
        assert!(
            self.body.contains(fragment),
            "expected {fragment:?} in body:\n{}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_lacks(&self, fragment: &str) -> &Self {
        assert!(
            !self.body.contains(fragment),
            "did not expect {fragment:?} in body:\n{}",
            self.body
        );
        self
    }
}

/// The whole application in-process, with one browser's cookies.
pub struct TestApp {
    pub db: Db,
    /// The database URL, for running the binary on the same database.
    pub url: String,
    pub state: AppState,
    client: Arc<TestClient<BoxEndpoint<'static, poem::Response>>>,
    cookies: Mutex<BTreeMap<String, String>>,
    _temp: Option<tempfile::TempDir>,
    postgres: Option<PostgresDb>,
}

struct PostgresDb {
    admin_url: String,
    url: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let temp = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    temp.path().join("test.db").display()
                );
                Self::on(backend, &url, Some(temp), None).await
            }
            Backend::Postgres => Self::spawn_postgres()
                .await
                .expect("KANTLIJN_TEST_POSTGRES_URL"),
        }
    }

    /// A PostgreSQL-backed app in a database of its own, or `None` when none is configured.
    pub async fn spawn_postgres() -> Option<Self> {
        let purpose = format!(
            "test_{}_{}",
            COUNTER.fetch_add(1, Ordering::Relaxed),
            &security::random_token()[..6]
                .to_ascii_lowercase()
                .replace(['-', '_'], "x")
        );
        let (admin_url, url) = crate::postgres::postgres_database(&purpose).await?;
        let postgres = PostgresDb {
            admin_url,
            url: url.clone(),
        };
        Some(Self::on(Backend::Postgres, &url, None, Some(postgres)).await)
    }

    async fn on(
        backend: Backend,
        url: &str,
        temp: Option<tempfile::TempDir>,
        postgres: Option<PostgresDb>,
    ) -> Self {
        init_test_log();
        let db = Db::connect(url).await.expect("connect");
        store::migrate(&db).await.expect("migrate");
        let expected = match backend {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
        };
        assert_eq!(db.backend(), expected, "test runs on the wrong backend");
        eprintln!("backend: {backend:?}");
        let settings = Settings {
            secret: Secret::parse("test-secret-that-is-long-enough-0123456789").unwrap(),
            base_url: url::Url::parse("http://127.0.0.1:8080/").unwrap(),
            trusted_proxies: config::trusted_proxies("127.0.0.1, 10.0.0.0/8").unwrap(),
            // Most tests post and log in far faster than any person; the rate-limit
            // tests switch limits on with `with_rate_limits`.
            rate_limits: RateLimitMode::OffIncludingLogin,
            cors_origins: vec!["https://partner.example".to_owned()],
            metrics_token: Some(Secret::parse(METRICS_TOKEN).unwrap()),
            mail: None,
            redis: test_redis(),
        };
        let state = AppState::load(db.clone(), settings).await.expect("state");
        let client = client_for(&state);
        Self {
            db,
            url: url.to_owned(),
            state,
            client,
            cookies: Mutex::new(BTreeMap::new()),
            _temp: temp,
            postgres,
        }
    }

    /// The same site and database served with rate limits in `mode`, by a fresh instance
    /// (so with fresh limiters, in Redis too), seen from a new browser.
    pub async fn with_rate_limits(&self, mode: RateLimitMode) -> TestApp {
        let mut settings = (*self.state.settings).clone();
        settings.rate_limits = mode;
        settings.redis = test_redis();
        self.with_settings(settings).await
    }

    /// The same site and database served with other settings, by a fresh instance,
    /// seen from a new browser. With the same settings it is a second instance of the
    /// site: it shares the rate limits in Redis, when the tests use one.
    pub async fn with_settings(&self, settings: Settings) -> TestApp {
        self.serving(self.db.clone(), settings).await
    }

    /// A fresh instance serving `db` (this site's database) with `settings`, seen from a
    /// new browser.
    async fn serving(&self, db: Db, settings: Settings) -> TestApp {
        let state = AppState::load(db.clone(), settings).await.expect("state");
        TestApp {
            db,
            url: self.url.clone(),
            client: client_for(&state),
            state,
            cookies: Mutex::new(BTreeMap::new()),
            _temp: None,
            postgres: None,
        }
    }

    /// The same site with mail going to `smtpd` and its mail worker running; retries
    /// and polling are fast, so a test waits seconds, not minutes.
    pub async fn with_mail(&self, smtpd: &crate::smtp::Smtpd) -> TestApp {
        let mut mail =
            kantlijn::mail::MailSettings::parse(&smtpd.url(), "Kantlijn <reacties@kantlijn.test>")
                .unwrap();
        mail.retry_base = Duration::from_millis(100);
        mail.retry_cap = Duration::from_millis(800);
        mail.poll = Duration::from_millis(100);
        let mut settings = (*self.state.settings).clone();
        settings.mail = Some(Arc::new(mail));
        let app = self.with_settings(settings).await;
        kantlijn::jobs::spawn_mail(&app.state);
        app
    }

    /// Another `kantlijn serve` process on the same database: connections, page cache
    /// and limiters of its own, and (on PostgreSQL) both it and this one hear each
    /// other's changes, as instances do. Seen from a new browser.
    pub async fn another_instance(&self) -> TestApp {
        let db = Db::connect(&self.url).await.expect("connect");
        let other = self.serving(db, (*self.state.settings).clone()).await;
        for instance in [&self.state, &other.state] {
            kantlijn::instances::follow(instance, &self.url)
                .await
                .expect("listen for changes");
        }
        other
    }

    /// A second browser on the same site: same database, cookies of its own.
    pub fn other_browser(&self) -> TestApp {
        TestApp {
            db: self.db.clone(),
            url: self.url.clone(),
            state: self.state.clone(),
            client: Arc::clone(&self.client),
            cookies: Mutex::new(BTreeMap::new()),
            _temp: None,
            postgres: None,
        }
    }

    /// Sends a request the way a browser would: with this client's cookies.
    pub async fn send(&self, method: Method, path: &str, form: Option<String>) -> Resp {
        self.send_with(method, path, form, &[]).await
    }

    /// [`TestApp::send`] with extra headers (e.g. [`TEST_PEER`] or X-Forwarded-For).
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        form: Option<String>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send_bytes(method, path, form.map(String::into_bytes), headers)
            .await
    }

    /// [`TestApp::send_with`] with a body of any bytes (compressed, say).
    pub async fn send_bytes(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let cookie_header = {
            let cookies = self.cookies.lock().unwrap();
            cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut request = self.client.request(method, path);
        if !cookie_header.is_empty() {
            request = request.header(header::COOKIE, cookie_header);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            if !headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            {
                request = request.content_type("application/x-www-form-urlencoded");
            }
            request = request.body(body);
        }
        let response = request.send().await.0;
        let status = response.status();
        let headers = response.headers().clone();
        {
            let mut cookies = self.cookies.lock().unwrap();
            for value in headers.get_all(header::SET_COOKIE) {
                match cookie_pair(value.to_str().unwrap()) {
                    (name, _, true) => cookies.remove(&name),
                    (name, value, false) => cookies.insert(name, value),
                };
            }
        }
        let bytes = response.into_body().into_vec().await.unwrap_or_default();
        Resp {
            status,
            headers,
            body: String::from_utf8(bytes.clone()).unwrap_or_default(),
            bytes,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    /// Posts a form with this browser's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf_token().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields, without adding a CSRF token.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_html_form::to_string(fields).unwrap();
        self.send(Method::POST, path, Some(body)).await
    }

    /// The CSRF token of this browser, read from a page like a person's browser would.
    pub async fn csrf_token(&self) -> String {
        let mut page = self.get("/beheer/inloggen").await;
        if page.status == StatusCode::SEE_OTHER {
            page = self.get("/beheer").await;
        }
        hidden_value(&page.body, "csrf_token").expect("the login page carries a CSRF token")
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn clear_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    /// Stores a setting the way an admin's change does, so the running site sees it now.
    pub async fn set_setting(&self, key: &str, value: &str) {
        store::settings::set(self.db.write(), key, value)
            .await
            .unwrap();
        self.state.rules.forget();
    }

    /// Creates a staff account with [`PASSWORD`].
    pub async fn create_user(&self, name: &str, role: Role) -> i32 {
        let hash = security::hash_password(PASSWORD).unwrap();
        store::users::upsert(self.db.write(), &Username::parse(name).unwrap(), role, hash)
            .await
            .unwrap()
            .id
    }

    /// Creates an account for `role` and logs this client in as it.
    pub async fn login_as(&self, role: Role) -> i32 {
        let name = format!("{}-test", role.as_str());
        let id = self.create_user(&name, role).await;
        self.post_form(
            "/beheer/inloggen",
            &[("username", &name), ("password", PASSWORD)],
        )
        .await
        .assert_redirect("/beheer");
        id
    }

    /// Creates an article through the editor's form and returns its edit path.
    pub async fn create_article(&self, title: &str, status: &str) -> String {
        let resp = self
            .post_form(
                "/beheer/artikelen/nieuw",
                &[
                    ("title", title),
                    ("slug", ""),
                    ("summary", "Een korte samenvatting."),
                    ("body", "Eerste alinea.\n\n## Kop\n\nTweede alinea."),
                    ("status", status),
                    ("reactions_open", "on"),
                ],
            )
            .await;
        resp.assert_status(StatusCode::SEE_OTHER);
        resp.location().trim_end_matches("?opgeslagen=1").to_owned()
    }
}

impl TestApp {
    /// Calls the JSON API, with a bearer token when given, and parses the answer.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        token: Option<&str>,
    ) -> (Resp, serde_json::Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(auth) = auth.as_deref() {
            headers.push(("authorization", auth));
        }
        let resp = self
            .send_with(method, path, body.map(|b| b.to_string()), &headers)
            .await;
        let json = serde_json::from_str(&resp.body).unwrap_or(serde_json::Value::Null);
        (resp, json)
    }

    /// A fresh API token acting as a new account with `role`.
    pub async fn api_token(&self, role: Role) -> String {
        let name = format!("api-{}", role.as_str());
        let user_id = self.create_user(&name, role).await;
        let token = security::new_api_token();
        kantlijn::store::tokens::create(
            self.db.write(),
            security::token_hash(&token),
            user_id,
            &kantlijn::domain::validate::TokenLabel::parse("test").unwrap(),
        )
        .await
        .unwrap();
        token
    }
}

/// The fields of a reaction a reader would send, with a form served 10 seconds ago.
pub const DEFAULT_COMMENT: [(&str, &str); 6] = [
    ("author_name", "Lien Peeters"),
    ("author_email", "lien@example.nl"),
    ("author_url", ""),
    ("body", "Een *doordachte* reactie."),
    ("parent_id", ""),
    ("bijzonderheden", ""),
];

impl TestApp {
    /// A signed "form served at" token from `seconds_ago` seconds back.
    pub fn form_token(&self, seconds_ago: i64) -> String {
        let served = chrono::Utc::now().timestamp_millis() - seconds_ago * 1000;
        self.state.keys.sign(&format!("form-{served}"))
    }

    /// Posts a reaction on an article: [`DEFAULT_COMMENT`] with `overrides` applied, a
    /// form token 10 seconds old (unless overridden) and this browser's CSRF token.
    pub async fn post_comment(&self, slug: &str, overrides: &[(&str, &str)]) -> Resp {
        let token = self.form_token(10);
        let mut fields: Vec<(&str, &str)> = DEFAULT_COMMENT
            .iter()
            .copied()
            .chain([("form_token", token.as_str())])
            .filter(|(key, _)| !overrides.iter().any(|(k, _)| k == key))
            .collect();
        fields.extend_from_slice(overrides);
        self.post_form(&format!("/artikelen/{slug}/reacties"), &fields)
            .await
    }

    /// [`TestApp::comment`] sent from client address `peer` (see [`TEST_PEER`]), so that
    /// it gets the `ip_hash` of that address.
    pub async fn comment_from(&self, peer: &str, slug: &str, overrides: &[(&str, &str)]) -> i32 {
        let form_token = self.form_token(10);
        let csrf_token = self.csrf_token().await;
        let mut fields: Vec<(&str, &str)> = DEFAULT_COMMENT
            .iter()
            .copied()
            .filter(|(key, _)| !overrides.iter().any(|(k, _)| k == key))
            .collect();
        fields.extend_from_slice(overrides);
        fields.extend([
            ("form_token", form_token.as_str()),
            ("csrf_token", csrf_token.as_str()),
        ]);
        let body = serde_html_form::to_string(&fields).unwrap();
        let path = format!("/artikelen/{slug}/reacties");
        let resp = self
            .send_with(Method::POST, &path, Some(body), &[(TEST_PEER, peer)])
            .await;
        resp.assert_status(StatusCode::SEE_OTHER);
        comment_id(resp.location())
    }

    /// Posts a reaction and returns its id from the redirect.
    pub async fn comment(&self, slug: &str, overrides: &[(&str, &str)]) -> i32 {
        let resp = self.post_comment(slug, overrides).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        comment_id(resp.location())
    }

    /// An editor (in another browser) publishes an article; returns its slug.
    pub async fn published_article(&self, title: &str) -> String {
        let editor = self.other_browser();
        editor.login_as(Role::Editor).await;
        let edit = editor.create_article(title, "published").await;
        let id: i32 = edit
            .trim_start_matches("/beheer/artikelen/")
            .trim_end_matches("/bewerken")
            .parse()
            .unwrap();
        kantlijn::store::articles::find_by_id(self.db.read(), id)
            .await
            .unwrap()
            .unwrap()
            .slug
    }

    /// A moderator (in another browser) applies `action` to reactions, with a reason.
    pub async fn moderate(&self, ids: &[i32], action: &str, reason: &str) -> Resp {
        let moderator = self.other_browser();
        moderator.login_as(Role::Moderator).await;
        let ids: Vec<String> = ids.iter().map(i32::to_string).collect();
        let mut fields: Vec<(&str, &str)> = ids.iter().map(|id| ("ids", id.as_str())).collect();
        fields.push(("action", action));
        fields.push(("reason", reason));
        fields.push(("status", "pending"));
        let resp = moderator.post_form("/beheer/moderatie", &fields).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        resp
    }

    /// Posts a reaction and has a moderator approve it; returns its id.
    pub async fn approved_comment(&self, slug: &str, overrides: &[(&str, &str)]) -> i32 {
        let id = self.comment(slug, overrides).await;
        self.moderate(&[id], "approve", "").await;
        id
    }

    /// The stored reaction.
    pub async fn stored(&self, id: i32) -> kantlijn::entity::comments::Model {
        kantlijn::store::comments::find(self.db.read(), id)
            .await
            .unwrap()
            .expect("reaction exists")
    }
}

/// The reaction id in a `/artikelen/{slug}?reactie={id}#reactie-{id}` redirect.
pub fn comment_id(location: &str) -> i32 {
    let (_, rest) = location
        .split_once("?reactie=")
        .unwrap_or_else(|| panic!("not a reaction redirect: {location}"));
    rest.split('#').next().unwrap().parse().unwrap()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        // Dropping a database needs async I/O; do it on a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(crate::postgres::drop_database(&pg.admin_url, &pg.url));
        })
        .join();
    }
}

fn client_for(state: &AppState) -> Arc<TestClient<BoxEndpoint<'static, poem::Response>>> {
    Arc::new(TestClient::new(
        app::build(state.clone())
            .around(with_test_peer)
            .map_to_response()
            .boxed(),
    ))
}

/// What the test sites' `/metrics` takes as its bearer token.
pub const METRICS_TOKEN: &str = "test-metrics-token-that-is-long-enough-42";

/// The header a test sets to choose the socket peer address of its request.
pub const TEST_PEER: &str = "x-test-peer";

/// Gives each request the socket peer address named in [`TEST_PEER`] (default
/// 192.0.2.1), as a real server would from the TCP connection.
async fn with_test_peer<E: Endpoint>(next: E, req: poem::Request) -> poem::Result<poem::Response> {
    let peer: std::net::SocketAddr = req
        .header(TEST_PEER)
        .and_then(|v| v.parse::<std::net::IpAddr>().ok())
        .map_or_else(
            || "192.0.2.1:50000".parse().unwrap(),
            |ip| std::net::SocketAddr::new(ip, 50000),
        );
    let (parts, body) = req.into_parts();
    let mut http = poem::http::Request::new(());
    *http.method_mut() = parts.method;
    *http.uri_mut() = parts.uri;
    *http.version_mut() = parts.version;
    *http.headers_mut() = parts.headers;
    *http.extensions_mut() = parts.extensions;
    let (http_parts, ()) = http.into_parts();
    let parts = poem::RequestParts::from((
        http_parts,
        poem::web::LocalAddr::default(),
        poem::web::RemoteAddr(poem::Addr::SocketAddr(peer)),
        poem::http::uri::Scheme::HTTP,
    ));
    Ok(next
        .call(poem::Request::from_parts(parts, body))
        .await?
        .into_response())
}

/// (name, value, is_removal) of a Set-Cookie header.
fn cookie_pair(set_cookie: &str) -> (String, String, bool) {
    let mut parts = set_cookie.split(';');
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    let removal = parts.any(|p| {
        let p = p.trim().to_ascii_lowercase();
        p == "max-age=0" || p.starts_with("expires=thu, 01 jan 1970")
    }) || value.is_empty();
    (name.trim().to_owned(), value.trim().to_owned(), removal)
}

/// The value of a hidden input in a page.
pub fn hidden_value(html: &str, name: &str) -> Option<String> {
    attr_of(html, &format!("input[name=\"{name}\"]"), "value")
}

/// The value of `attribute` on the first element matching `selector`.
pub fn attr_of(html: &str, selector: &str, attribute: &str) -> Option<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).unwrap();
    document
        .select(&selector)
        .next()
        .and_then(|element| element.value().attr(attribute))
        .map(str::to_owned)
}

/// A `kantlijn serve` process on a fresh SQLite file and a free port.
pub struct Server {
    child: Child,
    pub addr: String,
    /// The database URL the server runs on.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts the binary with limits off and `env` added.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("site.db").display());
        let addr = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().to_string()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_kantlijn"))
            .args(["serve", "--bind", &addr, "--database-url", &url])
            .env("KANTLIJN_RATE_LIMITS", "off-including-login")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            addr,
            url,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.request("GET", "/healthz", &[], &[]).0 != 200 {
            assert!(Instant::now() < deadline, "the server did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// One HTTP/1.1 request on a fresh connection: (status, whole response).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        crate::net::request(&self.addr, method, path, headers, body)
    }

    /// Opens the login page as a new browser would: its CSRF cookie (`name=value`, for a
    /// `Cookie` header) and the form's token.
    pub fn login_page(&self) -> (String, String) {
        let (_, login) = self.request("GET", "/beheer/inloggen", &[], &[]);
        let cookie = login
            .lines()
            .find_map(|l| {
                l.strip_prefix("set-cookie: ")
                    .or_else(|| l.strip_prefix("Set-Cookie: "))
            })
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_owned();
        let csrf = hidden_value(&login, "csrf_token").unwrap();
        (cookie, csrf)
    }

    /// Asks the server to stop, as `kill` or a service manager would.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to end; its exit status, if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// The peak resident memory of the process so far, in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a finished command printed, and how it ended.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// Asserts success; returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "{self:#?}");
        &self.stdout
    }

    /// Asserts exit status `code` and one line on stderr holding every fragment.
    #[track_caller]
    pub fn refused(&self, code: i32, fragments: &[&str]) -> &str {
        assert_eq!(self.code, code, "{self:#?}");
        let line = self.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "one line: {line:?}");
        assert!(line.starts_with("kantlijn: "), "{line}");
        for fragment in fragments {
            assert!(line.contains(fragment), "{fragment:?} in {line:?}");
        }
        line
    }
}

/// The binary with an empty environment but for `PATH`.
pub fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kantlijn"));
    // Only what each test gives: no KANTLIJN_* or RUST_LOG of the machine running it.
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Runs the binary in `dir` with `env` and `stdin`, and waits up to a minute.
pub fn kantlijn(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Ran {
    kantlijn_with(binary(), dir, args, env, stdin)
}

/// [`kantlijn`] with a command of the caller's making (another user, say).
pub fn kantlijn_with(
    mut command: Command,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Ran {
    let mut child = command
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let Ok(out) = finished.recv_timeout(Duration::from_secs(60)) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("kantlijn {args:?} did not finish within a minute");
    };
    let out = out.unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
