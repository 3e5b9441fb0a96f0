//! Moderators and editors at work: the queue (by mouse without JavaScript, by keyboard
//! with it), writing an article with a preview and publishing it.

use serde_json::json;

use crate::{
    Site, assert_quiet_console, log_in,
    webdriver::{Browser, Scripts},
};

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
        "document.querySelector('[role=status]')",
        "the queue after approving",
    );
    assert!(
        moderator
            .text("//*[@role='status']")
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
