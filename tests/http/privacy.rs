//! The privacy pages (DESIGN.md "Privacy (AVG)"): a reader asks for a link by mail,
//! sees their reactions, downloads them and erases them, after which nothing in the
//! whole database names them; an admin does the same for an address. Mail goes
//! through a real SMTP server on loopback.

use std::time::Duration;

use chrono::Utc;
use kantlijn::{
    config::RateLimitMode,
    domain::validate::Role,
    entity::{mail_subscribers, moderation_log, privacy_log, privacy_requests},
    mail::links,
    store,
};
use poem::http::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, Statement,
};

use crate::{
    db_test,
    helpers::{Resp, TEST_PEER, TestApp, hidden_value},
    smtp::{Received, Smtpd},
};

const A_NAME: &str = "Anna de Vries";
const A_EMAIL: &str = "anna.devries@example.nl";
const A_URL: &str = "https://anna-de-vries.example/blog";
const A_TEXT: &str = "Het register was een papieren tijger.";
const B_TEXT: &str = "Eens, maar het portfolio is ook papier.";
const SITE: &str = "http://127.0.0.1:8080";

/// Reader A's two reactions (one approved, with a website; one rejected, typed with
/// another case), reader B's approved reply to A, and everything else that names A: a
/// moderator's notes, a ban on A's address, a wish for notifications, mail waiting.
struct Scene {
    slug: String,
    a1: i32,
    a2: i32,
    b1: i32,
}

