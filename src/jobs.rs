//! The site's background work, started once per process by `kantlijn serve`: the mail
//! worker (when mail is configured) and a scheduler that every few minutes runs what is
//! due: the retention job (hourly) and the moderators' digest (when mail is configured).
//! Jobs that must run on one instance at a time take a PostgreSQL advisory lock for
//! their run, and check under it that another did not just run them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::{app::AppState, digest, mail, retention, store};

/// How often the scheduler looks for due work.
pub const TICK: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// How often the retention job runs.
pub const RETENTION_EVERY: Duration = Duration::hours(1);

/// Starts every background job of the site.
pub fn spawn(state: &AppState) {
    spawn_mail(state);
    tokio::spawn(schedule(state.clone()));
}

/// Starts the mail worker, when mail is configured.
pub fn spawn_mail(state: &AppState) {
    if let Some(settings) = &state.settings.mail {
        tokio::spawn(mail::worker::run(
            state.db.clone(),
            Arc::clone(settings),
            state.db.mail_wake(),
            Arc::clone(&state.metrics),
        ));
    } else {
        tracing::info!("no KANTLIJN_SMTP_URL: the site sends no mail");
    }
}

/// Runs what is due every [`TICK`], the first time at once, until the process ends.
async fn schedule(state: AppState) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        run_due(&state, Utc::now()).await;
    }
}

/// Runs every job that is due at `now`. Failures are logged and tried again at the
/// next tick; they never end the scheduler.
pub async fn run_due(state: &AppState, now: DateTime<Utc>) {
    if let Err(err) = retention_if_due(state, now).await {
        tracing::error!(error = %err, "retention: the run failed; trying again later");
    }
    if state.settings.mail.is_some()
        && let Err(err) = digest::run(&state.db, &state.keys, &state.settings.base_url, now).await
    {
        tracing::error!(error = %err, "digest: the run failed; trying again later");
    }
}

async fn retention_if_due(state: &AppState, now: DateTime<Utc>) -> Result<(), sea_orm::DbErr> {
    // A look without the write lock first: most ticks find nothing to do.
    let last = store::jobs::last_run(state.db.read(), retention::JOB).await?;
    if last.is_some_and(|run| now - run.last_run_at < RETENTION_EVERY) {
        return Ok(());
    }
    let policy = store::settings::retention(state.db.read()).await?;
    retention::run_if_due(&state.db, policy, now, RETENTION_EVERY).await?;
    Ok(())
}
