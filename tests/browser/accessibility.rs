//! What every reader and moderator meets, checked with axe-core (WCAG A and AA and axe's
//! best practices: every rule it runs by default) in light and dark mode, on a laptop and
//! on a phone; and no page that makes a phone scroll sideways.

use serde_json::{Value, json};

use crate::{PLACE_BUTTON, Site, console_noise, log_in, webdriver::Browser};

/// axe-core 4.14.1 from npm (see `axe/README.md`), injected into each page.
const AXE: &str = include_str!("axe/axe.min.js");

/// The screens the pages are checked at: a laptop and a phone.
const WIDTHS: [(u32, u32, bool); 2] = [(1280, 900, false), (390, 844, true)];
const SCHEMES: [&str; 2] = ["light", "dark"];

/// axe's violations of impact serious or critical on the page shown, one line each with
/// the elements it found them on.
fn serious_violations(browser: &Browser) -> Vec<String> {
    browser.run(&format!("{AXE}\nreturn typeof axe;"), json!([]));
    let found = browser.run_async(
        "axe.run(document, { resultTypes: ['violations'] }).then(r => JSON.stringify(\
           r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
            .map(v => ({ id: v.id, impact: v.impact, help: v.help,\
              nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary) }))))",
    );
    let violations: Vec<Value> = serde_json::from_str(&found)
        .unwrap_or_else(|e| panic!("axe did not answer ({e}): {found}"));
    violations
        .iter()
        .map(|v| {
            format!(
                "{} ({}): {} on {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("?"),
                v["nodes"]
            )
        })
        .collect()
}

/// Fails on any serious or critical violation on the page shown, in the scheme and at the
/// width the browser is set to.
#[track_caller]
pub fn assert_accessible(browser: &Browser, what: &str) {
    let violations = serious_violations(browser);
    assert!(violations.is_empty(), "{what}: {violations:#?}");
}

