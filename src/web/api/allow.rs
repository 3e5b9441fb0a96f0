//! RFC 9110: a 405 says in `Allow` which methods the resource takes. poem answers 405
//! for an API path with an undeclared method but cannot say which methods are declared;
//! the spec can, so the methods are read from it once and matched by path here.

use std::sync::Arc;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response,
    http::{HeaderValue, StatusCode, header},
};

use crate::error::answer_for;

/// Every path of the spec (as `/api/v1/articles/{slug}`, split at `/`) with its methods.
pub struct Allowed(Vec<(Vec<String>, HeaderValue)>);

impl Allowed {
    /// The paths and methods of a spec (`prefix` is where the API is nested).
    pub fn from_spec(spec: &str, prefix: &str) -> Self {
        const METHODS: [&str; 8] = [
            "get", "put", "post", "delete", "options", "head", "patch", "trace",
        ];
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"].as_object().cloned().unwrap_or_default();
        Self(
            paths
                .into_iter()
                .filter_map(|(path, operations)| {
                    let mut methods: Vec<String> = METHODS
                        .iter()
                        .filter(|m| operations.get(**m).is_some())
                        .map(|m| m.to_uppercase())
                        .collect();
                    // poem answers HEAD wherever it answers GET.
                    if methods.iter().any(|m| m == "GET") {
                        methods.push("HEAD".to_owned());
                    }
                    let value = HeaderValue::from_str(&methods.join(", ")).ok()?;
                    let segments = format!("{prefix}{path}")
                        .split('/')
                        .map(str::to_owned)
                        .collect();
                    Some((segments, value))
                })
                .collect(),
        )
    }

    fn methods_of(&self, path: &str) -> Option<&HeaderValue> {
        let given: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(wanted, _)| {
                wanted.len() == given.len()
                    && wanted.iter().zip(&given).all(|(w, g)| {
                        w == g || (w.starts_with('{') && w.ends_with('}') && !g.is_empty())
                    })
            })
            .map(|(_, methods)| methods)
    }
}

/// The API endpoint, with `Allow` on its 405s.
pub fn with_allow<E: Endpoint + 'static>(api: E, allowed: Allowed) -> impl Endpoint {
    let allowed = Arc::new(allowed);
    api.around(move |next, req: Request| {
        let allowed = Arc::clone(&allowed);
        async move {
            let path = req.original_uri().path().to_owned();
            let result = next.call(req).await.map(IntoResponse::into_response);
            let status = match &result {
                Ok(response) => response.status(),
                Err(err) => err.status(),
            };
            match allowed.methods_of(&path) {
                Some(methods) if status == StatusCode::METHOD_NOT_ALLOWED => {
                    Ok(not_allowed(methods.clone()))
                }
                _ => result,
            }
        }
    })
}

/// The API's JSON 405, with the methods the path takes.
fn not_allowed(methods: HeaderValue) -> Response {
    let answer = answer_for(StatusCode::METHOD_NOT_ALLOWED);
    let body = serde_json::json!({ "error": answer.code, "message": answer.english });
    Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .content_type("application/json")
        .header(header::ALLOW, methods)
        .body(body.to_string())
}
