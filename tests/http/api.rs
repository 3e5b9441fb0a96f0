//! The JSON API: every endpoint's success, errors, auth and pagination, the public view
//! that never carries e-mail or address hashes, CORS, the spec and the token CLI.

use kantlijn::{
    domain::validate::Role,
    store::{self, audit},
};
use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::db_test;

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;

#[track_caller]
fn assert_error(resp: &crate::helpers::Resp, json: &Value, status: StatusCode, code: &str) {
    resp.assert_status(status);
    assert!(
        resp.header("content-type").starts_with("application/json"),
        "JSON, not HTML: {}",
        resp.body
    );
    assert_eq!(json["error"], code, "{json}");
    assert!(
        json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{json}"
    );
}

/// Every object key at any depth.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                out.push(key.clone());
                keys(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

fn comment(body: &str) -> Value {
    json!({ "author_name": "Api Lezer", "author_email": "api@example.nl", "body": body })
}

db_test! {
    async fn articles_list_newest_first_with_a_cursor(app) {
        for n in 1..=5 {
            app.published_article(&format!("Artikel {n}")).await;
        }
        let (resp, page) = app.api(GET, "/api/v1/articles?limit=2", None, None).await;
        resp.assert_status(StatusCode::OK);
        let titles = |page: &Value| page["items"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(titles(&page), ["Artikel 5", "Artikel 4"]);
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let (_, page) = app.api(GET, &format!("/api/v1/articles?limit=2&cursor={cursor}"), None, None).await;
        assert_eq!(titles(&page), ["Artikel 3", "Artikel 2"]);
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let (_, page) = app.api(GET, &format!("/api/v1/articles?limit=2&cursor={cursor}"), None, None).await;
        assert_eq!(titles(&page), ["Artikel 1"]);
        assert!(page.get("next_cursor").is_none(), "the last page has no cursor");
        let (_, all) = app.api(GET, "/api/v1/articles?limit=100000", None, None).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 5, "an oversized limit is capped, not refused");
        let (resp, json) = app.api(GET, "/api/v1/articles?cursor=kapot", None, None).await;
        assert_error(&resp, &json, StatusCode::BAD_REQUEST, "bad_request");
    }
}

db_test! {
    async fn one_article_and_404_for_drafts_and_missing(app) {
        let slug = app.published_article("Het register").await;
        app.approved_comment(&slug, &[]).await;
        let (resp, article) = app.api(GET, &format!("/api/v1/articles/{slug}"), None, None).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(article["title"], "Het register");
        assert_eq!(article["status"], "published");
        assert_eq!(article["reaction_count"], 1);
        assert!(article["body_html"].as_str().unwrap().contains("<h2>Kop</h2>"));
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.create_article("Geheim concept", "draft").await;
        for path in ["/api/v1/articles/geheim-concept", "/api/v1/articles/bestaat-niet", "/api/v1/bestaat-niet"] {
            let (resp, json) = app.api(GET, path, None, None).await;
            assert_error(&resp, &json, StatusCode::NOT_FOUND, "not_found");
        }
    }
}

db_test! {
    async fn public_tree_nests_replies_and_never_holds_email_or_ip(app) {
        let slug = app.published_article("Boom").await;
        let parent = app.approved_comment(&slug, &[("author_email", "geheim@example.nl")]).await;
        let reply = app.approved_comment(&slug, &[("parent_id", &parent.to_string()), ("author_email", "ook-geheim@example.nl")]).await;
        let deep = app.approved_comment(&slug, &[("parent_id", &reply.to_string())]).await;
        app.comment(&slug, &[("body", "Nog in de wachtrij"), ("author_name", "Nieuwe Lezer"), ("author_email", "nieuw@example.nl")]).await;
        let gone = app.approved_comment(&slug, &[]).await;
        let orphan_reply = app.approved_comment(&slug, &[("parent_id", &gone.to_string())]).await;
        app.moderate(&[gone], "delete", "").await;

        let (resp, tree) = app.api(GET, &format!("/api/v1/articles/{slug}/comments"), None, None).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(tree["count"], 4);
        let top = tree["comments"].as_array().unwrap();
        assert_eq!(top.len(), 2, "{tree}");
        assert_eq!(top[0]["id"], parent);
        assert_eq!(top[0]["replies"][0]["id"], reply);
        assert_eq!(top[0]["replies"][0]["replies"][0]["id"], deep);
        assert_eq!(top[1]["id"], gone);
        assert_eq!(top[1]["deleted"], true);
        assert_eq!(top[1]["body_html"], "");
        assert_eq!(top[1]["replies"][0]["id"], orphan_reply);
        assert!(!resp.body.contains("Nog in de wachtrij"));

        let mut all = Vec::new();
        keys(&tree, &mut all);
        for key in &all {
            assert!(!key.contains("email") && !key.contains("ip"), "key {key} in the public tree");
        }
        assert!(!resp.body.contains("geheim@example.nl"));
        let spec = app.get("/api/v1/openapi.json").await.body;
        let spec: Value = serde_json::from_str(&spec).unwrap();
        let public = &spec["components"]["schemas"]["PublicComment"]["properties"];
        assert!(public.as_object().unwrap().keys().all(|k| !k.contains("email") && !k.contains("ip")));
    }
}

db_test! {
    async fn posting_through_the_api_runs_the_same_rules_and_log(app) {
        let slug = app.published_article("Via de API").await;
        let path = format!("/api/v1/articles/{slug}/comments");
        let (resp, created) = app.api(POST, &path, Some(comment("Eerste keer via de API.")), None).await;
        resp.assert_status(StatusCode::CREATED);
        assert_eq!(created["status"], "pending");
        let first = created["id"].as_i64().unwrap() as i32;
        let log = audit::for_comment(app.db.read(), first).await.unwrap();
        assert_eq!((log[0].actor.as_str(), log[0].reason.as_deref()), ("system", Some("first_reaction")));
        app.moderate(&[first], "approve", "").await;

        let (_, known) = app.api(POST, &path, Some(comment("Ik weer.")), None).await;
        assert_eq!(known["status"], "approved", "a returning approved author is approved directly");
        let (_, held) = app.api(POST, &path, Some(comment("Zie https://a.example en https://b.example")), None).await;
        assert_eq!(held["status"], "pending", "two links are held");
        let held_id = held["id"].as_i64().unwrap() as i32;
        assert_eq!(audit::for_comment(app.db.read(), held_id).await.unwrap()[0].reason.as_deref(), Some("links"));

        app.set_setting(store::settings::BLOCK_WORDS, "casino").await;
        let (_, spam) = app.api(POST, &path, Some(comment("Naar het casino")), None).await;
        assert_eq!(spam["status"], "pending", "spam is not announced");
        assert_eq!(app.stored(spam["id"].as_i64().unwrap() as i32).await.status.as_str(), "spam");

        let reply = json!({ "author_name": "Api Lezer", "author_email": "api@example.nl", "body": "Antwoord", "parent_id": first });
        let (resp, _) = app.api(POST, &path, Some(reply), None).await;
        resp.assert_status(StatusCode::CREATED);
    }
}

db_test! {
    async fn api_post_errors_are_json_with_codes(app) {
        let slug = app.published_article("Fouten via de API").await;
        let path = format!("/api/v1/articles/{slug}/comments");
        let bad = json!({ "author_name": "", "author_email": "geen-adres", "author_url": "javascript:x", "body": "" });
        let (resp, json) = app.api(POST, &path, Some(bad), None).await;
        assert_error(&resp, &json, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let fields: Vec<&str> = json["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
        for field in ["author_name", "author_email", "author_url", "body"] {
            assert!(fields.contains(&field), "{field} in {fields:?}");
        }
        // Every entry has a stable code and an English message, never the site's Dutch.
        let detail = |field: &str| json["details"].as_array().unwrap().iter().find(|d| d["field"] == field).unwrap().clone();
        assert_eq!(detail("author_email")["code"], "invalid_email");
        assert_eq!(detail("author_email")["message"], "Fill in a valid e-mail address, for example name@example.nl.");
        assert_eq!(detail("body")["code"], "required");
        assert_eq!(detail("author_url")["code"], "invalid_url");
        assert_eq!(detail("author_name")["code"], "invalid_length");
        // A well-formed reply to something that is not an approved reaction here clashes
        // with the thread (409): no spec can say which ids those are.
        let pending = app.comment(&slug, &[]).await;
        for parent in [json!(pending), json!(987_654)] {
            let reply = json!({ "author_name": "A", "author_email": "a@example.nl", "body": "x", "parent_id": parent });
            let (resp, json) = app.api(POST, &path, Some(reply), None).await;
            assert_error(&resp, &json, StatusCode::CONFLICT, "invalid_parent");
            assert_eq!(json["details"][0]["field"], "parent_id");
            assert_eq!(json["details"][0]["code"], "invalid_parent");
            assert_eq!(json["details"][0]["message"], "A reply can only answer a published reaction on this article.");
        }

        let (resp, json) = app.send_with(POST, &path, Some("{niet json".into()), &[("content-type", "application/json")]).await.pipe_json();
        assert_error(&resp, &json, StatusCode::BAD_REQUEST, "bad_request");
        let (resp, json) = app.api(POST, "/api/v1/articles/bestaat-niet/comments", Some(comment("x")), None).await;
        assert_error(&resp, &json, StatusCode::NOT_FOUND, "not_found");

        let article = store::articles::find_by_slug(app.db.read(), &slug).await.unwrap().unwrap();
        let editor_token = app.api_token(Role::Editor).await;
        let closed = json!({ "title": article.title, "body": "Tekst", "status": "published", "reactions_open": false });
        app.api(PUT, &format!("/api/v1/articles/{slug}"), Some(closed), Some(&editor_token)).await.0.assert_status(StatusCode::OK);
        let (resp, json) = app.api(POST, &path, Some(comment("x")), None).await;
        assert_error(&resp, &json, StatusCode::FORBIDDEN, "reactions_closed");
        let before = store::comments::count(app.db.read()).await.unwrap();
        assert_eq!(before, 1, "nothing but the one pending reaction was stored");
    }
}

db_test! {
    async fn staff_tokens_read_and_answer_drafts_like_staff_on_the_site(app) {
        let editor = app.api_token(Role::Editor).await;
        let draft = json!({ "title": "Nog niet af", "body": "Concept", "status": "draft" });
        let (resp, created) = app.api(POST, "/api/v1/articles", Some(draft), Some(&editor)).await;
        resp.assert_status(StatusCode::CREATED);
        assert_eq!(created["published_at"], Value::Null, "a draft has no publication date: {created}");
        let slug = created["slug"].as_str().unwrap().to_owned();
        let article = format!("/api/v1/articles/{slug}");
        let tree = format!("{article}/comments");

        let (resp, shown) = app.api(GET, &article, None, Some(&editor)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(shown["status"], "draft");
        let (resp, posted) = app.api(POST, &tree, Some(comment("Intern commentaar")), Some(&editor)).await;
        resp.assert_status(StatusCode::CREATED);
        assert_eq!(posted["status"], "approved", "staff reactions are approved, as on the site");
        let (resp, thread) = app.api(GET, &tree, None, Some(&editor)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(thread["comments"][0]["by_staff"], true, "{thread}");

        // Readers still see nothing, and the draft's tree never enters the shared cache.
        for (method, path, body) in [(GET, &article, None), (GET, &tree, None), (POST, &tree, Some(comment("Hallo?")))] {
            let (resp, json) = app.api(method, path, body, None).await;
            assert_error(&resp, &json, StatusCode::NOT_FOUND, "not_found");
        }
        let (resp, json) = app.api(GET, &article, None, Some("klt_verzonnen")).await;
        assert_error(&resp, &json, StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

db_test! {
    async fn every_cursor_the_spec_allows_is_a_position(app) {
        for n in 1..=3 {
            app.published_article(&format!("Stuk {n}")).await;
        }
        let token = app.api_token(Role::Admin).await;
        let cases = [
            ("/api/v1/articles?cursor=0.000000000_0", 0),
            ("/api/v1/articles?cursor=999999999999.999999999_9999999999", 3),
            ("/api/v1/articles?cursor=-999999999999.000000000_1", 0),
            ("/api/v1/moderation/queue?status=approved&cursor=9999999999", 0),
        ];
        for (path, count) in cases {
            let (resp, page) = app.api(GET, path, None, Some(&token)).await;
            resp.assert_status(StatusCode::OK);
            assert_eq!(page["items"].as_array().unwrap().len(), count, "{path}: {page}");
        }
        let slug = app.published_article("Boom met plaats").await;
        let (resp, _) = app.api(GET, &format!("/api/v1/articles/{slug}/comments?cursor=1.000000000_1"), None, None).await;
        resp.assert_status(StatusCode::OK);
        for path in ["/api/v1/articles?cursor=1.5_3", "/api/v1/moderation/queue?cursor=-1", "/api/v1/moderation/queue?cursor=%2B1"] {
            let (resp, json) = app.api(GET, path, None, Some(&token)).await;
            assert_error(&resp, &json, StatusCode::BAD_REQUEST, "bad_request");
        }
    }
}

db_test! {
    async fn fields_take_strings_only_and_a_title_without_letters_gets_a_slug(app) {
        let slug = app.published_article("Types").await;
        let path = format!("/api/v1/articles/{slug}/comments");
        let number = json!({ "author_name": 5, "author_email": "a@example.nl", "body": "x" });
        let (resp, json) = app.api(POST, &path, Some(number), None).await;
        assert_error(&resp, &json, StatusCode::BAD_REQUEST, "bad_request");
        let nulls = json!({ "author_name": "A", "author_email": "a@example.nl", "body": "x", "author_url": null, "parent_id": null });
        app.api(POST, &path, Some(nulls), None).await.0.assert_status(StatusCode::CREATED);

        let token = app.api_token(Role::Editor).await;
        let (resp, created) = app.api(POST, "/api/v1/articles", Some(json!({ "title": "?!", "body": "x", "status": "draft", "slug": null })), Some(&token)).await;
        resp.assert_status(StatusCode::CREATED);
        assert_eq!(created["slug"], "artikel");
    }
}

db_test! {
    async fn an_undeclared_method_gets_405_with_the_declared_ones(app) {
        let cases = [
            ("/api/v1/articles", "GET, POST, HEAD"),
            ("/api/v1/articles/iets", "GET, PUT, HEAD"),
            ("/api/v1/comments/3/moderation", "POST"),
        ];
        for (path, allow) in cases {
            let (resp, json) = app.send_with(Method::DELETE, path, None, &[]).await.pipe_json();
            assert_error(&resp, &json, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
            assert_eq!(resp.header("allow"), allow, "{path}");
        }
    }
}

trait PipeJson {
    fn pipe_json(self) -> (crate::helpers::Resp, Value);
}

impl PipeJson for crate::helpers::Resp {
    fn pipe_json(self) -> (crate::helpers::Resp, Value) {
        let json = serde_json::from_str(&self.body).unwrap_or(Value::Null);
        (self, json)
    }
}

db_test! {
    async fn staff_endpoints_need_a_token_with_the_right_role(app) {
        let slug = app.published_article("Staf").await;
        let id = app.comment(&slug, &[]).await;
        let queue = "/api/v1/moderation/queue";
        let decide = format!("/api/v1/comments/{id}/moderation");
        for token in [None, Some("klt_verzonnen")] {
            let (resp, json) = app.api(GET, queue, None, token).await;
            assert_error(&resp, &json, StatusCode::UNAUTHORIZED, "unauthorized");
            assert_eq!(resp.header("www-authenticate"), "Bearer");
        }
        let editor = app.api_token(Role::Editor).await;
        let (resp, json) = app.api(GET, queue, None, Some(&editor)).await;
        assert_error(&resp, &json, StatusCode::FORBIDDEN, "forbidden");
        let (resp, json) = app.api(POST, &decide, Some(json!({"action": "approve"})), Some(&editor)).await;
        assert_error(&resp, &json, StatusCode::FORBIDDEN, "forbidden");
        let new_article = json!({ "title": "Van een moderator", "body": "x", "status": "draft" });
        let moderator = app.api_token(Role::Moderator).await;
        let (resp, json) = app.api(POST, "/api/v1/articles", Some(new_article), Some(&moderator)).await;
        assert_error(&resp, &json, StatusCode::FORBIDDEN, "forbidden");

        let (resp, page) = app.api(GET, queue, None, Some(&moderator)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(page["items"][0]["id"], id);
        assert_eq!(page["items"][0]["author_email"], "lien@example.nl", "staff see the e-mail");
        assert_eq!(page["items"][0]["rule"], "first_reaction");
        let (resp, result) = app.api(POST, &decide, Some(json!({"action": "approve", "reason": "prima"})), Some(&moderator)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!(result, json!({"id": id, "status": "approved", "featured": false}));
        let log = audit::for_comment(app.db.read(), id).await.unwrap();
        let last = log.last().unwrap();
        assert_eq!((last.action.as_str(), last.reason.as_deref()), ("approve", Some("prima")));
        assert_ne!(last.actor, "system");
        let (resp, json) = app.api(POST, "/api/v1/comments/99999/moderation", Some(json!({"action": "spam"})), Some(&moderator)).await;
        assert_error(&resp, &json, StatusCode::NOT_FOUND, "not_found");
        let (resp, json) = app.api(POST, &decide, Some(json!({"action": "publiceren"})), Some(&moderator)).await;
        assert_error(&resp, &json, StatusCode::BAD_REQUEST, "bad_request");
        assert_eq!(app.stored(id).await.status.as_str(), "approved", "an unknown action changes nothing");
        let tokens = store::tokens::list(app.db.read()).await.unwrap();
        assert!(tokens.iter().any(|t| t.last_used_at.is_some()), "last use is recorded");
    }
}

db_test! {
    async fn moderation_queue_paginates(app) {
        let slug = app.published_article("Rij").await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(app.comment(&slug, &[]).await);
        }
        let token = app.api_token(Role::Admin).await;
        let (_, first) = app.api(GET, "/api/v1/moderation/queue?limit=3", None, Some(&token)).await;
        let got: Vec<i64> = first["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(got, ids[..3].iter().map(|&i| i64::from(i)).collect::<Vec<_>>(), "oldest first");
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let (_, second) = app.api(GET, &format!("/api/v1/moderation/queue?limit=3&cursor={cursor}"), None, Some(&token)).await;
        assert_eq!(second["items"].as_array().unwrap().len(), 2);
        assert!(second.get("next_cursor").is_none());
        let (_, approved) = app.api(GET, "/api/v1/moderation/queue?status=approved", None, Some(&token)).await;
        assert!(approved["items"].as_array().unwrap().is_empty());
        let (resp, json) = app.api(GET, "/api/v1/moderation/queue?status=kwijt", None, Some(&token)).await;
        assert_error(&resp, &json, StatusCode::BAD_REQUEST, "bad_request");
    }
}

db_test! {
    async fn editors_create_and_update_articles_through_the_api(app) {
        let token = app.api_token(Role::Editor).await;
        let input = json!({ "title": "Coöperatie via de API", "summary": "Kort", "body": "## Kop\n\n<script>x()</script>Tekst", "status": "published" });
        let (resp, created) = app.api(POST, "/api/v1/articles", Some(input.clone()), Some(&token)).await;
        resp.assert_status(StatusCode::CREATED);
        assert_eq!(created["slug"], "cooperatie-via-de-api");
        assert!(!created["body_html"].as_str().unwrap().contains("<script"));
        let (_, again) = app.api(POST, "/api/v1/articles", Some(input), Some(&token)).await;
        assert_eq!(again["slug"], "cooperatie-via-de-api-2");

        let update = json!({ "title": "Nieuwe titel", "body": "Nieuw", "status": "draft", "reactions_open": false });
        let (resp, updated) = app.api(PUT, "/api/v1/articles/cooperatie-via-de-api", Some(update), Some(&token)).await;
        resp.assert_status(StatusCode::OK);
        assert_eq!((updated["slug"].as_str(), updated["status"].as_str(), updated["reactions_open"].as_bool()), (Some("cooperatie-via-de-api"), Some("draft"), Some(false)));
        let (resp, _) = app.api(GET, "/api/v1/articles/cooperatie-via-de-api", None, None).await;
        resp.assert_status(StatusCode::NOT_FOUND);

        let (resp, json) = app.api(POST, "/api/v1/articles", Some(json!({ "title": " ", "body": "", "status": "draft" })), Some(&token)).await;
        assert_error(&resp, &json, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(json["details"].as_array().unwrap().len(), 2);
        let (resp, json) = app.api(PUT, "/api/v1/articles/bestaat-niet", Some(json!({ "title": "T", "body": "B", "status": "draft" })), Some(&token)).await;
        assert_error(&resp, &json, StatusCode::NOT_FOUND, "not_found");
    }
}

db_test! {
    async fn cors_allows_only_the_configured_origins(app) {
        let preflight = |origin: &'static str| {
            let app = &app;
            async move {
                app.send_with(Method::OPTIONS, "/api/v1/articles", None, &[("origin", origin), ("access-control-request-method", "GET")]).await
            }
        };
        let allowed = preflight("https://partner.example").await;
        allowed.assert_status(StatusCode::NO_CONTENT);
        assert_eq!(allowed.header("access-control-allow-origin"), "https://partner.example");
        assert!(allowed.header("access-control-allow-headers").contains("authorization"));
        let refused = preflight("https://evil.example").await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert_eq!(refused.header("access-control-allow-origin"), "");
        let json: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
        assert_eq!(json["error"], "cors_origin_not_allowed", "its own code, not the token's: {json}");
        let page = app.send_with(GET, "/", None, &[("origin", "https://partner.example")]).await;
        assert_eq!(page.header("access-control-allow-origin"), "", "HTML pages are not shared");

        // Reads and posts: the allowed origin gets the header; the site's own pages
        // (Swagger UI at /api/docs sends an Origin on its POSTs), clients without an
        // Origin and other origins are answered as if CORS were off, without the header.
        let slug = app.published_article("CORS en de eigen site").await;
        let path = format!("/api/v1/articles/{slug}/comments");
        let post = |headers: Vec<(&'static str, String)>| {
            let (app, path) = (&app, path.clone());
            async move {
                let mut all = vec![("content-type", "application/json".to_owned())];
                all.extend(headers);
                let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let body = json!({ "author_name": "Docs", "author_email": "docs@example.nl", "body": "Via de documentatie" });
                app.send_with(POST, &path, Some(body.to_string()), &all).await
            }
        };
        let own_origin = post(vec![("origin", "http://127.0.0.1:8080".into())]).await;
        own_origin.assert_status(StatusCode::CREATED);
        assert_eq!(own_origin.header("access-control-allow-origin"), "");
        let by_host = post(vec![("origin", "http://kantlijn.test:9000".into()), ("host", "kantlijn.test:9000".into())]).await;
        by_host.assert_status(StatusCode::CREATED);
        let default_port = post(vec![("origin", "https://kantlijn.test".into()), ("host", "kantlijn.test".into())]).await;
        default_port.assert_status(StatusCode::CREATED);
        post(vec![]).await.assert_status(StatusCode::CREATED);
        let partner = post(vec![("origin", "https://partner.example".into())]).await;
        partner.assert_status(StatusCode::CREATED);
        assert_eq!(partner.header("access-control-allow-origin"), "https://partner.example");
        let vary: Vec<_> = partner.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
        assert!(vary.iter().any(|v| v.contains("Origin")), "vary: {vary:?}");
        let other = post(vec![("origin", "https://evil.example".into())]).await;
        other.assert_status(StatusCode::CREATED);
        assert_eq!(other.header("access-control-allow-origin"), "", "the browser keeps the answer from that page");
        // A look-alike of the site's host on another port is another origin.
        let other_port = post(vec![("origin", "http://kantlijn.test:9001".into()), ("host", "kantlijn.test:9000".into())]).await;
        assert_eq!(other_port.header("access-control-allow-origin"), "");
        let (resp, json) = app.send_with(Method::OPTIONS, &path, None, &[("origin", "http://kantlijn.test:9001"), ("host", "kantlijn.test:9000"), ("access-control-request-method", "POST")]).await.pipe_json();
        assert_error(&resp, &json, StatusCode::FORBIDDEN, "cors_origin_not_allowed");
        // Errors carry the header too, so the partner's page can read them.
        let (resp, _) = app.send_with(GET, "/api/v1/articles/bestaat-niet", None, &[("origin", "https://partner.example")]).await.pipe_json();
        resp.assert_status(StatusCode::NOT_FOUND);
        assert_eq!(resp.header("access-control-allow-origin"), "https://partner.example");
    }
}

db_test! {
    async fn spec_is_valid_openapi_3_and_docs_are_served(app) {
        let resp = app.get("/api/v1/openapi.json").await;
        resp.assert_status(StatusCode::OK);
        let spec: openapiv3::OpenAPI = serde_json::from_str(&resp.body).expect("a parseable OpenAPI 3 document");
        assert!(spec.openapi.starts_with("3."));
        for path in ["/articles", "/articles/{slug}", "/articles/{slug}/comments", "/moderation/queue", "/comments/{id}/moderation"] {
            assert!(spec.paths.paths.contains_key(path), "{path} in the spec");
        }
        let components = spec.components.expect("components");
        assert!(components.security_schemes.contains_key("BearerToken"));
        for schema in ["ErrorBody", "NewComment", "PublicComment", "CommentTree", "QueueComment"] {
            assert!(components.schemas.contains_key(schema), "{schema}");
        }
        // The rules the server checks are in the spec, and what may be null says so.
        let raw: Value = serde_json::from_str(&resp.body).unwrap();
        let schemas = &raw["components"]["schemas"];
        let new_comment = &schemas["NewComment"]["properties"];
        assert_eq!(new_comment["author_name"]["pattern"], kantlijn::domain::validate::AuthorName::PATTERN);
        assert_eq!(new_comment["body"]["allOf"][0]["pattern"], kantlijn::domain::validate::CommentBody::LENGTH);
        assert_eq!(new_comment["author_url"]["nullable"], true);
        assert_eq!(schemas["ArticleInput"]["properties"]["body"]["maxLength"], 50_000);
        for (schema, field) in [("Article", "published_at"), ("ArticleSummary", "published_at"), ("PublicComment", "created_at"), ("QueueComment", "author_url")] {
            assert_eq!(schemas[schema]["properties"][field]["nullable"], true, "{schema}.{field}");
        }
        // Each operation lists the statuses it can answer, and no others.
        let statuses = |path: &str, method: &str| -> Vec<String> {
            raw["paths"][path][method]["responses"].as_object().unwrap().keys().cloned().collect()
        };
        for (path, method) in [("/articles", "get"), ("/articles", "post"), ("/articles/{slug}", "get"), ("/articles/{slug}", "put"), ("/articles/{slug}/comments", "get"), ("/articles/{slug}/comments", "post"), ("/moderation/queue", "get"), ("/comments/{id}/moderation", "post")] {
            let listed = statuses(path, method);
            for status in ["413", "415", "429", "500", "503"] {
                assert!(listed.iter().any(|s| s == status), "{method} {path} lists {status}: {listed:?}");
            }
        }
        assert_eq!(statuses("/articles", "get"), ["200", "400", "413", "415", "429", "500", "503"]);
        assert!(!statuses("/articles/{slug}", "get").contains(&"422".to_owned()));
        assert!(statuses("/articles/{slug}/comments", "get").contains(&"304".to_owned()));
        let unavailable = &raw["paths"]["/articles"]["get"]["responses"]["503"];
        assert!(unavailable["headers"].as_object().is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("retry-after"))), "{unavailable}");
        let docs = app.get("/api/docs").await;
        docs.assert_status(StatusCode::OK).assert_contains("SwaggerUIBundle");
        let csp = docs.header("content-security-policy");
        assert!(csp.contains("'sha256-") && !csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    }
}

db_test! {
    async fn admins_create_list_and_revoke_tokens(app) {
        app.login_as(Role::Admin).await;
        app.create_user("bot", Role::Moderator).await;
        let resp = app.post_form("/beheer/tokens", &[("username", "bot"), ("label", "Nachtelijke opschoning")]).await;
        resp.assert_status(StatusCode::CREATED).assert_contains("wordt maar één keer getoond");
        let document = scraper::Html::parse_document(&resp.body);
        let token = document
            .select(&scraper::Selector::parse(".notice pre code").unwrap())
            .next()
            .unwrap()
            .text()
            .collect::<String>();
        assert!(token.starts_with("klt_"));
        app.api(GET, "/api/v1/moderation/queue", None, Some(&token)).await.0.assert_status(StatusCode::OK);
        let list = app.get("/beheer/tokens").await;
        list.assert_contains("Nachtelijke opschoning").assert_contains("bot").assert_lacks(&token).assert_lacks("nog nooit");
        app.post_form("/beheer/tokens", &[("username", "niemand"), ("label", "")])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Kies een bestaande gebruiker");
        let id = store::tokens::list(app.db.read()).await.unwrap()[0].id;
        app.post_form(&format!("/beheer/tokens/{id}/intrekken"), &[]).await.assert_redirect("/beheer/tokens");
        app.api(GET, "/api/v1/moderation/queue", None, Some(&token)).await.0.assert_status(StatusCode::UNAUTHORIZED);
        let editor = app.other_browser();
        editor.login_as(Role::Editor).await;
        editor.get("/beheer/tokens").await.assert_status(StatusCode::FORBIDDEN);
    }
}

/// The CLI end to end on a fresh SQLite file: `user add --password-stdin`, then
/// `token create`, whose last line is a token that works.
#[tokio::test]
async fn cli_creates_a_user_from_stdin_and_a_token_alone_on_the_last_line() {
    use std::{
        io::Write,
        process::{Command, Stdio},
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());
    let binary = env!("CARGO_BIN_EXE_kantlijn");
    let mut add = Command::new(binary)
        .args([
            "user",
            "add",
            "anna",
            "--role",
            "editor",
            "--password-stdin",
            "--database-url",
            &url,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"een lang wachtwoord\n")
        .unwrap();
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("anna (editor)"));

    let short = Command::new(binary)
        .args([
            "user",
            "add",
            "bert",
            "--role",
            "editor",
            "--password-stdin",
            "--database-url",
            &url,
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let out = short.wait_with_output().unwrap();
    assert!(!out.status.success(), "an empty password is refused");

    let out = Command::new(binary)
        .args([
            "token",
            "create",
            "anna",
            "--label",
            "CI",
            "--database-url",
            &url,
        ])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap();
    assert!(
        token.starts_with("klt_") && !token.contains(' '),
        "{stdout}"
    );

    let db = store::Db::connect(&url).await.unwrap();
    let user = store::tokens::use_token(
        &db,
        &kantlijn::security::token_hash(token),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(user.unwrap().username, "anna");
    let hash = store::users::find_by_username(db.read(), "anna")
        .await
        .unwrap()
        .unwrap()
        .password_hash;
    assert!(kantlijn::security::verify_password(
        "een lang wachtwoord",
        &hash
    ));
}
