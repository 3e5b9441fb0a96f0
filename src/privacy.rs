//! The one code path below the privacy pages (DESIGN.md "Privacy (AVG)"), for a reader
//! with a mailed link and an admin alike: asking for the link, the overview of what is
//! kept about an address, its export and its erasure. Every use is logged in
//! `privacy_log` and the site's log, neither of which ever holds the address.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::store::changes::Change;
use crate::{
    domain::{
        dates, markdown,
        privacy::{self as rules, EraseBody, Use},
        states::{CommentStatus, LogAction},
        validate::Email,
    },
    entity::{bans, comments, mail_subscribers, moderation_log},
    error::AppResult,
    mail::{links, messages},
    security::Keys,
    store::{
        self, Db,
        audit::{self, Entry},
        {comments::Anonymised, privacy::ArticleRef},
    },
};

/// Who uses the privacy pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// Someone holding a mailed link.
    Reader,
    /// An admin, by user id.
    Admin(i32),
}

impl Actor {
    /// How the privacy log and the moderation log name the actor.
    fn logged(self) -> String {
        match self {
            Self::Reader => audit::READER.to_owned(),
            Self::Admin(id) => id.to_string(),
        }
    }
}

/// Where the links in a privacy mail point.
#[derive(Clone, Copy)]
pub struct Links<'a> {
    pub keys: &'a Keys,
    pub base_url: &'a url::Url,
}

/// The most working links one address gets at a time.
pub const OPEN_LINKS_PER_ADDRESS: u64 = 3;

/// A reader asks what is kept about `to`. Either way one mail is queued, so the page
/// answers the same: with a link valid [`links::PRIVACY_LINK_HOURS`] hours when
/// anything is kept about the address (unless [`OPEN_LINKS_PER_ADDRESS`] still work),
/// else word that nothing is. Nothing is stored about an unknown address but the mail,
/// which is deleted once sent.
pub async fn request(db: &Db, links: Links<'_>, to: &Email, now: DateTime<Utc>) -> AppResult<()> {
    let email = to.as_ref();
    let site = links.base_url.as_str().trim_end_matches('/');
    let txn = db.begin().await?;
    let known = store::privacy::is_known(&txn, email).await?;
    if known && store::privacy::open_requests(&txn, email, now).await? >= OPEN_LINKS_PER_ADDRESS {
        // Enough working links are on their way: the same answer, and no more mail, so a
        // crowd of addresses cannot flood one inbox through this form.
        txn.rollback().await?;
        tracing::info!("privacy link requested; the address has enough working links");
        return Ok(());
    }
    let reactions = if known {
        let expires_at = now + Duration::hours(links::PRIVACY_LINK_HOURS);
        let request = store::privacy::insert_request(&txn, email, now, expires_at).await?;
        let token = links::privacy_token(links.keys, request.id, expires_at);
        let link = links::absolute(links.base_url, &format!("privacy/{token}"));
        let mail = messages::privacy(
            email,
            site,
            Some(&link),
            links::PRIVACY_LINK_HOURS,
            &dates::exact(expires_at),
        );
        queue(&txn, mail, links, now).await?;
        store::privacy::reactions(&txn, email).await?.len()
    } else {
        let mail = messages::privacy(email, site, None, links::PRIVACY_LINK_HOURS, "");
        queue(&txn, mail, links, now).await?;
        0
    };
    store::privacy::log_use(&txn, Use::Request, audit::READER, reactions, now).await?;
    txn.commit().await?;
    db.mail_queued();
    tracing::info!(reactions, "privacy link requested");
    Ok(())
}

async fn queue(
    txn: &sea_orm::DatabaseTransaction,
    mail: store::outbox::NewMail,
    links: Links<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let host = links.base_url.host_str().unwrap_or("kantlijn");
    store::outbox::queue(txn, mail, host, now).await?;
    Ok(())
}

