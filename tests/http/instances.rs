//! Several instances on one PostgreSQL: what one of them changes shows through the
//! others on their next request, although each keeps its own rendered pages. (The same
//! with real processes behind nginx, and with limits shared through Redis, is
//! `tests/instances/run`.)

use std::time::{Duration, Instant};

use poem::http::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::{Resp, TestApp};

/// How long another instance may take to hear a change; it is heard within a
/// millisecond or two, this only keeps a loaded machine from failing the test.
const HEARD_WITHIN: Duration = Duration::from_secs(2);

/// GETs `path` through `app` until `seen` holds: how many GETs that took, and how long.
async fn until(app: &TestApp, path: &str, seen: impl Fn(&Resp) -> bool) -> (u32, Duration) {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let resp = app.get(path).await;
        if seen(&resp) {
            return (tries, started.elapsed());
        }
        assert!(
            started.elapsed() < HEARD_WITHIN,
            "{path} still not changed after {HEARD_WITHIN:?}:\n{}",
            resp.body
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_through_one_instance_shows_through_the_other() {
    let Some(one) = TestApp::spawn_postgres().await else {
        return;
    };
    let other = one.another_instance().await;
    let slug = one.published_article("Twee deuren, één huis").await;
    let page = format!("/artikelen/{slug}");
    let id = one
        .comment(&slug, &[("body", "Via de eerste deur binnengekomen.")])
        .await;
    // The other instance renders and keeps the page without the reaction...
    other
        .get(&page)
        .await
        .assert_status(StatusCode::OK)
        .assert_lacks("Via de eerste deur");
    other.get("/").await.assert_status(StatusCode::OK);
    // ...until it is approved through the first.
    one.moderate(&[id], "approve", "").await;
    let (tries, waited) = until(&other, &page, |r| r.body.contains("Via de eerste deur")).await;
    eprintln!("the approval showed through the other instance on GET {tries} ({waited:?})");
    // And the other way round, with a change the site's lists show.
    let (tries, waited) = until(&one, "/reacties", |r| r.body.contains("Via de eerste deur")).await;
    eprintln!("/reacties through the first instance on GET {tries} ({waited:?})");
    other
        .moderate(&[id], "reject", "Buiten het onderwerp")
        .await;
    let (tries, waited) = until(&one, &page, |r| !r.body.contains("Via de eerste deur")).await;
    eprintln!(
        "the rejection through the second showed through the first on GET {tries} ({waited:?})"
    );
}

/// A change made while an instance could not hear the others (its listening connection
/// was cut) still shows through it once it listens again: it takes everything it kept
/// as stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_missed_while_not_listening_shows_after_the_reconnect() {
    let Some(one) = TestApp::spawn_postgres().await else {
        return;
    };
    let other = one.another_instance().await;
    let slug = one.published_article("Even niet opgelet").await;
    let page = format!("/artikelen/{slug}");
    let id = one
        .comment(&slug, &[("body", "Gemist door de ander.")])
        .await;
    other.get(&page).await.assert_lacks("Gemist door de ander");
    // Cut every listening connection on this database, then approve.
    let cut = one
        .db
        .read()
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        ))
        .await
        .unwrap();
    assert_eq!(cut.len(), 2, "both instances listen");
    one.moderate(&[id], "approve", "").await;
    let (tries, waited) = until(&other, &page, |r| r.body.contains("Gemist door de ander")).await;
    eprintln!("a change made while the listener was cut showed on GET {tries} ({waited:?})");
}
