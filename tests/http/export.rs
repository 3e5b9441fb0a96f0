//! Moving a whole site: `kantlijn export FILE.json` and `kantlijn import kantlijn
//! FILE.json` through the real binary, on a site built through its pages, on SQLite and
//! PostgreSQL and from one to the other.

use std::{os::unix::fs::PermissionsExt, path::Path};

use kantlijn::{
    domain::validate::Role,
    entity::{api_tokens, comments, sessions, users},
    export::format,
    store::{
        self,
        settings::{SITE_SECRET, SITE_SECRET_CHECK},
    },
};
use poem::http::StatusCode;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};
use serde_json::Value;

use crate::{
    db_test,
    helpers::{Backend, PASSWORD, TestApp, kantlijn},
};

const WORDPRESS: &str = "/work/shared/data/wordpress/themeunittestdata.wordpress.xml";

/// What [`varied_site`] made, to look for after an import.
struct Built {
    slug: String,
    /// Approved reactions on `slug`, a thread four levels deep among them.
    approved: Vec<i32>,
    /// Reactions on `slug` the public must not see.
    hidden: Vec<i32>,
}

/// A site with something in every table the export writes: articles published and in
/// draft, reactions in every status with replies four deep, decisions with reasons, an
/// e-mail and an address ban, changed settings, accounts of every role (one disabled),
/// a featured reaction, a staff reaction, an edited one, names beyond ASCII, a reader
/// waiting for reply mail, a privacy lookup, and a WordPress import.
async fn varied_site(app: &TestApp) -> Built {
    let dir = tempfile::tempdir().unwrap();
    kantlijn(
        dir.path(),
        &["import", "wordpress", WORDPRESS, "--database-url", &app.url],
        &[],
        "",
    )
    .ok();

    let slug = app.published_article("Coöperatie en één register").await;
    let other = app.published_article("Lerarenportfolio").await;
    let editor = app.other_browser();
    editor.login_as(Role::Editor).await;
    editor.create_article("Nog een concept ‘ÿ’", "draft").await;

    let reader =
        |name: &'static str, email: &'static str| [("author_name", name), ("author_email", email)];
    let top = app
        .approved_comment(
            &slug,
            &[
                ("author_name", "Zoë Ençarnação"),
                ("author_email", "zoe@example.nl"),
                ("body", "Één *reactie* met 🙂"),
            ],
        )
        .await;
    let mut approved = vec![top];
    let mut parent = top;
    for (depth, name) in ["Bram", "Çiğdem", "Dirk-Jan"].into_iter().enumerate() {
        let email = format!("diep{depth}@example.nl");
        let parent_text = parent.to_string();
        let id = app
            .approved_comment(
                &slug,
                &[
                    ("author_name", name),
                    ("author_email", &email),
                    ("parent_id", &parent_text),
                    ("body", "Een antwoord, dieper."),
                ],
            )
            .await;
        approved.push(id);
        parent = id;
    }
    // Featured reactions: one still is, one was (both log actions).
    app.moderate(&[top], "feature", "Een mooie bijdrage").await;
    app.moderate(&[approved[1]], "feature", "").await;
    app.moderate(&[approved[1]], "unfeature", "").await;
    let deepest = parent.to_string();
    let pending = app
        .comment(
            &slug,
            &[
                ("author_name", "Eva"),
                ("author_email", "eva@example.nl"),
                ("parent_id", &deepest),
            ],
        )
        .await;
    let spam = app
        .comment(&slug, &reader("Koop Nu", "spam@example.com"))
        .await;
    app.moderate(&[spam], "spam", "Reclame voor horloges").await;
    let rejected = app.comment(&slug, &reader("Fons", "fons@example.nl")).await;
    app.moderate(&[rejected], "reject", "Niet over het artikel")
        .await;
    let deleted = app.comment(&slug, &reader("Gijs", "gijs@example.nl")).await;
    app.moderate(&[deleted], "approve", "").await;
    app.moderate(&[deleted], "delete", "Op verzoek van de schrijver")
        .await;

    // A reader edits their own reaction within the quarter of an hour.
    let edited = app
        .comment(&other, &reader("Hanna", "hanna@example.nl"))
        .await;
    app.post_form(
        &format!("/artikelen/{other}/reacties/{edited}/bewerken"),
        &[("body", "Verbeterd: één *nieuwe* versie")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);

    let admin = app.other_browser();
    admin.login_as(Role::Admin).await;
    // Staff react as the editorial team.
    let staff = admin
        .comment(&slug, &[("body", "De redactie reageert.")])
        .await;
    approved.push(staff);
    // Settings as an admin changes them (logged in settings_changes).
    let settings = [
        ("moderation_mode", "hold_first"),
        ("link_threshold", "3"),
        ("moderation_words", "casino\nloterij"),
        ("block_words", "viagra"),
        ("reaction_burst", "3"),
        ("reaction_per_minute", "2"),
        ("login_burst", "5"),
        ("login_per_minute", "1"),
        ("preview_burst", "20"),
        ("preview_per_minute", "60"),
        ("privacy_burst", "3"),
        ("privacy_per_minute", "1"),
        ("search_burst", "30"),
        ("search_per_minute", "60"),
        ("vote_burst", "20"),
        ("vote_per_minute", "60"),
        ("other_burst", "200"),
        ("other_per_minute", "3000"),
    ];
    admin
        .post_form("/beheer/instellingen", &settings)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // A privacy lookup by an admin (privacy_log).
    admin
        .post_form("/beheer/privacy", &[("email", "fons@example.nl")])
        .await
        .assert_status(StatusCode::OK);

    // A reader asks for reply mail on a site that sends mail (mail_subscribers; the
    // confirmation waits in the outbox, which is not exported).
    let mut with_mail = (*app.state.settings).clone();
    with_mail.mail = Some(std::sync::Arc::new(
        kantlijn::mail::MailSettings::parse(
            "smtp://127.0.0.1:9?tls=none",
            "Kantlijn <reacties@kantlijn.test>",
        )
        .unwrap(),
    ));
    let mailing = app.with_settings(with_mail).await;
    mailing
        .comment(
            &other,
            &[
                ("author_name", "Ilse"),
                ("author_email", "ilse@example.nl"),
                ("notify_replies", "on"),
            ],
        )
        .await;

    // "Nuttig" votes: from a browser on the page, and through the API by address alone;
    // and a featured reaction (set in the database: the moderators' action is not here).
    for id in [top, approved[1]] {
        let voter = app.other_browser();
        let csrf = voter.csrf_token().await;
        voter
            .post_form(
                &format!("/artikelen/{slug}/reacties/{id}/nuttig"),
                &[("csrf_token", &csrf)],
            )
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    for address in ["203.0.113.60", "203.0.113.61"] {
        app.other_browser()
            .send_with(
                poem::http::Method::POST,
                &format!("/api/v1/comments/{top}/vote"),
                None,
                &[(crate::helpers::TEST_PEER, address)],
            )
            .await
            .assert_status(StatusCode::OK);
    }
    comments::Entity::update_many()
        .col_expr(
            comments::Column::FeaturedAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now()),
        )
        .filter(comments::Column::Id.eq(approved[2]))
        .exec(app.db.write())
        .await
        .unwrap();

    // Bans: an address (from a reaction sent from its own address) and an e-mail.
    let from_elsewhere = app
        .comment_from("198.51.100.7", &other, &reader("Joop", "joop@example.nl"))
        .await;
    let moderator = app.other_browser();
    moderator.login_as(Role::Moderator).await;
    for (id, kind, days) in [(from_elsewhere, "ip_hash", "30"), (spam, "email", "")] {
        moderator
            .post_form(
                "/beheer/moderatie/blokkeren",
                &[
                    ("comment_id", &id.to_string()),
                    ("kind", kind),
                    ("days", days),
                    ("reason", "Herhaaldelijk reclame"),
                    ("status", "pending"),
                ],
            )
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }

    // A display name beyond ASCII, and an account that was shut out.
    let editor_id = users_named(app, "editor-test").await.id;
    store::users::set_display_name(app.db.write(), editor_id, "Ëlse van ’t Veld")
        .await
        .unwrap();
    app.create_user("oud-redacteur", Role::Editor).await;
    kantlijn(
        dir.path(),
        &[
            "user",
            "disable",
            "oud-redacteur",
            "--database-url",
            &app.url,
        ],
        &[],
        "",
    )
    .ok();

    Built {
        slug,
        approved,
        hidden: vec![pending, spam, rejected, deleted],
    }
}

async fn users_named(app: &TestApp, name: &str) -> users::Model {
    store::users::find_by_username(app.db.read(), name)
        .await
        .unwrap()
        .unwrap()
}

/// `kantlijn export FILE` on `url`; the file's bytes.
fn export(url: &str, file: &Path) -> Vec<u8> {
    let dir = file.parent().unwrap();
    let out = kantlijn(
        dir,
        &["export", file.to_str().unwrap(), "--database-url", url],
        &[],
        "",
    );
    out.ok();
    assert!(out.stdout.contains("comments: "), "{}", out.stdout);
    std::fs::read(file).unwrap()
}

/// `kantlijn import kantlijn FILE` into `url`.
fn import(url: &str, file: &Path) -> crate::helpers::Ran {
    let dir = file.parent().unwrap();
    kantlijn(
        dir,
        &[
            "import",
            "kantlijn",
            file.to_str().unwrap(),
            "--database-url",
            url,
        ],
        &[],
        "",
    )
}

fn backend_of(app: &TestApp) -> Backend {
    match app.db.backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// Every table of the file has records, so that comparing files and checking the
/// schema cover every record type.
fn assert_every_table_filled(json: &Value) {
    for table in format::TABLES {
        let rows = json[table]
            .as_array()
            .unwrap_or_else(|| panic!("{table} is an array"));
        assert!(!rows.is_empty(), "{table} is empty");
    }
}

db_test! {
    async fn a_site_exported_and_imported_exports_to_the_same_bytes(app) {
        let built = varied_site(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let a = export(&app.url, &dir.path().join("a.json"));
        assert!(a.ends_with(b"}\n"));
        let json: Value = serde_json::from_slice(&a).unwrap();
        assert_every_table_filled(&json);
        let statuses: Vec<&str> = json["comments"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
        for status in ["approved", "pending", "spam", "rejected", "deleted"] {
            assert!(statuses.contains(&status), "{status} in {statuses:?}");
        }
        assert!(json["comments"].as_array().unwrap().iter().any(|c| c["id"] == built.approved[3] && c["parent_id"] == built.approved[2]));
        assert_eq!(std::fs::metadata(dir.path().join("a.json")).unwrap().permissions().mode() & 0o777, 0o600, "readers' addresses are private");
        assert!(!dir.path().join("a.json.tmp").exists());

        let target = TestApp::spawn(backend_of(&app)).await;
        let ran = import(&target.url, &dir.path().join("a.json"));
        let out = ran.ok();
        assert!(out.contains("users: "), "{out}");
        assert!(out.contains("(no passwords: set one with `kantlijn user add NAME --role ROLE`)"), "{out}");
        assert!(out.contains("kantlijn user add admin-test --role admin"), "{out}");
        assert!(!out.contains("kantlijn user add oud-redacteur"), "a disabled account stays out: {out}");
        let b = export(&target.url, &dir.path().join("b.json"));
        assert!(a == b, "a.json and b.json differ:\n{}", first_difference(&a, &b));

        // Once across databases: a SQLite site into PostgreSQL (and back), same bytes.
        if backend_of(&app) == Backend::Postgres {
            let lite = TestApp::spawn(Backend::Sqlite).await;
            varied_site(&lite).await;
            let s = export(&lite.url, &dir.path().join("sqlite.json"));
            let into_postgres = TestApp::spawn(Backend::Postgres).await;
            import(&into_postgres.url, &dir.path().join("sqlite.json")).ok();
            let p = export(&into_postgres.url, &dir.path().join("postgres.json"));
            assert!(s == p, "SQLite -> PostgreSQL differs:\n{}", first_difference(&s, &p));
            let back = TestApp::spawn(Backend::Sqlite).await;
            import(&back.url, &dir.path().join("a.json")).ok();
            let c = export(&back.url, &dir.path().join("c.json"));
            assert!(a == c, "PostgreSQL -> SQLite differs:\n{}", first_difference(&a, &c));
        }
    }
}

db_test! {
    async fn every_table_is_exported_or_left_out_on_purpose(app) {
        let sql = match app.db.backend() {
            DbBackend::Postgres => "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
            _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        };
        let rows = app.db.read().query_all_raw(Statement::from_string(app.db.backend(), sql)).await.unwrap();
        // SQLite's FTS5 keeps the search index in tables of its own (`search_fts*`,
        // `search_titles*`).
        let mut tables: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", "name").unwrap()).filter(|t| t != "seaql_migrations" && !t.starts_with("search_fts") && !t.starts_with("search_titles")).collect();
        tables.sort();
        let mut known: Vec<String> = format::TABLES.iter().chain(&format::LEFT_OUT).map(|t| (*t).to_owned()).collect();
        known.sort();
        assert_eq!(tables, known, "a new table: export it (a new format version) or leave it out on purpose in format::LEFT_OUT");
    }
}

async fn login(browser: &TestApp, password: &str) -> crate::helpers::Resp {
    browser
        .post_form(
            "/beheer/inloggen",
            &[("username", "admin-test"), ("password", password)],
        )
        .await
}

/// The line where two files first differ, for a readable failure.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    a.lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map_or_else(
            || format!("lengths {} and {}", a.len(), b.len()),
            |(n, (x, y))| format!("line {}:\n  {x}\n  {y}", n + 1),
        )
}

db_test! {
    async fn an_imported_site_works_and_its_accounts_wait_for_a_new_password(app) {
        let built = varied_site(&app).await;
        let dir = tempfile::tempdir().unwrap();
        export(&app.url, &dir.path().join("a.json"));
        let highest = comments::Entity::find().all(app.db.read()).await.unwrap().iter().map(|c| c.id).max().unwrap();
        let target = TestApp::spawn(backend_of(&app)).await;
        import(&target.url, &dir.path().join("a.json")).ok();
        // The imported site, served by a fresh instance (its caches know nothing yet).
        let site = target.with_settings((*target.state.settings).clone()).await;

        let page = site.get(&format!("/artikelen/{}", built.slug)).await;
        page.assert_status(StatusCode::OK).assert_contains("Coöperatie en één register").assert_contains("Zoë Ençarnação");
        for id in &built.approved {
            page.assert_contains(&format!("id=\"reactie-{id}\""));
        }
        for id in &built.hidden {
            page.assert_lacks(&format!("id=\"reactie-{id}\""));
        }
        // A new reaction takes an id after the imported ones (PostgreSQL's sequence moved).
        let new = site.comment(&built.slug, &[("author_name", "Kees"), ("author_email", "kees@example.nl")]).await;
        assert!(new > highest, "{new} after {highest}");

        // The accounts came without passwords: nobody logs in until one is set.
        let browser = site.other_browser();
        assert_eq!(login(&browser, PASSWORD).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login(&browser, "!").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(users_named(&target, "admin-test").await.password_hash, "!");
        let fresh = "een nieuw wachtwoord na de verhuizing";
        let set = kantlijn(dir.path(), &["user", "add", "admin-test", "--role", "admin", "--password-stdin", "--database-url", &target.url], &[], &format!("{fresh}\n"));
        assert!(set.ok().contains("Password reset for existing user admin-test"), "{}", set.stdout);
        login(&browser, fresh).await.assert_redirect("/beheer");
        browser.get("/beheer/moderatie?status=spam").await.assert_status(StatusCode::OK).assert_contains("Koop Nu");
    }
}

db_test! {
    async fn the_export_holds_no_secret_and_matches_its_schema(app) {
        varied_site(&app).await;
        let token = app.api_token(Role::Admin).await;
        let dir = tempfile::tempdir().unwrap();
        let bytes = export(&app.url, &dir.path().join("a.json"));
        let text = String::from_utf8(bytes).unwrap();

        let mut secrets: Vec<String> = users::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|u| u.password_hash).filter(|h| h != "!").collect();
        let hashes = secrets.len();
        assert!(hashes >= 4, "accounts with passwords: {hashes}");
        secrets.extend(sessions::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|s| s.token_hash));
        assert!(secrets.len() > hashes, "some sessions exist");
        let tokens: Vec<String> = api_tokens::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|t| t.hash).collect();
        assert!(!tokens.is_empty());
        secrets.extend(tokens);
        secrets.push(token);
        let edit_keys: Vec<String> = comments::Entity::find().all(app.db.read()).await.unwrap().into_iter().filter_map(|c| c.edit_key_hash).collect();
        assert!(!edit_keys.is_empty(), "readers' reactions carry edit keys");
        secrets.extend(edit_keys);
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} is in the export");
        }
        for key in ["password_hash", "token_hash", "edit_key_hash", "body_html", "site_secret\"", "outbox", "Bevestig"] {
            assert!(!text.contains(key), "{key} is in the export");
        }

        // The file as the schema describes it; every table has records, so every record
        // type is checked, and a key the schema does not know is refused.
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/export-format.schema.json")).unwrap()).unwrap();
        let validator = jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema");
        let mut json: Value = serde_json::from_str(&text).unwrap();
        assert_every_table_filled(&json);
        let errors: Vec<String> = validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        json["comments"][0]["body_html"] = Value::from("<p>x</p>");
        assert!(!validator.is_valid(&json), "a key the format does not have");
        json["comments"][0].as_object_mut().unwrap().remove("body_html");
        json["users"][0]["created_at"] = Value::from("2026-12-01T09:30:00Z");
        assert!(!validator.is_valid(&json), "a timestamp without microseconds");
    }
}

