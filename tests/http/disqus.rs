//! `kantlijn import disqus` as a site owner runs it on the site's own database: Disqus
//! threads attach to the article their page names or become drafts, posts become
//! reactions in their threads and states, a second run adds nothing, a file that is no
//! Disqus export is refused, and a cut-off file keeps what came before it.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use kantlijn::{
    domain::states::{ArticleStatus, CommentStatus, LogAction},
    entity::{comments, import_sources, moderation_log},
    store,
};
use poem::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::{
    db_test,
    helpers::{Ran, TestApp, kantlijn},
};

/// The source the fixture's forum gives.
const SOURCE: &str = "disqus onderwijs-example";
/// The article the fixture's first thread links to.
const MATCHED: &str = "lerarenregister-wordt-lerarenportfolio";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disqus/export.xml")
}

fn import(app: &TestApp, dir: &Path, file: &Path) -> Ran {
    let file = file.to_str().unwrap();
    kantlijn(
        dir,
        &["import", "disqus", file, "--database-url", &app.url],
        &[],
        "",
    )
}

/// The local reaction of each Disqus post imported.
async fn imported(app: &TestApp) -> HashMap<String, i32> {
    import_sources::Entity::find()
        .filter(import_sources::Column::Source.eq(SOURCE))
        .filter(import_sources::Column::Kind.eq("comment"))
        .all(app.db.read())
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.source_id, row.local_id))
        .collect()
}

async fn reaction_count(app: &TestApp) -> u64 {
    comments::Entity::find().count(app.db.read()).await.unwrap()
}

/// Asserts `fragments` in `text`, each on a line of its own.
#[track_caller]
fn assert_lines(text: &str, fragments: &[&str]) {
    for fragment in fragments {
        assert!(
            text.lines().any(|line| line.contains(fragment)),
            "{fragment:?} in:\n{text}"
        );
    }
}

db_test! {
    async fn an_export_attaches_to_its_article_and_drafts_the_other_threads(app) {
        let slug = app.published_article("Lerarenregister wordt lerarenportfolio").await;
        assert_eq!(slug, MATCHED);
        let dir = tempfile::tempdir().unwrap();
        let ran = import(&app, dir.path(), &fixture());
        assert_lines(ran.ok(), &[
            "articles: 2 added (2 draft), 1 already there",
            "reactions: 12 added (1 pending, 9 approved, 1 spam, 1 deleted), 0 already there",
            "skipped: 1 posts of a thread that is not in the file",
            "skipped: 1 Disqus threads without posts",
        ]);
        let ids = imported(&app).await;
        assert_eq!(ids.len(), 12, "{ids:?}");
        assert!(!ids.contains_key("3013"), "its thread is not in the file");
        let id = |disqus: &str| ids[disqus];

        // The matched article shows the approved posts, each reply under its parent.
        let page = app.get(&format!("/artikelen/{MATCHED}")).await;
        page.assert_status(StatusCode::OK);
        let html = scraper::Html::parse_document(&page.body);
        let found = |selector: &str| {
            let selector = scraper::Selector::parse(selector).unwrap();
            html.select(&selector).count()
        };
        for post in ["3001", "3002", "3003", "3004", "3011", "3005"] {
            assert_eq!(found(&format!("li#reactie-{}", id(post))), 1, "post {post}");
        }
        let replies = [("3001", "3002"), ("3002", "3003"), ("3003", "3004"), ("3011", "3005")];
        for (parent, reply) in replies {
            let (parent_id, reply_id) = (id(parent), id(reply));
            let nested = format!("li#reactie-{parent_id} > ol.thread > li#reactie-{reply_id}");
            assert_eq!(found(&nested), 1, "{reply} under {parent}");
        }
        let deep = format!(
            "li#reactie-{} li#reactie-{} li#reactie-{} li#reactie-{}",
            id("3001"), id("3002"), id("3003"), id("3004")
        );
        assert_eq!(found(&deep), 1, "four levels deep");
        for hidden in ["3006", "3007", "3008"] {
            assert_eq!(found(&format!("#reactie-{}", id(hidden))), 0, "post {hidden}");
        }
        page.assert_contains("Chloë de Vries")
            .assert_contains("Γιώργος Παπαδόπουλος")
            .assert_lacks("Naïma El Amrani")
            .assert_contains("ines_k")
            .assert_contains("Eindelijk duidelijkheid")
            .assert_lacks("zonnebrillen")
            .assert_lacks("Zonnebrillen Outlet")
            .assert_lacks("Ik had me vergist");

        // The other threads with posts are drafts that say where they came from.
        let new = "werkdruk-in-het-primair-onderwijs";
        let draft = store::articles::find_by_slug(app.db.read(), new)
            .await.unwrap().expect("a draft for the new thread");
        assert_eq!(draft.status, ArticleStatus::Draft);
        assert_eq!(draft.title, "Werkdruk in het primair onderwijs");
        assert!(!draft.reactions_open, "the Disqus thread was closed");
        let note = format!("oorspronkelijke pagina: <https://onderwijs.example.nl/artikelen/{new}/");
        assert!(draft.body_md.contains(&note), "{}", draft.body_md);
        app.get(&format!("/artikelen/{new}")).await.assert_lacks("Bij ons op school");
        let reply = app.stored(id("3010")).await;
        assert_eq!(reply.article_id, draft.id);
        assert_eq!(reply.parent_id, Some(id("3009")));
        let deleted_thread = store::articles::find_by_slug(app.db.read(), "oud-bericht-over-de-cao")
            .await.unwrap().expect("a draft for the deleted thread");
        assert_eq!(deleted_thread.status, ArticleStatus::Draft);
        assert_eq!(app.stored(id("3012")).await.article_id, deleted_thread.id);
        assert!(store::articles::find_by_slug(app.db.read(), "over-ons").await.unwrap().is_none());

        // States, authors and dates as Disqus had them.
        let spam = app.stored(id("3006")).await;
        assert_eq!(spam.status, CommentStatus::Spam);
        assert_eq!(app.stored(id("3007")).await.status, CommentStatus::Deleted);
        assert_eq!(app.stored(id("3008")).await.status, CommentStatus::Pending);
        let anonymous = app.stored(id("3002")).await;
        assert_eq!((anonymous.author_name.as_str(), anonymous.author_email.as_str()), ("Gast", ""));
        assert_eq!(anonymous.parent_id, Some(id("3001")));
        let first = app.stored(id("3001")).await;
        assert_eq!(first.author_email, "chloe@example.nl");
        assert_eq!(first.author_url, None);
        assert_eq!(first.created_at.to_rfc3339(), "2013-06-27T14:02:11+00:00");
        assert_eq!(first.ip_hash, "", "Disqus's IP addresses stay behind");

        // One log row per reaction, by `import`, naming the Disqus post.
        let log = moderation_log::Entity::find()
            .filter(moderation_log::Column::Actor.eq("import"))
            .all(app.db.read()).await.unwrap();
        assert_eq!(log.len(), 12);
        let row = log.iter().find(|r| r.comment_id == spam.id).unwrap();
        assert_eq!(row.action, LogAction::Import);
        assert_eq!(row.to_status, CommentStatus::Spam);
        assert_eq!(row.reason.as_deref(), Some("Disqus #3006"));
    }
}

