//! "Nuttig" votes: one per browser and per address per reaction, toggled on the page,
//! idempotent in the API, only on approved reactions of published articles, rate
//! limited, and never saying who voted.

use chrono::{Duration, Utc};
use kantlijn::{
    config::RateLimitMode, domain::retention::Retention, entity::comment_votes, retention,
};
use poem::http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::Value;

use crate::{
    db_test,
    helpers::{Resp, TEST_PEER, TestApp},
};

fn vote_path(slug: &str, id: i32) -> String {
    format!("/artikelen/{slug}/reacties/{id}/nuttig")
}

/// Presses "Nuttig" without JavaScript (the shared form's post), from `address` through
/// the trusted proxy.
async fn press(app: &TestApp, slug: &str, id: i32, address: &str) -> Resp {
    press_with(app, slug, id, address, &[], &[]).await
}

async fn press_with(
    app: &TestApp,
    slug: &str,
    id: i32,
    address: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Resp {
    let token = app.csrf_token().await;
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    let mut sent = vec![(TEST_PEER, "127.0.0.1"), ("x-forwarded-for", address)];
    sent.extend_from_slice(headers);
    app.send_with(
        Method::POST,
        &vote_path(slug, id),
        Some(serde_html_form::to_string(&all).unwrap()),
        &sent,
    )
    .await
}

/// Presses "Nuttig" the way the page's script does, and reads its JSON answer.
async fn press_json(app: &TestApp, slug: &str, id: i32, address: &str) -> (Resp, Value) {
    let resp = press_with(
        app,
        slug,
        id,
        address,
        &[],
        &[("accept", "application/json")],
    )
    .await;
    let json = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
    (resp, json)
}

/// The API's vote (`POST`) or withdrawal (`DELETE`) from `address`.
async fn api_vote(app: &TestApp, method: Method, id: i32, address: &str) -> (Resp, Value) {
    let resp = app
        .send_with(
            method,
            &format!("/api/v1/comments/{id}/vote"),
            None,
            &[(TEST_PEER, "127.0.0.1"), ("x-forwarded-for", address)],
        )
        .await;
    let json = serde_json::from_str(&resp.body).unwrap_or(Value::Null);
    (resp, json)
}

async fn votes_on(app: &TestApp, id: i32) -> Vec<comment_votes::Model> {
    comment_votes::Entity::find()
        .filter(comment_votes::Column::CommentId.eq(id))
        .all(app.db.read())
        .await
        .unwrap()
}

/// The count the reaction keeps, which the page and the API show.
async fn count(app: &TestApp, id: i32) -> i32 {
    app.stored(id).await.helpful_count
}

/// An approved reaction by someone else (posted in another browser).
async fn reaction_by_other(app: &TestApp, slug: &str) -> i32 {
    app.other_browser()
        .approved_comment(
            slug,
            &[("author_name", "Ria"), ("body", "Een nuttige reactie.")],
        )
        .await
}

db_test! {
    async fn a_second_vote_from_the_same_browser_takes_the_first_back(app) {
        let slug = app.published_article("Nuttig of niet").await;
        let id = reaction_by_other(&app, &slug).await;
        let resp = press(&app, &slug, id, "198.51.100.1").await;
        resp.assert_redirect(&format!("/artikelen/{slug}?reactie={id}#reactie-{id}"));
        assert!(resp.header("set-cookie").contains("kantlijn_stem="), "the first vote gives the browser its vote id");
        assert!(resp.header("set-cookie").contains("HttpOnly"));
        assert!(resp.header("set-cookie").contains("SameSite=Lax"));
        assert_eq!(count(&app, id).await, 1);
        let stored = votes_on(&app, id).await;
        let cookie = app.cookie("kantlijn_stem").unwrap();
        let voter = stored[0].voter.clone().unwrap();
        assert_eq!(voter.len(), 64, "a keyed hash is stored");
        assert!(!cookie.contains(&voter), "not the cookie's id itself");

        // The same browser from another address: still this browser's vote, taken back.
        press(&app, &slug, id, "198.51.100.2").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, id).await, 0);
        assert!(votes_on(&app, id).await.is_empty());
        press(&app, &slug, id, "198.51.100.2").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, id).await, 1, "and given again");
    }
}

