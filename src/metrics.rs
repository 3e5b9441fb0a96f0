//! Prometheus metrics: requests, reactions, rate limits (and whether they are shared),
//! moderation and the DB pool.

use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use sea_orm::{DatabaseConnection, DbBackend};

use crate::domain::{limits::Action, states::CommentStatus};

/// The site's counters, registered in a registry of their own.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    reactions: IntCounterVec,
    rate_limited: IntCounterVec,
    moderation: IntCounterVec,
    pool: IntGaugeVec,
    outbox: IntGaugeVec,
    rate_limits_shared: IntGauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[allow(
        clippy::expect_used,
        reason = "start-up: the metrics and their names are constants"
    )]
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("unique metric");
            vec
        };
        let requests = counter(
            "kantlijn_http_requests_total",
            "HTTP requests answered, by route class and status code.",
            &["route", "status"],
        );
        let reactions = counter(
            "kantlijn_reactions_posted_total",
            "Reactions posted, by the status the rules gave them.",
            &["status"],
        );
        let rate_limited = counter(
            "kantlijn_rate_limited_total",
            "Requests refused by a rate limit, by action.",
            &["action"],
        );
        let moderation = counter(
            "kantlijn_moderation_actions_total",
            "Reactions changed by moderators, by action.",
            &["action"],
        );
        let pool = IntGaugeVec::new(
            Opts::new(
                "kantlijn_db_pool_connections",
                "Database pool connections, by state.",
            ),
            &["state"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(pool.clone()))
            .expect("unique metric");
        let outbox = IntGaugeVec::new(
            Opts::new(
                "kantlijn_outbox_mails",
                "Mails in the outbox: pending (still to send) and failed (given up).",
            ),
            &["status"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(outbox.clone()))
            .expect("unique metric");
        let rate_limits_shared = IntGauge::new(
            "kantlijn_rate_limits_shared",
            "1 while rate limits are shared with other instances through Redis, 0 while \
             this instance limits on its own (no KANTLIJN_REDIS_URL, or Redis down).",
        )
        .expect("valid metric");
        registry
            .register(Box::new(rate_limits_shared.clone()))
            .expect("unique metric");
        Self {
            registry,
            requests,
            reactions,
            rate_limited,
            moderation,
            pool,
            outbox,
            rate_limits_shared,
        }
    }

    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .with_label_values(&[route, &status.to_string()])
            .inc();
    }

    /// The outbox as the mail worker last counted it.
    pub fn outbox(&self, pending: u64, failed: u64) {
        for (status, count) in [("pending", pending), ("failed", failed)] {
            self.outbox
                .with_label_values(&[status])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    pub fn reaction_posted(&self, status: CommentStatus) {
        self.reactions.with_label_values(&[status.as_str()]).inc();
    }

    pub fn rate_limited(&self, action: Action) {
        self.rate_limited
            .with_label_values(&[action.as_str()])
            .inc();
    }

    pub fn moderated(&self, action: &str, count: usize) {
        self.moderation
            .with_label_values(&[action])
            .inc_by(count as u64);
    }

    /// The text exposition, with the pool gauges and whether rate limits are shared
    /// read now.
    pub fn render(&self, db: &DatabaseConnection, rate_limits_shared: bool) -> String {
        self.rate_limits_shared.set(i64::from(rate_limits_shared));
        let (size, idle) = match db.get_database_backend() {
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => (0, 0),
        };
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool.with_label_values(&["open"]).set(i64::from(size));
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(size) - idle);
        let mut text = String::new();
        if let Err(err) = TextEncoder::new().encode_utf8(&self.registry.gather(), &mut text) {
            tracing::error!(error = %err, "encoding the metrics failed");
        }
        text
    }
}
