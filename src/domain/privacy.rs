//! What erasing a reader's personal data means (DESIGN.md "Privacy (AVG)"), as rules on
//! plain values: what a reaction becomes, and how a moderator's note loses the name,
//! address and website it mentions.

/// The name an erased reaction is shown under.
pub const ERASED_NAME: &str = "Anoniem";
/// The text of a reaction erased with [`EraseBody::Remove`].
pub const REMOVED_BODY: &str = "[reactie verwijderd]";
/// What stands in a note where personal data stood.
pub const REDACTED: &str = "[gewist]";

/// What becomes of the text of erased reactions: the reader's choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EraseBody {
    /// The text stays, without the name.
    Keep,
    /// The text is replaced by [`REMOVED_BODY`].
    Remove,
}

impl EraseBody {
    /// Reads the form field `body`: `keep` or `remove`, nothing else.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "keep" => Some(Self::Keep),
            "remove" => Some(Self::Remove),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Remove => "remove",
        }
    }

    /// What the moderation log says of the text.
    pub fn log_reason(self) -> &'static str {
        match self {
            Self::Keep => "tekst bleef staan",
            Self::Remove => "tekst verwijderd",
        }
    }
}

/// A use of the privacy pages, as `privacy_log` records it (never with the address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// A reader asked for a link (mailed, or word that nothing is kept).
    Request,
    /// The overview of an address was opened.
    View,
    /// The export of an address was downloaded.
    Export,
    /// An address's data was erased.
    Erase,
}

impl Use {
    pub const ALL: [Self; 4] = [Self::Request, Self::View, Self::Export, Self::Erase];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::View => "view",
            Self::Export => "export",
            Self::Erase => "erase",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == value)
    }

    /// The Dutch description on the admin's privacy page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Request => "link aangevraagd",
            Self::View => "gegevens ingezien",
            Self::Export => "gegevens gedownload",
            Self::Erase => "gegevens gewist",
        }
    }
}

/// The ways a website address may be written in a note: as stored, and without its
/// scheme or trailing slash ("anna.nl/blog" for `https://anna.nl/blog/`).
pub fn url_variants(url: &str) -> Vec<String> {
    let url = url.trim();
    let bare = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let mut variants = vec![
        url.to_owned(),
        bare.to_owned(),
        bare.trim_end_matches('/').to_owned(),
    ];
    variants.retain(|v| !v.is_empty());
    variants.dedup();
    variants
}

/// `text` with every occurrence of each of `secrets` replaced by [`REDACTED`], or `None`
/// when none occurs. Matching ignores case, and a secret that begins or ends with a
/// letter or digit only matches where the text does not go on with one there: the name
/// "Jan" is taken out of "Jan schreef" but "Janssen" stays. Longer secrets go first, so
/// an address is redacted whole rather than the name inside it.
pub fn redact(text: &str, secrets: &[&str]) -> Option<String> {
    let mut needles: Vec<Vec<char>> = secrets
        .iter()
        .map(|s| s.trim().chars().map(fold).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .collect();
    needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
    needles.dedup();
    let chars: Vec<char> = text.chars().collect();
    let folded: Vec<char> = chars.iter().copied().map(fold).collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if let Some(len) = needles
            .iter()
            .find(|n| matches_at(&folded, i, n))
            .map(Vec::len)
        {
            out.push_str(REDACTED);
            changed = true;
            i += len;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    changed.then_some(out)
}

/// A character compared without case; one that lowercases to several keeps its own.
fn fold(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

fn matches_at(text: &[char], at: usize, needle: &[char]) -> bool {
    let end = at + needle.len();
    if end > text.len() || text[at..end] != *needle {
        return false;
    }
    let word = |c: &char| c.is_alphanumeric();
    let starts_clean = !needle.first().is_some_and(word) || at == 0 || !word(&text[at - 1]);
    let ends_clean = !needle.last().is_some_and(word) || end == text.len() || !word(&text[end]);
    starts_clean && ends_clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_choice_is_keep_or_remove() {
        assert_eq!(EraseBody::parse("keep"), Some(EraseBody::Keep));
        assert_eq!(EraseBody::parse(" remove "), Some(EraseBody::Remove));
        for bad in ["", "Keep", "delete", "keep,remove"] {
            assert_eq!(EraseBody::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn uses_read_back_their_stored_names() {
        for u in Use::ALL {
            assert_eq!(Use::parse(u.as_str()), Some(u));
        }
        assert_eq!(Use::parse("delete"), None);
    }

    #[test]
    fn names_addresses_and_websites_are_redacted() {
        let secrets = ["Anna de Vries", "anna@example.nl", "anna.nl/blog"];
        let cases = [
            (
                "Zelfde als ANNA@example.nl eerder",
                Some("Zelfde als [gewist] eerder"),
            ),
            (
                "anna de vries spamt via https://anna.nl/blog/x",
                Some("[gewist] spamt via https://[gewist]/x"),
            ),
            ("Anna de Vriesland is iemand anders", None),
            ("Niets persoonlijks", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(redact(text, &secrets).as_deref(), want, "{text:?}");
        }
    }

    #[test]
    fn a_name_inside_a_longer_word_stays() {
        assert_eq!(
            redact("Janssen en Jan", &["Jan"]).as_deref(),
            Some("Janssen en [gewist]")
        );
        assert_eq!(redact("Jan.", &["jan"]).as_deref(), Some("[gewist]."));
        assert_eq!(redact("x", &["", "  "]), None);
    }

    #[test]
    fn the_longest_secret_wins() {
        assert_eq!(
            redact("mail anna@x.nl", &["anna", "anna@x.nl"]).as_deref(),
            Some("mail [gewist]")
        );
    }

    #[test]
    fn a_website_is_known_with_and_without_its_scheme() {
        assert_eq!(
            url_variants("https://anna.nl/blog/"),
            ["https://anna.nl/blog/", "anna.nl/blog/", "anna.nl/blog"]
        );
        assert_eq!(url_variants("http://a.nl"), ["http://a.nl", "a.nl"]);
        assert!(url_variants(" ").is_empty());
    }
}