async fn scene(app: &TestApp) -> Scene {
    let slug = app.published_article("Van register naar portfolio").await;
    let reader_a = app.other_browser();
    let a1 = reader_a
        .approved_comment(
            &slug,
            &[
                ("author_name", A_NAME),
                ("author_email", A_EMAIL),
                ("author_url", A_URL),
                ("body", A_TEXT),
            ],
        )
        .await;
    let reader_b = app.other_browser();
    let b1 = reader_b
        .comment(
            &slug,
            &[
                ("author_name", "Bram Bos"),
                ("author_email", "bram@example.nl"),
                ("parent_id", &a1.to_string()),
                ("body", B_TEXT),
            ],
        )
        .await;
    app.moderate(
        &[b1],
        "approve",
        "Goed antwoord aan anna.devries@example.nl",
    )
    .await;
    let a2 = reader_a
        .comment(
            &slug,
            &[
                ("author_name", A_NAME),
                ("author_email", "Anna.DeVries@example.nl"),
                ("body", "Nog een gedachte, later."),
            ],
        )
        .await;
    app.moderate(
        &[a2],
        "reject",
        "Anna de Vries herhaalt zich, zie https://anna-de-vries.example/blog",
    )
    .await;
    let moderator = app.other_browser();
    moderator.login_as(Role::Moderator).await;
    moderator
        .post_form(
            "/beheer/moderatie/blokkeren",
            &[
                ("comment_id", &a2.to_string()),
                ("kind", "email"),
                ("days", "30"),
                ("reason", "Anna de Vries: even afkoelen"),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // A ban on A's address hash, whose note names A: the ban stays, the name goes.
    moderator
        .post_form(
            "/beheer/moderatie/blokkeren",
            &[
                ("comment_id", &a2.to_string()),
                ("kind", "ip_hash"),
                ("days", ""),
                (
                    "reason",
                    "Anna de Vries spamt vanaf hier, zie https://anna-de-vries.example/blog",
                ),
            ],
        )
        .await
        .assert_status(StatusCode::SEE_OTHER);
    mail_subscribers::ActiveModel {
        email: Set(A_EMAIL.to_owned()),
        confirmed_at: Set(Some(Utc::now())),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(app.db.write())
    .await
    .unwrap();
    // Mail that waits a day: to A, and about A's reaction to someone else.
    let later = Utc::now() + chrono::Duration::days(1);
    let mut to_a = kantlijn::mail::messages::privacy(A_EMAIL, SITE, None, 24, "");
    to_a.comment_id = None;
    store::outbox::queue(app.db.write(), to_a, "kantlijn.test", later)
        .await
        .unwrap();
    let mut about_a = kantlijn::mail::messages::privacy("bram@example.nl", SITE, None, 24, "");
    about_a.text = format!("{A_NAME} schreef iets");
    about_a.comment_id = Some(a1);
    store::outbox::queue(app.db.write(), about_a, "kantlijn.test", later)
        .await
        .unwrap();
    Scene { slug, a1, a2, b1 }
}

/// Asks for a privacy link for `email` and returns the mail that answers.
async fn ask(app: &TestApp, smtpd: &Smtpd, email: &str) -> Received {
    let before = smtpd.received().len();
    app.post_form("/privacy", &[("email", email)])
        .await
        .assert_redirect("/privacy?verstuurd=1");
    smtpd
        .wait_for(before + 1, Duration::from_secs(15))
        .await
        .pop()
        .unwrap()
}

/// The path of the privacy link in a mail.
fn link_path(mail: &Received) -> String {
    let link = mail.link_with("/privacy/");
    link.strip_prefix(SITE).unwrap().to_owned()
}

/// The reactions the overview lists, by id.
fn listed(page: &Resp) -> Vec<i32> {
    let document = scraper::Html::parse_document(&page.body);
    let rows = scraper::Selector::parse("tr[id^=\"privacy-reactie-\"]").unwrap();
    document
        .select(&rows)
        .map(|row| {
            row.value().attr("id").unwrap()["privacy-reactie-".len()..]
                .parse()
                .unwrap()
        })
        .collect()
}

/// Every place in the database where one of `needles` stands (ignoring case): every
/// column of every table, read as text. Prints what it searched.
async fn search_everywhere(app: &TestApp, needles: &[&str]) -> Vec<String> {
    let db = app.db.read();
    let backend = db.get_database_backend();
    let listing = match backend {
        DbBackend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name \
             FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2"
        }
        _ => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name \
             FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2"
        }
    };
    let columns: Vec<(String, String)> = db
        .query_all_raw(Statement::from_string(backend, listing))
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            (
                row.try_get::<String>("", "table_name").unwrap(),
                row.try_get::<String>("", "column_name").unwrap(),
            )
        })
        .collect();
    let mut tables: Vec<&str> = columns.iter().map(|(t, _)| t.as_str()).collect();
    tables.dedup();
    let mut hits = Vec::new();
    for (table, column) in &columns {
        for needle in needles {
            let sql = match backend {
                DbBackend::Sqlite => format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" \
                     WHERE instr(lower(CAST(\"{column}\" AS TEXT)), lower(?)) > 0"
                ),
                _ => format!(
                    "SELECT COUNT(*) AS n FROM \"{table}\" \
                     WHERE strpos(lower(\"{column}\"::text), lower($1)) > 0"
                ),
            };
            let row = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    sql,
                    [(*needle).into()],
                ))
                .await
                .unwrap()
                .unwrap();
            let n: i64 = row.try_get("", "n").unwrap();
            if n > 0 {
                hits.push(format!("{table}.{column}: {n} × {needle:?}"));
            }
        }
    }
    eprintln!(
        "searched {} columns (every column, as text) in {} tables: {} hits for {:?}",
        columns.len(),
        tables.len(),
        hits.len(),
        needles
    );
    assert!(
        columns.len() > 50 && tables.len() > 10,
        "the search saw the schema"
    );
    hits
}

/// On SQLite, what the database files hold, lowercased: free pages and the WAL too.
fn sqlite_files(app: &TestApp) -> Option<String> {
    let path = app.url.strip_prefix("sqlite://")?.split('?').next()?;
    let mut bytes = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    Some(String::from_utf8_lossy(&bytes).to_lowercase())
}

/// The author shown on the article page for a reaction.
fn author_of(page: &Resp, id: i32) -> String {
    let document = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse(&format!("#reactie-{id} > article .author")).unwrap();
    document
        .select(&selector)
        .next()
        .unwrap_or_else(|| panic!("reaction {id} on the page"))
        .text()
        .collect()
}

fn nested(page: &Resp, parent: i32, child: i32) -> bool {
    let document = scraper::Html::parse_document(&page.body);
    let selector =
        scraper::Selector::parse(&format!("#reactie-{parent} #reactie-{child}")).unwrap();
    document.select(&selector).next().is_some()
}

