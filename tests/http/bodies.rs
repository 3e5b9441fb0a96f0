//! Request bodies an attacker might send: compressed ones ("zip bombs") are refused
//! before anything unpacks them, on every route that takes a body.

use std::io::Read;

use kantlijn::domain::validate::Role;
use poem::http::{Method, StatusCode};

use crate::{db_test, helpers::Server};

/// `len` bytes of one JSON document that a handler would happily parse: a reaction
/// whose body is a single repeated letter.
fn bomb_plain(len: usize) -> impl Read {
    let head = br#"{"author_name":"A","author_email":"a@example.nl","body":""#.to_vec();
    std::io::Cursor::new(head).chain(std::io::repeat(b'a').take(len as u64))
}

fn gzipped(len: usize) -> Vec<u8> {
    let mut encoder = flate2::read::GzEncoder::new(bomb_plain(len), flate2::Compression::best());
    let mut out = Vec::new();
    encoder.read_to_end(&mut out).unwrap();
    out
}

fn zstd_packed(len: usize) -> Vec<u8> {
    zstd::stream::encode_all(bomb_plain(len), 3).unwrap()
}

/// Every route that accepts a POST or PUT body, with the ids and slugs of `app`.
fn body_routes(slug: &str, article_id: &str, comment_id: i32) -> Vec<(Method, String)> {
    let post = |path: String| (Method::POST, path);
    vec![
        post(format!("/artikelen/{slug}/reacties")),
        post(format!("/artikelen/{slug}/voorbeeld")),
        post(format!("/artikelen/{slug}/reacties/{comment_id}/bewerken")),
        post(format!(
            "/artikelen/{slug}/reacties/{comment_id}/verwijderen"
        )),
        post("/beheer/inloggen".into()),
        post("/beheer/uitloggen".into()),
        post("/beheer/account".into()),
        post("/beheer/artikelen/nieuw".into()),
        post(format!("/beheer/artikelen/{article_id}/bewerken")),
        post("/beheer/voorbeeld".into()),
        post("/beheer/moderatie".into()),
        post("/beheer/moderatie/blokkeren".into()),
        post("/beheer/instellingen".into()),
        post("/beheer/gebruikers".into()),
        post("/beheer/tokens".into()),
        post("/beheer/tokens/1/intrekken".into()),
        post(format!("/api/v1/articles/{slug}/comments")),
        post(format!("/api/v1/comments/{comment_id}/moderation")),
        post("/api/v1/articles".into()),
        (Method::PUT, format!("/api/v1/articles/{slug}")),
    ]
}

db_test! {
    async fn compressed_bodies_get_415_on_every_route_that_takes_a_body(app) {
        let slug = app.published_article("Een artikel").await;
        let comment = app.comment(&slug, &[]).await;
        let article = kantlijn::store::articles::find_by_slug(app.db.read(), &slug).await.unwrap().unwrap();
        // A logged-in admin with a valid CSRF token in the header and a bearer token:
        // nothing but the encoding can be the reason for a refusal.
        app.login_as(Role::Admin).await;
        let csrf = app.csrf_token().await;
        let token = app.api_token(Role::Admin).await;
        let bearer = format!("Bearer {token}");
        let bombs = [("gzip", gzipped(1 << 20)), ("zstd", zstd_packed(16 << 20)), ("gzip, identity", gzipped(1 << 20))];
        for (encoding, body) in &bombs {
            assert!(body.len() < 70 * 1024, "{encoding} body is {} bytes", body.len());
            for (method, path) in body_routes(&slug, &article.id.to_string(), comment) {
                let resp = app
                    .send_bytes(method.clone(), &path, Some(body.clone()), &[
                        ("content-encoding", encoding),
                        ("content-type", if path.starts_with("/api") { "application/json" } else { "application/x-www-form-urlencoded" }),
                        ("x-csrf-token", &csrf),
                        ("authorization", &bearer),
                    ])
                    .await;
                assert_eq!(resp.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{method} {path} ({encoding}): {}", resp.body);
                assert_eq!(resp.header("accept-encoding"), "identity", "{method} {path}");
                if path.starts_with("/api") {
                    let json: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
                    assert_eq!(json["error"], "unsupported_media_type", "{path}");
                } else {
                    resp.assert_contains("zonder compressie");
                }
            }
        }
        // Nothing changed: the reaction is still there, untouched.
        assert_eq!(app.stored(comment).await.body_md, "Een *doordachte* reactie.");
    }
}

db_test! {
    async fn an_identity_content_encoding_is_read_as_usual(app) {
        let slug = app.published_article("Een artikel").await;
        let (resp, json) = app
            .api(Method::GET, &format!("/api/v1/articles/{slug}"), None, None)
            .await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(json["slug"], slug.as_str());
        let body = serde_json::json!({
            "author_name": "Lien", "author_email": "lien@example.nl", "body": "Helder stuk."
        });
        let resp = app
            .send_bytes(Method::POST, &format!("/api/v1/articles/{slug}/comments"), Some(body.to_string().into_bytes()), &[
                ("content-encoding", "identity"),
                ("content-type", "application/json"),
            ])
            .await;
        resp.assert_status(StatusCode::CREATED);
    }
}

/// The real binary, sent zstd and gzip bombs on every body route: each is refused and
/// the process's peak memory stays far below what unpacking one would take.
#[test]
fn the_server_refuses_compressed_bombs_without_growing() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: no /proc to read the peak memory from");
        return;
    }
    let server = Server::start(&[]);
    // 256 MiB of JSON in a few KB of zstd; 32 MiB in about 32 KB of gzip.
    let zstd_bomb = zstd_packed(256 << 20);
    let gzip_bomb = gzipped(32 << 20);
    eprintln!(
        "zstd bomb: {} bytes, gzip bomb: {} bytes",
        zstd_bomb.len(),
        gzip_bomb.len()
    );
    let (cookie, csrf) = server.login_page();
    let before = server.peak_rss();
    let mut accepted = Vec::new();
    for (encoding, bomb) in [("zstd", &zstd_bomb), ("gzip", &gzip_bomb)] {
        for (method, path) in body_routes("een-artikel", "1", 1) {
            let content_type = if path.starts_with("/api") {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            let (status, _) = server.request(
                method.as_str(),
                &path,
                &[
                    ("Content-Encoding", encoding),
                    ("Content-Type", content_type),
                    ("Cookie", &cookie),
                    ("X-CSRF-Token", &csrf),
                ],
                bomb,
            );
            if !matches!(status, 413 | 415) {
                accepted.push(format!("{method} {path} ({encoding}): {status}"));
            }
        }
    }
    let peak = server.peak_rss();
    eprintln!(
        "peak RSS: {} MiB before the bombs, {} MiB after",
        before >> 20,
        peak >> 20
    );
    assert!(peak < 100 << 20, "peak RSS {} MiB", peak >> 20);
    assert!(accepted.is_empty(), "not refused: {accepted:#?}");
    assert_eq!(
        server.request("GET", "/healthz", &[], &[]).0,
        200,
        "the server lives on"
    );
}
