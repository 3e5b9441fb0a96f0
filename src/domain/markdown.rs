//! Markdown to safe HTML: pulldown-cmark renders, ammonia cleans.
//!
//! Rendering happens once, when an article or reaction is written; the cleaned HTML is
//! stored and served as is. [`SafeHtml`] is the only string templates print unescaped.

use std::{borrow::Cow, collections::HashSet, fmt, sync::LazyLock};

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// HTML that went through the sanitiser (or was stored after it did).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// Wraps HTML read back from the database, where only this module's output is stored.
    pub fn from_stored(html: String) -> Self {
        Self(html)
    }

    /// Nothing at all (what a placeholder shows).
    pub fn empty() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for SafeHtml {}

const ARTICLE_TAGS: &[&str] = &[
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
    "h2",
    "h3",
    "h4",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "sup",
    "sub",
];
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

/// Keeps a URL attribute only when it is absolute with `//` after http(s), a mailto, or
/// (for articles) a plain same-site path. `Url::parse` reads `https:/x` as absolute,
/// but a browser reads it as a path on this site; those are dropped. A browser also
/// reads `\` as `/`, so `/\host` is the other site `//host`.
fn strict_url(value: &str, allow_relative: bool) -> bool {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if ["http://", "https://", "mailto:"]
        .iter()
        .any(|p| compact.starts_with(p))
    {
        return true;
    }
    let scheme_like = compact
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|head| head.contains(':'));
    let other_site = ["//", "/\\", "\\"].iter().any(|p| compact.starts_with(p));
    allow_relative && !scheme_like && !other_site
}

/// The attributes that hold a URL. ammonia checks the scheme of `href` and `src` only,
/// yet `Builder::empty()` keeps its default `cite` on `blockquote` and `del`.
fn is_url_attribute(attribute: &str) -> bool {
    matches!(attribute, "href" | "src" | "cite")
}

fn article_urls<'u>(_element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    (!is_url_attribute(attribute) || strict_url(value, true)).then_some(Cow::Borrowed(value))
}

fn reaction_urls<'u>(_element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    (!is_url_attribute(attribute) || strict_url(value, false)).then_some(Cow::Borrowed(value))
}

static ARTICLE_CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .attribute_filter(article_urls)
        .tags(ARTICLE_TAGS.iter().copied().collect())
        .add_tag_attributes("a", ["href", "title"])
        .add_tag_attributes("img", ["src", "alt", "title"])
        .add_tag_attributes("ol", ["start"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"));
    builder
});

static REACTION_CLEANER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .attribute_filter(reaction_urls)
        // `Builder::empty` keeps ammonia's generic `lang` and `title`; reactions get neither.
        .generic_attributes(HashSet::new())
        .tags(REACTION_TAGS.iter().copied().collect())
        .add_tag_attributes("a", ["href"])
        .add_tag_attributes("ol", ["start"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener noreferrer"));
    builder
});

/// How deep quotes and lists may nest; deeper ones are flattened into the deepest one
/// kept. Nobody quotes 16 levels deep, and the sanitiser's cost grows with the square
/// of the depth (8,000 levels of `>` took 1.5 s).
const MAX_NESTING: usize = 16;

/// Drops the start and end of every quote and list nested deeper than [`MAX_NESTING`]
/// (with the items of a dropped list); their text stays.
fn flatten_deep_nesting<'a>(
    events: impl Iterator<Item = Event<'a>>,
) -> impl Iterator<Item = Event<'a>> {
    // Whether each open container was kept; items follow their list.
    let mut open: Vec<bool> = Vec::new();
    let mut kept_depth = 0usize;
    events.filter(move |event| match event {
        Event::Start(Tag::BlockQuote(_) | Tag::List(_)) => {
            let keep = kept_depth < MAX_NESTING;
            kept_depth += usize::from(keep);
            open.push(keep);
            keep
        }
        Event::Start(Tag::Item) => {
            let keep = open.last().copied().unwrap_or(true);
            open.push(keep);
            keep
        }
        Event::End(TagEnd::BlockQuote(_) | TagEnd::List(_)) => {
            let keep = open.pop().unwrap_or(true);
            kept_depth -= usize::from(keep);
            keep
        }
        Event::End(TagEnd::Item) => open.pop().unwrap_or(true),
        _ => true,
    })
}

