//! The moderation queue, bulk actions and the log.

use std::collections::BTreeSet;

use kantlijn::{domain::validate::Role, entity::comments, store::audit};
use poem::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{
    db_test,
    helpers::{Resp, TestApp},
};

/// The text of the first element matching `selector`, on one line.
fn text_of(page: &Resp, selector: &str) -> String {
    let document = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse(selector).unwrap();
    let element = document
        .select(&selector)
        .next()
        .unwrap_or_else(|| panic!("no {selector:?} in the page"));
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The ids of the queue items on a page.
fn item_ids(page: &Resp) -> BTreeSet<i32> {
    let document = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse("li.queue-item").unwrap();
    document
        .select(&selector)
        .map(|li| li.value().attr("data-id").unwrap().parse().unwrap())
        .collect()
}

/// The link of one count in an item's history line (`zelfde_email` or `zelfde_adres`).
fn history_link(page: &Resp, item: i32, key: &str, status: &str) -> String {
    let selector = format!("#item-{item} li[data-history=\"{key}\"] a[data-status=\"{status}\"]");
    crate::helpers::attr_of(&page.body, &selector, "href")
        .unwrap_or_else(|| panic!("no {selector}"))
}

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
            .assert_contains("Antwoord op Ouder Schrijver <span class=\"parent-state\">(goedgekeurd)</span>:")
            .assert_contains("<blockquote class=\"parent-quote\">De oorspronkelijke reactie</blockquote>")
            .assert_contains("Andere reacties van dit e-mailadres: ")
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

db_test! {
    async fn queue_quotes_the_reaction_a_reply_answers_with_its_state(app) {
        let slug = app.published_article("Ouders").await;
        let long = format!("Begin {} einde", "lang ".repeat(60));
        let parent = app.approved_comment(&slug, &[("author_name", "Ouder Schrijver"), ("body", &long)]).await;
        let reply = app.comment(&slug, &[("author_name", "Kind"), ("parent_id", &parent.to_string())]).await;
        let (moderator, _) = moderator(&app).await;
        let page = moderator.get("/beheer/moderatie").await;
        let quote = text_of(&page, &format!("#item-{reply} blockquote.parent-quote"));
        assert!(quote.starts_with("Begin lang lang"), "{quote}");
        assert!(quote.ends_with('…') && !quote.contains("einde"), "shortened: {quote}");
        assert!((190..=201).contains(&quote.chars().count()), "about 200 characters: {}", quote.chars().count());
        for (action, state) in [("reject", "afgewezen"), ("spam", "spam"), ("approve", "goedgekeurd")] {
            app.moderate(&[parent], action, "").await;
            let page = moderator.get("/beheer/moderatie").await;
            assert_eq!(
                text_of(&page, &format!("#item-{reply} .reply-to")),
                format!("Antwoord op Ouder Schrijver ({state}):"),
                "{action}"
            );
        }
        app.moderate(&[parent], "delete", "").await;
        let page = moderator.get("/beheer/moderatie").await;
        assert_eq!(text_of(&page, &format!("#item-{reply} .reply-to")), "Antwoord op een reactie (verwijderd):");
        assert_eq!(text_of(&page, &format!("#item-{reply} blockquote.parent-quote")), "[reactie verwijderd]");
        page.assert_lacks("Ouder Schrijver").assert_lacks("Begin lang");
    }
}

db_test! {
    async fn queue_counts_each_authors_other_reactions_by_email_and_by_address(app) {
        let slug = app.published_article("Geschiedenis").await;
        let (home, away) = ("192.0.2.10", "198.51.100.7");
        let same = "zelfde@example.nl";
        // Different names, so that no reaction is approved for a known author.
        let post = |peer: &'static str, email: &'static str, name: &'static str| {
            let app = &app;
            let slug = &slug;
            async move { app.comment_from(peer, slug, &[("author_email", email), ("author_name", name)]).await }
        };
        let e1 = post(home, same, "Een").await;
        let e2 = post(home, same, "Twee").await;
        let e3 = post(away, same, "Drie").await;
        let e4 = post(away, same, "Vier").await;
        let e5 = post(away, same, "Vijf").await;
        let a1 = post(home, "ander@example.nl", "Zes").await;
        let a2 = post(home, "ander@example.nl", "Zeven").await;
        let a3 = post(home, "derde@example.nl", "Acht").await;
        let item = post(home, same, "Negen").await;
        app.moderate(&[e1, e4, e5, a1], "approve", "").await;
        app.moderate(&[e2], "reject", "").await;
        app.moderate(&[e3, a2, a3], "spam", "").await;
        let hash = app.stored(item).await.ip_hash;
        assert_eq!(app.stored(e3).await.author_email, same);
        assert_ne!(app.stored(e3).await.ip_hash, hash, "another address, another hash");

        let (moderator, _) = moderator(&app).await;
        let page = moderator.get("/beheer/moderatie").await;
        assert_eq!(item_ids(&page), BTreeSet::from([item]));
        assert_eq!(
            text_of(&page, &format!("#item-{item} li[data-history=\"zelfde_email\"]")),
            "Andere reacties van dit e-mailadres: 3 goedgekeurd · 1 afgewezen · 1 spam"
        );
        assert_eq!(
            text_of(&page, &format!("#item-{item} li[data-history=\"zelfde_adres\"]")),
            "Andere reacties van dit adres (IP-hash): 2 goedgekeurd · 1 afgewezen · 2 spam"
        );
        let expected = [
            ("zelfde_email", "approved", vec![e1, e4, e5]),
            ("zelfde_email", "rejected", vec![e2]),
            ("zelfde_email", "spam", vec![e3]),
            ("zelfde_adres", "approved", vec![e1, a1]),
            ("zelfde_adres", "rejected", vec![e2]),
            ("zelfde_adres", "spam", vec![a2, a3]),
        ];
        for (key, status, ids) in expected {
            let link = history_link(&page, item, key, status);
            assert_eq!(link, format!("/beheer/moderatie?status={status}&{key}={item}"));
            let filtered = moderator.get(&link).await;
            filtered.assert_status(StatusCode::OK).assert_contains(&format!("als reactie {item}."));
            assert_eq!(item_ids(&filtered), ids.iter().copied().collect(), "{link}");
            assert_eq!(
                crate::helpers::attr_of(&filtered.body, "#author-filter a", "href").unwrap(),
                format!("/beheer/moderatie?status={status}"),
                "the link that drops the filter"
            );
        }
        for fragment in [same, &hash[..]] {
            page.assert_lacks(&format!("zelfde_email={fragment}")).assert_lacks(&format!("zelfde_adres={fragment}"));
        }

        // Seen from an approved reaction, that reaction itself is left out of its counts.
        let approved = moderator.get("/beheer/moderatie?status=approved").await;
        assert_eq!(
            text_of(&approved, &format!("#item-{e1} li[data-history=\"zelfde_email\"]")),
            "Andere reacties van dit e-mailadres: 2 goedgekeurd · 1 afgewezen · 1 spam"
        );
        let own = moderator.get(&history_link(&approved, e1, "zelfde_email", "approved")).await;
        assert_eq!(item_ids(&own), BTreeSet::from([e4, e5]));
        own.assert_contains("Goedgekeurd <span class=\"badge\">2</span>")
            .assert_contains("Wachtend <span class=\"badge\">1</span>");

        // Acting on the filtered queue comes back to it.
        moderator
            .post_form("/beheer/moderatie", &[("ids", &e4.to_string()), ("action", "reject"), ("status", "approved"), ("zelfde_email", &e1.to_string())])
            .await
            .assert_redirect(&format!("/beheer/moderatie?status=approved&zelfde_email={e1}&bijgewerkt=1"));
    }
}

