//! Readers preview their reaction before posting: without script through the form's
//! "Voorbeeld bekijken" button, with script through `POST /artikelen/{slug}/voorbeeld`.

use std::time::Instant;

use kantlijn::{config::RateLimitMode, domain::validate::Role, store};
use poem::http::{Method, StatusCode};
use scraper::{Html, Selector};
use serde_json::json;

use crate::{
    db_test,
    helpers::{DEFAULT_COMMENT, Resp, TestApp, attr_of, comment_id, hidden_value},
};

const HEADING: &str = "Voorbeeld van je reactie";
const TYPED: &str = "Dit is **vet** en <script>alert(1)</script> blijft tekst.";

/// The reaction form as a reader filled it in, with a form token 10 seconds old and the
/// "Voorbeeld bekijken" button pressed.
fn preview_fields<'a>(
    form_token: &'a str,
    overrides: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> = DEFAULT_COMMENT
        .iter()
        .copied()
        .chain([("form_token", form_token), ("voorbeeld", "1")])
        .filter(|(key, _)| !overrides.iter().any(|(k, _)| k == key))
        .collect();
    fields.extend_from_slice(overrides);
    fields
}

/// Presses "Voorbeeld bekijken" in the reaction form (no script).
async fn form_preview(app: &TestApp, slug: &str, overrides: &[(&str, &str)]) -> Resp {
    let token = app.form_token(10);
    let fields = preview_fields(&token, overrides);
    app.post_form(&format!("/artikelen/{slug}/reacties"), &fields)
        .await
}

/// What the script asks: the body and this browser's CSRF token.
async fn script_preview(app: &TestApp, slug: &str, body: &str) -> Resp {
    app.post_form(&format!("/artikelen/{slug}/voorbeeld"), &[("body", body)])
        .await
}

/// The inner HTML of the first element matching `css`, and whether it is hidden.
fn element(html: &str, css: &str) -> (String, bool) {
    let document = Html::parse_document(html);
    let found = document
        .select(&Selector::parse(css).unwrap())
        .next()
        .unwrap_or_else(|| panic!("no {css} in:\n{html}"));
    (found.inner_html(), found.value().attr("hidden").is_some())
}

/// The preview region's content on a page, asserting that it is shown.
fn shown_preview(resp: &Resp) -> String {
    let (region, hidden) = element(&resp.body, "#reactie-voorbeeld");
    assert!(!hidden, "the preview region is shown");
    assert!(region.contains(HEADING), "{region}");
    element(&resp.body, "#reactie-voorbeeld [data-preview-body]").0
}

async fn reaction_count(app: &TestApp) -> u64 {
    store::comments::count(app.db.read()).await.unwrap()
}

/// An editor closes reactions on the article.
async fn close_reactions(app: &TestApp, slug: &str) {
    let article = store::articles::find_by_slug(app.db.read(), slug)
        .await
        .unwrap()
        .unwrap();
    let token = app.api_token(Role::Editor).await;
    let closed = json!({ "title": article.title, "body": "Tekst", "status": "published", "reactions_open": false });
    app.api(
        Method::PUT,
        &format!("/api/v1/articles/{slug}"),
        Some(closed),
        Some(&token),
    )
    .await
    .0
    .assert_status(StatusCode::OK);
}

#[track_caller]
fn assert_not_stored_by_browsers(resp: &Resp) {
    assert!(
        resp.header("cache-control").contains("no-store"),
        "Cache-Control: {}",
        resp.header("cache-control")
    );
    assert!(
        resp.header("content-security-policy")
            .contains("script-src 'self'")
    );
    assert_eq!(resp.header("x-content-type-options"), "nosniff");
}

