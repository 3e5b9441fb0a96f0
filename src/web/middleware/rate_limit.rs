//! Per-action rate limits with governor, keyed by client address (IPv6 by /64) and, for
//! logins, also by username. Quotas change at run time; keyed state is pruned so a flood
//! of new addresses cannot grow memory without bound. With `KANTLIJN_REDIS_URL` the same
//! buckets live in Redis, shared by every instance ([`shared`]); these local limiters
//! then count only while Redis is down or slow.

mod shared;

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex, PoisonError, RwLock},
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota as GovernorQuota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use poem::{
    Endpoint, FromRequest, IntoResponse, Request, RequestBody, Response, Result, http::Method,
};

pub use crate::domain::limits::{Action, Mode, Quota, Quotas};
use crate::{
    app::{self, Surface},
    config::RedisSettings,
    error::AppError,
    web::middleware::client_ip::{ClientIp, limit_key},
};

fn governor_quota(quota: Quota) -> GovernorQuota {
    let period = Duration::from_micros(60_000_000 / u64::from(quota.per_minute));
    // Both are at least 1 (`Quota::new`); the fallbacks only keep this total.
    let burst = NonZeroU32::new(quota.burst).unwrap_or(NonZeroU32::MIN);
    GovernorQuota::with_period(period.max(Duration::from_micros(1)))
        .unwrap_or_else(|| GovernorQuota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

/// How long to wait before trying again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub u64);

/// Set on a request that is over quota but whose handler answers itself (the reaction
/// and login forms re-render with the reader's input kept).
#[derive(Clone, Copy, Debug)]
pub struct Throttled(pub RetryAfter);

/// Set on a form POST that carries its route's preview field: it was counted as a
/// preview, so its handler must show one and store nothing. Decided here, once, so the
/// limit it was counted under and what the handler does can never disagree.
#[derive(Clone, Copy, Debug)]
struct PreviewRequested;

/// What the limiter left for a form handler that answers itself: whether the request is
/// over quota, and whether it was counted as a preview (see [`app::RouteClass`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct FormLimit {
    pub throttled: Option<RetryAfter>,
    pub preview: bool,
}

impl<'a> FromRequest<'a> for FormLimit {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> Result<Self> {
        Ok(Self {
            throttled: req.extensions().get::<Throttled>().map(|t| t.0),
            preview: req.extensions().get::<PreviewRequested>().is_some(),
        })
    }
}

/// One keyed limiter per quota, plus refunds for requests that ended in a server error.
struct Keyed<K: Hash + Eq + Clone> {
    quota: Quota,
    limiter: DefaultKeyedRateLimiter<K>,
    refunds: Mutex<HashMap<K, u32>>,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(quota: Quota) -> Self {
        Self {
            quota,
            limiter: RateLimiter::keyed(governor_quota(quota)),
            refunds: Mutex::new(HashMap::new()),
        }
    }

    fn check(&self, key: &K) -> Result<(), RetryAfter> {
        {
            let mut refunds = self.refunds.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(credit) = refunds.get_mut(key) {
                *credit -= 1;
                if *credit == 0 {
                    refunds.remove(key);
                }
                return Ok(());
            }
        }
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            RetryAfter(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(RetryAfter(1))
        })
    }

    fn refund(&self, key: K) {
        let mut refunds = self.refunds.lock().unwrap_or_else(PoisonError::into_inner);
        // A refund is a courtesy; never let the map itself become a memory hole.
        if refunds.len() < 100_000 {
            *refunds.entry(key).or_default() += 1;
        }
    }

    fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
        self.refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn len(&self) -> usize {
        self.limiter.len()
    }
}

struct Set {
    by_ip: HashMap<Action, Arc<Keyed<IpAddr>>>,
    login_by_name: Arc<Keyed<String>>,
}

impl Set {
    /// Limiters for `quotas`, reusing (with their state) those of `old` whose quota
    /// did not change.
    fn new(quotas: &Quotas, old: Option<&Set>) -> Self {
        let by_ip = Action::ALL
            .into_iter()
            .map(|action| {
                let quota = quotas.get(action);
                let kept = old
                    .map(|o| &o.by_ip[&action])
                    .filter(|keyed| keyed.quota == quota)
                    .map(Arc::clone);
                (action, kept.unwrap_or_else(|| Arc::new(Keyed::new(quota))))
            })
            .collect();
        let login = quotas.get(Action::Login);
        let login_by_name = old
            .map(|o| &o.login_by_name)
            .filter(|keyed| keyed.quota == login)
            .map_or_else(|| Arc::new(Keyed::new(login)), Arc::clone);
        Self {
            by_ip,
            login_by_name,
        }
    }
}