db_test! {
    async fn a_broken_file_or_a_full_database_is_refused_and_nothing_is_written(app) {
        varied_site(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("a.json");
        let before = export(&app.url, &good);
        let json: Value = serde_json::from_slice(&before).unwrap();

        // Into the site it came from: not empty, refused, unchanged.
        let ran = import(&app.url, &good);
        ran.refused(1, &["the database is not empty (users: ", "articles: ", "only fills an empty database"]);
        assert_eq!(export(&app.url, &dir.path().join("again.json")), before, "the site is unchanged");

        let broken = |name: &str, change: &dyn Fn(&mut Value)| {
            let mut copy = json.clone();
            change(&mut copy);
            let path = dir.path().join(name);
            std::fs::write(&path, serde_json::to_vec_pretty(&copy).unwrap()).unwrap();
            path
        };
        let reply = json["comments"].as_array().unwrap().iter().find(|c| !c["parent_id"].is_null()).unwrap()["id"].as_i64().unwrap();
        let truncated = dir.path().join("truncated.json");
        std::fs::write(&truncated, &before[..before.len() / 2]).unwrap();
        let cases: Vec<(std::path::PathBuf, Vec<String>)> = vec![
            (broken("newer.json", &|j| { j["format_version"] = Value::from(3); j["votes"] = Value::from(Vec::<Value>::new()); }), vec!["written by a newer Kantlijn (format version 3".into()]),
            (broken("vote.json", &|j| j["comment_votes"][0]["comment_id"] = Value::from(999_998)), vec!["comment_votes: id ".into(), "its comment_id 999998 is not among the file's comments".into()]),
            (broken("count.json", &|j| {
                let c = j["comments"].as_array_mut().unwrap().iter_mut().find(|c| c["helpful_count"].as_i64().unwrap() > 0).unwrap();
                c["helpful_count"] = Value::from(c["helpful_count"].as_i64().unwrap() + 1);
            }), vec!["comments: id ".into(), "its helpful_count is ".into(), "but comment_votes holds".into()]),
            (broken("wxr.json", &|j| j["format"] = Value::from("wordpress")), vec!["is not a Kantlijn export".into(), "\"wordpress\"".into()]),
            (broken("parent.json", &|j| {
                let c = j["comments"].as_array_mut().unwrap().iter_mut().find(|c| c["id"] == reply).unwrap();
                c["parent_id"] = Value::from(999_999);
            }), vec![format!("comments: id {reply}: its parent_id 999999 is not among the file's comments")]),
            (broken("author.json", &|j| j["articles"][0]["author_id"] = Value::from(424_242)), vec!["articles: id ".into(), "author_id 424242".into()]),
            (broken("status.json", &|j| j["comments"][1]["status"] = Value::from("zoek")), vec!["comments[1].status".into(), "unknown variant `zoek`".into()]),
            (broken("time.json", &|j| j["users"][0]["created_at"] = Value::from("gisteren")), vec!["users[0].created_at".into(), "six decimals".into()]),
            (broken("url.json", &|j| j["comments"][0]["author_url"] = Value::from("javascript:alert(1)")), vec!["comments: id ".into(), "author_url is not a valid author_url".into()]),
            (broken("slug.json", &|j| j["articles"][0]["slug"] = Value::from("../beheer")), vec!["articles: id ".into(), "slug is not a valid slug".into()]),
            (broken("username.json", &|j| j["users"][0]["username"] = Value::from("Beheer Team")), vec!["users: id ".into(), "username is not a valid username".into()]),
            (truncated, vec!["is not valid JSON".into(), "EOF".into()]),
        ];
        let empty = TestApp::spawn(backend_of(&app)).await;
        for (file, fragments) in &cases {
            let fragments: Vec<&str> = fragments.iter().map(String::as_str).collect();
            // Into a SQLite file that does not exist yet: it is not even created.
            let never = dir.path().join("never.db");
            let url = format!("sqlite://{}?mode=rwc", never.display());
            import(&url, file).refused(1, &fragments);
            assert!(!never.exists(), "{}: the database file was created", file.display());
            import(&empty.url, file).refused(1, &fragments);
            assert!(kantlijn::import::is_empty(empty.db.read()).await.unwrap());
        }

        // A file the database itself refuses halfway (PostgreSQL keeps no NUL in text):
        // one transaction, so not even the accounts before it stay.
        if backend_of(&app) == Backend::Postgres {
            let nul = broken("nul.json", &|j| j["privacy_log"][0]["action"] = Value::from("vie\u{0}w"));
            import(&empty.url, &nul).refused(1, &["writing privacy_log failed; nothing was imported"]);
            assert!(store::export::occupied(empty.db.read()).await.unwrap().is_empty());
        }
        // The good file still goes into the empty database afterwards.
        import(&empty.url, &good).ok();
        assert_eq!(export(&empty.url, &dir.path().join("b.json")), before);
    }
}

db_test! {
    async fn a_format_1_file_is_imported_with_no_votes_and_nothing_featured(app) {
        let built = varied_site(&app).await;
        let dir = tempfile::tempdir().unwrap();
        let current: Value = serde_json::from_slice(&export(&app.url, &dir.path().join("a.json"))).unwrap();
        assert_eq!(current["format_version"], 2);
        let voted = current["comments"].as_array().unwrap().iter().filter(|c| c["helpful_count"].as_i64().unwrap() > 0).count();
        assert!(voted >= 2, "the site has votes");
        assert!(current["comments"].as_array().unwrap().iter().any(|c| !c["featured_at"].is_null()));
        assert_eq!(current["comment_votes"].as_array().unwrap().len(), 4);

        // The same site as a format 1 export wrote it: no votes table, no new keys.
        let mut old = current.clone();
        old["format_version"] = Value::from(1);
        old.as_object_mut().unwrap().remove("comment_votes");
        for comment in old["comments"].as_array_mut().unwrap() {
            let comment = comment.as_object_mut().unwrap();
            comment.remove("featured_at");
            comment.remove("helpful_count");
        }
        let file = dir.path().join("format1.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
        let target = TestApp::spawn(backend_of(&app)).await;
        let out = import(&target.url, &file);
        assert!(out.ok().contains("comment_votes: 0"), "{}", out.stdout);
        let stored = comments::Entity::find().all(target.db.read()).await.unwrap();
        assert!(stored.iter().all(|c| c.helpful_count == 0 && c.featured_at.is_none()));
        let again: Value = serde_json::from_slice(&export(&target.url, &dir.path().join("b.json"))).unwrap();
        assert_eq!(again["format_version"], 2, "written in the current format");
        assert_eq!(again["comment_votes"], Value::Array(Vec::new()));
        // The site works, and takes new votes from zero.
        let site = target.with_settings((*target.state.settings).clone()).await;
        site.get(&format!("/artikelen/{}", built.slug)).await.assert_status(StatusCode::OK).assert_contains("Nuttig <span>0</span>");
        let (resp, json) = site.api(poem::http::Method::POST, &format!("/api/v1/comments/{}/vote", built.approved[0]), None, None).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
        assert_eq!(json["helpful_count"], 1);

        // A broken format 1 file is still refused for what is wrong with it.
        old["comments"][0]["status"] = Value::from("zoek");
        std::fs::write(&file, serde_json::to_vec_pretty(&old).unwrap()).unwrap();
        import(&TestApp::spawn(backend_of(&app)).await.url, &file).refused(1, &["comments[0].status", "unknown variant `zoek`"]);
    }
}

db_test! {
    async fn the_secret_check_moves_with_the_site_and_replaces_a_new_one(app) {
        // What `kantlijn serve` stores on its first start: a check of the secret, and on
        // an old site the secret itself, which is never exported.
        app.create_user("beheer", Role::Admin).await;
        app.set_setting(SITE_SECRET_CHECK, "check-of-the-old-secret").await;
        app.set_setting(SITE_SECRET, "an-old-secret-kept-in-the-database-0123456789").await;
        let dir = tempfile::tempdir().unwrap();
        let text = String::from_utf8(export(&app.url, &dir.path().join("a.json"))).unwrap();
        assert!(text.contains("check-of-the-old-secret"));
        assert!(!text.contains("an-old-secret-kept"), "the secret stays home");

        // The new database was served once already: its own check does not make it "not
        // empty", and the old site's check takes its place.
        let target = TestApp::spawn(backend_of(&app)).await;
        target.set_setting(SITE_SECRET_CHECK, "check-of-a-new-secret").await;
        let out = import(&target.url, &dir.path().join("a.json"));
        assert!(out.ok().contains("Start this site with the old site's secret"), "{}", out.stdout);
        assert_eq!(store::settings::get(target.db.read(), SITE_SECRET_CHECK).await.unwrap().as_deref(), Some("check-of-the-old-secret"));
        assert_eq!(store::settings::get(target.db.read(), SITE_SECRET).await.unwrap(), None);
    }
}