db_test! {
    async fn a_reader_sees_exports_and_erases_their_reactions_and_nothing_names_them_after(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let s = scene(&app).await;
        let article = format!("/artikelen/{}", s.slug);
        app.get(&article).await.assert_contains(A_NAME).assert_contains(A_URL);

        // The address in yet another case finds both reactions.
        let mail = ask(&app, &smtpd, "ANNA.DeVries@Example.NL").await;
        assert_eq!(mail.rcpt_to, ["ANNA.DeVries@example.nl"]);
        assert_eq!(mail.subject, "Je gegevens bij Kantlijn");
        assert!(mail.text.contains("De link werkt 24 uur"), "{}", mail.text);
        let path = link_path(&mail);
        assert!(!path.contains('@') && !path.to_lowercase().contains("anna"), "{path}");

        let page = app.get(&path).await;
        page.assert_status(StatusCode::OK)
            .assert_contains(A_TEXT)
            .assert_contains("afgewezen")
            .assert_contains("Laat de tekst staan, zonder mijn naam")
            .assert_contains("Verwijder ook de tekst")
            .assert_contains("Je krijgt mail als iemand op je reactie antwoordt")
            .assert_lacks(B_TEXT)
            .assert_lacks("Bram");
        assert_eq!(page.header("cache-control"), "no-store");
        assert_eq!(listed(&page), [s.a1, s.a2], "exactly A's reactions");

        let export = app.get(&format!("{path}/export.json")).await;
        export.assert_status(StatusCode::OK);
        assert_eq!(export.header("content-disposition"), "attachment; filename=\"kantlijn-gegevens.json\"");
        assert!(export.header("content-type").starts_with("application/json"));
        assert_eq!(export.header("cache-control"), "no-store");
        for other in ["bram", "Bos", "moderator-test", "editor-test", B_TEXT] {
            assert!(!export.body.contains(other), "{other:?} is someone else's: {}", export.body);
        }
        let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
        assert_eq!(json["format"], "kantlijn-privacy-export");
        assert_eq!(json["version"], 1);
        assert!(json["generated_at"].as_str().unwrap().ends_with('Z'));
        let reactions = json["reactions"].as_array().unwrap();
        let ids: Vec<i64> = reactions.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [i64::from(s.a1), i64::from(s.a2)]);
        let first = &reactions[0];
        for field in ["parent_id", "author_name", "author_email", "author_url", "body_md", "body_html", "status", "ip_hash", "notify_replies", "created_at", "updated_at"] {
            assert!(first.get(field).is_some(), "{field} in {first}");
        }
        assert_eq!(first["author_url"], A_URL);
        assert_eq!(first["article"]["slug"], s.slug.as_str());
        assert_eq!(first["status"], "approved");
        assert!(!first["ip_hash"].as_str().unwrap().is_empty());
        let history: Vec<(&str, &str)> = first["moderation"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["action"].as_str().unwrap(), d["actor"].as_str().unwrap()))
            .collect();
        assert_eq!(history, [("submit", "system"), ("approve", "moderator")]);
        let rejected = &reactions[1]["moderation"].as_array().unwrap()[1];
        assert_eq!((rejected["action"].as_str(), rejected["to"].as_str()), (Some("reject"), Some("rejected")));
        assert_eq!(reactions[1]["author_email"], "Anna.DeVries@example.nl");
        assert_eq!(json["subscription"]["email"], A_EMAIL);
        // The e-mail ban and the ban on the address hash of A's reaction.
        let kinds: Vec<&str> = json["bans"].as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["email", "ip_hash"]);
        assert_eq!(json["bans"][0]["value"], A_EMAIL);
        assert_eq!(first["reply_notified"], false);
        assert_eq!(first["by_staff"], false);

        app.post_form(&format!("{path}/wissen"), &[("body", "alles")])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Kies of de tekst");
        app.post_form(&format!("{path}/wissen"), &[("body", "keep")])
            .await
            .assert_redirect("/privacy?gewist=2");
        app.get("/privacy?gewist=2").await.assert_contains("Je gegevens zijn gewist: 2 reacties");

        // The cached article page shows the change at once; the reply keeps its place.
        let page = app.get(&article).await;
        assert_eq!(author_of(&page, s.a1), "Anoniem");
        assert!(nested(&page, s.a1, s.b1), "B's reply stays under A's reaction");
        page.assert_contains(A_TEXT).assert_contains(B_TEXT).assert_lacks(A_NAME).assert_lacks("anna-de-vries");
        let a1 = app.stored(s.a1).await;
        assert_eq!((a1.author_email.as_str(), a1.author_url.as_deref(), a1.ip_hash.as_str()), ("", None, ""));
        assert_eq!((a1.edit_key_hash, a1.notify_replies, a1.status.as_str()), (None, false, "approved"));
        assert_eq!(app.stored(s.a2).await.status.as_str(), "rejected");

        // The log keeps every decision, without the person in its notes.
        let log = moderation_log::Entity::find().all(app.db.read()).await.unwrap();
        let erased: Vec<(i32, &str)> = log.iter().filter(|r| r.action.as_str() == "erase").map(|r| (r.comment_id, r.actor.as_str())).collect();
        assert_eq!(erased, [(s.a1, "reader"), (s.a2, "reader")]);
        let reasons: Vec<&str> = log.iter().filter_map(|r| r.reason.as_deref()).collect();
        assert!(reasons.contains(&"[gewist] herhaalt zich, zie [gewist]"), "{reasons:?}");
        assert!(reasons.contains(&"Goed antwoord aan [gewist]"), "{reasons:?}");
        assert!(reasons.contains(&"[gewist]: even afkoelen"), "{reasons:?}");

        let hits = search_everywhere(&app, &[A_EMAIL, A_NAME, A_URL, "anna-de-vries.example"]).await;
        assert!(hits.is_empty(), "left behind: {hits:#?}");
        if let Some(files) = sqlite_files(&app) {
            for needle in [A_EMAIL, "anna de vries", "anna-de-vries.example"] {
                assert!(!files.contains(needle), "{needle:?} is still in the database files");
            }
            eprintln!("the SQLite files (database and WAL) hold none of them either");
        }

        // Used up: the link goes nowhere now.
        app.get(&path).await.assert_status(StatusCode::NOT_FOUND).assert_contains("Deze link werkt niet (meer)");
        let uses: Vec<(String, String, i32)> = privacy_log::Entity::find()
            .all(app.db.read())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.action, r.actor, r.reactions))
            .collect();
        let expected = [("request", 2), ("view", 2), ("export", 2), ("view", 2), ("erase", 2)]
            .map(|(action, n)| (action.to_owned(), "reader".to_owned(), n));
        assert_eq!(uses, expected);
    }
}

