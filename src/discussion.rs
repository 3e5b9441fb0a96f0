//! The one code path below the handlers for reactions: posting (form and API alike),
//! a reader's own edit and deletion, and moderators' decisions. Each runs in one
//! transaction, so the reaction and its log row are stored together or not at all, and
//! each change readers could see bumps the article's version before it returns, so no
//! cached page outlives it.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::store::changes::Change;
use crate::{
    domain::{
        markdown,
        moderation::{self, Decision, Facts, Featuring, Rule, Rules},
        states::{CommentStatus, LogAction},
        validate::{
            AuthorName, CommentBody, Email, FieldErrors, FieldMessage, ModerationReason, WebUrl,
        },
    },
    entity::{articles, comments},
    error::{AppError, AppResult},
    metrics::Metrics,
    notifications::{self, Mailer},
    security::{self, AddressHash},
    store::{
        self, Db,
        audit::{self, Entry},
        bans::Standing,
        comments::NewComment,
        inbox::{After, Decide, LogRow, Verdict},
    },
};

/// How long a reader may edit or delete their own reaction.
pub const EDIT_WINDOW_MINUTES: i64 = 15;

/// A reaction's fields after validation.
#[derive(Debug)]
pub struct CommentInput {
    pub author_name: AuthorName,
    pub author_email: Email,
    pub author_url: Option<WebUrl>,
    pub body: CommentBody,
    pub parent_id: Option<i32>,
}

/// The raw fields of a reaction, as a form or the API sends them.
#[derive(Debug, Clone)]
pub struct RawComment<'a> {
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub author_url: &'a str,
    pub body: &'a str,
    /// A form's field goes through [`parse_parent`]; a typed request has it read already.
    pub parent_id: Result<Option<i32>, FieldMessage>,
}

/// Reads a form's `parent_id` field: empty for a new thread.
pub fn parse_parent(field: &str) -> Result<Option<i32>, FieldMessage> {
    match field.trim() {
        "" => Ok(None),
        id => id.parse().map(Some).map_err(|_| PARENT_UNKNOWN),
    }
}

impl TryFrom<RawComment<'_>> for CommentInput {
    type Error = FieldErrors;

    fn try_from(raw: RawComment<'_>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let author_name = errors.check("author_name", AuthorName::parse(raw.author_name));
        let author_email = errors.check("author_email", Email::parse(raw.author_email));
        let author_url = errors.check("author_url", WebUrl::parse_optional(raw.author_url));
        let body = errors.check("body", CommentBody::parse(raw.body));
        let parent_id = errors.check("parent_id", raw.parent_id);
        match (author_name, author_email, author_url, body, parent_id) {
            (
                Some(author_name),
                Some(author_email),
                Some(author_url),
                Some(body),
                Some(parent_id),
            ) if errors.is_empty() => Ok(Self {
                author_name,
                author_email,
                author_url,
                body,
                parent_id,
            }),
            _ => Err(errors),
        }
    }
}

/// Everything known about one attempt to post.
pub struct Submission<'a> {
    pub article: &'a articles::Model,
    /// Checked by `submit`, after it made sure the article takes reactions.
    pub input: RawComment<'a>,
    /// The logged-in staff member posting, if any.
    pub staff_user_id: Option<i32>,
    pub address: AddressHash,
    /// Form checks (honeypot, 2-second rule) when posted through the HTML form.
    pub form: Option<FormSignals>,
    /// The poster ticked "Mail me als iemand reageert" (`notify_replies`).
    pub notify_replies: bool,
    /// Set when the site sends mail: the reaction may set some off.
    pub mailer: Option<Mailer>,
}

/// What the HTML form says about who filled it in.
#[derive(Clone, Copy, Debug)]
pub struct FormSignals {
    pub honeypot_filled: bool,
    /// Seconds since the form was served; `None` for a missing or forged token.
    pub age_seconds: Option<i64>,
}

/// What became of a submission.
#[derive(Debug)]
pub enum Outcome {
    /// Stored; the edit key goes to the poster (in a cookie or the API answer).
    Stored {
        comment: Box<comments::Model>,
        edit_key: String,
    },
    /// A field is invalid, or the parent is not an approved reaction of this article.
    Invalid(FieldErrors),
    /// Banned: nothing is stored.
    Banned,
    /// The article takes no reactions (any more): nothing is stored.
    Closed,
}

