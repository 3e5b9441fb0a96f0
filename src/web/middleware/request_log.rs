//! A span with a request id around every request, and one log line when it is answered.

use std::{sync::Arc, time::Instant};

use poem::{Endpoint, IntoResponse, Request, Response, Result, http::HeaderValue};
use rand::RngCore;
use tracing::Instrument;

use crate::app::{self, AppState};

pub async fn trace<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let request_id = format!("{:016x}", rand::thread_rng().next_u64());
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
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
