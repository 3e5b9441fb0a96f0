//! The Markdown pipeline on any text the server would accept: rendering never panics,
//! and the HTML, parsed again the way a browser parses it, holds only the allowlist and
//! only links a browser would follow to http(s), mail or (articles) this site.
//! Rendering time is bounded by libFuzzer's `-timeout`.

#![no_main]

use kantlijn::domain::{
    markdown::{count_links, render_article, render_reaction},
    validate::CommentBody,
};
use libfuzzer_sys::fuzz_target;
use scraper::Html;

/// The longest article body `ArticleBody::parse` accepts, in characters.
const ARTICLE_MAX_CHARS: usize = 50_000;

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
const REACTION_ATTRIBUTES: &[(&str, &str)] = &[("a", "href"), ("a", "rel"), ("ol", "start")];
const REACTION_REL: &str = "nofollow ugc noopener noreferrer";

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
/// The article cleaner's own attributes, plus what `ammonia::Builder::empty()` keeps of
/// ammonia's defaults for these tags (its per-tag lists and the generic `lang`/`title`).
const ARTICLE_ATTRIBUTES: &[(&str, &str)] = &[
    ("a", "href"),
    ("a", "title"),
    ("a", "rel"),
    ("a", "hreflang"),
    ("img", "src"),
    ("img", "alt"),
    ("img", "title"),
    ("img", "align"),
    ("img", "width"),
    ("img", "height"),
    ("ol", "start"),
    ("blockquote", "cite"),
    ("del", "cite"),
    ("del", "datetime"),
    ("hr", "align"),
    ("hr", "size"),
    ("hr", "width"),
    ("table", "align"),
    ("table", "char"),
    ("table", "charoff"),
    ("table", "summary"),
    ("thead", "align"),
    ("thead", "char"),
    ("thead", "charoff"),
    ("tbody", "align"),
    ("tbody", "char"),
    ("tbody", "charoff"),
    ("tr", "align"),
    ("tr", "char"),
    ("tr", "charoff"),
    ("td", "align"),
    ("td", "char"),
    ("td", "charoff"),
    ("td", "colspan"),
    ("td", "headers"),
    ("td", "rowspan"),
    ("th", "align"),
    ("th", "char"),
    ("th", "charoff"),
    ("th", "colspan"),
    ("th", "headers"),
    ("th", "rowspan"),
    ("th", "scope"),
];
const ARTICLE_GENERIC_ATTRIBUTES: &[&str] = &["lang", "title"];
const ARTICLE_REL: &str = "noopener noreferrer";

/// What each pipeline allows.
struct Policy {
    tags: &'static [&'static str],
    attributes: &'static [(&'static str, &'static str)],
    generic_attributes: &'static [&'static str],
    rel: &'static str,
    /// Whether a same-site path may be linked to (articles) or only absolute URLs.
    site_paths: bool,
}

const REACTION: Policy = Policy {
    tags: REACTION_TAGS,
    attributes: REACTION_ATTRIBUTES,
    generic_attributes: &[],
    rel: REACTION_REL,
    site_paths: false,
};

const ARTICLE: Policy = Policy {
    tags: ARTICLE_TAGS,
    attributes: ARTICLE_ATTRIBUTES,
    generic_attributes: ARTICLE_GENERIC_ATTRIBUTES,
    rel: ARTICLE_REL,
    site_paths: true,
};

/// A URL attribute as a browser's URL parser reads it: leading and trailing C0 controls
/// and spaces stripped, tabs and line breaks removed, `\` read as `/`.
fn as_browser_reads(value: &str) -> String {
    value
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect()
}

/// The URL's scheme, lowercased, when a browser would see one.
fn scheme(url: &str) -> Option<String> {
    let end = url.find(':')?;
    let head = &url[..end];
    let mut chars = head.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    well_formed.then(|| head.to_ascii_lowercase())
}

/// Whether following `value` leads a browser to an http(s) site, a mail client or, when
/// `site_paths` allows it, a path on this site.
fn followable(value: &str, site_paths: bool) -> bool {
    let url = as_browser_reads(value);
    match scheme(&url).as_deref() {
        // `https:/x` and `https:x` are same-site paths on an https page.
        Some(scheme @ ("http" | "https")) => url[scheme.len() + 1..].starts_with("//"),
        Some("mailto") => true,
        Some(_) => false,
        None => site_paths && !url.starts_with("//"),
    }
}

/// Checks rendered HTML against a policy; returns the number of links with a target.
fn check(html: &str, policy: &Policy, input: &str) -> usize {
    assert!(
        !html.to_ascii_lowercase().contains("<script"),
        "<script in {html:?} from {input:?}"
    );
    let fragment = Html::parse_fragment(html);
    let mut links = 0;
    // The first element is the `html` the fragment parser wraps everything in.
    for element in fragment.root_element().descendent_elements().skip(1) {
        let tag = element.value().name();
        assert!(
            policy.tags.contains(&tag),
            "element <{tag}> in {html:?} from {input:?}"
        );
        for (name, value) in element.value().attrs() {
            assert!(
                !name.starts_with("on"),
                "handler {name}={value:?} in {html:?} from {input:?}"
            );
            assert!(
                policy.attributes.contains(&(tag, name))
                    || policy.generic_attributes.contains(&name),
                "attribute {name}={value:?} on <{tag}> in {html:?} from {input:?}"
            );
            if matches!(name, "href" | "src" | "cite") {
                assert!(
                    followable(value, policy.site_paths),
                    "{name}={value:?} in {html:?} from {input:?}"
                );
            }
        }
        if tag == "a" {
            assert_eq!(
                element.value().attr("rel"),
                Some(policy.rel),
                "rel in {html:?} from {input:?}"
            );
            links += usize::from(element.value().attr("href").is_some());
        }
    }
    links
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let chars = input.chars().count();
    if chars <= CommentBody::MAX_CHARS {
        let html = render_reaction(input);
        let links = check(html.as_str(), &REACTION, input);
        // The moderation link rule must see every link the page will show.
        let counted = count_links(input);
        assert!(
            counted >= links,
            "count_links said {counted}, the page shows {links} links: {html:?} from {input:?}"
        );
    } else {
        count_links(input);
    }
    if chars <= ARTICLE_MAX_CHARS {
        check(render_article(input).as_str(), &ARTICLE, input);
    }
});
