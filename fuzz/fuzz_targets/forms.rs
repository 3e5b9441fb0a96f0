//! Form and JSON bodies into domain types, as the server reads them: forms with
//! `serde_html_form`, API bodies with serde_json into the poem-openapi request objects.
//! Nothing panics; a form is refused exactly for the fields whose own check fails; an
//! accepted value keeps its documented limits and parses again to itself.

#![no_main]

use std::fmt::Debug;

use kantlijn::{
    discussion::{self, Action, CommentInput, RawComment},
    domain::{
        limits::Quota,
        moderation::Mode,
        states::CommentStatus,
        validate::{
            ArticleBody, ArticleStatus, AuthorName, CommentBody, Email, FieldErrors, FieldMessage,
            ModerationReason, Password, Role, Slug, Summary, Title, TokenLabel, Username, WebUrl,
        },
    },
    editorial::{self, Draft},
    store::bans::Kind,
    web::{
        admin::{
            articles::ArticleForm,
            moderation::{ActForm, BanForm},
            settings::SettingsForm,
            tokens::TokenForm,
            users::UserForm,
        },
        api::objects::{ArticleInput, ModerationRequest, NewComment},
        auth::LoginForm,
        reactions::{EditForm, ReactionForm},
    },
};
use libfuzzer_sys::fuzz_target;
use poem_openapi::types::ParseFromJSON;

/// The `author_email` and `author_url` columns hold this many characters.
const EMAIL_COLUMN: usize = 254;
const URL_COLUMN: usize = 2048;

fn chars(value: &impl AsRef<str>) -> usize {
    value.as_ref().chars().count()
}

fn is_trimmed(value: &impl AsRef<str>) -> bool {
    value.as_ref().trim() == value.as_ref()
}

