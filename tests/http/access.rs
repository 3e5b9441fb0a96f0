//! The security review's findings (issue 11), one named test each where the HTTP surface
//! shows them: a compromised staff account shut out (password reset, "disable", log out
//! everywhere), staff answers never stored, the CSRF cookie rotated at login, address
//! bans over the IPv6 /64, day-old form tokens, hidden authors kept hidden, public reads
//! of visible reactions only, and no compressed way around the login limit.

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

db_test! {
    /// A hidden reaction shows nothing of its author anywhere: the API's tombstone has no
    /// name, URL or date, and a deep reply to a rejected reaction does not name its author.
    async fn hidden_reactions_show_nothing_of_their_authors(app) {
        let slug = app.published_article("Verborgen schrijvers").await;
        let mut chain = Vec::new();
        for depth in 1..=7 {
            let parent = chain.last().map(i32::to_string).unwrap_or_default();
            let name = format!("Schrijver Nummer{depth}");
            let email = format!("s{depth}@example.nl");
            let url = format!("https://blog{depth}.example/");
            let id = app
                .approved_comment(&slug, &[("parent_id", &parent), ("author_name", &name), ("author_email", &email), ("author_url", &url), ("body", &format!("Tekst {depth}"))])
                .await;
            chain.push(id);
        }
        // The first is deleted (its reply keeps it as a tombstone), the sixth rejected:
        // the seventh, past the depth of five, says whom it answers.
        app.moderate(&[chain[0]], "delete", "").await;
        app.moderate(&[chain[5]], "reject", "").await;

        let reader = app.other_browser();
        let page = reader.get(&format!("/artikelen/{slug}")).await;
        page.assert_status(StatusCode::OK)
            .assert_contains("Schrijver Nummer7")
            .assert_contains("reactie op een verwijderde reactie");
        for gone in [1, 6] {
            page.assert_lacks(&format!("Schrijver Nummer{gone}")).assert_lacks(&format!("blog{gone}.example"));
        }

        let tree = reader.get(&format!("/api/v1/articles/{slug}/comments")).await;
        tree.assert_status(StatusCode::OK);
        for gone in [1, 6] {
            tree.assert_lacks(&format!("Schrijver Nummer{gone}")).assert_lacks(&format!("blog{gone}.example"));
        }
        let json: serde_json::Value = serde_json::from_str(&tree.body).unwrap();
        let tombstone = &json["comments"][0];
        assert_eq!(tombstone["id"], chain[0]);
        assert_eq!(tombstone["deleted"], true);
        assert_eq!(tombstone["author_name"], "");
        assert!(tombstone["author_url"].is_null(), "{tombstone}");
        assert!(tombstone["created_at"].is_null(), "{tombstone}");

        let feed = reader.get(&format!("/artikelen/{slug}/feed.xml")).await;
        for gone in [1, 6] {
            feed.assert_lacks(&format!("Schrijver Nummer{gone}")).assert_lacks(&format!("blog{gone}.example"));
        }
    }
}

db_test! {
    /// Spam and held reactions are never read to show a thread: however many pile up,
    /// the public read holds the approved ones and the hidden ones they reply to.
    async fn public_reads_hold_only_what_readers_may_see(app) {
        let slug = app.published_article("Veel spam").await;
        let approved = app.approved_comment(&slug, &[]).await;
        let reply = app.approved_comment(&slug, &[("parent_id", &approved.to_string())]).await;
        let mut held = Vec::new();
        for n in 0..30 {
            held.push(app.comment(&slug, &[("author_email", &format!("spam{n}@example.nl")), ("body", &format!("Koop nu {n}"))]).await);
        }
        app.moderate(&held[..10], "spam", "").await;
        app.moderate(&[approved], "reject", "").await;
        let article = store::articles::find_by_slug(app.db.read(), &slug).await.unwrap().unwrap();
        let placements = store::comments::public_placements(app.db.read(), article.id).await.unwrap();
        let ids: Vec<(i32, bool)> = placements.iter().map(|p| (p.id, p.approved)).collect();
        assert_eq!(ids, vec![(approved, false), (reply, true)], "the rejected parent only as a placeholder");
    }
}

db_test! {
    /// The login limit counts per username: a compressed body (which the limiter could
    /// not read) is refused before anything reads it, so it cannot slip a password past.
    async fn a_compressed_login_cannot_skip_the_username_limit(app) {
        use std::io::Write;
        app.create_user("doelwit", Role::Editor).await;
        let limited = app.with_rate_limits(kantlijn::config::RateLimitMode::On).await;
        for n in 0..8 {
            let peer = format!("203.0.113.{}", 100 + n);
            let csrf = limited.csrf_token().await;
            let form = serde_html_form::to_string([("username", "doelwit"), ("password", "fout-wachtwoord"), ("csrf_token", &csrf)]).unwrap();
            limited.send_with(Method::POST, "/beheer/inloggen", Some(form), &[(TEST_PEER, &peer)]).await;
        }
        let csrf = limited.csrf_token().await;
        let form = serde_html_form::to_string([("username", "doelwit"), ("password", PASSWORD), ("csrf_token", &csrf)]).unwrap();
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(form.as_bytes()).unwrap();
        let packed = gzip.finish().unwrap();
        let headers = [(TEST_PEER, "198.51.100.200"), ("content-encoding", "gzip"), ("content-type", "application/x-www-form-urlencoded")];
        let resp = limited.send_bytes(Method::POST, "/beheer/inloggen", Some(packed), &headers).await;
        resp.assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(limited.cookie("kantlijn_sessie").is_none(), "not logged in");
        let plain = limited.send_with(Method::POST, "/beheer/inloggen", Some(form), &[(TEST_PEER, "198.51.100.201")]).await;
        plain.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.cookie("kantlijn_sessie").is_none(), "not logged in");
    }
}

/// The real binary under a crowd of failed logins: the password hashes (19 MiB each)
/// run a few at a time and give their memory back, so the process stays small. Without
/// the cap and the allocator setting 256 such logins left it at 495 MB.
#[test]
fn a_crowd_of_failed_logins_stays_small() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc to read the peak memory from");
        return;
    }
    let server = std::sync::Arc::new(crate::helpers::Server::start(&[]));
    let (cookie, csrf) = server.login_page();
    let form = serde_html_form::to_string([
        ("username", "niemand"),
        ("password", "fout"),
        ("csrf_token", csrf.as_str()),
    ])
    .unwrap();
    let clients: Vec<_> = (0..48)
        .map(|_| {
            let (server, cookie, form) =
                (std::sync::Arc::clone(&server), cookie.clone(), form.clone());
            std::thread::spawn(move || {
                (0..3)
                    .map(|_| {
                        let headers = [
                            ("Cookie", cookie.as_str()),
                            ("Content-Type", "application/x-www-form-urlencoded"),
                        ];
                        server
                            .request("POST", "/beheer/inloggen", &headers, form.as_bytes())
                            .0
                    })
                    .collect::<Vec<u16>>()
            })
        })
        .collect();
    let statuses: Vec<u16> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let peak = server.peak_rss();
    eprintln!(
        "peak RSS after {} failed logins from 48 clients at once: {} MiB",
        statuses.len(),
        peak >> 20
    );
    assert!(peak < 150 << 20, "peak RSS {} MiB", peak >> 20);
}