db_test! {
    async fn erasing_with_remove_takes_the_text_too(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let s = scene(&app).await;
        let path = link_path(&ask(&app, &smtpd, A_EMAIL).await);
        app.post_form(&format!("{path}/wissen"), &[("body", "remove")])
            .await
            .assert_redirect("/privacy?gewist=2");
        let page = app.get(&format!("/artikelen/{}", s.slug)).await;
        assert_eq!(author_of(&page, s.a1), "Anoniem");
        assert!(nested(&page, s.a1, s.b1));
        page.assert_contains("[reactie verwijderd]").assert_contains(B_TEXT).assert_lacks(A_TEXT);
        let a1 = app.stored(s.a1).await;
        assert_eq!(a1.body_md, "[reactie verwijderd]");
        assert_eq!(a1.body_html.trim(), "<p>[reactie verwijderd]</p>");
        assert_eq!(app.stored(s.a2).await.body_md, "[reactie verwijderd]");
        let hits = search_everywhere(&app, &[A_EMAIL, A_NAME, A_URL, A_TEXT, "Nog een gedachte"]).await;
        assert!(hits.is_empty(), "left behind: {hits:#?}");
    }
}

db_test! {
    async fn an_unknown_address_gets_the_same_answer_and_a_mail_without_a_link(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Bekend").await;
        app.comment(&slug, &[("author_email", "bekend@example.nl")]).await;

        let known = app.post_form("/privacy", &[("email", "bekend@example.nl")]).await;
        let unknown = app.post_form("/privacy", &[("email", "onbekend@example.nl")]).await;
        assert_eq!((known.status, known.location()), (unknown.status, unknown.location()));
        assert_eq!(known.body, unknown.body);
        let page = app.get(known.location()).await;
        page.assert_status(StatusCode::OK).assert_contains("We hebben een e-mail gestuurd naar het adres dat je opgaf");

        let mails = smtpd.wait_for(2, Duration::from_secs(15)).await;
        let to_unknown = mails.iter().find(|m| m.rcpt_to == ["onbekend@example.nl"]).unwrap();
        let to_known = mails.iter().find(|m| m.rcpt_to == ["bekend@example.nl"]).unwrap();
        assert_eq!(to_unknown.subject, to_known.subject);
        assert!(to_unknown.text.contains("We bewaren geen reacties"), "{}", to_unknown.text);
        assert!(!to_unknown.links().iter().any(|l| l.contains("/privacy/")), "{}", to_unknown.text);
        assert!(!to_unknown.html.contains("/privacy/"));
        to_known.link_with("/privacy/");

        let requests = privacy_requests::Entity::find().all(app.db.read()).await.unwrap();
        assert_eq!(requests.iter().map(|r| r.email.as_str()).collect::<Vec<_>>(), ["bekend@example.nl"]);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let hits = search_everywhere(&app, &["onbekend@"]).await;
        assert!(hits.is_empty(), "nothing kept of the unknown address: {hits:#?}");

        app.post_form("/privacy", &[("email", "geen adres")])
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Vul een geldig e-mailadres in")
            .assert_contains("value=\"geen adres\"");
    }
}