/// How deep an article's raw HTML may nest before all of it is shown as text: the
/// sanitiser's cost grows with the square of the depth (8,000 nested `<div>`s: 1.3 s).
const MAX_RAW_HTML_DEPTH: usize = 64;

/// Elements that never deepen the nesting: void ones, and those whose end tag may be
/// left out because the next of their kind closes them (`<p>`, `<li>`, `<td>`, ...).
const FLAT_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
    "optgroup", "rt", "rp", "colgroup", "caption", "html", "head", "body",
];

/// The deepest nesting of the raw HTML among `events`, by counting start and end tags:
/// a bound to decide on, not a parse.
fn raw_html_depth(events: &[Event<'_>]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for event in events {
        let (Event::Html(html) | Event::InlineHtml(html)) = event else {
            continue;
        };
        for (at, _) in html.match_indices('<') {
            let rest = &html[at + 1..];
            if rest.starts_with('/') {
                depth = depth.saturating_sub(1);
                continue;
            }
            let name_len = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            let self_closing = rest[name_len..]
                .split('>')
                .next()
                .is_some_and(|inside| inside.ends_with('/'));
            if name.is_empty()
                || self_closing
                || FLAT_ELEMENTS.iter().any(|v| v.eq_ignore_ascii_case(name))
            {
                continue;
            }
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES
}

/// Renders an editor's article. Raw HTML is allowed but cleaned like everything else;
/// `#` headings become `h2` so the page keeps one `h1`.
pub fn render_article(markdown: &str) -> SafeHtml {
    let mut parsed: Vec<Event<'_>> =
        flatten_deep_nesting(Parser::new_ext(markdown, options())).collect();
    if raw_html_depth(&parsed) > MAX_RAW_HTML_DEPTH {
        // Shown as text, the editor sees what went wrong in the preview.
        for event in &mut parsed {
            if let Event::Html(html) | Event::InlineHtml(html) = event {
                *event = Event::Text(std::mem::replace(html, CowStr::Borrowed("")));
            }
        }
    }
    let events = parsed.into_iter().map(|event| match event {
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: clamp_heading(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(clamp_heading(level))),
        other => other,
    });
    let mut raw = String::with_capacity(markdown.len() * 5 / 4);
    html::push_html(&mut raw, events);
    SafeHtml(ARTICLE_CLEANER.clean(&raw).to_string())
}

/// Renders a reader's reaction. Raw HTML is shown as text, images become their alt text
/// and headings become paragraphs; the result only holds the reaction allowlist.
pub fn render_reaction(markdown: &str) -> SafeHtml {
    let mut in_image = 0usize;
    let parsed = flatten_deep_nesting(Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH));
    let events = parsed.filter_map(|event| {
        match event {
            Event::Html(text) | Event::InlineHtml(text) => Some(Event::Text(text)),
            Event::Start(Tag::Image { .. }) => {
                in_image += 1;
                None
            }
            Event::End(TagEnd::Image) => {
                in_image = in_image.saturating_sub(1);
                None
            }
            Event::Start(Tag::Heading { .. }) => Some(Event::Start(Tag::Paragraph)),
            Event::End(TagEnd::Heading(_)) => Some(Event::End(TagEnd::Paragraph)),
            Event::Rule => Some(Event::Text(CowStr::Borrowed("---"))),
            other => Some(other),
        }
        .filter(|e| in_image == 0 || matches!(e, Event::Text(_) | Event::Code(_)))
    });
    let mut raw = String::with_capacity(markdown.len() * 5 / 4);
    html::push_html(&mut raw, events);
    SafeHtml(REACTION_CLEANER.clean(&raw).to_string())
}

/// Counts the links a reader put in a reaction: Markdown links, autolinks and bare URLs.
pub fn count_links(markdown: &str) -> usize {
    let mut count = 0;
    let mut in_link = 0usize;
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Link { .. }) => {
                count += 1;
                in_link += 1;
            }
            Event::End(TagEnd::Link) => in_link = in_link.saturating_sub(1),
            Event::Text(text) | Event::Html(text) | Event::InlineHtml(text) if in_link == 0 => {
                count += text.matches("http://").count() + text.matches("https://").count();
            }
            _ => {}
        }
    }
    count
}

