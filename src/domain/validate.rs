//! Newtypes that are checked once, on parse, and trusted everywhere after.
//!
//! Each `parse` that fails says why with a [`FieldMessage`]: a stable code, the Dutch
//! sentence shown next to the form field, and the English one of the API and the CLI.

use std::{collections::BTreeMap, fmt};

/// Roles and article states are read from forms too; they are defined with the other
/// stored states.
pub use super::states::{ArticleStatus, Role};

/// Why a field did not pass its check: a stable snake_case `code` for API clients, the
/// Dutch sentence the site shows next to the field, and the English one of the API and
/// the command line. Displays as the Dutch sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldMessage {
    pub code: &'static str,
    pub dutch: &'static str,
    pub english: &'static str,
}

impl FieldMessage {
    pub const fn new(code: &'static str, dutch: &'static str, english: &'static str) -> Self {
        Self {
            code,
            dutch,
            english,
        }
    }
}

impl fmt::Display for FieldMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dutch)
    }
}

/// Every field error of one form, collected so the page can show them all at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, FieldMessage>);

impl FieldErrors {
    /// Keeps the value of a passed check, or records the message of a failed one.
    pub fn check<T>(&mut self, field: &'static str, result: Result<T, FieldMessage>) -> Option<T> {
        result.map_err(|message| self.insert(field, message)).ok()
    }

    pub fn insert(&mut self, field: &'static str, message: FieldMessage) {
        self.0.entry(field).or_insert(message);
    }

    pub fn get(&self, field: &str) -> Option<FieldMessage> {
        self.0.get(field).copied()
    }

    pub fn contains(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, FieldMessage)> + '_ {
        self.0.iter().map(|(k, v)| (*k, *v))
    }
}

macro_rules! string_newtype {
    ($name:ident) => {
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl $name {
            /// The checked value.
            pub fn into_inner(self) -> String {
                self.0
            }
        }
    };
}

fn trimmed_length(value: &str, min: usize, max: usize) -> Option<String> {
    let value = value.trim();
    let count = value.chars().count();
    (min..=max).contains(&count).then(|| value.to_owned())
}

fn has_control_chars(value: &str) -> bool {
    value.chars().any(|c| c.is_control())
}

