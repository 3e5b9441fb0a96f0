//! Two real `kantlijn serve` processes on one PostgreSQL database and one Redis, behind
//! Debian's nginx on loopback (round robin, `X-Forwarded-For`, the instances trusting
//! 127.0.0.1 as their proxy), as `docs/deploy.md` sets them up. Checked and printed:
//! the reaction quota is shared (the 4th quick post from one address is refused,
//! whichever instance answers); an approval through one instance shows at once through
//! the other; Redis stopped mid-run costs no 5xx, limits fall back to each instance and
//! are shared again once it is back; SIGKILL of one instance under a write storm loses
//! nothing acknowledged and the other keeps serving.
//!
//! They need PostgreSQL, `redis-server` and `nginx`, so `cargo test` leaves them out
//! (`#[ignore]`); `.ci/run` runs them: `cargo test --test instances -- --ignored
//! --nocapture`. Redis is a server of the test's own on a free port (stopping it leaves
//! the machine's alone).

#[path = "../support/net.rs"]
mod net;
#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/storm.rs"]
mod storm;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use postgres::{drop_database, postgres_database};
use storm::{Tally, assert_all_found, gather};

/// The article every demo site has.
const ARTICLE: &str = kantlijn::demo::MAIN_ARTICLE_SLUG;
const METRICS_TOKEN: &str = "metrics-token-for-the-instances-test";

/// A child process, killed when dropped.
struct Process(Child);

impl Process {
    /// SIGKILL: no shutdown, no flush, as a crash or the OOM killer would.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Process {
    /// SIGTERM first: nginx's workers outlive a SIGKILLed master.
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }
}

fn wait_until(what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not come up");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A Redis of the test's own, keeping nothing on disk.
fn start_redis(port: u16) -> Process {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (Debian's redis-server package)");
    let addr = format!("127.0.0.1:{port}");
    wait_until("redis-server", || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    Process(child)
}

/// `kantlijn COMMAND` on `url`; its standard output.
fn kantlijn(dir: &Path, url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kantlijn"))
        .current_dir(dir)
        .args(args)
        .args(["--database-url", url])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kantlijn {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One instance: `command` (`demo` seeds the article, `serve` opens the site).
fn start_instance(dir: &Path, url: &str, command: &str, addr: &str, redis: &str) -> Process {
    let child = Command::new(env!("CARGO_BIN_EXE_kantlijn"))
        .current_dir(dir)
        .args([command, "--bind", addr, "--database-url", url])
        .args(["--secret-file", "site.secret"])
        .env("KANTLIJN_REDIS_URL", redis)
        .env("KANTLIJN_TRUSTED_PROXIES", "127.0.0.1")
        .env("KANTLIJN_METRICS_TOKEN", METRICS_TOKEN)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    wait_until("kantlijn", || {
        net::request(addr, "GET", "/healthz", &[], b"").0 == 200
    });
    Process(child)
}

/// nginx in front of `upstreams`, round robin, each answer naming the instance
/// (`X-Instance`); a POST goes to the other instance only when the first refused the
/// connection (nothing was sent), as nginx does by default.
fn start_nginx(dir: &Path, port: u16, upstreams: &[&str]) -> Process {
    let servers: String = upstreams
        .iter()
        .map(|u| format!("    server {u} max_fails=1 fail_timeout=2s;\n"))
        .collect();
    let root = dir.display();
    let conf = format!(
        "worker_processes 1;\nerror_log {root}/nginx-error.log;\npid {root}/nginx.pid;\n\
         daemon off;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n\
         \x20 client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n\
         \x20 upstream kantlijn {{\n{servers}  }}\n  server {{\n    listen 127.0.0.1:{port};\n\
         \x20   location / {{\n      proxy_pass http://kantlijn;\n\
         \x20     proxy_set_header Host $host;\n\
         \x20     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
         \x20     add_header X-Instance $upstream_addr always;\n    }}\n  }}\n}}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args([
            "-p",
            &root.to_string(),
            "-c",
            "nginx.conf",
            "-e",
            "nginx-error.log",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("nginx (Debian's nginx package)");
    let addr = format!("127.0.0.1:{port}");
    wait_until("nginx", || {
        net::request(&addr, "GET", "/healthz", &[], b"").0 == 200
    });
    Process(child)
}

/// What one answer said.
struct Answer {
    status: u16,
    /// The instance nginx passed the request to (empty when sent to one directly).
    instance: String,
    body: String,
}

fn send(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let (status, response) = net::request(addr, method, path, headers, body.as_bytes());
    let instance = response
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            l.strip_prefix("x-instance: ")
                .or(l.strip_prefix("X-Instance: "))
        })
        .unwrap_or("")
        .to_owned();
    Answer {
        status,
        instance,
        body: net::body_of(&response).to_owned(),
    }
}

