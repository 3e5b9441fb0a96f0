//! A real SMTP server on loopback for the mail tests: aiosmtpd from PyPI, run by
//! `smtpd.py` beside this file. The interpreter is `KANTLIJN_TEST_SMTPD_PYTHON` (what
//! `.ci/run` sets, a virtualenv with `smtpd-requirements.txt`), else `python3`. When
//! neither has aiosmtpd the mail tests skip with a note, and fail instead under
//! `KANTLIJN_REQUIRE_SMTP=1`.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// One SMTP server process, stopped and started again on the same port at will.
pub struct Smtpd {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    python: String,
}

fn python() -> Option<String> {
    let python = std::env::var("KANTLIJN_TEST_SMTPD_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_aiosmtpd = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_aiosmtpd {
        return Some(python);
    }
    let why = format!(
        "{python} has no aiosmtpd (pip install -r tests/support/smtpd-requirements.txt, or set KANTLIJN_TEST_SMTPD_PYTHON)"
    );
    if std::env::var("KANTLIJN_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
        panic!("KANTLIJN_REQUIRE_SMTP=1 but {why}");
    }
    eprintln!("skipped: {why}");
    None
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtpd.py")
}

impl Smtpd {
    /// A server on a free port; `None` (the test skips) when aiosmtpd is missing.
    pub fn start() -> Option<Self> {
        let python = python()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = Self {
            child: None,
            port,
            dir: tempfile::tempdir().unwrap(),
            python,
        };
        server.resume();
        Some(server)
    }

    /// What `KANTLIJN_SMTP_URL` is for this server.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Stops the server (the port refuses connections until [`Smtpd::resume`]).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on its port; what it received before stays readable.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the SMTP server already runs");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut child = Command::new(&self.python)
                .arg(script())
                .arg(self.port.to_string())
                .arg(self.dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start the SMTP server");
            let mut line = String::new();
            let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
            if line.trim() == "ready" {
                self.child = Some(child);
                return;
            }
            // The port may linger a moment after a stop.
            let _ = child.kill();
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "the SMTP server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| Received::read(&std::fs::read(f).unwrap()))
            .collect()
    }

    /// Waits until at least `count` messages arrived (panics after `within`), then
    /// returns them all; the site's tasks run meanwhile.
    #[allow(
        dead_code,
        reason = "not every test crate runs the site in its own runtime"
    )]
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(received) = self.arrived(count, deadline) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// [`Smtpd::wait_for`] for a test without a runtime (the site in another process).
    #[allow(
        dead_code,
        reason = "not every test crate runs the site in another process"
    )]
    pub fn wait_for_blocking(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(received) = self.arrived(count, deadline) {
                return received;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn arrived(&self, count: usize, deadline: Instant) -> Option<Vec<Received>> {
        let received = self.received();
        if received.len() >= count {
            return Some(received);
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} mails, got {}: {:?}",
            received.len(),
            received.iter().map(|m| &m.subject).collect::<Vec<_>>()
        );
        None
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A message as the server received it, decoded.
#[derive(Clone, Debug)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The message as it came over the wire.
    #[allow(dead_code, reason = "read when a test fails, in its output")]
    pub raw: String,
}

impl Received {
    fn read(file: &[u8]) -> Self {
        let newline = file.iter().position(|b| *b == b'\n').unwrap();
        let envelope: serde_json::Value = serde_json::from_slice(&file[..newline]).unwrap();
        let raw = &file[newline + 1..];
        let parsed = mailparse::parse_mail(raw).unwrap();
        let headers: Vec<(String, String)> = parsed
            .headers
            .iter()
            .map(|h| (h.get_key(), h.get_value()))
            .collect();
        let (mut text, mut html) = (String::new(), String::new());
        let mut parts = vec![&parsed];
        while let Some(part) = parts.pop() {
            match part.ctype.mimetype.as_str() {
                "text/plain" => text = part.get_body().unwrap(),
                "text/html" => html = part.get_body().unwrap(),
                _ => parts.extend(part.subparts.iter()),
            }
        }
        let subject = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("subject"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        Self {
            mail_from: envelope["mail_from"].as_str().unwrap().to_owned(),
            rcpt_to: envelope["rcpt_tos"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect(),
            headers,
            subject,
            text,
            html,
            raw: String::from_utf8_lossy(raw).into_owned(),
        }
    }

    /// The value of a header (the first, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every http(s) link in the plain text, in order.
    pub fn links(&self) -> Vec<String> {
        self.text
            .split_whitespace()
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(|w| w.trim_end_matches(['.', ',', ')', '>']).to_owned())
            .collect()
    }

    /// The first link in the plain text that contains `fragment`.
    #[track_caller]
    pub fn link_with(&self, fragment: &str) -> String {
        self.links()
            .into_iter()
            .find(|l| l.contains(fragment))
            .unwrap_or_else(|| panic!("no link with {fragment:?} in:\n{}", self.text))
    }
}