/// Control characters other than line breaks and tabs: never typed by a person, and
/// NUL cannot even be stored by PostgreSQL.
fn has_stray_control_chars(value: &str) -> bool {
    value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

// The patterns below say in the API spec what each `parse` takes, in the one regex
// dialect that JSON Schema (ECMA 262), Python's `re` and Rust's `regex` read alike:
// character classes written as `\uXXXX` ranges, no lookaround, `\s` only in `[\s\S]`. Rust's
// `char::is_whitespace` and `char::is_control` are spelled out, since `trim` and the
// checks use them. A test per newtype holds each pattern to its `parse`.

/// Class body: every character `char::is_whitespace` takes (what `trim` removes).
macro_rules! any_space {
    () => {
        r"\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// Class body: the white space of one line of text (no control characters).
macro_rules! line_space {
    () => {
        r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    };
}

/// Class body: the white space of a text (tab and line breaks too).
macro_rules! text_space {
    () => {
        concat!(r"\u0009\u000a\u000d", line_space!())
    };
}

/// A character that is neither white space nor a control character.
macro_rules! visible {
    () => {
        r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    };
}

/// A character of one line: anything but a control character.
macro_rules! line_char {
    () => {
        r"[^\u0000-\u001f\u007f-\u009f]"
    };
}

/// A character of a text: anything but a control character other than tab and line breaks.
macro_rules! text_char {
    () => {
        r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]"
    };
}

/// One line of 1 to `$inner + 2` characters once trimmed (`$inner` is written out
/// because a pattern is a literal).
macro_rules! trimmed_line {
    (1, $inner:literal) => {
        concat!(
            "^[",
            line_space!(),
            "]*",
            visible!(),
            "(?:",
            line_char!(),
            "{0,",
            $inner,
            "}",
            visible!(),
            ")?[",
            line_space!(),
            "]*$"
        )
    };
}

/// A text of at most `$inner + 2` characters once trimmed, possibly empty.
macro_rules! trimmed_text {
    ($inner:literal) => {
        concat!(
            "^[",
            text_space!(),
            "]*(?:",
            visible!(),
            "(?:",
            text_char!(),
            "{0,",
            $inner,
            "}",
            visible!(),
            ")?)?[",
            text_space!(),
            "]*$"
        )
    };
}

/// A label of an e-mail domain: ASCII letters, digits, `-` and any non-ASCII character
/// that is neither white space nor a control character.
macro_rules! email_label {
    () => {
        r"(?:[A-Za-z0-9-]|[^\u0000-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])+"
    };
}

/// The rest of a host label after its first character: letters, digits and `-`.
macro_rules! ldh_rest {
    () => {
        "[A-Za-z0-9-]*"
    };
}

/// A host label that does not start with `xn--` (a Punycode label the URL parser would
/// have to decode, and may refuse), given the class of its first character besides `x`.
macro_rules! host_label {
    ($first:literal) => {
        concat!(
            "(?:",
            $first,
            ldh_rest!(),
            "|[Xx](?:[A-MO-Za-mo-z0-9-]",
            ldh_rest!(),
            "|[Nn](?:[A-Za-z0-9]",
            ldh_rest!(),
            "|-(?:[A-Za-z0-9]",
            ldh_rest!(),
            ")?)?)?)"
        )
    };
}

/// A text with something besides white space in it.
const NOT_BLANK_TEXT: &str = concat!("^", text_char!(), "*", visible!(), text_char!(), "*$");

/// Line breaks as `\n` only: `\r\n` and a lone `\r` are both line endings to Markdown.
fn unix_line_breaks(value: &str) -> String {
    value.replace("\r\n", "\n").replace('\r', "\n")
}

const STRAY_CONTROL: FieldMessage = FieldMessage::new(
    "control_character",
    "De tekst bevat een onzichtbaar stuurteken dat we niet kunnen opslaan. Haal het weg en probeer het opnieuw.",
    "The text contains an invisible control character that cannot be stored; remove it.",
);

const SLUG_INVALID: FieldMessage = FieldMessage::new(
    "invalid_slug",
    "Gebruik alleen kleine letters, cijfers en losse streepjes (maximaal 100 tekens).",
    "Use only lowercase letters, digits and single hyphens (at most 100 characters).",
);

const TITLE_ONE_LINE: FieldMessage = FieldMessage::new(
    "line_break",
    "De titel mag geen regeleinden of stuurtekens bevatten.",
    "The title may not contain line breaks or control characters.",
);

const TITLE_LENGTH: FieldMessage = FieldMessage::new(
    "invalid_length",
    "Geef een titel van 1 tot 200 tekens.",
    "Give a title of 1 to 200 characters.",
);

const SUMMARY_TOO_LONG: FieldMessage = FieldMessage::new(
    "too_long",
    "De samenvatting mag hoogstens 500 tekens lang zijn.",
    "The summary may be at most 500 characters long.",
);

const ARTICLE_BODY_EMPTY: FieldMessage = FieldMessage::new(
    "required",
    "Schrijf eerst de tekst van het artikel.",
    "Write the text of the article first.",
);

const ARTICLE_BODY_TOO_LONG: FieldMessage = FieldMessage::new(
    "too_long",
    "De tekst mag hoogstens 50.000 tekens lang zijn.",
    "The text may be at most 50,000 characters long.",
);

const PASSWORD_TOO_SHORT: FieldMessage = FieldMessage::new(
    "too_short",
    "Kies een wachtwoord van minstens 10 tekens.",
    "Choose a password of at least 10 characters.",
);

const PASSWORD_TOO_LONG: FieldMessage = FieldMessage::new(
    "too_long",
    "Dat wachtwoord is te lang (hoogstens 1024 tekens).",
    "That password is too long (at most 1024 characters).",
);

const NAME_ONE_LINE: FieldMessage = FieldMessage::new(
    "line_break",
    "Je naam mag geen regeleinden of stuurtekens bevatten.",
    "Your name may not contain line breaks or control characters.",
);

const NAME_LENGTH: FieldMessage = FieldMessage::new(
    "invalid_length",
    "Vul je naam in (hoogstens 80 tekens).",
    "Fill in your name (at most 80 characters).",
);

const COMMENT_EMPTY: FieldMessage = FieldMessage::new(
    "required",
    "Schrijf eerst je reactie.",
    "Write your reaction first.",
);

const COMMENT_TOO_LONG: FieldMessage = FieldMessage::new(
    "too_long",
    "Je reactie mag hoogstens 5000 tekens lang zijn.",
    "Your reaction may be at most 5000 characters long.",
);

const USERNAME_INVALID: FieldMessage = FieldMessage::new(
    "invalid_username",
    "Een gebruikersnaam heeft 2 tot 64 tekens: kleine letters, cijfers, punt, liggend streepje of streepje.",
    "A username has 2 to 64 characters: lowercase letters, digits, '.', '_' or '-'.",
);

/// A URL-safe article slug: lowercase ASCII letters, digits and single hyphens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);
string_newtype!(Slug);

impl Slug {
    pub const MAX_LEN: usize = 100;
    /// What an editor may send as a slug: blank (derive it from the title) or a slug,
    /// with white space around it; [`Slug::INPUT_LENGTH`] caps the slug itself.
    pub const INPUT_PATTERN: &str = concat!(
        "^[",
        any_space!(),
        "]*(?:[a-z0-9]+(?:-[a-z0-9]+)*)?[",
        any_space!(),
        "]*$"
    );
    pub const INPUT_LENGTH: &str = concat!(
        "^[",
        any_space!(),
        "]*[a-z0-9-]{0,100}[",
        any_space!(),
        "]*$"
    );

    /// Checks a slug typed by an editor.
    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        let value = value.trim();
        let well_formed = !value.is_empty()
            && value.len() <= Self::MAX_LEN
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-')
            && !value.contains("--");
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(SLUG_INVALID)
        }
    }

    /// Derives a slug from a title, folding diacritics ("coöperatie" -> "cooperatie").
    /// Returns `None` when nothing usable is left (a title of only punctuation).
    pub fn from_title(title: &str) -> Option<Self> {
        let folded = deunicode::deunicode(title).to_ascii_lowercase();
        let mut slug = String::with_capacity(folded.len());
        for c in folded.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        if slug.len() > Self::MAX_LEN {
            slug.truncate(Self::MAX_LEN);
        }
        let slug = slug.trim_end_matches('-');
        (!slug.is_empty()).then(|| Self(slug.to_owned()))
    }

    /// This slug with a numeric suffix (`-2`, `-3`, ...), still within the length limit.
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let keep = Self::MAX_LEN - suffix.len();
        let base = if self.0.len() > keep {
            self.0[..keep].trim_end_matches('-')
        } else {
            &self.0
        };
        Self(format!("{base}{suffix}"))
    }
}