/// A reaction posted through the API from `client` (an address nginx passes on).
fn post(addr: &str, client: &str, body: &str) -> Answer {
    let json = serde_json::json!({
        "author_name": "Lezer",
        "author_email": format!("{}@example.nl", client.replace(['.', ':'], "-")),
        "body": body,
    })
    .to_string();
    let headers = [
        ("content-type", "application/json"),
        ("x-forwarded-for", client),
    ];
    let path = format!("/api/v1/articles/{ARTICLE}/comments");
    send(addr, "POST", &path, &headers, &json)
}

fn id_of(answer: &Answer) -> i32 {
    let value: serde_json::Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("{e}: {:?} {}", answer.status, answer.body));
    i32::try_from(value["id"].as_i64().unwrap()).unwrap()
}

fn approve(addr: &str, token: &str, id: i32) {
    let auth = format!("Bearer {token}");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let path = format!("/api/v1/comments/{id}/moderation");
    let answer = send(addr, "POST", &path, &headers, r#"{"action":"approve"}"#);
    assert_eq!(answer.status, 200, "approving {id}: {}", answer.body);
}

/// Whether the instance at `addr` says its limits are shared through Redis.
fn shared(addr: &str) -> Option<bool> {
    let auth = format!("Bearer {METRICS_TOKEN}");
    let answer = send(addr, "GET", "/metrics", &[("authorization", &auth)], "");
    answer
        .body
        .lines()
        .find_map(|l| l.strip_prefix("kantlijn_rate_limits_shared "))
        .map(|v| v.trim() == "1")
}

/// Four quick posts from one new address; their statuses, each with the instance that
/// answered.
fn four_posts(addr: &str, client: &str) -> Vec<(u16, String)> {
    (1..=4)
        .map(|n| {
            let answer = post(addr, client, &format!("Snel achter elkaar, nummer {n}."));
            (answer.status, answer.instance)
        })
        .collect()
}

/// Posters through nginx, each post from an address of its own (the quota is not what
/// this measures), and readers of the article page, until `stop`: every status, when.
fn storm(addr: &str, stop: &Arc<AtomicBool>, writers: usize) -> Vec<thread::JoinHandle<Tally>> {
    (0..writers)
        .map(|writer| {
            let (addr, stop) = (addr.to_owned(), Arc::clone(stop));
            thread::spawn(move || {
                let mut tally = Tally::default();
                let mut n: u32 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let client = format!("10.{writer}.{}.{}", n / 250, n % 250 + 1);
                    let body = format!("Storm {writer}-{n}: dit mag niet verloren gaan.");
                    let answer = post(&addr, &client, &body);
                    tally.answers.push((Instant::now(), answer.status));
                    if answer.status == 201 {
                        tally.acknowledged.insert(id_of(&answer), body);
                    }
                    if n.is_multiple_of(4) {
                        let page = send(&addr, "GET", &format!("/artikelen/{ARTICLE}"), &[], "");
                        tally.answers.push((Instant::now(), page.status));
                    }
                }
                tally
            })
        })
        .collect()
}