db_test! {
    async fn a_second_browser_on_the_same_address_toggles_instead_of_adding(app) {
        let slug = app.published_article("Een adres").await;
        let id = reaction_by_other(&app, &slug).await;
        let first = app.other_browser();
        let second = app.other_browser();
        press(&first, &slug, id, "203.0.113.7").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, id).await, 1);
        press(&second, &slug, id, "203.0.113.7").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, id).await, 0, "one vote per address: the second browser takes it back");
        press(&second, &slug, id, "203.0.113.8").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, id).await, 1);
    }
}

db_test! {
    async fn fifty_votes_from_fifty_addresses_show_fifty(app) {
        let slug = app.published_article("Vijftig lezers").await;
        let id = reaction_by_other(&app, &slug).await;
        for n in 1..=50 {
            let reader = app.other_browser();
            let (resp, json) = press_json(&reader, &slug, id, &format!("198.51.100.{n}")).await;
            resp.assert_status(StatusCode::OK);
            assert_eq!(json, serde_json::json!({"helpful_count": n, "voted": true}));
        }
        assert_eq!(count(&app, id).await, 50);
        assert_eq!(votes_on(&app, id).await.len(), 50);
        let reader = app.other_browser();
        reader.get(&format!("/artikelen/{slug}")).await.assert_status(StatusCode::OK).assert_contains(&format!(
            "name=\"reactie\" value=\"{id}\">Nuttig <span>50</span></button>"
        ));
        let (_, tree) = reader.api(Method::GET, &format!("/api/v1/articles/{slug}/comments"), None, None).await;
        assert_eq!(tree["comments"][0]["helpful_count"], 50);
    }
}

db_test! {
    async fn the_page_has_one_shared_form_and_shows_a_vote_at_once(app) {
        let slug = app.published_article("Gedeeld formulier").await;
        let ids = [reaction_by_other(&app, &slug).await, reaction_by_other(&app, &slug).await];
        let reader = app.other_browser();
        let page = reader.get(&format!("/artikelen/{slug}")).await;
        assert_eq!(page.body.matches(&format!("<form id=\"nuttig\" method=\"post\" action=\"/artikelen/{slug}/nuttig\">")).count(), 1);
        assert_eq!(page.body.matches("form=\"nuttig\"").count(), 2, "one button per reaction");
        assert_eq!(page.body.matches("name=\"csrf_token\"").count(), 2, "the vote form's token and the reaction form's");
        for id in ids {
            page.assert_contains(&format!("name=\"reactie\" value=\"{id}\">Nuttig <span>0</span>"));
        }
        // The page comes from the cache now; the vote must not leave it stale.
        reader.get(&format!("/artikelen/{slug}")).await.assert_contains("Nuttig <span>0</span>");
        press(&reader, &slug, ids[1], "198.51.100.9").await.assert_status(StatusCode::SEE_OTHER);
        let after = reader.get(&format!("/artikelen/{slug}")).await;
        after.assert_contains(&format!("value=\"{}\">Nuttig <span>1</span>", ids[1]));
        after.assert_contains(&format!("value=\"{}\">Nuttig <span>0</span>", ids[0]));
    }
}

db_test! {
    async fn the_pages_shared_form_votes_for_the_pressed_reaction(app) {
        let slug = app.published_article("Gedeeld formulier").await;
        let ids = [reaction_by_other(&app, &slug).await, reaction_by_other(&app, &slug).await];
        let reader = app.other_browser();
        let page = reader.get(&format!("/artikelen/{slug}?sorteer=nieuw")).await;
        page.assert_contains("<input type=\"hidden\" name=\"sorteer\" value=\"nieuw\">");
        let csrf = crate::helpers::hidden_value(&page.body, "csrf_token").unwrap();
        let id = ids[1].to_string();
        let pressed = [("csrf_token", csrf.as_str()), ("sorteer", "nieuw"), ("reactie", id.as_str())];
        reader
            .post_raw(&format!("/artikelen/{slug}/nuttig"), &pressed)
            .await
            .assert_redirect(&format!("/artikelen/{slug}?reactie={id}&sorteer=nieuw#reactie-{id}"));
        assert_eq!((count(&app, ids[0]).await, count(&app, ids[1]).await), (0, 1));
        // Pressed again: taken back. A missing or foreign reaction is not found.
        reader.post_raw(&format!("/artikelen/{slug}/nuttig"), &pressed).await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, ids[1]).await, 0);
        for bad in ["", "x", "999999", "-1"] {
            let fields = [("csrf_token", csrf.as_str()), ("reactie", bad)];
            reader.post_raw(&format!("/artikelen/{slug}/nuttig"), &fields).await.assert_status(StatusCode::NOT_FOUND);
        }
        let other = app.published_article("Ander artikel").await;
        let fields = [("csrf_token", csrf.as_str()), ("reactie", id.as_str())];
        reader.post_raw(&format!("/artikelen/{other}/nuttig"), &fields).await.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(count(&app, ids[1]).await, 0);
    }
}

