//! The retention job (DESIGN.md "Privacy (AVG)"): what the site keeps about people goes
//! once its period is over. It clears the address hash of old reactions, removes pending
//! and spam reactions nobody handled (a reaction with replies keeps its place without
//! its personal data), and removes expired privacy requests, addresses that never
//! confirmed, and mail given up on. One transaction, so a crash leaves nothing half
//! done; a second run at the same moment finds nothing to do. The scheduler (`jobs`)
//! runs it hourly; with several instances on PostgreSQL, an advisory lock and the time
//! of the last run keep it to one run an hour.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DbErr;

use crate::store::changes::Change;
use crate::{
    domain::{
        markdown,
        privacy::{ERASED_NAME, REMOVED_BODY},
        retention::Retention,
        states::{CommentStatus, LogAction},
    },
    store::{
        self, Db,
        audit::{self, Entry},
        comments::Anonymised,
    },
};

/// The name of this job in `job_runs`.
pub const JOB: &str = "retention";
/// The PostgreSQL advisory lock of a run: "KANTLIJN" in ASCII, plus one.
pub const LOCK: i64 = 0x4B41_4E54_4C49_4A4F;
/// How long an address that never confirmed it wants reply notifications is kept after
/// the confirmation mail went out.
pub const UNCONFIRMED_DAYS: i64 = 7;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Another instance was running the job: this one did nothing.
    pub skipped: bool,
    pub address_hashes_cleared: u64,
    /// Votes ("Nuttig") whose address hash was cleared, after the same period.
    pub vote_address_hashes_cleared: u64,
    /// Unhandled reactions removed with their log rows.
    pub reactions_removed: u64,
    /// Unhandled reactions with replies, kept without their personal data.
    pub reactions_anonymised: u64,
    pub privacy_requests_removed: u64,
    pub subscribers_removed: u64,
    pub failed_mail_removed: u64,
}

impl Report {
    /// Whether the run changed nothing.
    pub fn is_empty(&self) -> bool {
        *self
            == Self {
                skipped: self.skipped,
                ..Self::default()
            }
    }
}

/// The one-line Dutch summary that admins read under the settings.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped {
            return f.write_str("Overgeslagen: een andere server voerde de opruiming uit.");
        }
        write!(
            f,
            "IP-hash gewist bij {} {}; {} niet-afgehandelde {} verwijderd en {} geanonimiseerd \
             (met antwoorden eronder); {} verlopen privacyverzoeken, {} onbevestigde \
             e-mailadressen en {} mislukte mails verwijderd; IP-hash gewist bij {} {}.",
            self.address_hashes_cleared,
            reactions(self.address_hashes_cleared),
            self.reactions_removed,
            reactions(self.reactions_removed),
            self.reactions_anonymised,
            self.privacy_requests_removed,
            self.subscribers_removed,
            self.failed_mail_removed,
            self.vote_address_hashes_cleared,
            if self.vote_address_hashes_cleared == 1 {
                "stem"
            } else {
                "stemmen"
            },
        )
    }
}

fn reactions(n: u64) -> &'static str {
    if n == 1 { "reactie" } else { "reacties" }
}

/// Runs the job now (at `now`, so tests can run it in the future) with `policy`.
pub async fn run(db: &Db, policy: Retention, now: DateTime<Utc>) -> Result<Report, DbErr> {
    run_unless(db, policy, now, None)
        .await
        .map(|ran| ran.unwrap_or_default())
}

/// Runs the job unless it ran less than `every` before `now` (checked under the lock, so
/// two instances that both found it due run it once); `None` when it was not due.
pub async fn run_if_due(
    db: &Db,
    policy: Retention,
    now: DateTime<Utc>,
    every: Duration,
) -> Result<Option<Report>, DbErr> {
    run_unless(db, policy, now, Some(every)).await
}

