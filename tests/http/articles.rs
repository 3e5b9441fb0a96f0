//! Editors create, edit, publish and unpublish articles.

use kantlijn::{domain::validate::Role, entity::articles};
use poem::http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::{db_test, helpers::TestApp};

async fn article(app: &TestApp, slug: &str) -> articles::Model {
    articles::Entity::find()
        .filter(articles::Column::Slug.eq(slug))
        .one(app.db.read())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("article {slug} exists"))
}

fn fields<'a>(
    title: &'a str,
    slug: &'a str,
    body: &'a str,
    status: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("slug", slug),
        ("summary", "Samenvatting"),
        ("body", body),
        ("status", status),
        ("reactions_open", "on"),
    ]
}

db_test! {
    async fn editor_creates_a_draft_then_publishes_it(app) {
        app.login_as(Role::Editor).await;
        let edit = app.create_article("Eerste stuk", "draft").await;
        assert!(edit.starts_with("/beheer/artikelen/") && edit.ends_with("/bewerken"), "{edit}");
        let draft = article(&app, "eerste-stuk").await;
        assert_eq!(draft.status.as_str(), "draft");
        assert_eq!(draft.published_at, None);
        assert!(draft.body_html.contains("<h2>Kop</h2>"), "rendered on write");

        app.get(&format!("{edit}?opgeslagen=1"))
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Opgeslagen.")
            .assert_contains("value=\"Eerste stuk\"");

        app.post_form(&edit, &fields("Eerste stuk", "eerste-stuk", "Nieuwe tekst.", "published"))
            .await
            .assert_redirect(&format!("{edit}?opgeslagen=1"));
        let published = article(&app, "eerste-stuk").await;
        assert_eq!(published.status.as_str(), "published");
        assert!(published.published_at.is_some(), "published_at is set on first publish");
        assert_eq!(published.body_html, "<p>Nieuwe tekst.</p>\n");

        app.clear_cookies();
        app.get("/artikelen/eerste-stuk").await.assert_status(StatusCode::OK).assert_contains("Nieuwe tekst.");
        app.get("/").await.assert_contains("Eerste stuk");
    }
}

db_test! {
    async fn unpublishing_hides_the_article_and_keeps_its_first_date(app) {
        app.login_as(Role::Editor).await;
        let edit = app.create_article("Tijdelijk stuk", "published").await;
        let first = article(&app, "tijdelijk-stuk").await.published_at.unwrap();

        app.post_form(&edit, &fields("Tijdelijk stuk", "tijdelijk-stuk", "Tekst.", "draft"))
            .await
            .assert_status(StatusCode::SEE_OTHER);
        app.clear_cookies();
        app.get("/artikelen/tijdelijk-stuk").await.assert_status(StatusCode::NOT_FOUND);
        app.get("/").await.assert_lacks("Tijdelijk stuk");

        app.login_as(Role::Editor).await;
        app.post_form(&edit, &fields("Tijdelijk stuk", "tijdelijk-stuk", "Tekst.", "published"))
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let again = article(&app, "tijdelijk-stuk").await;
        assert_eq!(again.published_at, Some(first), "republishing keeps the first date");
    }
}

db_test! {
    async fn draft_is_404_to_the_public_and_visible_to_staff(app) {
        app.login_as(Role::Editor).await;
        app.create_article("Geheim concept", "draft").await;
        app.get("/artikelen/geheim-concept")
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("Dit is een concept");
        app.clear_cookies();
        app.get("/artikelen/geheim-concept").await.assert_status(StatusCode::NOT_FOUND);
        app.login_as(Role::Moderator).await;
        app.get("/artikelen/geheim-concept").await.assert_status(StatusCode::OK);
    }
}

db_test! {
    async fn slug_is_folded_from_a_dutch_title(app) {
        app.login_as(Role::Editor).await;
        let cases = [
            ("De Onderwijscoöperatie stopt", "de-onderwijscooperatie-stopt"),
            ("Één register, geïnteresseerde leraren & BSN!", "een-register-geinteresseerde-leraren-bsn"),
            ("Café naïef: ĳs en weder", "cafe-naief-ijs-en-weder"),
        ];
        for (title, slug) in cases {
            app.create_article(title, "published").await;
            assert_eq!(article(&app, slug).await.title, title);
            app.get(&format!("/artikelen/{slug}")).await.assert_status(StatusCode::OK);
        }
    }
}