/// The Redis key of `action`'s bucket for `ip` (an IPv6 key is its /64) under `quota`.
/// The quota is part of the key, so a changed quota starts fresh buckets, as the local
/// limiters do; the old ones expire.
fn ip_key(prefix: &str, action: Action, quota: Quota, ip: IpAddr) -> String {
    let (burst, per_minute) = (quota.burst, quota.per_minute);
    let action = action.as_str();
    match ip {
        IpAddr::V4(v4) => format!("{prefix}:{action}:{burst}-{per_minute}:{v4}"),
        IpAddr::V6(v6) => format!("{prefix}:{action}:{burst}-{per_minute}:{v6}/64"),
    }
}

/// The Redis key of the login bucket of `name` (trimmed, lowercase). A name that no
/// account could have is hashed, so that a flood of long made-up names stays small.
fn name_key(prefix: &str, quota: Quota, name: &str) -> String {
    let (burst, per_minute) = (quota.burst, quota.per_minute);
    let plain = name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if plain {
        format!("{prefix}:login-name:{burst}-{per_minute}:{name}")
    } else {
        use sha2::Digest;
        let digest = hex::encode(&sha2::Sha256::digest(name.as_bytes())[..16]);
        format!("{prefix}:login-name:{burst}-{per_minute}:#{digest}")
    }
}

/// All limiters of the site.
pub struct Limiters {
    mode: Mode,
    set: RwLock<Arc<Set>>,
    /// Redis, when the limits are shared with other instances.
    shared: Option<shared::Shared>,
}

impl Limiters {
    /// Limiters of this instance alone.
    pub fn new(mode: Mode, quotas: &Quotas) -> Self {
        Self {
            mode,
            set: RwLock::new(Arc::new(Set::new(quotas, None))),
            shared: None,
        }
    }

    /// Limiters that count in Redis, shared with every instance that uses it, and locally
    /// while Redis does not answer. Must be made on the tokio runtime; connects lazily.
    pub fn shared(mode: Mode, quotas: &Quotas, redis: &RedisSettings) -> Self {
        let mut limiters = Self::new(mode, quotas);
        match shared::Shared::new(redis) {
            Ok(shared) => limiters.shared = Some(shared),
            Err(err) => tracing::error!(
                redis = redis.shown(),
                %err,
                "cannot use Redis: this instance limits on its own"
            ),
        }
        limiters
    }

    /// Whether the limits are shared through Redis right now (it answered last time).
    pub fn is_shared(&self) -> bool {
        self.shared.as_ref().is_some_and(shared::Shared::is_shared)
    }

    /// Says in the log whether the limits are shared, asking Redis once: at start-up.
    pub async fn announce(&self) {
        match &self.shared {
            None => tracing::info!(
                "rate limits: this instance limits on its own (KANTLIJN_REDIS_URL is unset)"
            ),
            Some(shared) => shared.ping().await,
        }
    }

