//! Per-action rate limits with governor, keyed by client address (IPv6 by /64) and, for
//! logins, also by username. Quotas change at run time; keyed state is pruned so a flood
//! of new addresses cannot grow memory without bound.

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

/// All limiters of the site.
pub struct Limiters {
    mode: Mode,
    set: RwLock<Arc<Set>>,
}

impl Limiters {
    pub fn new(mode: Mode, quotas: &Quotas) -> Self {
        Self {
            mode,
            set: RwLock::new(Arc::new(Set::new(quotas, None))),
        }
    }

    fn current(&self) -> Arc<Set> {
        Arc::clone(&self.set.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Counts one request of `action` from `ip` (and, for logins, for `username`).
    pub fn check(
        &self,
        action: Action,
        ip: IpAddr,
        username: Option<&str>,
    ) -> Result<(), RetryAfter> {
        if !self.mode.applies(action) {
            return Ok(());
        }
        let set = self.current();
        set.by_ip[&action].check(&ip)?;
        if let Some(name) = username.filter(|_| action == Action::Login) {
            set.login_by_name.check(&name.trim().to_lowercase())?;
        }
        Ok(())
    }

    /// Gives back the request a server error used up.
    pub fn refund(&self, action: Action, ip: IpAddr) {
        if self.mode.applies(action) {
            self.current().by_ip[&action].refund(ip);
        }
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
    if let Err(retry) = state.limiters.check(action, ip, username) {
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
        state.limiters.refund(action, ip);
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

    #[test]
    fn burst_then_refused_with_retry_after() {
        let limiters = Limiters::new(Mode::On, &Quotas::default());
        for _ in 0..3 {
            assert!(limiters.check(Action::Reaction, ip(1), None).is_ok());
        }
        let retry = limiters.check(Action::Reaction, ip(1), None).unwrap_err();
        assert!((1..=30).contains(&retry.0), "{retry:?}");
        assert!(
            limiters.check(Action::Reaction, ip(2), None).is_ok(),
            "other addresses are not affected"
        );
    }

    #[test]
    fn refunds_give_back_what_server_errors_used() {
        let quotas = Quotas(
            [(
                Action::Other,
                Quota {
                    burst: 1,
                    per_minute: 1,
                },
            )]
            .into_iter()
            .collect(),
        );
        let limiters = Limiters::new(Mode::On, &quotas);
        assert!(limiters.check(Action::Other, ip(1), None).is_ok());
        limiters.refund(Action::Other, ip(1));
        assert!(limiters.check(Action::Other, ip(1), None).is_ok());
        assert!(limiters.check(Action::Other, ip(1), None).is_err());
    }

    #[test]
    fn login_counts_per_username_across_addresses() {
        let limiters = Limiters::new(Mode::On, &Quotas::default());
        for n in 0..5 {
            assert!(limiters.check(Action::Login, ip(n), Some("anna")).is_ok());
        }
        assert!(
            limiters
                .check(Action::Login, ip(99), Some("Anna "))
                .is_err()
        );
        assert!(limiters.check(Action::Login, ip(98), Some("bert")).is_ok());
    }

    #[test]
    fn modes_switch_limits_off() {
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
            assert!(off.check(Action::Reaction, ip(1), None).is_ok());
        }
        assert!(off.check(Action::Login, ip(1), None).is_ok());
        assert!(
            off.check(Action::Login, ip(1), None).is_err(),
            "the login limit stays on"
        );
        let none = Limiters::new(Mode::OffIncludingLogin, &tiny);
        for _ in 0..5 {
            assert!(none.check(Action::Login, ip(1), None).is_ok());
        }
    }

    #[test]
    fn changing_a_quota_keeps_the_state_of_the_others() {
        let limiters = Limiters::new(Mode::On, &Quotas::default());
        for _ in 0..3 {
            limiters.check(Action::Reaction, ip(1), None).unwrap();
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
            limiters.check(Action::Reaction, ip(1), None).is_err(),
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
            limiters.check(Action::Reaction, ip(1), None).is_ok(),
            "a new reaction quota applies"
        );
    }

    #[test]
    fn a_million_addresses_are_pruned_back_to_nothing() {
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
            let _ = limiters.check(Action::Other, ip(n), None);
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
}
