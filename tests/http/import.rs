//! Moving in from WordPress: the theme unit test data (WordPress's own export of every
//! edge case) through `kantlijn import wordpress`, then the pages readers see; and the
//! same import uploaded at `/beheer/import`.

use std::path::{Path, PathBuf};

use kantlijn::{
    domain::{
        states::{ArticleStatus, CommentStatus},
        validate::Role,
    },
    entity::{articles, comments, moderation_log},
};
use poem::http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::{
    db_test,
    helpers::{TestApp, hidden_value, kantlijn},
};

fn theme_unit_test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wordpress/themeunittestdata.wordpress.xml")
}

fn import(app: &TestApp, file: &Path, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = file.to_str().unwrap();
    let mut args = vec!["import", "wordpress", file];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--database-url", &app.url]);
    kantlijn(dir.path(), &args, &[], "").ok().to_owned()
}

async fn articles_by_status(app: &TestApp, status: ArticleStatus) -> Vec<articles::Model> {
    articles::Entity::find()
        .filter(articles::Column::Status.eq(status))
        .order_by_asc(articles::Column::Id)
        .all(app.db.read())
        .await
        .unwrap()
}

async fn reactions_by_status(app: &TestApp, status: CommentStatus) -> u64 {
    comments::Entity::find()
        .filter(comments::Column::Status.eq(status))
        .count(app.db.read())
        .await
        .unwrap()
}

db_test! {
    async fn the_wordpress_theme_unit_test_data_comes_in_whole(app) {
        let summary = import(&app, &theme_unit_test_data(), &[]);
        println!("{summary}");
        for line in [
            "articles: 58 added (3 draft, 55 published), 0 already there",
            "reactions: 24 added (1 pending, 23 approved), 0 already there",
            "skipped: 2 pingbacks",
            "skipped: 2 trackbacks",
            "note: 1 password-protected posts imported as drafts",
            "note: 1 scheduled posts imported as drafts",
        ] {
            assert!(summary.lines().any(|l| l == line), "{line:?} in\n{summary}");
        }

        // 58 articles: 55 published, 3 drafts (scheduled, draft, password protected).
        assert_eq!(articles_by_status(&app, ArticleStatus::Published).await.len(), 55);
        let drafts: Vec<String> = articles_by_status(&app, ArticleStatus::Draft)
            .await
            .into_iter()
            .map(|a| a.title)
            .collect();
        assert_eq!(drafts.len(), 3, "{drafts:?}");
        assert!(drafts.iter().any(|t| t == "Scheduled"), "{drafts:?}");
        assert!(drafts.iter().any(|t| t == "Draft"), "{drafts:?}");
        assert!(drafts.iter().any(|t| t.contains("Password Protected")), "{drafts:?}");
        // 24 reactions: 23 approved, 1 pending.
        assert_eq!(reactions_by_status(&app, CommentStatus::Approved).await, 23);
        assert_eq!(reactions_by_status(&app, CommentStatus::Pending).await, 1);
        assert_eq!(comments::Entity::find().count(app.db.read()).await.unwrap(), 24);

        // WordPress's slug and GMT date are kept.
        let article = kantlijn::store::articles::find_by_slug(app.db.read(), "template-comments")
            .await
            .unwrap()
            .expect("the post keeps its slug");
        assert_eq!(
            article.published_at.unwrap().to_rfc3339(),
            "2012-01-03T17:11:37+00:00"
        );

        // Each reaction has its log row, by `import`, naming the WordPress id.
        let log = moderation_log::Entity::find()
            .filter(moderation_log::Column::Actor.eq("import"))
            .all(app.db.read())
            .await
            .unwrap();
        assert_eq!(log.len(), 24);
        assert!(log.iter().any(|row| row.reason.as_deref() == Some("WordPress #881")));

        // A second import adds nothing, and says so.
        let again = import(&app, &theme_unit_test_data(), &[]);
        assert!(again.contains("articles: 0 added, 58 already there"), "{again}");
        assert!(again.contains("reactions: 0 added, 24 already there"), "{again}");
        assert!(again.contains("nothing new"), "{again}");
        assert_eq!(articles::Entity::find().count(app.db.read()).await.unwrap(), 58);
        assert_eq!(comments::Entity::find().count(app.db.read()).await.unwrap(), 24);
        assert_eq!(
            moderation_log::Entity::find().count(app.db.read()).await.unwrap(),
            24
        );
    }
}