fn statuses(answers: &[(Instant, u16)]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for (_, status) in answers {
        *counts.entry(*status).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL, redis-server and nginx: .ci/run runs it with --ignored"]
async fn two_instances_behind_nginx_share_limits_and_changes() {
    let Some((admin, url)) = postgres_database("instances").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let redis_port = net::free_port();
    let mut redis = start_redis(redis_port);
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let one = format!("127.0.0.1:{}", net::free_port());
    let two = format!("127.0.0.1:{}", net::free_port());
    let mut first = start_instance(dir.path(), &url, "demo", &one, &redis_url);
    let second = start_instance(dir.path(), &url, "serve", &two, &redis_url);
    let proxy = format!("127.0.0.1:{}", net::free_port());
    let proxy_port = proxy.rsplit(':').next().unwrap().parse().unwrap();
    let nginx = start_nginx(dir.path(), proxy_port, &[&one, &two]);
    kantlijn(
        dir.path(),
        &url,
        &["user", "add", "moderator", "--role", "moderator"],
    );
    let created = kantlijn(dir.path(), &url, &["token", "create", "moderator"]);
    let token = created.lines().last().unwrap().trim().to_owned();
    assert_eq!(shared(&one), Some(true), "instance one shares its limits");
    assert_eq!(shared(&two), Some(true), "instance two shares its limits");

    // 1. One quota across both instances.
    let posts = four_posts(&proxy, "198.51.100.7");
    println!("shared limit: four quick posts from one address through nginx: {posts:?}");
    let codes: Vec<u16> = posts.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes, [201, 201, 201, 429], "the 4th post is refused");
    let answered: BTreeSet<&str> = posts.iter().map(|(_, i)| i.as_str()).collect();
    assert_eq!(answered.len(), 2, "both instances answered: {answered:?}");

    // 2. An approval through one shows at once through the other: the writer's
    // notification is committed before it answers, so the other instance has it by its
    // next request. That is an ordering, not a lock, so a loaded machine could lose it
    // by a moment: those rounds are counted and printed, and fail only past a second.
    let rounds = 10;
    let mut next_request = 0;
    let mut slowest = Duration::ZERO;
    for round in 0..rounds {
        let (writer, reader) = if round % 2 == 0 {
            (&one, &two)
        } else {
            (&two, &one)
        };
        let text = format!("Zichtbaarheid ronde {round} zonder omweg.");
        let posted = post(&proxy, &format!("192.0.2.{}", round + 1), &text);
        assert_eq!(posted.status, 201, "{}", posted.body);
        let id = id_of(&posted);
        let page = format!("/artikelen/{ARTICLE}");
        let before = send(reader, "GET", &page, &[], "");
        assert!(before.status == 200 && !before.body.contains(&text));
        approve(writer, &token, id);
        let approved = Instant::now();
        if send(reader, "GET", &page, &[], "").body.contains(&text) {
            next_request += 1;
            continue;
        }
        while !send(reader, "GET", &page, &[], "").body.contains(&text) {
            assert!(
                approved.elapsed() < Duration::from_secs(1),
                "round {round}: approved through {writer}, still not shown through {reader} after a second"
            );
            thread::sleep(Duration::from_millis(2));
        }
        slowest = slowest.max(approved.elapsed());
    }
    println!(
        "visibility: {next_request} of {rounds} approvals through one instance showed through the \
         other on its next request{}",
        if next_request == rounds {
            String::new()
        } else {
            format!(", the others within {slowest:?}")
        }
    );

    // 3. Redis stopped mid-run: no 5xx, limits per instance, shared again once back.
    let stop = Arc::new(AtomicBool::new(false));
    let load = storm(&proxy, &stop, 2);
    thread::sleep(Duration::from_millis(300));
    redis.kill();
    let alone = four_posts(&one, "198.51.100.20");
    println!("Redis down: four quick posts to instance one alone: {alone:?}");
    let codes: Vec<u16> = alone.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        codes,
        [201, 201, 201, 429],
        "limits fall back to the instance"
    );
    let through = four_posts(&proxy, "198.51.100.21");
    println!("Redis down: four quick posts through nginx: {through:?}");
    // (Round robin shares its turns with the load, so which instance counts which post
    // is not fixed here; only that nothing failed.)
    assert!(through.iter().all(|(s, _)| *s < 500), "no 5xx: {through:?}");
    assert_eq!(shared(&one), Some(false));
    assert_eq!(shared(&two), Some(false));
    let _redis = start_redis(redis_port);
    let back = Instant::now();
    wait_until("shared limits", || {
        shared(&one) == Some(true) && shared(&two) == Some(true)
    });
    println!(
        "Redis back: both instances share their limits again after {:?}",
        back.elapsed()
    );
    stop.store(true, Ordering::Relaxed);
    let tally = gather(load);
    let counts = statuses(&tally.answers);
    println!("Redis down and back, under load: statuses {counts:?}");
    assert!(counts.keys().all(|s| *s < 500), "no 5xx: {counts:?}");
    let again = four_posts(&proxy, "198.51.100.22");
    println!("Redis back: four quick posts through nginx: {again:?}");
    let codes: Vec<u16> = again.iter().map(|(s, _)| *s).collect();
    assert_eq!(codes, [201, 201, 201, 429], "the quota is shared again");

    // 4. SIGKILL of one instance under a write storm.
    let stop = Arc::new(AtomicBool::new(false));
    let writers = storm(&proxy, &stop, 8);
    thread::sleep(Duration::from_millis(2000));
    let killed_at = Instant::now();
    first.kill();
    thread::sleep(Duration::from_millis(2000));
    stop.store(true, Ordering::Relaxed);
    let tally = gather(writers);
    let settled = killed_at + Duration::from_millis(500);
    let after: Vec<(Instant, u16)> = tally
        .answers
        .iter()
        .filter(|(at, _)| *at > settled)
        .copied()
        .collect();
    let before_counts = statuses(&tally.answers);
    let after_counts = statuses(&after);
    println!(
        "SIGKILL of instance one mid-storm: statuses {before_counts:?}; from 0.5 s after \
         the kill {after_counts:?}; {} reactions acknowledged",
        tally.acknowledged.len()
    );
    assert!(
        after_counts.get(&201).copied().unwrap_or(0) > 0,
        "instance two keeps serving"
    );
    assert!(
        after_counts.keys().all(|s| *s < 500),
        "no errors once nginx knows: {after_counts:?}"
    );

    assert_all_found(&url, "two instances, one SIGKILLed mid-storm", &tally).await;
    // The servers first, so that none is left listening to a database that is gone.
    drop((nginx, second));
    drop_database(&admin, &url).await;
}