    fn current(&self) -> Arc<Set> {
        Arc::clone(&self.set.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Counts one request of `action` from `ip` (and, for logins, for `username`): in
    /// Redis when it answers in time, else locally.
    pub async fn check(
        &self,
        action: Action,
        ip: IpAddr,
        username: Option<&str>,
    ) -> Result<(), RetryAfter> {
        if !self.mode.applies(action) {
            return Ok(());
        }
        let set = self.current();
        let by_ip = &set.by_ip[&action];
        self.count(by_ip, &ip, |prefix| ip_key(prefix, action, by_ip.quota, ip))
            .await?;
        if let Some(name) = username.filter(|_| action == Action::Login) {
            let name = name.trim().to_lowercase();
            let by_name = &set.login_by_name;
            self.count(by_name, &name, |prefix| {
                name_key(prefix, by_name.quota, &name)
            })
            .await?;
        }
        Ok(())
    }

    /// One request against `keyed`'s bucket for `key`: in Redis (under the key that
    /// `redis_key` makes of the prefix) when it answers in time, else locally.
    async fn count<K: Hash + Eq + Clone>(
        &self,
        keyed: &Keyed<K>,
        key: &K,
        redis_key: impl FnOnce(&str) -> String,
    ) -> Result<(), RetryAfter> {
        let shared = match &self.shared {
            Some(shared) => shared.check(redis_key, keyed.quota).await,
            None => None,
        };
        shared.unwrap_or_else(|| keyed.check(key))
    }

    /// Gives back the request a server error used up.
    pub async fn refund(&self, action: Action, ip: IpAddr) {
        if !self.mode.applies(action) {
            return;
        }
        let set = self.current();
        let by_ip = &set.by_ip[&action];
        if let Some(shared) = &self.shared
            && shared
                .refund(
                    |prefix| ip_key(prefix, action, by_ip.quota, ip),
                    by_ip.quota,
                )
                .await
        {
            return;
        }
        by_ip.refund(ip);
    }

    /// Applies new quotas; limiters whose quota did not change keep their state.
    pub fn set_quotas(&self, quotas: &Quotas) {
        let mut guard = self.set.write().unwrap_or_else(PoisonError::into_inner);
        let fresh = Set::new(quotas, Some(&guard));
        *guard = Arc::new(fresh);
    }

    /// Drops keys whose limits have fully recovered and returns the memory.
    pub fn prune(&self) {
        let set = self.current();
        for keyed in set.by_ip.values() {
            keyed.prune();
        }
        set.login_by_name.prune();
    }

    /// How many keys are tracked in all limiters together.
    pub fn key_count(&self) -> usize {
        let set = self.current();
        set.by_ip.values().map(|k| k.len()).sum::<usize>() + set.login_by_name.len()
    }
}

/// The limiter middleware: over quota answers 429 with `Retry-After`, except for the
/// reaction, login and privacy forms (and the reaction form's preview), whose handlers
/// re-render with the input kept.
pub async fn limit<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    let state = app::state_of(&req)?.clone();
    let class = app::class_of_request(&req);
    let post = req.method() == Method::POST;
    let wanted: Vec<&str> = [
        (class.limit(req.method(), false) == Action::Login).then_some("username"),
        class.preview_field.filter(|_| post),
    ]
    .into_iter()
    .flatten()
    .collect();
    let fields = if wanted.is_empty() {
        Vec::new()
    } else {
        form_fields(&mut req, &wanted).await?
    };
    let previewing = class
        .preview_field
        .is_some_and(|field| fields.iter().any(|(k, _)| k == field));
    if previewing {
        req.extensions_mut().insert(PreviewRequested);
    }
    let action = class.limit(req.method(), previewing);
    let ip = limit_key(ClientIp::of(&req, &state.settings.trusted_proxies).0);
    let username = (action == Action::Login)
        .then(|| fields.iter().find(|(k, _)| k == "username"))
        .flatten()
        .map(|(_, v)| v.as_str());
    if let Err(retry) = state.limiters.check(action, ip, username).await {
        state.metrics.rate_limited(action);
        let html_form = (previewing
            || matches!(action, Action::Login | Action::Reaction | Action::Privacy))
            && class.surface == Surface::Page;
        if !html_form {
            return Err(AppError::RateLimited(retry.0).into());
        }
        req.extensions_mut().insert(Throttled(retry));
    }
    let result = next.call(req).await.map(IntoResponse::into_response);
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.status(),
    };
    if status.is_server_error() {
        state.limiters.refund(action, ip).await;
    }
    result
}

