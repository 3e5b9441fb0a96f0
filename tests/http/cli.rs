//! The binary as a new site owner meets it: every command names its database first, the
//! demo leaves a live site alone, one server per database, and every newcomer mistake
//! ends in one line that says what to do, with exit status 1 (2 for how it was called).

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use kantlijn::{
    config::Secret,
    domain::validate::Role,
    entity::{comments, users},
    security::Keys,
    store,
};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

use crate::{
    db_test,
    helpers::{binary, kantlijn, kantlijn_with},
    net::free_port,
};

/// A serving process whose output goes to files, to be read while it runs.
struct Serving {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Serving {
    fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let n = std::fs::read_dir(dir).map_or(0, |d| d.count());
        let stdout = dir.join(format!("stdout-{n}.txt"));
        let stderr = dir.join(format!("stderr-{n}.txt"));
        let child = binary()
            .current_dir(dir)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits until stdout says it serves; returns stdout so far.
    #[track_caller]
    fn wait_serving(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = self.stdout();
            if out.contains("Serving http") {
                return out;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the server ended ({status}):\n{out}\n{}", self.stderr());
            }
            assert!(
                Instant::now() < deadline,
                "not serving after a minute:\n{out}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it as a service manager would, waits for it to end; returns its stderr.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.stderr()
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GET on a fresh connection; the status code.
fn status_of(addr: &str, path: &str) -> u16 {
    crate::net::request(addr, "GET", path, &[], b"").0
}

/// A temp dir others may enter (tempfile makes them 0700), for runs as another user.
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Everything of a site that demo must never change: accounts with their password hashes,
/// articles, and whether it was ever marked a demo.
async fn site_snapshot(
    app: &crate::helpers::TestApp,
) -> (Vec<(String, String, String)>, u64, bool) {
    let accounts = users::Entity::find()
        .order_by_asc(users::Column::Username)
        .all(app.db.read())
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.role.as_str().to_owned(), u.password_hash))
        .collect();
    let articles = kantlijn::entity::articles::Entity::find()
        .count(app.db.read())
        .await
        .unwrap();
    let marked = store::settings::get(app.db.read(), "demo_site")
        .await
        .unwrap()
        .is_some();
    (accounts, articles, marked)
}

db_test! {
    async fn demo_refuses_a_live_site_by_flag_and_ignores_it_by_env(app) {
        app.create_user("beheer", Role::Admin).await;
        app.create_user("moderator", Role::Moderator).await;
        app.published_article("Een echt artikel").await;
        let before = site_snapshot(&app).await;
        let dir = tempfile::tempdir().unwrap();

        let ran = kantlijn(dir.path(), &["demo", "--bind", "127.0.0.1:0", "--database-url", &app.url, "--secret-file", "site.secret"], &[], "");
        ran.refused(1, &["demo leaves", "it holds a site that demo did not make", "leave out --database-url"]);
        assert!(ran.stdout.starts_with("Database: "), "{}", ran.stdout);
        assert!(!ran.stdout.contains("redacteur"), "no logins printed: {}", ran.stdout);
        assert_eq!(site_snapshot(&app).await, before);

        // Exported for the real site, the variable is not demo's: it serves its own.
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let mut demo = Serving::start(dir.path(), &["demo", "--bind", &bind], &[("KANTLIJN_DATABASE_URL", &app.url)]);
        let out = demo.wait_serving();
        let own = dir.path().join("kantlijn-demo.db");
        assert_eq!(out.lines().next().unwrap(), format!("Database: SQLite {}", own.display()));
        assert!(out.contains("Not using KANTLIJN_DATABASE_URL"), "{out}");
        assert!(out.contains(&format!("Serving http://127.0.0.1:{port}/")), "{out}");
        assert_eq!(status_of(&bind, "/artikelen/lerarenregister-wordt-lerarenportfolio"), 200);
        demo.stop();
        assert!(own.exists());
        assert_eq!(site_snapshot(&app).await, before, "the site is untouched");
    }
}

/// A new database becomes a demo; demo may open its own again and again.
#[tokio::test]
async fn demo_takes_a_new_database_and_comes_back_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("eigen.db").display()
    );
    for _ in 0..2 {
        let mut demo = Serving::start(
            dir.path(),
            &["demo", "--bind", "127.0.0.1:0", "--database-url", &url],
            &[],
        );
        let out = demo.wait_serving();
        assert!(out.contains("redacteur"), "{out}");
        demo.stop();
    }
}