db_test! {
    async fn slug_clashes_get_a_number(app) {
        app.login_as(Role::Editor).await;
        app.create_article("Het register", "published").await;
        app.create_article("Het register", "published").await;
        app.create_article("Het   Register!", "draft").await;
        article(&app, "het-register").await;
        article(&app, "het-register-2").await;
        article(&app, "het-register-3").await;

        // An explicit slug that is taken gets a number too, and saving an article
        // under its own slug never renames it.
        let edit = app.create_article("Iets anders", "draft").await;
        app.post_form(&edit, &fields("Iets anders", "het-register", "Tekst.", "draft"))
            .await
            .assert_status(StatusCode::SEE_OTHER);
        article(&app, "het-register-4").await;
        app.post_form(&edit, &fields("Iets anders", "het-register-4", "Tekst.", "draft"))
            .await
            .assert_status(StatusCode::SEE_OTHER);
        article(&app, "het-register-4").await;
    }
}

db_test! {
    async fn invalid_form_keeps_every_field_and_shows_dutch_errors(app) {
        app.login_as(Role::Editor).await;
        let long_summary = "s".repeat(501);
        let body = "Mijn *zorgvuldig* geschreven tekst <met> tekens & zo.";
        let resp = app
            .post_form(
                "/beheer/artikelen/nieuw",
                &[
                    ("title", "   "),
                    ("slug", "Ongeldige Slug"),
                    ("summary", &long_summary),
                    ("body", body),
                    ("status", "archief"),
                ],
            )
            .await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Niet opgeslagen")
            .assert_contains("Geef een titel van 1 tot 200 tekens.")
            .assert_contains("Gebruik alleen kleine letters")
            .assert_contains("hoogstens 500 tekens")
            .assert_contains("Kies concept of gepubliceerd.")
            .assert_contains("value=\"Ongeldige Slug\"")
            .assert_contains(&long_summary)
            .assert_contains("Mijn *zorgvuldig* geschreven tekst &#60;met&#62; tekens &#38; zo.");
        assert!(articles::Entity::find().all(app.db.read()).await.unwrap().is_empty());

        let resp = app
            .post_form("/beheer/artikelen/nieuw", &fields("Titel", "", "", "draft"))
            .await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Schrijf eerst de tekst van het artikel.")
            .assert_contains("value=\"Titel\"");
    }
}

db_test! {
    async fn title_without_letters_asks_for_a_slug(app) {
        app.login_as(Role::Editor).await;
        app.post_form("/beheer/artikelen/nieuw", &fields("?!", "", "Tekst", "draft"))
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("vul zelf een slug in");
    }
}