async fn run_unless(
    db: &Db,
    policy: Retention,
    now: DateTime<Utc>,
    ran_within: Option<Duration>,
) -> Result<Option<Report>, DbErr> {
    let txn = db.begin().await?;
    if !store::jobs::try_lock(&txn, LOCK).await? {
        txn.rollback().await?;
        tracing::info!("retention: another instance is running it; skipped");
        return Ok(Some(Report {
            skipped: true,
            ..Report::default()
        }));
    }
    if let Some(every) = ran_within
        && let Some(last) = store::jobs::last_run(&txn, JOB).await?
        && now - last.last_run_at < every
    {
        txn.rollback().await?;
        return Ok(None);
    }
    let ip_before = now - Duration::days(policy.ip_days.into());
    let unhandled_before = now - Duration::days(policy.unhandled_days.into());
    let mut report = Report {
        address_hashes_cleared: store::retention::clear_address_hashes(&txn, ip_before).await?,
        vote_address_hashes_cleared: store::votes::clear_address_hashes(&txn, ip_before).await?,
        ..Report::default()
    };

    let mut left = store::retention::unhandled(&txn, unhandled_before).await?;
    let mut articles: Vec<i32> = left.iter().map(|c| c.article_id).collect();
    // Leaves first: a reaction whose only replies are removed too becomes a leaf.
    loop {
        let ids: Vec<i32> = left.iter().map(|c| c.id).collect();
        let parents = store::retention::with_replies(&txn, &ids).await?;
        let leaves: Vec<i32> = ids.into_iter().filter(|id| !parents.contains(id)).collect();
        if leaves.is_empty() {
            break;
        }
        report.reactions_removed += store::retention::delete(&txn, &leaves).await?;
        left.retain(|c| parents.contains(&c.id));
    }
    if !left.is_empty() {
        let ids: Vec<i32> = left.iter().map(|c| c.id).collect();
        let removed_html = markdown::render_reaction(REMOVED_BODY);
        store::outbox::delete_about(&txn, &ids).await?;
        report.reactions_anonymised = store::comments::anonymise(
            &txn,
            &ids,
            &Anonymised {
                author_name: ERASED_NAME,
                body: Some((REMOVED_BODY, removed_html.as_str())),
                status: Some(CommentStatus::Deleted),
                now,
            },
        )
        .await?;
        for comment in &left {
            audit::record(
                &txn,
                Entry {
                    comment_id: comment.id,
                    actor: audit::SYSTEM,
                    action: LogAction::Expire,
                    from_status: Some(comment.status),
                    to_status: CommentStatus::Deleted,
                    reason: None,
                },
            )
            .await?;
        }
    }

    report.privacy_requests_removed =
        store::retention::delete_expired_privacy_requests(&txn, now).await?;
    report.subscribers_removed = store::retention::delete_unconfirmed_subscribers(
        &txn,
        now - Duration::days(UNCONFIRMED_DAYS),
    )
    .await?;
    report.failed_mail_removed =
        store::retention::delete_failed_mail(&txn, unhandled_before).await?;
    store::jobs::record_run(&txn, JOB, now, &report.to_string()).await?;
    txn.commit().await?;

    articles.sort_unstable();
    articles.dedup();
    for article_id in articles {
        db.changed(Change::Article(article_id)).await;
    }
    tracing::info!(
        address_hashes_cleared = report.address_hashes_cleared,
        vote_address_hashes_cleared = report.vote_address_hashes_cleared,
        reactions_removed = report.reactions_removed,
        reactions_anonymised = report.reactions_anonymised,
        privacy_requests_removed = report.privacy_requests_removed,
        subscribers_removed = report.subscribers_removed,
        failed_mail_removed = report.failed_mail_removed,
        "retention: ran"
    );
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_reads_as_one_dutch_line() {
        let report = Report {
            address_hashes_cleared: 1,
            reactions_removed: 2,
            ..Report::default()
        };
        let line = report.to_string();
        assert!(
            line.starts_with(
                "IP-hash gewist bij 1 reactie; 2 niet-afgehandelde reacties verwijderd"
            ),
            "{line}"
        );
        assert!(line.ends_with("IP-hash gewist bij 0 stemmen."), "{line}");
        assert!(!line.contains('\n'));
        assert!(Report::default().is_empty());
        assert!(!report.is_empty());
        let skipped = Report {
            skipped: true,
            ..Report::default()
        };
        assert!(skipped.is_empty());
        assert!(skipped.to_string().starts_with("Overgeslagen"));
    }
}
