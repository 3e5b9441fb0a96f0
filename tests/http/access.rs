//! Shutting a compromised staff account out: a password reset and "disable" end its
//! sessions and API tokens, and a staff member can log out everywhere. Shutting a
//! poster out: a ban on an address covers the IPv6 /64 it is in.

use kantlijn::{
    domain::validate::{Role, TokenLabel},
    security, store,
};
use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::{
    db_test,
    helpers::{PASSWORD, TEST_PEER, TestApp, kantlijn},
};

/// An API token of user `id`, and a request that answers 401 without a valid one (and
/// 404 with one: the article does not exist).
async fn token_of(app: &TestApp, id: i32) -> String {
    let token = security::new_api_token();
    let label = TokenLabel::parse("gestolen laptop").unwrap();
    store::tokens::create(app.db.write(), security::token_hash(&token), id, &label)
        .await
        .unwrap();
    token
}

async fn token_status(app: &TestApp, token: &str) -> StatusCode {
    let body = json!({ "title": "T", "body": "B", "status": "draft" });
    let (resp, _) = app
        .api(
            Method::PUT,
            "/api/v1/articles/bestaat-niet",
            Some(body),
            Some(token),
        )
        .await;
    resp.status
}

/// How many sessions and API tokens user `id` has.
async fn rows_of(app: &TestApp, id: i32) -> (u64, u64) {
    use kantlijn::entity::{api_tokens, sessions};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let sessions = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(id))
        .count(app.db.read())
        .await
        .unwrap();
    let tokens = api_tokens::Entity::find()
        .filter(api_tokens::Column::UserId.eq(id))
        .count(app.db.read())
        .await
        .unwrap();
    (sessions, tokens)
}

/// Whether this browser's session still opens the staff pages.
async fn logged_in(browser: &TestApp) -> bool {
    let resp = browser.get("/beheer").await;
    match resp.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => false,
        other => panic!("unexpected {other}: {}", resp.body),
    }
}

db_test! {
    async fn a_password_reset_by_the_cli_ends_sessions_and_tokens(app) {
        let editor = app.other_browser();
        let id = editor.login_as(Role::Editor).await;
        let token = token_of(&app, id).await;
        assert!(logged_in(&editor).await);
        assert_eq!(token_status(&app, &token).await, StatusCode::NOT_FOUND, "the token works");

        let dir = tempfile::tempdir().unwrap();
        let args = ["user", "add", "editor-test", "--role", "editor", "--password-stdin", "--database-url", &app.url];
        let out = kantlijn(dir.path(), &args, &[], "een nieuw lang wachtwoord\n").ok().to_owned();
        assert!(out.contains("Password reset for existing user editor-test (editor); its sessions and API tokens are ended."), "{out}");

        assert!(!logged_in(&editor).await, "the old session is over");
        assert_eq!(token_status(&app, &token).await, StatusCode::UNAUTHORIZED, "the old token is over");
        let fresh = app.other_browser();
        fresh
            .post_form("/beheer/inloggen", &[("username", "editor-test"), ("password", "een nieuw lang wachtwoord")])
            .await
            .assert_redirect("/beheer");
    }
}