db_test! {
    async fn template_comments_shows_its_ten_level_chain_under_each_parent(app) {
        import(&app, &theme_unit_test_data(), &[]);
        let page = app.get("/artikelen/template-comments").await;
        page.assert_status(StatusCode::OK);
        let html = scraper::Html::parse_document(&page.body);
        let select = |css: &str| scraper::Selector::parse(css).unwrap();
        let reactions: Vec<_> = html.select(&select("li.reaction")).collect();
        assert_eq!(reactions.len(), 19, "19 approved reactions");
        assert!(page.body.contains("19 reacties"));
        // Greek names intact.
        for name in ["John Γιάννης Doe Κάποιος", "John Κώστας Doe Τάδε", "John Μαρία Doe Ντουε"] {
            assert!(page.body.contains(name), "{name}");
        }

        // "Comment Depth 01" .. "Comment Depth 10": each one a reply to the one before,
        // in the data; on the page indented to depth 5, the deepest five marked.
        let stored = comments::Entity::find().all(app.db.read()).await.unwrap();
        let depth = |n: usize| {
            stored
                .iter()
                .find(|c| c.body_md.starts_with(&format!("Comment Depth {n:02}")))
                .unwrap_or_else(|| panic!("Comment Depth {n:02}"))
        };
        assert_eq!(depth(1).parent_id, None);
        for n in 2..=10 {
            assert_eq!(depth(n).parent_id, Some(depth(n - 1).id), "depth {n}");
        }
        for n in 1..=10 {
            let id = depth(n).id;
            let item = html
                .select(&select(&format!("li#reactie-{id}")))
                .next()
                .unwrap_or_else(|| panic!("depth {n} is on the page"));
            let class = item.value().attr("class").unwrap();
            assert!(class.contains(&format!("depth-{}", n.min(5))), "depth {n}: {class}");
            // Its own marker, not those of the replies nested in it.
            let marker: Vec<String> = html
                .select(&select(&format!("li#reactie-{id} > article > .reply-to")))
                .map(|m| m.text().collect())
                .collect();
            if n > 5 {
                let parent = &depth(n - 1).author_name;
                assert_eq!(marker, [format!("reactie op {parent}")], "depth {n}");
            } else {
                assert!(marker.is_empty(), "depth {n} is not marked: {marker:?}");
            }
        }
        assert_eq!(html.select(&select(".reply-to")).count(), 5);
    }
}

db_test! {
    async fn pages_bring_their_comments_when_asked(app) {
        let summary = import(&app, &theme_unit_test_data(), &["--pages"]);
        assert!(
            summary.contains("reactions: 29 added (3 pending, 26 approved)"),
            "{summary}"
        );
        // The posts' 24 and the pages' 5 (3 approved, 2 pending).
        assert_eq!(reactions_by_status(&app, CommentStatus::Approved).await, 26);
        assert_eq!(reactions_by_status(&app, CommentStatus::Pending).await, 3);
        assert!(!summary.contains("skipped: 21 pages"), "{summary}");
    }
}

/// A small export in WordPress's older `http://` namespace form, with what a site's own
/// data holds: a slug that is taken, a reply before its parent, states, a bad URL.
const SMALL_WXR: &str = r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
  xmlns:excerpt="http://wordpress.org/export/1.1/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="http://wordpress.org/export/1.1/">