const PARENT_UNKNOWN: FieldMessage = FieldMessage::new(
    "invalid_parent",
    "Deze reactie bestaat niet (meer); reageer op een andere of plaats een nieuwe.",
    "This reaction does not exist (any more); reply to another one or post a new one.",
);

const PARENT_INVALID: FieldMessage = FieldMessage::new(
    "invalid_parent",
    "Je kunt alleen reageren op een geplaatste reactie bij dit artikel.",
    "A reply can only answer a published reaction on this article.",
);

/// Checks that the article takes reactions (first, so nobody fixes a text only to be
/// refused), validates the fields and the parent, applies the rules, stores the reaction
/// and logs the decision.
///
/// The reaction joins the store's inbox, which looks up its poster's standing (bans,
/// known author) with the others that arrived at the same moment, runs these rules and
/// writes the batch in one transaction. A parent rejected in the instant between its
/// check here and that write is harmless: the reply is stored and shown under a
/// placeholder, like any reply to a hidden reaction.
pub async fn submit(
    db: &Db,
    rules: Arc<Rules>,
    metrics: &Metrics,
    submission: Submission<'_>,
) -> AppResult<Outcome> {
    if !submission.article.reactions_open {
        return Ok(Outcome::Closed);
    }
    let input = match CommentInput::try_from(submission.input) {
        Ok(input) => input,
        Err(errors) => return Ok(Outcome::Invalid(errors)),
    };
    let article_id = submission.article.id;
    if let Some(parent_id) = input.parent_id
        && !store::comments::is_approved_on(db.read(), parent_id, article_id).await?
    {
        let mut errors = FieldErrors::default();
        errors.insert("parent_id", PARENT_INVALID);
        return Ok(Outcome::Invalid(errors));
    }
    let name = input.author_name.as_ref().to_owned();
    let body = input.body.as_ref().to_owned();
    let form = submission.form;
    let by_staff = submission.staff_user_id.is_some();
    let decide: Decide = Box::new(move |standing: Standing| {
        let decision = moderation::decide(
            &rules,
            &Facts {
                author_name: &name,
                body: &body,
                by_staff,
                banned: standing.banned,
                known_author: standing.known_author,
                honeypot_filled: form.is_some_and(|f| f.honeypot_filled),
                form_age_seconds: form.and_then(|f| f.age_seconds),
                from_form: form.is_some(),
                is_edit: false,
            },
        );
        let status = match decision {
            Decision::Refuse(_) => return Verdict::Refuse,
            Decision::Approve(_) => CommentStatus::Approved,
            Decision::Hold(_) => CommentStatus::Pending,
            Decision::Spam(_) => CommentStatus::Spam,
        };
        Verdict::Store {
            status,
            log: LogRow {
                actor: audit::SYSTEM.to_owned(),
                action: LogAction::Submit,
                to_status: status,
                reason: Some(decision.rule().as_str().to_owned()),
            },
        }
    });
    let notify_replies = submission.notify_replies && submission.mailer.is_some();
    let after = submission
        .mailer
        .filter(|_| notify_replies || input.parent_id.is_some())
        .map(|mailer| mail_after(mailer, submission.article.title.clone(), notify_replies));
    let mails = after.is_some();
    let edit_key = security::random_token();
    let new = NewComment {
        article_id,
        parent_id: input.parent_id,
        body_html: markdown::render_reaction(input.body.as_ref()),
        author_name: input.author_name,
        author_email: input.author_email,
        author_url: input.author_url,
        body: input.body,
        // The rules decide in the inbox; this is never stored as it is.
        status: CommentStatus::Pending,
        user_id: submission.staff_user_id,
        address: submission.address,
        edit_key_hash: Some(security::token_hash(&edit_key)),
        notify_replies,
    };
    let Some(comment) = db.inbox().submit(new, decide, after).await? else {
        return Ok(Outcome::Banned);
    };
    if mails {
        db.mail_queued();
    }
    if comment.status == CommentStatus::Approved {
        db.changed(Change::Article(article_id)).await;
    }
    metrics.reaction_posted(comment.status);
    Ok(Outcome::Stored {
        comment: Box::new(comment),
        edit_key,
    })
}

