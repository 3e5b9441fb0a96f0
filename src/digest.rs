//! The moderators' digest (DESIGN.md "E-mail"): a staff member who moderates may ask
//! for a mail listing what waits in the queue, at most once an hour and only when
//! something arrived since their previous one. The scheduler (`jobs`) runs it; each
//! mail is queued in the outbox in the same transaction that records it was sent, so
//! a crash neither loses nor doubles one.

use chrono::{DateTime, Duration, Utc};
use sea_orm::DbErr;

use crate::{
    domain::dates,
    mail::{
        links::{self, Unsubscribe},
        messages::{self, Digest, DigestItem},
    },
    security::Keys,
    store::{self, Db},
};

/// The PostgreSQL advisory lock of a run: "KANTLIJN" in ASCII, plus two.
const LOCK: i64 = 0x4B41_4E54_4C49_4A50;
/// The shortest time between two digests to one person.
pub const EVERY: Duration = Duration::hours(1);
/// The most waiting reactions one digest lists (newest first); it counts them all.
pub const ITEMS: u64 = 20;

/// Queues a digest for everyone who wants one and is due at `now`; returns how many.
/// `base` is the site's address, for the links.
pub async fn run(
    db: &Db,
    keys: &Keys,
    base: &url::Url,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let txn = db.begin().await?;
    if !store::jobs::try_lock(&txn, LOCK).await? {
        txn.rollback().await?;
        return Ok(0);
    }
    let recipients = store::users::digest_recipients(&txn, now - EVERY).await?;
    let total = if recipients.is_empty() {
        0
    } else {
        store::comments::pending_count(&txn, None).await?
    };
    if total == 0 {
        txn.rollback().await?;
        return Ok(0);
    }
    let items: Vec<DigestItem> = store::comments::newest_pending(&txn, ITEMS)
        .await?
        .into_iter()
        .map(|c| DigestItem {
            author: c.author_name,
            article: c.article_title,
            when: dates::exact(c.created_at),
            excerpt: messages::excerpt(&c.body_md),
        })
        .collect();
    let host = base.host_str().unwrap_or("localhost");
    // The worker sends by the wall clock: mail from a run on another clock (a test's,
    // ahead of it) is due at once all the same.
    let due = now.min(Utc::now());
    let queue_url = links::absolute(base, "beheer/moderatie");
    let mut queued = 0;
    for user in recipients {
        let Some(to) = user.email.as_deref() else {
            continue;
        };
        let new = match user.digest_sent_at {
            Some(at) => store::comments::pending_count(&txn, Some(at)).await?,
            None => total,
        };
        if new == 0 {
            continue;
        }
        let token = links::unsubscribe_token(keys, Unsubscribe::Digest(user.id));
        let unsubscribe_url = links::absolute(base, &format!("afmelden/{token}"));
        let mail = messages::digest(&Digest {
            to,
            name: &user.display_name,
            total: usize::try_from(total).unwrap_or(usize::MAX),
            new: usize::try_from(new).unwrap_or(usize::MAX),
            items: &items,
            queue_url: &queue_url,
            unsubscribe_url: &unsubscribe_url,
        });
        store::outbox::queue(&txn, mail, host, due).await?;
        store::users::digest_sent(&txn, user.id, now).await?;
        queued += 1;
    }
    txn.commit().await?;
    if queued > 0 {
        db.mail_queued();
        tracing::info!(digests = queued, pending = total, "digest: queued");
    }
    Ok(queued)
}