<channel>
  <title>Onderwijsblog</title>
  <link>https://onderwijs.example.nl</link>
  <wp:wxr_version>1.1</wp:wxr_version>
  <wp:base_blog_url>https://onderwijs.example.nl</wp:base_blog_url>
  <wp:author><wp:author_login>redactie</wp:author_login><wp:author_display_name><![CDATA[De Redactie]]></wp:author_display_name></wp:author>
  <item>
    <title>Het lerarenregister &amp; het portfolio</title>
    <dc:creator>redactie</dc:creator>
    <content:encoded><![CDATA[Eerste alinea.

Tweede alinea.]]></content:encoded>
    <excerpt:encoded><![CDATA[<p>Kort &amp; goed.</p>]]></excerpt:encoded>
    <wp:post_id>7</wp:post_id>
    <wp:post_date>2019-05-01 10:00:00</wp:post_date>
    <wp:post_date_gmt>2019-05-01 08:00:00</wp:post_date_gmt>
    <wp:comment_status>open</wp:comment_status>
    <wp:post_name>bestaand</wp:post_name>
    <wp:status>publish</wp:status>
    <wp:post_type>post</wp:post_type>
    <wp:post_password></wp:post_password>
    <wp:comment>
      <wp:comment_id>12</wp:comment_id>
      <wp:comment_author><![CDATA[Bram]]></wp:comment_author>
      <wp:comment_author_email>bram@example.nl</wp:comment_author_email>
      <wp:comment_author_url>javascript:alert(1)</wp:comment_author_url>
      <wp:comment_date_gmt>2019-05-02 09:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Een antwoord <script>alert(1)</script> met <strong>nadruk</strong>.]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_type>comment</wp:comment_type>
      <wp:comment_parent>11</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>11</wp:comment_id>
      <wp:comment_author><![CDATA[Anneke van Dijk-Öztürk]]></wp:comment_author>
      <wp:comment_author_email>anneke@example.nl</wp:comment_author_email>
      <wp:comment_author_url>https://anneke.example.nl</wp:comment_author_url>
      <wp:comment_date_gmt>2019-05-01 12:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Goed stuk.
Tweede regel.]]></wp:comment_content>
      <wp:comment_approved>1</wp:comment_approved>
      <wp:comment_type></wp:comment_type>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>13</wp:comment_id>
      <wp:comment_author><![CDATA[Spammer]]></wp:comment_author>
      <wp:comment_author_email>spam@example.com</wp:comment_author_email>
      <wp:comment_date_gmt>2019-05-03 09:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[Koop nu]]></wp:comment_content>
      <wp:comment_approved>spam</wp:comment_approved>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
    <wp:comment>
      <wp:comment_id>14</wp:comment_id>
      <wp:comment_author><![CDATA[Weg]]></wp:comment_author>
      <wp:comment_author_email>weg@example.nl</wp:comment_author_email>
      <wp:comment_date_gmt>2019-05-03 10:00:00</wp:comment_date_gmt>
      <wp:comment_content><![CDATA[In de prullenbak]]></wp:comment_content>
      <wp:comment_approved>trash</wp:comment_approved>
      <wp:comment_parent>0</wp:comment_parent>
    </wp:comment>
  </item>
</channel>
</rss>
"#;

db_test! {
    async fn the_older_namespace_form_a_taken_slug_and_every_state(app) {
        app.published_article("Bestaand").await;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.xml");
        std::fs::write(&file, SMALL_WXR).unwrap();
        let summary = import(&app, &file, &[]);
        assert!(summary.contains("articles: 1 added (1 published)"), "{summary}");
        assert!(
            summary.contains("reactions: 4 added (2 approved, 1 spam, 1 deleted)"),
            "{summary}"
        );
        assert!(
            summary.contains("note: 1 author URLs that are not web addresses left out"),
            "{summary}"
        );

        // The slug was taken: the import's article got `-2`, the site's stays.
        let article = kantlijn::store::articles::find_by_slug(app.db.read(), "bestaand-2")
            .await
            .unwrap()
            .expect("the imported article");
        assert_eq!(article.title, "Het lerarenregister & het portfolio");
        assert_eq!(article.summary, "Kort & goed.");
        let stored = comments::Entity::find()
            .filter(comments::Column::ArticleId.eq(article.id))
            .order_by_asc(comments::Column::Id)
            .all(app.db.read())
            .await
            .unwrap();
        // The parent (11) was written before its reply (12), which came first in the file.
        let parent = stored.iter().find(|c| c.author_name.starts_with("Anneke")).unwrap();
        let reply = stored.iter().find(|c| c.author_name == "Bram").unwrap();
        assert_eq!(reply.parent_id, Some(parent.id));
        assert_eq!(reply.author_url, None, "javascript: URL dropped");
        assert_eq!(parent.author_url.as_deref(), Some("https://anneke.example.nl/"));
        assert_eq!(parent.created_at.to_rfc3339(), "2019-05-01T12:00:00+00:00");
        // The HTML became Markdown; the script is text, never markup.
        assert!(reply.body_md.contains("**nadruk**"), "{}", reply.body_md);
        assert!(reply.body_html.contains("<strong>nadruk</strong>"), "{}", reply.body_html);
        assert!(!reply.body_html.contains("<script"), "{}", reply.body_html);
        assert!(reply.body_html.contains("&lt;script&gt;"), "{}", reply.body_html);

        let page = app.get("/artikelen/bestaand-2").await;
        page.assert_status(StatusCode::OK);
        page.assert_contains("Anneke van Dijk-Öztürk").assert_contains("2 reacties");
        page.assert_lacks("Koop nu").assert_lacks("In de prullenbak");

        // The author became an editor account without a password.
        let user = kantlijn::store::users::find_by_username(app.db.read(), "redactie")
            .await
            .unwrap()
            .expect("an account for the post's author");
        assert_eq!(user.display_name, "De Redactie");
        assert_eq!(article.author_id, user.id);
        assert!(!kantlijn::security::verify_password("", &user.password_hash));
    }
}

