//! The screenshots in the README, taken as a reader, a moderator and an editor see the
//! pages: on a laptop and on a 390 px phone. `KANTLIJN_UPDATE_SCREENSHOTS=1` writes them
//! to `docs/screenshots/`; otherwise to `target/screenshots/`, to look at.

use crate::{
    PLACE_BUTTON, Site, log_in, screenshot_path,
    webdriver::{Browser, Scripts},
};

/// Each screen: its name in the file names, and the window it is taken in.
const SCREENS: [(&str, u32, u32, bool); 2] =
    [("desktop", 1280, 900, false), ("phone", 390, 844, true)];

#[test]
fn screenshots_of_the_main_pages() {
    let Some(browser) = Browser::start_with(Scripts::On) else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    for (screen, width, height, mobile) in SCREENS {
        browser.viewport(width, height, mobile);
        browser.goto(&site.article_url());
        browser.wait_until("document.readyState === 'complete'", "the article");
        browser.screenshot(&screenshot_path(&format!("article-{screen}")));

        browser.replace_text(
            "//form[@id='reageren']//textarea[@name='body']",
            "Ik ben het **eens**",
        );
        browser.click(PLACE_BUTTON);
        browser.wait_until(
            "document.querySelector('#reageren [aria-invalid=true]')",
            "the form with its errors",
        );
        browser.screenshot_of(
            "#reageren",
            &screenshot_path(&format!("form-errors-{screen}")),
        );
    }

    log_in(&browser, &site, "beheer");
    for (screen, width, height, mobile) in SCREENS {
        browser.viewport(width, height, mobile);
        browser.goto(&site.url("/beheer/moderatie"));
        browser.wait_until("document.readyState === 'complete'", "the queue");
        browser.screenshot(&screenshot_path(&format!("queue-{screen}")));

        browser.goto(&site.url("/beheer/artikelen/nieuw"));
        browser.type_into("//input[@id='title']", "Het portfolio in de praktijk");
        browser.type_into(
            "//textarea[@id='body']",
            "Scholen **beginnen** dit jaar met het portfolio.\n\n## Wat leraren merken\n\n\
             - Ze kiezen zelf wat erin komt.\n- De school geeft tijd om eraan te werken.",
        );
        browser.click("//button[@name='voorbeeld']");
        browser.wait_until(
            "document.querySelector('#article-preview:not([hidden]) strong')",
            "the preview",
        );
        browser.screenshot(&screenshot_path(&format!("editor-{screen}")));
    }
}