db_test! {
    async fn a_disabled_user_is_shut_out_until_the_cli_enables_it(app) {
        let admin = app.other_browser();
        let admin_id = admin.login_as(Role::Admin).await;
        let editor = app.other_browser();
        let id = editor.login_as(Role::Editor).await;
        let token = token_of(&app, id).await;

        admin
            .get("/beheer/gebruikers")
            .await
            .assert_contains(&format!("action=\"/beheer/gebruikers/{id}/uitschakelen\""))
            .assert_lacks(&format!("action=\"/beheer/gebruikers/{admin_id}/uitschakelen\""));
        admin
            .post_form(&format!("/beheer/gebruikers/{admin_id}/uitschakelen"), &[])
            .await
            .assert_status(StatusCode::FORBIDDEN)
            .assert_contains("Je kunt je eigen account niet uitschakelen");
        admin
            .post_form(&format!("/beheer/gebruikers/{id}/uitschakelen"), &[])
            .await
            .assert_redirect("/beheer/gebruikers");

        assert!(!logged_in(&editor).await, "the session is over");
        assert_eq!(token_status(&app, &token).await, StatusCode::UNAUTHORIZED, "the token is over");
        // Gone, not only refused while disabled: enabling the account again brings none back.
        assert_eq!(rows_of(&app, id).await, (0, 0), "sessions and tokens are deleted");
        editor
            .post_form("/beheer/inloggen", &[("username", "editor-test"), ("password", PASSWORD)])
            .await
            .assert_status(StatusCode::UNAUTHORIZED);
        admin.get("/beheer/gebruikers").await.assert_contains("uitgeschakeld");

        let dir = tempfile::tempdir().unwrap();
        let args = ["user", "add", "editor-test", "--role", "editor", "--password-stdin", "--database-url", &app.url];
        kantlijn(dir.path(), &args, &[], "weer een lang wachtwoord\n").ok();
        editor
            .post_form("/beheer/inloggen", &[("username", "editor-test"), ("password", "weer een lang wachtwoord")])
            .await
            .assert_redirect("/beheer");

        // The CLI shuts an account out the same way.
        let args = ["user", "disable", "editor-test", "--database-url", &app.url];
        let out = kantlijn(dir.path(), &args, &[], "").ok().to_owned();
        assert!(out.contains("Disabled user editor-test: no more logins"), "{out}");
        assert!(!logged_in(&editor).await);
        kantlijn(dir.path(), &["user", "disable", "niemand", "--database-url", &app.url], &[], "")
            .refused(1, &["there is no user niemand in this database"]);
    }
}

db_test! {
    async fn logging_out_everywhere_ends_every_session(app) {
        let laptop = app.other_browser();
        laptop.login_as(Role::Moderator).await;
        let phone = app.other_browser();
        phone
            .post_form("/beheer/inloggen", &[("username", "moderator-test"), ("password", PASSWORD)])
            .await
            .assert_redirect("/beheer");
        let other = app.other_browser();
        other.login_as(Role::Editor).await;

        phone.get("/beheer").await.assert_contains("Overal uitloggen");
        let resp = phone.post_form("/beheer/overal-uitloggen", &[]).await;
        resp.assert_redirect("/beheer/inloggen?overal=1");
        phone.get(resp.location()).await.assert_contains("Je bent overal uitgelogd");
        assert!(!logged_in(&phone).await);
        assert!(!logged_in(&laptop).await, "the other device is logged out too");
        assert!(logged_in(&other).await, "another user's session stays");
    }
}

