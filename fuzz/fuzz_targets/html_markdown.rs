//! An imported comment's HTML (WordPress, Disqus) on its way in: converting it to
//! Markdown never panics, and what the reaction renderer makes of the result holds no
//! live markup beyond the reaction allowlist (a `<script>` in a comment stays text).
//! Conversion time is bounded by libFuzzer's `-timeout`.

#![no_main]

use kantlijn::domain::{html_markdown::html_to_markdown, markdown::render_reaction};
use libfuzzer_sys::fuzz_target;
use scraper::Html;

const REACTION_TAGS: &[&str] = &[
    "html", "head", "body", "p", "br", "em", "strong", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "a",
];

fuzz_target!(|html: &str| {
    let markdown = html_to_markdown(html);
    let rendered = render_reaction(&markdown);
    let document = Html::parse_fragment(rendered.as_str());
    for node in document.tree.nodes() {
        if let Some(element) = node.value().as_element() {
            assert!(
                REACTION_TAGS.contains(&element.name()),
                "<{}> from {html:?} via {markdown:?}",
                element.name()
            );
        }
    }
});
