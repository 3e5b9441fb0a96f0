//! A PostgreSQL database of a test's own on the test server
//! (`KANTLIJN_TEST_POSTGRES_URL`), for every test crate (`#[path]` module).

use kantlijn::store;
use sea_orm::ConnectionTrait;

/// A database of its own on the test PostgreSQL server (`kantlijn_{purpose}_{pid}`):
/// the admin URL and its own; dropped by the caller.
pub async fn postgres_database(purpose: &str) -> Option<(String, String)> {
    let Ok(admin) = std::env::var("KANTLIJN_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("KANTLIJN_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "KANTLIJN_REQUIRE_POSTGRES=1 but KANTLIJN_TEST_POSTGRES_URL is unset"
        );
        eprintln!("skipped: KANTLIJN_TEST_POSTGRES_URL is unset");
        return None;
    };
    let name = format!("kantlijn_{purpose}_{}", std::process::id());
    let db = store::connect(&admin).await.unwrap();
    db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
    db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    db.close().await.ok();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&name);
    Some((admin, url.to_string()))
}

/// Drops a database that [`postgres_database`] made.
pub async fn drop_database(admin: &str, url: &str) {
    let name = url::Url::parse(url)
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    if let Ok(db) = store::connect(admin).await {
        let _ = db
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
        db.close().await.ok();
    }
}
