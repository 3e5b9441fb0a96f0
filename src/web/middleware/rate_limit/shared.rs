//! Rate limits shared by several instances through Redis (`KANTLIJN_REDIS_URL`): GCRA in
//! one Lua script on Redis's own clock, so every instance counts against the same
//! buckets. Redis down, slow or failing never fails a request: the caller then limits
//! locally, this instance says so once in its log, and asks Redis again at most once per
//! `retry_every` until it answers.

use std::{
    sync::atomic::{AtomicU8, AtomicU64, Ordering},
    time::{Duration, Instant},
};

use redis::{
    RedisResult, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use super::{Quota, RetryAfter};
use crate::config::RedisSettings;

/// One request against a bucket. KEYS[1]: the bucket, holding its theoretical arrival
/// time (µs); ARGV[1]: the emission interval (µs); ARGV[2]: the burst. Returns 0 when
/// allowed, else the µs to wait. The key expires when the bucket is full again.
const CHECK: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local new_tat = tat + interval
local wait = new_tat - burst * interval - now
if wait > 0 then
  return wait
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat),
  'PX', string.format('%.0f', math.ceil((new_tat - now) / 1000)))
return 0
";

/// Gives one emission interval (ARGV[1], µs) back to the bucket KEYS[1].
const REFUND: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then
  return 0
end
tat = tat - tonumber(ARGV[1])
if tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.0f', tat),
    'PX', string.format('%.0f', math.ceil((tat - now) / 1000)))
end
return 1
";

/// Not asked yet.
const UNKNOWN: u8 = 0;
/// The last answer came in time: limits are shared.
const SHARED: u8 = 1;
/// The last call failed or was slow: this instance limits on its own.
const LOCAL: u8 = 2;

/// The emission interval of `quota` in µs, as the local limiter has it.
pub(super) fn interval_micros(quota: Quota) -> u64 {
    (60_000_000 / u64::from(quota.per_minute.max(1))).max(1)
}

/// Redis and whether it answers.
pub(super) struct Shared {
    connection: ConnectionManager,
    shown: String,
    prefix: String,
    timeout: Duration,
    retry_every: Duration,
    check: Script,
    refund: Script,
    state: AtomicU8,
    /// While not shared: when Redis may be asked again, in ms since `started`.
    next_try: AtomicU64,
    started: Instant,
}

impl Shared {
    /// Connects lazily (nothing is sent before the first request); needs the tokio runtime.
    pub(super) fn new(settings: &RedisSettings) -> RedisResult<Self> {
        // One attempt per call: retrying is this module's business, not the manager's.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(Some(settings.timeout.max(Duration::from_secs(1))))
            .set_response_timeout(Some(settings.timeout));
        Ok(Self {
            connection: ConnectionManager::new_lazy_with_config(settings.client().clone(), config)?,
            shown: settings.shown().to_owned(),
            prefix: settings.key_prefix.clone(),
            timeout: settings.timeout,
            retry_every: settings.retry_every,
            check: Script::new(CHECK),
            refund: Script::new(REFUND),
            state: AtomicU8::new(UNKNOWN),
            next_try: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    /// Whether the last answer from Redis came in time.
    pub(super) fn is_shared(&self) -> bool {
        self.state.load(Ordering::Relaxed) == SHARED
    }

    /// Counts one request against the bucket that `key` names (given the key prefix);
    /// `None` when Redis cannot say (down, slow, or not asked while down): the caller
    /// limits locally.
    pub(super) async fn check(
        &self,
        key: impl FnOnce(&str) -> String,
        quota: Quota,
    ) -> Option<Result<(), RetryAfter>> {
        let probing = self.may_ask()?;
        let mut invocation = self.check.key(key(&self.prefix));
        invocation.arg(interval_micros(quota)).arg(quota.burst);
        let invocation = &invocation;
        let answer = self
            .run(|mut connection| async move { invocation.invoke_async(&mut connection).await })
            .await;
        let wait: u64 = self.answered(answer, probing)?;
        Some(match wait {
            0 => Ok(()),
            micros => Err(RetryAfter(micros.div_ceil(1_000_000).max(1))),
        })
    }

    /// Gives back one request to the bucket that `key` names; `false` when Redis is not
    /// in use now, and the caller should refund locally.
    pub(super) async fn refund(&self, key: impl FnOnce(&str) -> String, quota: Quota) -> bool {
        if !self.is_shared() {
            return false;
        }
        let mut invocation = self.refund.key(key(&self.prefix));
        invocation.arg(interval_micros(quota));
        let invocation = &invocation;
        let answer =
            self.run(|mut connection| async move {
                invocation.invoke_async::<u64>(&mut connection).await
            })
            .await;
        self.answered(answer, false).is_some()
    }

    /// Asks Redis once (at start-up), so that the log and `/metrics` say at once whether
    /// limits are shared.
    pub(super) async fn ping(&self) {
        let Some(probing) = self.may_ask() else {
            return;
        };
        let ping = &redis::cmd("PING");
        let answer = self
            .run(|mut connection| async move { ping.query_async::<String>(&mut connection).await })
            .await;
        let _ = self.answered(answer, probing);
    }

    /// Runs `call` within the timeout; after an error that made the connection manager
    /// reconnect (a dropped connection: Redis restarted, say), once more on the new
    /// connection, so that one stale connection does not cost seconds of local limiting.
    async fn run<T, F, Fut>(&self, call: F) -> Result<RedisResult<T>, tokio::time::error::Elapsed>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        tokio::time::timeout(self.timeout, async {
            match call(self.connection.clone()).await {
                Err(err) if err.is_io_error() || err.is_unrecoverable_error() => {
                    call(self.connection.clone()).await
                }
                answer => answer,
            }
        })
        .await
    }

    /// Whether to ask Redis now: `Some(false)` while it answers, `Some(true)` for the one
    /// request that probes it after a failure (or first), `None` while it is left alone.
    fn may_ask(&self) -> Option<bool> {
        if self.is_shared() {
            return Some(false);
        }
        let now = self.millis();
        let next = self.next_try.load(Ordering::Relaxed);
        if now < next {
            return None;
        }
        // Only the request that moves the next try on probes; the others limit locally.
        self.next_try
            .compare_exchange(
                next,
                now.saturating_add(self.retry_millis()),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| true)
    }

    /// What a call brought: its value, or `None` after switching to local limiting.
    fn answered<T>(
        &self,
        result: Result<RedisResult<T>, tokio::time::error::Elapsed>,
        probing: bool,
    ) -> Option<T> {
        match result {
            Ok(Ok(value)) => {
                // A call that was under way when another one failed does not switch
                // back: only a probe does, so the state does not flap.
                if probing && self.state.swap(SHARED, Ordering::Relaxed) != SHARED {
                    tracing::info!(redis = %self.shown, "rate limits are shared through Redis");
                }
                Some(value)
            }
            Ok(Err(err)) => {
                self.failed(&err.to_string());
                None
            }
            Err(_) => {
                self.failed(&format!("no answer within {} ms", self.timeout.as_millis()));
                None
            }
        }
    }

    fn failed(&self, why: &str) {
        self.next_try.store(
            self.millis().saturating_add(self.retry_millis()),
            Ordering::Relaxed,
        );
        if self.state.swap(LOCAL, Ordering::Relaxed) != LOCAL {
            tracing::warn!(
                redis = %self.shown,
                error = why,
                retry_every_ms = self.retry_millis(),
                "Redis does not answer: this instance limits on its own until it does"
            );
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn retry_millis(&self) -> u64 {
        u64::try_from(self.retry_every.as_millis()).unwrap_or(u64::MAX)
    }
}
