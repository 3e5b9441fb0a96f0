//! Many writers at once, the way a shared article brings them: nobody gets an error
//! because somebody else was writing, and nothing acknowledged goes missing.

use std::collections::HashSet;

use kantlijn::{domain::validate::Role, store};
use poem::http::{Method, StatusCode};
use serde_json::json;

use crate::{
    db_test,
    helpers::{Server, comment_id},
    limits::save_settings,
};

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
        // Meanwhile a moderator logs in (a session write) and approves what arrived, and
        // an admin changes the settings and makes API tokens.
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        let token = app.api_token(Role::Moderator).await;
        for round in 0..10 {
            let words = if round % 2 == 0 { "casino" } else { "loterij" };
            save_settings(&admin, &[("block_words", words)])
                .await
                .assert_redirect("/beheer/instellingen?opgeslagen=1");
            let label = format!("ronde {round}");
            admin
                .post_form("/beheer/tokens", &[("username", "moderator-test"), ("label", &label)])
                .await
                .assert_status(StatusCode::CREATED);
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

/// The CLI beside a serving process that is busy writing: `user add` and `token create`
/// wait for the write lock instead of failing, and no poster gets an error meanwhile.
#[test]
fn cli_commands_wait_for_a_server_busy_writing() {
    use std::{
        sync::{
            Arc,
            atomic::{AtomicBool, Ordering},
        },
        time::{Duration, Instant},
    };

    let server = Arc::new(Server::start(&[]));
    let url = server.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let cli = |args: &[&str], stdin: &str| {
        let args = [args, &["--database-url", &url]].concat();
        crate::helpers::kantlijn(dir.path(), &args, &[], stdin)
    };
    let out = cli(
        &[
            "user",
            "add",
            "redactie",
            "--role",
            "editor",
            "--password-stdin",
        ],
        "een lang wachtwoord\n",
    );
    out.ok();
    let out = cli(&["token", "create", "redactie", "--label", "storm"], "");
    let token = out.ok().lines().last().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let article = r#"{"title":"Storm","body":"Tekst.","status":"published","reactions_open":true}"#;
    let (status, response) = server.request(
        "POST",
        "/api/v1/articles",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        article.as_bytes(),
    );
    assert_eq!(status, 201, "{response}");
    let slug = response
        .split("\"slug\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let posters: Vec<_> = (0..6)
        .map(|poster| {
            let (server, stop, slug) = (Arc::clone(&server), Arc::clone(&stop), slug.clone());
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = format!(r#"{{"author_name":"Lezer {poster}","author_email":"l{poster}-{n}@example.nl","body":"Reactie {n}."}}"#);
                    let (status, _) = server.request("POST", &format!("/api/v1/articles/{slug}/comments"), &[("Content-Type", "application/json")], body.as_bytes());
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    for n in 0..3 {
        let name = format!("beheer{n}");
        let out = cli(
            &[
                "user",
                "add",
                &name,
                "--role",
                "moderator",
                "--password-stdin",
            ],
            "een lang wachtwoord\n",
        );
        out.ok();
        cli(&["token", "create", &name, "--label", "storm"], "").ok();
    }
    let cli_seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let statuses: Vec<u16> = posters
        .into_iter()
        .flat_map(|p| p.join().unwrap())
        .collect();
    let accepted = statuses.iter().filter(|&&s| s == 201).count();
    eprintln!(
        "{} posts during 6 CLI commands ({cli_seconds:.1} s), {accepted} answered 201",
        statuses.len()
    );
    assert!(
        statuses.iter().all(|&s| s == 201),
        "non-201 answers: {:?}",
        statuses.iter().filter(|&&s| s != 201).collect::<Vec<_>>()
    );
    assert!(accepted > 50, "the storm was a storm: {accepted} posts");
}
