//! Reply notifications (DESIGN.md "E-mail"): a reader who ticks `notify_replies` is asked
//! once to confirm (double opt-in); once confirmed, each approved reply to one of their
//! reactions queues one mail, in the transaction that approved it. Every mail carries a
//! one-click unsubscribe link; unsubscribing stops all reply mail to the address (and a
//! staff member's link stops their digest).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::{
    app::AppState,
    domain::states::CommentStatus,
    entity::comments,
    error::AppResult,
    mail::{
        links::{self, Unsubscribe},
        messages,
    },
    security::Keys,
    store::{self, Db},
};

/// What composing notification mail needs; there is one only when the site sends mail.
#[derive(Clone)]
pub struct Mailer {
    base_url: url::Url,
    keys: Arc<Keys>,
}

impl Mailer {
    /// The mailer of a site that sends mail, else `None`.
    pub fn of(state: &AppState) -> Option<Self> {
        state.settings.mail.as_ref().map(|_| Self {
            base_url: state.settings.base_url.clone(),
            keys: Arc::clone(&state.keys),
        })
    }

    fn host(&self) -> &str {
        self.base_url.host_str().unwrap_or("localhost")
    }

    fn link(&self, path: &str) -> String {
        links::absolute(&self.base_url, path)
    }

    fn unsubscribe_url(&self, who: Unsubscribe) -> String {
        self.link(&format!(
            "afmelden/{}",
            links::unsubscribe_token(&self.keys, who)
        ))
    }
}

/// In the transaction that stored `comment` (whose poster ticked `notify_replies`):
/// the first time an address asks, records it and queues the confirmation. Only the
/// first time: an address that confirmed needs none, one that unsubscribed is never
/// asked again, and an unanswered one waits until retention forgets it (7 days), so
/// nobody can flood an address by posting under it. True when a mail was queued.
pub async fn ask(
    txn: &impl ConnectionTrait,
    mailer: &Mailer,
    comment: &comments::Model,
    article_title: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let email = comment.author_email.as_str();
    if store::subscribers::find_by_email(txn, email)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let Some(subscriber) = store::subscribers::insert_new(txn, email, now).await? else {
        return Ok(false);
    };
    let confirm_url = mailer.link(&format!(
        "meldingen/bevestigen/{}",
        links::confirm_token(&mailer.keys, subscriber.id)
    ));
    let mail = messages::confirm(
        email,
        &comment.author_name,
        article_title,
        &confirm_url,
        &mailer.unsubscribe_url(Unsubscribe::Reader(subscriber.id)),
    );
    store::outbox::queue(txn, mail, mailer.host(), now).await?;
    Ok(true)
}

/// In the transaction that approved `replies`: one mail to the author of each one's
/// parent who asked for it and confirmed, never about their own reply, never twice for
/// one reply. True when a mail was queued.
pub async fn replies_approved(
    txn: &impl ConnectionTrait,
    mailer: &Mailer,
    replies: &[comments::Model],
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let replies: Vec<&comments::Model> = replies
        .iter()
        .filter(|r| {
            r.status == CommentStatus::Approved && r.parent_id.is_some() && !r.reply_notified
        })
        .collect();
    if replies.is_empty() {
        return Ok(false);
    }
    let ids: Vec<i32> = replies.iter().map(|r| r.id).collect();
    store::comments::mark_reply_notified(txn, &ids).await?;
    // Three queries for the whole batch, not one per reply: the parents, their
    // authors' consent, the articles.
    let parent_ids: Vec<i32> = replies.iter().filter_map(|r| r.parent_id).collect();
    let parents = store::comments::find_many(txn, &parent_ids).await?;
    let wanted: Vec<(&comments::Model, &comments::Model)> = replies
        .iter()
        .filter_map(|reply| {
            let parent = parents.iter().find(|p| Some(p.id) == reply.parent_id)?;
            let own_reply = store::subscribers::key(&parent.author_email)
                == store::subscribers::key(&reply.author_email);
            (parent.notify_replies && !parent.author_email.is_empty() && !own_reply)
                .then_some((*reply, parent))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(false);
    }
    let emails: Vec<&str> = wanted
        .iter()
        .map(|(_, p)| p.author_email.as_str())
        .collect();
    let subscribers = store::subscribers::confirmed(txn, &emails).await?;
    let article_ids: Vec<i32> = wanted.iter().map(|(r, _)| r.article_id).collect();
    let articles = store::articles::find_many(txn, &article_ids).await?;
    let mut queued = false;
    for (reply, parent) in wanted {
        let key = store::subscribers::key(&parent.author_email);
        let Some(subscriber) = subscribers.iter().find(|s| s.email == key) else {
            continue;
        };
        let Some(article) = articles.iter().find(|a| a.id == reply.article_id) else {
            continue;
        };
        let reply_url = mailer.link(&format!(
            "artikelen/{}?reactie={id}#reactie-{id}",
            article.slug,
            id = reply.id
        ));
        let mail = messages::reply(&messages::Reply {
            to: &parent.author_email,
            name: &parent.author_name,
            replier: &reply.author_name,
            article: &article.title,
            body_md: &reply.body_md,
            reply_url: &reply_url,
            unsubscribe_url: &mailer.unsubscribe_url(Unsubscribe::Reader(subscriber.id)),
            comment_id: reply.id,
        });
        store::outbox::queue(txn, mail, mailer.host(), now).await?;
        queued = true;
    }
    Ok(queued)
}

/// What a confirmation or unsubscribe link found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Done,
    /// The link's row is gone (erased) or never was.
    Unknown,
}

/// Confirms the address a confirmation link names.
pub async fn confirm(db: &Db, subscriber_id: i32) -> AppResult<Found> {
    let done = store::subscribers::confirm(db.write(), subscriber_id, Utc::now()).await?;
    tracing::info!(
        subscriber = subscriber_id,
        done,
        "reply notifications confirmed"
    );
    Ok(if done { Found::Done } else { Found::Unknown })
}

/// Stops the mail an unsubscribe link names.
pub async fn unsubscribe(db: &Db, who: Unsubscribe) -> AppResult<Found> {
    let done = match who {
        Unsubscribe::Reader(id) => {
            store::subscribers::unsubscribe(db.write(), id, Utc::now()).await?
        }
        Unsubscribe::Digest(id) => store::users::stop_digest(db.write(), id).await?,
    };
    tracing::info!(?who, done, "unsubscribed");
    Ok(if done { Found::Done } else { Found::Unknown })
}
