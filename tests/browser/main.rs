//! The site in a real browser: headless Chromium driven through ChromeDriver's WebDriver
//! protocol, against the release-like binary on 127.0.0.1.
//!
//! Needs `chromium` and `chromium-driver` (Debian). Without them every test here says so
//! and passes, unless `KANTLIJN_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them)
//! makes that a failure.

mod accessibility;
#[path = "../support/net.rs"]
mod net;
mod reader;
mod recent;
mod screenshots;
mod staff;
mod votes;
mod webdriver;

use std::{
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use webdriver::Browser;

/// Every staff account's password in these tests.
const PASSWORD: &str = "een lang wachtwoord voor de browsertests";

/// The reaction form's button that posts it.
const PLACE_BUTTON: &str = "//form[@id='reageren']//button[normalize-space()='Reactie plaatsen']";

/// The article the site starts with, in Markdown: enough text to read like a real one.
const ARTICLE: &str = "Het **Lerarenregister** kwam er niet; het *Lerarenportfolio* \
    kreeg zijn plaats.\n\n## Wat er verandert\n\n- Scholen houden zelf bij wat een leraar \
    leert.\n- Leraren beslissen wie hun portfolio mag inzien.\n\nLees de \
    [kamerbrief](https://www.rijksoverheid.nl/) voor de details.";

/// The binary serving a fresh SQLite site, with one user of each staff role (`beheer`,
/// `redactie`, `moderator`, all with [`PASSWORD`]), an admin's API token and one
/// published article.
struct Site {
    child: Child,
    addr: String,
    slug: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Site {
    /// A site with every rate limit but the login's switched off.
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("site.db").display());
        let binary = env!("CARGO_BIN_EXE_kantlijn");
        let cli = |args: &[&str], stdin: &str| {
            let mut child = Command::new(binary)
                .args(args)
                .args(["--database-url", &url])
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
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "kantlijn {args:?}: {output:?}");
            String::from_utf8(output.stdout).unwrap()
        };
        for (name, role) in [
            ("beheer", "admin"),
            ("redactie", "editor"),
            ("moderator", "moderator"),
        ] {
            let password = format!("{PASSWORD}\n");
            cli(
                &["user", "add", name, "--role", role, "--password-stdin"],
                &password,
            );
        }
        let token = cli(&["token", "create", "beheer"], "");
        let token = token.lines().last().unwrap().to_owned();
        let addr = format!("127.0.0.1:{}", net::free_port());
        let child = Command::new(binary)
            .args(["serve", "--bind", &addr, "--database-url", &url])
            .env("KANTLIJN_RATE_LIMITS", "off")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut site = Self {
            child,
            addr,
            slug: String::new(),
            token,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while site.request("GET", "/healthz", &[], "").0 != 200 {
            assert!(Instant::now() < deadline, "the site did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        let article = json!({
            "title": "Van Lerarenregister naar Lerarenportfolio",
            "summary": "Wat de overstap voor leraren betekent.",
            "body": ARTICLE,
            "status": "published",
        });
        let (status, json) = site.api("POST", "/api/v1/articles", &article);
        assert_eq!(status, 201, "{json}");
        site.slug = json["slug"].as_str().unwrap().to_owned();
        site
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn article_url(&self) -> String {
        self.url(&format!("/artikelen/{}", self.slug))
    }

    /// (status, body) of one request on a fresh connection.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let (status, response) = net::request(&self.addr, method, path, headers, body.as_bytes());
        (status, net::body_of(&response).to_owned())
    }

    /// A JSON API call as the admin, without an Origin (a script, not a page).
    fn api(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let (status, text) = self.request(
            method,
            path,
            &[
                ("authorization", &format!("Bearer {}", self.token)),
                ("content-type", "application/json"),
            ],
            &body.to_string(),
        );
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A reaction posted through the API (held for moderation): its id.
    fn comment(&self, name: &str, body: &str, parent: Option<i64>) -> i64 {
        let email = format!("{}@example.nl", name.to_lowercase().replace(' ', "."));
        let comment = json!({ "author_name": name, "author_email": email, "body": body, "parent_id": parent });
        // As a reader: without the token, which would make it the editorial team's.
        let (status, text) = self.request(
            "POST",
            &format!("/api/v1/articles/{}/comments", self.slug),
            &[("content-type", "application/json")],
            &comment.to_string(),
        );
        assert_eq!(status, 201, "{text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        json["id"].as_i64().unwrap()
    }

    fn moderate(&self, id: i64, action: &str) {
        let (status, json) = self.api(
            "POST",
            &format!("/api/v1/comments/{id}/moderation"),
            &json!({ "action": action }),
        );
        assert_eq!(status, 200, "{json}");
    }

    /// An approved reaction: its id.
    fn approved(&self, name: &str, body: &str, parent: Option<i64>) -> i64 {
        let id = self.comment(name, body, parent);
        self.moderate(id, "approve");
        id
    }

    /// A discussion worth looking at: approved reactions with replies two deep, Markdown,
    /// a long link, and two reactions waiting in the queue (one a reply).
    fn with_thread(self) -> Self {
        let first = self.approved(
            "Marieke de Vries",
            "Goed dat het register er niet komt. Wie houdt het **portfolio** straks bij: \
             de school of de leraar zelf?",
            None,
        );
        let answer = self.approved(
            "Ahmed Yilmaz",
            "De leraar zelf, zo lees ik het. De school moet wel tijd geven om eraan te werken.",
            Some(first),
        );
        self.approved(
            "Marieke de Vries",
            "Dank je, dat scheelt. Dan vraag ik die tijd meteen aan bij de teamleider.",
            Some(answer),
        );
        self.approved(
            "Joris Bakker",
            "Wat gebeurt er met de gegevens die al in het register stonden? Zie \
             https://www.example.nl/een/heel/lang/pad/naar/een/document/over/het/lerarenregister/en/de/avg",
            None,
        );
        self.approved(
            "Fatima El Amrani",
            "> Leraren beslissen wie hun portfolio mag inzien.\n\nDat vind ik het \
             belangrijkste punt van het hele stuk.",
            None,
        );
        let pending = self.comment(
            "Sanne Visser",
            "Ik wacht nog op moderatie, maar wilde dit toch even kwijt.",
            None,
        );
        self.comment(
            "Pieter Jansen",
            "Een antwoord dat nog beoordeeld moet worden.",
            Some(first),
        );
        let _ = pending;
        self
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Logs `user` in through the login form, as a person would.
fn log_in(browser: &Browser, site: &Site, user: &str) {
    browser.goto(&site.url("/beheer/inloggen"));
    browser.type_into("//input[@name='username']", user);
    browser.type_into("//input[@name='password']", PASSWORD);
    browser.click("//form[@action='/beheer/inloggen']//button[@type='submit']");
    browser.wait_until(
        "location.pathname === '/beheer'",
        "the dashboard after logging in",
    );
}

/// The console errors and warnings the pages have logged since the last look (a CSP
/// violation is one), but for the 404 of a page the test meant to visit as one.
fn console_noise(browser: &Browser, expected_404: Option<&str>) -> Vec<String> {
    browser
        .console()
        .into_iter()
        .filter(|line| line.starts_with("SEVERE") || line.starts_with("WARNING"))
        .filter(|line| {
            expected_404.is_none_or(|url| {
                !line.contains(&format!(
                    "{url} - Failed to load resource: the server responded with a status of 404"
                ))
            })
        })
        .collect()
}

/// Fails on any console error or warning since the last look, naming them.
fn assert_quiet_console(browser: &Browser, what: &str) {
    let noise = console_noise(browser, None);
    assert!(noise.is_empty(), "{what}: the console says {noise:#?}");
}

/// Where screenshots go: `docs/screenshots/` when `KANTLIJN_UPDATE_SCREENSHOTS=1` (to
/// refresh the README's), else `target/screenshots/` so a test run leaves git clean.
fn screenshot_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = if std::env::var("KANTLIJN_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        root.join("docs/screenshots")
    } else {
        root.join("target/screenshots")
    };
    dir.join(format!("{name}.png"))
}

/// Swagger UI's "Try it out" on the site's own docs page posts a reaction, with
/// `KANTLIJN_CORS_ORIGINS` naming another origin: the browser sends `Origin` with the
/// POST, and the site's own origin is never refused. A page on another origin that is
/// not listed gets no CORS headers, so the browser keeps the answer from it.
#[test]
fn swagger_try_it_out_posts_from_the_sites_own_docs_with_cors_set() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[("KANTLIJN_CORS_ORIGINS", "https://partner.example")]);
    browser.goto(&site.url("/api/docs"));

    let operation =
        "//div[contains(@class,'opblock-post')][.//*[@data-path='/articles/{slug}/comments']]";
    browser.click(&format!("{operation}//*[@data-path]"));
    browser.click(&format!(
        "{operation}//button[contains(@class,'try-out__btn')]"
    ));
    browser.type_into(
        &format!("{operation}//input[@placeholder='slug']"),
        &site.slug,
    );
    let body = json!({ "author_name": "Docs Lezer", "author_email": "docs@example.nl", "body": "Geprobeerd vanuit de documentatie." });
    browser.replace_text(
        &format!("{operation}//textarea[contains(@class,'body-param__text')]"),
        &body.to_string(),
    );
    browser.click(&format!("{operation}//button[contains(@class,'execute')]"));
    let live = format!("{operation}//table[contains(@class,'live-responses-table')]//tbody");
    let status = browser.wait_text(&format!(
        "{live}//td[contains(@class,'response-col_status')]"
    ));
    let answer = browser.text(&format!(
        "{live}//td[contains(@class,'response-col_description')]"
    ));
    assert_eq!(status, "201", "Try it out answered {status}: {answer}");
    assert!(answer.contains("\"status\": \"pending\""), "{answer}");

    // The same server under another name is another origin, and not a listed one.
    browser.goto(&site.url("/"));
    let other = format!(
        "http://localhost:{}/api/v1/articles",
        site.addr.rsplit(':').next().unwrap()
    );
    let outcome = browser.run_async(&format!(
        "fetch({other:?}).then(r => 'read ' + r.status, e => 'blocked: ' + e.message)"
    ));
    assert!(
        outcome.starts_with("blocked"),
        "another origin could read the API: {outcome}"
    );
    let own = browser.run_async(
        "fetch('/api/v1/articles').then(r => 'read ' + r.status, e => 'blocked: ' + e.message)",
    );
    assert_eq!(own, "read 200");
}