db_test! {
    async fn a_preview_without_script_keeps_every_field_and_stores_nothing(app) {
        let slug = app.published_article("Voorbeeld zonder script").await;
        let parent = app.approved_comment(&slug, &[("author_name", "Joost de Vries")]).await;
        let parent_id = parent.to_string();
        let before = reaction_count(&app).await;
        let token = app.form_token(10);
        let fields = preview_fields(&token, &[
            ("author_name", "Anna Bakker"),
            // Not a valid address: a preview is not a submission, so no field errors.
            ("author_email", "anna-at-example"),
            ("author_url", "https://anna.example.nl/"),
            ("body", TYPED),
            ("parent_id", &parent_id),
        ]);
        let resp = app.post_form(&format!("/artikelen/{slug}/reacties"), &fields).await;
        resp.assert_status(StatusCode::OK)
            .assert_contains(HEADING)
            .assert_contains("Je reageert op Joost de Vries.")
            .assert_lacks("Je reactie is nog niet geplaatst")
            .assert_lacks("aria-invalid");
        assert_not_stored_by_browsers(&resp);
        let value = |name: &str| attr_of(&resp.body, &format!("#reageren [name=\"{name}\"]"), "value");
        assert_eq!(value("author_name").as_deref(), Some("Anna Bakker"));
        assert_eq!(value("author_email").as_deref(), Some("anna-at-example"));
        assert_eq!(value("author_url").as_deref(), Some("https://anna.example.nl/"));
        assert_eq!(value("parent_id"), Some(parent_id.clone()));
        assert_eq!(hidden_value(&resp.body, "form_token"), Some(token.clone()), "the form keeps the time it was served");
        let (textarea, _) = element(&resp.body, "#reageren textarea[name=body]");
        assert_eq!(textarea, "Dit is **vet** en &lt;script&gt;alert(1)&lt;/script&gt; blijft tekst.");

        let preview = shown_preview(&resp);
        assert!(preview.contains("<strong>vet</strong>"), "{preview}");
        assert!(preview.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "raw HTML is shown as text: {preview}");
        assert!(!resp.body.contains("<script>alert"), "no script ever reaches the page");
        assert_eq!(reaction_count(&app).await, before, "a preview stores nothing");

        // Whatever the button's value, pressing it never posts.
        let mut bare = fields.clone();
        bare.retain(|(k, _)| *k != "voorbeeld");
        bare.push(("voorbeeld", ""));
        app.post_form(&format!("/artikelen/{slug}/reacties"), &bare).await.assert_status(StatusCode::OK);
        assert_eq!(reaction_count(&app).await, before, "an empty button value stores nothing either");

        // Nobody else sees what was previewed: the shared page was not replaced.
        app.other_browser().get(&format!("/artikelen/{slug}")).await
            .assert_status(StatusCode::OK)
            .assert_lacks("blijft tekst")
            .assert_lacks("Anna Bakker");
    }
}

db_test! {
    async fn posting_right_after_a_preview_is_accepted_like_any_reaction(app) {
        let slug = app.published_article("Eerst kijken").await;
        let page = form_preview(&app, &slug, &[("body", "Eerst **kijken**, dan plaatsen.")]).await;
        page.assert_status(StatusCode::OK);
        let token = hidden_value(&page.body, "form_token").expect("the form comes back with its token");
        // The reader is happy with what they see and posts at once.
        let resp = app.post_comment(&slug, &[("body", "Eerst **kijken**, dan plaatsen."), ("form_token", &token)]).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        let stored = app.stored(comment_id(resp.location())).await;
        assert_eq!(stored.status.as_str(), "pending", "not taken for a bot's speed");
        assert!(stored.body_html.contains("<strong>kijken</strong>"), "{}", stored.body_html);
        assert!(shown_preview(&page).contains(stored.body_html.trim()), "the preview showed what was stored");
    }
}

db_test! {
    async fn an_empty_body_has_nothing_to_show_in_either_preview(app) {
        let slug = app.published_article("Nog leeg").await;
        let resp = form_preview(&app, &slug, &[("body", "  \r\n ")]).await;
        resp.assert_status(StatusCode::OK);
        assert!(shown_preview(&resp).contains("Er is nog niets om te tonen."));
        script_preview(&app, &slug, "").await
            .assert_status(StatusCode::OK)
            .assert_contains("Er is nog niets om te tonen.");
    }
}

db_test! {
    async fn the_script_preview_answers_the_rendered_fragment(app) {
        let slug = app.published_article("Met script").await;
        let resp = script_preview(&app, &slug, TYPED).await;
        resp.assert_status(StatusCode::OK)
            .assert_contains("<strong>vet</strong>")
            .assert_contains("&lt;script&gt;alert(1)&lt;/script&gt;")
            .assert_lacks("<script>")
            .assert_lacks("<html")
            .assert_lacks("<form");
        assert!(resp.header("content-type").starts_with("text/html"));
        assert_not_stored_by_browsers(&resp);
        // Links get the reaction's rel, as when stored.
        script_preview(&app, &slug, "[bron](https://example.nl)").await
            .assert_contains("rel=\"nofollow ugc noopener noreferrer\"");
    }
}

db_test! {
    async fn the_script_preview_needs_a_csrf_token(app) {
        let slug = app.published_article("Zonder token").await;
        app.post_raw(&format!("/artikelen/{slug}/voorbeeld"), &[("body", "hoi")]).await
            .assert_status(StatusCode::FORBIDDEN);
        app.post_raw(&format!("/artikelen/{slug}/voorbeeld"), &[("body", "hoi"), ("csrf_token", "vervalst")]).await
            .assert_status(StatusCode::FORBIDDEN);
    }
}

