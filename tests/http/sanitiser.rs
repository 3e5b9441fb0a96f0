//! Hostile reactions through the whole path: the form post, validation, Markdown
//! rendering, the sanitiser, storage, moderation and the public article page. The page is
//! parsed the way a browser parses it, and every reaction is held to the allowlist.

use std::collections::{BTreeMap, HashMap};

use poem::http::StatusCode;
use scraper::{ElementRef, Html, Selector};

use crate::{db_test, helpers::TestApp};

/// Stands for 4000 characters in [`HOSTILE_BODIES`] (a body may hold 5000).
const LONG: &str = "{LONG}";

/// Reaction bodies a reader could send: (what it tries, the Markdown, and text the page
/// must show for it when not empty: raw HTML is shown as text, never interpreted).
#[rustfmt::skip]
const HOSTILE_BODIES: &[(&str, &str, &str)] = &[
    // Raw HTML elements.
    ("script element", "<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("script, odd case and spacing", "<ScRiPt >alert(1)</sCrIpT >", "<ScRiPt >alert(1)</sCrIpT >"),
    ("external script", r#"<script src="https://evil.example/x.js"></script>"#, "<script src="),
    ("script inside a paragraph", "Hallo <script>alert(1)</script> daar", "<script>alert(1)</script>"),
    ("style element", "<style>body{display:none}</style>", "<style>body{display:none}</style>"),
    ("iframe with javascript src", r#"<iframe src="javascript:alert(1)"></iframe>"#, "<iframe"),
    ("iframe srcdoc", r#"<iframe srcdoc="<script>alert(1)</script>"></iframe>"#, "<iframe srcdoc="),
    ("object with data: URL", r#"<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>"#, "<object"),
    ("embed", r#"<embed src="javascript:alert(1)">"#, "<embed"),
    ("form with formaction button", r#"<form action="https://evil.example"><input name="x"><button formaction="javascript:alert(1)">x</button></form>"#, "<form action="),
    ("input autofocus onfocus", "<input autofocus onfocus=alert(1)>", "<input autofocus onfocus=alert(1)>"),
    ("base href", r#"<base href="https://evil.example/">"#, "<base href="),
    ("meta refresh", r#"<meta http-equiv="refresh" content="0;url=javascript:alert(1)">"#, "<meta http-equiv="),
    ("link stylesheet", r#"<link rel="stylesheet" href="https://evil.example/x.css">"#, "<link rel="),
    ("svg onload", "<svg onload=alert(1)>", "<svg onload=alert(1)>"),
    ("svg anchor with xlink:href", r#"<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">klik</text></a></svg>"#, "<svg>"),
    ("mathml maction with xlink:href", r#"<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">klik</maction></math>"#, "<math>"),
    ("mathml/style mutation XSS", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "<math>"),
    ("img onerror", "<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    ("img with slashes for spaces", "<img/src=x/onerror=alert(1)>", "<img/src=x/onerror=alert(1)>"),
    ("video source onerror", r#"<video><source onerror="alert(1)"></video>"#, "<video>"),
    ("audio onerror", "<audio src=x onerror=alert(1)>", "<audio src=x onerror=alert(1)>"),
    ("details ontoggle", "<details open ontoggle=alert(1)>", "<details open ontoggle=alert(1)>"),
    ("textarea breakout", "</textarea><script>alert(1)</script>", "</textarea><script>"),
    ("noscript mutation XSS", r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#, "<noscript>"),
    ("template with img", "<template><img src=x onerror=alert(1)></template>", "<template>"),
    ("select/template/style nesting", "<select><template><style><img src=x onerror=alert(1)></style></template></select>", "<select>"),
    ("plaintext swallowing the page", "<plaintext>", "<plaintext>"),
    ("xmp and title", "<xmp><title></xmp><img src=x onerror=alert(1)></title>", "<xmp>"),
    ("comment closing early", "<!-- --><script>alert(1)</script> -->", "<script>alert(1)</script>"),
    ("comment with --!>", "<!--><img src=x onerror=alert(1)>-->", "<img src=x onerror=alert(1)>"),
    ("unclosed comment swallowing the page", "Tekst <!--", "<!--"),
    ("CDATA section", "<![CDATA[<script>alert(1)</script>]]>", "<![CDATA["),
    ("html block with Markdown inside", "<div onclick=\"alert(1)\">\n\n*klik*\n\n</div>", "<div onclick="),
    ("style attribute", r#"<p style="position:fixed;top:0;left:0;width:100%;height:100%">x</p>"#, "<p style="),
    ("anchor with onclick", r#"<a href="https://example.nl" onclick="alert(1)">klik</a>"#, "onclick="),
    ("onmouseover on an allowed tag", "<em onmouseover=alert(1)>nadruk</em>", "<em onmouseover=alert(1)>"),
    ("nested and unclosed anchors", r#"<a href="https://example.nl"><a href="javascript:alert(1)">x"#, "<a href="),
    ("unclosed tag at the end", "*nadruk* <img src=x onerror=alert(1)", "<img src=x onerror=alert(1)"),
    ("Markdown emphasis splitting a tag", "<scr*ipt*>alert(1)</script>", ""),
    ("heading holding a script", "# <script>alert(1)</script>", "<script>alert(1)</script>"),
    ("strikethrough around a tag", "~~<script>~~alert(1)", "<script>"),
    ("entity-encoded tags", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
    ("double-encoded tags", "&amp;lt;script&amp;gt;alert(1)", "&lt;script&gt;"),
    ("target attribute", r#"<a href="https://example.nl" target="_blank">x</a>"#, "target="),
    // Markdown links and images with dangerous schemes.
    ("javascript: link", "[klik](javascript:alert(1))", "klik"),
    ("mixed-case javascript: link", "[klik](JaVaScRiPt:alert(1))", "klik"),
    ("tab inside the scheme", "[klik](java\tscript:alert(1))", ""),
    ("tab inside an angle-bracket destination", "[klik](<java\tscript:alert(1)>)", "klik"),
    ("leading space and control character", "[klik](<\u{1} javascript:alert(1)>)", "klik"),
    ("data: text/html link", "[klik](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "klik"),
    ("vbscript: link", "[klik](vbscript:msgbox(1))", "klik"),
    ("decimal entity in the scheme", "[klik](&#106;avascript:alert(1))", "klik"),
    ("hex entities in the scheme", "[klik](&#x6A;&#x61;vascript:alert(1))", "klik"),
    ("&colon; entity", "[klik](javascript&colon;alert(1))", "klik"),
    ("entity-encoded tab", "[klik](java&#9;script:alert(1))", "klik"),
    ("entity-encoded control character", "[klik](&#1;javascript:alert(1))", "klik"),
    ("percent-encoded colon", "[klik](javascript%3Aalert(1))", "klik"),
    ("https-prefixed javascript", "[klik](https:javascript:alert(1))", "klik"),
    ("javascript autolink", "<javascript:alert(1)>", "javascript:alert(1)"),
    ("data: autolink", "<data:text/html,<script>alert(1)</script>>", "<script>"),
    ("reference-style javascript link", "[klik][x]\n\n[x]: javascript:alert(1)", "klik"),
    ("reference definition with entity and title", "[klik][x]\n\n[x]: &#106;avascript:alert(1) \"titel\"", "klik"),
    ("shortcut reference with vbscript", "[x]\n\n[x]: vbscript:alert(1)", ""),
    ("javascript image", "![klik](javascript:alert(1))", "klik"),
    ("image with onerror in the title", r#"![x](https://example.nl/x.png "\" onerror=\"alert(1)")"#, ""),
    ("image as link text", "[![x](https://example.nl/x.png)](javascript:alert(1))", ""),
    ("relative link", "[klik](/beheer/gebruikers)", "klik"),
    ("protocol-relative link", "[klik](//evil.example/x)", "klik"),
    // Attribute breakouts.
    ("double-quoted title breaking out", r#"[klik](https://example.nl "\" onmouseover=\"alert(1)")"#, "klik"),
    ("single-quoted title breaking out", r#"[klik](https://example.nl 'x\' onclick=\'alert(1)')"#, "klik"),
    ("parenthesised title with style", r#"[klik](https://example.nl (x" style="position:fixed;top:0))"#, "klik"),
    ("quote in the destination", r#"[klik](https://example.nl/"onmouseover="alert(1))"#, "klik"),
    ("markup in an angle-bracket destination", r#"[klik](<https://example.nl/"><script>alert(1)</script>>)"#, ""),
    ("quote in a mailto link", r#"[klik](mailto:x@example.nl"onclick="alert(1))"#, "klik"),
    ("markup as link text", "[<img src=x onerror=alert(1)>](https://example.nl)", "<img src=x onerror=alert(1)>"),
    ("entities as link text", "[&#60;script&#62;alert(1)&#60;/script&#62;](https://example.nl)", "<script>alert(1)</script>"),
    ("fenced code with a hostile info string", "```\"><script>alert(1)</script>\nx\n```", ""),
    ("code span with markup", "`<script>alert(1)</script>`", "<script>alert(1)</script>"),
    ("huge ordered list start", "99999999999999999999. item\n2. item", ""),
    // Unicode.
    ("fullwidth angle brackets", "＜script＞alert(1)＜/script＞", "＜script＞"),
    ("zero-width space in the scheme", "[klik](java\u{200B}script:alert(1))", "klik"),
    ("right-to-left override", "[klik](https://example.nl/\u{202E}lmth.exe)", "klik"),
    ("byte order mark before a tag", "\u{FEFF}<script>alert(1)</script>", "<script>alert(1)</script>"),
    // Very long values.
    ("long attribute value with onerror", "<img src=x title=\"{LONG}\" onerror=alert(1)>", "onerror=alert(1)"),
    ("long javascript URL", "[klik](javascript:alert(1)//{LONG})", "klik"),
    ("long safe URL", "[klik](https://example.nl/{LONG})", "klik"),
    ("long link title", "[klik](https://example.nl \"{LONG}\")", "klik"),
];

/// Bodies with a NUL character, which PostgreSQL cannot store: the form extractor drops
/// NULs (and the API's newtypes refuse them), so these must be shown safely or refused
/// with 422, never answer 500.
#[rustfmt::skip]
const NUL_BODIES: &[(&str, &str, &str)] = &[
    ("null byte inside a tag name", "<scr\0ipt>alert(1)</script>", ""),
    ("null byte inside the scheme", "[klik](java\0script:alert(1))", ""),
];

/// Hostile author fields: (what it tries, name, website). A website that is not http or
/// https must be refused with 422; anything accepted must be shown as plain text.
#[rustfmt::skip]
const HOSTILE_AUTHORS: &[(&str, &str, &str)] = &[
    ("script as name", "<script>alert(1)</script>", ""),
    ("attribute breakout in name", r#""><img src=x onerror=alert(1)>"#, ""),
    ("single-quote breakout in name", "' onmouseover='alert(1)", ""),
    ("textarea breakout in name", "</textarea><svg onload=alert(1)>", ""),
    ("template syntax in name", "{{ 7*7 }} {% raw %}", ""),
    ("entities in name", "&lt;b&gt;&#x3C;i&#x3E;", ""),
    ("hostile name and website", r#""><script>alert(1)</script>"#, "https://example.nl/"),
    ("null byte in name", "Lien\0<script>", ""),
    ("javascript website", "Lien", "javascript:alert(1)"),
    ("mixed-case javascript website", "Lien", "JaVaScRiPt:alert(1)"),
    ("tab inside the website scheme", "Lien", "java\tscript:alert(1)"),
    ("leading space before the website", "Lien", " javascript:alert(1)"),
    ("data: website", "Lien", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("vbscript website", "Lien", "vbscript:msgbox(1)"),
    ("protocol-relative website", "Lien", "//evil.example/"),
    ("https-prefixed javascript website", "Lien", "https:javascript:alert(1)"),
    ("credentials in the website", "Lien", "https://user:pw@evil.example/"),
    ("markup in the website path", "Lien", r#"https://example.nl/"><script>alert(1)</script>"#),
    ("attribute breakout in the website", "Lien", r#"https://example.nl/" onmouseover="alert(1)"#),
    ("quote in the website query", "Lien", "https://example.nl/?q='onfocus='alert(1)"),
    ("entity-encoded website scheme", "Lien", "&#106;avascript:alert(1)"),
];

/// Tags the reaction allowlist permits inside `div.reaction-text`.
const REACTION_TAGS: &[&str] = &[
    "p",
    "br",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
];
/// Attributes permitted inside `div.reaction-text`. `a title` is outside the intended
/// allowlist but gets through (reported; see `reaction_links_lose_their_title` in
/// `src/domain/markdown.rs`); an escaped text attribute, so tolerated here.
const REACTION_ATTRIBUTES: &[(&str, &str)] =
    &[("a", "href"), ("a", "rel"), ("ol", "start"), ("a", "title")];
/// Elements that must never appear in a reaction, whatever the allowlist says.
const FORBIDDEN_TAGS: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "form", "input", "base", "meta", "link", "svg",
    "math", "img", "video", "audio", "textarea", "template", "noscript",
];
/// Attributes holding a URL a browser may follow or load. `xlink:href` is among them:
/// the parser reports it by its local name, `href`.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "action",
    "formaction",
    "poster",
    "data",
    "cite",
    "background",
    "ping",
    "srcdoc",
];
/// What the thread template itself puts around a reaction's text.
// `button`: the template's "Nuttig" button (never in the text: see REACTION_TAGS).
const TEMPLATE_TAGS: &[&str] = &[
    "li", "article", "header", "a", "span", "time", "p", "div", "button",
];
const TEMPLATE_ATTRIBUTES: &[&str] = &[
    "class",
    "id",
    "href",
    "rel",
    "aria-label",
    "datetime",
    "title",
    "form",
    "name",
    "value",
];

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn expand(template: &str) -> String {
    template.replace(LONG, &"A".repeat(4000))
}

/// A URL as a browser reads it: ASCII whitespace and control characters gone, lowercased.
fn safe_url(value: &str) -> bool {
    let url = value
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
}

/// Text as a reader sees it, with runs of whitespace folded.
fn visible_text(element: ElementRef<'_>) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn fold_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The start of an input, for messages.
fn short(input: &str) -> String {
    let start: String = input.chars().take(80).collect();
    if start.len() < input.len() {
        format!("{start:?}…")
    } else {
        format!("{start:?}")
    }
}

/// Checks that hold for a whole page whatever readers posted: its frame is intact (no
/// injected markup swallowed or restructured it) and it holds no script of anyone else's.
#[track_caller]
fn assert_page_intact(document: &Html, context: &str) {
    for (css, expected) in [
        ("main", 1),
        ("h1", 1),
        ("form.reaction-form", 1),
        ("form.reaction-form textarea#body", 1),
        ("footer.site-footer", 1),
        ("base", 0),
        ("meta[http-equiv]", 0),
        ("iframe, object, embed, svg, math, img, video, audio", 0),
    ] {
        let found = document.select(&selector(css)).count();
        assert_eq!(found, expected, "{context}: {css} appears {found} times");
    }
    for script in document.select(&selector("script")) {
        let src = script.value().attr("src").unwrap_or("");
        assert!(
            src.starts_with("/static/") && script.text().all(|t| t.trim().is_empty()),
            "{context}: unexpected script {:?}",
            script.html()
        );
    }
    for element in document.root_element().descendent_elements() {
        for (name, value) in element.value().attrs() {
            assert!(
                !name.to_ascii_lowercase().starts_with("on") && name != "style",
                "{context}: <{} {name}={value:?}> on the page",
                element.value().name()
            );
        }
    }
}

/// What was posted for one reaction, to check its rendering against.
struct Posted {
    what: String,
    shows: String,
    author_name: String,
    author_url: Option<String>,
}

/// Holds one rendered reaction to the allowlist and to what was posted.
#[track_caller]
fn assert_reaction_safe(reaction: ElementRef<'_>, id: i32, slug: &str, posted: &Posted) {
    let what = &posted.what;
    let text = reaction
        .select(&selector("div.reaction-text"))
        .collect::<Vec<_>>();
    assert_eq!(text.len(), 1, "{what}: one div.reaction-text");
    let text = text[0];
    let inside_text: Vec<_> = text.descendent_elements().skip(1).map(|e| e.id()).collect();

    for element in reaction.descendent_elements() {
        let tag = element.value().name();
        assert!(
            !FORBIDDEN_TAGS.contains(&tag),
            "{what}: <{tag}> in the reaction"
        );
        let in_text = inside_text.contains(&element.id());
        if in_text {
            assert!(
                REACTION_TAGS.contains(&tag),
                "{what}: <{tag}> is not in the reaction allowlist: {}",
                text.inner_html()
            );
        } else {
            assert!(
                TEMPLATE_TAGS.contains(&tag),
                "{what}: <{tag}> around the text"
            );
        }
        for (name, value) in element.value().attrs() {
            let lower = name.to_ascii_lowercase();
            assert!(
                !lower.starts_with("on"),
                "{what}: event handler {name}={value:?} on <{tag}>"
            );
            assert!(lower != "style", "{what}: style={value:?} on <{tag}>");
            if in_text {
                assert!(
                    REACTION_ATTRIBUTES.contains(&(tag, name)),
                    "{what}: attribute {name}={value:?} on <{tag}>: {}",
                    text.inner_html()
                );
            } else {
                assert!(
                    TEMPLATE_ATTRIBUTES.contains(&name),
                    "{what}: attribute {name}={value:?} on <{tag}> around the text"
                );
            }
            if URL_ATTRIBUTES.contains(&lower.as_str()) {
                let classes: Vec<_> = element.value().classes().collect();
                let own_link = if classes.contains(&"permalink") {
                    Some(format!("/artikelen/{slug}?reactie={id}#reactie-{id}"))
                } else if classes.contains(&"reply-link") {
                    Some(format!("/artikelen/{slug}?antwoord={id}#reageren"))
                } else {
                    None
                };
                match own_link {
                    Some(expected) if !in_text => {
                        assert_eq!(value, expected, "{what}: the template's own link")
                    }
                    _ => assert!(safe_url(value), "{what}: {name}={value:?} on <{tag}>"),
                }
            }
        }
        if tag == "button" {
            let id = id.to_string();
            assert_eq!(
                (element.value().attr("form"), element.value().attr("value")),
                (Some("nuttig"), Some(id.as_str())),
                "{what}: a button around the text is the page's vote button for this reaction"
            );
        }
        if tag == "a" && in_text {
            assert_eq!(
                element.value().attr("rel"),
                Some("nofollow ugc noopener noreferrer"),
                "{what}: rel of a link in the text"
            );
        }
    }

    if !posted.shows.is_empty() {
        let shown = visible_text(text);
        assert!(
            shown.contains(&fold_whitespace(&posted.shows)),
            "{what}: expected {:?} in the text a reader sees, got {shown:?}",
            posted.shows
        );
    }

    let meta = reaction
        .select(&selector("header.reaction-meta"))
        .collect::<Vec<_>>();
    assert_eq!(meta.len(), 1, "{what}: one header.reaction-meta");
    let authors = meta[0].select(&selector(".author")).collect::<Vec<_>>();
    assert_eq!(authors.len(), 1, "{what}: one author element");
    let author = authors[0];
    assert_eq!(
        author.text().collect::<String>(),
        posted.author_name,
        "{what}: the name is shown as text, exactly"
    );
    match &posted.author_url {
        Some(url) => {
            assert_eq!(author.value().name(), "a", "{what}: the name links");
            assert_eq!(author.value().attr("href"), Some(url.as_str()), "{what}");
        }
        None => assert_eq!(author.value().name(), "span", "{what}: no link"),
    }
}

/// A refused form comes back with the reader's input: it must be there as a value, not
/// as markup.
#[track_caller]
fn assert_refused_form_safe(body: &str, what: &str, name: &str, url: &str) {
    // An HTML parser reads a NUL in an attribute value as U+FFFD.
    let name = &name.replace('\0', "\u{FFFD}");
    let document = Html::parse_document(body);
    assert_page_intact(&document, what);
    let value = |css: &str| {
        document
            .select(&selector(css))
            .next()
            .and_then(|input| input.value().attr("value"))
            .map(str::to_owned)
    };
    assert_eq!(
        value("input#author_name").as_deref(),
        Some(name.as_str()),
        "{what}: name kept as a value"
    );
    assert_eq!(
        value("input#author_url").as_deref(),
        Some(url),
        "{what}: website kept as a value"
    );
}

/// How a corpus fared: reactions on the page, and posts refused with 422.
struct Tally {
    shown: usize,
    refused: usize,
}

/// Posts every body and author in one article, approves them all at once, loads the page
/// as a reader and holds each reaction to the allowlist. Bodies must be accepted unless
/// `bodies_may_be_refused` or they hold a stray control character (refused with 422 by
/// validation); websites may be refused, names (free text) only for control characters.
async fn post_and_check(
    app: &TestApp,
    bodies: &[(&str, &str, &str)],
    authors: &[(&str, &str, &str)],
    bodies_may_be_refused: bool,
) -> Tally {
    let slug = app.published_article("Vijandige reacties").await;
    let mut posted: BTreeMap<i32, Posted> = BTreeMap::new();
    let mut refused = 0;

    for (what, body, shows) in bodies {
        let body = expand(body);
        let resp = app.post_comment(&slug, &[("body", &body)]).await;
        let what = format!("body: {what} ({})", short(&body));
        match resp.status {
            StatusCode::SEE_OTHER => {
                let posting = Posted {
                    what,
                    shows: shows.to_string(),
                    author_name: "Lien Peeters".to_owned(),
                    author_url: None,
                };
                posted.insert(crate::helpers::comment_id(resp.location()), posting);
            }
            StatusCode::UNPROCESSABLE_ENTITY
                if bodies_may_be_refused
                    || body
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
            {
                resp.assert_contains("onzichtbaar stuurteken");
                refused += 1;
                assert_page_intact(&Html::parse_document(&resp.body), &what);
            }
            other => panic!("{what}: answered {other}: {}", resp.body),
        }
    }

    for (what, name, url) in authors {
        let resp = app
            .post_comment(&slug, &[("author_name", name), ("author_url", url)])
            .await;
        let what = format!("author: {what} ({name:?}, {url:?})");
        let must_accept = url.is_empty() && !name.chars().any(char::is_control);
        match resp.status {
            StatusCode::SEE_OTHER => {
                let posting = Posted {
                    what,
                    shows: String::new(),
                    author_name: name.trim().to_owned(),
                    author_url: (!url.trim().is_empty())
                        .then(|| url::Url::parse(url.trim()).unwrap().to_string()),
                };
                posted.insert(crate::helpers::comment_id(resp.location()), posting);
            }
            StatusCode::UNPROCESSABLE_ENTITY if !must_accept => {
                refused += 1;
                assert_refused_form_safe(&resp.body, &what, name, url);
            }
            other => panic!("{what}: answered {other}: {}", resp.body),
        }
    }

    let ids: Vec<i32> = posted.keys().copied().collect();
    app.moderate(&ids, "approve", "").await;

    // The thread comes in pages of 50 top-level reactions: read them all.
    let reader = app.other_browser();
    let mut seen: HashMap<i32, usize> = HashMap::new();
    let mut path = format!("/artikelen/{slug}");
    let mut pages = 0;
    loop {
        pages += 1;
        let page = reader.get(&path).await;
        page.assert_status(StatusCode::OK);
        let document = Html::parse_document(&page.body);
        assert_page_intact(&document, "the article page");
        for reaction in document.select(&selector("li.reaction")) {
            let id: i32 = reaction
                .value()
                .id()
                .and_then(|id| id.strip_prefix("reactie-"))
                .and_then(|id| id.parse().ok())
                .unwrap_or_else(|| panic!("a reaction without its id: {:?}", reaction.value()));
            let Some(posting) = posted.get(&id) else {
                panic!("reaction {id} is on the page but was never posted");
            };
            assert_reaction_safe(reaction, id, &slug, posting);
            *seen.entry(id).or_default() += 1;
        }
        let next = document
            .select(&selector("a[rel=next]"))
            .next()
            .and_then(|a| a.value().attr("href"))
            .map(|href| href.trim_end_matches("#reacties").to_owned());
        match next {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(
        pages,
        posted.len().div_ceil(50).max(1),
        "50 top-level reactions a page"
    );
    for (id, posting) in &posted {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "{}: reactie-{id} is shown once",
            posting.what
        );
    }
    assert_eq!(seen.len(), posted.len(), "every reaction shown once");
    Tally {
        shown: posted.len(),
        refused,
    }
}

db_test! {
    async fn hostile_reactions_render_only_the_allowlist(app) {
        let started = std::time::Instant::now();
        let tally = post_and_check(&app, HOSTILE_BODIES, HOSTILE_AUTHORS, false).await;
        assert_eq!(tally.shown + tally.refused, HOSTILE_BODIES.len() + HOSTILE_AUTHORS.len());
        assert!(tally.shown >= HOSTILE_BODIES.len() + 7, "bodies and hostile names are shown");
        eprintln!(
            "{} reactions shown, {} refused, in {:?}",
            tally.shown,
            tally.refused,
            started.elapsed()
        );
    }
}

db_test! {
    async fn reaction_bodies_with_nul_are_refused_or_rendered_safely(app) {
        let tally = post_and_check(&app, NUL_BODIES, &[], true).await;
        assert_eq!(tally.shown + tally.refused, NUL_BODIES.len());
    }
}

/// The corpus stays big enough to mean something, without repeats.
#[test]
fn the_corpus_holds_at_least_fifty_hostile_inputs() {
    let total = HOSTILE_BODIES.len() + NUL_BODIES.len() + HOSTILE_AUTHORS.len();
    assert!(total >= 50, "{total}");
    let mut bodies: Vec<String> = HOSTILE_BODIES
        .iter()
        .chain(NUL_BODIES)
        .map(|(_, body, _)| fold_whitespace(body))
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(
        bodies.len(),
        HOSTILE_BODIES.len() + NUL_BODIES.len(),
        "a body twice"
    );
}

/// The checks above catch what they are for: a reaction as the site really renders it
/// passes them, and the same page with each of these unsafe texts in the place of its
/// text fails them.
#[tokio::test]
async fn the_checks_reject_unsafe_reactions() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let slug = app.published_article("Zelfcontrole").await;
    let marker = "Merkteken van de zelfcontrole";
    let id = app
        .approved_comment(
            &slug,
            &[
                ("author_name", "Lien"),
                (
                    "body",
                    &format!("{marker} met een [link](https://example.nl)."),
                ),
            ],
        )
        .await;
    // As a reader sees it (the poster's own page adds the links to edit and delete).
    let page = app.other_browser().get(&format!("/artikelen/{slug}")).await;
    let rendered = format!(
        r#"<p>{marker} met een <a href="https://example.nl" rel="nofollow ugc noopener noreferrer">link</a>.</p>"#
    );
    assert!(
        page.body.contains(&rendered),
        "the site renders the text as expected: {}",
        page.body
    );
    let check = |text: &str| {
        let document = Html::parse_document(&page.body.replacen(&rendered, text, 1));
        let reaction = document
            .select(&selector(&format!("li#reactie-{id}")))
            .next()
            .unwrap();
        let posting = Posted {
            what: text.to_owned(),
            shows: String::new(),
            author_name: "Lien".to_owned(),
            author_url: None,
        };
        assert_reaction_safe(reaction, id, &slug, &posting);
    };
    check(&rendered);
    check(r#"<p>Een <em>goede</em> lijst:</p><ol start="3"><li>x</li></ol>"#);
    for text in [
        "<p><script>alert(1)</script></p>",
        r#"<p onclick="alert(1)">x</p>"#,
        r#"<p style="color:red">x</p>"#,
        r#"<a href="javascript:alert(1)" rel="nofollow ugc noopener noreferrer">x</a>"#,
        r#"<a href=" java&#9;script:alert(1)" rel="nofollow ugc noopener noreferrer">x</a>"#,
        r#"<a href="/beheer" rel="nofollow ugc noopener noreferrer">x</a>"#,
        r#"<a href="https://example.nl">no rel</a>"#,
        r#"<p lang="nl">x</p>"#,
        "<h1>x</h1>",
        r#"<img src="https://example.nl/a.png">"#,
        r#"<svg><a xlink:href="javascript:alert(1)">x</a></svg>"#,
        r#"<form action="https://evil.example"><input></form>"#,
    ] {
        let caught = std::panic::catch_unwind(|| check(text)).is_err();
        assert!(caught, "the checks let {text:?} through");
    }
}
