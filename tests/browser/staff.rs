//! Moderators and editors at work: the queue (by mouse without JavaScript, by keyboard
//! with it), writing an article with a preview and publishing it.

use serde_json::json;

use crate::{
    Site,
    accessibility::assert_accessible,
    assert_quiet_console, log_in,
    reader::{fill_in, place},
    webdriver::{Browser, Scripts},
};

/// WebDriver's code for the Escape key.
const ESCAPE: &str = "\u{E00C}";

/// Marks the page the browser shows, to tell later whether it was left.
fn mark_page(browser: &Browser) {
    browser.run("window.kantlijnTestMark = true;", json!([]));
}

fn page_was_left(browser: &Browser) -> bool {
    browser.run("return window.kantlijnTestMark !== true;", json!([])) == json!(true)
}

fn editor_previews_and_publishes(scripts: Scripts) {
    let Some(browser) = Browser::start_with(scripts) else {
        return;
    };
    let site = Site::start(&[]);
    log_in(&browser, &site, "redactie");
    browser.goto(&site.url("/beheer/artikelen/nieuw"));
    browser.type_into("//input[@id='title']", "Het portfolio in de praktijk");
    browser.type_into(
        "//textarea[@id='body']",
        "## Eerste ervaringen\n\nScholen **beginnen** dit jaar.\n\n<script>alert(1)</script>",
    );

    // The preview: in place with JS, as the form again without it; nothing typed is lost.
    mark_page(&browser);
    browser.click("//button[@name='voorbeeld']");
    browser.wait_until(
        "document.querySelector('#article-preview:not([hidden]) strong')",
        "the preview",
    );
    let preview = "//section[@id='article-preview']";
    assert_eq!(
        browser.count(&format!("{preview}//strong[.='beginnen']")),
        1
    );
    assert_eq!(
        browser.count(&format!("{preview}//h2[.='Eerste ervaringen']")),
        1
    );
    assert_eq!(browser.count(&format!("{preview}//script")), 0);
    assert_eq!(page_was_left(&browser), scripts == Scripts::Off);
    let title = browser.run("return document.getElementById('title').value;", json!([]));
    assert_eq!(title, json!("Het portfolio in de praktijk"));

    browser.click("//input[@name='status'][@value='published']");
    browser.click("//button[normalize-space()='Opslaan']");
    browser.wait_until(
        "location.pathname.endsWith('/bewerken')",
        "the saved article",
    );
    assert!(browser.text("//*[@role='status']").contains("Opgeslagen"));
    browser.click("//a[.='Bekijk op de site']");
    browser.wait_until(
        "location.pathname.startsWith('/artikelen/')",
        "the public article",
    );
    assert_eq!(browser.text("//h1"), "Het portfolio in de praktijk");
    assert_eq!(browser.count("//h2[.='Eerste ervaringen']"), 1);
    let (_, home) = site.request("GET", "/", &[], "");
    assert!(
        home.contains("Het portfolio in de praktijk"),
        "not on the home page"
    );
    assert_quiet_console(&browser, "the editor's pages");
}

#[test]
fn an_editor_previews_and_publishes_with_javascript() {
    editor_previews_and_publishes(Scripts::On);
}

#[test]
fn an_editor_previews_and_publishes_without_javascript() {
    editor_previews_and_publishes(Scripts::Off);
}

/// Without JavaScript the queue works by its buttons: the moderator approves one
/// reaction, and the reader who wrote it sees it published.
#[test]
fn a_moderator_approves_by_the_buttons_without_javascript() {
    let Some(moderator) = Browser::start_with(Scripts::Off) else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    let waiting = site.comment("Kees Mulder", "Graag meer uitleg over de *overgang*.", None);
    log_in(&moderator, &site, "moderator");
    moderator.goto(&site.url("/beheer/moderatie"));
    let item = format!("//li[@id='item-{waiting}']");
    moderator.click(&format!("{item}//button[normalize-space()='Goedkeuren']"));
    moderator.wait_until(
        "document.querySelector('p.notice[role=status]')",
        "the queue after approving",
    );
    assert!(
        moderator
            .text("//p[contains(@class,'notice')]")
            .contains("1 reactie bijgewerkt")
    );
    assert_eq!(
        moderator.count(&item),
        0,
        "the approved reaction is still queued"
    );
    assert_quiet_console(&moderator, "the queue");

    let (_, page) = site.request("GET", &format!("/artikelen/{}", site.slug), &[], "");
    assert!(page.contains("<em>overgang</em>"), "not published");
}

/// The ids of the queue's items, top to bottom.
fn queued(browser: &Browser) -> Vec<i64> {
    let ids = browser.run(
        "return [...document.querySelectorAll('li.queue-item')].map(i => Number(i.dataset.id));",
        json!([]),
    );
    serde_json::from_value(ids).unwrap()
}

fn live_region(browser: &Browser) -> String {
    browser.wait_text("//*[@id='queue-status']")
}

fn badge(browser: &Browser, status: &str) -> String {
    browser.text(&format!(
        "//nav[contains(@class,'tabs')]//a[@data-status='{status}']//*[contains(@class,'badge')]"
    ))
}

