//! The article page as a crowd reads it: served from memory, changed by every write
//! that changes what readers see before that write answers, in pages of 50 top-level
//! reactions, with ETags and gzip.

use std::io::Read;

use kantlijn::{domain::validate::Role, store};
use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::{
    db_test,
    helpers::{Resp, TestApp, hidden_value},
};

/// A reader's view of the article, asserting it came from the page cache when `cached`.
async fn view(reader: &TestApp, slug: &str, cached: Option<bool>) -> Resp {
    let page = reader.get(&format!("/artikelen/{slug}")).await;
    page.assert_status(StatusCode::OK);
    if let Some(cached) = cached {
        let timing = page.header("server-timing");
        assert_eq!(
            timing == "cache;desc=hit",
            cached,
            "server-timing: {timing}"
        );
    }
    page
}

db_test! {
    async fn every_change_readers_can_see_shows_on_the_very_next_view(app) {
        let slug = app.published_article("Het Lerarenportfolio").await;
        let reader = app.other_browser();
        view(&reader, &slug, Some(false)).await;
        view(&reader, &slug, Some(true)).await;

        // A held reaction changes nothing for others, so the page stays cached.
        let poster = app.other_browser();
        let id = poster.comment(&slug, &[("body", "Een eerste, *eerlijke* reactie.")]).await;
        view(&reader, &slug, Some(true)).await.assert_lacks(&format!("reactie-{id}\""));
        let marker = format!("id=\"reactie-{id}\"");

        for (action, shown) in [("approve", true), ("reject", false), ("approve", true), ("spam", false), ("approve", true), ("delete", false)] {
            view(&reader, &slug, Some(true)).await;
            app.moderate(&[id], action, "").await;
            let page = view(&reader, &slug, Some(false)).await;
            assert_eq!(page.body.contains(&marker), shown, "after {action}");
        }

        // The poster edits and then deletes their own (approved) reaction.
        let own = poster.comment(&slug, &[("author_name", "Bas"), ("author_email", "bas@example.nl"), ("body", "Versie een.")]).await;
        app.moderate(&[own], "approve", "").await;
        view(&reader, &slug, Some(false)).await.assert_contains("Versie een.");
        view(&reader, &slug, Some(true)).await;
        poster
            .post_form(&format!("/artikelen/{slug}/reacties/{own}/bewerken"), &[("body", "Versie twee.")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        view(&reader, &slug, Some(false)).await.assert_contains("Versie twee.").assert_lacks("Versie een.");
        view(&reader, &slug, Some(true)).await;
        poster
            .post_form(&format!("/artikelen/{slug}/reacties/{own}/verwijderen"), &[])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        view(&reader, &slug, Some(false)).await.assert_lacks("Versie twee.");

        // An editor changes the article.
        view(&reader, &slug, Some(true)).await;
        let article = store::articles::find_by_slug(app.db.read(), &slug).await.unwrap().unwrap();
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor
            .post_form(
                &format!("/beheer/artikelen/{}/bewerken", article.id),
                &[("title", "Het Lerarenportfolio, bijgewerkt"), ("slug", &slug), ("summary", ""), ("body", "Nieuwe tekst."), ("status", "published"), ("reactions_open", "on")],
            )
            .await
            .assert_status(StatusCode::SEE_OTHER);
        view(&reader, &slug, Some(false)).await.assert_contains("Het Lerarenportfolio, bijgewerkt").assert_contains("Nieuwe tekst.");

        // And unpublishes it: gone for readers at once.
        editor
            .post_form(
                &format!("/beheer/artikelen/{}/bewerken", article.id),
                &[("title", "Het Lerarenportfolio, bijgewerkt"), ("slug", &slug), ("summary", ""), ("body", "Nieuwe tekst."), ("status", "draft")],
            )
            .await
            .assert_status(StatusCode::SEE_OTHER);
        reader.get(&format!("/artikelen/{slug}")).await.assert_status(StatusCode::NOT_FOUND);
    }
}

db_test! {
    async fn a_poster_sees_their_waiting_reaction_while_others_get_the_cached_page(app) {
        let slug = app.published_article("Wachtrij").await;
        let reader = app.other_browser();
        view(&reader, &slug, Some(false)).await;
        let poster = app.other_browser();
        let id = poster.comment(&slug, &[("body", "Nog niet gemodereerd.")]).await;
        let own = poster.get(&format!("/artikelen/{slug}?reactie={id}")).await;
        own.assert_status(StatusCode::OK)
            .assert_contains(&format!("id=\"reactie-{id}\""))
            .assert_contains("Je reactie wacht op moderatie")
            .assert_contains("Bewerken of verwijderen");
        assert_eq!(own.header("cache-control"), "private, no-store", "a personal page is never stored");
        view(&reader, &slug, Some(true)).await.assert_lacks("Nog niet gemodereerd.");
        // Spam looks like waiting to its poster too.
        app.moderate(&[id], "spam", "").await;
        poster.get(&format!("/artikelen/{slug}")).await.assert_contains("Je reactie wacht op moderatie");
        view(&reader, &slug, None).await.assert_lacks("Nog niet gemodereerd.");
    }
}

/// Posts `count` top-level reactions through the API (every one published at once).
async fn post_many(app: &TestApp, slug: &str, count: usize) -> Vec<i32> {
    let mut ids = Vec::new();
    for n in 0..count {
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
    ids
}

fn reaction_ids(html: &str) -> Vec<i32> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("li.reaction").unwrap();
    document
        .select(&selector)
        .filter_map(|li| li.value().id()?.strip_prefix("reactie-")?.parse().ok())
        .collect()
}

db_test! {
    async fn long_threads_come_in_pages_of_fifty_top_level_reactions(app) {
        app.set_setting(store::settings::MODERATION_MODE, "publish_all").await;
        let slug = app.published_article("Een lange draad").await;
        let ids = post_many(&app, &slug, 120).await;
        let reply = app.comment(&slug, &[("parent_id", &ids[75].to_string()), ("body", "Een antwoord op 75.")]).await;
        let reader = app.other_browser();

        let first = view(&reader, &slug, None).await;
        assert_eq!(reaction_ids(&first.body), ids[..50].to_vec());
        first.assert_contains("121 reacties").assert_contains("Pagina 1 van 3").assert_lacks("rel=\"prev\"");
        first.assert_contains(&format!("<a rel=\"next\" href=\"/artikelen/{slug}?pagina=2#reacties\">Nieuwere reacties</a>"));

        let second = reader.get(&format!("/artikelen/{slug}?pagina=2")).await;
        second.assert_status(StatusCode::OK);
        let mut expected = ids[50..100].to_vec();
        expected.insert(26, reply);
        assert_eq!(reaction_ids(&second.body), expected, "a reply sits under its parent, on its page");
        second.assert_contains(&format!("<a rel=\"prev\" href=\"/artikelen/{slug}#reacties\">Oudere reacties</a>"));
        second.assert_contains(&format!("<a rel=\"next\" href=\"/artikelen/{slug}?pagina=3#reacties\">"));

        let third = reader.get(&format!("/artikelen/{slug}?pagina=3")).await;
        assert_eq!(reaction_ids(&third.body), ids[100..].to_vec());
        third.assert_lacks("rel=\"next\"");

        for missing in ["4", "0", "-1", "twee", ""] {
            reader.get(&format!("/artikelen/{slug}?pagina={missing}")).await.assert_status(StatusCode::NOT_FOUND);
        }
        // ?reactie= opens the page that holds it, for a top-level reaction and a reply.
        for (id, page) in [(ids[3], 1), (ids[60], 2), (reply, 2), (ids[119], 3)] {
            let found = reader.get(&format!("/artikelen/{slug}?reactie={id}")).await;
            found.assert_status(StatusCode::OK).assert_contains(&format!("Pagina {page} van 3"));
            assert!(reaction_ids(&found.body).contains(&id), "reaction {id} on page {page}");
        }
        // The poster lands on the page of the reaction they just posted.
        let poster = app.other_browser();
        let resp = poster.post_comment(&slug, &[("author_name", "Nieuw"), ("body", "De laatste.")]).await;
        let landed = poster.get(resp.location()).await;
        landed.assert_contains("Pagina 3 van 3").assert_contains("De laatste.");

        // The API pages the same way, by cursor.
        let mut roots = Vec::new();
        let mut path = format!("/api/v1/articles/{slug}/comments?limit=50");
        let mut answers = 0;
        loop {
            let (resp, tree) = reader.api(Method::GET, &path, None, None).await;
            resp.assert_status(StatusCode::OK);
            answers += 1;
            assert_eq!(tree["count"], 122);
            roots.extend(tree["comments"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap() as i32));
            match tree["next_cursor"].as_str() {
                Some(cursor) => path = format!("/api/v1/articles/{slug}/comments?limit=50&cursor={cursor}"),
                None => break,
            }
        }
        assert_eq!(answers, 3);
        assert_eq!(roots.len(), 121);
        assert_eq!(roots[..120], ids[..]);
        let (resp, _) = reader.api(Method::GET, &format!("/api/v1/articles/{slug}/comments?cursor=onzin"), None, None).await;
        resp.assert_status(StatusCode::BAD_REQUEST);
    }
}

db_test! {
    async fn an_unchanged_page_answers_304_to_its_etag(app) {
        let slug = app.published_article("Etags").await;
        let reader = app.other_browser();
        let first = view(&reader, &slug, None).await;
        let etag = first.header("etag").to_owned();
        assert!(etag.starts_with("W/\""), "{etag}");
        let again = reader.send_with(Method::GET, &format!("/artikelen/{slug}"), None, &[("if-none-match", &etag)]).await;
        again.assert_status(StatusCode::NOT_MODIFIED);
        assert!(again.bytes.is_empty());
        assert_eq!(again.header("etag"), etag);

        // Another browser has another CSRF token in its forms, so another ETag.
        let other = view(&app.other_browser(), &slug, None).await;
        assert_ne!(other.header("etag"), etag);

        // A change readers see gives a new ETag.
        let id = app.approved_comment(&slug, &[]).await;
        let changed = reader.send_with(Method::GET, &format!("/artikelen/{slug}"), None, &[("if-none-match", &etag)]).await;
        changed.assert_status(StatusCode::OK).assert_contains(&format!("id=\"reactie-{id}\""));
        assert_ne!(changed.header("etag"), etag);
    }
}

db_test! {
    async fn a_gzip_page_unpacks_to_the_same_page_with_working_tokens(app) {
        let slug = app.published_article("Ingepakt").await;
        app.approved_comment(&slug, &[]).await;
        let reader = app.other_browser();
        let plain = view(&reader, &slug, None).await;
        let packed = reader.send_with(Method::GET, &format!("/artikelen/{slug}"), None, &[("accept-encoding", "gzip, deflate, br")]).await;
        packed.assert_status(StatusCode::OK);
        assert_eq!(packed.header("content-encoding"), "gzip");
        assert!(packed.header("vary").contains("Accept-Encoding"));
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(&packed.bytes[..]).read_to_string(&mut unpacked).expect("valid gzip");
        assert!(packed.bytes.len() < unpacked.len(), "{} bytes for {}", packed.bytes.len(), unpacked.len());
        // The same page; only the form's served-at token is fresh per response.
        let token = |html: &str| hidden_value(html, "form_token").unwrap();
        assert_eq!(unpacked.replace(&token(&unpacked), "T"), plain.body.replace(&token(&plain.body), "T"));
        assert_eq!(hidden_value(&unpacked, "csrf_token"), hidden_value(&plain.body, "csrf_token"));
        assert!(app.state.keys.verify(&token(&unpacked)).is_some(), "a signed form token");
        // And its tokens work: a reaction posted from the unpacked form is taken.
        let csrf = hidden_value(&unpacked, "csrf_token").unwrap();
        let form_token = app.form_token(10);
        let resp = reader
            .post_raw(
                &format!("/artikelen/{slug}/reacties"),
                &[("csrf_token", &csrf), ("form_token", &form_token), ("author_name", "Gzip"), ("author_email", "gzip@example.nl"), ("body", "Uit de ingepakte pagina.")],
            )
            .await;
        resp.assert_status(StatusCode::SEE_OTHER);
    }
}

db_test! {
    async fn the_api_tree_comes_from_memory_until_it_changes(app) {
        let slug = app.published_article("Boom").await;
        let first = app.approved_comment(&slug, &[]).await;
        let reader = app.other_browser();
        let path = format!("/api/v1/articles/{slug}/comments");
        let (resp, tree) = reader.api(Method::GET, &path, None, None).await;
        resp.assert_status(StatusCode::OK);
        assert!(resp.header("server-timing").starts_with("render;dur="));
        assert_eq!(tree["comments"][0]["id"], first);
        let (again, _) = reader.api(Method::GET, &path, None, None).await;
        assert_eq!(again.header("server-timing"), "cache;desc=hit");
        let etag = again.header("etag").to_owned();
        let unchanged = reader.send_with(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
        unchanged.assert_status(StatusCode::NOT_MODIFIED);

        let second = app.approved_comment(&slug, &[("author_name", "Tweede"), ("author_email", "tweede@example.nl")]).await;
        let (resp, tree) = reader.api(Method::GET, &path, None, None).await;
        assert!(resp.header("server-timing").starts_with("render;dur="), "a change retires the cached tree");
        assert_eq!(tree["count"], 2);
        assert_eq!(tree["comments"][1]["id"], second);
        let changed = reader.send_with(Method::GET, &path, None, &[("if-none-match", &etag)]).await;
        changed.assert_status(StatusCode::OK);
    }
}

db_test! {
    /// WCAG 2.5.3 (label in name): a voice-control user says what they see. The permalink
    /// of a reaction shows its time ("zojuist"); its accessible name starts with that
    /// text, and no link or button on the page has an `aria-label` that leaves out the
    /// text it shows.
    async fn links_are_named_by_what_they_show(app) {
        let slug = app.published_article("Zichtbare namen").await;
        let id = app.approved_comment(&slug, &[]).await;
        let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
        let html = scraper::Html::parse_document(&page.body);
        let text_of = |element: scraper::ElementRef| -> String {
            element.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let permalink = scraper::Selector::parse(&format!("#reactie-{id} a.permalink")).unwrap();
        let link = html.select(&permalink).next().expect("a permalink");
        let name = text_of(link);
        let time = scraper::Selector::parse("time").unwrap();
        let shown = text_of(link.select(&time).next().unwrap());
        assert!(name.starts_with(&shown) && name.contains("link naar deze reactie"), "{name:?}");
        assert!(link.value().attr("aria-label").is_none());

        let labelled = scraper::Selector::parse("a[aria-label], button[aria-label]").unwrap();
        for element in html.select(&labelled) {
            let label = element.value().attr("aria-label").unwrap().to_lowercase();
            let visible = text_of(element).to_lowercase();
            assert!(label.contains(&visible), "aria-label {label:?} leaves out {visible:?}");
        }
    }
}

db_test! {
    /// The templates' indentation is not sent (`askama.toml`: `whitespace = "minimize"`):
    /// every reaction used to bring lines of nothing but spaces, where a tag printed
    /// nothing, and a long thread's page is a twentieth smaller without them.
    async fn pages_carry_no_lines_of_indentation_only(app) {
        let slug = app.published_article("Zonder witregels").await;
        for body in ["Een eerste reactie.", "Een tweede, met\n\ntwee alinea's."] {
            app.approved_comment(&slug, &[("body", body)]).await;
        }
        for path in ["/".to_owned(), format!("/artikelen/{slug}"), "/reacties".to_owned()] {
            let page = app.other_browser().get(&path).await;
            page.assert_status(StatusCode::OK);
            let blank = page.body.lines().filter(|line| line.len() >= 2 && line.trim().is_empty()).count();
            assert_eq!(blank, 0, "{path}: {blank} lines of spaces only");
        }
    }
}
