//! The newest reactions across the site and a thread in another order: axe finds
//! nothing serious, and a keyboard alone reaches and follows the order links.

use serde_json::json;

use crate::{Site, accessibility::assert_accessible, console_noise, webdriver::Browser};

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Tabs from the top of the page until the link named `text` has the focus; fails after
/// `limit` presses.
fn tab_to_link(browser: &Browser, text: &str, limit: usize) {
    for _ in 0..limit {
        browser.press(TAB);
        let focused = browser.run(
            "const e = document.activeElement; \
             return e && e.tagName === 'A' ? e.textContent.trim() : '';",
            json!([]),
        );
        if focused == json!(text) {
            return;
        }
    }
    panic!("\"{text}\" was not reached in {limit} presses of Tab");
}

#[test]
fn recent_reactions_and_a_sorted_thread_are_accessible_and_sorted_by_keyboard() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    let pages = [
        ("recent reactions", "/reacties".to_owned()),
        (
            "article, newest first",
            format!("/artikelen/{}?sorteer=nieuw", site.slug),
        ),
        (
            "article, most helpful first",
            format!("/artikelen/{}?sorteer=nuttig", site.slug),
        ),
        ("home with recent reactions", "/".to_owned()),
    ];
    for scheme in ["light", "dark"] {
        browser.color_scheme(scheme);
        for (name, path) in &pages {
            browser.goto(&site.url(path));
            browser.wait_until("document.readyState === 'complete'", "the page to load");
            assert_accessible(&browser, &format!("{name} ({path}), {scheme}"));
            let noise = console_noise(&browser, None);
            assert!(noise.is_empty(), "{name}: {noise:?}");
        }
    }
    browser.goto(&site.url("/reacties"));
    assert_eq!(
        browser
            .count("//nav[@aria-label='Hoofdmenu']//a[@href='/reacties' and @aria-current='page']"),
        1,
        "the menu says where the reader is"
    );
    assert_eq!(browser.count("//ol[@class='recent-list']/li"), 5);

    // From the top of the article, by keyboard only: "Nieuwste eerst", then back.
    browser.goto(&site.article_url());
    browser.wait_until("document.readyState === 'complete'", "the article");
    tab_to_link(&browser, "Nieuwste eerst", 40);
    browser.press(ENTER);
    browser.wait_until(
        "location.search === '?sorteer=nieuw'",
        "the thread newest first",
    );
    assert_eq!(
        browser.text("//nav[contains(@class,'thread-sort')]//a[@aria-current='true']"),
        "Nieuwste eerst"
    );
    let first = browser.text("(//li[contains(@class,'reaction') and contains(@class,'depth-1')]//*[contains(@class,'author')])[1]");
    assert_eq!(
        first, "Fatima El Amrani",
        "the newest top-level reaction leads"
    );
    tab_to_link(&browser, "Oudste eerst", 40);
    browser.press(ENTER);
    browser.wait_until("location.search === ''", "the thread oldest first again");
    let first = browser.text("(//li[contains(@class,'reaction') and contains(@class,'depth-1')]//*[contains(@class,'author')])[1]");
    assert_eq!(first, "Marieke de Vries");
}
