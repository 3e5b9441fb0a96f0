//! The JSON API under `/api/v1`, typed end to end with poem-openapi. The public objects
//! are views of their own (never entities), so e-mail and address hashes cannot leak.

pub mod allow;
pub mod articles;
pub mod cached;
pub mod comments;
pub mod docs;
pub mod fields;
pub mod moderation;
pub mod objects;
pub mod search;
pub mod votes;

use std::marker::PhantomData;

use chrono::Utc;
use poem::{Request, http::StatusCode};
use poem_openapi::{
    ApiResponse, OpenApiService, SecurityScheme, Tags,
    auth::Bearer,
    payload::Json,
    registry::{MetaResponses, Registry},
};

use crate::{
    app::state_of,
    domain::validate::{FieldErrors, Role},
    error::AppError,
    security, store,
};
use objects::{ErrorBody, FieldErrorBody};

/// The groups of the API in the docs.
#[derive(Tags)]
pub enum ApiTags {
    /// Published articles.
    Articles,
    /// Reactions (comments) on articles.
    Comments,
    /// Staff: the moderation queue and decisions.
    Moderation,
    /// Searching articles and reactions.
    Search,
}

/// The API as one service, with the spec and docs derived from the code.
pub fn service() -> OpenApiService<
    (
        articles::ArticlesApi,
        comments::CommentsApi,
        moderation::ModerationApi,
        search::SearchApi,
        votes::VotesApi,
    ),
    (),
> {
    OpenApiService::new(
        (
            articles::ArticlesApi,
            comments::CommentsApi,
            moderation::ModerationApi,
            search::SearchApi,
            votes::VotesApi,
        ),
        "Kantlijn API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Articles with moderated reader discussion. Public reads need no token; staff \
         endpoints take `Authorization: Bearer <token>` (create one with `kantlijn token \
         create NAME` or at /beheer/tokens). Errors are `{error, message}` with stable \
         snake_case codes.",
    )
    .server("/api/v1")
}

/// A staff member acting through an API token, with the token's user's role.
pub struct ApiUser {
    pub id: i32,
    pub role: Role,
}

/// `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", rename = "BearerToken", checker = "check_token")]
pub struct TokenAuth(ApiUser);

/// A bearer token if the request carries one: public reads and posts take it so that
/// staff see drafts, as on the site.
#[derive(SecurityScheme)]
pub enum MaybeToken {
    Token(TokenAuth),
    #[oai(fallback)]
    Anonymous,
}

impl MaybeToken {
    /// The token's user; `None` without a token. A token that is not valid is a 401, not
    /// a silent anonymous request, and one that could not be checked (the database is
    /// away) a 503.
    pub async fn user(self, req: &Request) -> Result<Option<ApiUser>, ApiError> {
        if let Self::Token(TokenAuth(user)) = self {
            return Ok(Some(user));
        }
        let Some(header) = req.headers().get(poem::http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        // The fallback does not say why the check failed: asked again, it does.
        let token = header
            .to_str()
            .ok()
            .and_then(security::bearer_token)
            .ok_or(AppError::LoginRequired)?;
        let bearer = Bearer {
            token: token.to_owned(),
        };
        match check_token(req, bearer).await {
            Ok(user) => Ok(Some(user)),
            Err(err) => Err(match err.downcast::<AppError>() {
                Ok(app) => app.into(),
                Err(_) => AppError::LoginRequired.into(),
            }),
        }
    }
}

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<ApiUser> {
    let state = state_of(req)?;
    let found =
        store::tokens::use_token(&state.db, &security::token_hash(&bearer.token), Utc::now()).await;
    // A call, not `AppError::from` passed as a function: only a call records this line.
    #[allow(clippy::redundant_closure)]
    let user = found
        .map_err(|e| AppError::from(e))?
        .ok_or(AppError::LoginRequired)?;
    Ok(ApiUser {
        id: user.id,
        role: user.role,
    })
}

/// Every error the API answers, as `{error, message}` with a stable code.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request could not be read.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid bearer token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>, #[oai(header = "WWW-Authenticate")] String),
    /// The token's user may not do this, or reactions are closed, or the sender is banned.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such article or reaction.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The change clashes with another one.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// One or more fields are invalid; `details` says which.
    #[oai(status = 422)]
    ValidationFailed(Json<ErrorBody>),
    /// The request body is larger than 64 KiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The request body was compressed; send it with no `Content-Encoding`.
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Over the rate limit; see `Retry-After`.
    #[oai(status = 429)]
    RateLimited(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
    /// Something went wrong on the server.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database does not answer or is out of connections; try again after
    /// `Retry-After` seconds.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>, #[oai(header = "Retry-After")] u64),
}

/// The statuses one operation can answer with besides its success, for its spec.
pub trait Statuses: Send + Sync + 'static {
    const LIST: &'static [u16];
}

