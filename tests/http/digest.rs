//! A staff member's account page, and the moderators' digest end to end: chosen there,
//! queued by the scheduler, sent through a real SMTP server on loopback, at most once an
//! hour and only when something new waits.

use std::time::Duration;

use chrono::Utc;
use kantlijn::{
    domain::validate::{Email, Role},
    jobs, store,
};
use poem::http::StatusCode;

use crate::{
    db_test,
    helpers::{TestApp, attr_of},
    smtp::Smtpd,
};

/// A reaction by an author of its own, so that it waits for a moderator.
async fn waiting(app: &TestApp, slug: &str, who: &str, body: &str) -> i32 {
    let email = format!("{}@example.nl", who.to_lowercase());
    app.comment(
        slug,
        &[
            ("author_name", who),
            ("author_email", &email),
            ("body", body),
        ],
    )
    .await
}

/// How many mails wait in the outbox to be sent.
async fn queued(app: &TestApp) -> u64 {
    store::outbox::counts(app.db.read()).await.unwrap().0
}

/// Waits a moment for the mail worker, then says how many mails arrived in all.
async fn arrived_after_a_moment(smtpd: &Smtpd) -> usize {
    tokio::time::sleep(Duration::from_millis(600)).await;
    smtpd.received().len()
}

db_test! {
    async fn a_moderator_gets_one_digest_an_hour_when_something_new_waits(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Register of portfolio").await;
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        moderator
            .post_form("/beheer/account", &[("email", "Moderator@Example.NL"), ("digest", "on")])
            .await
            .assert_redirect("/beheer/account?opgeslagen=1");
        // Another moderator who did not ask for it, and an editor, get nothing.
        app.create_user("stille-moderator", Role::Moderator).await;
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.post_form("/beheer/account", &[("email", "redactie@example.nl")]).await.assert_redirect("/beheer/account?opgeslagen=1");

        waiting(&app, &slug, "Anna", "Eerst dit.").await;
        waiting(&app, &slug, "Bram", "En dan *dat*.").await;
        let now = Utc::now();
        jobs::run_due(&app.state, now).await;
        let received = smtpd.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(arrived_after_a_moment(&smtpd).await, 1, "exactly one digest");
        let digest = &received[0];
        assert_eq!(digest.rcpt_to, ["Moderator@example.nl"]);
        assert_eq!(digest.subject, "2 reacties wachten op moderatie");
        assert!(digest.text.contains("Hallo moderator-test"), "{}", digest.text);
        assert!(
            digest.text.contains("Er wachten 2 reacties op moderatie.") && !digest.text.contains("waarvan"),
            "all new, so no count of the new:\n{}",
            digest.text
        );
        let (anna, bram) = (digest.text.find("Anna bij \"Register of portfolio\"").unwrap(), digest.text.find("Bram bij \"Register of portfolio\"").unwrap());
        assert!(bram < anna, "newest first:\n{}", digest.text);
        assert!(digest.text.contains("En dan *dat*."), "{}", digest.text);
        assert!(digest.text.contains(&kantlijn::domain::dates::long_date(now)), "a Dutch date:\n{}", digest.text);
        assert!(digest.html.contains("<strong>Anna</strong>"), "{}", digest.html);
        assert_eq!(digest.link_with("moderatie"), "http://127.0.0.1:8080/beheer/moderatie");
        let unsubscribe = digest.link_with("afmelden");
        assert!(unsubscribe.starts_with("http://127.0.0.1:8080/afmelden/"), "{unsubscribe}");
        assert!(!unsubscribe.contains('@'), "no address in the link");
        assert_eq!(digest.header("List-Unsubscribe"), Some(format!("<{unsubscribe}>").as_str()));
        assert_eq!(digest.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));

        // Within the hour: nothing.
        jobs::run_due(&app.state, now + chrono::Duration::minutes(30)).await;
        assert_eq!(queued(&app).await, 0);
        assert_eq!(arrived_after_a_moment(&smtpd).await, 1);
        // An hour on with nothing new: nothing, though two still wait.
        jobs::run_due(&app.state, now + chrono::Duration::minutes(61)).await;
        assert_eq!(queued(&app).await, 0);
        assert_eq!(arrived_after_a_moment(&smtpd).await, 1);
        // Something new: one more, counting what is new.
        waiting(&app, &slug, "Carla", "Nog iets.").await;
        jobs::run_due(&app.state, now + chrono::Duration::minutes(62)).await;
        let received = smtpd.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(arrived_after_a_moment(&smtpd).await, 2);
        assert_eq!(received[1].subject, "3 reacties wachten op moderatie");
        assert!(received[1].text.contains("waarvan 1 nieuw sinds de vorige samenvatting"), "{}", received[1].text);
        assert!(received.iter().all(|m| m.rcpt_to == ["Moderator@example.nl"]));
    }
}