/// An article title: 1..=200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);
string_newtype!(Title);

impl Title {
    pub const PATTERN: &str = trimmed_line!(1, "198");

    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        if has_control_chars(value) {
            return Err(TITLE_ONE_LINE);
        }
        trimmed_length(value, 1, 200).map(Self).ok_or(TITLE_LENGTH)
    }
}

/// An article summary: plain text, at most 500 characters, may be empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary(String);
string_newtype!(Summary);

impl Summary {
    pub const PATTERN: &str = trimmed_text!("498");

    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        if has_stray_control_chars(value) {
            return Err(STRAY_CONTROL);
        }
        trimmed_length(value, 0, 500)
            .map(Self)
            .ok_or(SUMMARY_TOO_LONG)
    }
}

/// An article body in Markdown: not blank, at most 50 000 characters as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleBody(String);
string_newtype!(ArticleBody);

impl ArticleBody {
    pub const MAX_CHARS: usize = 50_000;
    pub const PATTERN: &str = NOT_BLANK_TEXT;

    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        if has_stray_control_chars(value) {
            return Err(STRAY_CONTROL);
        }
        // The whole value counts, as `maxLength` counts it: a spec cannot say "once
        // trimmed" for a limit this long.
        if value.trim().is_empty() {
            Err(ARTICLE_BODY_EMPTY)
        } else if value.chars().count() > Self::MAX_CHARS {
            Err(ARTICLE_BODY_TOO_LONG)
        } else {
            Ok(Self(unix_line_breaks(value)))
        }
    }
}

/// A login name: 2..=64 characters of lowercase letters, digits, `.`, `_` or `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);
string_newtype!(Username);

impl Username {
    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        let value = value.trim().to_lowercase();
        let ok = (2..=64).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(Self(value))
        } else {
            Err(USERNAME_INVALID)
        }
    }
}

/// A password worth hashing: 10..=1024 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        let count = value.chars().count();
        if count < 10 {
            Err(PASSWORD_TOO_SHORT)
        } else if count > 1024 {
            Err(PASSWORD_TOO_LONG)
        } else {
            Ok(Self(value.to_owned()))
        }
    }
}

impl AsRef<str> for Password {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A moderator's reason for a decision or a ban, kept in the log: at most 500 characters,
/// no control characters but line breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModerationReason(String);
string_newtype!(ModerationReason);

impl ModerationReason {
    pub const MAX_CHARS: usize = 500;
    pub const PATTERN: &str = trimmed_text!("498");

    /// An empty field is no reason (`Ok(None)`).
    pub fn parse_optional(value: &str) -> Result<Option<Self>, FieldMessage> {
        if has_stray_control_chars(value) {
            return Err(STRAY_CONTROL);
        }
        let value = value.trim();
        if value.is_empty() {
            Ok(None)
        } else if value.chars().count() > Self::MAX_CHARS {
            Err(REASON_TOO_LONG)
        } else {
            Ok(Some(Self(value.to_owned())))
        }
    }
}

/// What an API token is for, shown in its list: 1..=100 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenLabel(String);
string_newtype!(TokenLabel);

impl TokenLabel {
    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        if has_control_chars(value) {
            return Err(LABEL_LENGTH);
        }
        trimmed_length(value, 1, 100).map(Self).ok_or(LABEL_LENGTH)
    }
}

