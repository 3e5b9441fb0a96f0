//! "Nuttig": a reader marks a reaction helpful by keyboard, in place with JavaScript and
//! through the shared form without it; the page stays accessible.

use serde_json::json;

use crate::{
    Site,
    accessibility::assert_accessible,
    assert_quiet_console,
    webdriver::{Browser, Scripts},
};

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// The button's `aria-pressed` and the count it shows.
fn state(browser: &Browser, id: i64) -> serde_json::Value {
    browser.run(
        "const b = document.querySelector(`#reactie-${arguments[0]} button[form=nuttig]`);
         return [b.getAttribute('aria-pressed'), b.querySelector('span').textContent];",
        json!([id]),
    )
}

fn votes(scripts: Scripts) {
    let Some(browser) = Browser::start_with(scripts) else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    let id = site.approved(
        "Kees Mulder",
        "Vraag de teamleider om vaste uren per week.",
        None,
    );
    browser.goto(&site.article_url());
    browser.run("window.kantlijnTestMark = true;", json!([]));
    // The script says which buttons are pressed; without it a button is a plain button
    // (the cached page cannot know this browser's votes).
    let unpressed = match scripts {
        Scripts::On => json!("false"),
        Scripts::Off => serde_json::Value::Null,
    };
    assert_eq!(state(&browser, id), json!([unpressed, "0"]));

    // By keyboard: from the reaction's permalink, Tab reaches the button; Enter presses it.
    browser.run(
        "document.querySelector(`#reactie-${arguments[0]} a.permalink`).focus();",
        json!([id]),
    );
    browser.press(TAB);
    let focused = browser.run(
        "return document.activeElement.matches(`#reactie-${arguments[0]} button[form=nuttig]`);",
        json!([id]),
    );
    assert_eq!(focused, json!(true), "Tab does not reach the button");
    browser.press(ENTER);
    browser.wait_until(
        &format!(
            "document.querySelector('#reactie-{id} button[form=nuttig] span').textContent === '1'"
        ),
        "the count after the vote",
    );
    assert_eq!(
        state(&browser, id),
        json!([
            if scripts == Scripts::On {
                json!("true")
            } else {
                unpressed.clone()
            },
            "1"
        ])
    );
    let stayed = browser.run("return window.kantlijnTestMark === true;", json!([]));
    if scripts == Scripts::On {
        assert_eq!(stayed, json!(true), "with JS the page stays");
        let said = browser.run(
            "return [...document.querySelectorAll('[aria-live=polite]')].map(e => e.textContent).join('|');",
            json!([]),
        );
        assert!(
            said.as_str().unwrap().contains("Gemarkeerd als nuttig"),
            "{said}"
        );
        assert_accessible(&browser, "the article after a vote");
        // The page from the cache cannot know this browser voted: the script remembers.
        browser.goto(&site.article_url());
        browser.wait_until("document.readyState === 'complete'", "the page again");
        assert_eq!(state(&browser, id), json!(["true", "1"]));
        browser.click(&format!("//li[@id='reactie-{id}']//button[@form='nuttig']"));
        browser.wait_until(
            &format!("document.querySelector('#reactie-{id} button[form=nuttig]').getAttribute('aria-pressed') === 'false'"),
            "the vote taken back",
        );
        assert_eq!(state(&browser, id), json!(["false", "0"]));
    } else {
        assert_eq!(stayed, json!(false), "without JS the form posts");
        let path = browser.path();
        assert!(
            path.contains(&format!("?reactie={id}#reactie-{id}")),
            "{path}"
        );
        // Pressed again, the vote is taken back.
        browser.click(&format!("//li[@id='reactie-{id}']//button[@form='nuttig']"));
        browser.wait_until(
            &format!(
                "document.querySelector('#reactie-{id} button[form=nuttig] span').textContent === '0'"
            ),
            "the count after taking the vote back",
        );
    }
    assert_quiet_console(&browser, "voting");
}

#[test]
fn a_reader_marks_a_reaction_helpful_with_javascript() {
    votes(Scripts::On);
}

#[test]
fn a_reader_marks_a_reaction_helpful_without_javascript() {
    votes(Scripts::Off);
}