/// The mail a new reaction may set off, queued in the transaction that stores it: the
/// double opt-in when its poster asked for notifications, and the notification of the
/// parent's author when it is an approved reply.
fn mail_after(mailer: Mailer, article_title: String, notify_replies: bool) -> After {
    Box::new(move |txn, comment| {
        let (mailer, title) = (mailer.clone(), article_title.clone());
        Box::pin(async move {
            let now = Utc::now();
            // The rules took it for spam: its poster (a bot, likely, with someone else's
            // address) gets no mail.
            if notify_replies && comment.status != CommentStatus::Spam {
                notifications::ask(txn, &mailer, comment, &title, now).await?;
            }
            notifications::replies_approved(txn, &mailer, std::slice::from_ref(comment), now)
                .await?;
            Ok(())
        })
    })
}

/// Whether a reader still holds the right to change this reaction: the edit key matches
/// and the window has not closed.
pub fn may_edit(comment: &comments::Model, edit_key: Option<&str>, now: DateTime<Utc>) -> bool {
    holds_key(edit_key, comment.edit_key_hash.as_deref())
        && editable(comment.status, comment.created_at, now)
}

/// Whether a reaction in `status`, posted at `created_at`, may still be changed by the
/// one who holds its key: the part of [`may_edit`] that a page shows as "Bewerken".
pub fn editable(status: CommentStatus, created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    matches!(
        status,
        CommentStatus::Pending | CommentStatus::Approved | CommentStatus::Spam
    ) && edit_window_open(created_at, now)
}

/// Whether the edit key a browser holds belongs to the stored hash.
pub fn holds_key(edit_key: Option<&str>, edit_key_hash: Option<&str>) -> bool {
    match (edit_key, edit_key_hash) {
        (Some(key), Some(hash)) => security::token_hash(key) == hash,
        _ => false,
    }
}

/// Whether a reaction posted at `created_at` may still be changed by its poster.
pub fn edit_window_open(created_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - created_at < Duration::minutes(EDIT_WINDOW_MINUTES)
}

/// A reader's edit: the rules run again, so an approved reaction that gains links goes
/// back to the queue. Spam stays spam. A reply the edit gets approved tells its
/// parent's author (`mailer`), as a moderator's approval would.
pub async fn edit(
    db: &Db,
    rules: &Rules,
    comment: comments::Model,
    body: CommentBody,
    mailer: Option<&Mailer>,
) -> AppResult<comments::Model> {
    let from = comment.status;
    let to = if from == CommentStatus::Spam {
        (CommentStatus::Spam, None)
    } else {
        let email = Email::parse(&comment.author_email).ok();
        let name = AuthorName::parse(&comment.author_name).ok();
        let known_author = match (&email, &name) {
            (Some(email), Some(name)) => {
                store::comments::author_is_known(db.read(), email, name).await?
            }
            _ => false,
        };
        let decision = moderation::decide(
            rules,
            &Facts {
                author_name: &comment.author_name,
                body: body.as_ref(),
                by_staff: comment.user_id.is_some(),
                known_author,
                is_edit: true,
                ..Facts::default()
            },
        );
        match decision {
            Decision::Approve(rule) => (CommentStatus::Approved, Some(rule)),
            Decision::Hold(rule) => (CommentStatus::Pending, Some(rule)),
            Decision::Spam(rule) | Decision::Refuse(rule) => (CommentStatus::Spam, Some(rule)),
        }
    };
    let (to, rule) = to;
    let id = comment.id;
    let article_id = comment.article_id;
    let html = markdown::render_reaction(body.as_ref());
    let txn = db.begin().await?;
    let updated = store::comments::update_body(&txn, comment, body, html, to).await?;
    audit::record(
        &txn,
        Entry {
            comment_id: id,
            actor: audit::SYSTEM,
            action: LogAction::Edit,
            from_status: Some(from),
            to_status: to,
            reason: rule.map(Rule::as_str),
        },
    )
    .await?;
    let mails = match mailer {
        Some(mailer) => {
            notifications::replies_approved(
                &txn,
                mailer,
                std::slice::from_ref(&updated),
                Utc::now(),
            )
            .await?
        }
        None => false,
    };
    store::search::sync_comments(&txn, &[id]).await?;
    txn.commit().await?;
    if mails {
        db.mail_queued();
    }
    db.changed(Change::Article(article_id)).await;
    Ok(updated)
}