/// Control characters other than line breaks and tabs.
fn has_stray_control(value: &impl AsRef<str>) -> bool {
    value
        .as_ref()
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// An accepted value parses again to itself.
fn reparses<T: AsRef<str> + PartialEq + Debug>(
    parse: impl Fn(&str) -> Result<T, FieldMessage>,
    value: &T,
    input: &str,
) {
    assert_eq!(
        parse(value.as_ref()).as_ref(),
        Ok(value),
        "not idempotent, from {input:?}"
    );
}

/// Every newtype and choice on one string.
fn check_fields(text: &str) {
    if let Ok(name) = AuthorName::parse(text) {
        assert!(
            (1..=80).contains(&chars(&name)) && is_trimmed(&name),
            "{name:?}"
        );
        assert!(!name.as_ref().chars().any(char::is_control), "{name:?}");
        reparses(AuthorName::parse, &name, text);
    }
    if let Ok(email) = Email::parse(text) {
        assert!(chars(&email) <= EMAIL_COLUMN, "{email:?} from {text:?}");
        assert!(email.as_ref().contains('@'), "{email:?}");
        assert!(
            !email
                .as_ref()
                .chars()
                .any(|c| c.is_whitespace() || c.is_control()),
            "{email:?}"
        );
        reparses(Email::parse, &email, text);
    }
    match WebUrl::parse_optional(text) {
        Ok(Some(url)) => {
            assert!(
                chars(&url) <= URL_COLUMN,
                "{} chars from {text:?}",
                chars(&url)
            );
            assert!(
                url.as_ref().starts_with("http://") || url.as_ref().starts_with("https://"),
                "{url:?}"
            );
            assert_eq!(
                WebUrl::parse_optional(url.as_ref()),
                Ok(Some(url.clone())),
                "not idempotent, from {text:?}"
            );
        }
        Ok(None) => assert!(text.trim().is_empty(), "no URL from {text:?}"),
        Err(_) => {}
    }
    if let Ok(body) = CommentBody::parse(text) {
        assert!(
            (1..=CommentBody::MAX_CHARS).contains(&chars(&body)),
            "{body:?}"
        );
        assert!(is_trimmed(&body) && !has_stray_control(&body), "{body:?}");
        reparses(CommentBody::parse, &body, text);
    }
    if let Ok(title) = Title::parse(text) {
        assert!(
            (1..=200).contains(&chars(&title)) && is_trimmed(&title),
            "{title:?}"
        );
        assert!(!title.as_ref().chars().any(char::is_control), "{title:?}");
        reparses(Title::parse, &title, text);
    }
    if let Ok(slug) = Slug::parse(text) {
        check_slug(&slug);
        reparses(Slug::parse, &slug, text);
    }
    if let Some(slug) = Slug::from_title(text) {
        check_slug(&slug);
        assert_eq!(
            Slug::parse(slug.as_ref()).as_ref(),
            Ok(&slug),
            "from {text:?}"
        );
        for n in [2, 10, u32::MAX] {
            let suffixed = slug.with_suffix(n);
            check_slug(&suffixed);
            assert!(
                suffixed.as_ref().ends_with(&format!("-{n}")),
                "{suffixed:?}"
            );
        }
    }
    if let Ok(summary) = Summary::parse(text) {
        assert!(
            chars(&summary) <= 500 && is_trimmed(&summary),
            "{summary:?}"
        );
        assert!(!has_stray_control(&summary), "{summary:?}");
        reparses(Summary::parse, &summary, text);
    }
    if let Ok(body) = ArticleBody::parse(text) {
        let count = body.as_ref().trim().chars().count();
        assert!((1..=50_000).contains(&count), "{count} characters");
        assert!(
            !has_stray_control(&body) && !body.as_ref().contains("\r\n"),
            "{body:?}"
        );
        reparses(ArticleBody::parse, &body, text);
    }
    if let Ok(username) = Username::parse(text) {
        let name = username.as_ref();
        assert!((2..=64).contains(&name.len()), "{name:?}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)),
            "{name:?}"
        );
        reparses(Username::parse, &username, text);
    }
    if let Ok(password) = Password::parse(text) {
        assert!((10..=1024).contains(&chars(&password)));
        assert!(Password::parse(password.as_ref()) == Ok(password));
    }
    if let Ok(Some(reason)) = ModerationReason::parse_optional(text) {
        let count = chars(&reason);
        assert!((1..=ModerationReason::MAX_CHARS).contains(&count) && is_trimmed(&reason));
        assert!(!has_stray_control(&reason), "{reason:?}");
        assert_eq!(
            ModerationReason::parse_optional(reason.as_ref()),
            Ok(Some(reason)),
            "from {text:?}"
        );
    }
    if let Ok(label) = TokenLabel::parse(text) {
        assert!(
            (1..=100).contains(&chars(&label)) && is_trimmed(&label),
            "{label:?}"
        );
        reparses(TokenLabel::parse, &label, text);
    }
    if let Ok(role) = Role::parse(text) {
        assert_eq!(role.as_str(), text.trim());
    }
    if let Ok(status) = ArticleStatus::parse(text) {
        assert_eq!(status.as_str(), text.trim());
    }
    if let Some(status) = CommentStatus::parse(text) {
        assert_eq!(status.as_str(), text);
    }
    if let Some(action) = Action::parse(text) {
        assert_eq!(action.as_str(), text);
    }
    if let Some(mode) = Mode::parse(text) {
        assert_eq!(mode.as_str(), text);
    }
    if let Some(kind) = Kind::parse(text) {
        assert_eq!(kind.as_str(), text);
    }
    if let Some(quota) = Quota::parse(text) {
        assert!((1..=Quota::MAX_BURST).contains(&quota.burst), "{quota:?}");
        assert!(
            (1..=Quota::MAX_PER_MINUTE).contains(&quota.per_minute),
            "{quota:?}"
        );
        assert_eq!(Quota::parse(&quota.stored()), Some(quota));
    }
    if let Ok(Some(id)) = discussion::parse_parent(text) {
        assert_eq!(discussion::parse_parent(&id.to_string()), Ok(Some(id)));
    }
}

fn check_slug(slug: &Slug) {
    let value = slug.as_ref();
    assert!((1..=Slug::MAX_LEN).contains(&value.len()), "{value:?}");
    assert!(
        value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
        "{value:?}"
    );
    assert!(
        !value.starts_with('-') && !value.ends_with('-') && !value.contains("--"),
        "{value:?}"
    );
}

/// A field's error is reported exactly when its own check fails.
fn same_error<T>(errors: &FieldErrors, field: &str, own: &Result<T, FieldMessage>) {
    assert_eq!(
        errors.get(field),
        own.as_ref().err().copied(),
        "field {field}"
    );
}

/// A reaction from the form or the API: accepted exactly when every field is.
fn check_comment(raw: RawComment<'_>) {
    let name = AuthorName::parse(raw.author_name);
    let email = Email::parse(raw.author_email);
    let url = WebUrl::parse_optional(raw.author_url);
    let body = CommentBody::parse(raw.body);
    let parent = raw.parent_id;
    match CommentInput::try_from(raw) {
        Ok(input) => {
            assert_eq!(Ok(input.author_name), name);
            assert_eq!(Ok(input.author_email), email);
            assert_eq!(Ok(input.author_url), url);
            assert_eq!(Ok(input.body), body);
            assert_eq!(Ok(input.parent_id), parent);
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            same_error(&errors, "author_name", &name);
            same_error(&errors, "author_email", &email);
            same_error(&errors, "author_url", &url);
            same_error(&errors, "body", &body);
            same_error(&errors, "parent_id", &parent);
        }
    }
}

/// An article from the editors' form or the API: accepted exactly when every field is.
fn check_article(draft: Draft<'_>) {
    let title = Title::parse(draft.title);
    let summary = Summary::parse(draft.summary);
    let body = ArticleBody::parse(draft.body);
    let typed_slug = (!draft.slug.trim().is_empty()).then(|| Slug::parse(draft.slug));
    match editorial::check(&draft) {
        Ok(input) => {
            assert_eq!(Ok(&input.title), title.as_ref());
            assert_eq!(Ok(&input.summary), summary.as_ref());
            assert_eq!(Ok(&input.body), body.as_ref());
            assert_eq!(Ok(input.status), draft.status);
            assert_eq!(input.reactions_open, draft.reactions_open);
            check_slug(&input.slug);
            if let Some(typed) = typed_slug {
                assert_eq!(Ok(input.slug), typed);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            same_error(&errors, "title", &title);
            same_error(&errors, "summary", &summary);
            same_error(&errors, "body", &body);
            same_error(&errors, "status", &draft.status);
            if let Some(typed) = &typed_slug {
                same_error(&errors, "slug", typed);
            }
        }
    }
}

/// The bodies the HTML forms post, read as `web::HtmlForm` reads them.
fn check_forms(data: &[u8]) {
    if let Ok(form) = serde_html_form::from_bytes::<ReactionForm>(data) {
        // As `web::reactions` turns its form into a reaction.
        check_comment(RawComment {
            author_name: &form.author_name,
            author_email: &form.author_email,
            author_url: &form.author_url,
            body: &form.body,
            parent_id: discussion::parse_parent(&form.parent_id),
        });
    }
    if let Ok(form) = serde_html_form::from_bytes::<ArticleForm>(data) {
        // As `ArticleForm::draft` reads it.
        check_article(Draft {
            title: &form.title,
            slug: &form.slug,
            summary: &form.summary,
            body: &form.body,
            status: ArticleStatus::parse(&form.status),
            reactions_open: form.reactions_open.is_some(),
        });
    }
    // Their fields are the handlers' business; reading them must not panic.
    let _ = serde_html_form::from_bytes::<EditForm>(data);
    let _ = serde_html_form::from_bytes::<ActForm>(data);
    let _ = serde_html_form::from_bytes::<BanForm>(data);
    let _ = serde_html_form::from_bytes::<SettingsForm>(data);
    let _ = serde_html_form::from_bytes::<UserForm>(data);
    let _ = serde_html_form::from_bytes::<TokenForm>(data);
    let _ = serde_html_form::from_bytes::<LoginForm>(data);
}

/// The API's request bodies, read as poem-openapi's `Json` payload reads them.
fn check_json(data: &[u8]) {
    let value = if data.is_empty() {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(data) {
            Ok(value) => value,
            Err(_) => return,
        }
    };
    if let Ok(comment) = NewComment::parse_from_json(Some(value.clone())) {
        // As `web::api::comments` turns the request into a reaction.
        check_comment(RawComment {
            author_name: &comment.author_name.0,
            author_email: &comment.author_email.0,
            author_url: comment.author_url.as_ref().map_or("", |u| u.0.as_str()),
            body: &comment.body.0,
            parent_id: Ok(comment.parent_id),
        });
    }
    if let Ok(article) = ArticleInput::parse_from_json(Some(value.clone())) {
        // As `web::api::articles` reads a new article.
        check_article(Draft {
            title: &article.title.0,
            slug: article.slug.as_ref().map_or("", |s| s.0.as_str()),
            summary: article.summary.as_ref().map_or("", |s| s.0.as_str()),
            body: &article.body.0,
            status: Ok(article.status.into()),
            reactions_open: article.reactions_open.unwrap_or(true),
        });
    }
    if let Ok(request) = ModerationRequest::parse_from_json(Some(value)) {
        let reason = request.reason.as_ref().map_or("", |r| r.0.as_str());
        if let Ok(Some(kept)) = ModerationReason::parse_optional(reason) {
            assert!(chars(&kept) <= ModerationReason::MAX_CHARS);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check_fields(&String::from_utf8_lossy(data));
    check_forms(data);
    check_json(data);
});
