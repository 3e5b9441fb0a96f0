//! The thread's order (`?sorteer=oud|nieuw|nuttig`): only top-level reactions move,
//! replies stay under their parent; paging, `?reactie=` and every link keep the order;
//! each order is cached on its own and retired with the article's other pages.

use kantlijn::{entity::comments, store};
use poem::http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;

use crate::{
    db_test,
    helpers::{Resp, TestApp, hidden_value},
};

/// Posts a reaction through the API (published at once under `publish_all`): its id.
async fn post(app: &TestApp, slug: &str, name: &str, parent: Option<i32>) -> i32 {
    let (resp, json) = app
        .api(
            Method::POST,
            &format!("/api/v1/articles/{slug}/comments"),
            Some(json!({"author_name": name, "author_email": "lezer@example.nl", "body": format!("Reactie van {name}."), "parent_id": parent})),
            None,
        )
        .await;
    resp.assert_status(StatusCode::CREATED);
    json["id"].as_i64().unwrap() as i32
}

/// A site that publishes every reaction at once, with one article: its slug.
async fn open_site(app: &TestApp, title: &str) -> String {
    app.set_setting(store::settings::MODERATION_MODE, "publish_all")
        .await;
    app.published_article(title).await
}

/// Sets a reaction's helpful count as the votes do, and retires its article's pages as
/// a vote does.
async fn set_helpful(app: &TestApp, id: i32, count: i32) {
    comments::Entity::update_many()
        .col_expr(comments::Column::HelpfulCount, Expr::value(count))
        .filter(comments::Column::Id.eq(id))
        .exec(app.db.write())
        .await
        .unwrap();
    let article = app.stored(id).await.article_id;
    app.db.versions().article_changed(article);
}

fn reaction_ids(html: &str) -> Vec<i32> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("li.reaction").unwrap();
    document
        .select(&selector)
        .filter_map(|li| li.value().id()?.strip_prefix("reactie-")?.parse().ok())
        .collect()
}

/// The label of the order link marked current.
fn current_sort(html: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("nav.thread-sort a[aria-current=\"true\"]").unwrap();
    let found: Vec<String> = document
        .select(&selector)
        .map(|a| a.text().collect())
        .collect();
    assert_eq!(found.len(), 1, "one current order: {found:?}");
    found[0].clone()
}

async fn view(reader: &TestApp, path: &str) -> Resp {
    let page = reader.get(path).await;
    page.assert_status(StatusCode::OK);
    page
}

db_test! {
    async fn top_level_reactions_sort_and_replies_stay_under_their_parent(app) {
        let slug = open_site(&app, "Sorteren").await;
        let a = post(&app, &slug, "Anna", None).await;
        let b = post(&app, &slug, "Bram", None).await;
        let c = post(&app, &slug, "Cas", None).await;
        let a1 = post(&app, &slug, "Antwoord aan Anna", Some(a)).await;
        let d = post(&app, &slug, "Dirk", None).await;
        let c1 = post(&app, &slug, "Antwoord aan Cas", Some(c)).await;
        let a2 = post(&app, &slug, "Tweede antwoord aan Anna", Some(a)).await;
        let a11 = post(&app, &slug, "Antwoord op het antwoord", Some(a1)).await;
        for (id, count) in [(a, 2), (b, 5), (c, 2), (d, 0), (a1, 9), (a2, 0), (c1, 7)] {
            set_helpful(&app, id, count).await;
        }
        let reader = app.other_browser();
        let base = format!("/artikelen/{slug}");

        let oldest = [a, a1, a11, a2, b, c, c1, d];
        for path in [base.clone(), format!("{base}?sorteer=oud"), format!("{base}?sorteer=onzin"), format!("{base}?sorteer=")] {
            let page = view(&reader, &path).await;
            assert_eq!(reaction_ids(&page.body), oldest, "{path}");
            assert_eq!(current_sort(&page.body), "Oudste eerst", "{path}");
        }

        let newest = view(&reader, &format!("{base}?sorteer=nieuw")).await;
        assert_eq!(reaction_ids(&newest.body), [d, c, c1, b, a, a1, a11, a2]);
        assert_eq!(current_sort(&newest.body), "Nieuwste eerst");

        // Bram has 5; Anna and Cas tie at 2 (Anna is older); Dirk none. The replies'
        // own votes (9 and 7) move nothing: they stay under their parent, oldest first.
        let helpful = view(&reader, &format!("{base}?sorteer=nuttig")).await;
        assert_eq!(reaction_ids(&helpful.body), [b, a, a1, a11, a2, c, c1, d]);
        assert_eq!(current_sort(&helpful.body), "Meest nuttig");
        helpful.assert_contains("Sorteer:");
        helpful.assert_contains(&format!("<a href=\"/artikelen/{slug}#reacties\">Oudste eerst</a>"));
        helpful.assert_contains(&format!("<a href=\"/artikelen/{slug}?sorteer=nieuw#reacties\">Nieuwste eerst</a>"));
        helpful.assert_contains(&format!("<a href=\"/artikelen/{slug}?sorteer=nuttig#reacties\" aria-current=\"true\">Meest nuttig</a>"));
    }
}

