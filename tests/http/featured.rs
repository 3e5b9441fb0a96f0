//! Featuring ("Uitlichten"): moderators pick reactions worth reading from the queue, the
//! article page or the API; readers see them under "Uitgelicht" above the thread and with
//! a badge in it; every pick is logged, and one that leaves "approved" ends.

use kantlijn::{
    domain::states::LogAction,
    domain::validate::Role,
    store::{self, audit},
};
use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{Resp, TestApp},
};

/// The "Uitgelicht" block of an article page, as text on one line; `None` when the page
/// has none.
fn featured_block(page: &Resp) -> Option<String> {
    let document = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse("section.featured-picks").unwrap();
    document.select(&selector).next().map(|section| {
        section
            .text()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The ids of the reactions that carry the "Uitgelicht" badge in the thread.
fn badged(page: &Resp) -> Vec<i32> {
    let document = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse("li.reaction").unwrap();
    let badge =
        scraper::Selector::parse(":scope > article .reaction-meta .badge.featured").unwrap();
    document
        .select(&selector)
        .filter(|li| li.select(&badge).next().is_some())
        .map(|li| {
            li.value()
                .attr("id")
                .unwrap()
                .trim_start_matches("reactie-")
                .parse()
                .unwrap()
        })
        .collect()
}

/// `featured` of every reaction in the API tree, by id.
async fn api_featured(app: &TestApp, slug: &str) -> Vec<(i64, bool)> {
    let (resp, tree) = app
        .api(
            Method::GET,
            &format!("/api/v1/articles/{slug}/comments"),
            None,
            None,
        )
        .await;
    resp.assert_status(StatusCode::OK);
    fn walk(nodes: &Value, out: &mut Vec<(i64, bool)>) {
        for node in nodes.as_array().unwrap() {
            let featured = node["featured"]
                .as_bool()
                .expect("`featured` is on every comment");
            out.push((node["id"].as_i64().unwrap(), featured));
            walk(&node["replies"], out);
        }
    }
    let mut out = Vec::new();
    walk(&tree["comments"], &mut out);
    out
}

/// The log's actions for one reaction, oldest first.
async fn logged(app: &TestApp, id: i32) -> Vec<LogAction> {
    audit::for_comment(app.db.read(), id)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.action)
        .collect()
}

async fn moderator(app: &TestApp) -> TestApp {
    let browser = app.other_browser();
    browser.login_as(Role::Moderator).await;
    browser
}

db_test! {
    async fn a_reaction_featured_in_the_queue_is_shown_to_readers_at_once_and_logged(app) {
        let slug = app.published_article("Uitgelicht").await;
        let picked = app.approved_comment(&slug, &[("author_name", "Sanne Bakker"), ("body", "Een *doordachte* reactie over het portfolio.")]).await;
        let other = app.approved_comment(&slug, &[("author_name", "Piet"), ("body", "Gewoon een reactie.")]).await;
        // A reader (who posted nothing here) gets the page from the cache.
        let reader = app.other_browser();
        reader.get(&format!("/artikelen/{slug}")).await.assert_status(StatusCode::OK);
        let before = reader.get(&format!("/artikelen/{slug}")).await;
        assert!(before.header("server-timing").contains("hit"), "the page is cached");
        assert_eq!(featured_block(&before), None);
        assert_eq!(api_featured(&app, &slug).await, [(picked.into(), false), (other.into(), false)]);

        let moderator = moderator(&app).await;
        let queue = moderator.get("/beheer/moderatie?status=approved").await;
        queue.assert_contains(&format!("name=\"item\" value=\"feature:{picked}\""))
            .assert_contains("Selectie uitlichten");
        moderator
            .post_form("/beheer/moderatie", &[("item", &format!("feature:{picked}")), ("status", "approved")])
            .await
            .assert_redirect("/beheer/moderatie?status=approved&bijgewerkt=1");
        moderator.get("/beheer/moderatie?status=approved").await
            .assert_contains(&format!("name=\"item\" value=\"unfeature:{picked}\""))
            .assert_contains("<span class=\"badge featured\">Uitgelicht</span>");

        // Right after the moderator's 303, readers see it: the block, the badge, the API.
        let after = reader.get(&format!("/artikelen/{slug}")).await;
        after.assert_status(StatusCode::OK)
            .assert_contains(&format!("<a href=\"/artikelen/{slug}?reactie={picked}#reactie-{picked}\">Sanne Bakker</a>"));
        assert_eq!(featured_block(&after).as_deref(), Some("Uitgelicht Sanne Bakker: Een doordachte reactie over het portfolio."));
        assert_eq!(badged(&after), [picked]);
        assert_eq!(api_featured(&app, &slug).await, [(picked.into(), true), (other.into(), false)]);
        assert!(app.stored(picked).await.featured_at.is_some());

        // Unfeaturing, as a selection.
        moderator
            .post_form("/beheer/moderatie", &[("ids", &picked.to_string()), ("ids", &other.to_string()), ("action", "unfeature"), ("status", "approved")])
            .await
            .assert_redirect("/beheer/moderatie?status=approved&bijgewerkt=1");
        let gone = reader.get(&format!("/artikelen/{slug}")).await;
        assert_eq!(featured_block(&gone), None);
        assert!(badged(&gone).is_empty());
        assert_eq!(api_featured(&app, &slug).await, [(picked.into(), false), (other.into(), false)]);

        // Both decisions are logged; the one that changed nothing is not.
        assert_eq!(logged(&app, picked).await, [LogAction::Submit, LogAction::Approve, LogAction::Feature, LogAction::Unfeature]);
        assert_eq!(logged(&app, other).await, [LogAction::Submit, LogAction::Approve]);
        let log = moderator.get("/beheer/logboek?action=feature").await;
        log.assert_contains("<td>uitgelicht</td>").assert_lacks("<td>niet meer uitgelicht</td>");
        moderator.get("/beheer/logboek?action=unfeature").await.assert_contains("<td>niet meer uitgelicht</td>");
    }
}

db_test! {
    async fn the_block_lists_every_featured_reaction_on_every_page_of_the_thread(app) {
        app.set_setting("moderation_mode", "publish_all").await;
        let slug = app.published_article("Lange draad").await;
        let mut ids = Vec::new();
        for n in 0..51 {
            ids.push(app.comment(&slug, &[("body", &format!("Reactie nummer {n}."))]).await);
        }
        let (first, last) = (ids[0], ids[50]);
        app.moderate(&[last, first], "feature", "").await;
        let reader = app.other_browser();
        for page in ["", "?pagina=2"] {
            let shown = reader.get(&format!("/artikelen/{slug}{page}")).await;
            shown.assert_status(StatusCode::OK);
            let block = featured_block(&shown).unwrap_or_else(|| panic!("no block on {page:?}"));
            assert_eq!(block, "Uitgelicht Lien Peeters: Reactie nummer 0. Lien Peeters: Reactie nummer 50.", "{page:?}");
        }
        // The badge is on the reaction itself, on the page that holds it.
        assert_eq!(badged(&reader.get(&format!("/artikelen/{slug}")).await), [first]);
        assert_eq!(badged(&reader.get(&format!("/artikelen/{slug}?pagina=2")).await), [last]);
    }
}

db_test! {
    async fn moderators_feature_from_the_article_page_and_others_cannot(app) {
        let slug = app.published_article("Vanaf het artikel").await;
        let id = app.approved_comment(&slug, &[("author_name", "Joke")]).await;
        let back = format!("/artikelen/{slug}?reactie={id}#reactie-{id}");

        // Readers get no form, and a post without a login goes to the login page.
        let reader = app.other_browser();
        reader.get(&format!("/artikelen/{slug}")).await.assert_lacks("feature-form").assert_lacks("Uitlichten");
        let item = format!("feature:{id}");
        let fields = [("item", item.as_str()), ("terug", back.as_str())];
        let anonymous = app.post_form("/beheer/moderatie", &fields).await;
        anonymous.assert_status(StatusCode::SEE_OTHER);
        assert!(anonymous.location().starts_with("/beheer/inloggen"), "{}", anonymous.location());
        // An editor is staff, but does not moderate: no form, and 403.
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.get(&format!("/artikelen/{slug}")).await.assert_status(StatusCode::OK).assert_lacks("feature-form");
        editor.post_form("/beheer/moderatie", &fields).await.assert_status(StatusCode::FORBIDDEN);
        assert!(app.stored(id).await.featured_at.is_none());

        // A moderator's page has the form; it returns to the reaction.
        let moderator = moderator(&app).await;
        let page = moderator.get(&format!("/artikelen/{slug}")).await;
        page.assert_contains(&format!("name=\"item\" value=\"feature:{id}\""))
            .assert_contains(&format!("name=\"terug\" value=\"/artikelen/{slug}?reactie={id}#reactie-{id}\""))
            .assert_contains("Uitlichten<span class=\"visually-hidden\">: reactie van Joke</span>");
        assert_eq!(page.header("cache-control"), "private, no-store");
        moderator.post_form("/beheer/moderatie", &fields).await.assert_redirect(&back);
        assert!(app.stored(id).await.featured_at.is_some());
        let featured = moderator.get(&back).await;
        featured.assert_contains(&format!("value=\"unfeature:{id}\"")).assert_contains("Niet meer uitlichten");
        assert_eq!(badged(&featured), [id]);
        assert!(featured_block(&featured).is_some());
        // Readers see it too, without any form.
        let seen = reader.get(&format!("/artikelen/{slug}")).await;
        assert_eq!(badged(&seen), [id]);
        seen.assert_lacks("feature-form");

        // `terug` leads to an article page only: anything else goes back to the queue.
        let unfeature = format!("unfeature:{id}");
        // The first one unfeatures it; the others find nothing to change.
        for (elsewhere, changed) in [("https://evil.example/artikelen/x", 1), ("//evil.example/artikelen/x", 0), ("/beheer/gebruikers", 0)] {
            moderator
                .post_form("/beheer/moderatie", &[("item", &unfeature), ("terug", elsewhere), ("status", "approved")])
                .await
                .assert_redirect(&format!("/beheer/moderatie?status=approved&bijgewerkt={changed}"));
        }
        assert!(app.stored(id).await.featured_at.is_none());
    }
}

db_test! {
    async fn only_an_approved_reaction_is_featured_by_form_or_api(app) {
        let slug = app.published_article("Alleen goedgekeurd").await;
        let approved = app.approved_comment(&slug, &[("author_name", "Goed")]).await;
        let pending = app.comment(&slug, &[("author_name", "Wacht")]).await;
        let moderator = moderator(&app).await;

        // The page says why, in Dutch; nothing changes, nothing is logged.
        moderator
            .post_form("/beheer/moderatie", &[("item", &format!("feature:{pending}")), ("status", "pending")])
            .await
            .assert_status(StatusCode::CONFLICT)
            .assert_contains("Alleen een goedgekeurde reactie kan worden uitgelicht.");
        // A selection with one that is not approved changes none of them.
        moderator
            .post_form("/beheer/moderatie", &[("ids", &approved.to_string()), ("ids", &pending.to_string()), ("action", "feature"), ("status", "approved")])
            .await
            .assert_status(StatusCode::CONFLICT);
        assert!(app.stored(approved).await.featured_at.is_none());
        assert!(app.stored(pending).await.featured_at.is_none());
        assert_eq!(logged(&app, pending).await, [LogAction::Submit]);
        // The write itself checks too (a reaction rejected since it was read is not featured).
        assert!(!store::comments::set_featured(app.db.write(), pending, Some(chrono::Utc::now())).await.unwrap());
        assert!(app.stored(pending).await.featured_at.is_none());
        assert_eq!(logged(&app, approved).await, [LogAction::Submit, LogAction::Approve]);

        // The API: 409 with a JSON error for the pending one, 200 for the approved one.
        let token = app.api_token(Role::Moderator).await;
        let moderate = |id: i32, action: &'static str| {
            let (app, token) = (&app, &token);
            async move {
                app.api(Method::POST, &format!("/api/v1/comments/{id}/moderation"), Some(json!({ "action": action })), Some(token)).await
            }
        };
        let (resp, body) = moderate(pending, "feature").await;
        resp.assert_status(StatusCode::CONFLICT);
        assert_eq!(body["error"], "not_approved", "{body}");
        assert!(body["message"].as_str().unwrap().contains("approved"), "{body}");
        assert!(app.stored(pending).await.featured_at.is_none());

        let (resp, body) = moderate(approved, "feature").await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(body, json!({ "id": approved, "status": "approved", "featured": true }));
        assert_eq!(api_featured(&app, &slug).await, [(approved.into(), true)]);
        let (resp, body) = moderate(approved, "unfeature").await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(body["featured"], false);
        assert_eq!(api_featured(&app, &slug).await, [(approved.into(), false)]);
        assert_eq!(logged(&app, approved).await, [LogAction::Submit, LogAction::Approve, LogAction::Feature, LogAction::Unfeature]);

        // A reader's token may not; an editor's neither.
        let editor = app.api_token(Role::Editor).await;
        let (resp, _) = app.api(Method::POST, &format!("/api/v1/comments/{approved}/moderation"), Some(json!({ "action": "feature" })), Some(&editor)).await;
        resp.assert_status(StatusCode::FORBIDDEN);
        let (resp, _) = app.api(Method::POST, &format!("/api/v1/comments/{approved}/moderation"), Some(json!({ "action": "feature" })), None).await;
        resp.assert_status(StatusCode::UNAUTHORIZED);
        assert!(app.stored(approved).await.featured_at.is_none());
    }
}

db_test! {
    async fn a_reaction_that_leaves_approved_or_is_erased_is_no_longer_featured(app) {
        // Rejected, deleted, marked spam, sent back to the queue by its author's edit, or
        // erased on request: each loses its featuring.
        let slug = app.published_article("Niet meer uitgelicht").await;
        let rejected = app.approved_comment(&slug, &[("author_name", "Afgewezen"), ("author_email", "a@example.nl")]).await;
        let deleted = app.approved_comment(&slug, &[("author_name", "Verwijderd"), ("author_email", "b@example.nl")]).await;
        let erased = app.approved_comment(&slug, &[("author_name", "Gewist"), ("author_email", "gewist@example.nl")]).await;
        let spam = app.approved_comment(&slug, &[("author_name", "Spammer"), ("author_email", "c@example.nl")]).await;
        let edited = app.approved_comment(&slug, &[("author_name", "Bewerkt"), ("author_email", "d@example.nl")]).await;
        app.moderate(&[rejected, deleted, erased, spam, edited], "feature", "").await;
        let reader = app.other_browser();
        let page = reader.get(&format!("/artikelen/{slug}")).await;
        assert_eq!(badged(&page), [rejected, deleted, erased, spam, edited]);

        app.moderate(&[rejected], "reject", "").await;
        app.moderate(&[deleted], "delete", "").await;
        app.moderate(&[spam], "spam", "").await;
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        admin
            .post_form("/beheer/privacy/wissen", &[("email", "gewist@example.nl"), ("body", "keep")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        // Its author's edit with two links sends it back to the queue.
        app.post_form(&format!("/artikelen/{slug}/reacties/{edited}/bewerken"), &[("body", "Zie https://a.example en https://b.example")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        assert_eq!(app.stored(edited).await.status.as_str(), "pending");
        for id in [rejected, deleted, erased, spam, edited] {
            assert!(app.stored(id).await.featured_at.is_none(), "reaction {id}");
        }
        // Approved again, it is not featured again by itself.
        app.moderate(&[rejected], "approve", "").await;
        assert!(app.stored(rejected).await.featured_at.is_none());
        let page = reader.get(&format!("/artikelen/{slug}")).await;
        assert_eq!(featured_block(&page), None);
        assert!(badged(&page).is_empty());
        assert!(api_featured(&app, &slug).await.iter().all(|(_, featured)| !featured));
    }
}
