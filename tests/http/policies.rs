//! Each policy is decided in one place, so the site's pages and the API (or the CLI)
//! give the same answer: one test per policy drives every path to it.

use kantlijn::{
    domain::validate::Role,
    store::{self, audit},
};
use poem::http::{Method, StatusCode};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::{
    db_test,
    helpers::{Resp, kantlijn},
};

fn json_of(resp: &Resp) -> Value {
    assert!(
        resp.header("content-type").starts_with("application/json"),
        "JSON: {}",
        resp.body
    );
    serde_json::from_str(&resp.body).unwrap()
}

db_test! {
    /// `discussion::submit` answers `Closed`: the form gets 403 with the text kept, the
    /// API 403 `reactions_closed`, and nothing is stored either way.
    async fn a_closed_article_refuses_the_form_and_the_api_alike(app) {
        let slug = app.published_article("Gesloten discussie").await;
        let editor = app.api_token(Role::Editor).await;
        let close = json!({ "title": "Gesloten discussie", "body": "Tekst.", "status": "published", "reactions_open": false });
        let (resp, _) = app.api(Method::PUT, &format!("/api/v1/articles/{slug}"), Some(close), Some(&editor)).await;
        resp.assert_status(StatusCode::OK);

        app.post_comment(&slug, &[("body", "Mijn tekst blijft staan.")])
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Reageren op dit artikel is gesloten")
            .assert_contains("Mijn tekst blijft staan.");
        let body = json!({ "author_name": "Api", "author_email": "api@example.nl", "body": "Via de API" });
        let (resp, json) = app.api(Method::POST, &format!("/api/v1/articles/{slug}/comments"), Some(body), None).await;
        resp.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(json["error"], "reactions_closed", "{json}");
        // Closed is said first: nobody fixes a text only to be refused.
        app.post_comment(&slug, &[("body", ""), ("author_email", "geen-adres")])
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Reageren op dit artikel is gesloten");
        let invalid = json!({ "author_name": "", "author_email": "geen-adres", "body": "" });
        let (resp, json) = app.api(Method::POST, &format!("/api/v1/articles/{slug}/comments"), Some(invalid), None).await;
        resp.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(json["error"], "reactions_closed", "{json}");
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 0, "nothing stored");
    }
}

db_test! {
    /// `ModerationReason`: a NUL or more than 500 characters is refused by the queue's
    /// form, the ban form and the API alike (422, the same code), and nothing changes.
    async fn a_moderation_reason_is_checked_on_every_path(app) {
        let slug = app.published_article("Redenen").await;
        let id = app.comment(&slug, &[]).await;
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        let token = app.api_token(Role::Moderator).await;
        let too_long = "x".repeat(501);
        for (reason, code, dutch) in [
            ("met een \0 erin", "control_character", "onzichtbaar stuurteken"),
            (too_long.as_str(), "too_long", "Een reden heeft hoogstens 500 tekens."),
        ] {
            let ids = id.to_string();
            moderator
                .post_form("/beheer/moderatie", &[("ids", &ids), ("action", "approve"), ("reason", reason)])
                .await
                .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
                .assert_contains(dutch);
            moderator
                .post_form("/beheer/moderatie/blokkeren", &[("comment_id", &ids), ("kind", "email"), ("reason", reason)])
                .await
                .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
                .assert_contains(dutch);
            let path = format!("/api/v1/comments/{id}/moderation");
            let (resp, json) = app.api(Method::POST, &path, Some(json!({ "action": "approve", "reason": reason })), Some(&token)).await;
            resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(json["error"], "validation_failed", "{json}");
            assert_eq!(json["details"][0]["field"], "reason", "{json}");
            assert_eq!(json["details"][0]["code"], code, "{json}");
        }
        assert_eq!(app.stored(id).await.status.as_str(), "pending", "nothing was approved");
        assert_eq!(audit::for_comment(app.db.read(), id).await.unwrap().len(), 1, "only the submit is logged");
        let bans = kantlijn::entity::bans::Entity::find().count(app.db.read()).await.unwrap();
        assert_eq!(bans, 0, "nobody was banned");
    }
}

db_test! {
    /// `TokenLabel`: the tokens page and `kantlijn token create` refuse the same label.
    async fn a_token_label_is_checked_by_the_page_and_the_cli_alike(app) {
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        let too_long = "x".repeat(101);
        for label in [too_long.as_str(), "twee\nregels", " "] {
            admin
                .post_form("/beheer/tokens", &[("username", "admin-test"), ("label", label)])
                .await
                .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
                .assert_contains("Geef het token een omschrijving van 1 tot 100 tekens");
            let dir = tempfile::tempdir().unwrap();
            let args = ["token", "create", "admin-test", "--label", label, "--database-url", &app.url];
            kantlijn(dir.path(), &args, &[], "").refused(2, &["--label: Give the token a description of 1 to 100 characters"]);
        }
        assert!(store::tokens::list(app.db.read()).await.unwrap().is_empty(), "no token was made");
        // Both find the user by the checked, lowercased name.
        admin
            .post_form("/beheer/tokens", &[("username", " Admin-Test "), ("label", "CI")])
            .await
            .assert_status(StatusCode::CREATED)
            .assert_contains("klt_");
    }
}

db_test! {
    /// One answer table: a body over 64 KiB is 413 `payload_too_large` for the API and
    /// 413 with the Dutch sentence for a page, whichever route it is sent to.
    async fn an_oversized_body_gets_413_on_pages_and_api_alike(app) {
        let slug = app.published_article("Te groot").await;
        let big = "x".repeat(70 * 1024);
        app.post_comment(&slug, &[("body", &big)])
            .await
            .assert_status(StatusCode::PAYLOAD_TOO_LARGE)
            .assert_contains("de grens ligt bij 64 KB");
        let body = json!({ "author_name": "Api", "author_email": "api@example.nl", "body": big });
        let (resp, json) = app.api(Method::POST, &format!("/api/v1/articles/{slug}/comments"), Some(body), None).await;
        resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(json["error"], "payload_too_large", "{json}");
        let resp = app
            .send_with(Method::POST, "/api/v1/articles", Some(big.clone()), &[("content-type", "application/json")])
            .await;
        resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(json_of(&resp)["error"], "payload_too_large");
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 0);
    }
}
