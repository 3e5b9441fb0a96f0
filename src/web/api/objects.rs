//! The request and response objects of the API, documented for the spec.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object, types::Example};

use super::fields;
use crate::{
    discussion::Action,
    domain::states::{ArticleStatus, CommentStatus},
};

/// An error: a stable snake_case `error` code and an English `message`.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ErrorBody {
    /// `validation_failed`, `not_found`, `unauthorized`, `forbidden`, `rate_limited`,
    /// `reactions_closed`, `banned`, `conflict`, `invalid_parent`, `not_approved`,
    /// `own_reaction`, `bad_request`,
    /// `method_not_allowed`, `payload_too_large`, `unsupported_media_type`,
    /// `unavailable`, `internal_error` or `cors_origin_not_allowed`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// For `validation_failed` and `invalid_parent`: one entry per invalid field.
    #[oai(skip_serializing_if_is_none)]
    pub details: Option<Vec<FieldErrorBody>>,
}

impl Example for ErrorBody {
    fn example() -> Self {
        Self {
            error: "validation_failed".into(),
            message: "One or more fields are invalid.".into(),
            details: Some(vec![FieldErrorBody {
                field: "author_email".into(),
                code: "invalid_email".into(),
                message: "Fill in a valid e-mail address, for example name@example.nl.".into(),
            }]),
        }
    }
}

/// One invalid field.
#[derive(Object, Debug)]
pub struct FieldErrorBody {
    /// The request field, e.g. `author_email`.
    pub field: String,
    /// Why, as a stable snake_case code a client can show its own text for:
    /// `required`, `too_long`, `too_short`, `invalid_length`, `invalid_email`,
    /// `invalid_url`, `invalid_slug`, `invalid_username`, `invalid_choice`, `invalid_parent`,
    /// `line_break`, `control_character`, `taken`, `unknown_user` or `out_of_range`.
    pub code: String,
    /// Why, in English.
    pub message: String,
}

/// A published article in a list.
#[derive(Object, Debug)]
pub struct ArticleSummary {
    /// The article's address: `/artikelen/{slug}`.
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Always set on a published article.
    #[oai(nullable)]
    pub published_at: Option<DateTime<Utc>>,
    /// Approved reactions only.
    pub reaction_count: i64,
}

/// A page of articles, newest first.
#[derive(Object, Debug)]
pub struct ArticleList {
    pub items: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// Whether an article is public.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum ArticleState {
    Draft,
    Published,
}

impl From<ArticleStatus> for ArticleState {
    fn from(status: ArticleStatus) -> Self {
        match status {
            ArticleStatus::Draft => Self::Draft,
            ArticleStatus::Published => Self::Published,
        }
    }
}

impl From<ArticleState> for ArticleStatus {
    fn from(state: ArticleState) -> Self {
        match state {
            ArticleState::Draft => Self::Draft,
            ArticleState::Published => Self::Published,
        }
    }
}

/// An article with its rendered, sanitised body.
#[derive(Object, Debug)]
pub struct Article {
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// HTML rendered from Markdown and sanitised when the article was saved.
    pub body_html: String,
    pub status: ArticleState,
    /// `null` while a draft has never been published.
    #[oai(nullable)]
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub reactions_open: bool,
    /// Approved reactions only.
    pub reaction_count: i64,
}

/// An article as an editor writes it.
#[derive(Object, Debug)]
#[oai(example)]
pub struct ArticleInput {
    /// 1 to 200 characters on one line (white space around them is dropped).
    pub title: fields::Title,
    /// Lowercase letters, digits and single hyphens, at most 100. Absent or `null`:
    /// unchanged on an update, derived from the title on a new article. Blank: derived
    /// from the title (diacritics folded), or `artikel` when the title has no letter or
    /// digit to make one from. A taken slug gets `-2`, `-3`, ...
    #[oai(nullable)]
    pub slug: Option<fields::Slug>,
    /// Plain text, at most 500 characters (white space around them is dropped).
    #[oai(nullable)]
    pub summary: Option<fields::Summary>,
    /// Markdown, not blank, at most 50 000 characters.
    pub body: fields::ArticleBody,
    pub status: ArticleState,
    /// Default: true.
    #[oai(nullable)]
    pub reactions_open: Option<bool>,
}

