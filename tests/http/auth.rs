//! Login, logout, sessions, CSRF and who may open which staff page.

use chrono::{Duration, Utc};
use kantlijn::{domain::validate::Role, entity::sessions, security, store};
use poem::http::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};

use crate::{
    db_test,
    helpers::{PASSWORD, TestApp},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// The page answers (200, a form redirect or a form error).
    Allowed,
    /// 303 to the login page.
    Login,
    /// 403 page.
    Forbidden,
}

async fn access(app: &TestApp, method: &str, path: &str) -> Access {
    let resp = match method {
        "GET" => app.get(path).await,
        _ => app.post_form(path, &[("body", "*voorbeeld*")]).await,
    };
    match resp.status {
        StatusCode::FORBIDDEN => {
            resp.assert_contains("Geen toegang");
            Access::Forbidden
        }
        StatusCode::SEE_OTHER if resp.location().starts_with("/beheer/inloggen") => Access::Login,
        StatusCode::OK | StatusCode::SEE_OTHER | StatusCode::UNPROCESSABLE_ENTITY => {
            Access::Allowed
        }
        other => panic!("{method} {path} answered {other}: {}", resp.body),
    }
}

db_test! {
    async fn authorization_matrix_holds_for_every_staff_route(app) {
        app.login_as(Role::Admin).await;
        let edit = app.create_article("Matrixartikel", "draft").await;
        app.clear_cookies();

        use Access::{Allowed as A, Forbidden as F, Login as L};
        // (method, path, anonymous, editor, moderator, admin)
        let routes = [
            ("GET", "/beheer".to_owned(), L, A, A, A),
            ("GET", "/beheer/artikelen".to_owned(), L, A, F, A),
            ("GET", "/beheer/artikelen/nieuw".to_owned(), L, A, F, A),
            ("POST", "/beheer/artikelen/nieuw".to_owned(), L, A, F, A),
            ("GET", edit.clone(), L, A, F, A),
            ("POST", edit.clone(), L, A, F, A),
            ("POST", "/beheer/voorbeeld".to_owned(), L, A, F, A),
            ("GET", "/beheer/gebruikers".to_owned(), L, F, F, A),
            ("POST", "/beheer/gebruikers".to_owned(), L, F, F, A),
        ];
        for (who, role) in [
            ("anonymous", None),
            ("editor", Some(Role::Editor)),
            ("moderator", Some(Role::Moderator)),
            ("admin", Some(Role::Admin)),
        ] {
            app.clear_cookies();
            if let Some(role) = role {
                app.login_as(role).await;
            }
            for (method, path, anonymous, editor, moderator, admin) in &routes {
                let expected = match role {
                    None => anonymous,
                    Some(Role::Editor) => editor,
                    Some(Role::Moderator) => moderator,
                    Some(Role::Admin) => admin,
                };
                let got = access(&app, method, path).await;
                assert_eq!(got, *expected, "{who}: {method} {path}");
            }
        }
    }
}

db_test! {
    async fn anonymous_visitor_is_sent_to_login_and_back(app) {
        app.get("/beheer/artikelen")
            .await
            .assert_redirect("/beheer/inloggen?terug=%2Fbeheer%2Fartikelen");
        app.create_user("anna", Role::Editor).await;
        app.post_form(
            "/beheer/inloggen",
            &[("username", "anna"), ("password", PASSWORD), ("terug", "/beheer/artikelen")],
        )
        .await
        .assert_redirect("/beheer/artikelen");
    }
}

db_test! {
    async fn login_never_redirects_to_another_site(app) {
        app.create_user("anna", Role::Editor).await;
        app.post_form(
            "/beheer/inloggen",
            &[("username", "anna"), ("password", PASSWORD), ("terug", "https://evil.example/")],
        )
        .await
        .assert_redirect("/beheer");
    }
}

db_test! {
    async fn wrong_password_keeps_the_name_and_gives_no_session(app) {
        app.create_user("anna", Role::Editor).await;
        for (username, password) in [("anna", "fout wachtwoord"), ("niemand", PASSWORD), ("", "")] {
            let resp = app
                .post_form("/beheer/inloggen", &[("username", username), ("password", password)])
                .await;
            resp.assert_status(StatusCode::UNAUTHORIZED)
                .assert_contains("Die combinatie van gebruikersnaam en wachtwoord kennen we niet.")
                .assert_contains(&format!("value=\"{username}\""));
            assert_eq!(app.cookie("kantlijn_sessie"), None, "{username:?} got a session");
        }
        app.get("/beheer").await.assert_status(StatusCode::SEE_OTHER);
    }
}

db_test! {
    async fn login_sets_a_hardened_session_cookie_stored_hashed(app) {
        app.create_user("anna", Role::Editor).await;
        let resp = app
            .post_form("/beheer/inloggen", &[("username", "anna"), ("password", PASSWORD)])
            .await;
        resp.assert_redirect("/beheer");
        let set_cookie = resp
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|v| v.starts_with("kantlijn_sessie="))
            .expect("a session cookie");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        assert!(set_cookie.contains("Max-Age=1209600"), "14 days: {set_cookie}");
        assert!(!set_cookie.contains("Secure"), "plain http base URL: {set_cookie}");

        let token = app.cookie("kantlijn_sessie").unwrap();
        let rows = sessions::Entity::find().all(app.db.read()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].token_hash, security::token_hash(&token));
        assert_ne!(rows[0].token_hash, token, "the raw token is never stored");
    }
}

