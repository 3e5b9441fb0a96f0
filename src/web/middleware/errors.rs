//! Turns every error into a Dutch page (or a JSON error under `/api`), and logs 5xx with
//! their whole cause chain. People never see database text.

use std::any::Any;

use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{StatusCode, header},
};

use crate::{
    app::{self, Surface},
    error::{Answer, AppError, UNAVAILABLE_RETRY_SECONDS, answer_for},
    web::views::ErrorPage,
};

pub async fn render<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let api = app::class_of_request(&req).surface == Surface::Api;
    let login_target = req
        .uri()
        .path_and_query()
        .map_or_else(|| "/beheer".to_owned(), |p| p.as_str().to_owned());
    let mut response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => error_response(err, api, &login_target),
    };
    // Whoever answered 503 (the database is away), the client learns when to come back.
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert_with(|| UNAVAILABLE_RETRY_SECONDS.into());
    }
    Ok(response)
}

fn error_response(err: poem::Error, api: bool, login_target: &str) -> Response {
    let status = err.status();
    if status.is_server_error() {
        match err.downcast_ref::<AppError>() {
            Some(AppError::Unavailable(_)) => tracing::warn!(error = %chain(&err), "unavailable"),
            // The API's typed 503 logged its cause where it was made.
            None if status == StatusCode::SERVICE_UNAVAILABLE => {}
            _ => tracing::error!(error = %chain(&err), "request failed"),
        }
    }
    let Some(app_error) = err.downcast_ref::<AppError>() else {
        // poem's own errors (no route, unreadable body) and the API's typed responses.
        let answer = answer_for(status);
        return if api {
            api_error(err.into_response(), &answer)
        } else {
            page(status, &answer.dutch)
        };
    };
    let answer = app_error.answer();
    let mut response = if api {
        api_error(Response::default(), &answer)
    } else if matches!(app_error, AppError::LoginRequired) {
        let location = format!(
            "/beheer/inloggen?terug={}",
            url::form_urlencoded::byte_serialize(login_target.as_bytes()).collect::<String>()
        );
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, location)
            .finish()
    } else {
        page(status, &answer.dutch)
    };
    match app_error {
        AppError::RateLimited(seconds) => {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, (*seconds).into());
        }
        // RFC 7694: say which content coding a request body may have.
        AppError::EncodedBody => {
            response.headers_mut().insert(
                header::ACCEPT_ENCODING,
                poem::http::HeaderValue::from_static("identity"),
            );
        }
        _ => {}
    }
    response
}

/// The JSON answer of an API error: the API's own typed error response when it made one
/// (`own`, with its details), else `{error, message}` from the answer table.
fn api_error(own: Response, answer: &Answer) -> Response {
    let status = answer.status;
    let is_json = own
        .content_type()
        .is_some_and(|t| t.starts_with("application/json"));
    if is_json {
        return own;
    }
    let body = serde_json::json!({ "error": answer.code, "message": answer.english });
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            poem::http::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

/// The Dutch error page for a status.
pub fn page(status: StatusCode, message: &str) -> Response {
    let html = ErrorPage::new(status, message).render_html();
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .body(html)
}

/// Marks the answer to a panic, for [`api_panics_as_json`].
#[derive(Clone, Copy, Debug)]
struct Panicked;

/// A panic under `/api` is answered in JSON like every API error: the panic handler sees
/// only the panic, so it marks its page and this, outside it, swaps the page for JSON.
pub async fn api_panics_as_json<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let api = app::class_of_request(&req).surface == Surface::Api;
    let response = next.call(req).await?.into_response();
    if api && response.extensions().get::<Panicked>().is_some() {
        let answer = answer_for(StatusCode::INTERNAL_SERVER_ERROR);
        return Ok(api_error(Response::default(), &answer));
    }
    Ok(response)
}

/// The answer for a handler that panicked: the cause goes to the log, the reader gets a page.
pub fn panic_page(cause: Box<dyn Any + Send + 'static>) -> Response {
    let cause = cause
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(%cause, "handler panicked");
    let mut response = page(
        StatusCode::INTERNAL_SERVER_ERROR,
        &answer_for(StatusCode::INTERNAL_SERVER_ERROR).dutch,
    );
    response.extensions_mut().insert(Panicked);
    response
}

fn chain(err: &poem::Error) -> String {
    // poem's wrapper hides the chain of the error it carries; walk ours directly.
    match err.downcast_ref::<AppError>() {
        Some(app) => crate::error::chain(app),
        None => crate::error::chain(err),
    }
}