db_test! {
    async fn a_second_run_adds_nothing_and_says_so(app) {
        app.published_article("Lerarenregister wordt lerarenportfolio").await;
        let dir = tempfile::tempdir().unwrap();
        import(&app, dir.path(), &fixture()).ok();
        let before = (reaction_count(&app).await, imported(&app).await);
        let ran = import(&app, dir.path(), &fixture());
        assert_lines(ran.ok(), &[
            "articles: 0 added, 3 already there",
            "reactions: 0 added, 12 already there",
            "nothing new: everything in this file was imported before",
        ]);
        assert_eq!((reaction_count(&app).await, imported(&app).await), before);
        assert_eq!(before.0, 12);
    }
}

db_test! {
    async fn a_file_that_is_not_a_disqus_export_is_refused_in_one_line(app) {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "wordpress.xml",
                "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" \
                 xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel/></rss>\n",
                "its root element is <rss>, not <disqus>",
            ),
            (
                "no-namespace.xml",
                "<disqus><thread id=\"1\"/></disqus>",
                "its root element <disqus> is not in the http://disqus.com namespace",
            ),
            ("export.json", "{\"format\": \"kantlijn\"}", "it does not begin with an XML element"),
        ];
        for (name, content, why) in cases {
            let file = dir.path().join(name);
            std::fs::write(&file, content).unwrap();
            let ran = import(&app, dir.path(), &file);
            ran.refused(1, &["cannot import", name, "the file is not a Disqus export", why]);
            assert!(!ran.stdout.contains("nothing new"), "{name}: no summary\n{}", ran.stdout);
        }
        assert_eq!(reaction_count(&app).await, 0);
        assert_eq!(store::articles::count(app.db.read()).await.unwrap(), 0);
    }
}

db_test! {
    async fn a_cut_off_file_keeps_what_came_before_and_a_rerun_completes_it(app) {
        app.published_article("Lerarenregister wordt lerarenportfolio").await;
        let dir = tempfile::tempdir().unwrap();
        let whole = std::fs::read_to_string(fixture()).unwrap();
        // Cut inside post 3003: after 3005, whose parent 3011 comes at the very end.
        let cut = whole.find("<post dsq:id=\"3003\">\n    <id />").unwrap() + 31;
        let part = dir.path().join("export-part.xml");
        std::fs::write(&part, &whole[..cut]).unwrap();
        let ran = import(&app, dir.path(), &part);
        assert_eq!(ran.code, 1, "{ran:#?}");
        let error: Vec<&str> = ran.stderr.lines().filter(|l| !l.starts_with("import: ")).collect();
        assert_eq!(error.len(), 1, "one line besides progress: {}", ran.stderr);
        let fragments = [
            "kantlijn: importing",
            "stopped; what came before that point is imported",
            "adds only what is missing",
            "it ends inside <post>, so it was cut off",
        ];
        for fragment in fragments {
            assert!(error[0].contains(fragment), "{fragment:?} in {}", error[0]);
        }
        assert_lines(&ran.stdout, &[
            "articles: 1 added (1 draft), 1 already there",
            "reactions: 3 added (3 approved), 0 already there",
        ]);
        let early = imported(&app).await;
        let mut posts: Vec<&str> = early.keys().map(String::as_str).collect();
        posts.sort_unstable();
        assert_eq!(posts, ["3001", "3002", "3009"], "3005 waits for its parent");

        let ran = import(&app, dir.path(), &fixture());
        assert_lines(ran.ok(), &[
            "articles: 1 added (1 draft), 2 already there",
            "reactions: 9 added (1 pending, 6 approved, 1 spam, 1 deleted), 3 already there",
        ]);
        let ids = imported(&app).await;
        assert_eq!(ids.len(), 12);
        assert_eq!(reaction_count(&app).await, 12, "no reaction twice");
        for (post, id) in &early {
            assert_eq!(ids[post], *id, "{post} kept its reaction");
        }
        assert_eq!(app.stored(ids["3005"]).await.parent_id, Some(ids["3011"]));
        assert_eq!(app.stored(ids["3003"]).await.parent_id, Some(ids["3002"]));
    }
}