/// `user add`: created or reset, said plainly; a name in other capitals than the
/// account it means needs `--reset`. Every command's first line names its database.
#[tokio::test]
async fn user_add_says_what_it_did_and_every_command_names_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!(
        "Database: SQLite {}",
        dir.path().join("kantlijn.db").display()
    );
    let run = |args: &[&str]| kantlijn(dir.path(), args, &[], "");

    let ran = run(&["user", "add", "beheer", "--role", "admin"]);
    let out = ran.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], database,
        "the default database is relative to the current directory"
    );
    assert_eq!(lines[1], "Created user beheer (admin).");
    assert!(lines[2].starts_with("Password: "), "{out}");

    run(&["user", "add", "Beheer", "--role", "admin"]).refused(
        1,
        &[
            "there is already a user beheer (admin)",
            "\"Beheer\" is that account",
            "--reset",
        ],
    );
    let out = run(&["user", "add", "Beheer", "--role", "editor", "--reset"])
        .ok()
        .to_owned();
    assert!(
        out.contains(
            "Password reset for existing user beheer; role changed from admin to editor; \
             its sessions and API tokens are ended."
        ),
        "{out}"
    );
    let out = run(&["user", "add", "beheer", "--role", "editor"])
        .ok()
        .to_owned();
    assert!(
        out.contains(
            "Password reset for existing user beheer (editor); its sessions and API tokens \
             are ended."
        ),
        "{out}"
    );
    let out = run(&["user", "add", "Nieuw", "--role", "moderator"])
        .ok()
        .to_owned();
    assert!(
        out.contains(
            "Created user nieuw (moderator); names are lowercase, so \"Nieuw\" became nieuw."
        ),
        "{out}"
    );
    run(&["user", "add", "met spatie", "--role", "admin"])
        .refused(2, &["\"met spatie\"", "A username has 2 to 64 characters"]);
    kantlijn(
        dir.path(),
        &["user", "add", "kort", "--role", "admin", "--password-stdin"],
        &[],
        "kort\n",
    )
    .refused(
        1,
        &["the password on standard input: Choose a password of at least 10 characters."],
    );

    let out = run(&["token", "create", "beheer"]).ok().to_owned();
    assert_eq!(out.lines().next(), Some(database.as_str()));
    assert!(
        out.lines().last().unwrap().len() > 20,
        "the token alone on the last line: {out}"
    );
    run(&["token", "create", "niemand"]).refused(
        1,
        &[
            "there is no user \"niemand\" in this database",
            "kantlijn user add",
        ],
    );
    let out = run(&["migrate"]).ok().to_owned();
    assert_eq!(
        out,
        format!("{database}\nThe database schema is up to date.\n")
    );
}