db_test! {
    async fn login_gives_a_new_token_and_ends_the_old_session(app) {
        app.login_as(Role::Editor).await;
        let first = app.cookie("kantlijn_sessie").unwrap();
        app.login_as(Role::Editor).await;
        let second = app.cookie("kantlijn_sessie").unwrap();
        assert_ne!(first, second);
        let rows = sessions::Entity::find().all(app.db.read()).await.unwrap();
        assert_eq!(rows.len(), 1, "the old session is gone");
    }
}

db_test! {
    async fn expired_session_sends_back_to_login(app) {
        app.login_as(Role::Editor).await;
        app.get("/beheer").await.assert_status(StatusCode::OK);
        let token = app.cookie("kantlijn_sessie").unwrap();
        let row = sessions::Entity::find_by_id(security::token_hash(&token))
            .one(app.db.read())
            .await
            .unwrap()
            .unwrap();
        let mut row: sessions::ActiveModel = row.into();
        row.expires_at = Set(Utc::now() - Duration::minutes(1));
        row.update(app.db.write()).await.unwrap();
        app.get("/beheer").await.assert_redirect("/beheer/inloggen?terug=%2Fbeheer");
    }
}

db_test! {
    async fn logout_ends_the_session_on_the_server(app) {
        app.login_as(Role::Editor).await;
        let token = app.cookie("kantlijn_sessie").unwrap();
        app.post_form("/beheer/uitloggen", &[]).await.assert_redirect("/");
        assert_eq!(app.cookie("kantlijn_sessie"), None, "the cookie is removed");
        app.get("/beheer").await.assert_status(StatusCode::SEE_OTHER);
        let row = sessions::Entity::find_by_id(security::token_hash(&token))
            .one(app.db.read())
            .await
            .unwrap();
        assert!(row.is_none(), "a stolen copy of the cookie is useless now");
    }
}

db_test! {
    async fn csrf_token_missing_or_wrong_is_403(app) {
        app.create_user("anna", Role::Editor).await;
        app.get("/beheer/inloggen").await;
        let cases: [(&str, &[(&str, &str)]); 3] = [
            ("missing", &[("username", "anna"), ("password", PASSWORD)]),
            ("wrong", &[("username", "anna"), ("password", PASSWORD), ("csrf_token", "dGVzdA")]),
            ("empty", &[("username", "anna"), ("password", PASSWORD), ("csrf_token", "")]),
        ];
        for (what, fields) in cases {
            let resp = app.post_raw("/beheer/inloggen", fields).await;
            resp.assert_status(StatusCode::FORBIDDEN)
                .assert_contains("Dit formulier is verlopen");
            assert_eq!(app.cookie("kantlijn_sessie"), None, "{what} token logged in");
        }
    }
}

db_test! {
    async fn csrf_token_of_another_browser_is_403(app) {
        app.create_user("anna", Role::Editor).await;
        let foreign_token = app.csrf_token().await;
        app.clear_cookies();
        app.get("/beheer/inloggen").await;
        app.post_raw(
            "/beheer/inloggen",
            &[("username", "anna"), ("password", PASSWORD), ("csrf_token", &foreign_token)],
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
    }
}

db_test! {
    async fn logged_in_staff_with_a_bad_csrf_token_cannot_write(app) {
        app.login_as(Role::Editor).await;
        app.post_raw(
            "/beheer/artikelen/nieuw",
            &[("title", "Ongewenst"), ("body", "x"), ("status", "published"), ("csrf_token", "bad")],
        )
        .await
        .assert_status(StatusCode::FORBIDDEN);
        app.get("/beheer/artikelen").await.assert_lacks("Ongewenst");
    }
}

db_test! {
    async fn admin_adds_a_user_who_can_then_log_in(app) {
        app.login_as(Role::Admin).await;
        app.post_form(
            "/beheer/gebruikers",
            &[("username", "bert"), ("role", "moderator"), ("password", "kort")],
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("minstens 10 tekens")
        .assert_contains("value=\"bert\"");
        app.post_form(
            "/beheer/gebruikers",
            &[("username", "bert"), ("role", "moderator"), ("password", PASSWORD)],
        )
        .await
        .assert_redirect("/beheer/gebruikers");
        app.get("/beheer/gebruikers").await.assert_contains("bert");
        app.clear_cookies();
        app.post_form("/beheer/inloggen", &[("username", "bert"), ("password", PASSWORD)])
            .await
            .assert_redirect("/beheer");
    }
}

db_test! {
    /// Two admins add the same name at once: one account is made, the other admin gets
    /// the form back with "bestaat al", and nobody's password is reset in between.
    async fn adding_a_taken_name_is_a_form_error_never_a_password_reset(app) {
        let first = app.other_browser();
        first.login_as(Role::Admin).await;
        let second = first.other_browser();
        second.post_form("/beheer/inloggen", &[("username", "admin-test"), ("password", PASSWORD)]).await.assert_redirect("/beheer");
        let form = |password| [("username", "Carla"), ("role", "editor"), ("password", password)];
        let (one, two) = (form("eerste wachtwoord!"), form("tweede wachtwoord!"));
        let (a, b) = tokio::join!(
            first.post_form("/beheer/gebruikers", &one),
            second.post_form("/beheer/gebruikers", &two),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::UNPROCESSABLE_ENTITY]);
        let refused = if a.status == StatusCode::UNPROCESSABLE_ENTITY { &a } else { &b };
        refused.assert_contains("Deze gebruikersnaam bestaat al.").assert_contains("value=\"Carla\"");
        let winner = if a.status == StatusCode::SEE_OTHER { "eerste wachtwoord!" } else { "tweede wachtwoord!" };
        let user = store::users::find_by_username(app.db.read(), "carla").await.unwrap().unwrap();
        assert!(kantlijn::security::verify_password(winner, &user.password_hash), "the first account's password stands");
    }
}