const REASON_TOO_LONG: FieldMessage = FieldMessage::new(
    "too_long",
    "Een reden heeft hoogstens 500 tekens.",
    "A reason may be at most 500 characters long.",
);

const LABEL_LENGTH: FieldMessage = FieldMessage::new(
    "invalid_length",
    "Geef het token een omschrijving van 1 tot 100 tekens op één regel, zodat je later weet waarvoor het is.",
    "Give the token a description of 1 to 100 characters on one line.",
);

/// The name a reader signs a reaction with: 1..=80 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorName(String);
string_newtype!(AuthorName);

impl AuthorName {
    pub const PATTERN: &str = trimmed_line!(1, "78");

    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        if has_control_chars(value) {
            return Err(NAME_ONE_LINE);
        }
        trimmed_length(value, 1, 80).map(Self).ok_or(NAME_LENGTH)
    }
}

/// An e-mail address, lowercased in its domain part. Checked for shape, not delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);
string_newtype!(Email);

impl Email {
    /// `local@domain` with white space around it: the local part 1 to 64 characters
    /// without white space, control characters or `@<>"(),;:\[]`; the domain two or more
    /// dot-separated labels of ASCII letters, digits and `-`, or any other non-ASCII
    /// character (internationalised names). [`Email::LENGTH`] caps the whole at 254.
    pub const PATTERN: &str = concat!(
        "^[",
        any_space!(),
        "]*",
        r#"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000@<>"(),;:\\\[\]]{1,64}"#,
        "@",
        email_label!(),
        r"(?:\.",
        email_label!(),
        ")+",
        "[",
        any_space!(),
        "]*$"
    );
    pub const LENGTH: &str = concat!(
        "^[",
        any_space!(),
        "]*[^",
        any_space!(),
        "]{0,254}[",
        any_space!(),
        "]*$"
    );

    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        const MESSAGE: FieldMessage = FieldMessage::new(
            "invalid_email",
            "Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.",
            "Fill in a valid e-mail address, for example name@example.nl.",
        );
        let value = value.trim();
        // Characters, not bytes: the limits the spec's patterns can say.
        if value.chars().count() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(MESSAGE);
        }
        let (local, domain) = value.rsplit_once('@').ok_or(MESSAGE)?;
        // Checked as stored: lowercasing can lengthen the domain ("İ" becomes two).
        let domain = domain.to_lowercase();
        // Any non-ASCII character may stand in a label: internationalised names hold
        // marks and signs that `is_alphanumeric` would refuse.
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
            });
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.contains('@')
            && !local.contains(['<', '>', '"', '(', ')', ',', ';', ':', '\\', '[', ']']);
        let email = format!("{local}@{domain}");
        if domain_ok && local_ok && email.chars().count() <= 254 {
            Ok(Self(email))
        } else {
            Err(MESSAGE)
        }
    }
}

/// A web address a reader links their name to: http or https only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebUrl(String);
string_newtype!(WebUrl);

/// The shape [`WebUrl::PATTERN`] describes, checked before the URL parser normalises.
#[allow(clippy::expect_used, reason = "a constant, read by the tests")]
static WEB_URL_SHAPE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(WebUrl::PATTERN).expect("WebUrl::PATTERN is a valid regex")
});

impl WebUrl {
    pub const MAX_CHARS: usize = 2048;
    /// Blank (no address), or `http://` or `https://` (any case), a host name of
    /// dot-separated labels of ASCII letters, digits and `-` whose last label starts with
    /// a letter (no IP addresses; no `xn--` labels: write the name itself), an optional
    /// port up to 65535, and after `/`, `?` or `#` anything but control characters; with
    /// white space around it. [`WebUrl::LENGTH`] caps the address at 2048 characters.
    pub const PATTERN: &str = concat!(
        "^[",
        any_space!(),
        "]*(?:[Hh][Tt][Tt][Pp][Ss]?://(?:",
        host_label!("[A-WYZa-wyz0-9-]"),
        r"\.)*",
        host_label!("[A-WYZa-wyz]"),
        r"\.?",
        "(?::0*(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])?)?",
        "(?:[/?#]",
        line_char!(),
        "*)?)?[",
        any_space!(),
        "]*$"
    );
    pub const LENGTH: &str = concat!(
        "^[",
        any_space!(),
        r"]*(?:[^",
        any_space!(),
        r"](?:[\s\S]{0,2046}[^",
        any_space!(),
        "])?)?[",
        any_space!(),
        "]*$"
    );
    /// The most characters stored (the column's size), counted as stored: percent-encoded.
    pub const MAX_LEN: usize = 2048;