db_test! {
    async fn editing_a_missing_article_is_404(app) {
        app.login_as(Role::Editor).await;
        app.get("/beheer/artikelen/9999/bewerken").await.assert_status(StatusCode::NOT_FOUND);
        app.post_form("/beheer/artikelen/9999/bewerken", &fields("T", "", "B", "draft"))
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn preview_renders_without_saving(app) {
        app.login_as(Role::Editor).await;
        app.post_form("/beheer/voorbeeld", &[("body", "## Kop\n\n<script>x()</script>\n\nMet *nadruk*")])
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("<h2>Kop</h2>")
            .assert_contains("<em>nadruk</em>")
            .assert_lacks("<script");

        let mut form = fields("Voorbeeldstuk", "", "**vet**", "published");
        form.push(("voorbeeld", "1"));
        app.post_form("/beheer/artikelen/nieuw", &form)
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("<strong>vet</strong>")
            .assert_contains("value=\"Voorbeeldstuk\"");
        assert!(articles::Entity::find().all(app.db.read()).await.unwrap().is_empty(), "preview saves nothing");
    }
}

db_test! {
    async fn reactions_can_be_closed_per_article(app) {
        app.login_as(Role::Editor).await;
        let edit = app.create_article("Gesloten stuk", "published").await;
        assert!(article(&app, "gesloten-stuk").await.reactions_open);
        let form: Vec<_> = fields("Gesloten stuk", "gesloten-stuk", "Tekst", "published")
            .into_iter()
            .filter(|(k, _)| *k != "reactions_open")
            .collect();
        app.post_form(&edit, &form).await.assert_status(StatusCode::SEE_OTHER);
        assert!(!article(&app, "gesloten-stuk").await.reactions_open);
        app.get("/artikelen/gesloten-stuk").await.assert_contains("Reageren op dit artikel is gesloten.");
    }
}

db_test! {
    async fn editor_articles_list_shows_drafts_and_published(app) {
        app.login_as(Role::Editor).await;
        app.create_article("Concept A", "draft").await;
        app.create_article("Gepubliceerd B", "published").await;
        app.get("/beheer/artikelen")
            .await
            .assert_contains("Concept A")
            .assert_contains("Gepubliceerd B")
            .assert_contains("concept")
            .assert_contains("gepubliceerd");
    }
}

db_test! {
    async fn a_renamed_article_still_answers_under_its_former_slug(app) {
        app.login_as(Role::Editor).await;
        let edit = app.create_article("Het oude adres", "published").await;
        app.post_form(&edit, &fields("Het oude adres", "het-nieuwe-adres", "Tekst.", "published"))
            .await
            .assert_status(StatusCode::SEE_OTHER);
        article(&app, "het-nieuwe-adres").await;
        app.clear_cookies();

        // Pages: read links are moved for good, with what followed the slug.
        let moved = app.get("/artikelen/het-oude-adres?pagina=1").await;
        moved.assert_status(StatusCode::MOVED_PERMANENTLY);
        assert_eq!(moved.location(), "/artikelen/het-nieuwe-adres?pagina=1");
        app.get("/artikelen/het-oude-adres/feed.xml")
            .await
            .assert_status(StatusCode::OK);
        app.get("/artikelen/nooit-bestaan").await.assert_status(StatusCode::NOT_FOUND);
        // A reaction sent from a page opened before the rename is kept.
        let posted = app.post_comment("het-oude-adres", &[]).await;
        posted.assert_status(StatusCode::SEE_OTHER);
        assert!(posted.location().starts_with("/artikelen/het-nieuwe-adres"), "{}", posted.location());

        // The API answers with the article as it is now.
        let (resp, json) = app.api(Method::GET, "/api/v1/articles/het-oude-adres", None, None).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(json["slug"], "het-nieuwe-adres");
        app.api(Method::GET, "/api/v1/articles/het-oude-adres/comments", None, None)
            .await
            .0
            .assert_status(StatusCode::OK);
        let token = app.api_token(Role::Editor).await;
        let comment = json!({ "author_name": "Redactie", "author_email": "redactie@example.nl", "body": "Via het oude adres." });
        app.api(Method::POST, "/api/v1/articles/het-oude-adres/comments", Some(comment), Some(&token))
            .await
            .0
            .assert_status(StatusCode::CREATED);
        let update = json!({ "title": "Het oude adres", "body": "Bijgewerkt", "status": "published" });
        let (resp, json) = app.api(Method::PUT, "/api/v1/articles/het-oude-adres", Some(update), Some(&token)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(json["slug"], "het-nieuwe-adres", "an update by the former slug keeps the new one");

        // A new article may take the former slug: then it is that article's.
        let draft = json!({ "title": "Ander stuk", "slug": "het-oude-adres", "body": "Nieuw", "status": "published" });
        let (resp, json) = app.api(Method::POST, "/api/v1/articles", Some(draft), Some(&token)).await;
        resp.assert_status(StatusCode::CREATED);
        assert_eq!(json["slug"], "het-oude-adres");
        app.get("/artikelen/het-oude-adres").await.assert_status(StatusCode::OK).assert_contains("Ander stuk");
    }
}

db_test! {
    async fn a_renamed_draft_does_not_tell_readers_its_new_slug(app) {
        app.login_as(Role::Editor).await;
        let edit = app.create_article("Geheim stuk", "draft").await;
        app.post_form(&edit, &fields("Geheim stuk", "ander-geheim", "Tekst.", "draft"))
            .await
            .assert_status(StatusCode::SEE_OTHER);
        app.clear_cookies();
        app.get("/artikelen/geheim-stuk").await.assert_status(StatusCode::NOT_FOUND);
        let (resp, _) = app.api(Method::GET, "/api/v1/articles/geheim-stuk", None, None).await;
        resp.assert_status(StatusCode::NOT_FOUND);
    }
}