db_test! {
    async fn an_erased_address_counts_for_nobody(app) {
        let slug = app.published_article("Gewist").await;
        let peer = "203.0.113.9";
        let old = app.comment_from(peer, &slug, &[("author_name", "Oud"), ("author_email", "oud@example.nl")]).await;
        let other = app.comment_from(peer, &slug, &[("author_name", "Ander"), ("author_email", "ander@example.nl")]).await;
        let item = app.comment_from(peer, &slug, &[("author_name", "Nieuw"), ("author_email", "nieuw@example.nl")]).await;
        app.moderate(&[old, other], "approve", "").await;
        // Retention clears the hash of old reactions.
        comments::Entity::update_many()
            .col_expr(comments::Column::IpHash, Expr::value(""))
            .filter(comments::Column::Id.is_in([old, item]))
            .exec(app.db.write())
            .await
            .unwrap();
        let (moderator, _) = moderator(&app).await;
        let page = moderator.get("/beheer/moderatie").await;
        assert_eq!(
            text_of(&page, &format!("#item-{item} li[data-history=\"zelfde_adres\"]")),
            "Andere reacties van dit adres (IP-hash): niet meer na te gaan (gewist)"
        );
        let filtered = moderator.get(&format!("/beheer/moderatie?status=approved&zelfde_adres={item}")).await;
        assert_eq!(item_ids(&filtered), BTreeSet::new(), "an empty hash matches no other empty hash");
        let filtered = moderator.get(&format!("/beheer/moderatie?status=approved&zelfde_adres={other}")).await;
        assert_eq!(item_ids(&filtered), BTreeSet::new(), "the erased reaction is no longer the same address");
    }
}

db_test! {
    async fn queue_filtered_by_an_unknown_reaction_shows_everything_and_says_so(app) {
        let slug = app.published_article("Onbekend filter").await;
        let a = app.comment(&slug, &[("author_name", "Eerste")]).await;
        let b = app.comment(&slug, &[("author_name", "Tweede")]).await;
        let (moderator, _) = moderator(&app).await;
        for query in ["zelfde_email=999999", "zelfde_adres=999999", "zelfde_email=abc", "zelfde_adres=-1x"] {
            let page = moderator.get(&format!("/beheer/moderatie?status=pending&{query}")).await;
            page.assert_status(StatusCode::OK)
                .assert_contains("Er is geen reactie met dat nummer, dus alle reacties worden getoond.")
                .assert_lacks("id=\"author-filter\"");
            assert_eq!(item_ids(&page), BTreeSet::from([a, b]), "{query}");
        }
        moderator
            .get("/beheer/moderatie")
            .await
            .assert_lacks("Er is geen reactie met dat nummer");
    }
}
