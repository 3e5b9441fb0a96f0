//! String fields whose schema carries the rules of `domain::validate` (patterns, lengths),
//! so that the spec says which values the server takes. They read any JSON string and
//! leave the checking to the domain, whose 422 names the rule that failed; anything but a
//! string (a number, `true`) is refused with 400, as the spec's `type: string` says.

use std::borrow::Cow;

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde_json::Value;

use crate::domain::{
    position::{IdPosition, Position},
    validate::{
        ArticleBody as ArticleBodyRule, AuthorName as AuthorNameRule,
        CommentBody as CommentBodyRule, Email as EmailRule, ModerationReason, Slug as SlugRule,
        Summary as SummaryRule, Title as TitleRule, WebUrl,
    },
};

/// A string schema that must match every pattern (the first as `pattern`, the others in
/// `allOf`) and is at most `max_length` characters long.
fn schema(patterns: &[&'static str], max_length: Option<usize>) -> MetaSchema {
    let mut schema = MetaSchema::new("string");
    schema.pattern = patterns.first().map(|p| (*p).to_owned());
    schema.max_length = max_length;
    schema.all_of = patterns
        .iter()
        .skip(1)
        .map(|p| {
            let mut more = MetaSchema::new("string");
            more.pattern = Some((*p).to_owned());
            MetaSchemaRef::Inline(Box::new(more))
        })
        .collect();
    schema
}

macro_rules! checked_text {
    ($(#[$doc:meta])* $name:ident, [$($pattern:expr),+], $max_length:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(pub String);

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = String;
            type RawElementValueType = String;

            fn name() -> Cow<'static, str> {
                "string".into()
            }

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(schema(&[$($pattern),+], $max_length)))
            }

            fn as_raw_value(&self) -> Option<&String> {
                Some(&self.0)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a String> + 'a> {
                Box::new(std::iter::once(&self.0))
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value.unwrap_or_default() {
                    Value::String(text) => Ok(Self(text)),
                    other => Err(ParseError::expected_type(other)),
                }
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok(Self(value.to_owned()))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.0.clone()))
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self(text.to_owned())
            }
        }
    };
}

checked_text!(
    /// 1 to 80 characters on one line, white space around them not counted.
    AuthorName, [AuthorNameRule::PATTERN], None
);
checked_text!(
    /// An e-mail address.
    Email, [EmailRule::PATTERN, EmailRule::LENGTH], None
);
checked_text!(
    /// A web address, or blank for none.
    Url, [WebUrl::PATTERN, WebUrl::LENGTH], None
);
checked_text!(
    /// Markdown, not blank, at most 5000 characters.
    CommentBody, [CommentBodyRule::PATTERN, CommentBodyRule::LENGTH], None
);
checked_text!(
    /// 1 to 200 characters on one line, white space around them not counted.
    Title, [TitleRule::PATTERN], None
);
checked_text!(
    /// A slug, or blank to derive one from the title.
    Slug, [SlugRule::INPUT_PATTERN, SlugRule::INPUT_LENGTH], None
);
checked_text!(
    /// Plain text, at most 500 characters, white space around them not counted.
    Summary, [SummaryRule::PATTERN], None
);
checked_text!(
    /// Markdown, not blank.
    ArticleBody, [ArticleBodyRule::PATTERN], Some(ArticleBodyRule::MAX_CHARS)
);
checked_text!(
    /// At most 500 characters, white space around them not counted.
    Reason, [ModerationReason::PATTERN], None
);
checked_text!(
    /// A position in a list by time and id.
    Cursor, [Position::PATTERN], None
);
checked_text!(
    /// A position in a list by id.
    IdCursor, [IdPosition::PATTERN], None
);
checked_text!(
    /// A position in a list of search results.
    SearchCursor, [SEARCH_CURSOR_PATTERN], None
);

/// How many results come before: a number (the API pages no further than 10 000).
pub const SEARCH_CURSOR_PATTERN: &str = r"^[0-9]{1,5}$";
