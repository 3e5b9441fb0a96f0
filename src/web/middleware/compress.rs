//! Compresses responses for clients that take it: text, JSON and XML, not what is
//! compressed already (cached pages come with their own gzip), not empty answers.
//! Request bodies are never unpacked here (the body cap refuses compressed ones).

use poem::{
    Endpoint, IntoResponse, Request, Response, Result,
    http::{HeaderValue, StatusCode, header},
    web::{Compress, CompressionAlgo},
};

use crate::web::page_cache::accepts;

pub async fn compress<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    let algo = if accepts(&req, "gzip") {
        Some(CompressionAlgo::GZIP)
    } else if accepts(&req, "br") {
        Some(CompressionAlgo::BR)
    } else {
        None
    };
    let mut response = next.call(req).await?.into_response();
    if !compressible(&response) {
        return Ok(response);
    }
    let varies = response.headers().get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding"))
    });
    if !varies {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    Ok(match algo {
        Some(algo) => Compress::new(response, algo).into_response(),
        None => response,
    })
}

fn compressible(response: &Response) -> bool {
    let worth = response.content_type().is_some_and(|t| {
        t.starts_with("text/")
            || t.starts_with("application/json")
            || t.starts_with("application/atom+xml")
            || t.starts_with("application/xml")
            || t.starts_with("image/svg+xml")
    });
    worth
        && !response.headers().contains_key(header::CONTENT_ENCODING)
        && !matches!(
            response.status(),
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        )
}
