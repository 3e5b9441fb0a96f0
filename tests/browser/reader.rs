//! A reader posts, replies, previews and edits, with JavaScript on and off.

use std::time::Duration;

use serde_json::json;

use crate::{
    PLACE_BUTTON, Site,
    accessibility::assert_accessible,
    assert_quiet_console,
    webdriver::{Browser, Scripts},
};

/// A form sent back sooner than this after it was served is taken for a bot's: readers in
/// these tests take at least as long as the site's 2 seconds.
const READING_TIME: Duration = Duration::from_millis(2100);

/// Fills in the reaction form wherever it is on the page.
pub fn fill_in(browser: &Browser, name: &str, body: &str) {
    browser.replace_text("//form[@id='reageren']//input[@name='author_name']", name);
    browser.replace_text(
        "//form[@id='reageren']//input[@name='author_email']",
        &format!("{}@example.nl", name.to_lowercase().replace(' ', ".")),
    );
    browser.replace_text("//form[@id='reageren']//textarea[@name='body']", body);
}

/// Posts the reaction form, after as long as a person takes to write: the id of the new
/// reaction, from the page the site sends the reader to (`?reactie=ID`).
pub fn place(browser: &Browser) -> i64 {
    std::thread::sleep(READING_TIME);
    let before = browser.run("return location.href;", json!([]));
    browser.click(PLACE_BUTTON);
    browser.wait_until(
        &format!("location.href !== {before} && document.readyState === 'complete'"),
        "the page after posting",
    );
    let path = browser.path();
    let id = path
        .split("reactie=")
        .nth(1)
        .and_then(|rest| rest.split(['&', '#']).next())
        .and_then(|id| id.parse().ok());
    id.unwrap_or_else(|| panic!("no reaction id in {path}"))
}

/// Asks for the preview of what is typed: it shows `bold` in bold, and nothing typed is
/// lost. With JS the page stays; without, the page comes back with the preview.
fn preview(browser: &Browser, scripts: Scripts, bold: &str) {
    let typed = "const form = document.getElementById('reageren');
                 return [form.author_name.value, form.author_email.value, form.body.value];";
    let before = browser.run(typed, json!([]));
    browser.run("window.kantlijnTestMark = true;", json!([]));
    browser.click("//form[@id='reageren']//button[@name='voorbeeld']");
    browser.wait_until(
        &format!(
            "[...document.querySelectorAll('#reactie-voorbeeld:not([hidden]) [data-preview-body] strong')]\
               .some(e => e.textContent === {bold:?})"
        ),
        "the preview",
    );
    // (shown in capitals by the style sheet)
    let heading = browser.text("//section[@id='reactie-voorbeeld']//h3");
    assert_eq!(heading.to_lowercase(), "voorbeeld van je reactie");
    let left = browser.run("return window.kantlijnTestMark !== true;", json!([]));
    assert_eq!(
        left,
        json!(scripts == Scripts::Off),
        "JS on stays on the page"
    );
    assert_eq!(
        browser.run(typed, json!([])),
        before,
        "the preview lost what was typed"
    );
}

