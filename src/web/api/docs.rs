//! The Swagger UI page. poem-openapi inlines its scripts; instead of loosening the
//! site's "no inline script" policy, this page's CSP allows exactly those scripts by hash.

use base64::{Engine, engine::general_purpose::STANDARD};
use poem::{
    Endpoint, Response,
    endpoint::make_sync,
    http::{HeaderValue, header},
};
use sha2::{Digest, Sha256};

/// The docs page for `html`, with a CSP naming the hash of each inline script.
#[allow(
    clippy::expect_used,
    reason = "start-up: the policy is made of ASCII names and base64 hashes"
)]
pub fn endpoint(html: String) -> impl Endpoint {
    let csp = HeaderValue::from_str(&policy(&html)).expect("a CSP is ASCII");
    make_sync(move |_| {
        let mut response = Response::builder()
            .content_type("text/html; charset=utf-8")
            .body(html.clone());
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp.clone());
        response
    })
}

fn policy(html: &str) -> String {
    let hashes: Vec<String> = inline_scripts(html)
        .map(|script| {
            format!(
                "'sha256-{}'",
                STANDARD.encode(Sha256::digest(script.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'",
        hashes.join(" ")
    )
}

/// The text of every `<script>` element without a `src`, scanned the way an HTML
/// parser does: a script runs until the first `</script`, whatever it contains.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("<script")?;
            let after_tag = &rest[start..];
            let open_end = after_tag.find('>')?;
            let attributes = &after_tag[..open_end];
            let body = &after_tag[open_end + 1..];
            let close = body.find("</script")?;
            rest = &body[close..];
            if !attributes.contains("src=") {
                return Some(&body[..close]);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_every_inline_script_and_nothing_else() {
        let html = r#"<script charset="UTF-8">a("<script>")</script><script src="/x.js"></script><script>b()</script>"#;
        let scripts: Vec<&str> = inline_scripts(html).collect();
        assert_eq!(scripts, vec![r#"a("<script>")"#, "b()"]);
        let csp = policy(html);
        assert_eq!(csp.matches("'sha256-").count(), 2);
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline"), "{script_src}");
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
