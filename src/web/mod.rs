//! HTTP handlers by audience, plus what they share: the embedded static files, page
//! rendering and the HTML form extractor.

pub mod admin;
pub mod api;
pub mod auth;
pub mod feeds;
pub mod middleware;
pub mod notifications;
pub mod page_cache;
pub mod privacy;
pub mod public;
pub mod reactions;
pub mod recent;
pub mod search;
pub mod threads;
pub mod views;
pub mod votes;

use askama::Template;
use poem::{
    FromRequest, Request, RequestBody, Response, handler,
    http::{StatusCode, header},
    web::{Html, Path},
};
use serde::de::DeserializeOwned;

use crate::error::{AppError, AppResult};

/// CSS, JS and images, compiled into the binary.
#[derive(rust_embed::RustEmbed)]
#[folder = "static/"]
pub struct Assets;

/// Serves an embedded static file with an ETag, answering 304 when it matches.
#[handler]
pub fn static_file(Path(path): Path<String>, req: &Request) -> AppResult<Response> {
    asset(&path, req)
}

/// `/favicon.ico` for the clients that ask there instead of reading the page's icon link
/// (Chromium on pages without one, feed readers): the site's SVG icon.
#[handler]
pub fn favicon(req: &Request) -> AppResult<Response> {
    asset("favicon.svg", req)
}

fn asset(path: &str, req: &Request) -> AppResult<Response> {
    let file = Assets::get(path).ok_or(AppError::NotFound)?;
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let cache = "public, max-age=3600";
    if req.header(header::IF_NONE_MATCH) == Some(etag.as_str()) {
        return Ok(Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, etag)
            .header(header::CACHE_CONTROL, cache)
            .finish());
    }
    let content_type = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    };
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, cache)
        .body(file.data.into_owned()))
}

/// Renders a page template to an HTML response.
pub fn render(page: &impl Template) -> AppResult<Html<String>> {
    page.render().map(Html).map_err(AppError::internal)
}

/// Renders a page template with a status other than 200 (a form with errors, say).
pub fn render_with_status(page: &impl Template, status: StatusCode) -> AppResult<Response> {
    let html = page.render().map_err(AppError::internal)?;
    Ok(Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// A `?pagina=` value as a page number from 1 to `max`; anything else names a page that
/// does not exist (404).
pub fn page_number(text: &str, max: u64) -> AppResult<u64> {
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or(AppError::NotFound)
}

/// A 303 See Other to `location`, the answer to every successful form POST.
pub fn see_other(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .finish()
}

/// An `application/x-www-form-urlencoded` body read with `serde_html_form`, which
/// (unlike poem's `Form`) reads repeated fields into a `Vec`.
pub struct HtmlForm<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for HtmlForm<T> {
    async fn from_request(_req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body.take()?.into_vec().await?;
        serde_html_form::from_bytes(&bytes)
            .map(HtmlForm)
            .map_err(|e| {
                poem::Error::from_string(format!("invalid form: {e}"), StatusCode::BAD_REQUEST)
            })
    }
}