fn reader_posts_replies_and_edits(scripts: Scripts) {
    let Some(browser) = Browser::start_with(scripts) else {
        return;
    };
    let site = Site::start(&[]).with_thread();

    // A preview first (in place with JS, as the page again without), then the reaction
    // itself: they see it, marked as waiting, and nobody else does.
    browser.goto(&site.article_url());
    fill_in(
        &browser,
        "Lotte Smit",
        "Mijn school is **al begonnen** met het portfolio.",
    );
    preview(&browser, scripts, "al begonnen");
    let own = place(&browser);
    let mine = format!("//li[@id='reactie-{own}']");
    assert!(
        browser
            .text(&mine)
            .contains("Je reactie wacht op moderatie")
    );
    assert_eq!(
        browser.count(&format!("{mine}//strong[.='al begonnen']")),
        1
    );
    let (_, public) = site.request("GET", &format!("/artikelen/{}", site.slug), &[], "");
    assert!(
        !public.contains("al begonnen"),
        "a pending reaction is public"
    );

    // A reply to Ahmed: with JS the form comes to his reaction, without it the page
    // reloads with the form saying whom it answers.
    let ahmed = "//li[contains(@class,'reaction')][./article//*[contains(@class,'author')][.='Ahmed Yilmaz']]";
    browser.click(&format!(
        "{ahmed}/article//a[contains(@class,'reply-link')]"
    ));
    let context = "//form[@id='reageren']//*[contains(@class,'reply-context')]";
    assert!(
        browser
            .text(context)
            .contains("Je reageert op Ahmed Yilmaz.")
    );
    if scripts == Scripts::On {
        let placed = browser.run(
            "const form = document.getElementById('reageren');
             return form.previousElementSibling.closest('li').querySelector('.author').textContent
               + ' / ' + (document.activeElement === form.querySelector('textarea'));",
            json!([]),
        );
        assert_eq!(
            placed,
            json!("Ahmed Yilmaz / true"),
            "the form is not under the reaction"
        );
        assert!(!browser.path().contains("antwoord="), "the page was left");
    } else {
        assert!(browser.path().contains("antwoord="), "{}", browser.path());
    }
    fill_in(
        &browser,
        "Lotte Smit",
        "Vraag het ook na bij de **vakbond**.",
    );
    preview(&browser, scripts, "vakbond");
    assert!(
        browser
            .text(context)
            .contains("Je reageert op Ahmed Yilmaz.")
    );
    let reply = place(&browser);
    assert_eq!(
        browser.count(&format!("{ahmed}//li[@id='reactie-{reply}']")),
        1,
        "the reply is not under Ahmed's reaction"
    );

    // Changed within the quarter of an hour: the page shows the new text.
    browser.click(&format!(
        "//li[@id='reactie-{reply}']//a[contains(.,'Bewerken of verwijderen')]"
    ));
    browser.wait_until("location.pathname.endsWith('/bewerken')", "the edit page");
    if scripts == Scripts::On {
        // (axe needs the page's timers, which a browser without JS does not run.)
        assert_accessible(&browser, "the edit page");
    }
    browser.replace_text(
        "//textarea[@name='body']",
        "Vraag het na bij de *vakbond* en de MR.",
    );
    browser.click("//button[.='Opslaan']");
    browser.wait_until(
        "!location.pathname.endsWith('/bewerken')",
        "the article after saving",
    );
    let edited = format!("//li[@id='reactie-{reply}']");
    browser.wait_until(
        &format!("document.querySelector('#reactie-{reply} em')"),
        "the edited reply",
    );
    assert!(
        browser.text(&edited).contains("de MR"),
        "{}",
        browser.text(&edited)
    );
    assert_quiet_console(&browser, "the reader's pages");
}

#[test]
fn a_reader_posts_replies_and_edits_with_javascript() {
    reader_posts_replies_and_edits(Scripts::On);
}

#[test]
fn a_reader_posts_replies_and_edits_without_javascript() {
    reader_posts_replies_and_edits(Scripts::Off);
}

/// Over the reaction quota the reader gets the form back with a Dutch message, and not a
/// word of what they wrote is lost.
fn too_many_reactions_keep_the_text(scripts: Scripts) {
    let Some(browser) = Browser::start_with(scripts) else {
        return;
    };
    let site = Site::start(&[("KANTLIJN_RATE_LIMITS", "on")]);
    let text = "Een lange gedachte die ik niet kwijt wil raken, over het portfolio.";
    for attempt in 1..=4 {
        browser.goto(&site.article_url());
        fill_in(&browser, "Snelle Schrijver", &format!("{text} ({attempt})"));
        if attempt < 4 {
            place(&browser);
        } else {
            std::thread::sleep(READING_TIME);
            browser.click(PLACE_BUTTON);
        }
    }
    let notice = browser.text("//form[@id='reageren']//*[@role='alert']");
    assert!(notice.contains("Probeer het"), "{notice}");
    let kept = browser.run(
        "const form = document.getElementById('reageren');
         return [form.author_name.value, form.author_email.value, form.body.value];",
        json!([]),
    );
    assert_eq!(
        kept,
        json!([
            "Snelle Schrijver",
            "snelle.schrijver@example.nl",
            format!("{text} (4)")
        ])
    );
    // The browser saw the 429 (its console names it) and nothing else went wrong.
    let (limited, noise): (Vec<String>, Vec<String>) = crate::console_noise(&browser, None)
        .into_iter()
        .partition(|line| line.contains("status of 429"));
    assert_eq!(limited.len(), 1, "{limited:#?}");
    assert!(noise.is_empty(), "{noise:#?}");
}

#[test]
fn too_many_reactions_keep_the_text_with_javascript() {
    too_many_reactions_keep_the_text(Scripts::On);
}

#[test]
fn too_many_reactions_keep_the_text_without_javascript() {
    too_many_reactions_keep_the_text(Scripts::Off);
}
