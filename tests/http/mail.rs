//! The outbox and its worker against a real SMTP server on loopback: a queued mail
//! arrives once, with its headers; an SMTP server that is away for a while delays
//! mail but loses none and doubles none.

use std::time::Duration;

use chrono::Utc;
use kantlijn::{mail::messages, store};
use sea_orm::EntityTrait;

use crate::{db_test, smtp::Smtpd};

async fn queue(app: &crate::helpers::TestApp, to: &str) {
    let mail = messages::confirm(
        to,
        "Anna",
        "Van register naar portfolio",
        "http://127.0.0.1:8080/meldingen/bevestigen/x",
        "http://127.0.0.1:8080/afmelden/y",
    );
    store::outbox::queue(app.db.write(), mail, "kantlijn.test", Utc::now())
        .await
        .unwrap();
    app.db.mail_queued();
}

async fn outbox_len(app: &crate::helpers::TestApp) -> (u64, u64) {
    store::outbox::counts(app.db.read()).await.unwrap()
}

db_test! {
    async fn a_queued_mail_arrives_once_with_its_headers(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        queue(&app, "anna@example.nl").await;
        let received = smtpd.wait_for(1, Duration::from_secs(10)).await;
        let mail = &received[0];
        assert_eq!(mail.rcpt_to, ["anna@example.nl"]);
        assert_eq!(mail.mail_from, "reacties@kantlijn.test");
        assert_eq!(mail.subject, "Bevestig: wil je mail bij reacties op Kantlijn?");
        assert_eq!(
            mail.header("List-Unsubscribe"),
            Some("<http://127.0.0.1:8080/afmelden/y>")
        );
        assert_eq!(
            mail.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        assert!(mail.header("Message-ID").is_some_and(|id| id.ends_with("@kantlijn.test>")));
        assert!(mail.text.contains("Hallo Anna"), "{}", mail.text);
        assert!(mail.html.contains("<strong>Van register naar portfolio</strong>"), "{}", mail.html);
        assert_eq!(mail.link_with("bevestigen"), "http://127.0.0.1:8080/meldingen/bevestigen/x");
        // Sent means gone from the outbox, and never sent again.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(outbox_len(&app).await, (0, 0));
        assert_eq!(smtpd.received().len(), 1);
    }
}

db_test! {
    async fn mail_waits_while_the_smtp_server_is_down_and_arrives_once(app) {
        let Some(mut smtpd) = Smtpd::start() else { return };
        smtpd.stop();
        let app = app.with_mail(&smtpd).await;
        queue(&app, "bram@example.nl").await;
        queue(&app, "carla@example.nl").await;
        // The worker tries, fails and backs off, several times.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let rows = kantlijn::entity::outbox::Entity::find().all(app.db.read()).await.unwrap();
            if rows.iter().all(|r| r.attempts >= 2) {
                assert!(rows.iter().all(|r| r.last_error.is_some() && r.status == "pending"));
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no retries: {rows:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(smtpd.received().is_empty());
        smtpd.resume();
        let received = smtpd.wait_for(2, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let received_later = smtpd.received();
        assert_eq!(received_later.len(), 2, "each mail once: {:?}", received.iter().map(|m| &m.rcpt_to).collect::<Vec<_>>());
        let mut to: Vec<&str> = received_later.iter().map(|m| m.rcpt_to[0].as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["bram@example.nl", "carla@example.nl"]);
        assert_eq!(outbox_len(&app).await, (0, 0));
    }
}