db_test! {
    async fn the_script_preview_of_a_draft_or_unknown_article_is_404_for_readers(app) {
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.create_article("Nog geheim", "draft").await;
        script_preview(&app, "nog-geheim", "hoi").await.assert_status(StatusCode::NOT_FOUND);
        script_preview(&app, "bestaat-niet", "hoi").await.assert_status(StatusCode::NOT_FOUND);
        form_preview(&app, "nog-geheim", &[]).await.assert_status(StatusCode::NOT_FOUND);
        script_preview(&editor, "nog-geheim", "**hoi**").await
            .assert_status(StatusCode::OK)
            .assert_contains("<strong>hoi</strong>");
    }
}

db_test! {
    async fn no_preview_on_an_article_whose_reactions_are_closed(app) {
        let slug = app.published_article("Gesloten voor reacties").await;
        close_reactions(&app, &slug).await;
        script_preview(&app, &slug, "hoi").await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Reageren op dit artikel is gesloten");
        let resp = form_preview(&app, &slug, &[("body", "Mijn bewaarde tekst")]).await;
        resp.assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Reageren op dit artikel is gesloten.")
            .assert_contains("Mijn bewaarde tekst");
        assert!(element(&resp.body, "#reactie-voorbeeld").1, "no preview is shown");
        // The same answer as posting there.
        app.post_comment(&slug, &[("body", "Mijn bewaarde tekst")]).await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Reageren op dit artikel is gesloten.");
        assert_eq!(reaction_count(&app).await, 0);
    }
}

db_test! {
    async fn a_body_over_5000_characters_is_refused_with_a_dutch_message(app) {
        let slug = app.published_article("Te lang").await;
        let long = "a".repeat(5001);
        let message = "Je reactie mag hoogstens 5000 tekens lang zijn.";
        script_preview(&app, &slug, &long).await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains(message)
            .assert_lacks("<html");
        let resp = form_preview(&app, &slug, &[("body", &long)]).await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(shown_preview(&resp).contains(message));
        assert_eq!(element(&resp.body, "#reageren textarea[name=body]").0, long, "the text is kept");
        script_preview(&app, &slug, &"é".repeat(5000)).await.assert_status(StatusCode::OK);
    }
}

db_test! {
    async fn the_21st_quick_script_preview_is_429_with_retry_after(app) {
        let slug = app.published_article("Snel na elkaar").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        let csrf = limited.csrf_token().await;
        let path = format!("/artikelen/{slug}/voorbeeld");
        let started = Instant::now();
        let mut calls = 0;
        let limited_resp = loop {
            calls += 1;
            let resp = limited.post_raw(&path, &[("body", "*snel*"), ("csrf_token", &csrf)]).await;
            if resp.status == StatusCode::TOO_MANY_REQUESTS {
                break resp;
            }
            resp.assert_status(StatusCode::OK);
            assert!(calls <= 60, "never limited");
        };
        // Burst 20, then one a second: a slow machine earns one more per second it took.
        let allowance = 21 + started.elapsed().as_secs();
        assert!((21..=allowance).contains(&calls), "limited at call {calls}");
        let retry: u64 = limited_resp.header("retry-after").parse().expect("a numeric Retry-After");
        assert!((1..=2).contains(&retry), "Retry-After {retry}");
    }
}

db_test! {
    async fn previews_through_the_form_count_as_previews_not_as_reactions(app) {
        let slug = app.published_article("Kijken en plaatsen").await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for _ in 0..5 {
            form_preview(&limited, &slug, &[("body", "nog even kijken")]).await.assert_status(StatusCode::OK);
        }
        // Five previews later the reader still has their three posts.
        for n in 1..=3 {
            limited.post_comment(&slug, &[("body", &format!("Reactie {n}"))]).await.assert_status(StatusCode::SEE_OTHER);
        }
        limited.post_comment(&slug, &[("body", "Een vierde")]).await.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(reaction_count(&app).await, 3);
        // Out of posts, still free to look.
        form_preview(&limited, &slug, &[("body", "alleen kijken")]).await.assert_status(StatusCode::OK);

        // The preview quota is one, whichever way the reader asks.
        let csrf = limited.csrf_token().await;
        let path = format!("/artikelen/{slug}/voorbeeld");
        for _ in 0..40 {
            let resp = limited.post_raw(&path, &[("body", "x"), ("csrf_token", &csrf)]).await;
            if resp.status == StatusCode::TOO_MANY_REQUESTS {
                break;
            }
        }
        let resp = form_preview(&limited, &slug, &[("body", "Mijn tekst om te bekijken")]).await;
        resp.assert_status(StatusCode::TOO_MANY_REQUESTS)
            .assert_contains("Je vraagt te snel voorbeelden op.")
            .assert_contains("Mijn tekst om te bekijken");
        assert!(!resp.header("retry-after").is_empty());
        assert_eq!(reaction_count(&app).await, 3, "a limited preview stores nothing either");
    }
}