/// A reader deletes their own reaction.
pub async fn delete_own(db: &Db, comment: comments::Model) -> AppResult<()> {
    let txn = db.begin().await?;
    let from = comment.status;
    let id = comment.id;
    let article_id = comment.article_id;
    store::comments::set_status(&txn, comment, CommentStatus::Deleted).await?;
    audit::record(
        &txn,
        Entry {
            comment_id: id,
            actor: audit::READER,
            action: LogAction::Delete,
            from_status: Some(from),
            to_status: CommentStatus::Deleted,
            reason: None,
        },
    )
    .await?;
    store::search::sync_comments(&txn, &[id]).await?;
    txn.commit().await?;
    db.changed(Change::Article(article_id)).await;
    Ok(())
}

/// What a moderator does to reactions: move them to another status, or feature them
/// above the thread ("Uitgelicht") and stop doing so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Approve,
    Reject,
    Spam,
    Delete,
    Feature,
    Unfeature,
}

impl Action {
    pub const ALL: [Self; 6] = [
        Self::Approve,
        Self::Reject,
        Self::Spam,
        Self::Delete,
        Self::Feature,
        Self::Unfeature,
    ];
    /// The actions that move a reaction to another status.
    pub const STATUS: [Self; 4] = [Self::Approve, Self::Reject, Self::Spam, Self::Delete];

    /// Reads a form's `action` (the log's name of the action).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        self.log_action().as_str()
    }

    /// How the log records this action.
    pub fn log_action(self) -> LogAction {
        match self {
            Self::Approve => LogAction::Approve,
            Self::Reject => LogAction::Reject,
            Self::Spam => LogAction::Spam,
            Self::Delete => LogAction::Delete,
            Self::Feature => LogAction::Feature,
            Self::Unfeature => LogAction::Unfeature,
        }
    }

    /// The status the action moves a reaction to; `None` for featuring, which leaves
    /// the status alone.
    pub fn target(self) -> Option<CommentStatus> {
        match self {
            Self::Approve => Some(CommentStatus::Approved),
            Self::Reject => Some(CommentStatus::Rejected),
            Self::Spam => Some(CommentStatus::Spam),
            Self::Delete => Some(CommentStatus::Deleted),
            Self::Feature | Self::Unfeature => None,
        }
    }
}

/// Applies one action to every listed reaction and logs each change; returns how many
/// changed. Reactions already in the target status (or already featured, or not) are
/// left alone and not logged. An approved reply tells its parent's author (`mailer`,
/// when the site sends mail), in the same transaction. A reaction that leaves "approved"
/// loses its featuring. Featuring a reaction that is not approved refuses the whole
/// selection ([`AppError::NotApproved`]) and changes nothing.
pub async fn moderate(
    db: &Db,
    ids: &[i32],
    action: Action,
    moderator_id: i32,
    reason: Option<&ModerationReason>,
    mailer: Option<&Mailer>,
) -> AppResult<usize> {
    let reason = reason.map(AsRef::as_ref);
    let Some(target) = action.target() else {
        return feature(db, ids, action, moderator_id, reason).await;
    };
    let txn = db.begin().await?;
    let actor = moderator_id.to_string();
    let mut changed = 0;
    let mut articles = Vec::new();
    let mut approved = Vec::new();
    for comment in store::comments::find_many(&txn, ids).await? {
        if comment.status == target {
            continue;
        }
        let from = comment.status;
        let id = comment.id;
        articles.push(comment.article_id);
        let updated = store::comments::set_status(&txn, comment, target).await?;
        if target == CommentStatus::Approved {
            approved.push(updated);
        }
        audit::record(
            &txn,
            Entry {
                comment_id: id,
                actor: &actor,
                action: action.log_action(),
                from_status: Some(from),
                to_status: target,
                reason,
            },
        )
        .await?;
        changed += 1;
    }
    let mails = match mailer {
        Some(mailer) => {
            notifications::replies_approved(&txn, mailer, &approved, Utc::now()).await?
        }
        None => false,
    };
    store::search::sync_comments(&txn, ids).await?;
    txn.commit().await?;
    if mails {
        db.mail_queued();
    }
    articles.sort_unstable();
    articles.dedup();
    for article_id in articles {
        db.changed(Change::Article(article_id)).await;
    }
    Ok(changed)
}