db_test! {
    async fn a_broken_file_keeps_what_came_before_and_a_rerun_completes_it(app) {
        let full = std::fs::read_to_string(theme_unit_test_data()).unwrap();
        // Cut in the middle of the template-comments post.
        let cut = full.find("Comment Depth 03").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("broken.xml");
        std::fs::write(&broken, &full[..cut]).unwrap();
        let ran = kantlijn(
            dir.path(),
            &["import", "wordpress", broken.to_str().unwrap(), "--database-url", &app.url],
            &[],
            "",
        );
        // Progress lines, then the one line that says why it stopped.
        assert_eq!(ran.code, 1, "{ran:?}");
        let last = ran.stderr.trim_end().lines().last().unwrap_or_default();
        for fragment in ["kantlijn: importing", "stopped", "not well-formed XML"] {
            assert!(last.contains(fragment), "{fragment:?} in {last:?}");
        }
        let before = articles::Entity::find().count(app.db.read()).await.unwrap();
        assert!(before > 0 && before < 58, "{before}");
        assert!(ran.stdout.contains("articles:"), "the summary is printed: {ran:?}");
        // The post that was cut off is not there in part.
        assert!(
            kantlijn::store::articles::find_by_slug(app.db.read(), "template-comments")
                .await
                .unwrap()
                .is_none()
        );
        let summary = import(&app, &theme_unit_test_data(), &[]);
        assert!(summary.contains(&format!("{before} already there")), "{summary}");
        assert_eq!(articles::Entity::find().count(app.db.read()).await.unwrap(), 58);
        assert_eq!(comments::Entity::find().count(app.db.read()).await.unwrap(), 24);
    }
}

db_test! {
    async fn not_a_wordpress_file_is_refused_with_what_to_do(app) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("feed.xml");
        std::fs::write(&file, "<rss><channel><item><title>x</title></item></channel></rss>")
            .unwrap();
        let ran = kantlijn(
            dir.path(),
            &["import", "wordpress", file.to_str().unwrap(), "--database-url", &app.url],
            &[],
            "",
        );
        ran.refused(1, &["not a WordPress export"]);
        let ran = kantlijn(
            dir.path(),
            &["import", "wordpress", "missing.xml", "--database-url", &app.url],
            &[],
            "",
        );
        ran.refused(1, &["cannot open missing.xml"]);
    }
}

/// A multipart body as a browser sends the import form.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (Vec<u8>, String) {
    let boundary = "----kantlijnTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/xml\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

async fn upload(
    app: &TestApp,
    fields: &[(&str, &str)],
    file: Option<(&str, &[u8])>,
) -> crate::helpers::Resp {
    let (body, content_type) = multipart(fields, file);
    let length = body.len().to_string();
    app.send_bytes(
        Method::POST,
        "/beheer/import",
        Some(body),
        &[("content-type", &content_type), ("content-length", &length)],
    )
    .await
}

