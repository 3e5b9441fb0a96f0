//! A span with a request id around every request, and one log line when it is answered.

use std::{sync::Arc, time::Instant};

use poem::{Endpoint, IntoResponse, Request, Response, Result, http::HeaderValue};
use rand::RngCore;
use tracing::Instrument;

use crate::app::{self, AppState};

/// Paths whose next segment is a capability from a mail (a privacy link lets its holder
/// read and erase a reader's data for a day): the log keeps the route, not the token.
const TOKEN_PREFIXES: [&str; 3] = ["/privacy/", "/afmelden/", "/meldingen/bevestigen/"];

/// The path as the log may keep it: a mailed token replaced by `…`.
fn loggable(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in TOKEN_PREFIXES {
        if let Some(rest) = path.strip_prefix(prefix) {
            let after = rest.find('/').map_or("", |at| &rest[at..]);
            return format!("{prefix}…{after}").into();
        }
    }
    path.into()
}

pub async fn trace<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let request_id = format!("{:016x}", rand::thread_rng().next_u64());
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        path = %loggable(req.uri().path()),
    );
    let metrics = req.data::<AppState>().map(|s| Arc::clone(&s.metrics));
    let route = app::class_of_request(&req).label;
    async move {
        let started = Instant::now();
        let mut response = next.call(req).await?.into_response();
        let status = response.status();
        if let Some(metrics) = metrics {
            metrics.request(route, status.as_u16());
        }
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "answered");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "answered");
        }
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailed_tokens_stay_out_of_the_log() {
        assert_eq!(loggable("/privacy/abc.def"), "/privacy/…");
        assert_eq!(
            loggable("/privacy/abc.def/export.json"),
            "/privacy/…/export.json"
        );
        assert_eq!(loggable("/afmelden/unsubscribe-r1.x"), "/afmelden/…");
        assert_eq!(
            loggable("/meldingen/bevestigen/confirm-1.x"),
            "/meldingen/bevestigen/…"
        );
        assert_eq!(loggable("/privacy"), "/privacy");
        assert_eq!(loggable("/artikelen/x"), "/artikelen/x");
    }
}