db_test! {
    async fn the_script_gets_json_and_the_form_returns_to_the_reaction_in_its_order(app) {
        let slug = app.published_article("Voor het script").await;
        let id = reaction_by_other(&app, &slug).await;
        let (resp, json) = press_json(&app, &slug, id, "198.51.100.3").await;
        resp.assert_status(StatusCode::OK);
        assert!(resp.header("content-type").starts_with("application/json"));
        assert_eq!(json, serde_json::json!({"helpful_count": 1, "voted": true}));
        let (_, json) = press_json(&app, &slug, id, "198.51.100.3").await;
        assert_eq!(json, serde_json::json!({"helpful_count": 0, "voted": false}));
        press_with(&app, &slug, id, "198.51.100.3", &[("sorteer", "nuttig")], &[])
            .await
            .assert_redirect(&format!("/artikelen/{slug}?reactie={id}&sorteer=nuttig#reactie-{id}"));
        press_with(&app, &slug, id, "198.51.100.3", &[("sorteer", "<script>")], &[])
            .await
            .assert_redirect(&format!("/artikelen/{slug}?reactie={id}#reactie-{id}"));
    }
}

db_test! {
    async fn a_vote_without_the_csrf_token_is_refused(app) {
        let slug = app.published_article("Zonder token").await;
        let id = reaction_by_other(&app, &slug).await;
        app.post_raw(&vote_path(&slug, id), &[]).await.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(count(&app, id).await, 0);
    }
}

db_test! {
    async fn only_approved_reactions_of_published_articles_take_votes(app) {
        let slug = app.published_article("Alleen goedgekeurd").await;
        let other_slug = app.published_article("Een ander artikel").await;
        let poster = app.other_browser();
        let pending = poster.comment(&slug, &[("body", "Wacht nog.")]).await;
        let rejected = poster.comment(&slug, &[("body", "Afgewezen.")]).await;
        app.moderate(&[rejected], "reject", "").await;
        let deleted = poster.approved_comment(&slug, &[("body", "Verwijderd.")]).await;
        app.moderate(&[deleted], "delete", "").await;
        let spam = poster.comment(&slug, &[("body", "Spam.")]).await;
        app.moderate(&[spam], "spam", "").await;
        let elsewhere = reaction_by_other(&app, &other_slug).await;
        for (id, what) in [(pending, "pending"), (rejected, "rejected"), (deleted, "deleted"), (spam, "spam"), (elsewhere, "another article's"), (999_999, "unknown")] {
            let resp = press(&app, &slug, id, "198.51.100.4").await;
            resp.assert_status(StatusCode::NOT_FOUND);
            resp.assert_contains("Deze pagina bestaat niet");
            let (resp, json) = api_vote(&app, Method::POST, id, "198.51.100.4").await;
            if id != elsewhere {
                assert_eq!(resp.status, StatusCode::NOT_FOUND, "{what}: {}", resp.body);
                assert_eq!(json["error"], "not_found", "{what}");
            }
            assert!(votes_on(&app, id).await.iter().all(|v| v.ip_hash.is_some() && id == elsewhere), "{what}");
        }
        assert!(votes_on(&app, pending).await.is_empty());
        // A draft's reactions take none either, and neither does an article made a draft.
        let draft = app.other_browser();
        draft.login_as(kantlijn::domain::validate::Role::Editor).await;
        let edit = draft.create_article("Een concept", "draft").await;
        let draft_id: i32 = edit.trim_start_matches("/beheer/artikelen/").trim_end_matches("/bewerken").parse().unwrap();
        let draft_slug = kantlijn::store::articles::find_by_id(app.db.read(), draft_id).await.unwrap().unwrap().slug;
        let staff_reaction = draft.comment(&draft_slug, &[("body", "Van de redactie.")]).await;
        press(&app, &draft_slug, staff_reaction, "198.51.100.4").await.assert_status(StatusCode::NOT_FOUND);
        let (resp, _) = api_vote(&app, Method::POST, staff_reaction, "198.51.100.4").await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND);
        assert!(votes_on(&app, staff_reaction).await.is_empty());
    }
}

