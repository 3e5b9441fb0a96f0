//! What the tests that storm the real binary with writes share (`faults`, `instances`):
//! the posters' tally and the check that every acknowledged reaction was stored
//! (`#[path]` module).

use std::{
    collections::{BTreeMap, BTreeSet},
    thread,
    time::Instant,
};

use kantlijn::{entity::comments, store};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

/// What the posters saw: every answer's status, when it came, and the reactions the
/// server acknowledged (id and the body that was sent).
#[derive(Default)]
pub struct Tally {
    pub answers: Vec<(Instant, u16)>,
    pub acknowledged: BTreeMap<i32, String>,
}

/// Every poster's tally in one, answers in time order.
pub fn gather(writers: Vec<thread::JoinHandle<Tally>>) -> Tally {
    let mut all = Tally::default();
    for writer in writers {
        let tally = writer.join().unwrap();
        all.answers.extend(tally.answers);
        all.acknowledged.extend(tally.acknowledged);
    }
    all.answers.sort_by_key(|(at, _)| *at);
    all
}

/// Checks every acknowledged reaction against the database, prints the counts.
pub async fn assert_all_found(url: &str, label: &str, tally: &Tally) {
    let db = store::connect(url).await.unwrap();
    let ids: Vec<i32> = tally.acknowledged.keys().copied().collect();
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i32, String)> = comments::Entity::find()
            .select_only()
            .columns([comments::Column::Id, comments::Column::BodyMd])
            .filter(comments::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&db)
            .await
            .unwrap();
        found.extend(rows);
    }
    let stored = comments::Entity::find()
        .filter(comments::Column::BodyMd.starts_with("Storm "))
        .count(&db)
        .await
        .unwrap();
    db.close().await.ok();
    let statuses: BTreeSet<u16> = tally.answers.iter().map(|(_, s)| *s).collect();
    println!(
        "{label}: {} requests (statuses {statuses:?}), acknowledged {}, found {} of them; \
         {stored} storm reactions stored in all",
        tally.answers.len(),
        tally.acknowledged.len(),
        found.len(),
    );
    assert!(
        !tally.acknowledged.is_empty(),
        "{label}: nothing was acknowledged"
    );
    for (id, body) in &tally.acknowledged {
        assert_eq!(
            found.get(id),
            Some(body),
            "{label}: acknowledged reaction {id} is lost"
        );
    }
}