/// The address a privacy link is for, while the link holds: signed by this site, not
/// expired, and its request not used up by an erasure.
pub async fn address_of_link(
    db: &Db,
    keys: &Keys,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<String>> {
    let Some(id) = links::parse_privacy(keys, token, now) else {
        return Ok(None);
    };
    let request = store::privacy::find_request(db.read(), id, now).await?;
    Ok(request.map(|r| r.email))
}

/// What is kept about an address, for the overview page.
#[derive(Debug)]
pub struct Overview {
    pub email: String,
    pub reactions: Vec<(comments::Model, ArticleRef)>,
    pub subscriber: Option<mail_subscribers::Model>,
}

/// Reads the overview of `email`, and logs that `actor` saw it.
pub async fn overview(db: &Db, email: &str, actor: Actor) -> AppResult<Overview> {
    let reactions = store::privacy::reactions(db.read(), email).await?;
    let subscriber = store::privacy::subscriber(db.read(), email).await?;
    logged(db, Use::View, actor, reactions.len()).await?;
    Ok(Overview {
        email: email.to_owned(),
        reactions,
        subscriber,
    })
}

async fn logged(db: &Db, action: Use, actor: Actor, reactions: usize) -> AppResult<()> {
    store::privacy::log_use(db.write(), action, &actor.logged(), reactions, Utc::now()).await?;
    tracing::info!(action = action.as_str(), actor = %actor.logged(), reactions, "privacy page used");
    Ok(())
}

/// The export's `format`; its `version` grows with every change to its shape.
pub const EXPORT_FORMAT: &str = "kantlijn-privacy-export";
pub const EXPORT_VERSION: u32 = 1;

/// Everything kept about one address, as the export downloads it: the reader's own
/// reactions with every stored field, their moderation history without who of the
/// staff decided, their consent to notifications, and bans of the address or of the
/// address hash of one of their reactions.
#[derive(Debug, Serialize)]
pub struct Export {
    pub format: &'static str,
    pub version: u32,
    pub email: String,
    pub generated_at: String,
    pub reactions: Vec<ExportedReaction>,
    pub subscription: Option<ExportedSubscription>,
    pub bans: Vec<ExportedBan>,
}

#[derive(Debug, Serialize)]
pub struct ExportedReaction {
    pub id: i32,
    pub article: ExportedArticle,
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_md: String,
    pub body_html: String,
    pub status: &'static str,
    pub ip_hash: String,
    pub notify_replies: bool,
    /// A reply of which the author of its parent was told.
    pub reply_notified: bool,
    /// Posted while logged in as staff (which account is not said).
    pub by_staff: bool,
    pub created_at: String,
    pub updated_at: String,
    pub moderation: Vec<ExportedDecision>,
}

#[derive(Debug, Serialize)]
pub struct ExportedArticle {
    pub slug: String,
    pub title: String,
}

/// One row of a reaction's moderation history.
#[derive(Debug, Serialize)]
pub struct ExportedDecision {
    pub action: &'static str,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub reason: Option<String>,
    pub at: String,
    /// `system` (the rules), `reader` or `moderator`: never which staff member.
    pub actor: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ExportedSubscription {
    pub email: String,
    pub created_at: String,
    pub confirmation_sent_at: Option<String>,
    pub confirmed_at: Option<String>,
    pub unsubscribed_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExportedBan {
    /// `email` or `ip_hash`.
    pub kind: String,
    /// The banned address or address hash.
    pub value: String,
    pub reason: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
}

/// A moment as the export writes it: RFC 3339 in UTC.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Builds the export of `email`, and logs that `actor` downloaded it.
pub async fn export(db: &Db, email: &str, actor: Actor) -> AppResult<Export> {
    let reactions = store::privacy::reactions(db.read(), email).await?;
    let ids: Vec<i32> = reactions.iter().map(|(c, _)| c.id).collect();
    let history = store::privacy::history(db.read(), &ids).await?;
    let subscriber = store::privacy::subscriber(db.read(), email).await?;
    let mut bans = store::privacy::email_bans(db.read(), email).await?;
    let hashes: Vec<&str> = reactions
        .iter()
        .map(|(c, _)| c.ip_hash.as_str())
        .filter(|h| !h.is_empty())
        .collect();
    bans.extend(store::privacy::address_bans(db.read(), &hashes).await?);
    logged(db, Use::Export, actor, reactions.len()).await?;
    Ok(Export {
        format: EXPORT_FORMAT,
        version: EXPORT_VERSION,
        email: email.to_owned(),
        generated_at: timestamp(Utc::now()),
        reactions: reactions
            .into_iter()
            .map(|(c, article)| exported(c, article, &history))
            .collect(),
        subscription: subscriber.map(|s| ExportedSubscription {
            email: s.email,
            created_at: timestamp(s.created_at),
            confirmation_sent_at: s.confirmation_sent_at.map(timestamp),
            confirmed_at: s.confirmed_at.map(timestamp),
            unsubscribed_at: s.unsubscribed_at.map(timestamp),
        }),
        bans: bans.into_iter().map(exported_ban).collect(),
    })
}

fn exported(
    c: comments::Model,
    article: ArticleRef,
    history: &[moderation_log::Model],
) -> ExportedReaction {
    ExportedReaction {
        moderation: history
            .iter()
            .filter(|row| row.comment_id == c.id)
            .map(|row| ExportedDecision {
                action: row.action.as_str(),
                from: row.from_status.map(CommentStatus::as_str),
                to: row.to_status.as_str(),
                reason: row.reason.clone(),
                at: timestamp(row.created_at),
                actor: match row.actor.as_str() {
                    audit::SYSTEM => "system",
                    audit::READER => "reader",
                    _ => "moderator",
                },
            })
            .collect(),
        id: c.id,
        article: ExportedArticle {
            slug: article.slug,
            title: article.title,
        },
        parent_id: c.parent_id,
        author_name: c.author_name,
        author_email: c.author_email,
        author_url: c.author_url,
        body_md: c.body_md,
        body_html: c.body_html,
        status: c.status.as_str(),
        ip_hash: c.ip_hash,
        notify_replies: c.notify_replies,
        reply_notified: c.reply_notified,
        by_staff: c.user_id.is_some(),
        created_at: timestamp(c.created_at),
        updated_at: timestamp(c.updated_at),
    }
}

fn exported_ban(ban: bans::Model) -> ExportedBan {
    ExportedBan {
        kind: ban.kind,
        value: ban.value,
        reason: ban.reason,
        created_at: timestamp(ban.created_at),
        expires_at: ban.expires_at.map(timestamp),
    }
}

/// Erases what is kept about `email`, in one transaction: each of its reactions
/// becomes "Anoniem" without e-mail, website, address hash or edit key (its text kept
/// or replaced, as `body` says; status and place in the thread stay), gets a log row,
/// and loses the name, address and website from the reasons in the moderation log;
/// the consent to notifications, privacy links, waiting mail and bans of the address
/// are deleted. Returns how many reactions were erased.
pub async fn erase(db: &Db, email: &str, body: EraseBody, actor: Actor) -> AppResult<usize> {
    let now = Utc::now();
    let removed_html = markdown::render_reaction(rules::REMOVED_BODY);
    let txn = db.begin().await?;
    let reactions = store::privacy::reactions(&txn, email).await?;
    let ids: Vec<i32> = reactions.iter().map(|(c, _)| c.id).collect();
    let mut urls = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (c, _) in &reactions {
        urls.extend(c.author_url.iter().flat_map(|u| rules::url_variants(u)));
        names.insert(c.author_name.clone());
    }
    // Names are only taken out of notes about this reader's own reactions: elsewhere
    // the same first name is most likely someone else's.
    let anywhere: Vec<&str> = std::iter::once(email)
        .chain(urls.iter().map(String::as_str))
        .collect();
    let own: Vec<&str> = anywhere
        .iter()
        .copied()
        .chain(names.iter().map(String::as_str))
        .collect();
    store::comments::anonymise(
        &txn,
        &ids,
        &Anonymised {
            author_name: rules::ERASED_NAME,
            body: (body == EraseBody::Remove)
                .then_some((rules::REMOVED_BODY, removed_html.as_str())),
            status: None,
            now,
        },
    )
    .await?;
    for row in store::privacy::reasons_to_check(&txn, &ids, &anywhere).await? {
        let secrets = if ids.contains(&row.comment_id) {
            &own
        } else {
            &anywhere
        };
        if let Some(reason) = row
            .reason
            .as_deref()
            .and_then(|r| rules::redact(r, secrets))
        {
            store::privacy::set_reason(&txn, row.id, &reason).await?;
        }
    }
    // A ban on the address hash of one of these reactions stays (it guards the site, and
    // names nobody), but a moderator's note on it loses the reader's name, address and
    // website like the log's notes do.
    let hashes: Vec<&str> = reactions
        .iter()
        .map(|(c, _)| c.ip_hash.as_str())
        .filter(|h| !h.is_empty())
        .collect();
    for ban in store::privacy::address_bans(&txn, &hashes).await? {
        if let Some(reason) = ban.reason.as_deref().and_then(|r| rules::redact(r, &own)) {
            store::privacy::set_ban_reason(&txn, ban.id, &reason).await?;
        }
    }
    let logged_actor = actor.logged();
    for (c, _) in &reactions {
        audit::record(
            &txn,
            Entry {
                comment_id: c.id,
                actor: &logged_actor,
                action: LogAction::Erase,
                from_status: Some(c.status),
                to_status: c.status,
                reason: Some(body.log_reason()),
            },
        )
        .await?;
    }
    store::privacy::forget_address(&txn, email, &ids).await?;
    let erased_names: Vec<&str> = names.iter().map(String::as_str).collect();
    store::privacy::forget_in_digests(&txn, &erased_names).await?;
    store::privacy::log_use(&txn, Use::Erase, &logged_actor, reactions.len(), now).await?;
    // An erased body is no longer found; a kept one still is, without the name.
    store::search::sync_comments(&txn, &ids).await?;
    txn.commit().await?;
    let mut articles: Vec<i32> = reactions.iter().map(|(c, _)| c.article_id).collect();
    articles.sort_unstable();
    articles.dedup();
    for article_id in articles {
        db.changed(Change::Article(article_id)).await;
    }
    // The erasure is committed: a checkpoint that cannot finish now is done by the next
    // one, and is no reason to tell the reader it failed.
    match store::privacy::checkpoint(db.write()).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(
                "the WAL checkpoint after an erasure was kept from finishing by a reader"
            );
        }
        Err(err) => tracing::warn!(error = %err, "the WAL checkpoint after an erasure failed"),
    }
    tracing::info!(
        reactions = reactions.len(),
        actor = %logged_actor,
        body = body.as_str(),
        "personal data erased"
    );
    Ok(reactions.len())
}