/// The first value of each of `names` in a form body, which is put back for the handler.
async fn form_fields(req: &mut Request, names: &[&str]) -> Result<Vec<(String, String)>> {
    let bytes = req.take_body().into_vec().await?;
    let mut found: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(&bytes) {
        if names.contains(&key.as_ref()) && !found.iter().any(|(k, _)| *k == key) {
            found.push((key.into_owned(), value.into_owned()));
        }
    }
    req.set_body(bytes);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(n))
    }

    /// Three reactions from one address pass, the fourth is refused with a Retry-After.
    async fn three_reactions_then_refused(limiters: &Limiters) {
        for _ in 0..3 {
            assert!(limiters.check(Action::Reaction, ip(1), None).await.is_ok());
        }
        let retry = limiters
            .check(Action::Reaction, ip(1), None)
            .await
            .unwrap_err();
        assert!((1..=30).contains(&retry.0), "{retry:?}");
    }

    #[tokio::test]
    async fn burst_then_refused_with_retry_after() {
        let limiters = Limiters::new(Mode::On, &Quotas::default());
        three_reactions_then_refused(&limiters).await;
        assert!(
            limiters.check(Action::Reaction, ip(2), None).await.is_ok(),
            "other addresses are not affected"
        );
    }

    #[tokio::test]
    async fn refunds_give_back_what_server_errors_used() {
        let limiters = Limiters::new(Mode::On, &one_a_minute());
        assert!(limiters.check(Action::Other, ip(1), None).await.is_ok());
        limiters.refund(Action::Other, ip(1)).await;
        assert!(limiters.check(Action::Other, ip(1), None).await.is_ok());
        assert!(limiters.check(Action::Other, ip(1), None).await.is_err());
    }

    #[tokio::test]
    async fn login_counts_per_username_across_addresses() {
        let limiters = Limiters::new(Mode::On, &Quotas::default());
        for n in 0..5 {
            assert!(
                limiters
                    .check(Action::Login, ip(n), Some("anna"))
                    .await
                    .is_ok()
            );
        }
        assert!(
            limiters
                .check(Action::Login, ip(99), Some("Anna "))
                .await
                .is_err()
        );
        assert!(
            limiters
                .check(Action::Login, ip(98), Some("bert"))
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn modes_switch_limits_off() {
        let tiny = Quotas(
            Action::ALL
                .into_iter()
                .map(|a| {
                    (
                        a,
                        Quota {
                            burst: 1,
                            per_minute: 1,
                        },
                    )
                })
                .collect(),
        );
        let off = Limiters::new(Mode::Off, &tiny);
        for _ in 0..5 {
            assert!(off.check(Action::Reaction, ip(1), None).await.is_ok());
        }
        assert!(off.check(Action::Login, ip(1), None).await.is_ok());
        assert!(
            off.check(Action::Login, ip(1), None).await.is_err(),
            "the login limit stays on"
        );
        let none = Limiters::new(Mode::OffIncludingLogin, &tiny);
        for _ in 0..5 {
            assert!(none.check(Action::Login, ip(1), None).await.is_ok());
        }
    }

    #[tokio::test]
    async fn changing_a_quota_keeps_the_state_of_the_others() {
        let limiters = Limiters::new(Mode::On, &Quotas::default());
        for _ in 0..3 {
            limiters.check(Action::Reaction, ip(1), None).await.unwrap();
        }
        let mut quotas = Quotas::default();
        quotas.0.insert(
            Action::Preview,
            Quota {
                burst: 1,
                per_minute: 1,
            },
        );
        limiters.set_quotas(&quotas);
        assert!(
            limiters.check(Action::Reaction, ip(1), None).await.is_err(),
            "reaction state survived"
        );
        quotas.0.insert(
            Action::Reaction,
            Quota {
                burst: 10,
                per_minute: 10,
            },
        );
        limiters.set_quotas(&quotas);
        assert!(
            limiters.check(Action::Reaction, ip(1), None).await.is_ok(),
            "a new reaction quota applies"
        );
    }

    #[tokio::test]
    async fn a_million_addresses_are_pruned_back_to_nothing() {
        // A quota that recovers in a microsecond, so every key is stale right after.
        let quotas = Quotas(
            [(
                Action::Other,
                Quota {
                    burst: 1,
                    per_minute: Quota::MAX_PER_MINUTE,
                },
            )]
            .into_iter()
            .collect(),
        );
        let limiters = Limiters::new(Mode::On, &quotas);
        for n in 0..1_000_000u32 {
            let _ = limiters.check(Action::Other, ip(n), None).await;
        }
        assert_eq!(limiters.key_count(), 1_000_000);
        std::thread::sleep(Duration::from_millis(5));
        limiters.prune();
        eprintln!(
            "rate-limit keys: 1000000 before pruning, {} after",
            limiters.key_count()
        );
        assert!(
            limiters.key_count() < 100,
            "{} keys left",
            limiters.key_count()
        );
    }

    /// A quota of one request a minute for `Action::Other`.
    fn one_a_minute() -> Quotas {
        Quotas(
            [(
                Action::Other,
                Quota {
                    burst: 1,
                    per_minute: 1,
                },
            )]
            .into_iter()
            .collect(),
        )
    }

    /// Settings for the Redis at `url`, with a key prefix of the test's own.
    fn redis_at(url: &str) -> RedisSettings {
        let mut redis = RedisSettings::parse(url).unwrap();
        redis.key_prefix = format!("kantlijn-test:{}:rl", crate::security::random_token());
        redis
    }

    /// `KANTLIJN_TEST_REDIS_URL`, or `None` with a note when it is unset.
    fn test_redis() -> Option<RedisSettings> {
        let Ok(url) = std::env::var("KANTLIJN_TEST_REDIS_URL") else {
            eprintln!("skipped: KANTLIJN_TEST_REDIS_URL is unset");
            return None;
        };
        Some(redis_at(&url))
    }

    #[tokio::test]
    async fn two_instances_share_one_quota_through_redis() {
        let Some(redis) = test_redis() else {
            return;
        };
        let a = Limiters::shared(Mode::On, &Quotas::default(), &redis);
        let b = Limiters::shared(Mode::On, &Quotas::default(), &redis);
        for limiters in [&a, &b, &a] {
            limiters.check(Action::Reaction, ip(1), None).await.unwrap();
        }
        assert!(a.is_shared() && b.is_shared());
        let retry = b.check(Action::Reaction, ip(1), None).await.unwrap_err();
        assert!((1..=30).contains(&retry.0), "{retry:?}");
        assert!(a.check(Action::Reaction, ip(1), None).await.is_err());
        assert!(
            b.check(Action::Reaction, ip(2), None).await.is_ok(),
            "other addresses are not affected"
        );

        // The bucket's key expires when it is full again: after three, in at most 90 s.
        let mut connection = redis
            .client()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let key = ip_key(
            &redis.key_prefix,
            Action::Reaction,
            Quota::default_for(Action::Reaction),
            ip(1),
        );
        let ttl: i64 = redis::cmd("PTTL")
            .arg(&key)
            .query_async(&mut connection)
            .await
            .unwrap();
        assert!((60_000..=90_000).contains(&ttl), "PTTL {ttl} of {key}");

        // One account's logins count together, whichever instance and address they use.
        for n in 0..5u32 {
            let limiters = if n % 2 == 0 { &a } else { &b };
            limiters
                .check(Action::Login, ip(100 + n), Some("anna"))
                .await
                .unwrap();
        }
        assert!(
            a.check(Action::Login, ip(200), Some(" Anna"))
                .await
                .is_err()
        );
        assert!(b.check(Action::Login, ip(201), Some("bert")).await.is_ok());

        // A quota changed at run time applies to the next request.
        let mut quotas = Quotas::default();
        quotas.0.insert(
            Action::Reaction,
            Quota {
                burst: 10,
                per_minute: 10,
            },
        );
        a.set_quotas(&quotas);
        assert!(a.check(Action::Reaction, ip(1), None).await.is_ok());
    }

    #[tokio::test]
    async fn refunds_reach_redis() {
        let Some(redis) = test_redis() else {
            return;
        };
        let a = Limiters::shared(Mode::On, &one_a_minute(), &redis);
        let b = Limiters::shared(Mode::On, &one_a_minute(), &redis);
        assert!(a.check(Action::Other, ip(1), None).await.is_ok());
        assert!(b.check(Action::Other, ip(1), None).await.is_err());
        a.refund(Action::Other, ip(1)).await;
        assert!(
            b.check(Action::Other, ip(1), None).await.is_ok(),
            "the other instance sees the refund"
        );
        assert!(a.check(Action::Other, ip(1), None).await.is_err());
    }

    #[tokio::test]
    async fn an_unreachable_redis_leaves_limiting_to_this_instance() {
        let redis = redis_at("redis://127.0.0.1:1");
        let limiters = Limiters::shared(Mode::On, &Quotas::default(), &redis);
        let started = std::time::Instant::now();
        three_reactions_then_refused(&limiters).await;
        assert!(!limiters.is_shared());
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_redis_that_does_not_answer_holds_no_request_up() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // Takes connections and never says a word.
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let redis = redis_at(&format!("redis://127.0.0.1:{port}"));
        let limiters = Limiters::shared(Mode::On, &one_a_minute(), &redis);
        let started = std::time::Instant::now();
        assert!(limiters.check(Action::Other, ip(1), None).await.is_ok());
        let first = started.elapsed();
        assert!(
            first < Duration::from_millis(500),
            "the first waited {first:?}"
        );
        assert!(!limiters.is_shared());
        // Until the next try, requests do not wait for Redis at all.
        let started = std::time::Instant::now();
        for n in 2..100 {
            assert!(limiters.check(Action::Other, ip(n), None).await.is_ok());
        }
        assert!(limiters.check(Action::Other, ip(1), None).await.is_err());
        let rest = started.elapsed();
        assert!(rest < Duration::from_millis(100), "99 more took {rest:?}");
        silent.abort();
    }

    /// A redis-server of the test's own, stopped when dropped.
    struct OwnRedis(std::process::Child);

    impl OwnRedis {
        /// Starts one on `port` and waits until it takes connections; `None` (with a
        /// note) when there is no redis-server to start.
        async fn start(port: u16) -> Option<Self> {
            let spawned = std::process::Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn();
            let server = match spawned {
                Ok(child) => Self(child),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    eprintln!("skipped: redis-server is not installed");
                    return None;
                }
                Err(err) => panic!("starting redis-server: {err}"),
            };
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok()
                {
                    return Some(server);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("redis-server did not listen on port {port} within 5 s");
        }
    }

    impl Drop for OwnRedis {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[tokio::test]
    async fn limits_are_shared_again_when_redis_comes_back() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let Some(server) = OwnRedis::start(port).await else {
            return;
        };
        let mut redis = redis_at(&format!("redis://127.0.0.1:{port}"));
        redis.retry_every = Duration::from_millis(200);
        let limiters = Limiters::shared(Mode::On, &Quotas::default(), &redis);
        limiters.announce().await;
        assert!(limiters.is_shared());

        drop(server);
        let started = std::time::Instant::now();
        for _ in 0..3 {
            assert!(limiters.check(Action::Reaction, ip(1), None).await.is_ok());
        }
        assert!(
            limiters.check(Action::Reaction, ip(1), None).await.is_err(),
            "limited locally while Redis is away"
        );
        assert!(!limiters.is_shared());
        assert!(started.elapsed() < Duration::from_secs(1));

        let server = OwnRedis::start(port).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !limiters.is_shared() {
            assert!(
                std::time::Instant::now() < deadline,
                "still limiting alone 10 s after Redis came back"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = limiters.check(Action::Other, ip(1), None).await;
        }
        // Shared for real: another instance counts against the same bucket.
        let other = Limiters::shared(Mode::On, &Quotas::default(), &redis);
        for limiters in [&limiters, &other, &limiters] {
            assert!(limiters.check(Action::Reaction, ip(9), None).await.is_ok());
        }
        assert!(other.check(Action::Reaction, ip(9), None).await.is_err());

        // A restart between two requests costs nothing: the next request goes out again
        // on a new connection at once.
        drop(server);
        let _server = OwnRedis::start(port).await.unwrap();
        assert!(limiters.check(Action::Reaction, ip(10), None).await.is_ok());
        assert!(limiters.is_shared(), "local after a restart");
    }

    #[test]
    fn keys_name_the_action_the_quota_and_the_address() {
        let quota = Quota::default_for(Action::Reaction);
        let v6 = "2001:db8:1:2::".parse().unwrap();
        assert_eq!(
            ip_key("kantlijn:rl", Action::Reaction, quota, ip(0xcb00_7105)),
            "kantlijn:rl:reaction:3-2:203.0.113.5"
        );
        assert_eq!(
            ip_key("kantlijn:rl", Action::Search, quota, v6),
            "kantlijn:rl:search:3-2:2001:db8:1:2::/64"
        );
        assert_eq!(
            name_key("kantlijn:rl", quota, "anna.de-vries"),
            "kantlijn:rl:login-name:3-2:anna.de-vries"
        );
        let long = name_key("kantlijn:rl", quota, &"x".repeat(10_000));
        assert!(long.len() < 80, "{long}");
        assert_ne!(long, name_key("kantlijn:rl", quota, "a:b"));
    }
}