db_test! {
    async fn nothing_waiting_means_no_digest(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Stil").await;
        let moderator = app.other_browser();
        moderator.login_as(Role::Admin).await;
        moderator
            .post_form("/beheer/account", &[("email", "beheer@example.nl"), ("digest", "on")])
            .await
            .assert_redirect("/beheer/account?opgeslagen=1");
        // Handled reactions are not waiting ones.
        let handled = waiting(&app, &slug, "Eva", "Al gezien.").await;
        app.moderate(&[handled], "approve", "").await;
        let spam = waiting(&app, &slug, "Frits", "Koop nu.").await;
        app.moderate(&[spam], "spam", "").await;
        jobs::run_due(&app.state, Utc::now()).await;
        assert_eq!(queued(&app).await, 0);
        assert_eq!(arrived_after_a_moment(&smtpd).await, 0);
    }
}

db_test! {
    async fn the_account_page_keeps_an_address_and_the_digest_choice(app) {
        let moderator = app.other_browser();
        let id = moderator.login_as(Role::Moderator).await;
        let page = moderator.get("/beheer").await;
        page.assert_contains("<a href=\"/beheer/account\">Mijn account</a>");
        let page = moderator.get("/beheer/account").await;
        page.assert_status(StatusCode::OK)
            .assert_contains("Mijn account")
            .assert_contains("Stuur mij hoogstens eens per uur een overzicht van wachtende reacties")
            .assert_contains("Deze site verstuurt geen e-mail");
        assert!(attr_of(&page.body, "input[name=\"digest\"]", "disabled").is_some(), "no mail, no digest");
        // Chosen while the site still sent mail: the choice stays while it cannot be
        // changed here, and removing the address ends it.
        let address = Email::parse("mod@example.nl").unwrap();
        store::users::update_contact(app.db.write(), id, Some(&address), true).await.unwrap();
        let page = moderator.get("/beheer/account").await;
        assert!(attr_of(&page.body, "input[name=\"digest\"]", "checked").is_some());
        moderator.post_form("/beheer/account", &[("email", "ander@example.nl")]).await.assert_redirect("/beheer/account?opgeslagen=1");
        let user = store::users::find_by_id(app.db.read(), id).await.unwrap().unwrap();
        assert_eq!((user.email.as_deref(), user.digest), (Some("ander@example.nl"), true));
        moderator.post_form("/beheer/account", &[("email", "")]).await.assert_redirect("/beheer/account?opgeslagen=1");
        let user = store::users::find_by_id(app.db.read(), id).await.unwrap().unwrap();
        assert_eq!((user.email, user.digest), (None, false));

        // With mail configured, the digest needs an address, and the address must be one.
        let Some(smtpd) = Smtpd::start() else { return };
        let site = app.with_mail(&smtpd).await;
        let moderator = site.other_browser();
        moderator.login_as(Role::Moderator).await;
        let page = moderator.get("/beheer/account").await;
        page.assert_lacks("Deze site verstuurt geen e-mail");
        assert!(attr_of(&page.body, "input[name=\"digest\"]", "disabled").is_none());
        moderator
            .post_form("/beheer/account", &[("email", ""), ("digest", "on")])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Vul een e-mailadres in om het overzicht te ontvangen.");
        moderator
            .post_form("/beheer/account", &[("email", "geen adres"), ("digest", "on")])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Vul een geldig e-mailadres in")
            .assert_contains("value=\"geen adres\"");
        let user = store::users::find_by_id(app.db.read(), id).await.unwrap().unwrap();
        assert_eq!((user.email, user.digest), (None, false), "nothing saved");

        moderator
            .post_form("/beheer/account", &[("email", " mod@example.nl "), ("digest", "on")])
            .await
            .assert_redirect("/beheer/account?opgeslagen=1");
        let page = moderator.get("/beheer/account?opgeslagen=1").await;
        page.assert_contains("Opgeslagen.").assert_contains("value=\"mod@example.nl\"");
        assert!(attr_of(&page.body, "input[name=\"digest\"]", "checked").is_some());
        // Unticked, the digest stops; an empty address removes it.
        moderator.post_form("/beheer/account", &[("email", "")]).await.assert_redirect("/beheer/account?opgeslagen=1");
        let user = store::users::find_by_id(app.db.read(), id).await.unwrap().unwrap();
        assert_eq!((user.email, user.digest), (None, false));

        // Editors keep an address, but have no queue to hear about.
        let editor = site.other_browser();
        editor.login_as(Role::Editor).await;
        let page = editor.get("/beheer/account").await;
        page.assert_status(StatusCode::OK).assert_lacks("name=\"digest\"");
        let editor_id = editor.post_form("/beheer/account", &[("email", "red@example.nl"), ("digest", "on")]).await;
        editor_id.assert_redirect("/beheer/account?opgeslagen=1");
        let user = store::users::find_by_username(app.db.read(), "editor-test").await.unwrap().unwrap();
        assert_eq!((user.email.as_deref(), user.digest), (Some("red@example.nl"), false));

        // Not logged in: to the login page.
        app.other_browser().get("/beheer/account").await.assert_status(StatusCode::SEE_OTHER);
    }
}