db_test! {
    async fn the_database_line_hides_a_password(app) {
        let mut url = url::Url::parse(&app.url).unwrap();
        if url.scheme() != "sqlite" {
            url.set_password(Some("geheim")).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let ran = kantlijn(dir.path(), &["migrate", "--database-url", url.as_str()], &[], "");
        let first = ran.ok().lines().next().unwrap().to_owned();
        assert!(first.starts_with("Database: "), "{first}");
        assert!(!first.contains("geheim"), "{first}");
        if url.scheme() != "sqlite" {
            assert!(first.starts_with("Database: PostgreSQL postgres://postgres:***@"), "{first}");
        }
    }
}

/// Wrong values of flags and their variables: exit 2, and the message names what the
/// operator wrote, the flag or the variable. Nothing is created before the check.
#[test]
fn flag_errors_name_the_flag_or_the_variable_that_was_given() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "--rate-limits",
            "KANTLIJN_RATE_LIMITS",
            "maybe",
            "must be on, off or off-including-login",
        ),
        (
            "--trusted-proxies",
            "KANTLIJN_TRUSTED_PROXIES",
            "nope",
            "nope",
        ),
        (
            "--secret",
            "KANTLIJN_SECRET",
            "kort",
            "at least 32 characters",
        ),
        (
            "--cors-origins",
            "KANTLIJN_CORS_ORIGINS",
            "*",
            "is not an origin like https://example.nl",
        ),
        (
            "--base-url",
            "KANTLIJN_BASE_URL",
            "ftp://example.nl",
            "must start with http:// or https://",
        ),
        (
            "--bind",
            "KANTLIJN_BIND",
            "localhost",
            "has no port: give HOST:PORT",
        ),
        (
            "--database-url",
            "KANTLIJN_DATABASE_URL",
            "mysql://root@x/y",
            "is not a database URL",
        ),
        (
            "--redis-url",
            "KANTLIJN_REDIS_URL",
            "http://localhost:6379",
            "http:// is not a Redis URL; write redis://host:6379",
        ),
    ];
    for (flag, variable, value, why) in cases {
        let ran = kantlijn(dir.path(), &["serve", flag, value], &[], "");
        ran.refused(2, &[&format!("kantlijn: {flag}: "), why]);
        let ran = kantlijn(dir.path(), &["serve"], &[(variable, value)], "");
        ran.refused(2, &[&format!("kantlijn: {variable}: "), why]);
    }
    assert!(
        !dir.path().join("kantlijn.db").exists(),
        "checked before anything is created"
    );

    let ran = kantlijn(
        dir.path(),
        &["migrate"],
        &[("RUST_LOG", "info,kantlijn=luid")],
        "",
    );
    ran.refused(2, &["RUST_LOG=\"info,kantlijn=luid\" is not a log filter"]);
}

/// SQLite paths that cannot work: the path, and what to do, before any file is made.
#[test]
fn sqlite_path_mistakes_say_which_path_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().display().to_string();

    let ran = kantlijn(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            &format!("sqlite://{path}/nieuw.db"),
        ],
        &[],
        "",
    );
    ran.refused(
        1,
        &[
            &format!("{path}/nieuw.db does not exist"),
            "add ?mode=rwc to the URL",
        ],
    );
    assert!(!dir.path().join("nieuw.db").exists());

    let url = format!("sqlite://{path}/ontbreekt/site.db?mode=rwc");
    let ran = kantlijn(dir.path(), &["migrate", "--database-url", &url], &[], "");
    ran.refused(
        1,
        &[
            &format!("the directory {path}/ontbreekt does not exist"),
            "mkdir -p",
        ],
    );
    assert!(!dir.path().join("ontbreekt").exists());

    // A relative path is relative to the current directory, and said in full.
    let ran = kantlijn(
        dir.path(),
        &[
            "user",
            "add",
            "anna",
            "--role",
            "admin",
            "--database-url",
            "sqlite://data/site.db?mode=rwc",
        ],
        &[],
        "",
    );
    ran.refused(1, &[&format!("the directory {path}/data does not exist")]);
    assert!(
        ran.stdout
            .starts_with(&format!("Database: SQLite {path}/data/site.db")),
        "{}",
        ran.stdout
    );
}

