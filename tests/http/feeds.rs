//! Atom feeds, the sitemap and conditional requests.

use kantlijn::domain::validate::Role;
use poem::http::{Method, StatusCode};

use crate::db_test;

fn parse(body: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body.as_bytes()).expect("a feed a real parser reads")
}

db_test! {
    async fn articles_feed_is_atom_with_stable_ids(app) {
        let slug = app.published_article("In de feed").await;
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.create_article("Niet in de feed", "draft").await;
        let resp = app.get("/feed.xml").await;
        resp.assert_status(StatusCode::OK);
        assert!(resp.header("content-type").starts_with("application/atom+xml"));
        let feed = parse(&resp.body);
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(feed.entries.len(), 1);
        let entry = &feed.entries[0];
        assert_eq!(entry.title.as_ref().unwrap().content, "In de feed");
        assert!(entry.links[0].href.ends_with(&format!("/artikelen/{slug}")));
        assert!(entry.content.as_ref().unwrap().body.as_ref().unwrap().contains("<h2>Kop</h2>"));
        assert!(entry.id.starts_with("tag:127.0.0.1,"), "{}", entry.id);
        let again = parse(&app.get("/feed.xml").await.body);
        assert_eq!(again.entries[0].id, entry.id, "ids are stable");
        app.get("/").await.assert_contains(r#"<link rel="alternate" type="application/atom+xml" title="Kantlijn: artikelen" href="/feed.xml">"#);
    }
}

db_test! {
    async fn reactions_feed_holds_only_approved_reactions(app) {
        let slug = app.published_article("Reactiefeed").await;
        app.approved_comment(&slug, &[("author_name", "Zichtbare Lezer"), ("body", "Goedgekeurd <b>vet</b>")]).await;
        app.comment(&slug, &[("author_name", "Wachtende Lezer")]).await;
        let resp = app.get(&format!("/artikelen/{slug}/feed.xml")).await;
        resp.assert_status(StatusCode::OK);
        let feed = parse(&resp.body);
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].title.as_ref().unwrap().content, "Reactie van Zichtbare Lezer");
        let body = feed.entries[0].content.as_ref().unwrap().body.clone().unwrap();
        assert!(body.contains("&lt;b&gt;vet&lt;/b&gt;"), "sanitised HTML: {body}");
        assert!(!resp.body.contains("Wachtende Lezer"));
        assert!(!resp.body.contains("lien@example.nl"), "no e-mail in feeds");
        app.get(&format!("/artikelen/{slug}")).await.assert_contains(&format!("href=\"/artikelen/{slug}/feed.xml\""));

        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.create_article("Concept", "draft").await;
        app.get("/artikelen/concept/feed.xml").await.assert_status(StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn feeds_answer_304_when_nothing_changed(app) {
        let slug = app.published_article("Voorwaardelijk").await;
        let path = format!("/artikelen/{slug}/feed.xml");
        app.approved_comment(&slug, &[]).await;
        let first = app.get(&path).await;
        let etag = first.header("etag").to_owned();
        let modified = first.header("last-modified").to_owned();
        assert!(etag.starts_with('"') && !modified.is_empty());
        let cached = app.send_with(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
        cached.assert_status(StatusCode::NOT_MODIFIED);
        assert!(cached.body.is_empty());
        app.send_with(Method::GET, &path, None, &[("if-modified-since", &modified)]).await.assert_status(StatusCode::NOT_MODIFIED);
        app.send_with(Method::GET, &path, None, &[("if-none-match", "\"ouder\"")]).await.assert_status(StatusCode::OK);

        app.approved_comment(&slug, &[("body", "Nieuw")]).await;
        let changed = app.send_with(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
        changed.assert_status(StatusCode::OK);
        assert_ne!(changed.header("etag"), etag);

        let site = app.get("/feed.xml").await;
        let site_etag = site.header("etag").to_owned();
        app.send_with(Method::GET, "/feed.xml", None, &[("if-none-match", &site_etag)]).await.assert_status(StatusCode::NOT_MODIFIED);
    }
}

db_test! {
    async fn sitemap_lists_published_articles(app) {
        let slug = app.published_article("Op de kaart").await;
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.create_article("Niet op de kaart", "draft").await;
        let resp = app.get("/sitemap.xml").await;
        resp.assert_status(StatusCode::OK);
        assert!(resp.header("content-type").starts_with("application/xml"));
        let mut reader = quick_xml::Reader::from_str(&resp.body);
        let mut locs = Vec::new();
        let mut in_loc = false;
        loop {
            match reader.read_event().expect("well-formed XML") {
                quick_xml::events::Event::Start(e) if e.name().as_ref() == b"loc" => in_loc = true,
                quick_xml::events::Event::Text(t) if in_loc => {
                    locs.push(String::from_utf8(t.to_vec()).unwrap());
                    in_loc = false;
                }
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(locs, vec!["http://127.0.0.1:8080/".to_owned(), format!("http://127.0.0.1:8080/artikelen/{slug}")]);
    }
}