db_test! {
    async fn pages_links_and_permalinks_keep_the_order(app) {
        let slug = open_site(&app, "Lange draad").await;
        let mut ids = Vec::new();
        for n in 0..55 {
            ids.push(post(&app, &slug, &format!("Lezer {n}"), None).await);
        }
        let reply = post(&app, &slug, "Antwoord", Some(ids[2])).await;
        let reader = app.other_browser();
        let base = format!("/artikelen/{slug}");

        let first = view(&reader, &format!("{base}?sorteer=nieuw")).await;
        let mut expected: Vec<i32> = ids[5..].iter().rev().copied().collect();
        assert_eq!(reaction_ids(&first.body), expected);
        first.assert_contains("Pagina 1 van 2").assert_lacks("rel=\"prev\"");
        first.assert_contains(&format!("<a rel=\"next\" href=\"/artikelen/{slug}?pagina=2&#38;sorteer=nieuw#reacties\">Oudere reacties</a>"));
        let newest = ids[54];
        first.assert_contains(&format!("href=\"/artikelen/{slug}?reactie={newest}&#38;sorteer=nieuw#reactie-{newest}\""));
        first.assert_contains(&format!("href=\"/artikelen/{slug}?antwoord={newest}&#38;sorteer=nieuw#reageren\""));
        assert_eq!(hidden_value(&first.body, "sorteer").as_deref(), Some("nieuw"), "the form carries the order");

        let second = view(&reader, &format!("{base}?pagina=2&sorteer=nieuw")).await;
        expected = vec![ids[4], ids[3], ids[2], reply, ids[1], ids[0]];
        assert_eq!(reaction_ids(&second.body), expected, "the reply stays under its parent");
        second.assert_contains("Pagina 2 van 2").assert_lacks("rel=\"next\"");
        second.assert_contains(&format!("<a rel=\"prev\" href=\"/artikelen/{slug}?sorteer=nieuw#reacties\">Nieuwere reacties</a>"));
        reader.get(&format!("{base}?pagina=3&sorteer=nieuw")).await.assert_status(StatusCode::NOT_FOUND);

        // ?reactie= opens the page that holds it in the order asked for.
        for (id, sort, page) in [(ids[0], "nieuw", 2), (reply, "nieuw", 2), (ids[54], "nieuw", 1), (ids[0], "oud", 1), (ids[54], "oud", 2)] {
            let found = view(&reader, &format!("{base}?reactie={id}&sorteer={sort}")).await;
            found.assert_contains(&format!("Pagina {page} van 2"));
            assert!(reaction_ids(&found.body).contains(&id), "{id} under {sort} on page {page}");
        }

        // The default order adds nothing to any address.
        let plain = view(&reader, &base).await;
        plain.assert_contains(&format!("<a rel=\"next\" href=\"/artikelen/{slug}?pagina=2#reacties\">Nieuwere reacties</a>"));
        plain.assert_contains(&format!("href=\"/artikelen/{slug}?reactie={}#reactie-{}\"", ids[0], ids[0]));
        assert!(!plain.body.contains("sorteer=oud"));
        assert_eq!(hidden_value(&plain.body, "sorteer"), None);

        // Most helpful, paged: the one vote lifts the newest reaction to the first page.
        set_helpful(&app, ids[54], 1).await;
        let helpful = view(&reader, &format!("{base}?reactie={}&sorteer=nuttig", ids[54])).await;
        helpful.assert_contains("Pagina 1 van 2");
        assert_eq!(reaction_ids(&helpful.body)[0], ids[54]);
        let last = view(&reader, &format!("{base}?pagina=2&sorteer=nuttig")).await;
        assert_eq!(reaction_ids(&last.body), ids[49..54].to_vec());
        last.assert_contains(&format!("<a rel=\"prev\" href=\"/artikelen/{slug}?sorteer=nuttig#reacties\">Vorige reacties</a>"));
    }
}

