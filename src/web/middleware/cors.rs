//! Cross-origin calls of `/api/v1` from browsers on the origins in
//! `KANTLIJN_CORS_ORIGINS`. CORS only ever adds permission: a request without `Origin`
//! (curl, servers, apps) and a same-origin one (the site's own Swagger UI at `/api/docs`)
//! pass untouched. Any other origin gets what a browser expects from a server that did not
//! allow it: no CORS headers, so the browser keeps the answer from the page, and a 403
//! `cors_origin_not_allowed` for a preflight.

use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{HeaderValue, Method, StatusCode, header},
};

use crate::app::{self, AppState, Surface};

const ALLOW_METHODS: &str = "GET, POST, PUT, DELETE";
const ALLOW_HEADERS: &str = "authorization, content-type";
const EXPOSE_HEADERS: &str = "retry-after, www-authenticate, etag";

pub async fn api<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let api = app::class_of_request(&req).surface == Surface::Api;
    let (Some(origin), true) = (origin, api) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let Some(state) = req.data::<AppState>() else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    if same_origin(&req, &origin, &state.settings.base_url) {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let allowed = state.settings.cors_origins.contains(&origin);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = match (preflight, allowed) {
        (true, true) => Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS)
            .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
            .header(header::ACCESS_CONTROL_MAX_AGE, "3600")
            .finish(),
        (true, false) => refused(&origin),
        (false, _) => next.call(req).await?.into_response(),
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed && let Ok(value) = HeaderValue::from_str(&origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if !preflight {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }
    Ok(response)
}

/// A page of the site itself calling its API: the origin is the site's configured one,
/// or names the host and port the request was sent to.
fn same_origin(req: &Request, origin: &str, base_url: &url::Url) -> bool {
    if base_url.origin().ascii_serialization() == origin {
        return true;
    }
    let Ok(origin) = url::Url::parse(origin) else {
        return false;
    };
    let (Some(origin_host), Some(origin_port)) =
        (origin.host_str(), origin.port_or_known_default())
    else {
        return false;
    };
    let Some(host) = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    // The Host header is host[:port]; without a port it is the scheme's default.
    let Ok(sent_to) = url::Url::parse(&format!("{}://{host}/", origin.scheme())) else {
        return false;
    };
    sent_to
        .host_str()
        .is_some_and(|h| h.eq_ignore_ascii_case(origin_host))
        && sent_to.port_or_known_default() == Some(origin_port)
}

fn refused(origin: &str) -> Response {
    let body = serde_json::json!({
        "error": "cors_origin_not_allowed",
        "message": format!(
            "Pages on {origin} may not call this API from a browser; the site's operator can \
             allow them with KANTLIJN_CORS_ORIGINS."
        ),
    });
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .content_type("application/json")
        .body(body.to_string())
}
