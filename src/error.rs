//! One error type for the whole site, turned into a Dutch page or a JSON error.

use std::borrow::Cow;

use poem::{
    Response,
    error::ResponseError,
    http::{StatusCode, header},
};

/// What can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("login required")]
    LoginRequired,
    #[error("forbidden")]
    Forbidden,
    /// Forbidden, with a Dutch explanation for the person.
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body came with a `Content-Encoding` (compressed); only `identity` is read.
    #[error("compressed request body")]
    EncodedBody,
    /// Over a rate limit; try again after this many seconds.
    #[error("rate limited for {0} s")]
    RateLimited(u64),
    #[error("database unavailable")]
    Unavailable(#[source] sea_orm::DbErr),
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The result type of handlers and store calls.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// Wraps any error as an internal one, keeping its cause chain for the log.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    fn is_record_not_found(&self) -> bool {
        matches!(self, Self::Database(sea_orm::DbErr::RecordNotFound(_)))
    }
}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::LoginRequired => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Refused(_) | Self::Csrf => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::EncodedBody => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ if self.is_record_not_found() => StatusCode::NOT_FOUND,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        // Pages and JSON are chosen by the error middleware, which knows the route;
        // this plain answer is only a fallback.
        Response::builder()
            .status(self.status())
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(dutch_message(self.status(), Some(self)).into_owned())
    }
}

/// An error and its causes on one line, for the log.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The Dutch sentence a person sees for an error.
pub fn dutch_message(status: StatusCode, error: Option<&AppError>) -> Cow<'static, str> {
    match (error, status) {
        (Some(AppError::RateLimited(seconds)), _) => Cow::Owned(too_fast(*seconds)),
        (Some(AppError::Refused(message)), _) => Cow::Borrowed(message),
        _ => Cow::Borrowed(static_message(status, error)),
    }
}

/// "1 seconde", "30 seconden".
pub fn seconds_nl(seconds: u64) -> String {
    let unit = if seconds == 1 { "seconde" } else { "seconden" };
    format!("{seconds} {unit}")
}

/// "… Probeer het over N seconden opnieuw."
pub fn too_fast(seconds: u64) -> String {
    format!(
        "Je doet te veel verzoeken kort na elkaar. Probeer het over {} opnieuw.",
        seconds_nl(seconds)
    )
}

fn static_message(status: StatusCode, error: Option<&AppError>) -> &'static str {
    match (error, status) {
        (Some(AppError::Csrf), _) => {
            "Dit formulier is verlopen of niet van deze site afkomstig. Laad de pagina opnieuw en probeer het nog eens."
        }
        (Some(AppError::LoginRequired), _) | (_, StatusCode::UNAUTHORIZED) => {
            "Log eerst in om verder te gaan."
        }
        (_, StatusCode::NOT_FOUND) => {
            "Deze pagina bestaat niet (meer). Misschien is het adres verkeerd overgenomen."
        }
        (_, StatusCode::FORBIDDEN) => "Je hebt geen toegang tot deze pagina.",
        (_, StatusCode::PAYLOAD_TOO_LARGE) => {
            "Wat je verstuurde is te groot: de grens ligt bij 64 KB. Maak de tekst korter en probeer het opnieuw."
        }
        (_, StatusCode::METHOD_NOT_ALLOWED) => "Deze pagina kan dat verzoek niet verwerken.",
        (_, StatusCode::UNSUPPORTED_MEDIA_TYPE) => {
            "Deze site neemt geen gecomprimeerde formulieren aan. Verstuur het opnieuw zonder compressie; gewone browsers doen dat vanzelf."
        }
        (_, StatusCode::SERVICE_UNAVAILABLE) => {
            "De site is even niet bereikbaar. Probeer het over een paar minuten opnieuw."
        }
        (_, s) if s.is_server_error() => {
            "Er ging aan onze kant iets mis. Probeer het later nog eens; de beheerders zijn op de hoogte."
        }
        _ => {
            "Dit verzoek kon niet worden verwerkt. Controleer wat je invulde en probeer het opnieuw."
        }
    }
}

/// A stable snake_case code for the JSON API.
pub fn api_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::CONFLICT => "conflict",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "bad_request",
    }
}

/// The English message of the JSON API.
pub fn api_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "The resource does not exist.",
        StatusCode::UNAUTHORIZED => "A valid bearer token is required.",
        StatusCode::FORBIDDEN => "This token may not do that.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than 64 KiB.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed here.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            "Request bodies must not be compressed: send them with no Content-Encoding."
        }
        StatusCode::TOO_MANY_REQUESTS => "Too many requests; see Retry-After.",
        StatusCode::SERVICE_UNAVAILABLE => "The service is temporarily unavailable.",
        s if s.is_server_error() => "Something went wrong on our side.",
        _ => "The request could not be processed.",
    }
}
