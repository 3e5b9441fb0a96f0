//! The moderation queue, bulk actions and the log.

use kantlijn::{domain::validate::Role, store::audit};
use poem::http::StatusCode;

use crate::{db_test, helpers::TestApp};

async fn moderator(app: &TestApp) -> (TestApp, i32) {
    let browser = app.other_browser();
    let id = browser.login_as(Role::Moderator).await;
    (browser, id)
}

db_test! {
    async fn queue_shows_what_a_moderator_needs(app) {
        let slug = app.published_article("Wachtrij").await;
        let parent = app.approved_comment(&slug, &[("author_name", "Ouder Schrijver"), ("body", "De oorspronkelijke reactie")]).await;
        let id = app
            .comment(&slug, &[
                ("author_name", "Wachtende Lezer"),
                ("author_email", "wacht@example.nl"),
                ("author_url", "https://example.nl/wacht"),
                ("parent_id", &parent.to_string()),
                ("body", "Twee links: https://a.example en https://b.example"),
            ])
            .await;
        let (moderator, _) = moderator(&app).await;
        let page = moderator.get("/beheer/moderatie").await;
        let ip_prefix: String = app.stored(id).await.ip_hash.chars().take(10).collect();
        page.assert_status(StatusCode::OK)
            .assert_contains("Wachtrij")
            .assert_contains("Wachtende Lezer")
            .assert_contains("wacht@example.nl")
            .assert_contains("https://example.nl/wacht")
            .assert_contains(&ip_prefix)
            .assert_contains("Antwoord op Ouder Schrijver: De oorspronkelijke reactie")
            .assert_contains("regel: bevat meerdere links")
            .assert_contains(&format!("value=\"{id}\""))
            // The approved parent is quoted, but it is no item of the pending queue.
            .assert_lacks(&format!("value=\"{parent}\""));
        // Tab counts.
        page.assert_contains("Wachtend <span class=\"badge\">1</span>")
            .assert_contains("Goedgekeurd <span class=\"badge\">1</span>");
        moderator
            .get("/beheer/moderatie?status=approved")
            .await
            .assert_contains("De oorspronkelijke reactie")
            .assert_lacks("Wachtende Lezer");
    }
}

db_test! {
    async fn queue_filters_per_article(app) {
        let first = app.published_article("Eerste artikel").await;
        let second = app.published_article("Tweede artikel").await;
        app.comment(&first, &[("body", "Over het eerste")]).await;
        app.comment(&second, &[("body", "Over het tweede")]).await;
        let (moderator, _) = moderator(&app).await;
        moderator
            .get(&format!("/beheer/moderatie?article={first}"))
            .await
            .assert_contains("Over het eerste")
            .assert_lacks("Over het tweede");
    }
}

db_test! {
    async fn bulk_actions_change_every_selected_reaction_and_log_each(app) {
        let slug = app.published_article("Bulk").await;
        let a = app.comment(&slug, &[("body", "Reactie A")]).await;
        let b = app.comment(&slug, &[("body", "Reactie B")]).await;
        let c = app.comment(&slug, &[("body", "Reactie C")]).await;
        let (moderator, moderator_id) = moderator(&app).await;
        let resp = moderator
            .post_form("/beheer/moderatie", &[("ids", &a.to_string()), ("ids", &b.to_string()), ("action", "approve"), ("reason", "prima"), ("status", "pending")])
            .await;
        resp.assert_redirect("/beheer/moderatie?status=pending&bijgewerkt=2");
        moderator.get(resp.location()).await.assert_contains("2 reacties bijgewerkt.");
        for id in [a, b] {
            assert_eq!(app.stored(id).await.status.as_str(), "approved");
            let log = audit::for_comment(app.db.read(), id).await.unwrap();
            let last = log.last().unwrap();
            assert_eq!(
                (last.actor.clone(), last.action.as_str(), last.from_status.map(|s| s.as_str()), last.to_status.as_str(), last.reason.as_deref()),
                (moderator_id.to_string(), "approve", Some("pending"), "approved", Some("prima"))
            );
        }
        assert_eq!(app.stored(c).await.status.as_str(), "pending");
        for (action, status) in [("reject", "rejected"), ("spam", "spam"), ("delete", "deleted"), ("approve", "approved")] {
            moderator.post_form("/beheer/moderatie", &[("ids", &c.to_string()), ("action", action), ("status", "pending")]).await.assert_status(StatusCode::SEE_OTHER);
            assert_eq!(app.stored(c).await.status.as_str(), status, "{action}");
        }
        assert_eq!(audit::for_comment(app.db.read(), c).await.unwrap().len(), 5, "submit plus four changes");
    }
}

