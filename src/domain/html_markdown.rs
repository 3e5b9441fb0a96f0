//! Placeholder: replaced by the converter (helper at work).

/// The Markdown source of an imported comment's HTML.
pub fn html_to_markdown(html: &str) -> String {
    html.replace('\\', "\\\\").replace('<', "\\<")
}