/// A reader's reaction is approved by keyboard; two others are selected with `x` and
/// rejected together. Focus stays where the moderator works, the live region says what
/// happened, and the queue shows what a reply answers and what its author wrote before.
#[test]
fn a_moderator_works_the_queue_by_keyboard() {
    let (Some(reader), Some(moderator)) = (Browser::start(), Browser::start()) else {
        return;
    };
    let site = Site::start(&[]).with_thread();

    reader.goto(&site.article_url());
    fill_in(
        &reader,
        "Kees Mulder",
        "Graag meer uitleg over de *overgang*.",
    );
    let own = place(&reader);

    log_in(&moderator, &site, "moderator");
    moderator.goto(&site.url("/beheer/moderatie"));
    moderator.wait_until(
        "!document.getElementById('queue-keys-hint').hidden",
        "the keys hint",
    );
    let ids = queued(&moderator);
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert_eq!(ids[2], own);
    let (sanne, pieter) = (ids[0], ids[1]);

    // The context: Pieter's reply quotes Marieke's approved reaction as text; Pieter
    // wrote nothing else, and his address (this machine's) wrote the whole thread.
    let item = format!("//li[@id='item-{pieter}']");
    let quote = moderator.text(&format!(
        "{item}//blockquote[contains(@class,'parent-quote')]"
    ));
    assert!(
        quote.starts_with("Goed dat het register er niet komt."),
        "{quote}"
    );
    assert!(!quote.contains("**"), "the quote shows Markdown: {quote}");
    let state = moderator.text(&format!("{item}//*[contains(@class,'parent-state')]"));
    assert!(state.contains("goedgekeurd"), "{state}");
    let by_email = moderator.text(&format!("{item}//li[@data-history='zelfde_email']"));
    assert!(by_email.contains("0 goedgekeurd"), "{by_email}");
    let by_address = moderator.text(&format!("{item}//li[@data-history='zelfde_adres']"));
    assert!(by_address.contains("5 goedgekeurd"), "{by_address}");

    // `?` shows the keys; Escape closes them and gives the focus back.
    moderator.press("?");
    moderator.wait_until(
        "document.getElementById('queue-keys').open",
        "the keys dialog",
    );
    assert_eq!(moderator.focused_id(), "queue-keys-close");
    assert_accessible(&moderator, "the queue with its keys dialog");
    moderator.press(ESCAPE);
    moderator.wait_until(
        "!document.getElementById('queue-keys').open",
        "the dialog to close",
    );

    // j moves down, k up; a approves the current item.
    moderator.press("jjj");
    assert_eq!(moderator.focused_id(), format!("item-{own}"));
    moderator.press("k");
    assert_eq!(moderator.focused_id(), format!("item-{pieter}"));
    moderator.press("ja");
    assert_eq!(live_region(&moderator), "1 reactie goedgekeurd.");
    assert_eq!(queued(&moderator), vec![sanne, pieter]);
    // It was the last item: the focus goes to the one before it.
    assert_eq!(moderator.focused_id(), format!("item-{pieter}"));
    assert_eq!(badge(&moderator, "pending"), "2");
    assert_eq!(badge(&moderator, "approved"), "6");

    // x selects the current item; with two selected, r rejects both at once.
    moderator.press("xk");
    assert_eq!(moderator.focused_id(), format!("item-{sanne}"));
    moderator.press("x");
    assert_eq!(live_region(&moderator), "2 reacties geselecteerd.");
    moderator.press("r");
    moderator.wait_until(
        "document.querySelectorAll('li.queue-item').length === 0",
        "an empty queue",
    );
    assert_eq!(live_region(&moderator), "2 reacties afgewezen.");
    assert_eq!(moderator.focused_id(), "queue-empty");
    assert_quiet_console(&moderator, "the queue");

    // What the moderator did is what the site holds: the reader sees their reaction
    // published, and the two rejected ones are under "Afgewezen".
    reader.goto(&site.article_url());
    let mine = format!("//li[@id='reactie-{own}']");
    assert_eq!(reader.count(&format!("{mine}//em[.='overgang']")), 1);
    assert!(!reader.text(&mine).contains("wacht op moderatie"));
    assert_quiet_console(&reader, "the reader's page");
    moderator.goto(&site.url("/beheer/moderatie?status=rejected"));
    let mut rejected = queued(&moderator);
    rejected.sort_unstable();
    assert_eq!(rejected, vec![sanne, pieter]);
}

/// An admin moves a WordPress site in through the form: the file chosen in the browser's
/// own file input, the summary page after it, and the imported thread on the site.
#[test]
fn an_admin_imports_a_wordpress_export_in_the_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[]);
    log_in(&browser, &site, "beheer");
    browser.goto(&site.url("/beheer/import"));
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wordpress/themeunittestdata.wordpress.xml");
    browser.type_into("//input[@id='file']", file.to_str().unwrap());
    browser.click("//form[@action='/beheer/import']//button[@type='submit']");
    browser.wait_until(
        "document.getElementById('resultaat')",
        "the import's summary",
    );
    let summary = browser.text("//section[@aria-labelledby='resultaat']");
    assert!(
        summary.contains("Toegevoegd: artikelen (gepubliceerd) 55"),
        "{summary}"
    );
    assert!(summary.contains("Overgeslagen: pingbacks 2"), "{summary}");
    assert_accessible(&browser, "import summary");
    assert_quiet_console(&browser, "import summary");

    browser.goto(&site.url("/artikelen/template-comments"));
    assert_eq!(browser.count("//li[contains(@class,'reaction')]"), 19);
}
