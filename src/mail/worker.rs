//! The worker that empties the outbox: it wakes when a mail is queued (or every
//! `poll`), claims each due mail, hands it to the SMTP server and deletes it once the
//! server took it. A refusal that will not change (a 5xx) gives the mail up at once;
//! anything else (the server down, a 4xx) tries again later, waiting twice as long each
//! time. Mail queued before a crash is still in the table and goes out after the
//! restart; a crash in the instant between the server's "250 OK" and the delete sends
//! that one mail again, with the same Message-ID.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::Notify;

use crate::{
    entity::outbox,
    mail::{self, MailSettings},
    metrics::Metrics,
    store::{self, Db},
};

/// Gives a mail up after this many failed attempts (with the default backoff, about a
/// day and a half of trying).
pub const MAX_ATTEMPTS: i32 = 40;
/// How long a claim holds: far longer than one send may take (its timeout is 30 s).
const CLAIM: Duration = Duration::from_secs(120);
/// Mails claimed per round.
const BATCH: u64 = 20;

/// What becomes of one attempt.
#[derive(Debug)]
pub enum Sent {
    Delivered,
    /// Worth trying again (the server is away, or said "later").
    Transient(String),
    /// Trying again cannot help (the server refused the recipient, a broken address).
    Permanent(String),
}

/// Sends one message; the SMTP client in the site, a recorder in unit tests.
pub trait Sender: Send + Sync {
    fn send(&self, message: lettre::Message) -> impl Future<Output = Sent> + Send;
}

impl Sender for AsyncSmtpTransport<Tokio1Executor> {
    async fn send(&self, message: lettre::Message) -> Sent {
        match AsyncTransport::send(self, message).await {
            Ok(_) => Sent::Delivered,
            Err(err) if err.is_permanent() => Sent::Permanent(err.to_string()),
            Err(err) => Sent::Transient(err.to_string()),
        }
    }
}

/// Runs until the process ends: sends what is due whenever woken or every `poll`.
pub async fn run(db: Db, settings: Arc<MailSettings>, wake: Arc<Notify>, metrics: Arc<Metrics>) {
    let transport = match settings.transport() {
        Ok(transport) => transport,
        Err(err) => {
            tracing::error!(error = %err, "the SMTP client could not be made; no mail is sent");
            return;
        }
    };
    tracing::info!(settings = ?settings, "mail worker started");
    loop {
        match send_due(&db, &settings, &transport, Utc::now()).await {
            // A full batch went: there may be more.
            Ok(report) if report.claimed as u64 == BATCH => continue,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "reading the outbox failed; trying again"),
        }
        if let Ok((pending, failed)) = store::outbox::counts(db.read()).await {
            metrics.outbox(pending, failed);
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(settings.poll) => {}
        }
    }
}

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub given_up: usize,
}

/// Sends every mail due at `now` that no other worker holds.
pub async fn send_due(
    db: &Db,
    settings: &MailSettings,
    sender: &impl Sender,
    now: DateTime<Utc>,
) -> Result<Round, sea_orm::DbErr> {
    let mut round = Round::default();
    for mail in store::outbox::due(db.read(), now, BATCH).await? {
        // Each claim from the clock as it is now: a round of slow sends must not hand
        // out claims that have run out already.
        let claimed_at = now.max(Utc::now());
        if !store::outbox::claim(db.write(), mail.id, claimed_at, claimed_at + CLAIM).await? {
            continue;
        }
        round.claimed += 1;
        match attempt(settings, sender, &mail).await {
            Sent::Delivered => {
                store::outbox::sent(db.write(), mail.id).await?;
                tracing::info!(id = mail.id, kind = %mail.kind, "mail sent");
                round.delivered += 1;
            }
            Sent::Transient(error) if mail.attempts + 1 < MAX_ATTEMPTS => {
                let wait = settings.backoff(mail.attempts + 1);
                let retry_at = Utc::now() + wait;
                // The server's words may quote the address: they stay in the outbox row
                // (which erasure and retention delete), not in the log.
                tracing::warn!(id = mail.id, kind = %mail.kind, attempts = mail.attempts + 1, ?wait, "mail not sent; trying again");
                store::outbox::failed(db.write(), &mail, &error, Some(retry_at)).await?;
                round.retrying += 1;
            }
            Sent::Transient(error) | Sent::Permanent(error) => {
                tracing::error!(id = mail.id, kind = %mail.kind, attempts = mail.attempts + 1, "mail given up (the reason is in the outbox)");
                store::outbox::failed(db.write(), &mail, &error, None).await?;
                round.given_up += 1;
            }
        }
    }
    Ok(round)
}

async fn attempt(settings: &MailSettings, sender: &impl Sender, mail: &outbox::Model) -> Sent {
    match mail::message(&settings.from, mail) {
        Ok(message) => sender.send(message).await,
        Err(err) => Sent::Permanent(format!("the mail could not be composed: {err}")),
    }
}