db_test! {
    async fn forged_expired_and_garbage_links_get_a_dutch_404(app) {
        let keys = &app.state.keys;
        let now = Utc::now();
        let live = store::privacy::insert_request(app.db.write(), "x@example.nl", now, now + chrono::Duration::hours(24)).await.unwrap();
        let valid = links::privacy_token(keys, live.id, live.expires_at);
        app.get(&format!("/privacy/{valid}")).await.assert_status(StatusCode::OK);

        let expired_token = links::privacy_token(keys, live.id, now - chrono::Duration::minutes(1));
        let stale = store::privacy::insert_request(app.db.write(), "x@example.nl", now - chrono::Duration::hours(25), now - chrono::Duration::hours(1)).await.unwrap();
        let row_expired = links::privacy_token(keys, stale.id, now + chrono::Duration::hours(1));
        let missing = links::privacy_token(keys, 999_999, now + chrono::Duration::hours(1));
        let forged = valid.replacen(&format!("privacy-{}", live.id), &format!("privacy-{}", live.id + 1), 1);
        let other_purpose = links::confirm_token(keys, live.id);
        let mut tampered = valid.clone();
        tampered.pop();
        tampered.push(if valid.ends_with('A') { 'B' } else { 'A' });
        let long = "x".repeat(3000);
        let tokens = [
            expired_token.as_str(), row_expired.as_str(), missing.as_str(), forged.as_str(),
            other_purpose.as_str(), tampered.as_str(), "x", "privacy-1-99999999999", "%FF%FE",
            "..", "a.b.c", long.as_str(), "%00",
        ];
        for token in tokens {
            for suffix in ["", "/export.json"] {
                let resp = app.get(&format!("/privacy/{token}{suffix}")).await;
                assert_eq!(resp.status, StatusCode::NOT_FOUND, "{token}{suffix}: {}", resp.body);
                resp.assert_contains("Deze link werkt niet (meer)").assert_contains("href=\"/privacy#aanvragen\"");
            }
            app.post_form(&format!("/privacy/{token}/wissen"), &[("body", "keep")])
                .await
                .assert_status(StatusCode::NOT_FOUND);
        }
        // An erase without a CSRF token is refused before anything happens.
        app.post_raw(&format!("/privacy/{valid}/wissen"), &[("body", "keep")]).await.assert_status(StatusCode::FORBIDDEN);
    }
}

/// A privacy request from client address `peer`.
async fn ask_from(app: &TestApp, csrf: &str, email: &str, peer: &str) -> Resp {
    let body = serde_html_form::to_string([("email", email), ("csrf_token", csrf)]).unwrap();
    app.send_with(Method::POST, "/privacy", Some(body), &[(TEST_PEER, peer)])
        .await
}

