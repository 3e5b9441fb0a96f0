//! Signed double-submit CSRF protection for every form on the site.
//!
//! Each browser gets a random `kantlijn_csrf` cookie; the form token is an HMAC of that
//! cookie with a key derived from the site secret. Every unsafe request outside `/api`
//! (which authenticates with bearer tokens, not cookies) must carry the token in the
//! form field `csrf_token` or the `X-CSRF-Token` header.

use poem::{
    Body, Endpoint, IntoResponse, Request, Response, Result,
    http::Method,
    web::cookie::{Cookie, SameSite},
};

use crate::{
    app::{self, Surface},
    error::AppError,
    security,
};

pub const COOKIE_NAME: &str = "kantlijn_csrf";
pub const FIELD_NAME: &str = "csrf_token";
pub const HEADER_NAME: &str = "x-csrf-token";

/// The token to put in this request's forms.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// A new random CSRF cookie and its value: for a browser that has none, and at login, so
/// that a token someone planted or saw before the login is worth nothing after it.
pub fn fresh_cookie(secure: bool) -> (String, Cookie) {
    let value = security::random_token();
    let mut cookie = Cookie::new_with_str(COOKIE_NAME, &value);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(secure);
    cookie.set_path("/");
    (value, cookie)
}

pub async fn protect<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    let state = app::state_of(&req)?.clone();
    let cookie_value = req
        .cookie()
        .get(COOKIE_NAME)
        .map(|c| c.value_str().to_owned())
        .filter(|v| v.len() >= 32 && v.len() <= 64);

    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let class = app::class_of_request(&req);
    // An upload's token is its form's first field, checked by its handler before it
    // reads the file (reading the body here would hold the whole upload in memory).
    let in_upload = class.upload.is_some() && req.header(HEADER_NAME).is_none();
    if unsafe_method && class.surface == Surface::Page && !class.without_csrf && !in_upload {
        let cookie = cookie_value.as_deref().ok_or(AppError::Csrf)?;
        let submitted = match req.header(HEADER_NAME) {
            Some(token) => Some(token.to_owned()),
            None => {
                let bytes = req.take_body().into_vec().await?;
                let token = url::form_urlencoded::parse(&bytes)
                    .find(|(key, _)| key == FIELD_NAME)
                    .map(|(_, value)| value.into_owned());
                req.set_body(Body::from(bytes));
                token
            }
        };
        let valid = submitted.is_some_and(|token| state.keys.csrf_token_is_valid(cookie, &token));
        if !valid {
            return Err(AppError::Csrf.into());
        }
    }

    let cookie_value = match cookie_value {
        Some(value) => value,
        None => {
            let (value, cookie) = fresh_cookie(state.settings.secure_cookies());
            req.cookie().add(cookie);
            value
        }
    };
    let token = state.keys.csrf_token(&cookie_value);
    req.extensions_mut().insert(CsrfToken(token));
    Ok(next.call(req).await?.into_response())
}