impl Example for ArticleInput {
    fn example() -> Self {
        Self {
            title: "Het Lerarenportfolio in de praktijk".into(),
            slug: None,
            summary: Some("Wat scholen nu moeten aanleveren.".into()),
            body: "## Wat verandert er?\n\nSchoolbesturen leveren gegevens aan.".into(),
            status: ArticleState::Draft,
            reactions_open: Some(true),
        }
    }
}

/// An approved reaction with its approved replies. Never holds an e-mail address or an
/// address hash: this is a view of its own, not the stored record.
#[derive(Object, Debug)]
pub struct PublicComment {
    pub id: i32,
    /// The reaction this replies to; `null` at the top level.
    #[oai(nullable)]
    pub parent_id: Option<i32>,
    pub author_name: String,
    /// The author's website (http or https), `null` if not given.
    #[oai(nullable)]
    pub author_url: Option<String>,
    /// Sanitised HTML; empty when `deleted`.
    pub body_html: String,
    /// `null` when `deleted`: a removed reaction shows nothing of its author.
    #[oai(nullable)]
    pub created_at: Option<DateTime<Utc>>,
    /// Posted by the editorial team.
    pub by_staff: bool,
    /// A moderator features it: the page lists it under "Uitgelicht" above the thread.
    pub featured: bool,
    /// Readers who marked it helpful ("Nuttig"); 0 when `deleted`.
    pub helpful_count: i32,
    /// A removed reaction kept as a placeholder because it has visible replies; its
    /// name, site and body are empty.
    pub deleted: bool,
    pub replies: Vec<PublicComment>,
}

/// A reaction's "Nuttig" count after a vote, and whether the caller's vote is in it.
#[derive(Object, Debug)]
pub struct VoteResult {
    pub helpful_count: i32,
    pub voted: bool,
}

/// The approved reactions of an article as a tree.
#[derive(Object, Debug)]
pub struct CommentTree {
    /// The article's slug.
    pub article: String,
    /// Approved reactions, replies included (all pages).
    pub count: i64,
    /// This page's top-level reactions, oldest first, each with all its replies.
    pub comments: Vec<PublicComment>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A new reaction, with the same fields and rules as the site's form.
#[derive(Object, Debug)]
#[oai(example)]
pub struct NewComment {
    /// 1 to 80 characters on one line (white space around them is dropped).
    pub author_name: fields::AuthorName,
    /// Required; never shown or returned publicly. At most 254 characters, the part
    /// before the `@` at most 64.
    pub author_email: fields::Email,
    /// http or https, with a host name; blank or `null` for none. At most 2048 characters.
    #[oai(nullable)]
    pub author_url: Option<fields::Url>,
    /// Markdown, not blank, at most 5000 characters (a CR LF line break counts as one);
    /// raw HTML is shown as text.
    pub body: fields::CommentBody,
    /// An approved reaction on the same article; any other id is answered with 409
    /// `invalid_parent`.
    #[oai(nullable)]
    pub parent_id: Option<i32>,
    /// Mail the poster when a reply to this reaction is approved. The first time an
    /// address asks, it gets a mail to confirm that first; ignored when the site sends
    /// no mail.
    #[oai(nullable)]
    pub notify_replies: Option<bool>,
}

impl Example for NewComment {
    fn example() -> Self {
        Self {
            author_name: "Lien Peeters".into(),
            author_email: "lien@example.nl".into(),
            author_url: None,
            body: "Helder stuk, dank je.".into(),
            parent_id: None,
            notify_replies: None,
        }
    }
}

/// Where a reaction stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum CommentState {
    Pending,
    Approved,
    Rejected,
    Spam,
    Deleted,
}

