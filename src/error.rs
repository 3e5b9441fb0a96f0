//! One error type for the whole site, and one table of how each error is answered: a
//! status, a stable code and an English message for the API, a Dutch sentence for pages.

use std::{borrow::Cow, panic::Location};

use poem::{
    Response,
    error::ResponseError,
    http::{StatusCode, header},
};

use crate::domain::validate::FieldMessage;

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
    /// One field of a form or a request did not pass its check.
    #[error("invalid {field}: {}", message.english)]
    Invalid {
        field: &'static str,
        message: FieldMessage,
    },
    /// Only an approved reaction can be featured.
    #[error("not an approved reaction")]
    NotApproved,
    #[error("missing or invalid CSRF token")]
    Csrf,
    #[error("request body too large")]
    PayloadTooLarge,
    /// An upload larger than its route takes.
    #[error("upload too large")]
    UploadTooLarge,
    /// An upload without a `Content-Length` (its cap is checked against it).
    #[error("upload without a length")]
    LengthRequired,
    /// The body came with a `Content-Encoding` (compressed); only `identity` is read.
    #[error("compressed request body")]
    EncodedBody,
    /// Over a rate limit; try again after this many seconds.
    #[error("rate limited for {0} s")]
    RateLimited(u64),
    /// The database is down, restarting or out of connections: try again shortly.
    #[error("database unavailable")]
    Unavailable(#[source] sea_orm::DbErr),
    /// A query failed; `at` is where the handler or service asked for it.
    #[error("database error at {}:{}", at.file(), at.line())]
    Database {
        #[source]
        source: sea_orm::DbErr,
        at: &'static Location<'static>,
    },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for AppError {
    /// Records where the `?` that converted the error stands, so that the log line of a
    /// failed query says which one it was.
    #[track_caller]
    fn from(source: sea_orm::DbErr) -> Self {
        if crate::store::is_unavailable(&source) {
            return Self::Unavailable(source);
        }
        Self::Database {
            source,
            at: Location::caller(),
        }
    }
}

/// The `Retry-After` of a 503 while the database is away: a restart takes seconds.
pub const UNAVAILABLE_RETRY_SECONDS: u64 = 5;

/// The result type of handlers and store calls.
pub type AppResult<T> = Result<T, AppError>;

/// How an error is answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    /// Stable snake_case code of the API.
    pub code: &'static str,
    /// The API's message.
    pub english: Cow<'static, str>,
    /// The sentence on the page.
    pub dutch: Cow<'static, str>,
}

