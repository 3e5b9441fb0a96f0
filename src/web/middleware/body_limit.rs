//! Caps request bodies at 64 KiB, with or without a Content-Length header, and refuses
//! compressed request bodies. An upload route (`RouteClass::upload`) has its own, larger
//! cap and streams its body.
//!
//! A request with a `Content-Encoding` other than `identity` gets 415 (with
//! `Accept-Encoding: identity`, RFC 7694) before anything reads it: a few KB of zstd can
//! unpack to gigabytes, and no browser form or API client of this site needs to compress
//! what it sends. This runs outside every other reader of the body (rate limits, CSRF,
//! handlers), so none of them can see a body other than the one that was capped.

use poem::{Body, Endpoint, IntoResponse, Request, Response, Result, http::header};
use tokio::io::AsyncReadExt;

use crate::error::AppError;

/// The largest body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub async fn cap<E: Endpoint>(next: E, mut req: Request) -> Result<Response> {
    if is_encoded(&req) {
        return Err(AppError::EncodedBody.into());
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(max) = crate::app::class_of_request(&req).upload
        && req.method() == poem::http::Method::POST
    {
        // An upload streams to its handler; its declared length is its cap (hyper
        // reads no byte past it), so a length is required.
        return match declared {
            None => Err(AppError::LengthRequired.into()),
            Some(len) if len as u64 > max => Err(AppError::UploadTooLarge.into()),
            Some(_) => Ok(next.call(req).await?.into_response()),
        };
    }
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge.into());
    }
    if declared != Some(0) && req.method() != poem::http::Method::GET {
        // Forms and JSON are small: read the body here, at most one byte past the cap.
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
        req.take_body()
            .into_async_read()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| {
                poem::Error::from_string(e.to_string(), poem::http::StatusCode::BAD_REQUEST)
            })?;
        if bytes.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge.into());
        }
        req.set_body(Body::from(bytes));
    }
    Ok(next.call(req).await?.into_response())
}

/// Whether the body carries any content coding besides `identity`.
fn is_encoded(req: &Request) -> bool {
    req.headers()
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("unreadable").split(','))
        .map(str::trim)
        .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
}
