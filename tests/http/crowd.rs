//! Many writers at once, the way a shared article brings them: nobody gets an error
//! because somebody else was writing, and nothing acknowledged goes missing.

use std::collections::HashSet;

use kantlijn::{domain::validate::Role, store};
use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::{db_test, helpers::comment_id};

const POSTERS: usize = 16;
const POSTS_EACH: usize = 15;

db_test! {
    async fn sixteen_concurrent_posters_all_succeed_and_every_reaction_is_stored(app) {
        let slug = app.published_article("Druk bezocht").await;
        let mut tasks = Vec::new();
        for poster in 0..POSTERS {
            let browser = app.other_browser();
            let slug = slug.clone();
            // Half post through the API, half through the form (with its CSRF token and
            // edit-key cookie); the form posters alternate between new reactions.
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..POSTS_EACH {
                    let name = format!("Lezer {poster}");
                    let email = format!("lezer{poster}-{n}@example.nl");
                    let body = format!("Reactie {n} van lezer {poster}.");
                    if poster % 2 == 0 {
                        let (resp, json) = browser
                            .api(
                                Method::POST,
                                &format!("/api/v1/articles/{slug}/comments"),
                                Some(json!({"author_name": name, "author_email": email, "body": body})),
                                None,
                            )
                            .await;
                        assert_eq!(resp.status, StatusCode::CREATED, "poster {poster}, post {n}: {}", resp.body);
                        ids.push((json["id"].as_i64().unwrap() as i32, body));
                    } else {
                        let resp = browser
                            .post_comment(&slug, &[("author_name", &name), ("author_email", &email), ("body", &body)])
                            .await;
                        assert_eq!(resp.status, StatusCode::SEE_OTHER, "poster {poster}, post {n}: {}", resp.body);
                        ids.push((comment_id(resp.location()), body));
                    }
                }
                ids
            }));
        }
        // Meanwhile a moderator logs in (a session write) and approves what arrived.
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        let token = app.api_token(Role::Moderator).await;
        for _ in 0..10 {
            let (resp, queue) = moderator
                .api(Method::GET, "/api/v1/moderation/queue?limit=5", None, Some(&token))
                .await;
            resp.assert_status(StatusCode::OK);
            for item in queue["items"].as_array().unwrap() {
                let id = item["id"].as_i64().unwrap();
                let (resp, _) = moderator
                    .api(Method::POST, &format!("/api/v1/comments/{id}/moderation"), Some(json!({"action": "approve"})), Some(&token))
                    .await;
                resp.assert_status(StatusCode::OK);
            }
            tokio::task::yield_now().await;
        }

        let mut acknowledged = Vec::new();
        for task in tasks {
            acknowledged.extend(task.await.expect("a poster panicked"));
        }
        let unique: HashSet<i32> = acknowledged.iter().map(|(id, _)| *id).collect();
        assert_eq!(unique.len(), POSTERS * POSTS_EACH, "every post got an id of its own");
        let stored = store::comments::count(app.db.read()).await.unwrap();
        eprintln!("acknowledged {}, stored {stored}", acknowledged.len());
        assert_eq!(stored as usize, acknowledged.len());
        for (id, body) in &acknowledged {
            assert_eq!(&app.stored(*id).await.body_md, body, "reaction {id}");
        }
    }
}