db_test! {
    async fn a_reader_cannot_mark_their_own_reaction_helpful(app) {
        let slug = app.published_article("Eigen reactie").await;
        let own = app.comment(&slug, &[("body", "Mijn eigen reactie.")]).await;
        app.moderate(&[own], "approve", "").await;
        let resp = press(&app, &slug, own, "198.51.100.5").await;
        resp.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        resp.assert_contains("Je kunt je eigen reactie niet als nuttig markeren.");
        let (resp, json) = api_vote(&app, Method::POST, own, "198.51.100.5").await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", resp.body);
        assert_eq!(json["error"], "own_reaction");
        assert!(votes_on(&app, own).await.is_empty());
        // Anyone else may.
        press(&app.other_browser(), &slug, own, "198.51.100.6").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(count(&app, own).await, 1);
    }
}

db_test! {
    async fn the_api_votes_once_and_takes_back_by_cookie_or_address(app) {
        let slug = app.published_article("Via de API").await;
        let id = reaction_by_other(&app, &slug).await;
        for _ in 0..2 {
            let (resp, json) = api_vote(&app, Method::POST, id, "198.51.100.10").await;
            assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
            assert_eq!(json, serde_json::json!({"helpful_count": 1, "voted": true}), "voting twice changes nothing");
        }
        assert_eq!(votes_on(&app, id).await[0].voter, None, "no cookie: the address alone");
        for _ in 0..2 {
            let (resp, json) = api_vote(&app, Method::DELETE, id, "198.51.100.10").await;
            assert_eq!(resp.status, StatusCode::OK);
            assert_eq!(json, serde_json::json!({"helpful_count": 0, "voted": false}));
        }
        // A browser that voted on the page is the same voter in the API, from anywhere.
        press(&app, &slug, id, "198.51.100.11").await.assert_status(StatusCode::SEE_OTHER);
        let (_, json) = api_vote(&app, Method::POST, id, "198.51.100.12").await;
        assert_eq!(json, serde_json::json!({"helpful_count": 1, "voted": true}));
        let (_, json) = api_vote(&app, Method::DELETE, id, "198.51.100.12").await;
        assert_eq!(json, serde_json::json!({"helpful_count": 0, "voted": false}));
        // Nothing in the API names a voter.
        let (_, tree) = app.api(Method::GET, &format!("/api/v1/articles/{slug}/comments"), None, None).await;
        assert!(!tree.to_string().contains("voter"), "{tree}");
    }
}

db_test! {
    async fn votes_are_rate_limited_on_the_page_and_in_the_api(app) {
        let slug = app.published_article("Te snel gestemd").await;
        let id = reaction_by_other(&app, &slug).await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        for n in 0..20 {
            press(&limited, &slug, id, "203.0.113.20").await.assert_status(StatusCode::SEE_OTHER);
            assert_eq!(count(&app, id).await, (n + 1) % 2);
        }
        let resp = press(&limited, &slug, id, "203.0.113.20").await;
        resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
        assert!(resp.header("retry-after").parse::<u64>().is_ok());
        assert_eq!(count(&app, id).await, 0, "the limited vote was not counted");
        for _ in 0..20 {
            let (resp, _) = api_vote(&limited, Method::POST, id, "203.0.113.21").await;
            assert_eq!(resp.status, StatusCode::OK);
        }
        let (resp, json) = api_vote(&limited, Method::DELETE, id, "203.0.113.21").await;
        assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS, "a withdrawal counts too");
        assert_eq!(json["error"], "rate_limited");
        // Another address is not affected.
        press(&limited, &slug, id, "203.0.113.22").await.assert_status(StatusCode::SEE_OTHER);
    }
}

db_test! {
    async fn the_vote_limit_is_a_setting_like_the_others(app) {
        let slug = app.published_article("Instelbaar").await;
        let id = reaction_by_other(&app, &slug).await;
        let limited = app.with_rate_limits(RateLimitMode::On).await;
        let admin = limited.other_browser();
        admin.login_as(kantlijn::domain::validate::Role::Admin).await;
        admin.get("/beheer/instellingen").await.assert_contains("Reactie als nuttig markeren (site en API)").assert_contains("name=\"vote_burst\" value=\"20\"");
        crate::limits::save_settings(&admin, &[("vote_burst", "2"), ("vote_per_minute", "1")]).await.assert_status(StatusCode::SEE_OTHER);
        for _ in 0..2 {
            press(&limited, &slug, id, "203.0.113.30").await.assert_status(StatusCode::SEE_OTHER);
        }
        press(&limited, &slug, id, "203.0.113.30").await.assert_status(StatusCode::TOO_MANY_REQUESTS);
    }
}

