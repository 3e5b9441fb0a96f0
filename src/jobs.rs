//! The site's background work, started once per process by `kantlijn serve`: the mail
//! worker (when mail is configured). Jobs that must run on one instance at a time take
//! a PostgreSQL advisory lock for their run.

use std::sync::Arc;

use crate::{app::AppState, mail};

/// Starts every background job of the site.
pub fn spawn(state: &AppState) {
    spawn_mail(state);
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
