//! Public pages, error pages, headers and the health check.

use kantlijn::domain::validate::Role;
use poem::http::{Method, StatusCode};

use crate::{db_test, helpers::Resp};

#[track_caller]
fn assert_security_headers(resp: &Resp) {
    let csp = resp.header("content-security-policy");
    for part in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(csp.contains(part), "CSP {csp:?} lacks {part:?}");
    }
    assert!(
        !csp.contains("unsafe-inline"),
        "CSP allows inline script: {csp}"
    );
    assert_eq!(resp.header("x-content-type-options"), "nosniff");
    assert_eq!(
        resp.header("referrer-policy"),
        "strict-origin-when-cross-origin"
    );
}

db_test! {
    async fn empty_site_explains_how_to_create_the_first_admin(app) {
        app.get("/")
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("lang=\"nl\"")
            .assert_contains("kantlijn user add NAAM --role admin");
    }
}

db_test! {
    async fn site_with_staff_but_no_articles_does_not_mention_setup(app) {
        app.create_user("anna", Role::Editor).await;
        app.get("/")
            .await
            .assert_contains("Er is nog niets gepubliceerd")
            .assert_lacks("kantlijn user add");
    }
}

db_test! {
    async fn front_page_lists_published_articles_newest_first_with_counts(app) {
        app.login_as(Role::Editor).await;
        app.create_article("Het oudere stuk", "published").await;
        app.create_article("Het nieuwste stuk", "published").await;
        app.create_article("Een geheim concept", "draft").await;
        app.clear_cookies();

        let page = app.get("/").await;
        page.assert_status(StatusCode::OK)
            .assert_contains("Nog geen reacties")
            .assert_lacks("Een geheim concept");
        let newest = page.body.find("Het nieuwste stuk").unwrap();
        let older = page.body.find("Het oudere stuk").unwrap();
        assert!(newest < older, "newest article comes first");
    }
}

db_test! {
    async fn article_page_renders_markdown(app) {
        app.login_as(Role::Editor).await;
        app.create_article("Over het Lerarenregister", "published").await;
        app.clear_cookies();
        app.get("/artikelen/over-het-lerarenregister")
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("<h1>Over het Lerarenregister</h1>")
            .assert_contains("<h2>Kop</h2>")
            .assert_contains("<p>Tweede alinea.</p>");
    }
}

db_test! {
    async fn unknown_page_is_a_dutch_404_with_security_headers(app) {
        let resp = app.get("/bestaat-niet").await;
        resp.assert_status(StatusCode::NOT_FOUND)
            .assert_contains("Pagina niet gevonden")
            .assert_contains("lang=\"nl\"");
        assert_security_headers(&resp);
        let resp = app.get("/artikelen/bestaat-ook-niet").await;
        resp.assert_status(StatusCode::NOT_FOUND).assert_contains("Pagina niet gevonden");
    }
}

db_test! {
    async fn security_headers_are_on_pages_redirects_and_errors(app) {
        for path in ["/", "/beheer/inloggen", "/beheer", "/healthz", "/static/kantlijn.css", "/nergens"] {
            let resp = app.get(path).await;
            assert_security_headers(&resp);
            assert!(!resp.header("x-request-id").is_empty(), "{path} has a request id");
        }
        let forbidden = app.post_raw("/beheer/uitloggen", &[]).await;
        forbidden.assert_status(StatusCode::FORBIDDEN);
        assert_security_headers(&forbidden);
    }
}