/// A directory the server's user may not write, run as an unprivileged user.
#[test]
fn an_unwritable_directory_is_named() {
    let dir = open_dir();
    let locked = dir.path().join("alleen-lezen");
    std::fs::create_dir(&locked).unwrap();
    let url = format!("sqlite://{}/site.db?mode=rwc", locked.display());
    let is_root = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let command = if is_root.unwrap_or(false) {
        // root may write anywhere: run as nobody, whom the 0755 directory keeps out.
        let mut command = Command::new("setpriv");
        command
            .env_clear()
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_kantlijn"));
        command
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
        binary()
    };
    let ran = kantlijn_with(
        command,
        dir.path(),
        &["migrate", "--database-url", &url],
        &[],
        "",
    );
    ran.refused(
        1,
        &[&format!(
            "cannot create {}/site.db: permission denied in {}",
            locked.display(),
            locked.display()
        )],
    );
}

/// A taken port is said before the database is created or migrated; a host name binds.
#[test]
fn a_taken_port_is_said_first_and_host_names_bind() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let ran = kantlijn(dir.path(), &["serve", "--bind", &bind], &[], "");
    ran.refused(
        1,
        &[
            &format!("cannot listen on {bind}: the port is already in use"),
            "--bind",
        ],
    );
    assert!(
        !dir.path().join("kantlijn.db").exists(),
        "no database was made"
    );
    drop(taken);

    let port = free_port();
    let mut server = Serving::start(
        dir.path(),
        &["serve", "--bind", &format!("localhost:{port}")],
        &[("RUST_LOG", "debug")],
    );
    let out = server.wait_serving();
    assert!(
        out.contains(&format!(
            "Serving http://localhost:{port}/ (listening on 127.0.0.1:{port})"
        )),
        "{out}"
    );
    assert_eq!(status_of(&format!("127.0.0.1:{port}"), "/"), 200);
    // RUST_LOG as tracing documents it: debug shows the statements the site ran.
    let log = server.stop();
    assert!(
        log.contains("DEBUG") && log.contains("sqlx::query"),
        "{log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes when stderr is a file: {log}"
    );
}

/// `KANTLIJN_LOG_FORMAT=json`: one JSON object per line, the request id with each
/// request's lines; another value is refused at start.
#[test]
fn json_logs_are_one_object_per_line_with_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let env = [("KANTLIJN_LOG_FORMAT", "json"), ("RUST_LOG", "info")];
    let mut server = Serving::start(dir.path(), &["serve", "--bind", &bind], &env);
    server.wait_serving();
    assert_eq!(status_of(&bind, "/healthz"), 200);
    let log = server.stop();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let answered = lines
        .iter()
        .find(|l| l["fields"]["message"] == "answered")
        .unwrap_or_else(|| panic!("no request line in {log}"));
    assert_eq!(answered["span"]["path"], "/healthz");
    assert_eq!(
        answered["span"]["id"].as_str().map(str::len),
        Some(16),
        "{answered}"
    );
    assert_eq!(answered["fields"]["status"], 200);

    let ran = kantlijn(
        dir.path(),
        &["migrate"],
        &[("KANTLIJN_LOG_FORMAT", "xml")],
        "",
    );
    ran.refused(
        2,
        &["KANTLIJN_LOG_FORMAT=\"xml\": use text (the default) or json"],
    );
}