db_test! {
    async fn privacy_requests_are_rate_limited_with_the_address_kept(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let mailing = app.with_mail(&smtpd).await;
        let limited = mailing.with_rate_limits(RateLimitMode::On).await;
        let csrf = limited.csrf_token().await;
        for _ in 1..=3 {
            ask_from(&limited, &csrf, "snel@example.nl", "203.0.113.70").await.assert_redirect("/privacy?verstuurd=1");
        }
        let resp = ask_from(&limited, &csrf, "vierde@example.nl", "203.0.113.70").await;
        resp.assert_status(StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = resp.header("retry-after").parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        resp.assert_contains("Je vroeg kort na elkaar te vaak een link aan. Probeer het over")
            .assert_contains("value=\"vierde@example.nl\"");
        assert_eq!(hidden_value(&resp.body, "csrf_token").as_deref(), Some(csrf.as_str()));
        ask_from(&limited, &csrf, "ander@example.nl", "203.0.113.71").await.assert_redirect("/privacy?verstuurd=1");
        smtpd.wait_for(4, Duration::from_secs(15)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!smtpd.received().iter().any(|m| m.rcpt_to == ["vierde@example.nl"]), "the fourth was not mailed");
    }
}

db_test! {
    async fn without_mail_the_page_says_so_and_a_post_stores_nothing(app) {
        let page = app.get("/privacy").await;
        page.assert_status(StatusCode::OK)
            .assert_contains("Deze site verstuurt geen e-mail")
            .assert_contains("Mail dan de redactie")
            .assert_contains("De adres-hash wissen we 30 dagen na het plaatsen")
            .assert_contains("als er 30 dagen lang niets meer mee gebeurde");
        assert_eq!(page.header("cache-control"), "no-store");
        let resp = app.post_form("/privacy", &[("email", "lien@example.nl")]).await;
        resp.assert_status(StatusCode::OK).assert_contains("we kunnen je geen link sturen");
        assert_eq!(store::outbox::counts(app.db.read()).await.unwrap(), (0, 0));
        assert!(privacy_requests::Entity::find().all(app.db.read()).await.unwrap().is_empty());

        // The periods come from the settings.
        app.set_setting(store::settings::RETENTION_IP_DAYS, "7").await;
        app.set_setting(store::settings::RETENTION_UNHANDLED_DAYS, "1").await;
        app.get("/privacy").await
            .assert_contains("De adres-hash wissen we 7 dagen na het plaatsen")
            .assert_contains("als er 1 dag lang niets meer mee gebeurde");
        // Every page links to it.
        app.get("/").await.assert_contains("<a href=\"/privacy\">Privacy</a>");
    }
}

db_test! {
    async fn an_admin_sees_exports_and_erases_an_address_and_every_use_is_logged(app) {
        let s = scene(&app).await;
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        moderator.get("/beheer/privacy").await.assert_status(StatusCode::FORBIDDEN);
        for path in ["/beheer/privacy", "/beheer/privacy/export", "/beheer/privacy/wissen"] {
            moderator.post_form(path, &[("email", A_EMAIL), ("body", "remove")]).await.assert_status(StatusCode::FORBIDDEN);
        }
        app.get("/beheer/privacy").await.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(app.stored(s.a1).await.author_name, A_NAME);

        let admin = app.other_browser();
        let admin_id = admin.login_as(Role::Admin).await;
        let page = admin.get("/beheer/privacy").await;
        page.assert_status(StatusCode::OK).assert_contains("Nog niemand gebruikte");
        assert_eq!(page.header("cache-control"), "no-store");
        admin.get("/beheer").await.assert_contains("href=\"/beheer/privacy\"");

        admin.post_form("/beheer/privacy", &[("email", "niet goed")]).await.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let overview = admin.post_form("/beheer/privacy", &[("email", "anna.devries@EXAMPLE.nl")]).await;
        overview.assert_status(StatusCode::OK).assert_contains(A_TEXT).assert_lacks(B_TEXT);
        assert_eq!(listed(&overview), [s.a1, s.a2]);
        assert_eq!(hidden_value(&overview.body, "email").as_deref(), Some("anna.devries@example.nl"));

        let export = admin.post_form("/beheer/privacy/export", &[("email", A_EMAIL)]).await;
        export.assert_status(StatusCode::OK);
        assert_eq!(export.header("content-disposition"), "attachment; filename=\"kantlijn-gegevens.json\"");
        let json: serde_json::Value = serde_json::from_str(&export.body).unwrap();
        assert_eq!(json["reactions"].as_array().unwrap().len(), 2);
        assert!(!export.body.contains("bram"));

        admin.post_form("/beheer/privacy/wissen", &[("email", A_EMAIL), ("body", "")]).await.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        admin.post_form("/beheer/privacy/wissen", &[("email", A_EMAIL), ("body", "remove")])
            .await
            .assert_redirect("/beheer/privacy?gewist=2");
        let page = admin.get("/beheer/privacy?gewist=2").await;
        page.assert_contains("Gewist: 2 reacties")
            .assert_contains("gegevens gewist")
            .assert_contains("gegevens gedownload")
            .assert_contains("gegevens ingezien")
            .assert_contains("admin-test")
            .assert_lacks(A_EMAIL)
            .assert_lacks("anna.devries");
        let uses: Vec<(String, String, i32)> = privacy_log::Entity::find().all(app.db.read()).await.unwrap().into_iter().map(|r| (r.action, r.actor, r.reactions)).collect();
        let admin_actor = admin_id.to_string();
        // The overview, the export, the overview again with the missing choice, the erasure.
        let expected = ["view", "export", "view", "erase"].map(|action| (action.to_owned(), admin_actor.clone(), 2));
        assert_eq!(uses, expected);
        let erased = moderation_log::Entity::find()
            .filter(moderation_log::Column::Action.eq(kantlijn::domain::states::LogAction::Erase))
            .all(app.db.read())
            .await
            .unwrap();
        assert_eq!(erased.len(), 2);
        assert!(erased.iter().all(|r| r.actor == admin_actor && r.reason.as_deref() == Some("tekst verwijderd")));
        admin.get("/beheer/logboek").await.assert_contains("gegevens gewist (AVG)");

        let a1 = app.stored(s.a1).await;
        assert_eq!((a1.author_name.as_str(), a1.body_md.as_str()), ("Anoniem", "[reactie verwijderd]"));
        let hits = search_everywhere(&app, &[A_EMAIL, A_NAME, A_URL]).await;
        assert!(hits.is_empty(), "left behind: {hits:#?}");
        // Nothing is left to find for the address.
        let again = admin.post_form("/beheer/privacy", &[("email", A_EMAIL)]).await;
        assert!(listed(&again).is_empty());
    }
}

db_test! {
    async fn erasing_takes_the_reader_out_of_a_waiting_digest(app) {
        let Some(mut smtpd) = Smtpd::start() else { return };
        // The SMTP server is away: the digest waits in the outbox.
        smtpd.stop();
        let app = app.with_mail(&smtpd).await;
        let slug = app.published_article("Register of portfolio").await;
        let moderator = app.other_browser();
        moderator.login_as(Role::Moderator).await;
        moderator
            .post_form("/beheer/account", &[("email", "moderator@example.nl"), ("digest", "on")])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        app.other_browser()
            .comment(&slug, &[("author_name", A_NAME), ("author_email", A_EMAIL), ("body", A_TEXT)])
            .await;
        kantlijn::jobs::run_due(&app.state, Utc::now()).await;
        let waiting = kantlijn::entity::outbox::Entity::find().all(app.db.read()).await.unwrap();
        assert!(
            waiting.iter().any(|m| m.kind == "digest" && m.body_text.contains(A_NAME)),
            "{waiting:?}"
        );
        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        admin
            .post_form("/beheer/privacy/wissen", &[("email", A_EMAIL), ("body", "remove")])
            .await
            .assert_redirect("/beheer/privacy?gewist=1");
        let hits = search_everywhere(&app, &[A_EMAIL, A_NAME]).await;
        assert!(hits.is_empty(), "left behind: {hits:#?}");
    }
}

db_test! {
    async fn one_address_gets_at_most_three_working_links(app) {
        let Some(smtpd) = Smtpd::start() else { return };
        let app = app.with_mail(&smtpd).await;
        scene(&app).await;
        let before = smtpd.received().len();
        // Four asks (from anywhere: limits are off here), the same answer each time.
        for _ in 0..4 {
            app.post_form("/privacy", &[("email", A_EMAIL)])
                .await
                .assert_redirect("/privacy?verstuurd=1");
        }
        smtpd.wait_for(before + 3, Duration::from_secs(15)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(smtpd.received().len() - before, 3, "no fourth link while three work");
        let open = privacy_requests::Entity::find().all(app.db.read()).await.unwrap();
        assert_eq!(open.len(), 3);
    }
}
