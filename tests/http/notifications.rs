//! Reply notifications through a real SMTP server on loopback: the double opt-in, one
//! mail per approved reply with a link to it, and the one-click unsubscribe of RFC 8058.

use std::time::Duration;

use poem::http::{Method, StatusCode};

use crate::{
    db_test,
    helpers::TestApp,
    smtp::{Received, Smtpd},
};

const BASE: &str = "http://127.0.0.1:8080";

/// The path of a link the site mailed (they are absolute, on its base URL).
fn path_of(link: &str) -> &str {
    link.strip_prefix(BASE)
        .unwrap_or_else(|| panic!("{link} is not on {BASE}"))
}

/// Asks for notifications with a reaction and confirms the mailed link; returns the
/// reaction and the confirmation mail.
async fn confirmed_reaction(
    app: &TestApp,
    smtpd: &Smtpd,
    slug: &str,
    email: &str,
    name: &str,
) -> (i32, Received) {
    let before = smtpd.received().len();
    let id = app
        .comment(
            slug,
            &[
                ("author_email", email),
                ("author_name", name),
                ("notify_replies", "on"),
            ],
        )
        .await;
    assert!(app.stored(id).await.notify_replies);
    let mail = smtpd
        .wait_for(before + 1, Duration::from_secs(10))
        .await
        .remove(before);
    assert_eq!(mail.rcpt_to, [email]);
    assert_eq!(
        mail.subject,
        "Bevestig: wil je mail bij reacties op Kantlijn?"
    );
    let confirm = mail.link_with("/meldingen/bevestigen/");
    let page = app.get(path_of(&confirm)).await;
    page.assert_status(StatusCode::OK)
        .assert_contains("Ja, mail mij bij reacties");
    app.post_form(path_of(&confirm), &[])
        .await
        .assert_redirect(path_of(&confirm));
    app.get(path_of(&confirm))
        .await
        .assert_contains("Je meldingen staan aan");
    (id, mail)
}

