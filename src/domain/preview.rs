//! What a reader sees before posting: the body of their reaction as the thread would
//! show it, checked and rendered by the same rules as a reaction that is stored.

use super::{
    markdown::{self, SafeHtml},
    validate::{CommentBody, FieldMessage},
};

/// A reaction's body as its preview shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReactionPreview {
    /// Rendered and cleaned exactly as a posted reaction is (the reaction allowlist).
    Shown(SafeHtml),
    /// Nothing typed yet, or only white space.
    Empty,
    /// A body that could not be posted as it is, and why (too long, a control character).
    Refused(FieldMessage),
}

impl ReactionPreview {
    /// The preview of `body` as typed into the reaction form.
    pub fn of(body: &str) -> Self {
        match CommentBody::parse(body) {
            Ok(body) => Self::Shown(markdown::render_reaction(body.as_ref())),
            Err(_) if body.trim().is_empty() => Self::Empty,
            Err(message) => Self::Refused(message),
        }
    }

    /// Whether the body could not be posted as it is.
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_renders_like_the_stored_reaction() {
        let typed = "  **vet** en <script>alert(1)</script>\r\n\r\n# kop\r\n";
        let stored = markdown::render_reaction(CommentBody::parse(typed).unwrap().as_ref());
        let ReactionPreview::Shown(html) = ReactionPreview::of(typed) else {
            panic!("a body with text is shown");
        };
        assert_eq!(html, stored);
        assert!(html.as_str().contains("<strong>vet</strong>"), "{html}");
        assert!(html.as_str().contains("&lt;script&gt;"), "{html}");
        assert!(!html.as_str().contains("<h"), "{html}");
    }

    #[test]
    fn an_empty_body_has_nothing_to_show() {
        for empty in ["", "   ", "\r\n\t\n"] {
            assert_eq!(
                ReactionPreview::of(empty),
                ReactionPreview::Empty,
                "{empty:?}"
            );
        }
    }

    #[test]
    fn a_body_that_cannot_be_posted_is_refused_with_its_reason() {
        let long = ReactionPreview::of(&"x".repeat(CommentBody::MAX_CHARS + 1));
        assert!(long.is_refused());
        assert!(matches!(long, ReactionPreview::Refused(m) if m.code == "too_long"));
        let control = ReactionPreview::of("hoi\u{1b}[31m");
        assert!(matches!(control, ReactionPreview::Refused(m) if m.code == "control_character"));
        assert!(!ReactionPreview::of(&"é".repeat(CommentBody::MAX_CHARS)).is_refused());
    }
}