impl From<CommentState> for CommentStatus {
    fn from(state: CommentState) -> Self {
        match state {
            CommentState::Pending => Self::Pending,
            CommentState::Approved => Self::Approved,
            CommentState::Rejected => Self::Rejected,
            CommentState::Spam => Self::Spam,
            CommentState::Deleted => Self::Deleted,
        }
    }
}

impl From<CommentStatus> for CommentState {
    fn from(status: CommentStatus) -> Self {
        match status {
            CommentStatus::Pending => Self::Pending,
            CommentStatus::Approved => Self::Approved,
            CommentStatus::Rejected => Self::Rejected,
            CommentStatus::Spam => Self::Spam,
            CommentStatus::Deleted => Self::Deleted,
        }
    }
}

/// The answer to a new reaction. The rules decide the status; a reaction that looks like
/// spam is reported as `pending`, as on the site.
#[derive(Object, Debug)]
pub struct CommentCreated {
    pub id: i32,
    pub status: CommentState,
}

/// What a moderator does: move the reaction to another status, or feature it above the
/// thread (`feature`, approved reactions only) and stop featuring it (`unfeature`).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum ModerationAction {
    Approve,
    Reject,
    Spam,
    Delete,
    Feature,
    Unfeature,
}

impl From<ModerationAction> for Action {
    fn from(action: ModerationAction) -> Self {
        match action {
            ModerationAction::Approve => Self::Approve,
            ModerationAction::Reject => Self::Reject,
            ModerationAction::Spam => Self::Spam,
            ModerationAction::Delete => Self::Delete,
            ModerationAction::Feature => Self::Feature,
            ModerationAction::Unfeature => Self::Unfeature,
        }
    }
}

/// A moderation decision.
#[derive(Object, Debug)]
pub struct ModerationRequest {
    pub action: ModerationAction,
    /// Kept in the moderation log; at most 500 characters (white space around them is
    /// dropped; blank is no reason).
    #[oai(nullable)]
    pub reason: Option<fields::Reason>,
}

/// The reaction after the decision.
#[derive(Object, Debug)]
pub struct ModerationResult {
    pub id: i32,
    pub status: CommentState,
    /// Featured above the thread; a reaction that leaves `approved` is not any more.
    pub featured: bool,
}

/// A reaction in the moderation queue (staff only: includes the e-mail address).
#[derive(Object, Debug)]
pub struct QueueComment {
    pub id: i32,
    pub article_slug: String,
    pub article_title: String,
    #[oai(nullable)]
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_email: String,
    #[oai(nullable)]
    pub author_url: Option<String>,
    /// The first 10 characters of the HMAC of the client address.
    pub ip_hash_prefix: String,
    pub body_html: String,
    pub status: CommentState,
    pub created_at: DateTime<Utc>,
    /// The rule behind the latest automatic decision, e.g. `links`; `null` if none.
    #[oai(nullable)]
    pub rule: Option<String>,
}

/// A page of the moderation queue.
#[derive(Object, Debug)]
pub struct QueueList {
    pub items: Vec<QueueComment>,
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// What a search result is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum SearchKind {
    Article,
    Reaction,
}

/// One thing a search found.
#[derive(Object, Debug)]
pub struct SearchResult {
    pub kind: SearchKind,
    /// The reaction's id, for a reaction.
    #[oai(skip_serializing_if_is_none)]
    pub comment_id: Option<i32>,
    /// The reaction's author, for a reaction.
    #[oai(skip_serializing_if_is_none)]
    pub author_name: Option<String>,
    /// The article it is (on).
    pub article_title: String,
    /// Its place on the site: `/artikelen/{slug}`, for a reaction with
    /// `?reactie={id}#reactie-{id}`.
    pub url: String,
    /// When the article was published or the reaction written.
    pub at: chrono::DateTime<chrono::Utc>,
    /// About 30 words around what was found, as text.
    pub snippet: String,
    /// The same as HTML: the text escaped, the found words in `<mark>`.
    pub snippet_html: String,
}

/// A page of search results, best first.
#[derive(Object, Debug)]
pub struct SearchResults {
    pub items: Vec<SearchResult>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}