/// Every page at every width in both schemes: each violation, named with where it was.
fn check_pages(browser: &Browser, site: &Site, pages: &[(&str, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for &(width, height, mobile) in &WIDTHS {
        browser.viewport(width, height, mobile);
        for scheme in SCHEMES {
            browser.color_scheme(scheme);
            for (name, path) in pages {
                let url = site.url(path);
                browser.goto(&url);
                browser.wait_until("document.readyState === 'complete'", "the page to load");
                let where_ = format!("{name} ({path}), {width} px, {scheme}");
                let dark = browser.run(
                    "return matchMedia('(prefers-color-scheme: dark)').matches;",
                    json!([]),
                );
                assert_eq!(
                    dark,
                    json!(scheme == "dark"),
                    "{where_}: not in that scheme"
                );
                // A phone's window grows to hold a page wider than its screen.
                let shown = browser.run("return innerWidth;", json!([]));
                if shown != json!(width) {
                    let culprits = sideways(browser, width);
                    problems.push(format!(
                        "{where_}: the page is {shown} px wide: {culprits:?}"
                    ));
                }
                for violation in serious_violations(browser) {
                    problems.push(format!("{where_}: {violation}"));
                }
                let missing = name.contains("404").then_some(url.as_str());
                for noise in console_noise(browser, missing) {
                    problems.push(format!("{where_}: console: {noise}"));
                }
            }
        }
    }
    problems
}

#[test]
fn public_pages_have_no_serious_accessibility_violations() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    let pages = [
        ("home", "/".to_owned()),
        ("article with a thread", format!("/artikelen/{}", site.slug)),
        ("login", "/beheer/inloggen".to_owned()),
        ("article 404", "/artikelen/bestaat-niet".to_owned()),
        ("unknown page 404", "/deze/pagina/bestaat/niet".to_owned()),
        ("privacy", "/privacy".to_owned()),
        ("privacy link 404", "/privacy/verlopen.link".to_owned()),
        (
            "search results",
            "/zoeken?q=lerarenregister+reactie".to_owned(),
        ),
        ("search, nothing found", "/zoeken?q=zandkasteel".to_owned()),
    ];
    let mut problems = check_pages(&browser, &site, &pages);
    // The form as a reader sees it after posting it incomplete: errors beside the fields.
    for &(width, height, mobile) in &WIDTHS {
        browser.viewport(width, height, mobile);
        for scheme in SCHEMES {
            browser.color_scheme(scheme);
            browser.goto(&site.article_url());
            browser.click(PLACE_BUTTON);
            browser.wait_until(
                "document.querySelector('#reageren [aria-invalid=true]')",
                "the form with its errors",
            );
            for violation in serious_violations(&browser) {
                problems.push(format!(
                    "form with errors, {width} px, {scheme}: {violation}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");

    // The checks can fail: an image without a text and an inline script (which the CSP
    // refuses) are both seen.
    browser.run(
        "const img = document.createElement('img');
         img.src = '/static/favicon.svg';
         const script = document.createElement('script');
         script.textContent = 'window.inline = true';
         document.body.append(img, script);",
        json!([]),
    );
    let seen = serious_violations(&browser);
    assert!(seen.iter().any(|v| v.starts_with("image-alt")), "{seen:#?}");
    let noise = console_noise(&browser, None);
    assert!(
        noise
            .iter()
            .any(|line| line.contains("Content Security Policy")),
        "{noise:#?}"
    );
}

#[test]
fn staff_pages_have_no_serious_accessibility_violations() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    log_in(&browser, &site, "beheer");
    let pages = [
        ("dashboard", "/beheer".to_owned()),
        ("queue", "/beheer/moderatie".to_owned()),
        (
            "approved tab",
            "/beheer/moderatie?status=approved".to_owned(),
        ),
        ("log", "/beheer/logboek".to_owned()),
        ("articles", "/beheer/artikelen".to_owned()),
        ("editor", "/beheer/artikelen/nieuw".to_owned()),
        ("settings", "/beheer/instellingen".to_owned()),
        ("users", "/beheer/gebruikers".to_owned()),
        ("tokens", "/beheer/tokens".to_owned()),
        ("account", "/beheer/account".to_owned()),
        ("privacy", "/beheer/privacy".to_owned()),
        ("import", "/beheer/import".to_owned()),
        (
            "article with the staff bar",
            format!("/artikelen/{}", site.slug),
        ),
    ];
    let mut problems = check_pages(&browser, &site, &pages);
    // What is kept about an address, as an admin (and, behind the mailed link, a reader)
    // sees it: the reactions, the download and the erase form.
    for &(width, height, mobile) in &WIDTHS {
        browser.viewport(width, height, mobile);
        for scheme in SCHEMES {
            browser.color_scheme(scheme);
            browser.goto(&site.url("/beheer/privacy"));
            browser.type_into("//input[@name='email']", "marieke.de.vries@example.nl");
            browser.click("//form[@action='/beheer/privacy']//button[@type='submit']");
            browser.wait_until(
                "document.querySelector('tr[id^=privacy-reactie-]')",
                "the overview of the address",
            );
            for violation in serious_violations(&browser) {
                problems.push(format!(
                    "privacy overview, {width} px, {scheme}: {violation}"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// An article with a featured reaction, as a reader sees it (the "Uitgelicht" block and
/// the badge) and as a moderator does (a form to feature or stop under every reaction).
#[test]
fn an_article_with_a_featured_reaction_has_no_serious_accessibility_violations() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    let picked = site.approved(
        "Fatima el Amrani",
        "Het beste punt tot nu toe: een portfolio werkt alleen als leraren er **tijd** voor \
         krijgen, en dat staat nergens in de plannen.",
        None,
    );
    site.moderate(picked, "feature");
    let path = format!("/artikelen/{}", site.slug);
    let shown = |who: &str, forms: bool| {
        browser.goto(&site.url(&path));
        let found = browser.run(
            "return [document.querySelectorAll('section.featured-picks li').length,
                     document.querySelectorAll('.badge.featured').length,
                     document.querySelectorAll('form.feature-form').length > 0];",
            json!([]),
        );
        assert_eq!(found, json!([1, 1, forms]), "{who}: block, badge and forms");
    };
    shown("reader", false);
    let mut problems = check_pages(
        &browser,
        &site,
        &[("article with a featured reaction", path.clone())],
    );
    log_in(&browser, &site, "moderator");
    shown("moderator", true);
    problems.extend(check_pages(
        &browser,
        &site,
        &[("article with a featured reaction, as a moderator", path)],
    ));
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The pages the public can reach, at the narrowest phones people still use: nothing may
/// be wider than the screen (long links and words in reactions included).
#[test]
fn no_public_page_scrolls_sideways_on_a_phone() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let site = Site::start(&[]).with_thread();
    let pages = [
        "/".to_owned(),
        format!("/artikelen/{}", site.slug),
        "/beheer/inloggen".to_owned(),
        "/artikelen/bestaat-niet".to_owned(),
        "/api/docs".to_owned(),
        "/privacy".to_owned(),
        "/privacy/verlopen.link".to_owned(),
        "/zoeken?q=lerarenregister+reactie".to_owned(),
    ];
    let mut wide = Vec::new();
    for width in [320, 390] {
        // Not as a phone (`mobile`), whose layout viewport would grow to hold what sticks
        // out: as a window that narrow, where it must scroll.
        browser.viewport(width, 700, false);
        for path in &pages {
            browser.goto(&site.url(path));
            browser.wait_until("document.readyState === 'complete'", "the page to load");
            if let Some(overflow) = sideways(&browser, width) {
                wide.push(format!("{path} at {width} px: {overflow}"));
            }
        }
    }
    assert!(wide.is_empty(), "pages wider than the phone: {wide:#?}");

    // The check can fail: one element wider than the screen is seen.
    browser.run(
        "const wide = document.createElement('div');
         wide.style.width = '500px';
         wide.style.height = '1em';
         document.body.append(wide);",
        json!([]),
    );
    assert!(sideways(&browser, 390).is_some());
}

/// How the page is wider than a window of `width` CSS pixels (its width and the first
/// elements sticking out), or `None` when it fits.
fn sideways(browser: &Browser, width: u32) -> Option<Value> {
    let overflow = browser.run(
        "const width = arguments[0];
         const scrolls = e => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(e).overflowX);
         // What a scrolling box holds does not widen the page, unless it is positioned
         // against something outside that box.
         const contained = e => {
           if (['absolute', 'fixed'].includes(getComputedStyle(e).position)) return false;
           for (let p = e.parentElement; p; p = p.parentElement) if (scrolls(p)) return true;
           return false;
         };
         const culprits = [...document.querySelectorAll('body *')]
           .filter(e => e.getBoundingClientRect().right > width + 0.5 && !contained(e))
           .slice(0, 5)
           .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                     (e.className ? '.' + String(e.className).replace(/ /g, '.') : ''));
         return { scroll: document.documentElement.scrollWidth, culprits };",
        json!([width]),
    );
    (overflow["scroll"].as_u64() > Some(u64::from(width))).then_some(overflow)
}