db_test! {
    async fn posting_from_a_sorted_thread_comes_back_to_it(app) {
        let slug = open_site(&app, "Terug naar de volgorde").await;
        post(&app, &slug, "Eerste", None).await;
        let poster = app.other_browser();
        let resp = poster.post_comment(&slug, &[("sorteer", "nuttig"), ("body", "Vanuit de nuttige volgorde.")]).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        let location = resp.location().to_owned();
        let (_, rest) = location.split_once("?reactie=").unwrap();
        let id: i32 = rest.split('&').next().unwrap().parse().unwrap();
        assert_eq!(location, format!("/artikelen/{slug}?reactie={id}&sorteer=nuttig#reactie-{id}"));
        let landed = view(&poster, &location).await;
        assert_eq!(current_sort(&landed.body), "Meest nuttig");
        landed.assert_contains("Vanuit de nuttige volgorde.");

        // A form sent back with an error keeps the order too.
        let again = poster.post_comment(&slug, &[("sorteer", "nieuw"), ("body", "")]).await;
        again.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(hidden_value(&again.body, "sorteer").as_deref(), Some("nieuw"));
        assert_eq!(current_sort(&again.body), "Nieuwste eerst");
        // Without an order, the address is the one it always was.
        let plain = poster.post_comment(&slug, &[("body", "Zonder volgorde.")]).await;
        assert!(!plain.location().contains("sorteer"), "{}", plain.location());
    }
}

db_test! {
    async fn every_order_shows_an_approval_at_once(app) {
        let slug = app.published_article("Vers").await;
        let first = app.approved_comment(&slug, &[("author_name", "Eerste"), ("body", "Eerste reactie.")]).await;
        let second = app.approved_comment(&slug, &[("author_name", "Tweede"), ("body", "Tweede reactie.")]).await;
        let reader = app.other_browser();
        let base = format!("/artikelen/{slug}");
        for sort in ["", "?sorteer=nieuw", "?sorteer=nuttig"] {
            view(&reader, &format!("{base}{sort}")).await;
            let again = view(&reader, &format!("{base}{sort}")).await;
            assert_eq!(again.header("server-timing"), "cache;desc=hit", "{sort} is kept");
        }
        assert_eq!(reaction_ids(&view(&reader, &format!("{base}?sorteer=nieuw")).await.body), [second, first], "each order is kept on its own");

        let third = app.comment(&slug, &[("author_name", "Derde"), ("body", "Derde reactie.")]).await;
        set_helpful(&app, second, 3).await;
        app.moderate(&[third], "approve", "").await;
        assert_eq!(reaction_ids(&view(&reader, &base).await.body), [first, second, third]);
        assert_eq!(reaction_ids(&view(&reader, &format!("{base}?sorteer=nieuw")).await.body), [third, second, first]);
        assert_eq!(reaction_ids(&view(&reader, &format!("{base}?sorteer=nuttig")).await.body), [second, first, third]);

        app.moderate(&[second], "delete", "").await;
        for sort in ["", "?sorteer=nieuw", "?sorteer=nuttig"] {
            let page = view(&reader, &format!("{base}{sort}")).await;
            assert!(!reaction_ids(&page.body).contains(&second), "{sort}: a deleted reaction goes from every order");
        }
    }
}