db_test! {
    async fn per_item_buttons_act_on_one_reaction(app) {
        let slug = app.published_article("Los").await;
        let a = app.comment(&slug, &[]).await;
        let b = app.comment(&slug, &[]).await;
        let (moderator, _) = moderator(&app).await;
        moderator
            .post_form("/beheer/moderatie", &[("ids", &b.to_string()), ("item", &format!("spam:{a}")), ("status", "pending")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        assert_eq!(app.stored(a).await.status.as_str(), "spam");
        assert_eq!(app.stored(b).await.status.as_str(), "pending", "only the button's reaction changes");
    }
}

db_test! {
    async fn unknown_action_is_refused(app) {
        let slug = app.published_article("Onbekend").await;
        let a = app.comment(&slug, &[]).await;
        let (moderator, _) = moderator(&app).await;
        moderator
            .post_form("/beheer/moderatie", &[("ids", &a.to_string()), ("action", "publish")])
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Kies wat er met de reacties moet gebeuren");
        assert_eq!(app.stored(a).await.status.as_str(), "pending");
    }
}

db_test! {
    async fn log_lists_manual_and_automatic_decisions_filterable(app) {
        let slug = app.published_article("Logboek").await;
        let id = app.comment(&slug, &[]).await;
        app.moderate(&[id], "reject", "off-topic").await;
        let (moderator, moderator_id) = moderator(&app).await;
        let page = moderator.get("/beheer/logboek").await;
        page.assert_status(StatusCode::OK)
            .assert_contains("systeem (regels)")
            .assert_contains("eerste reactie van deze schrijver")
            .assert_contains("afgewezen")
            .assert_contains("off-topic")
            .assert_contains("moderator-test");
        let reject_at = page.body.find("off-topic").unwrap();
        let submit_at = page.body.find("eerste reactie van deze schrijver").unwrap();
        assert!(reject_at < submit_at, "newest first");
        moderator
            .get(&format!("/beheer/logboek?actor={moderator_id}"))
            .await
            .assert_contains("off-topic")
            .assert_lacks("eerste reactie van deze schrijver");
        moderator
            .get("/beheer/logboek?action=submit")
            .await
            .assert_lacks("off-topic")
            .assert_contains("eerste reactie van deze schrijver");
    }
}

db_test! {
    async fn only_moderators_and_admins_reach_the_queue_and_log(app) {
        for path in ["/beheer/moderatie", "/beheer/logboek"] {
            app.get(path).await.assert_status(StatusCode::SEE_OTHER);
        }
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        for path in ["/beheer/moderatie", "/beheer/logboek"] {
            editor.get(path).await.assert_status(StatusCode::FORBIDDEN);
        }
        editor.post_form("/beheer/moderatie", &[("ids", "1"), ("action", "approve")]).await.assert_status(StatusCode::FORBIDDEN);
        editor.post_form("/beheer/moderatie/blokkeren", &[("comment_id", "1"), ("kind", "email")]).await.assert_status(StatusCode::FORBIDDEN);
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        for path in ["/beheer/moderatie", "/beheer/logboek"] {
            admin.get(path).await.assert_status(StatusCode::OK);
        }
    }
}

db_test! {
    async fn demo_site_has_threaded_reactions_and_a_queue(app) {
        let logins = kantlijn::demo::prepare(&app.db, &app.state.keys).await.unwrap();
        assert_eq!(logins.len(), 2);
        let page = app.get("/artikelen/lerarenregister-wordt-lerarenportfolio").await;
        page.assert_contains("3 reacties");
        let document = scraper::Html::parse_document(&page.body);
        let nested = scraper::Selector::parse("li.reaction.depth-1 > ol.thread > li.reaction.depth-2").unwrap();
        assert_eq!(document.select(&nested).count(), 1, "one approved reply nests");
        let (moderator, _) = moderator(&app).await;
        moderator
            .get("/beheer/moderatie")
            .await
            .assert_contains("Wachtend <span class=\"badge\">3</span>")
            .assert_contains("regel: bevat meerdere links");
        // A second start seeds nothing twice.
        kantlijn::demo::prepare(&app.db, &app.state.keys).await.unwrap();
        assert_eq!(kantlijn::store::comments::count(app.db.read()).await.unwrap(), 6);
    }
}