db_test! {
    async fn an_admin_uploads_an_export_and_sees_what_it_did(app) {
        app.login_as(Role::Admin).await;
        let form = app.get("/beheer/import").await;
        form.assert_status(StatusCode::OK);
        let token = hidden_value(&form.body, "csrf_token").unwrap();
        let data = std::fs::read(theme_unit_test_data()).unwrap();
        assert!(data.len() > 64 * 1024, "above the cap of every other route");

        let page = upload(
            &app,
            &[("csrf_token", &token), ("kind", "wordpress")],
            Some(("themeunittestdata.wordpress.xml", &data)),
        )
        .await;
        page.assert_status(StatusCode::OK);
        page.assert_contains("Toegevoegd: artikelen (gepubliceerd)</td><td>55")
            .assert_contains("Toegevoegd: reacties (goedgekeurd)</td><td>23")
            .assert_contains("Toegevoegd: reacties (wacht op moderatie)</td><td>1")
            .assert_contains("Overgeslagen: pingbacks</td><td>2");
        assert_eq!(articles::Entity::find().count(app.db.read()).await.unwrap(), 58);
        // At once on the site: the article page is not served from a stale cache.
        app.get("/artikelen/template-comments")
            .await
            .assert_status(StatusCode::OK)
            .assert_contains("19 reacties");

        // Again: nothing new, and the page says so.
        upload(
            &app,
            &[("csrf_token", &token), ("kind", "wordpress")],
            Some(("themeunittestdata.wordpress.xml", &data)),
        )
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Niets nieuws");
        assert_eq!(comments::Entity::find().count(app.db.read()).await.unwrap(), 24);
    }
}

db_test! {
    async fn the_upload_needs_an_admin_a_token_and_a_file_within_its_cap(app) {
        let data = SMALL_WXR.as_bytes();
        // Not logged in: to the login page; an editor: refused.
        let resp = upload(&app, &[("kind", "wordpress")], Some(("a.xml", data))).await;
        resp.assert_status(StatusCode::SEE_OTHER);
        app.login_as(Role::Editor).await;
        let resp = upload(&app, &[("kind", "wordpress")], Some(("a.xml", data))).await;
        resp.assert_status(StatusCode::FORBIDDEN);

        let admin = app.other_browser();
        admin.login_as(Role::Admin).await;
        let token = admin.csrf_token().await;
        // Without the token, or with another's: refused before the file is read.
        let (body, content_type) = multipart(&[("kind", "wordpress")], Some(("a.xml", data)));
        let length = body.len().to_string();
        admin
            .send_bytes(
                Method::POST,
                "/beheer/import",
                Some(body),
                &[("content-type", &content_type), ("content-length", &length)],
            )
            .await
            .assert_status(StatusCode::FORBIDDEN);
        let forged = upload(
            &admin,
            &[("csrf_token", "AAAA"), ("kind", "wordpress")],
            Some(("a.xml", data)),
        )
        .await;
        forged.assert_status(StatusCode::FORBIDDEN);
        // The token after the file: the file would be read unchecked, so it is refused.
        let boundary = "b0undary";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nwordpress\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xml\"\r\n\r\n{SMALL_WXR}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n--{boundary}--\r\n"
        );
        let length = body.len().to_string();
        admin
            .send_bytes(
                Method::POST,
                "/beheer/import",
                Some(body.into_bytes()),
                &[
                    ("content-type", &format!("multipart/form-data; boundary={boundary}")),
                    ("content-length", &length),
                ],
            )
            .await
            .assert_status(StatusCode::FORBIDDEN);
        // A forged header token is checked like any other.
        let (body, content_type) = multipart(&[("kind", "wordpress")], Some(("a.xml", data)));
        let length = body.len().to_string();
        admin
            .send_bytes(
                Method::POST,
                "/beheer/import",
                Some(body),
                &[
                    ("content-type", &content_type),
                    ("content-length", &length),
                    ("x-csrf-token", "AAAA"),
                ],
            )
            .await
            .assert_status(StatusCode::FORBIDDEN);
        assert_eq!(articles::Entity::find().count(app.db.read()).await.unwrap(), 0);

        // No file, or a file that is not an export: the form again, in Dutch.
        upload(&admin, &[("csrf_token", &token), ("kind", "wordpress")], None)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
            .assert_contains("Kies een exportbestand");
        upload(
            &admin,
            &[("csrf_token", &token), ("kind", "wordpress")],
            Some(("a.xml", b"<html><body>geen export</body></html>")),
        )
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY)
        .assert_contains("Dit is geen WordPress-export");

        // Larger than the upload cap: refused on its declared length alone.
        let huge = (300u64 * 1024 * 1024).to_string();
        admin
            .send_bytes(
                Method::POST,
                "/beheer/import",
                Some(b"x".to_vec()),
                &[("content-type", "multipart/form-data; boundary=x"), ("content-length", &huge)],
            )
            .await
            .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
        // The raised cap is this route's alone.
        let big = "x".repeat(100 * 1024);
        admin
            .post_form("/beheer/privacy", &[("email", &big)])
            .await
            .assert_status(StatusCode::PAYLOAD_TOO_LARGE);

        upload(
            &admin,
            &[("csrf_token", &token), ("kind", "wordpress")],
            Some(("a.xml", data)),
        )
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Toegevoegd: reacties (goedgekeurd)</td><td>2");
    }
}