impl AppError {
    /// Wraps any error as an internal one, keeping its cause chain for the log.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    /// How this error is answered, on a page and in the API alike.
    pub fn answer(&self) -> Answer {
        let with = |status: StatusCode, dutch: Cow<'static, str>| Answer {
            dutch,
            ..answer_for(status)
        };
        match self {
            Self::NotFound => answer_for(StatusCode::NOT_FOUND),
            Self::Database {
                source: sea_orm::DbErr::RecordNotFound(_),
                ..
            } => answer_for(StatusCode::NOT_FOUND),
            Self::LoginRequired => answer_for(StatusCode::UNAUTHORIZED),
            Self::Forbidden => answer_for(StatusCode::FORBIDDEN),
            Self::Refused(dutch) => with(StatusCode::FORBIDDEN, Cow::Borrowed(dutch)),
            Self::Invalid { message, .. } => Answer {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed",
                english: Cow::Borrowed(message.english),
                dutch: Cow::Borrowed(message.dutch),
            },
            Self::NotApproved => Answer {
                status: StatusCode::CONFLICT,
                code: "not_approved",
                english: Cow::Borrowed(
                    "Only an approved reaction can be featured; approve it first.",
                ),
                dutch: Cow::Borrowed(
                    "Alleen een goedgekeurde reactie kan worden uitgelicht. Keur de reactie eerst goed.",
                ),
            },
            Self::Csrf => with(
                StatusCode::FORBIDDEN,
                Cow::Borrowed(
                    "Dit formulier is verlopen of niet van deze site afkomstig. Laad de pagina opnieuw en probeer het nog eens.",
                ),
            ),
            Self::PayloadTooLarge => answer_for(StatusCode::PAYLOAD_TOO_LARGE),
            Self::UploadTooLarge => Answer {
                english: Cow::Borrowed("The upload is larger than this route takes."),
                dutch: Cow::Owned(format!(
                    "Dit bestand is te groot om via de site te importeren (de grens ligt bij \
                     {} MB). Importeer het op de server met de opdracht kantlijn import.",
                    crate::web::admin::import::MAX_UPLOAD_BYTES / (1024 * 1024)
                )),
                ..answer_for(StatusCode::PAYLOAD_TOO_LARGE)
            },
            Self::LengthRequired => Answer {
                code: "length_required",
                english: Cow::Borrowed("An upload needs a Content-Length header."),
                dutch: Cow::Borrowed(
                    "Je browser gaf de grootte van het bestand niet mee. Probeer het opnieuw \
                     met een gewone browser, of importeer op de server met de opdracht \
                     kantlijn import.",
                ),
                ..answer_for(StatusCode::LENGTH_REQUIRED)
            },
            Self::EncodedBody => answer_for(StatusCode::UNSUPPORTED_MEDIA_TYPE),
            Self::RateLimited(seconds) => Answer {
                english: Cow::Owned(format!(
                    "Too many requests; try again in {seconds} s (see Retry-After)."
                )),
                dutch: Cow::Owned(too_fast(*seconds)),
                ..answer_for(StatusCode::TOO_MANY_REQUESTS)
            },
            Self::Unavailable(_) => answer_for(StatusCode::SERVICE_UNAVAILABLE),
            Self::Database { .. } | Self::Internal(_) => {
                answer_for(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// The answer for a status, also for errors that are not ours (poem's 404 for an unknown
/// route, 405, an unreadable body).
pub fn answer_for(status: StatusCode) -> Answer {
    let (code, english, dutch) = match status {
        StatusCode::NOT_FOUND => (
            "not_found",
            "The resource does not exist.",
            "Deze pagina bestaat niet (meer). Misschien is het adres verkeerd overgenomen.",
        ),
        StatusCode::UNAUTHORIZED => (
            "unauthorized",
            "A valid bearer token is required.",
            "Log eerst in om verder te gaan.",
        ),
        StatusCode::FORBIDDEN => (
            "forbidden",
            "You may not do that.",
            "Je hebt geen toegang tot deze pagina.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "The request body is larger than 64 KiB.",
            "Wat je verstuurde is te groot: de grens ligt bij 64 KB. Maak de tekst korter en probeer het opnieuw.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This method is not allowed here.",
            "Deze pagina kan dat verzoek niet verwerken.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Request bodies must not be compressed: send them with no Content-Encoding.",
            "Deze site neemt geen gecomprimeerde formulieren aan. Verstuur het opnieuw zonder compressie; gewone browsers doen dat vanzelf.",
        ),
        StatusCode::TOO_MANY_REQUESTS => (
            "rate_limited",
            "Too many requests; see Retry-After.",
            "Je doet te veel verzoeken kort na elkaar. Probeer het later opnieuw.",
        ),
        StatusCode::CONFLICT => (
            "conflict",
            "The change clashes with existing data; try again.",
            "Dit botst met een andere wijziging. Laad de pagina opnieuw en probeer het nog eens.",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "validation_failed",
            "One or more fields are invalid.",
            "Dit verzoek kon niet worden verwerkt. Controleer wat je invulde en probeer het opnieuw.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "unavailable",
            "The service is temporarily unavailable.",
            "De site is even niet bereikbaar. Probeer het over een paar minuten opnieuw.",
        ),
        s if s.is_server_error() => (
            "internal_error",
            "Something went wrong on our side.",
            "Er ging aan onze kant iets mis. Probeer het later nog eens; de beheerders zijn op de hoogte.",
        ),
        _ => (
            "bad_request",
            "The request could not be processed.",
            "Dit verzoek kon niet worden verwerkt. Controleer wat je invulde en probeer het opnieuw.",
        ),
    };
    Answer {
        status,
        code,
        english: Cow::Borrowed(english),
        dutch: Cow::Borrowed(dutch),
    }
}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        self.answer().status
    }

    fn as_response(&self) -> Response {
        // Pages and JSON are chosen by the error middleware, which knows the route;
        // this plain answer is only a fallback.
        let answer = self.answer();
        Response::builder()
            .status(answer.status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(answer.dutch.into_owned())
    }
}

/// An error and its causes on one line, for the log and the CLI, leaving out a cause its
/// error already quotes (sea-orm and sqlx wrap errors that repeat their source's text).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages and the API answer from the same row: the status and code agree, whichever
    /// way an error is shown.
    #[test]
    fn every_error_has_one_status_and_code() {
        let cases = [
            (AppError::NotFound, StatusCode::NOT_FOUND, "not_found"),
            (
                AppError::PayloadTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (
                AppError::EncodedBody,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            (
                AppError::RateLimited(7),
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
            ),
            (
                AppError::Refused("Nee."),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (AppError::NotApproved, StatusCode::CONFLICT, "not_approved"),
            (
                AppError::internal(anyhow::anyhow!("x")),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
            ),
        ];
        for (error, status, code) in cases {
            let answer = error.answer();
            assert_eq!((answer.status, answer.code), (status, code), "{error}");
            assert_eq!(ResponseError::status(&error), status);
        }
        assert!(
            AppError::RateLimited(7)
                .answer()
                .dutch
                .contains("7 seconden")
        );
        assert_eq!(AppError::Refused("Nee.").answer().dutch, "Nee.");
    }

    #[test]
    fn a_database_error_says_where_it_was_asked_for() {
        fn query() -> AppResult<()> {
            Err(sea_orm::DbErr::Custom("kapot".into()))?
        }
        let text = chain(&query().unwrap_err());
        assert!(
            text.starts_with("database error at src/error.rs:"),
            "{text}"
        );
        assert!(text.ends_with("kapot"), "{text}");
    }
}