    /// An empty field is no URL at all (`Ok(None)`).
    pub fn parse_optional(value: &str) -> Result<Option<Self>, FieldMessage> {
        const MESSAGE: FieldMessage = FieldMessage::new(
            "invalid_url",
            "Vul een webadres in dat begint met http:// of https://, of laat het veld leeg.",
            "Fill in a web address that starts with http:// or https://, or leave the field empty.",
        );
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        // The URL parser alone takes far more than a spec can say ("http:x", hosts with
        // `*`, numbers read as IPv4); the documented shape decides, the parser normalises.
        if value.chars().count() > Self::MAX_CHARS || !WEB_URL_SHAPE.is_match(value) {
            return Err(MESSAGE);
        }
        let url = url::Url::parse(value).map_err(|_| MESSAGE)?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.username().is_empty()
            && url.password().is_none()
            && url.as_str().len() <= Self::MAX_LEN;
        if ok {
            Ok(Some(Self(url.to_string())))
        } else {
            Err(MESSAGE)
        }
    }
}

/// The Markdown body of a reaction: 1..=5000 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentBody(String);
string_newtype!(CommentBody);

impl CommentBody {
    pub const MAX_CHARS: usize = 5000;
    pub const PATTERN: &str = NOT_BLANK_TEXT;
    /// At most 5000 characters, a CR LF line break counting as one.
    pub const LENGTH: &str = r"^(?:\r\n|[\s\S]){0,5000}$";

    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        if has_stray_control_chars(value) {
            return Err(STRAY_CONTROL);
        }
        let value = unix_line_breaks(value);
        let count = value.trim().chars().count();
        if count == 0 {
            Err(COMMENT_EMPTY)
        } else if value.chars().count() > Self::MAX_CHARS {
            Err(COMMENT_TOO_LONG)
        } else {
            Ok(Self(value.trim().to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_keep_the_first_message_per_field() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.check("a", Ok::<_, FieldMessage>(1)), Some(1));
        assert_eq!(errors.check::<i32>("a", Err(TITLE_LENGTH)), None);
        errors.insert("a", SLUG_INVALID);
        assert_eq!(errors.get("a"), Some(TITLE_LENGTH));
        assert!(errors.contains("a") && !errors.contains("b"));
    }

    #[test]
    fn slug_from_title_folds_dutch_diacritics() {
        let cases = [
            ("Coöperatie", "cooperatie"),
            ("Één leraar, twee registers!", "een-leraar-twee-registers"),
            (
                "  Het Lerarenregister -- of niet?  ",
                "het-lerarenregister-of-niet",
            ),
            ("Ĳsselmeer café naïef", "ijsselmeer-cafe-naief"),
            ("2018: de ijskast", "2018-de-ijskast"),
        ];
        for (title, expected) in cases {
            assert_eq!(
                Slug::from_title(title).unwrap().as_ref(),
                expected,
                "title {title:?}"
            );
        }
    }

    #[test]
    fn slug_from_title_without_letters_is_none() {
        assert_eq!(Slug::from_title("?!  --"), None);
        assert_eq!(Slug::from_title(""), None);
    }

    #[test]
    fn slug_from_long_title_stays_within_limit() {
        let slug = Slug::from_title(&"lang woord ".repeat(40)).unwrap();
        assert!(slug.as_ref().len() <= Slug::MAX_LEN);
        assert!(!slug.as_ref().ends_with('-'));
    }

    #[test]
    fn slug_suffix_is_appended_within_limit() {
        assert_eq!(Slug::parse("abc").unwrap().with_suffix(2).as_ref(), "abc-2");
        let long = Slug::parse(&"a".repeat(100)).unwrap().with_suffix(12);
        assert_eq!(long.as_ref().len(), 100);
        assert!(long.as_ref().ends_with("-12"));
    }

    #[test]
    fn slug_parse_rejects_bad_shapes() {
        for bad in [
            "",
            "Hoofdletter",
            "met spatie",
            "-begin",
            "eind-",
            "dubbel--streep",
            "ü",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Slug::parse(&"a".repeat(101)).is_err());
        assert_eq!(Slug::parse(" goed-2 ").unwrap().as_ref(), "goed-2");
    }

    #[test]
    fn title_is_trimmed_and_limited() {
        assert_eq!(Title::parse("  Titel ").unwrap().as_ref(), "Titel");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"x".repeat(201)).is_err());
        assert!(Title::parse("regel\nnog een").is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn summary_may_be_empty_but_not_long() {
        assert_eq!(Summary::parse("  ").unwrap().as_ref(), "");
        assert!(Summary::parse(&"x".repeat(501)).is_err());
    }

    #[test]
    fn article_body_is_required_and_capped() {
        assert!(ArticleBody::parse(" \n ").is_err());
        assert!(ArticleBody::parse(&"x".repeat(50_001)).is_err());
        assert_eq!(ArticleBody::parse("a\r\nb").unwrap().as_ref(), "a\nb");
    }

    #[test]
    fn username_is_lowercased_and_checked() {
        assert_eq!(
            Username::parse(" Redacteur ").unwrap().as_ref(),
            "redacteur"
        );
        for bad in ["a", "met spatie", "naam@site", &"x".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn password_needs_ten_characters_and_hides_in_debug() {
        assert!(Password::parse("kort").is_err());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        let password = Password::parse("lang genoeg wachtwoord").unwrap();
        assert_eq!(format!("{password:?}"), "Password(***)");
    }

    #[test]
    fn role_round_trips() {
        for role in [Role::Admin, Role::Editor, Role::Moderator] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Editor.can_edit_articles() && !Role::Editor.can_moderate());
        assert!(Role::Moderator.can_moderate() && !Role::Moderator.can_edit_articles());
        assert!(Role::Admin.can_moderate() && Role::Admin.can_edit_articles());
    }

    #[test]
    fn article_status_round_trips() {
        for status in [ArticleStatus::Draft, ArticleStatus::Published] {
            assert_eq!(ArticleStatus::parse(status.as_str()), Ok(status));
        }
        assert!(ArticleStatus::parse("archived").is_err());
    }

    #[test]
    fn author_name_is_one_trimmed_line() {
        assert_eq!(
            AuthorName::parse("  Jan de Vries ").unwrap().as_ref(),
            "Jan de Vries"
        );
        assert!(AuthorName::parse("").is_err());
        assert!(AuthorName::parse(&"x".repeat(81)).is_err());
        assert!(AuthorName::parse("Jan\nPiet").is_err());
        assert_eq!(
            AuthorName::parse("<script>").unwrap().as_ref(),
            "<script>",
            "markup is kept as text and escaped on output"
        );
    }

    #[test]
    fn email_shapes() {
        assert_eq!(
            Email::parse(" Lien@Example.NL ").unwrap().as_ref(),
            "Lien@example.nl"
        );
        let bad = [
            "",
            "geen-apenstaart",
            "@example.nl",
            "naam@",
            "naam@localhost",
            "naam@.nl",
            "naam@example..nl",
            "met spatie@example.nl",
            "a<b>@example.nl",
        ];
        for value in bad {
            assert!(Email::parse(value).is_err(), "{value:?} should be rejected");
        }
    }

    /// Found while writing the `forms` fuzz target, which fails on it: `İ` passes the
    /// domain check but lowercases to `i` and a combining dot, which does not; `Ⱥ` grows
    /// from two bytes to three when lowercased.
    #[test]
    fn email_is_checked_as_stored() {
        let grows = format!("a@{}.nl", "İ".repeat(126));
        assert!(grows.chars().count() <= 254);
        assert!(
            Email::parse(&grows).is_err(),
            "257 characters once lowercased"
        );
        let dotted = Email::parse("a@İx.nl").unwrap();
        assert_eq!(Email::parse(dotted.as_ref()), Ok(dotted));
        let kept = Email::parse("Lien@Café.NL").unwrap();
        assert_eq!(kept.as_ref(), "Lien@café.nl");
        assert_eq!(Email::parse(kept.as_ref()), Ok(kept));
    }

    #[test]
    fn web_url_allows_only_http_and_https() {
        assert_eq!(WebUrl::parse_optional("  "), Ok(None));
        assert_eq!(
            WebUrl::parse_optional("https://example.nl/blog")
                .unwrap()
                .unwrap()
                .as_ref(),
            "https://example.nl/blog"
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hoi",
            "ftp://example.nl",
            "example.nl",
            "https://user:pw@example.nl",
            "http://",
        ] {
            assert!(
                WebUrl::parse_optional(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    /// Found by the `forms` fuzz target: `\r\r\n` (a blank line to Markdown) became
    /// `\r\n` (a single line break), which a second parse changed again.
    #[test]
    fn bodies_keep_every_line_break_and_parse_to_themselves() {
        let comment = CommentBody::parse("a\r\r\nb\rc").unwrap();
        assert_eq!(comment.as_ref(), "a\n\nb\nc");
        assert_eq!(CommentBody::parse(comment.as_ref()), Ok(comment));
        let article = ArticleBody::parse("a\r\r\nb\rc").unwrap();
        assert_eq!(article.as_ref(), "a\n\nb\nc");
        assert_eq!(ArticleBody::parse(article.as_ref()), Ok(article));
    }

    /// Found by the `forms` fuzz target: percent-encoding makes the stored URL longer
    /// than what was typed, past the 2048 characters the column holds.
    #[test]
    fn web_url_is_capped_as_stored() {
        let typed = format!("https://example.nl/{}", "é".repeat(1000));
        assert!(typed.len() <= WebUrl::MAX_LEN);
        assert!(WebUrl::parse_optional(&typed).is_err());
        let longest = format!("https://example.nl/{}", "a".repeat(WebUrl::MAX_LEN - 19));
        assert_eq!(
            WebUrl::parse_optional(&longest)
                .unwrap()
                .unwrap()
                .as_ref()
                .len(),
            WebUrl::MAX_LEN
        );
    }

    #[test]
    fn text_with_stray_control_characters_is_refused() {
        assert!(CommentBody::parse("hoi\0daar").is_err());
        assert!(CommentBody::parse("escape \u{1b}[31m").is_err());
        assert!(CommentBody::parse("regel\nregel\ttab\r\n").is_ok());
        assert!(ArticleBody::parse("a\0b").is_err());
        assert!(Summary::parse("a\0b").is_err());
        assert!(AuthorName::parse("a\0b").is_err());
        assert!(Email::parse("a\0b@example.nl").is_err());
    }

    #[test]
    fn comment_body_is_required_and_capped() {
        assert!(CommentBody::parse("  \n").is_err());
        assert!(CommentBody::parse(&"x".repeat(5001)).is_err());
        assert!(CommentBody::parse(&"é".repeat(5000)).is_ok());
        assert_eq!(CommentBody::parse(" hoi\r\n").unwrap().as_ref(), "hoi");
    }

    /// The API spec's patterns take exactly what `parse` takes: values drawn from each
    /// pattern pass, and strings made of the characters at the rules' edges pass the
    /// patterns exactly when they pass `parse`.
    mod spec_patterns {
        use proptest::{collection::vec, prelude::*};
        use regex::Regex;

        use super::super::*;

        fn all_match(patterns: &[&str], value: &str) -> bool {
            patterns.iter().all(|p| compiled(p).is_match(value))
        }

        /// Each pattern compiled once: the long ones take a while.
        fn compiled(pattern: &str) -> Regex {
            static CACHE: std::sync::LazyLock<
                std::sync::Mutex<std::collections::HashMap<String, Regex>>,
            > = std::sync::LazyLock::new(Default::default);
            CACHE
                .lock()
                .expect("regex cache")
                .entry(pattern.to_owned())
                .or_insert_with(|| Regex::new(pattern).expect("a valid pattern"))
                .clone()
        }

        /// Values the first pattern describes (anchors dropped for the generator), kept
        /// when they fit the others.
        fn drawn(patterns: &'static [&'static str]) -> impl Strategy<Value = String> {
            let first = patterns[0];
            let inner = &first[1..first.len() - 1];
            proptest::string::string_regex(inner)
                .expect("a pattern proptest can draw from")
                .prop_filter("fits every pattern", move |v| all_match(patterns, v))
        }

        fn edge_char() -> impl Strategy<Value = char> {
            prop_oneof![
                prop::sample::select(vec![
                    ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{85}', '\u{a0}',
                    '\u{2028}', '\u{3000}', '\u{feff}', '\0', '\u{1b}', '\u{7f}', '\u{9f}', '@',
                    '.', '-', ':', '/', '?', '#', '*', '<', '"', '\\', '[', 'x', 'X', 'n', 'h',
                    't', 'p', 's', 'é', 'ß', '😀', '0', '9',
                ]),
                proptest::char::range('a', 'z'),
                any::<char>(),
            ]
        }

        fn edge_string(max: usize) -> impl Strategy<Value = String> {
            vec(edge_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
        }

        /// Strings near the shapes: a valid value with edge characters spliced in.
        fn near(patterns: &'static [&'static str]) -> impl Strategy<Value = String> {
            (
                drawn(patterns),
                edge_string(4),
                any::<prop::sample::Index>(),
            )
                .prop_map(|(value, extra, at)| {
                    let chars: Vec<char> = value.chars().collect();
                    let at = at.index(chars.len() + 1);
                    chars[..at]
                        .iter()
                        .chain(extra.chars().collect::<Vec<_>>().iter())
                        .chain(chars[at..].iter())
                        .collect()
                })
        }

        macro_rules! agree {
            ($name:ident, $patterns:expr, $accepts:expr) => {
                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(300))]
                    #[test]
                    fn $name(
                        valid in drawn($patterns),
                        nearly in near($patterns),
                        any in edge_string(12),
                    ) {
                        let accepts = $accepts;
                        prop_assert!(accepts(&valid), "drawn from the pattern, refused: {valid:?}");
                        for value in [nearly, any] {
                            prop_assert_eq!(all_match($patterns, &value), accepts(&value), "{:?}", value);
                        }
                    }
                }
            };
        }

        agree!(author_name, &[AuthorName::PATTERN], |v: &str| {
            AuthorName::parse(v).is_ok()
        });
        agree!(title, &[Title::PATTERN], |v: &str| Title::parse(v).is_ok());
        agree!(summary, &[Summary::PATTERN], |v: &str| Summary::parse(v)
            .is_ok());
        agree!(reason, &[ModerationReason::PATTERN], |v: &str| {
            ModerationReason::parse_optional(v).is_ok()
        });
        agree!(article_body, &[ArticleBody::PATTERN], |v: &str| {
            ArticleBody::parse(v).is_ok()
        });
        agree!(
            comment_body,
            &[CommentBody::PATTERN, CommentBody::LENGTH],
            |v: &str| CommentBody::parse(v).is_ok()
        );
        agree!(email, &[Email::PATTERN, Email::LENGTH], |v: &str| {
            Email::parse(v).is_ok()
        });
        agree!(web_url, &[WebUrl::PATTERN, WebUrl::LENGTH], |v: &str| {
            WebUrl::parse_optional(v).is_ok()
        });
        agree!(
            slug_input,
            &[Slug::INPUT_PATTERN, Slug::INPUT_LENGTH],
            |v: &str| v.trim().is_empty() || Slug::parse(v).is_ok()
        );

        /// The limits themselves, where random values rarely land.
        #[test]
        fn lengths_on_both_sides_of_each_limit() {
            let cases: Vec<(&[&str], String, bool)> = vec![
                (
                    &[AuthorName::PATTERN],
                    format!(" {} ", "é".repeat(80)),
                    true,
                ),
                (&[AuthorName::PATTERN], "é".repeat(81), false),
                (
                    &[Title::PATTERN],
                    format!("\u{3000}{}", "x".repeat(200)),
                    true,
                ),
                (&[Title::PATTERN], "x".repeat(201), false),
                (
                    &[Summary::PATTERN],
                    format!("\n{}\t", "x".repeat(500)),
                    true,
                ),
                (&[Summary::PATTERN], "x".repeat(501), false),
                (&[ModerationReason::PATTERN], "x".repeat(501), false),
                (
                    &[CommentBody::PATTERN, CommentBody::LENGTH],
                    "a\r\n".repeat(2500),
                    true,
                ),
                (
                    &[CommentBody::PATTERN, CommentBody::LENGTH],
                    format!("{}b", "a\r\n".repeat(2500)),
                    false,
                ),
                (
                    &[Email::PATTERN, Email::LENGTH],
                    format!("{}@example.nl", "é".repeat(64)),
                    true,
                ),
                (
                    &[Email::PATTERN, Email::LENGTH],
                    format!("{}@example.nl", "a".repeat(65)),
                    false,
                ),
                (
                    &[Email::PATTERN, Email::LENGTH],
                    format!("a@{}.nl", "b".repeat(249)),
                    true,
                ),
                (
                    &[Email::PATTERN, Email::LENGTH],
                    format!("a@{}.nl", "b".repeat(250)),
                    false,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    format!("https://a.nl/{}", "x".repeat(2035)),
                    true,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    format!("https://a.nl/{}", "x".repeat(2036)),
                    false,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    "http://a.nl:65535".into(),
                    true,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    "http://a.nl:65536".into(),
                    false,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    "http://xn--a.nl".into(),
                    false,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    "http://1.2.3.4".into(),
                    false,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    "http:example.nl".into(),
                    false,
                ),
                (
                    &[WebUrl::PATTERN, WebUrl::LENGTH],
                    "HTTPS://Example.NL./?q=1#x".into(),
                    true,
                ),
                (
                    &[Slug::INPUT_PATTERN, Slug::INPUT_LENGTH],
                    "a".repeat(100),
                    true,
                ),
                (
                    &[Slug::INPUT_PATTERN, Slug::INPUT_LENGTH],
                    "a".repeat(101),
                    false,
                ),
            ];
            for (patterns, value, valid) in cases {
                assert_eq!(all_match(patterns, &value), valid, "{value:?}");
            }
            assert!(ArticleBody::parse(&"x".repeat(ArticleBody::MAX_CHARS)).is_ok());
            assert!(
                ArticleBody::parse(&format!(" {}", "x".repeat(ArticleBody::MAX_CHARS))).is_err()
            );
        }
    }
}