/// Features (or stops featuring) every listed reaction, logs each change and makes the
/// articles' pages anew; see [`moderate`].
async fn feature(
    db: &Db,
    ids: &[i32],
    action: Action,
    moderator_id: i32,
    reason: Option<&str>,
) -> AppResult<usize> {
    let txn = db.begin().await?;
    let actor = moderator_id.to_string();
    let now = Utc::now();
    let mut articles = Vec::new();
    for comment in store::comments::find_many(&txn, ids).await? {
        let featured_at = match moderation::featuring(
            comment.status,
            comment.featured_at,
            action == Action::Feature,
            now,
        ) {
            Featuring::Set(featured_at) => featured_at,
            Featuring::Unchanged => continue,
            Featuring::NotApproved => {
                txn.rollback().await?;
                return Err(AppError::NotApproved);
            }
        };
        let (id, status) = (comment.id, comment.status);
        // Rejected by another moderator since it was read: refused like any other.
        if !store::comments::set_featured(&txn, id, featured_at).await? {
            txn.rollback().await?;
            return Err(AppError::NotApproved);
        }
        articles.push(comment.article_id);
        audit::record(
            &txn,
            Entry {
                comment_id: id,
                actor: &actor,
                action: action.log_action(),
                from_status: Some(status),
                to_status: status,
                reason,
            },
        )
        .await?;
    }
    txn.commit().await?;
    let changed = articles.len();
    articles.sort_unstable();
    articles.dedup();
    for article_id in articles {
        db.changed(Change::Article(article_id)).await;
    }
    Ok(changed)
}

/// Bans a reaction's e-mail address or address hash, and logs it against the reaction.
pub async fn ban(
    db: &Db,
    comment: &comments::Model,
    kind: store::bans::Kind,
    days: Option<i64>,
    reason: Option<&ModerationReason>,
    moderator_id: i32,
) -> AppResult<()> {
    let reason = reason.map(AsRef::as_ref);
    let txn = db.begin().await?;
    let value = match kind {
        store::bans::Kind::Email => comment.author_email.as_str(),
        store::bans::Kind::IpHash => comment.ip_hash.as_str(),
    };
    let expires_at = days.map(|d| Utc::now() + Duration::days(d));
    store::bans::insert(&txn, kind, value, reason, expires_at, moderator_id).await?;
    let action = match kind {
        store::bans::Kind::Email => LogAction::BanEmail,
        store::bans::Kind::IpHash => LogAction::BanIpHash,
    };
    let actor = moderator_id.to_string();
    audit::record(
        &txn,
        Entry {
            comment_id: comment.id,
            actor: &actor,
            action,
            from_status: Some(comment.status),
            to_status: comment.status,
            reason,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>() -> RawComment<'a> {
        RawComment {
            author_name: "Lien",
            author_email: "lien@example.nl",
            author_url: "",
            body: "Goed stuk.",
            parent_id: Ok(None),
        }
    }

    #[test]
    fn valid_fields_become_a_comment_input() {
        let input = CommentInput::try_from(raw()).unwrap();
        assert_eq!(input.author_name.as_ref(), "Lien");
        assert_eq!(input.parent_id, None);
        let reply = CommentInput::try_from(RawComment {
            parent_id: parse_parent(" 12 "),
            ..raw()
        })
        .unwrap();
        assert_eq!(reply.parent_id, Some(12));
    }

    #[test]
    fn every_field_error_is_collected_at_once() {
        let errors = CommentInput::try_from(RawComment {
            author_name: "",
            author_email: "geen-adres",
            author_url: "javascript:alert(1)",
            body: " ",
            parent_id: parse_parent("abc"),
        })
        .unwrap_err();
        for field in [
            "author_name",
            "author_email",
            "author_url",
            "body",
            "parent_id",
        ] {
            assert!(errors.contains(field), "{field} has an error");
        }
    }
}
