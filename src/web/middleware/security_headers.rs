//! The headers every response carries, errors included.

use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{HeaderValue, header},
};

use crate::app;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' https: data:; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// Also looks up the request's route class, once, for the middleware inside.
pub async fn add<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    let class = app::class_of(req.uri().path());
    req.extensions_mut().insert(class);
    let private = class.private;
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
    // Staff pages and staff API answers (e-mail addresses, a new token shown once) stay
    // out of every cache, the browser's back-forward history included.
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // A page may bring a policy of its own (the API docs allow their scripts by hash).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    Ok(response)
}