db_test! {
    /// Staff pages (a new API token is shown once on one of them) and the staff API stay
    /// out of every cache; public pages keep their own caching.
    async fn staff_answers_are_never_stored(app) {
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        for path in ["/beheer", "/beheer/gebruikers", "/beheer/tokens", "/beheer/moderatie", "/beheer/inloggen"] {
            let resp = admin.get(path).await;
            assert_eq!(resp.header("cache-control"), "no-store", "{path}");
        }
        let created = admin.post_form("/beheer/tokens", &[("username", "admin-test"), ("label", "CI")]).await;
        created.assert_status(StatusCode::CREATED).assert_contains("klt_");
        assert_eq!(created.header("cache-control"), "no-store", "the page that shows a new token");
        let token = app.api_token(Role::Moderator).await;
        let (resp, _) = app.api(Method::GET, "/api/v1/moderation/queue", None, Some(&token)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(resp.header("cache-control"), "no-store", "the queue holds e-mail addresses");
        let slug = app.published_article("Openbaar").await;
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        assert_ne!(page.header("cache-control"), "no-store", "public pages are not affected");
    }
}

db_test! {
    /// Logging in gives the browser a new CSRF cookie: a token taken (or planted) before
    /// the login no longer posts, a form opened after it does.
    async fn login_rotates_the_csrf_cookie(app) {
        let browser = app.other_browser();
        app.create_user("rotatie", Role::Editor).await;
        let before_token = browser.csrf_token().await;
        let before_cookie = browser.cookie("kantlijn_csrf").expect("a CSRF cookie");
        browser
            .post_raw("/beheer/inloggen", &[("username", "rotatie"), ("password", PASSWORD), ("csrf_token", &before_token)])
            .await
            .assert_redirect("/beheer");
        let after_cookie = browser.cookie("kantlijn_csrf").expect("a CSRF cookie");
        assert_ne!(before_cookie, after_cookie, "a new cookie at login");
        browser
            .post_raw("/beheer/overal-uitloggen", &[("csrf_token", &before_token)])
            .await
            .assert_status(StatusCode::FORBIDDEN);
        assert!(logged_in(&browser).await, "the stale token changed nothing");
        browser.post_form("/beheer/overal-uitloggen", &[]).await.assert_redirect("/beheer/inloggen?overal=1");
    }
}

/// Posts a reaction through the API as if from `peer`; the status and the answer.
async fn post_as(app: &TestApp, slug: &str, peer: &str) -> (StatusCode, serde_json::Value) {
    let body = json!({
        "author_name": "Wisselend Adres",
        "author_email": format!("{}@example.nl", peer.replace([':', '.'], "-")),
        "body": "Weer een reactie.",
    });
    let resp = app
        .send_with(
            Method::POST,
            &format!("/api/v1/articles/{slug}/comments"),
            Some(body.to_string()),
            &[(TEST_PEER, peer), ("content-type", "application/json")],
        )
        .await;
    let status = resp.status;
    (status, serde_json::from_str(&resp.body).unwrap_or_default())
}

db_test! {
    /// A ban on an address hash covers the IPv6 /64 the address is in: one subscriber's
    /// many addresses. Bans made before (of a whole IPv6 address) still hold.
    async fn an_address_ban_covers_the_ipv6_64(app) {
        let slug = app.published_article("Wisselende adressen").await;
        let (status, answer) = post_as(&app, &slug, "2001:db8:1:2::10").await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let id = i32::try_from(answer["id"].as_i64().unwrap()).unwrap();
        assert_eq!(app.stored(id).await.ip_hash, app.state.keys.ip_hash("2001:db8:1:2::/64"));

        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        moderator
            .post_form("/beheer/moderatie/blokkeren", &[("comment_id", &id.to_string()), ("kind", "ip_hash"), ("days", ""), ("reason", "")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        for peer in ["2001:db8:1:2::10", "2001:db8:1:2:ffff:eeee:dddd:1"] {
            let (status, answer) = post_as(&app, &slug, peer).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{peer}: {answer}");
            assert_eq!(answer["error"], "banned");
        }
        assert_eq!(post_as(&app, &slug, "2001:db8:1:3::10").await.0, StatusCode::CREATED, "the next /64 is someone else");
        assert_eq!(post_as(&app, &slug, "192.0.2.77").await.0, StatusCode::CREATED);

        // A ban of a whole address, as made from a reaction stored before.
        let earlier = app.state.keys.ip_hash("2001:db8:9:9::5");
        let moderator_id = app.create_user("oudere", Role::Moderator).await;
        store::bans::insert(app.db.write(), store::bans::Kind::IpHash, &earlier, None, None, moderator_id)
            .await
            .unwrap();
        assert_eq!(post_as(&app, &slug, "2001:db8:9:9::5").await.0, StatusCode::FORBIDDEN);
        assert_eq!(post_as(&app, &slug, "2001:db8:9:9::6").await.0, StatusCode::CREATED);
    }
}

db_test! {
    /// A form token is good for a day: one fetched once does not serve a bot for ever,
    /// and a person who left the page open gets their text back in a fresh form.
    async fn a_reaction_form_older_than_a_day_comes_back_with_the_text(app) {
        let slug = app.published_article("Lang open").await;
        let day = 24 * 60 * 60;
        let old = app.form_token(day + 60);
        let resp = app.post_comment(&slug, &[("form_token", &old), ("body", "Na een nacht slapen toch maar gereageerd.")]).await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("langer dan een dag open")
            .assert_contains("Na een nacht slapen toch maar gereageerd.");
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 0, "nothing stored");
        let fresh = crate::helpers::hidden_value(&resp.body, "form_token").unwrap();
        assert_ne!(fresh, old, "a new form token");

        let almost = app.form_token(day - 60);
        app.post_comment(&slug, &[("form_token", &almost)]).await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(store::comments::count(app.db.read()).await.unwrap(), 1);
    }
}