db_test! {
    /// While the database is away every answer that needs it is 503 with `Retry-After`:
    /// a Dutch page, JSON under `/api`, and `/healthz` says so too. Never a 500.
    async fn the_site_answers_503_while_the_database_is_away(app) {
        let slug = app.published_article("Even weg").await;
        let csrf = app.csrf_token().await;
        let token = app.api_token(Role::Editor).await;
        app.get("/healthz").await.assert_status(StatusCode::OK);
        app.db.close().await.unwrap();

        let health = app.get("/healthz").await;
        health.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(health.header("retry-after"), "5");

        let page = app.get("/artikelen/bestaat-niet").await;
        page.assert_status(StatusCode::SERVICE_UNAVAILABLE)
            .assert_contains("De site is even niet bereikbaar");
        assert_eq!(page.header("retry-after"), "5");
        assert!(page.header("content-type").starts_with("text/html"));

        let form = app
            .post_form(&format!("/artikelen/{slug}/reacties"), &[("author_name", "Lezer"), ("author_email", "l@example.nl"), ("body", "Hallo"), ("form_token", &app.form_token(10)), ("csrf_token", &csrf)])
            .await;
        form.assert_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(form.header("retry-after"), "5");

        let body = serde_json::json!({ "author_name": "Lezer", "author_email": "l@example.nl", "body": "Hallo" });
        let bearer = format!("Bearer {token}");
        for (method, path, body, bearer) in [
            (Method::GET, "/api/v1/articles/bestaat-niet".to_owned(), None, None),
            (Method::POST, format!("/api/v1/articles/{slug}/comments"), Some(body.to_string()), None),
            // A token that cannot be checked now is not a wrong token (401).
            (Method::GET, format!("/api/v1/articles/{slug}"), None, Some(bearer.as_str())),
            (Method::GET, "/api/v1/moderation/queue".to_owned(), None, Some(bearer.as_str())),
        ] {
            let mut headers = vec![("content-type", "application/json")];
            headers.extend(bearer.map(|b| ("authorization", b)));
            let resp = app.send_with(method, &path, body, &headers).await;
            resp.assert_status(StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(resp.header("retry-after"), "5", "{path}");
            let json: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
            assert_eq!(json["error"], "unavailable", "{path}");
        }
    }
}

db_test! {
    async fn oversized_body_gets_413_with_a_dutch_message(app) {
        let big = "x".repeat(70 * 1024);
        let resp = app.post_form("/beheer/inloggen", &[("username", &big), ("password", "x")]).await;
        resp.assert_status(StatusCode::PAYLOAD_TOO_LARGE).assert_contains("64 KB");
        assert_security_headers(&resp);
    }
}

db_test! {
    async fn static_files_are_served_from_the_binary(app) {
        let css = app.get("/static/kantlijn.css").await;
        css.assert_status(StatusCode::OK);
        assert!(css.header("content-type").starts_with("text/css"));
        app.get("/static/kantlijn.js").await.assert_status(StatusCode::OK);
        app.get("/static/bestaat-niet.css").await.assert_status(StatusCode::NOT_FOUND);
        app.get("/static/../Cargo.toml").await.assert_status(StatusCode::NOT_FOUND);
        // The icon the pages link to, and where browsers look without a link.
        app.get("/").await.assert_contains(r#"<link rel="icon" href="/static/favicon.svg""#);
        for path in ["/static/favicon.svg", "/favicon.ico"] {
            let icon = app.get(path).await;
            icon.assert_status(StatusCode::OK);
            assert_eq!(icon.header("content-type"), "image/svg+xml", "{path}");
        }
    }
}

db_test! {
    async fn a_panicking_handler_gets_a_500_page_and_the_server_lives_on(app) {
        #[poem::handler]
        fn boom() -> &'static str {
            panic!("deliberate test panic")
        }
        let endpoint = kantlijn::app::with_middleware(
            kantlijn::app::routes().at("/boom", poem::get(boom)).at("/api/v1/boom", poem::get(boom)),
            app.state.clone(),
        );
        let client = poem::test::TestClient::new(endpoint);
        let resp = client.get("/boom").send().await;
        resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        resp.assert_header("referrer-policy", "strict-origin-when-cross-origin");
        let body = resp.0.into_body().into_string().await.unwrap();
        assert!(body.contains("Er ging aan onze kant iets mis"), "{body}");
        // Under /api a panic is a JSON error like any other.
        let resp = client.get("/api/v1/boom").send().await;
        resp.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        resp.assert_content_type("application/json");
        let body = resp.0.into_body().into_string().await.unwrap();
        assert!(body.contains("\"error\":\"internal_error\""), "{body}");
        client.get("/").send().await.assert_status_is_ok();
    }
}

db_test! {
    async fn front_page_pages_back_through_older_articles(app) {
        app.login_as(Role::Editor).await;
        for n in 1..=23 {
            app.create_article(&format!("Stuk nummer {n:02}"), "published").await;
        }
        app.clear_cookies();
        let first = app.get("/").await;
        first.assert_contains("Stuk nummer 23").assert_contains("Stuk nummer 04").assert_lacks("Stuk nummer 03");
        let older = crate::helpers::attr_of(&first.body, "a[rel=next]", "href").expect("a link to older articles");
        let second = app.get(&older).await;
        second
            .assert_status(StatusCode::OK)
            .assert_contains("Stuk nummer 03")
            .assert_contains("Stuk nummer 01")
            .assert_lacks("Stuk nummer 04")
            .assert_lacks("rel=\"next\"");
        app.get("/?voor=onzin").await.assert_status(StatusCode::OK).assert_contains("Stuk nummer 23");
    }
}

/// SIGTERM stops the server from taking new connections but lets a request that is
/// half sent finish and be answered; then the process exits cleanly.
#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    use std::{
        io::{Read, Write},
        net::TcpStream,
        time::Duration,
    };
    let mut server = crate::helpers::Server::start(&[]);
    let body = br#"{"author_name":"Laat","author_email":"laat@example.nl","body":"Net op tijd."}"#;
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let head = format!(
        "POST /api/v1/articles/bestaat-niet/comments HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..20]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(&server.addr).is_err(),
        "no new connections once stopping"
    );
    stream.write_all(&body[20..]).unwrap();
    let mut response = vec![0; 4096];
    let read = stream.read(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response[..read]);
    assert!(
        response.starts_with("HTTP/1.1 404"),
        "the request in flight was answered: {response}"
    );
    drop(stream);
    let status = server
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits");
    assert!(status.success(), "{status:?}");
}