/// What every operation can answer, whatever it does: a body over 64 KiB (413), a
/// compressed body or a body that is not JSON (415), a rate limit (429), a failure (500)
/// and the database being away (503).
const EVERY_ROUTE: [u16; 5] = [413, 415, 429, 500, 503];

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident: [$($status:literal),*];)+) => {
        $(
            $(#[$doc])*
            pub struct $name;

            impl Statuses for $name {
                const LIST: &'static [u16] = &[$($status),*];
            }
        )+
    };
}

statuses! {
    /// `GET /articles`: 400 for a query that does not parse, as everywhere.
    ListArticles: [400];
    /// `GET /articles/{slug}`: 400 for a path that does not decode (`%FF`), as on every
    /// route with a path parameter.
    ShowArticle: [400, 401, 404];
    /// `POST /articles`.
    CreateArticle: [400, 401, 403, 409, 422];
    /// `PUT /articles/{slug}`.
    UpdateArticle: [400, 401, 403, 404, 409, 422];
    /// `GET /articles/{slug}/comments`.
    ShowTree: [400, 401, 404];
    /// `POST /articles/{slug}/comments`.
    PostComment: [400, 401, 403, 404, 409, 422];
    /// `GET /moderation/queue`.
    ShowQueue: [400, 401, 403];
    /// `POST /comments/{id}/moderation`: 409 `not_approved` for featuring a reaction
    /// that is not approved.
    Moderate: [400, 401, 403, 404, 409, 422];
    /// `GET /search`: 400 for a cursor that is not one.
    SearchSite: [400];
    /// `POST|DELETE /comments/{id}/vote`: 422 on the caller's own reaction.
    CastVote: [400, 404, 422];
}

/// An [`ApiError`] from an operation whose spec lists exactly the error statuses `S` and
/// [`EVERY_ROUTE`]'s, not every status an API error can have.
pub struct Answers<S>(pub ApiError, PhantomData<S>);

impl<S: Statuses> ApiResponse for Answers<S> {
    fn meta() -> MetaResponses {
        let mut meta = ApiError::meta();
        meta.responses.retain(|response| {
            response
                .status
                .is_some_and(|status| S::LIST.contains(&status) || EVERY_ROUTE.contains(&status))
        });
        meta
    }

    fn register(registry: &mut Registry) {
        ApiError::register(registry);
    }
}

impl<S> From<Answers<S>> for poem::Error {
    fn from(answer: Answers<S>) -> Self {
        answer.0.into()
    }
}

impl<S> From<ApiError> for Answers<S> {
    fn from(err: ApiError) -> Self {
        Self(err, PhantomData)
    }
}

impl<S> From<AppError> for Answers<S> {
    fn from(err: AppError) -> Self {
        Self(ApiError::from(err), PhantomData)
    }
}

impl<S> From<sea_orm::DbErr> for Answers<S> {
    #[track_caller]
    fn from(err: sea_orm::DbErr) -> Self {
        Self(ApiError::from(err), PhantomData)
    }
}

