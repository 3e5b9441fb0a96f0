//! The site in a real browser: headless Chromium driven through ChromeDriver's WebDriver
//! protocol, against the release-like binary on 127.0.0.1.
//!
//! Needs `chromium` and `chromium-driver` (Debian). Without them every test here says so
//! and passes, unless `KANTLIJN_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them)
//! makes that a failure.

#[path = "../support/net.rs"]
mod net;
mod webdriver;

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use webdriver::Browser;

/// The binary serving a fresh SQLite site, with an editor's API token and one article.
struct Site {
    child: Child,
    addr: String,
    slug: String,
    _dir: tempfile::TempDir,
}

impl Site {
    fn start(env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("site.db").display());
        let binary = env!("CARGO_BIN_EXE_kantlijn");
        let token = Command::new(binary)
            .args([
                "user",
                "add",
                "redactie",
                "--role",
                "editor",
                "--database-url",
                &url,
            ])
            .output()
            .unwrap();
        assert!(token.status.success());
        let token = Command::new(binary)
            .args(["token", "create", "redactie", "--database-url", &url])
            .output()
            .unwrap();
        let token = String::from_utf8(token.stdout).unwrap();
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
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while site.request("GET", "/healthz", &[], "").0 != 200 {
            assert!(Instant::now() < deadline, "the site did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        // No Origin header at all: a script or a server calling the API.
        let article = json!({ "title": "De docs proberen", "body": "Een artikel om op te reageren.", "status": "published" });
        let (status, body) = site.request(
            "POST",
            "/api/v1/articles",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("content-type", "application/json"),
            ],
            &article.to_string(),
        );
        assert_eq!(status, 201, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        site.slug = json["slug"].as_str().unwrap().to_owned();
        site
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
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
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