db_test! {
    async fn an_approved_reply_mails_the_confirmed_author_once(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Van register naar portfolio").await;
        let (anna, confirmation) =
            confirmed_reaction(&app, &smtpd, &slug, "anna@example.nl", "Anna de Vries").await;
        assert!(confirmation.text.contains("Hallo Anna de Vries"), "{}", confirmation.text);
        assert!(confirmation.header("List-Unsubscribe").is_some_and(|h| h.contains("/afmelden/")));
        assert_eq!(
            confirmation.header("List-Unsubscribe-Post"),
            Some("List-Unsubscribe=One-Click")
        );
        app.moderate(&[anna], "approve", "").await;

        // Bram replies; nothing is mailed until a moderator approves the reply.
        let bram = app.other_browser();
        let reply = bram
            .comment(
                &slug,
                &[
                    ("author_name", "Bram"),
                    ("author_email", "bram@example.nl"),
                    ("parent_id", &anna.to_string()),
                    ("body", "Het portfolio is in elk geval vrijwillig."),
                ],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(smtpd.received().len(), 1, "no mail for a pending reply");
        app.moderate(&[reply], "approve", "").await;
        let mails = smtpd.wait_for(2, Duration::from_secs(10)).await;
        let mail = &mails[1];
        assert_eq!(mail.rcpt_to, ["anna@example.nl"]);
        assert_eq!(
            mail.subject,
            "Bram reageerde op je reactie bij \u{201c}Van register naar portfolio\u{201d}"
        );
        assert!(mail.text.contains("Het portfolio is in elk geval vrijwillig."), "{}", mail.text);
        assert!(mail.html.contains("Lees en antwoord"));
        let link = mail.link_with("?reactie=");
        assert_eq!(
            path_of(&link),
            format!("/artikelen/{slug}?reactie={reply}#reactie-{reply}")
        );
        app.get(path_of(&link).split('#').next().unwrap())
            .await
            .assert_status(StatusCode::OK)
            .assert_contains(&format!("id=\"reactie-{reply}\""));
        assert!(mail.header("List-Unsubscribe").is_some());

        // Rejected and approved again: still one mail about it. Anna's own reply: none.
        app.moderate(&[reply], "reject", "").await;
        app.moderate(&[reply], "approve", "").await;
        let own = app
            .comment(
                &slug,
                &[
                    ("author_name", "Anna de Vries"),
                    ("author_email", "anna@example.nl"),
                    ("parent_id", &anna.to_string()),
                ],
            )
            .await;
        app.moderate(&[own], "approve", "").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(smtpd.received().len(), 2, "{:?}", smtpd.received().iter().map(|m| &m.subject).collect::<Vec<_>>());
    }
}

db_test! {
    async fn one_click_unsubscribe_stops_the_mail(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Het lerarenportfolio").await;
        let (anna, confirmation) =
            confirmed_reaction(&app, &smtpd, &slug, "anna@example.nl", "Anna").await;
        app.moderate(&[anna], "approve", "").await;
        let header = confirmation.header("List-Unsubscribe").unwrap();
        let unsubscribe = header.trim_start_matches('<').trim_end_matches('>');
        // The page behind the link asks first: fetching it stops nothing.
        app.get(path_of(unsubscribe))
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Afmelden");

        // A mail client's one-click POST: no cookie, no CSRF token (RFC 8058).
        let client = app.other_browser();
        let answer = client
            .send_with(
                Method::POST,
                path_of(unsubscribe),
                Some("List-Unsubscribe=One-Click".to_owned()),
                &[("content-type", "application/x-www-form-urlencoded")],
            )
            .await;
        answer.assert_status(StatusCode::OK).assert_contains("Je bent afgemeld");
        // Again: still fine.
        client
            .send(Method::POST, path_of(unsubscribe), Some("List-Unsubscribe=One-Click".into()))
            .await
            .assert_status(StatusCode::OK);

        let reply = app
            .comment(&slug, &[("author_email", "bram@example.nl"), ("parent_id", &anna.to_string())])
            .await;
        app.moderate(&[reply], "approve", "").await;
        // Someone ticks the box again under Anna's address (in other capitals): the
        // unsubscribe holds, no new confirmation.
        app.comment(&slug, &[("author_email", "ANNA@example.nl"), ("notify_replies", "on")])
            .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(smtpd.received().len(), 1, "only the confirmation ever went out");

        // Anna, with the link from her mail, changes her mind.
        let page = app.get(path_of(unsubscribe)).await;
        page.assert_contains("Je bent afgemeld").assert_contains("Weer aanmelden");
        let again = hidden_form_action(&page.body, "Weer aanmelden");
        app.post_form(&again, &[]).await.assert_redirect(&again);
        let reply = app
            .comment(&slug, &[("author_email", "bram@example.nl"), ("parent_id", &anna.to_string())])
            .await;
        app.moderate(&[reply], "approve", "").await;
        let mails = smtpd.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(mails[1].rcpt_to, ["anna@example.nl"]);
    }
}

db_test! {
    async fn without_confirmation_no_reply_mail_and_no_second_request(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Registratie en AVG").await;
        let ask = [("author_email", "carla@example.nl"), ("notify_replies", "on")];
        let carla = app.comment(&slug, &ask).await;
        smtpd.wait_for(1, Duration::from_secs(10)).await;
        // Asking again within the day sends no second confirmation.
        app.comment(&slug, &ask).await;
        app.moderate(&[carla], "approve", "").await;
        let reply = app
            .comment(&slug, &[("author_email", "bram@example.nl"), ("parent_id", &carla.to_string())])
            .await;
        app.moderate(&[reply], "approve", "").await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let received = smtpd.received();
        assert_eq!(received.len(), 1, "{:?}", received.iter().map(|m| &m.subject).collect::<Vec<_>>());
    }
}

db_test! {
    async fn forged_or_unknown_mail_links_get_a_dutch_404(app) {
        for path in [
            "/meldingen/bevestigen/confirm-1.AAAA",
            "/meldingen/bevestigen/%00abc.%20",
            "/afmelden/unsubscribe-r1.AAAA",
            "/afmelden/x",
        ] {
            app.get(path)
                .await
                .assert_status(StatusCode::NOT_FOUND)
                .assert_contains("Deze link werkt niet (meer)");
        }
        app.other_browser()
            .send(Method::POST, "/afmelden/unsubscribe-r1.AAAA", Some("List-Unsubscribe=One-Click".into()))
            .await
            .assert_status(StatusCode::NOT_FOUND);
        // A well-signed unsubscribe link whose address was erased since: no mail goes
        // there, and there is nothing to turn on again.
        let gone = kantlijn::mail::links::unsubscribe_token(
            &app.state.keys,
            kantlijn::mail::links::Unsubscribe::Reader(999),
        );
        app.get(&format!("/afmelden/{gone}"))
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Je bent afgemeld")
            .assert_lacks("Weer aanmelden");
        // A well-signed link whose row does not exist.
        let token = kantlijn::mail::links::confirm_token(&app.state.keys, 999);
        app.get(&format!("/meldingen/bevestigen/{token}"))
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn a_site_without_mail_offers_no_notifications(app) {
        let slug = app.published_article("Zonder mail").await;
        let page = app.get(&format!("/artikelen/{slug}")).await;
        page.assert_contains("de site verstuurt geen e-mail")
            .assert_lacks("name=\"notify_replies\"");
        // Ticked anyway (an old form, a script): stored without the wish, nothing queued.
        let id = app.comment(&slug, &[("notify_replies", "on")]).await;
        assert!(!app.stored(id).await.notify_replies);
        let (pending, _) = kantlijn::store::outbox::counts(app.db.read()).await.unwrap();
        assert_eq!(pending, 0);
    }
}

db_test! {
    async fn a_reply_the_rules_approve_mails_at_once(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Nascholing registreren").await;
        let (anna, _) = confirmed_reaction(&app, &smtpd, &slug, "anna@example.nl", "Anna").await;
        app.moderate(&[anna], "approve", "").await;
        app.set_setting("moderation_mode", "publish_all").await;
        let reply = app
            .comment(&slug, &[("author_name", "Bram"), ("author_email", "bram@example.nl"), ("parent_id", &anna.to_string())])
            .await;
        assert_eq!(app.stored(reply).await.status, kantlijn::domain::states::CommentStatus::Approved);
        let mails = smtpd.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(mails[1].rcpt_to, ["anna@example.nl"]);
        assert!(mails[1].link_with("?reactie=").ends_with(&format!("#reactie-{reply}")));
    }
}

db_test! {
    async fn a_digest_unsubscribe_link_stops_the_digest(app) {
        let id = app.create_user("mod", kantlijn::domain::validate::Role::Moderator).await;
        let email = kantlijn::domain::validate::Email::parse("mod@example.nl").unwrap();
        kantlijn::store::users::update_contact(app.db.write(), id, Some(&email), true)
            .await
            .unwrap();
        let token = kantlijn::mail::links::unsubscribe_token(
            &app.state.keys,
            kantlijn::mail::links::Unsubscribe::Digest(id),
        );
        let path = format!("/afmelden/{token}");
        app.get(&path)
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("samenvatting van wachtende reacties niet meer");
        app.other_browser()
            .send(Method::POST, &path, Some("List-Unsubscribe=One-Click".into()))
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Je bent afgemeld");
        let user = kantlijn::store::users::find_by_id(app.db.read(), id).await.unwrap().unwrap();
        assert!(!user.digest);
        assert_eq!(user.email.as_deref(), Some("mod@example.nl"));
    }
}

db_test! {
    async fn a_reaction_the_rules_call_spam_mails_nobody(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Spam met andermans adres").await;
        // The honeypot filled in: spam, whatever address it carries.
        let id = app
            .comment(
                &slug,
                &[("author_email", "slachtoffer@example.nl"), ("notify_replies", "on"), ("bijzonderheden", "http://spam.example")],
            )
            .await;
        assert_eq!(app.stored(id).await.status, kantlijn::domain::states::CommentStatus::Spam);
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(smtpd.received().is_empty());
        let (pending, failed) = kantlijn::store::outbox::counts(app.db.read()).await.unwrap();
        assert_eq!((pending, failed), (0, 0));
    }
}

/// The action of the form whose button says `button`.
fn hidden_form_action(html: &str, button: &str) -> String {
    let at = html
        .find(button)
        .unwrap_or_else(|| panic!("no {button:?} in {html}"));
    let form = html[..at].rfind("<form").unwrap();
    let action = &html[form..at];
    let start = action.find("action=\"").unwrap() + "action=\"".len();
    let end = start + action[start..].find('"').unwrap();
    action[start..end].to_owned()
}

db_test! {
    async fn a_reply_its_authors_edit_gets_approved_mails_too(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Bewerkt en goedgekeurd").await;
        let (anna, _) = confirmed_reaction(&app, &smtpd, &slug, "anna@example.nl", "Anna").await;
        app.moderate(&[anna], "approve", "").await;
        // Bram is a known author (an approved reaction), so the rules approve his
        // reactions, unless they hold two links.
        let bram = app.other_browser();
        let bram_fields = [("author_name", "Bram"), ("author_email", "bram@example.nl")];
        let earlier = bram.comment(&slug, &bram_fields).await;
        app.moderate(&[earlier], "approve", "").await;
        let parent = anna.to_string();
        let mut fields = bram_fields.to_vec();
        fields.extend([
            ("parent_id", parent.as_str()),
            ("body", "Zie https://a.example en https://b.example"),
        ]);
        let reply = bram.comment(&slug, &fields).await;
        assert_eq!(app.stored(reply).await.status, kantlijn::domain::states::CommentStatus::Pending);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(smtpd.received().len(), 1, "held: no mail yet");
        bram.post_form(
            &format!("/artikelen/{slug}/reacties/{reply}/bewerken"),
            &[("body", "Zonder links dan: het portfolio blijft vrijwillig.")],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
        assert_eq!(app.stored(reply).await.status, kantlijn::domain::states::CommentStatus::Approved);
        let mails = smtpd.wait_for(2, Duration::from_secs(10)).await;
        assert_eq!(mails[1].rcpt_to, ["anna@example.nl"]);
        assert!(mails[1].text.contains("het portfolio blijft vrijwillig"), "{}", mails[1].text);
    }
}

db_test! {
    async fn a_bulk_approval_mails_each_parents_author_once(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Samen goedgekeurd").await;
        let (anna, _) = confirmed_reaction(&app, &smtpd, &slug, "anna@example.nl", "Anna").await;
        let (carla, _) = confirmed_reaction(&app, &smtpd, &slug, "carla@example.nl", "Carla").await;
        app.moderate(&[anna, carla], "approve", "").await;
        let mut replies = Vec::new();
        for (parent, body) in [(anna, "Aan Anna"), (carla, "Aan Carla"), (anna, "Nog eens aan Anna")] {
            replies.push(
                app.comment(&slug, &[("author_email", "bram@example.nl"), ("parent_id", &parent.to_string()), ("body", body)])
                    .await,
            );
        }
        app.moderate(&replies, "approve", "").await;
        let mails = smtpd.wait_for(5, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(smtpd.received().len(), 5, "two confirmations, three replies");
        let mut told: Vec<(String, bool)> = mails[2..]
            .iter()
            .map(|m| (m.rcpt_to[0].clone(), m.text.contains("Carla")))
            .collect();
        told.sort();
        assert_eq!(
            told,
            [
                ("anna@example.nl".to_owned(), false),
                ("anna@example.nl".to_owned(), false),
                ("carla@example.nl".to_owned(), true)
            ]
        );
    }
}