db_test! {
    async fn a_second_server_is_refused_on_sqlite_and_welcome_on_postgres(app) {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Serving::start(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--database-url", &app.url, "--secret-file", "site.secret"], &[]);
        first.wait_serving();
        if app.url.starts_with("postgres") {
            // Instances on one PostgreSQL tell each other their changes (tests/http/instances.rs).
            let bind = format!("127.0.0.1:{}", free_port());
            let mut beside = Serving::start(dir.path(), &["serve", "--bind", &bind, "--database-url", &app.url, "--secret-file", "site.secret"], &[]);
            beside.wait_serving();
            assert_eq!(status_of(&bind, "/healthz"), 200);
            beside.stop();
        } else {
            let ran = kantlijn(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--database-url", &app.url, "--secret-file", "site.secret"], &[], "");
            ran.refused(1, &["another kantlijn server", "is already serving", "stop the other one first"]);
        }
        // The CLI's other commands still work beside it.
        kantlijn(dir.path(), &["user", "add", "naast", "--role", "editor", "--database-url", &app.url], &[], "").ok();
        first.stop();
        let mut second = Serving::start(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--database-url", &app.url, "--secret-file", "site.secret"], &[]);
        second.wait_serving();
        second.stop();
    }
}

/// PostgreSQL mistakes: a server that is not there, a database that is not there.
#[test]
fn postgres_mistakes_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let ran = kantlijn(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "postgres://kantlijn:geheim@127.0.0.1:1/kantlijn",
        ],
        &[],
        "",
    );
    let line = ran.refused(
        1,
        &[
            "cannot connect to PostgreSQL at 127.0.0.1:1: connection refused",
            "is the server running",
        ],
    );
    assert!(!line.contains("geheim"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting for a pool timeout"
    );

    let Ok(admin) = std::env::var("KANTLIJN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("KANTLIJN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "KANTLIJN_TEST_POSTGRES_URL is unset"
        );
        eprintln!("skipped the missing-database case: KANTLIJN_TEST_POSTGRES_URL is unset");
        return;
    };
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path("kantlijn_bestaat_niet");
    let ran = kantlijn(
        dir.path(),
        &["migrate", "--database-url", url.as_str()],
        &[],
        "",
    );
    let line = ran.refused(
        1,
        &[
            "has no database \"kantlijn_bestaat_niet\"",
            "createdb --owner",
        ],
    );
    assert!(!line.contains("line "), "{line}");
}

/// Instances started at the same moment on a new PostgreSQL database migrate one after
/// another (the later ones find the work done), and all of them serve.
#[tokio::test]
async fn instances_started_together_on_a_new_postgres_database_all_serve() {
    let Some((admin, url)) = crate::postgres::postgres_database("together").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let secret = [(
        "KANTLIJN_SECRET",
        "a-secret-both-instances-share-0123456789",
    )];
    let binds: Vec<String> = (0..3)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let mut servers: Vec<Serving> = binds
        .iter()
        .map(|bind| {
            Serving::start(
                dir.path(),
                &["serve", "--bind", bind, "--database-url", &url],
                &secret,
            )
        })
        .collect();
    for (server, bind) in servers.iter_mut().zip(&binds) {
        server.wait_serving();
        assert_eq!(status_of(bind, "/healthz"), 200);
    }
    for server in servers {
        server.stop();
    }
    crate::postgres::drop_database(&admin, &url).await;
}

/// The key that hashes client addresses is not in the database: the generated secret is
/// in a file of its own beside it, readable by its owner alone, and it is what the
/// hashes are made with.
#[tokio::test]
async fn the_site_secret_is_kept_in_a_private_file_beside_the_database() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("eigen.db");
    let url = format!("sqlite://{}?mode=rwc", database.display());
    let bind = format!("127.0.0.1:{}", free_port());
    let mut demo = Serving::start(
        dir.path(),
        &["demo", "--bind", &bind, "--database-url", &url],
        &[],
    );
    let out = demo.wait_serving();
    let file = dir.path().join("eigen.db.secret");
    assert!(
        out.contains(&format!("Site secret generated into {}", file.display())),
        "{out}"
    );
    let body = serde_json::json!({
        "author_name": "Lezer",
        "author_email": "lezer@example.nl",
        "body": "Een reactie om het adres van te bewaren.",
    })
    .to_string();
    let (status, response) = crate::net::request(
        &bind,
        "POST",
        "/api/v1/articles/lerarenregister-wordt-lerarenportfolio/comments",
        &[("content-type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(status, 201, "{response}");
    demo.stop();

    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let secret = std::fs::read_to_string(&file).unwrap();
    let keys = Keys::derive(&Secret::parse(secret.trim_end()).unwrap());
    let db = store::Db::connect(&url).await.unwrap();
    assert_eq!(
        store::settings::get(db.read(), "site_secret")
            .await
            .unwrap(),
        None
    );
    let newest = comments::Entity::find()
        .order_by_desc(comments::Column::Id)
        .one(db.read())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(newest.ip_hash, keys.ip_hash("127.0.0.1"));
}

/// A site whose secret an earlier version kept in the database keeps its secret (and so
/// its address hashes, bans and readers' edit cookies): it moves into the file.
#[tokio::test]
async fn a_secret_kept_in_the_database_moves_into_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("site.db").display());
    kantlijn(dir.path(), &["migrate", "--database-url", &url], &[], "").ok();
    let earlier = "een-geheim-uit-een-eerdere-versie-0123456789";
    {
        let db = store::Db::connect(&url).await.unwrap();
        store::settings::set(db.write(), "site_secret", earlier)
            .await
            .unwrap();
        db.close().await.unwrap();
    }
    for _ in 0..2 {
        let mut server = Serving::start(
            dir.path(),
            &["serve", "--bind", "127.0.0.1:0", "--database-url", &url],
            &[],
        );
        server.wait_serving();
        server.stop();
        let file = std::fs::read_to_string(dir.path().join("site.db.secret")).unwrap();
        assert_eq!(file.trim_end(), earlier);
    }
    let db = store::Db::connect(&url).await.unwrap();
    assert_eq!(
        store::settings::get(db.read(), "site_secret")
            .await
            .unwrap(),
        None
    );
    db.close().await.unwrap();
    // Gone from the files too, not only from the table.
    for file in ["site.db", "site.db-wal"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        let found = bytes
            .windows(earlier.len())
            .any(|w| w == earlier.as_bytes());
        assert!(!found, "the old secret is still in {file}");
    }
}

/// A database remembers which secret it was used with: started with another one (its
/// file lost or swapped, another --secret), it refuses instead of silently breaking its
/// address hashes, bans and readers' edit links.
#[tokio::test]
async fn a_database_refuses_a_secret_it_was_not_used_with() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("site.db").display());
    let serve = [
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        url.as_str(),
    ];
    let mut first = Serving::start(dir.path(), &serve, &[]);
    first.wait_serving();
    first.stop();
    let file = dir.path().join("site.db.secret");
    let kept = dir.path().join("kept.secret");
    std::fs::rename(&file, &kept).unwrap();

    kantlijn(dir.path(), &serve, &[], "")
        .refused(1, &["site.db.secret is missing", "put the file back"]);
    assert!(!file.exists(), "no new secret was made");
    std::fs::write(&file, format!("{}\n", "x".repeat(40))).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    kantlijn(dir.path(), &serve, &[], "")
        .refused(1, &["not the site secret the database was used with"]);
    let other = "y".repeat(40);
    kantlijn(
        dir.path(),
        &[&serve[..], &["--secret", other.as_str()]].concat(),
        &[],
        "",
    )
    .refused(1, &["not the site secret the database was used with"]);

    std::fs::rename(&kept, &file).unwrap();
    let mut again = Serving::start(dir.path(), &serve, &[]);
    again.wait_serving();
    again.stop();
}

/// PostgreSQL has no file to put a generated secret beside: the operator says where.
#[test]
fn postgres_without_a_secret_says_where_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let serve = [
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        "postgres://kantlijn@127.0.0.1:1/kantlijn",
    ];
    kantlijn(dir.path(), &serve, &[], "").refused(
        2,
        &[
            "not kept in the database",
            "--secret (KANTLIJN_SECRET)",
            "--secret-file",
        ],
    );
    // With a file named, it goes on to the database (which is not there).
    kantlijn(
        dir.path(),
        &serve,
        &[("KANTLIJN_SECRET_FILE", "site.secret")],
        "",
    )
    .refused(1, &["cannot connect to PostgreSQL"]);
}