/// The text a reader sees of a reaction, on one line, cut after `max` characters (with
/// "…"): for quoting it where its formatting does not matter. Raw HTML counts as text,
/// as [`render_reaction`] shows it.
pub fn reaction_excerpt(markdown: &str, max: usize) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(part) | Event::Code(part) | Event::Html(part) | Event::InlineHtml(part) => {
                text.push_str(&part);
            }
            Event::Rule => text.push_str(" --- "),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

fn clamp_heading(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H4,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_the_text_on_one_line_without_markup() {
        assert_eq!(
            reaction_excerpt(
                "Een *nadruk*\nen `code`.\n\n- lijst\n- [link](https://a.example)",
                200
            ),
            "Een nadruk en code. lijst link"
        );
        assert_eq!(
            reaction_excerpt("<b>vet</b>", 200),
            "<b>vet</b>",
            "raw HTML shows as text"
        );
        assert_eq!(reaction_excerpt("", 200), "");
    }

    #[test]
    fn a_long_excerpt_is_cut_at_the_limit_with_an_ellipsis() {
        let long = "woord ".repeat(100);
        let cut = reaction_excerpt(&long, 20);
        assert_eq!(cut, "woord woord woord wo…");
        assert_eq!(
            reaction_excerpt(&"é".repeat(20), 20),
            "é".repeat(20),
            "characters, not bytes"
        );
    }

    #[test]
    fn article_keeps_structure() {
        let html = render_article(
            "# Titel\n\n## Kop\n\nTekst met *nadruk* en [link](https://example.nl).\n\n- een\n- twee\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![foto](https://example.nl/a.png)",
        );
        let html = html.as_str();
        assert!(html.contains("<h2>Titel</h2>"), "{html}");
        assert!(html.contains("<h2>Kop</h2>"));
        assert!(html.contains("<em>nadruk</em>"));
        assert!(
            html.contains(r#"<a href="https://example.nl" rel="noopener noreferrer">link</a>"#)
        );
        assert!(html.contains("<li>een</li>"));
        assert!(html.contains("<table>") && html.contains("<td>2</td>"));
        assert!(html.contains(r#"<img src="https://example.nl/a.png" alt="foto">"#));
    }

    #[test]
    fn article_removes_script_iframe_handlers_and_javascript_links_even_from_editors() {
        let hostile = [
            "<script>alert(1)</script>",
            "<iframe src=\"https://example.nl\"></iframe>",
            "<img src=\"x.png\" onerror=\"alert(1)\">",
            "<p onclick=\"alert(1)\">klik</p>",
            "[klik](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">klik</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">klik</a>",
            "<a href=\"&#106;avascript:alert(1)\">klik</a>",
            "![x](javascript:alert(1))",
            "<style>body{display:none}</style>",
            "<object data=\"x\"></object><embed src=\"x\">",
            "<form action=\"https://evil.example\"><input></form>",
            "<svg onload=\"alert(1)\"></svg>",
        ];
        for input in hostile {
            let html = render_article(input).into_inner().to_lowercase();
            for bad in [
                "<script",
                "<iframe",
                "onerror",
                "onclick",
                "onload",
                "javascript:",
                "<style",
                "<object",
                "<embed",
                "<form",
                "<input",
                "<svg",
            ] {
                assert!(!html.contains(bad), "{input:?} left {bad:?} in {html:?}");
            }
        }
    }

    #[test]
    fn reaction_shows_raw_html_as_text() {
        let html = render_reaction("Hallo <b>vet</b> <script>alert(1)</script>");
        assert_eq!(
            html.as_str(),
            "<p>Hallo &lt;b&gt;vet&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
        );
    }

    #[test]
    fn reaction_links_get_ugc_rel_and_only_safe_schemes() {
        let html =
            render_reaction("[a](https://example.nl) [b](javascript:alert(1)) [c](/relatief)");
        let html = html.as_str();
        assert!(html.contains(
            r#"<a href="https://example.nl" rel="nofollow ugc noopener noreferrer">a</a>"#
        ));
        assert!(!html.contains("javascript"));
        assert!(!html.contains("/relatief"));
    }

    #[test]
    fn reaction_drops_images_headings_and_tables() {
        let html = render_reaction(
            "# Kop\n\n![alt tekst](https://example.nl/x.png)\n\n| a |\n|---|\n| 1 |",
        );
        let html = html.as_str();
        assert!(!html.contains("<img") && !html.contains("<h1") && !html.contains("<table"));
        assert!(html.contains("<p>Kop</p>"));
        assert!(html.contains("alt tekst"));
    }

    #[test]
    fn article_urls_keep_site_paths_but_not_slashless_schemes() {
        let html = render_article(
            "[a](/artikelen/x) [b](#kop) [c](https:/beheer) [d](//evil.example/x) [e](https://example.nl)",
        );
        let html = html.as_str();
        assert!(html.contains(r#"href="/artikelen/x""#), "{html}");
        assert!(html.contains(r##"href="#kop""##), "{html}");
        assert!(!html.contains("https:/beheer"), "{html}");
        assert!(!html.contains("evil.example"), "{html}");
        assert!(html.contains(r#"href="https://example.nl""#), "{html}");
    }

    /// Found by the `markdown` fuzz target: ammonia checks the scheme of `href` and `src`
    /// only, and `Builder::empty()` keeps its default `cite` on `blockquote` and `del`.
    #[test]
    fn article_cite_is_held_to_the_link_rules() {
        for input in [
            "<blockquote cite=\"javascript:alert(1)\">x</blockquote>",
            "<del cite=\"htups://example.nl\">x</del>",
            "<blockquote cite=\"https:/beheer\">x</blockquote>",
        ] {
            let html = render_article(input).into_inner();
            assert!(!html.contains("cite="), "{input:?} gave {html:?}");
        }
        let kept = render_article("<blockquote cite=\"https://example.nl/bron\">x</blockquote>");
        assert!(
            kept.as_str().contains(r#"cite="https://example.nl/bron""#),
            "{kept:?}"
        );
    }

    /// Found while writing the `markdown` fuzz target's URL check, which fails on it: a
    /// browser reads `\` in a URL as `/`, so `/\evil.example` leads to another site.
    #[test]
    fn article_urls_drop_paths_a_browser_reads_as_another_site() {
        for input in [
            "<a href=\"/\\evil.example/x\">x</a>",
            "<img src=\"/\\evil.example/p.png\">",
            "<a href=\"\\/evil.example/x\">x</a>",
            "<a href=\"\\\\evil.example/x\">x</a>",
        ] {
            let html = render_article(input).into_inner();
            assert!(!html.contains("evil.example"), "{input:?} gave {html:?}");
        }
    }

    #[test]
    fn links_are_counted_in_every_form() {
        assert_eq!(count_links("geen links"), 0);
        assert_eq!(count_links("[a](https://a.nl) en <https://b.nl>"), 2);
        assert_eq!(count_links("kijk op https://a.nl en http://b.nl"), 2);
    }

    /// `Builder::empty()` only empties the tag list; the reaction cleaner also empties
    /// ammonia's generic attributes, so a Markdown link title does not reach the page.
    #[test]
    fn reaction_links_lose_their_title() {
        assert_eq!(
            render_reaction("[x](https://example.nl \"titel\")").as_str(),
            "<p><a href=\"https://example.nl\" rel=\"nofollow ugc noopener noreferrer\">x</a></p>\n"
        );
    }

    /// `Url::parse` reads `https:/beheer` as the absolute `https://beheer/`, while a
    /// browser on an https page reads it as the same-site path `/beheer`; the strict URL
    /// filter drops such links.
    #[test]
    fn reaction_drops_same_scheme_relative_links() {
        for input in [
            "[x](https:/beheer/gebruikers)",
            "[x](https:beheer)",
            "[x](http:/beheer/gebruikers)",
        ] {
            assert_eq!(
                render_reaction(input).as_str(),
                "<p><a rel=\"nofollow ugc noopener noreferrer\">x</a></p>\n",
                "{input}"
            );
        }
    }

    /// Deep nesting cost the sanitiser the square of its depth (21,000 levels of `>` in a
    /// preview: 1 s). Quotes and lists stop deepening at 16 levels, their text kept.
    #[test]
    fn deep_quotes_and_lists_are_flattened_with_their_text() {
        for (unit, tag) in [(">", "<blockquote>"), ("- ", "<ul>"), ("1. ", "<ol>")] {
            let input = format!("{}diep", unit.repeat(20_000));
            for html in [render_reaction(&input), render_article(&input)] {
                assert_eq!(html.as_str().matches(tag).count(), MAX_NESTING, "{unit}");
                assert_eq!(
                    html.as_str().matches(&tag.replace('<', "</")).count(),
                    MAX_NESTING
                );
                assert!(html.as_str().contains("diep"), "{unit}");
            }
        }
        let shallow = "> > citaat\n>\n> antwoord";
        assert_eq!(
            render_reaction(shallow)
                .as_str()
                .matches("<blockquote>")
                .count(),
            2
        );
    }

    /// Raw HTML in an article nested deeper than 64 levels is shown as text; the
    /// ordinary kind stays HTML.
    #[test]
    fn deeply_nested_raw_html_in_an_article_is_shown_as_text() {
        let deep = format!("{}tekst", "<div>".repeat(10_000));
        let html = render_article(&deep);
        assert!(
            html.as_str().starts_with("&lt;div&gt;&lt;div&gt;"),
            "{}",
            &html.as_str()[..80]
        );
        assert!(html.as_str().trim_end().ends_with("tekst"));
        assert!(!html.as_str().contains("<div"));
        let flat = format!(
            "{}<p>los<br>einde</p>",
            "<p>alinea <strong>vet</strong><br/></p>\n".repeat(500)
        );
        let html = render_article(&flat);
        assert_eq!(html.as_str().matches("<strong>").count(), 500);
        assert!(!html.as_str().contains("&lt;"));
        // End tags that HTML lets one leave out (imported articles do) are no nesting.
        let unclosed = format!(
            "<ul>{}</ul>\n\n{}",
            "<li>punt".repeat(200),
            "<p>alinea".repeat(200)
        );
        let html = render_article(&unclosed);
        assert_eq!(html.as_str().matches("<li>").count(), 200);
        assert!(!html.as_str().contains("&lt;"));
    }

    /// Property: whatever a reader types, the stored HTML, parsed again the way a browser
    /// would, holds only the reaction allowlist and links only to http, https or mailto.
    mod sanitiser_properties {
        use proptest::prelude::*;
        use scraper::Html;

        use super::super::{REACTION_TAGS, render_reaction};

        /// Attributes the reaction allowlist permits, per element.
        const ALLOWED_ATTRIBUTES: &[(&str, &str)] = &[("a", "href"), ("a", "rel"), ("ol", "start")];
        const REL: &str = "nofollow ugc noopener noreferrer";

        /// Pieces of HTML and Markdown syntax the generator strings together.
        const TOKENS: &[&str] = &[
            "<",
            ">",
            "</",
            "/>",
            "script",
            "style",
            "img",
            "svg",
            "iframe",
            "a href=",
            "src=",
            " onerror=",
            " onclick=",
            "on",
            "=",
            "alert(1)",
            "javascript:",
            "JaVaScRiPt:",
            "java\tscript:",
            "vbscript:",
            "data:text/html,",
            "http://",
            "https://",
            "https:",
            "mailto:",
            "//",
            "/",
            "x.nl",
            "[x](",
            "](",
            ")",
            "(",
            "![",
            "[",
            "]",
            "]: ",
            "[x]",
            "&#",
            "&#x",
            "6A;",
            "106;",
            "&colon;",
            "&lt;",
            "&amp;",
            ";",
            "\"",
            "'",
            "`",
            "```",
            "*",
            "**",
            "_",
            "~~",
            "#",
            "> ",
            "- ",
            "1. ",
            "12345678901. ",
            "    ",
            "\t",
            "\n",
            "\n\n",
            "<!--",
            "-->",
            "<![CDATA[",
            "]]>",
            "\\",
            " ",
            "\u{0}",
            "\u{200B}",
            "\u{FEFF}",
            "é",
            "<noscript>",
            "</textarea>",
            "<math>",
            "xlink:href=",
        ];

        /// A few tokens run together.
        fn tokens(max: usize) -> impl Strategy<Value = String> {
            proptest::collection::vec(proptest::sample::select(TOKENS), 0..max)
                .prop_map(|pieces| pieces.concat())
        }

        /// A Markdown link, image or reference definition with a hostile destination
        /// and title: random tokens alone rarely line up into one.
        fn link() -> impl Strategy<Value = String> {
            let title = prop_oneof![
                Just(String::new()),
                tokens(6).prop_map(|t| format!(" \"{t}\"")),
                tokens(6).prop_map(|t| format!(" '{t}'")),
                tokens(6).prop_map(|t| format!(" ({t})")),
            ];
            (
                proptest::sample::select(&["[", "![", "\n\n["][..]),
                tokens(4),
                proptest::sample::select(&["](", "](<", "]: ", "][r]\n\n[r]: "][..]),
                tokens(8),
                title,
                proptest::sample::select(&[")", ">)", "\n", ""][..]),
            )
                .prop_map(|(open, text, middle, dest, title, close)| {
                    format!("{open}{text}{middle}{dest}{title}{close}")
                })
        }

        /// Strings biased toward the syntax a sanitiser has to get right.
        fn hostile_markup() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                6 => proptest::sample::select(TOKENS).prop_map(str::to_owned),
                2 => "\\PC{0,4}",
                1 => link(),
            ];
            proptest::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
        }

        /// Whether a browser would follow `value` to an http(s) site or a mail client:
        /// ASCII whitespace and control characters gone, lowercased, with `//` after http(s).
        fn safe_href(value: &str) -> bool {
            let url: String = value
                .chars()
                .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
                .collect::<String>()
                .to_ascii_lowercase();
            ["http://", "https://", "mailto:"]
                .iter()
                .any(|p| url.starts_with(p))
        }

        fn check(input: &str) -> Result<(), TestCaseError> {
            let html = render_reaction(input).into_inner();
            let fragment = Html::parse_fragment(&html);
            let root = fragment.root_element();
            for element in root.descendent_elements().skip(1) {
                let tag = element.value().name();
                prop_assert!(
                    REACTION_TAGS.contains(&tag),
                    "element <{}> in {:?} from {:?}",
                    tag,
                    html,
                    input
                );
                for (name, value) in element.value().attrs() {
                    prop_assert!(
                        ALLOWED_ATTRIBUTES.contains(&(tag, name)),
                        "attribute {}={:?} on <{}> in {:?} from {:?}",
                        name,
                        value,
                        tag,
                        html,
                        input
                    );
                }
                if tag == "a" {
                    prop_assert_eq!(element.value().attr("rel"), Some(REL), "rel in {:?}", html);
                    if let Some(href) = element.value().attr("href") {
                        prop_assert!(
                            safe_href(href),
                            "href {:?} in {:?} from {:?}",
                            href,
                            html,
                            input
                        );
                    }
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: 512,
                // No proptest-regressions/ files in the source tree; a failure prints its input.
                failure_persistence: None,
                ..ProptestConfig::default()
            })]

            #[test]
            fn any_text_renders_to_the_allowlist_only(input in any::<String>()) {
                check(&input)?;
            }

            #[test]
            fn markup_heavy_text_renders_to_the_allowlist_only(input in hostile_markup()) {
                check(&input)?;
            }
        }
    }
}