fn body(code: &str, message: &str) -> Json<ErrorBody> {
    Json(ErrorBody {
        error: code.to_owned(),
        message: message.to_owned(),
        details: None,
    })
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(body("not_found", what))
    }

    pub fn forbidden(message: &str) -> Self {
        Self::Forbidden(body("forbidden", message))
    }

    pub fn reactions_closed() -> Self {
        Self::Forbidden(body(
            "reactions_closed",
            "Reactions on this article are closed.",
        ))
    }

    pub fn banned() -> Self {
        Self::Forbidden(body(
            "banned",
            "This e-mail address or client address may not post reactions.",
        ))
    }

    /// A 422 for a vote on the caller's own reaction.
    pub fn own_reaction() -> Self {
        Self::ValidationFailed(body("own_reaction", crate::web::votes::OWN.english))
    }

    pub fn bad_request(message: &str) -> Self {
        Self::BadRequest(body("bad_request", message))
    }

    /// A 422 with one entry per invalid field: its code and its English message.
    pub fn validation(errors: &FieldErrors) -> Self {
        Self::ValidationFailed(Json(ErrorBody {
            error: "validation_failed".to_owned(),
            message: "One or more fields are invalid.".to_owned(),
            details: Some(details(errors)),
        }))
    }

    /// A 409 for a reply to something that is not an approved reaction on the article:
    /// the request is well formed, the thread is not as it assumes.
    pub fn invalid_parent(errors: &FieldErrors) -> Self {
        Self::Conflict(Json(ErrorBody {
            error: "invalid_parent".to_owned(),
            message: "The reaction this replies to is not a published reaction on this article."
                .to_owned(),
            details: Some(details(errors)),
        }))
    }

    /// Checks a role for a staff endpoint.
    pub fn require(user: &ApiUser, allowed: fn(Role) -> bool) -> Result<(), Self> {
        if allowed(user.role) {
            Ok(())
        } else {
            Err(Self::forbidden(
                "This token's user does not have the role this needs.",
            ))
        }
    }
}

/// One entry per invalid field: its code and its English message.
fn details(errors: &FieldErrors) -> Vec<FieldErrorBody> {
    errors
        .iter()
        .map(|(field, message)| FieldErrorBody {
            field: field.to_owned(),
            code: message.code.to_owned(),
            message: message.english.to_owned(),
        })
        .collect()
}

/// The API's answer to any error: the status, code and message of the one answer table
/// in `error.rs` that the pages use too.
impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let answer = err.answer();
        let json = body(answer.code, &answer.english);
        match err {
            AppError::Invalid { field, message } => {
                let mut errors = FieldErrors::default();
                errors.insert(field, message);
                Self::validation(&errors)
            }
            AppError::LoginRequired => Self::Unauthorized(json, "Bearer".to_owned()),
            AppError::RateLimited(seconds) => Self::RateLimited(json, seconds),
            _ => match answer.status {
                StatusCode::NOT_FOUND => Self::NotFound(json),
                StatusCode::FORBIDDEN => Self::Forbidden(json),
                StatusCode::CONFLICT => Self::Conflict(json),
                StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge(json),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType(json),
                StatusCode::SERVICE_UNAVAILABLE => {
                    tracing::warn!(error = %crate::error::chain(&err), "API: database unavailable");
                    Self::Unavailable(json, crate::error::UNAVAILABLE_RETRY_SECONDS)
                }
                status if status.is_client_error() => Self::BadRequest(json),
                _ => {
                    tracing::error!(error = %crate::error::chain(&err), "API request failed");
                    Self::Internal(json)
                }
            },
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    /// Like `AppError`'s: the log line names the `?` that converted the error.
    #[track_caller]
    fn from(err: sea_orm::DbErr) -> Self {
        if store::is_unique_violation(&err) {
            return Self::Conflict(body(
                "conflict",
                "The change clashes with existing data; try again.",
            ));
        }
        AppError::from(err).into()
    }
}

/// The page size: 20 unless asked, never more than 100.
pub fn page_size(limit: Option<u32>) -> u64 {
    u64::from(limit.unwrap_or(20).clamp(1, 100))
}
