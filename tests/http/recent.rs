//! `/reacties`, its feed and the front page's newest reactions: only approved reactions
//! of published articles, newest first, in pages of 20, fresh after every change.

use kantlijn::{domain::validate::Role, store};
use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::{
    db_test,
    helpers::{Resp, TestApp},
};

fn parse(body: &str) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body.as_bytes()).expect("a feed a real parser reads")
}

/// The reactions a list links to, in order (`?reactie={id}` links).
fn listed(html: &str) -> Vec<i32> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("ol.recent-list > li a[href*=\"?reactie=\"]").unwrap();
    document
        .select(&selector)
        .filter_map(|a| {
            a.value()
                .attr("href")?
                .split_once("?reactie=")?
                .1
                .split('#')
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

async fn recent(reader: &TestApp, path: &str) -> Resp {
    let page = reader.get(path).await;
    page.assert_status(StatusCode::OK);
    page
}

/// Sets an article's status through the editor's form.
async fn set_status(app: &TestApp, slug: &str, status: &str) {
    let article = store::articles::find_by_slug(app.db.read(), slug)
        .await
        .unwrap()
        .unwrap();
    let editor = app.other_browser();
    editor.login_as(Role::Editor).await;
    let mut fields = vec![
        ("title", article.title.as_str()),
        ("slug", slug),
        ("summary", ""),
        ("body", article.body_md.as_str()),
        ("status", status),
    ];
    if article.reactions_open {
        fields.push(("reactions_open", "on"));
    }
    editor
        .post_form(
            &format!("/beheer/artikelen/{}/bewerken", article.id),
            &fields,
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

db_test! {
    async fn only_approved_reactions_of_published_articles_newest_first(app) {
        let one = app.published_article("Eerste artikel").await;
        let two = app.published_article("Tweede artikel").await;
        let hidden = app.published_article("Wordt een concept").await;
        let old = app.approved_comment(&one, &[("author_name", "Oude Lezer"), ("body", "De **oudste** reactie.")]).await;
        let on_hidden = app.approved_comment(&hidden, &[("author_name", "Verborgen"), ("body", "Op een artikel dat concept wordt.")]).await;
        let new = app.approved_comment(&two, &[("author_name", "Nieuwe Lezer"), ("body", "De nieuwste <b>reactie</b>.")]).await;
        let pending = app.comment(&one, &[("author_name", "Wachtend"), ("body", "Wacht nog.")]).await;
        let mut others = Vec::new();
        for (action, name) in [("reject", "Afgewezen"), ("spam", "Spammer"), ("delete", "Gewist")] {
            let id = app.comment(&one, &[("author_name", name), ("body", "Niet te zien.")]).await;
            app.moderate(&[id], action, "").await;
            others.push(id);
        }
        set_status(&app, &hidden, "draft").await;

        let reader = app.other_browser();
        let page = recent(&reader, "/reacties").await;
        assert_eq!(listed(&page.body), [new, old]);
        page.assert_contains("<title>Recente reacties · Kantlijn</title>");
        page.assert_contains("<h1>Recente reacties</h1>");
        page.assert_contains(&format!("href=\"/artikelen/{two}?reactie={new}#reactie-{new}\""));
        page.assert_contains(&format!("<a href=\"/artikelen/{two}\">Tweede artikel</a>"));
        page.assert_contains("Nieuwe Lezer").assert_contains("De oudste reactie.");
        page.assert_contains("De nieuwste &#60;b&#62;reactie&#60;/b&#62;.");
        page.assert_contains(r#"<link rel="alternate" type="application/atom+xml" title="Kantlijn: recente reacties" href="/reacties/feed.xml">"#);
        page.assert_contains(r#"<a href="/reacties" aria-current="page">Reacties</a>"#);
        for absent in ["Wachtend", "Afgewezen", "Spammer", "Gewist", "Verborgen", "lien@example.nl", "<strong>"] {
            page.assert_lacks(absent);
        }
        assert!(!listed(&page.body).iter().any(|id| *id == pending || *id == on_hidden || others.contains(id)));

        // The front page shows the newest too, and links to the list; the menu has it.
        let home = recent(&reader, "/").await;
        home.assert_contains("<h2 id=\"recent-kop\">Recente reacties</h2>").assert_contains("<a href=\"/reacties\">Alle recente reacties</a>");
        home.assert_contains(r#"href="/reacties/feed.xml""#);
        home.assert_contains(r#"<li><a href="/reacties">Reacties</a></li>"#);
        assert_eq!(listed(&home.body), [new, old]);

        // An empty site says so, and its second page does not exist.
        let empty = TestApp::spawn(kantlijn_backend(&app)).await;
        recent(&empty, "/reacties").await.assert_contains("Er zijn nog geen reacties geplaatst.");
        empty.get("/reacties?pagina=2").await.assert_status(StatusCode::NOT_FOUND);
    }
}

/// The backend `app` runs on, for a second, empty site of the same kind.
fn kantlijn_backend(app: &TestApp) -> crate::helpers::Backend {
    match app.db.backend() {
        sea_orm::DbBackend::Postgres => crate::helpers::Backend::Postgres,
        _ => crate::helpers::Backend::Sqlite,
    }
}

db_test! {
    async fn reactions_come_in_pages_of_twenty_and_the_home_page_shows_five(app) {
        app.set_setting(store::settings::MODERATION_MODE, "publish_all").await;
        let slug = app.published_article("Druk besproken").await;
        let mut ids = Vec::new();
        for n in 0..45 {
            let (resp, json) = app
                .api(
                    Method::POST,
                    &format!("/api/v1/articles/{slug}/comments"),
                    Some(json!({"author_name": format!("Lezer {n}"), "author_email": format!("lezer{n}@example.nl"), "body": format!("Reactie nummer {n}.")})),
                    None,
                )
                .await;
            resp.assert_status(StatusCode::CREATED);
            ids.push(json["id"].as_i64().unwrap() as i32);
        }
        ids.reverse();
        let reader = app.other_browser();
        let first = recent(&reader, "/reacties").await;
        assert_eq!(listed(&first.body), ids[..20]);
        first.assert_contains("<a rel=\"next\" href=\"/reacties?pagina=2\">Oudere reacties</a>").assert_lacks("rel=\"prev\"");
        let second = recent(&reader, "/reacties?pagina=2").await;
        assert_eq!(listed(&second.body), ids[20..40]);
        second.assert_contains("<a rel=\"prev\" href=\"/reacties\">Nieuwere reacties</a>");
        let third = recent(&reader, "/reacties?pagina=3").await;
        assert_eq!(listed(&third.body), ids[40..]);
        third.assert_lacks("rel=\"next\"");
        for missing in ["4", "0", "-1", "drie", "", "99999999999999999999"] {
            reader.get(&format!("/reacties?pagina={missing}")).await.assert_status(StatusCode::NOT_FOUND);
        }
        assert_eq!(listed(&recent(&reader, "/").await.body), ids[..5]);
    }
}

db_test! {
    async fn readers_see_every_change_at_once_and_staff_get_their_own_page(app) {
        let slug = app.published_article("Vers van de pers").await;
        let reader = app.other_browser();
        let first = recent(&reader, "/reacties").await;
        assert_ne!(first.header("server-timing"), "cache;desc=hit");
        let kept = recent(&reader, "/reacties").await;
        assert_eq!(kept.header("server-timing"), "cache;desc=hit", "readers get it from memory");
        recent(&reader, "/").await;

        // A held reaction changes nothing readers see; its approval shows at once.
        let id = app.comment(&slug, &[("author_name", "Net Goedgekeurd"), ("body", "Eindelijk zichtbaar.")]).await;
        assert_eq!(listed(&recent(&reader, "/reacties").await.body), Vec::<i32>::new());
        app.moderate(&[id], "approve", "").await;
        assert_eq!(listed(&recent(&reader, "/reacties").await.body), [id]);
        assert_eq!(listed(&recent(&reader, "/").await.body), [id]);

        // An edit shows at once too.
        app.post_form(&format!("/artikelen/{slug}/reacties/{id}/bewerken"), &[("body", "Eindelijk zichtbaar, bijgewerkt.")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        recent(&reader, "/reacties").await.assert_contains("Eindelijk zichtbaar, bijgewerkt.");

        // Unpublishing the article takes its reactions off; publishing brings them back.
        set_status(&app, &slug, "draft").await;
        assert_eq!(listed(&recent(&reader, "/reacties").await.body), Vec::<i32>::new());
        assert_eq!(listed(&recent(&reader, "/").await.body), Vec::<i32>::new());
        set_status(&app, &slug, "published").await;
        assert_eq!(listed(&recent(&reader, "/reacties").await.body), [id]);

        // A reaction that goes, goes from the list at once.
        app.moderate(&[id], "delete", "").await;
        assert_eq!(listed(&recent(&reader, "/reacties").await.body), Vec::<i32>::new());

        // Staff get the page made for them (with their menu), never the readers' copy.
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        for _ in 0..2 {
            let page = recent(&moderator, "/reacties").await;
            assert_ne!(page.header("server-timing"), "cache;desc=hit");
            page.assert_contains("/beheer/moderatie");
        }
        recent(&reader, "/reacties").await.assert_lacks("/beheer/moderatie");
    }
}

db_test! {
    async fn the_feed_is_atom_of_the_newest_approved_reactions_and_answers_304(app) {
        let one = app.published_article("Feed een").await;
        let two = app.published_article("Feed twee").await;
        let old = app.approved_comment(&one, &[("author_name", "Eerste Lezer"), ("body", "Eerst **vet**.")]).await;
        let new = app.approved_comment(&two, &[("author_name", "Tweede Lezer"), ("body", "Daarna.")]).await;
        app.comment(&one, &[("author_name", "Wachtende Lezer")]).await;

        let resp = app.get("/reacties/feed.xml").await;
        resp.assert_status(StatusCode::OK);
        assert!(resp.header("content-type").starts_with("application/atom+xml"));
        assert!(!resp.header("last-modified").is_empty());
        let feed = parse(&resp.body);
        assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
        assert_eq!(feed.title.as_ref().unwrap().content, "Kantlijn: recente reacties");
        let titles: Vec<&str> = feed.entries.iter().map(|e| e.title.as_ref().unwrap().content.as_str()).collect();
        assert_eq!(titles, ["Reactie van Tweede Lezer op: Feed twee", "Reactie van Eerste Lezer op: Feed een"]);
        assert!(feed.entries[0].links[0].href.ends_with(&format!("/artikelen/{two}?reactie={new}#reactie-{new}")));
        assert!(feed.entries[1].links[0].href.ends_with(&format!("/artikelen/{one}?reactie={old}#reactie-{old}")));
        let body = feed.entries[1].content.as_ref().unwrap().body.clone().unwrap();
        assert!(body.contains("<strong>vet</strong>"), "{body}");
        assert!(!resp.body.contains("Wachtende Lezer") && !resp.body.contains("lien@example.nl"));
        // The same entry as in the article's own feed.
        let article_feed = parse(&app.get(&format!("/artikelen/{two}/feed.xml")).await.body);
        assert_eq!(article_feed.entries[0].id, feed.entries[0].id);

        let etag = resp.header("etag").to_owned();
        let again = app.send_with(Method::GET, "/reacties/feed.xml", None, &[("if-none-match", &etag)]).await;
        again.assert_status(StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        app.approved_comment(&one, &[("author_name", "Derde Lezer"), ("body", "Nog een.")]).await;
        let changed = app.send_with(Method::GET, "/reacties/feed.xml", None, &[("if-none-match", &etag)]).await;
        changed.assert_status(StatusCode::OK);
        assert_eq!(parse(&changed.body).entries.len(), 3);
    }
}
