//! Search as readers use it: Dutch words in their other forms, phrases and exclusions,
//! and nothing a reader may not see, before or after it changes; hostile queries answer
//! 200 or 422, never 5xx.

use kantlijn::{
    domain::{privacy::EraseBody, validate::Role},
    privacy::{self, Actor},
};
use poem::http::{Method, StatusCode};
use serde_json::Value;

use crate::{
    db_test,
    helpers::{TestApp, hidden_value},
};

/// An editor (in a browser of its own) writes an article; its id and slug.
async fn article(editor: &TestApp, title: &str, body: &str, status: &str) -> (i32, String) {
    let resp = editor
        .post_form(
            "/beheer/artikelen/nieuw",
            &[
                ("title", title),
                ("slug", ""),
                ("summary", ""),
                ("body", body),
                ("status", status),
                ("reactions_open", "on"),
            ],
        )
        .await;
    resp.assert_status(StatusCode::SEE_OTHER);
    let id: i32 = resp
        .location()
        .trim_start_matches("/beheer/artikelen/")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let slug = kantlijn::store::articles::find_by_id(editor.db.read(), id)
        .await
        .unwrap()
        .unwrap()
        .slug;
    (id, slug)
}

/// Sets an article's status (and keeps the rest) through the editor's form.
async fn set_status(editor: &TestApp, id: i32, title: &str, body: &str, status: &str) {
    editor
        .post_form(
            &format!("/beheer/artikelen/{id}/bewerken"),
            &[
                ("title", title),
                ("slug", ""),
                ("summary", ""),
                ("body", body),
                ("status", status),
                ("reactions_open", "on"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

/// The URLs the API's search finds for `q`.
async fn found(app: &TestApp, q: &str) -> Vec<String> {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    let (resp, body) = app
        .api(
            Method::GET,
            &format!("/api/v1/search?q={q}&limit=50"),
            None,
            None,
        )
        .await;
    resp.assert_status(StatusCode::OK);
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["url"].as_str().unwrap().to_owned())
        .collect()
}

/// The URLs the API's search finds for `q`, page after page.
async fn every_page(app: &TestApp, q: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut cursor = String::new();
    loop {
        let (resp, body) = app
            .api(
                Method::GET,
                &format!("/api/v1/search?q={q}&limit=50{cursor}"),
                None,
                None,
            )
            .await;
        resp.assert_status(StatusCode::OK);
        let items = body["items"].as_array().unwrap();
        urls.extend(items.iter().map(|i| i["url"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return urls,
        }
    }
}

fn reaction_url(slug: &str, id: i32) -> String {
    format!("/artikelen/{slug}?reactie={id}#reactie-{id}")
}

db_test! {
    async fn dutch_words_are_found_in_their_other_forms(app) {
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        let (_, register) = article(
            &editor,
            "Het register verdwijnt",
            "Het lerarenregister wordt een portfolio.",
            "published",
        )
        .await;
        let (_, coop) = article(
            &editor,
            "Samen sterker",
            "Een coöperatie van scholen deelt de kosten.",
            "published",
        )
        .await;
        let article_url = |slug: &str| format!("/artikelen/{slug}");

        assert_eq!(found(&app, "registers").await, [article_url(&register)]);
        assert_eq!(found(&app, "cooperatie").await, [article_url(&coop)]);
        assert_eq!(found(&app, "COÖPERATIE").await, [article_url(&coop)]);
        // A phrase matches only in its order.
        assert_eq!(found(&app, "\"een portfolio\"").await, [article_url(&register)]);
        assert!(found(&app, "\"portfolio een\"").await.is_empty());
        // -word excludes.
        let reaction = app
            .approved_comment(&coop, &[("body", "Ook ons register doet mee aan de coöperatie.")])
            .await;
        let both = found(&app, "register").await;
        assert_eq!(both.len(), 2, "{both:?}");
        assert_eq!(
            found(&app, "register -portfolio").await,
            [reaction_url(&coop, reaction)]
        );
        // The title weighs more than the body: the article titled "register" first.
        assert_eq!(both[0], article_url(&register));

        // The page marks what it found, escaped around it.
        let page = app.get("/zoeken?q=registers").await;
        page.assert_status(StatusCode::OK);
        page.assert_contains("<mark>register</mark>");
        page.assert_contains(&format!("href=\"{}\"", article_url(&register)));
        let (_, body) = app.api(Method::GET, "/api/v1/search?q=cooperatie", None, None).await;
        let snippet = body["items"][0]["snippet_html"].as_str().unwrap();
        assert!(snippet.contains("<mark>coöperatie</mark>"), "{snippet}");
    }
}

db_test! {
    async fn nothing_a_reader_may_not_see_is_ever_found(app) {
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        let body = "Over het inschrijven in het register.";
        let (draft_id, draft) = article(&editor, "Zandkasteel concept", body, "draft").await;
        let (_, slug) = article(&editor, "Openbaar stuk", "Een gewoon verhaal.", "published").await;
        assert!(found(&app, "zandkasteel").await.is_empty(), "a draft is never found");

        // A reaction: pending, approved, rejected, approved, spam, approved, deleted.
        let id = app
            .comment(
                &slug,
                &[
                    ("body", "Mijn vuurtoren staat hier."),
                    ("author_email", "anna.devries@example.nl"),
                    ("author_name", "Anna de Vries"),
                ],
            )
            .await;
        let url = reaction_url(&slug, id);
        assert_eq!(app.stored(id).await.status.as_str(), "pending");
        assert!(found(&app, "vuurtoren").await.is_empty(), "pending");
        for (action, visible) in [
            ("approve", true),
            ("reject", false),
            ("approve", true),
            ("spam", false),
            ("approve", true),
            ("delete", false),
            ("approve", true),
        ] {
            app.moderate(&[id], action, "").await;
            let hits = found(&app, "vuurtoren").await;
            assert_eq!(hits == [url.clone()], visible, "after {action}: {hits:?}");
        }
        // E-mail addresses and their parts are never searchable.
        for q in ["anna.devries@example.nl", "devries", "example"] {
            assert!(found(&app, q).await.is_empty(), "{q}");
        }

        // An unpublished article takes its reactions along; published again, back.
        let (slug_id, _) = (
            kantlijn::store::articles::find_by_slug(app.db.read(), &slug)
                .await
                .unwrap()
                .unwrap()
                .id,
            (),
        );
        set_status(&editor, slug_id, "Openbaar stuk", "Een gewoon verhaal.", "draft").await;
        assert!(found(&app, "vuurtoren").await.is_empty(), "article unpublished");
        assert!(found(&app, "verhaal").await.is_empty(), "article unpublished");
        set_status(&editor, slug_id, "Openbaar stuk", "Een gewoon verhaal.", "published").await;
        assert_eq!(found(&app, "vuurtoren").await, std::slice::from_ref(&url));
        // A draft published is found.
        set_status(&editor, draft_id, "Zandkasteel concept", body, "published").await;
        assert_eq!(found(&app, "zandkasteel").await, [format!("/artikelen/{draft}")]);

        // Erased with its text removed: not found by that text.
        privacy::erase(&app.db, "anna.devries@example.nl", EraseBody::Remove, Actor::Admin(1))
            .await
            .unwrap();
        assert!(found(&app, "vuurtoren").await.is_empty(), "erased");
        assert!(found(&app, "anna").await.is_empty(), "erased name");

        // An edit of a published article: the new text is found, the old one not, and
        // its reactions stay found (only the article's own row is written again).
        let kept = app
            .approved_comment(&slug, &[("body", "Een windmolen erbij."), ("author_email", "kees@example.nl")])
            .await;
        set_status(&editor, slug_id, "Openbaar stuk", "Nu over bijenkorven.", "published").await;
        assert_eq!(found(&app, "bijenkorven").await, [format!("/artikelen/{slug}")]);
        assert!(found(&app, "gewoon").await.is_empty(), "the old text");
        assert_eq!(found(&app, "windmolen").await, [reaction_url(&slug, kept)]);
    }
}

db_test! {
    async fn hostile_queries_answer_200_or_422_never_5xx(app) {
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        article(&editor, "Zoektest", "Woorden om te vinden: register portfolio.", "published").await;
        let long = "register ".repeat(1200);
        let queries = [
            "\"",
            "\"\"",
            "\"register",
            "*",
            "register*",
            "NEAR(register portfolio)",
            "register NEAR portfolio",
            "title:register",
            "body : register",
            "(register",
            "register)",
            "((()))",
            "-",
            "--register",
            "-register",
            "register AND OR NOT",
            "^register",
            "{register}",
            "register\u{0}portfolio",
            "\u{7}\u{1b}[31m",
            "' OR 1=1 --",
            "%",
            long.as_str(),
        ];
        for q in queries {
            let encoded: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
            for path in [
                format!("/zoeken?q={encoded}"),
                format!("/api/v1/search?q={encoded}"),
            ] {
                let resp = app.get(&path).await;
                assert!(
                    resp.status == StatusCode::OK || resp.status == StatusCode::UNPROCESSABLE_ENTITY,
                    "{q:?} at {}: {}",
                    &path[..path.len().min(60)],
                    resp.status
                );
            }
        }
        // 10 KB of the word still finds it (the first terms are read).
        assert_eq!(found(&app, &long).await.len(), 1);
        // An empty query and one of exclusions alone find nothing, politely.
        app.get("/zoeken?q=").await.assert_status(StatusCode::OK);
        app.get("/zoeken?q=-register")
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Geef minstens één woord op");
        // A page past the results is not there; a cursor that is not one is a 400.
        app.get("/zoeken?q=register&pagina=2").await.assert_status(StatusCode::NOT_FOUND);
        app.get("/zoeken?q=register&pagina=x").await.assert_status(StatusCode::NOT_FOUND);
        let (resp, _) = app.api(Method::GET, "/api/v1/search?q=register&cursor=", None, None).await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        let (resp, body) = app.api(Method::GET, "/api/v1/search?q=register&cursor=x", None, None).await;
        resp.assert_status(StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], Value::from("bad_request"));
    }
}

db_test! {
    async fn results_come_in_pages_of_twenty(app) {
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        let (_, slug) = article(&editor, "Veel reacties", "Een stuk.", "published").await;
        let mut ids = Vec::new();
        for n in 0..25 {
            let body = format!("Reactie nummer {n} over de klaslokalen.");
            ids.push(app.comment(&slug, &[("body", body.as_str()), ("author_email", &format!("p{n}@example.nl"))]).await);
        }
        app.moderate(&ids, "approve", "").await;
        let first = app.get("/zoeken?q=klaslokaal").await;
        first.assert_status(StatusCode::OK);
        assert_eq!(first.body.matches("<mark>klaslokalen</mark>").count(), 20);
        assert!(first.body.contains("rel=\"next\" href=\"/zoeken?q=klaslokaal&#38;pagina=2\""), "{}", first.body);
        let second = app.get("/zoeken?q=klaslokaal&pagina=2").await;
        assert_eq!(second.body.matches("<mark>klaslokalen</mark>").count(), 5);
        // Newest first at an equal score.
        let (_, body) = app.api(Method::GET, "/api/v1/search?q=klaslokaal&limit=3", None, None).await;
        let items = body["items"].as_array().unwrap();
        assert_eq!(items[0]["comment_id"], Value::from(ids[24]));
        let cursor = body["next_cursor"].as_str().unwrap().to_owned();
        let (_, next) = app
            .api(Method::GET, &format!("/api/v1/search?q=klaslokaal&limit=3&cursor={cursor}"), None, None)
            .await;
        assert_eq!(next["items"][0]["comment_id"], Value::from(ids[21]));
    }
}

db_test! {
    async fn pages_go_on_past_the_ranked_matches_and_hold_each_once(app) {
        // More matches than are ranked by relevance (the newest 100): the older follow,
        // newest first; an article whose title says it comes first and only once.
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        let (_, slug) = article(&editor, "Het rooster", "Een stuk.", "published").await;
        let mut ids = Vec::new();
        for n in 0..130 {
            let body = format!("Reactie {n} over het rooster.");
            ids.push(app.comment(&slug, &[("body", body.as_str()), ("author_email", &format!("p{n}@example.nl"))]).await);
        }
        app.moderate(&ids, "approve", "").await;
        let mut expected = vec![format!("/artikelen/{slug}")];
        expected.extend(ids.iter().rev().map(|&id| reaction_url(&slug, id)));
        assert_eq!(every_page(&app, "roosters").await, expected);
        // An index built again (at start-up, by another version) is in the same order.
        kantlijn::store::search::rebuild(&app.db).await.unwrap();
        assert_eq!(every_page(&app, "roosters").await, expected);
        // The site's pages go on there too.
        let page = app.get("/zoeken?q=roosters&pagina=7").await;
        page.assert_status(StatusCode::OK);
        assert_eq!(page.body.matches("<mark>rooster</mark>").count(), 11, "{}", page.body);
    }
}

db_test! {
    async fn search_has_its_own_rate_limit(app) {
        let app = app
            .with_rate_limits(kantlijn::config::RateLimitMode::On)
            .await;
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(app.get("/zoeken?q=register").await.status);
        }
        assert_eq!(statuses[0], StatusCode::OK);
        assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        // Other pages are not held to it.
        app.get("/").await.assert_status(StatusCode::OK);
        let _ = hidden_value;
    }
}
