//! Just enough of the W3C WebDriver protocol to drive ChromeDriver over loopback HTTP:
//! open a page, find elements by XPath, click, type, read text, run a script.

use std::{
    cell::Cell,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const PATIENCE: Duration = Duration::from_secs(20);

pub struct Browser {
    /// The screen the pages are shown on: width, height (CSS pixels), a phone's or not.
    screen: Cell<(u32, u32, bool)>,
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

/// Whether the pages' own scripts run: a reader may have switched JavaScript off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scripts {
    On,
    Off,
}

impl Browser {
    /// Headless Chromium, or `None` (with a note) when it is not installed.
    pub fn start() -> Option<Self> {
        Self::start_with(Scripts::On)
    }

    /// Headless Chromium with the page's JavaScript on or off (WebDriver's own scripts
    /// still run), or `None` when it is not installed.
    pub fn start_with(scripts: Scripts) -> Option<Self> {
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let driver = ["/usr/bin/chromedriver"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            assert!(
                std::env::var("KANTLIJN_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "KANTLIJN_REQUIRE_BROWSER=1 but chromium or chromedriver is missing \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!("skipped: chromium and chromium-driver are not installed");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Self {
            screen: Cell::new((1280, 2000, false)),
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + PATIENCE;
        while browser
            .http("GET", "/status", None)
            .is_none_or(|v| v["value"]["ready"] != true)
        {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        // 2 is "block" in Chromium's content settings.
        let javascript = if scripts == Scripts::On { 1 } else { 2 };
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "prefs": { "profile.managed_default_content_settings.javascript": javascript },
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,2000",
                    format!("--user-data-dir={}", browser._profile.path().display()),
                ],
            },
        }}});
        let session = browser.call("POST", "/session", Some(capabilities));
        browser.session = session["sessionId"].as_str().unwrap().to_owned();
        Some(browser)
    }

    pub fn goto(&self, url: &str) {
        self.session_call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Clicks the element once it is there and clickable.
    pub fn click(&self, xpath: &str) {
        self.retry(xpath, |element| {
            self.try_session_call(
                "POST",
                &format!("/element/{element}/click"),
                Some(json!({})),
            )
        });
    }

    /// Types `text` into the element.
    pub fn type_into(&self, xpath: &str, text: &str) {
        self.retry(xpath, |element| {
            self.try_session_call(
                "POST",
                &format!("/element/{element}/value"),
                Some(json!({ "text": text })),
            )
        });
    }

    /// Selects all of the field's text and types `text` over it, as a person would.
    pub fn replace_text(&self, xpath: &str, text: &str) {
        // Ctrl+A, Delete: key events, which React's onChange sees (unlike a clear()).
        self.type_into(xpath, "\u{E009}a\u{E009}\u{E017}");
        self.type_into(xpath, text);
    }

    /// The element's text once it has some.
    pub fn wait_text(&self, xpath: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(element) = self.find(xpath) {
                let text = self.session_call("GET", &format!("/element/{element}/text"), None);
                let text = text.as_str().unwrap_or("").trim().to_owned();
                if !text.is_empty() {
                    return text;
                }
            }
            assert!(Instant::now() < deadline, "no text in {xpath}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, xpath: &str) -> String {
        self.wait_text(xpath)
    }

    /// Runs `expression` (a promise or a value) in the page; its result as a string.
    pub fn run_async(&self, expression: &str) -> String {
        let script = format!(
            "const done = arguments[arguments.length - 1];
             Promise.resolve({expression}).then(v => done(String(v)), e => done('error: ' + e));"
        );
        let value = self.session_call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        );
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; its result.
    pub fn run(&self, script: &str, args: Value) -> Value {
        self.session_call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Waits until `expression` is truthy in the page; panics with `what` otherwise.
    pub fn wait_until(&self, expression: &str, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.run(&format!("return !!({expression});"), json!([])) != json!(true) {
            assert!(Instant::now() < deadline, "waited in vain: {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page's address, without the origin.
    pub fn path(&self) -> String {
        self.run(
            "return location.pathname + location.search + location.hash;",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    pub fn count(&self, xpath: &str) -> usize {
        self.session_call(
            "POST",
            "/elements",
            Some(json!({ "using": "xpath", "value": xpath })),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    /// The `id` of the element that has the keyboard focus ("" for none).
    pub fn focused_id(&self) -> String {
        self.run(
            "return document.activeElement ? document.activeElement.id : '';",
            json!([]),
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Presses and releases each key in turn, wherever the focus is, as a keyboard would.
    pub fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|key| {
                [
                    json!({ "type": "keyDown", "value": key.to_string() }),
                    json!({ "type": "keyUp", "value": key.to_string() }),
                ]
            })
            .collect();
        self.session_call(
            "POST",
            "/actions",
            Some(json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })),
        );
    }

    /// A Chrome DevTools Protocol command, through ChromeDriver.
    pub fn devtools(&self, command: &str, params: Value) -> Value {
        self.session_call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({ "cmd": command, "params": params })),
        )
    }

    /// Shows pages as a screen of `width` CSS pixels would (a phone's when `mobile`).
    pub fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.screen.set((width, height, mobile));
        self.devtools(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
        );
    }

    /// `prefers-color-scheme: dark` or `light`, as the reader's system would say.
    pub fn color_scheme(&self, scheme: &str) {
        self.devtools(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        );
    }

    /// The console messages since the last call (errors, CSP violations, warnings) as
    /// "LEVEL message" lines.
    pub fn console(&self) -> Vec<String> {
        let entries = self.session_call("POST", "/se/log", Some(json!({ "type": "browser" })));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| format!("{} {}", e["level"].as_str().unwrap_or("?"), e["message"]))
            .collect()
    }

    /// A PNG of the whole page at `path`, taken on a screen as tall as the page (so what
    /// sticks to the screen's bottom is shown at the page's).
    pub fn screenshot(&self, path: &Path) {
        let (width, height, mobile) = self.screen.get();
        let page = self.run("return document.documentElement.scrollHeight;", json!([]));
        let page = page
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(height);
        self.viewport(width, page.max(height), mobile);
        self.capture(path, json!({ "format": "png" }));
        self.viewport(width, height, mobile);
    }

    /// A PNG of the element `selector` (CSS) finds, with a little room around it.
    pub fn screenshot_of(&self, selector: &str, path: &Path) {
        let clip = self.run(
            "const box = document.querySelector(arguments[0]).getBoundingClientRect();
             const room = 8;
             return { x: Math.max(0, box.left + scrollX - room), y: Math.max(0, box.top + scrollY - room),
                      width: box.width + 2 * room, height: box.height + 2 * room, scale: 1 };",
            json!([selector]),
        );
        self.capture(
            path,
            json!({ "format": "png", "captureBeyondViewport": true, "clip": clip }),
        );
    }

    fn capture(&self, path: &Path, params: Value) {
        let shot = self.devtools("Page.captureScreenshot", params);
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            shot["data"].as_str().unwrap(),
        )
        .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    fn find(&self, xpath: &str) -> Option<String> {
        let found = self
            .try_session_call(
                "POST",
                "/element",
                Some(json!({ "using": "xpath", "value": xpath })),
            )
            .ok()?;
        found[ELEMENT].as_str().map(str::to_owned)
    }

    /// Finds the element and acts on it until that works or patience runs out (Swagger UI
    /// renders as it goes; an element can be there before it can be clicked).
    fn retry(&self, xpath: &str, act: impl Fn(&str) -> Result<Value, String>) {
        let deadline = Instant::now() + PATIENCE;
        let mut last = String::from("not found");
        loop {
            if let Some(element) = self.find(xpath) {
                match act(&element) {
                    Ok(_) => return,
                    Err(err) => last = err,
                }
            }
            assert!(Instant::now() < deadline, "{xpath}: {last}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_session_call(method, path, body)
            .unwrap_or_else(|err| panic!("WebDriver {method} {path}: {err}"))
    }

    fn try_session_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let answer = self
            .http(method, &path, body)
            .ok_or("no answer from chromedriver")?;
        match answer["value"].get("error") {
            Some(error) => Err(format!("{error}: {}", answer["value"]["message"])),
            None => Ok(answer["value"].clone()),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let answer = self
            .http(method, path, body)
            .unwrap_or_else(|| panic!("no answer from chromedriver to {method} {path}"));
        assert!(
            answer["value"].get("error").is_none(),
            "{method} {path}: {answer}"
        );
        answer["value"].clone()
    }

    /// One request to chromedriver; its JSON answer.
    fn http(&self, method: &str, path: &str, body: Option<Value>) -> Option<Value> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .ok()?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        // ChromeDriver keeps the connection open whatever the request says: read the
        // head, then exactly Content-Length bytes (it writes `Content-Length:251`).
        let mut response = Vec::new();
        let mut buffer = [0u8; 8192];
        let (head_len, body_len) = loop {
            let read = stream.read(&mut buffer).ok()?;
            if read == 0 {
                return None;
            }
            response.extend_from_slice(&buffer[..read]);
            let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())?;
            break (end + 4, length);
        };
        while response.len() < head_len + body_len {
            let read = stream.read(&mut buffer).ok()?;
            if read == 0 {
                return None;
            }
            response.extend_from_slice(&buffer[..read]);
        }
        serde_json::from_slice(&response[head_len..head_len + body_len]).ok()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = self.http("DELETE", &path, None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