db_test! {
    async fn a_disqus_export_uploads_onto_an_article_readers_have_seen(app) {
        let slug = app.published_article("Lerarenregister wordt lerarenportfolio").await;
        // Readers have the page (now cached) before the import.
        app.get(&format!("/artikelen/{slug}"))
            .await
            .assert_contains("Nog geen reacties");
        app.login_as(Role::Admin).await;
        let token = app.csrf_token().await;
        let data = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/disqus/export.xml"),
        )
        .unwrap();
        upload(
            &app,
            &[("csrf_token", &token), ("kind", "disqus")],
            Some(("disqus.xml", &data)),
        )
        .await
        .assert_status(StatusCode::OK)
        .assert_contains("Toegevoegd: reacties (goedgekeurd)</td><td>9");
        // The article's page shows the thread at once: no stale copy from before.
        app.clear_cookies();
        let page = app.get(&format!("/artikelen/{slug}")).await;
        page.assert_status(StatusCode::OK).assert_lacks("Nog geen reacties");
        assert!(page.body.matches("class=\"reaction depth-").count() > 0, "{}", page.body);
    }
}

db_test! {
    async fn overlong_titles_missing_ids_and_odd_dates_are_handled_not_fatal(app) {
        let long_title = "Lerarenregister ".repeat(20);
        let item = |id: &str, title: &str, comments: &str| {
            format!(
                "<item><title>{title}</title><wp:post_id>{id}</wp:post_id>\
                 <wp:post_date_gmt>2020-01-01 10:00:00</wp:post_date_gmt>\
                 <wp:status>publish</wp:status><wp:post_type>post</wp:post_type>{comments}</item>"
            )
        };
        let comment = |id: &str, date: &str| {
            format!(
                "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author>Els</wp:comment_author>\
                 <wp:comment_date_gmt>{date}</wp:comment_date_gmt>\
                 <wp:comment_content>Reactie {id}</wp:comment_content>\
                 <wp:comment_approved>1</wp:comment_approved></wp:comment>"
            )
        };
        let wxr = format!(
            "<rss xmlns:wp=\"https://wordpress.org/export/1.2/\"><channel><link>https://x.example</link>{}{}{}</channel></rss>",
            item(
                "1",
                &long_title,
                &[comment("10", "12345-01-01 00:00:00"), comment("", "2020-01-02 00:00:00"), comment("11", "2020-01-03 00:00:00")].concat(),
            ),
            item("", "Zonder id", &comment("12", "2020-01-02 00:00:00")),
            item("2", "Markup: Title &lt;em&gt;With&lt;/em&gt; &lt;b&gt;Mark&lt;sup&gt;up&lt;/sup&gt;&lt;/b&gt;", ""),
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("odd.xml");
        std::fs::write(&file, wxr).unwrap();
        let summary = import(&app, &file, &[]);
        assert!(summary.contains("articles: 2 added (2 published)"), "{summary}");
        assert!(summary.contains("reactions: 2 added (2 approved)"), "{summary}");
        assert!(summary.contains("skipped: 2 items without a usable id"), "{summary}");
        assert!(summary.contains("note: 1 titles shortened to 200 characters"), "{summary}");

        let titles: Vec<String> = articles::Entity::find()
            .order_by_asc(articles::Column::Id)
            .all(app.db.read())
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.title)
            .collect();
        assert_eq!(titles[0].chars().count(), 200, "cut at 200 characters");
        // A title's markup is not kept as text.
        assert_eq!(titles[1], "Markup: Title With Markup");
        // A year the export format cannot write falls back to the post's date.
        let first = comments::Entity::find()
            .order_by_asc(comments::Column::Id)
            .one(app.db.read())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.created_at.to_rfc3339(), "2020-01-01T10:00:00+00:00");
        // And the site still moves: its export reads back.
        let ran = kantlijn(dir.path(), &["export", "site.json", "--database-url", &app.url], &[], "");
        ran.ok();
    }
}