const CROWD: usize = 40;

db_test! {
    async fn many_concurrent_voters_are_counted_once_each(app) {
        let slug = app.published_article("Druk gestemd").await;
        let id = reaction_by_other(&app, &slug).await;
        let mut tasks = Vec::new();
        for n in 0..CROWD {
            let reader = app.other_browser();
            let slug = slug.clone();
            // Each reader votes on the page and, at once, twice through the API (from the
            // same address): one vote each, however the requests interleave.
            tasks.push(tokio::spawn(async move {
                let address = format!("198.51.{}.{}", 100 + n / 200, n % 200 + 1);
                let (page, api, again) = tokio::join!(
                    press_json(&reader, &slug, id, &address),
                    api_vote(&reader, Method::POST, id, &address),
                    api_vote(&reader, Method::POST, id, &address),
                );
                assert_eq!(page.0.status, StatusCode::OK, "{}", page.0.body);
                assert_eq!(api.0.status, StatusCode::OK, "{}", api.0.body);
                assert_eq!(again.0.status, StatusCode::OK, "{}", again.0.body);
                reader
            }));
        }
        let mut readers = Vec::new();
        for task in tasks {
            readers.push(task.await.unwrap());
        }
        // A toggle racing the API's vote may have taken it back; whatever each reader
        // ended with is one vote or none, never two.
        let votes = votes_on(&app, id).await;
        let mut addresses: Vec<_> = votes.iter().map(|v| v.ip_hash.clone()).collect();
        addresses.sort();
        addresses.dedup();
        assert_eq!(addresses.len(), votes.len(), "at most one vote per address");
        assert_eq!(count(&app, id).await as usize, votes.len(), "the count is the votes");
        // Now everyone votes once more through the API: exactly one vote each.
        let mut tasks = Vec::new();
        for (n, reader) in readers.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let address = format!("198.51.{}.{}", 100 + n / 200, n % 200 + 1);
                let (resp, _) = api_vote(&reader, Method::POST, id, &address).await;
                assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(votes_on(&app, id).await.len(), CROWD);
        assert_eq!(count(&app, id).await as usize, CROWD);
    }
}

db_test! {
    async fn retention_clears_old_vote_addresses_and_a_removed_reaction_takes_its_votes(app) {
        let slug = app.published_article("Bewaartermijn").await;
        let id = reaction_by_other(&app, &slug).await;
        let gone = reaction_by_other(&app, &slug).await;
        press(&app.other_browser(), &slug, id, "198.51.100.30").await.assert_status(StatusCode::SEE_OTHER);
        press(&app.other_browser(), &slug, id, "198.51.100.31").await.assert_status(StatusCode::SEE_OTHER);
        press(&app.other_browser(), &slug, gone, "198.51.100.32").await.assert_status(StatusCode::SEE_OTHER);
        let old = votes_on(&app, id).await[0].id;
        comment_votes::Entity::update_many()
            .col_expr(comment_votes::Column::CreatedAt, Expr::value(Utc::now() - Duration::days(40)))
            .filter(comment_votes::Column::Id.eq(old))
            .exec(app.db.write())
            .await
            .unwrap();
        // A reaction marked spam after its votes, left unhandled: retention removes it.
        app.moderate(&[gone], "spam", "").await;
        kantlijn::entity::comments::Entity::update_many()
            .col_expr(kantlijn::entity::comments::Column::UpdatedAt, Expr::value(Utc::now() - Duration::days(40)))
            .filter(kantlijn::entity::comments::Column::Id.eq(gone))
            .exec(app.db.write())
            .await
            .unwrap();

        let report = retention::run(&app.db, Retention::default(), Utc::now()).await.unwrap();
        assert_eq!(report.vote_address_hashes_cleared, 1);
        assert_eq!(report.reactions_removed, 1);
        let votes = votes_on(&app, id).await;
        assert_eq!(votes.len(), 2, "the votes stay");
        let cleared = votes.iter().find(|v| v.id == old).unwrap();
        assert_eq!(cleared.ip_hash, None);
        assert!(cleared.voter.is_some(), "still one per browser");
        assert!(votes.iter().find(|v| v.id != old).unwrap().ip_hash.is_some(), "a young vote keeps its address");
        assert!(votes_on(&app, gone).await.is_empty(), "a removed reaction's votes go with it");
        let again = retention::run(&app.db, Retention::default(), Utc::now()).await.unwrap();
        assert_eq!(again.vote_address_hashes_cleared, 0, "idempotent");
    }
}
