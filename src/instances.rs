//! Several `kantlijn serve` processes on one PostgreSQL: each listens for the changes
//! the others make (`store::changes`) and applies them to what it keeps in memory, so a
//! change made through one instance shows through every other on the next request.
//!
//! A notification sent while the listening connection was down is lost, so after every
//! (re)connection everything this process keeps is taken as stale once.

use std::time::Duration;

use sea_orm::{
    DbBackend, DbErr,
    sqlx::{self, postgres::PgListener},
};

use crate::{
    app::AppState,
    store::{
        self,
        changes::{CHANNEL, Change},
    },
};

/// How long to wait before connecting again after the listening connection failed.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// On PostgreSQL, starts listening for the other instances' changes: returns once the
/// first `LISTEN` is in place, and keeps listening (reconnecting when needed) in a task
/// of its own until the process ends. Nothing to do on SQLite (one instance only).
pub async fn follow(state: &AppState, url: &str) -> Result<(), DbErr> {
    if state.db.backend() != DbBackend::Postgres {
        return Ok(());
    }
    let listener = listen(url).await.map_err(to_db_err)?;
    tokio::spawn(keep_following(state.clone(), url.to_owned(), listener));
    Ok(())
}

async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn keep_following(state: AppState, url: String, mut listener: PgListener) {
    loop {
        let lost = match listener.try_recv().await {
            Ok(Some(notification)) => {
                match Change::decode(notification.payload()) {
                    Some((from, change)) if from != state.db.instance() => {
                        apply(&state, change).await;
                    }
                    Some(_) => {}
                    None => tracing::warn!(
                        payload = notification.payload(),
                        "a change notification that this version cannot read"
                    ),
                }
                continue;
            }
            Ok(None) => "the connection was closed".to_owned(),
            Err(err) => err.to_string(),
        };
        tracing::warn!(
            error = lost,
            "lost the connection that hears other instances' changes"
        );
        listener = reconnect(&url).await;
        forget_everything(&state).await;
    }
}

/// A listening connection, trying every [`RECONNECT_AFTER`] until there is one.
async fn reconnect(url: &str) -> PgListener {
    loop {
        tokio::time::sleep(RECONNECT_AFTER).await;
        match listen(url).await {
            Ok(listener) => {
                tracing::info!("hearing other instances' changes again");
                return listener;
            }
            Err(err) => tracing::warn!(%err, "cannot listen for other instances' changes yet"),
        }
    }
}

/// Applies another instance's change to what this one keeps in memory.
async fn apply(state: &AppState, change: Change) {
    change.apply(state.db.versions());
    if change == Change::Settings {
        reload_settings(state).await;
    }
}

/// What another instance changed unheard could be anything.
async fn forget_everything(state: &AppState) {
    state.db.versions().everything_changed();
    reload_settings(state).await;
}

/// Reads the settings kept in memory anew: moderation rules on the next post, the
/// rate-limit quotas now.
async fn reload_settings(state: &AppState) {
    state.rules.forget();
    match store::settings::quotas(state.db.read()).await {
        Ok(quotas) => state.limiters.set_quotas(&quotas),
        Err(err) => tracing::warn!(%err, "reading rate-limit quotas failed"),
    }
}

fn to_db_err(err: sqlx::Error) -> DbErr {
    DbErr::Conn(sea_orm::RuntimeErr::SqlxError(err.into()))
}
