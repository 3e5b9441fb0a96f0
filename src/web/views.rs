//! View structs for the templates: plain values, never entities.

use std::borrow::Cow;

use askama::Template;
use chrono::{DateTime, Utc};
use poem::http::StatusCode;

use crate::{
    app::AppState,
    discussion,
    domain::{
        dates,
        markdown::SafeHtml,
        preview::ReactionPreview,
        thread::{Sort, Thread},
        validate::FieldErrors,
    },
    entity::{articles, comments},
    web::{
        auth::{Staff, Viewer},
        reactions::{self, ReactionForm},
    },
};

/// What `base.html` needs on every page.
pub struct Layout {
    pub title: String,
    pub staff: Option<StaffView>,
    pub csrf_token: String,
}

impl Layout {
    pub fn new(title: impl Into<String>, viewer: &Viewer) -> Self {
        Self {
            title: title.into(),
            staff: viewer.staff.as_ref().map(StaffView::from),
            csrf_token: viewer.csrf_token.clone(),
        }
    }

    pub fn for_staff(title: impl Into<String>, staff: &Staff, csrf_token: &str) -> Self {
        Self {
            title: title.into(),
            staff: Some(StaffView::from(staff)),
            csrf_token: csrf_token.to_owned(),
        }
    }
}

/// The logged-in staff member as the navigation shows them.
pub struct StaffView {
    pub name: String,
    pub role_label: &'static str,
    pub can_edit_articles: bool,
    pub can_moderate: bool,
    pub is_admin: bool,
}

impl From<&Staff> for StaffView {
    fn from(staff: &Staff) -> Self {
        Self {
            name: staff.display_name.clone(),
            role_label: staff.role.label(),
            can_edit_articles: staff.role.can_edit_articles(),
            can_moderate: staff.role.can_moderate(),
            is_admin: staff.role.is_admin(),
        }
    }
}

/// A date both ways: for people and for `<time datetime>`.
pub struct DateView {
    pub text: String,
    pub machine: String,
}

impl DateView {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self {
            text: dates::long_date(at),
            machine: dates::machine(at),
        }
    }
}

/// "1 reactie", "2 reacties", "Nog geen reacties".
pub fn reaction_count_label(count: i64) -> String {
    match count {
        0 => "Nog geen reacties".to_owned(),
        1 => "1 reactie".to_owned(),
        n => format!("{n} reacties"),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, message: &str) -> Self {
        let heading = match status {
            StatusCode::NOT_FOUND => "Pagina niet gevonden",
            StatusCode::FORBIDDEN => "Geen toegang",
            StatusCode::PAYLOAD_TOO_LARGE => "Te groot",
            s if s.is_server_error() => "Er ging iets mis",
            _ => "Dat lukte niet",
        };
        Self {
            layout: Layout {
                title: heading.to_owned(),
                staff: None,
                csrf_token: String::new(),
            },
            status: status.as_u16(),
            heading,
            message: message.to_owned(),
        }
    }

    /// The page as HTML; a template that cannot render falls back to plain text.
    pub fn render_html(&self) -> String {
        self.render().unwrap_or_else(|_| self.message.clone())
    }
}

pub struct ArticleSummaryView {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub published: Option<DateView>,
    pub reaction_count: String,
}

#[derive(Template)]
#[template(path = "index.html")]
pub struct IndexPage {
    pub layout: Layout,
    pub articles: Vec<ArticleSummaryView>,
    /// True on a brand-new site without any staff: the page explains how to start.
    pub needs_first_admin: bool,
    /// The next page of older articles, when there is one.
    pub older_url: Option<String>,
    /// The newest reactions across the site (first page only).
    pub recent: Vec<RecentItemView>,
}

/// A reaction in a list of the newest across the site.
pub struct RecentItemView {
    pub author_name: String,
    pub by_staff: bool,
    pub article_title: String,
    pub article_url: String,
    /// The reaction in its thread (`?reactie=`).
    pub url: String,
    pub created: DateView,
    /// The start of its text, without markup.
    pub excerpt: String,
}

/// `/reacties`: the newest approved reactions across the site.
#[derive(Template)]
#[template(path = "recent.html")]
pub struct RecentPage {
    pub layout: Layout,
    pub items: Vec<RecentItemView>,
    pub page: u64,
    /// The page before (newer reactions) and after (older ones).
    pub newer_url: Option<String>,
    pub older_url: Option<String>,
}

#[derive(Template)]
#[template(path = "article.html")]
pub struct ArticlePage {
    pub layout: Layout,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub published: Option<DateView>,
    pub body: SafeHtml,
    pub is_draft: bool,
    pub edit_url: Option<String>,
    pub reactions_open: bool,
    pub count_label: String,
    /// The reactions moderators feature, listed above the thread on every page of it.
    pub featured: Vec<FeaturedView>,
    /// The viewer may feature reactions: each gets a small form (never in a cached page).
    pub moderate: bool,
    /// "Sorteer: ..." above the thread; empty when there is nothing to order.
    pub sorts: Vec<SortLinkView>,
    /// What links to a reaction add to keep the order (`&sorteer=nieuw`), or nothing.
    pub sort_param: String,
    /// The order when it is not the default, for the forms that come back to this page.
    pub sort_value: Option<&'static str>,
    /// The page of the thread shown.
    pub thread: Thread<ReactionView>,
    /// Links to the other pages, when the thread has more than one.
    pub pagination: Option<PaginationView>,
    /// The form, unless reactions are closed (then it only returns with a refused text).
    pub form: Option<ReactionFormView>,
}

/// A featured reaction in the "Uitgelicht" block: who, a short excerpt, and where it is.
pub struct FeaturedView {
    pub author_name: String,
    pub excerpt: String,
    /// Its place in the thread: `/artikelen/{slug}?reactie={id}#reactie-{id}`.
    pub url: String,
}

/// Where a page of a long thread sits among the others.
pub struct PaginationView {
    pub page: usize,
    pub pages: usize,
    /// The page before (`rel="prev"`), and what it holds.
    pub prev_url: Option<String>,
    pub prev_label: &'static str,
    /// The page after (`rel="next"`), and what it holds.
    pub next_url: Option<String>,
    pub next_label: &'static str,
}

/// One order a reader can choose for a thread.
pub struct SortLinkView {
    pub label: &'static str,
    pub url: String,
    /// The order shown now (`aria-current`).
    pub current: bool,
}

impl SortLinkView {
    pub fn new(sort: Sort, url: String, current: bool) -> Self {
        let label = match sort {
            Sort::Oldest => "Oudste eerst",
            Sort::Newest => "Nieuwste eerst",
            Sort::Helpful => "Meest nuttig",
        };
        Self {
            label,
            url,
            current,
        }
    }
}

/// One reaction as the thread shows it.
pub struct ReactionView {
    pub id: i32,
    pub parent_id: Option<i32>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub by_staff: bool,
    /// Featured by a moderator: the reaction carries the badge "Uitgelicht".
    pub featured: bool,
    pub body: SafeHtml,
    pub created_relative: String,
    pub created: DateView,
    pub created_exact: String,
    /// The viewer's own reaction, still waiting for a moderator.
    pub pending: bool,
    /// Approved, or the viewer's own.
    pub visible: bool,
    /// The viewer may still edit or delete it.
    pub editable: bool,
    /// Whose reaction this answers, when it sits deeper than the thread indents.
    pub reply_to: Option<String>,
    /// Readers who marked it "Nuttig".
    pub helpful_count: i32,
}

impl ReactionView {
    /// A hidden reaction kept for the shape of the thread: nothing of it is shown, not
    /// even who wrote it or when.
    pub fn placeholder(id: i32, parent_id: Option<i32>) -> Self {
        Self {
            id,
            parent_id,
            author_name: String::new(),
            author_url: None,
            by_staff: false,
            featured: false,
            body: SafeHtml::empty(),
            created_relative: String::new(),
            created: DateView {
                text: String::new(),
                machine: String::new(),
            },
            created_exact: String::new(),
            pending: false,
            visible: false,
            editable: false,
            reply_to: None,
            helpful_count: 0,
        }
    }
}

/// The reaction form with what was typed, its errors and its hidden tokens.
pub struct ReactionFormView {
    pub action: String,
    /// Where the script fetches a preview of the body from.
    pub preview_action: String,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    pub body: String,
    pub parent_id: String,
    /// Filled in by the page when the parent is in the thread.
    pub parent_name: Option<String>,
    pub errors: FieldErrors,
    pub form_token: String,
    pub notice: Option<Cow<'static, str>>,
    /// The body as it would appear, when the reader asked to see it first.
    pub preview: Option<ReactionPreview>,
    /// "Mail me als iemand reageert" is ticked.
    pub notify_replies: bool,
    /// The site sends mail; without it the box is not offered.
    pub mail: bool,
    /// The order the thread was shown in, carried to the page after posting (`sorteer`);
    /// empty for the default.
    pub sort: &'static str,
}

impl ReactionFormView {
    pub fn empty(state: &AppState, article: &articles::Model, parent_id: Option<i32>) -> Self {
        Self::from_form(
            state,
            article,
            &ReactionForm {
                parent_id: parent_id.map(|id| id.to_string()).unwrap_or_default(),
                ..ReactionForm::default()
            },
            FieldErrors::default(),
            None,
        )
    }

    pub fn from_form(
        state: &AppState,
        article: &articles::Model,
        form: &ReactionForm,
        errors: FieldErrors,
        notice: Option<Cow<'static, str>>,
    ) -> Self {
        Self {
            action: format!("/artikelen/{}/reacties", article.slug),
            preview_action: format!("/artikelen/{}/voorbeeld", article.slug),
            author_name: form.author_name.clone(),
            author_email: form.author_email.clone(),
            author_url: form.author_url.clone(),
            body: form.body.clone(),
            parent_id: form.parent_id.trim().to_owned(),
            parent_name: None,
            errors,
            // A form shown again keeps the time it was first served: fixing a typo and
            // sending it back at once is not a bot's speed. A day-old one is renewed.
            form_token: if reactions::form_token_is_current(&state.keys, &form.form_token) {
                form.form_token.clone()
            } else {
                reactions::form_token(&state.keys)
            },
            notice,
            preview: None,
            notify_replies: form.wants_notifications(),
            mail: state.settings.mail.is_some(),
            sort: form.sort().in_links().unwrap_or(""),
        }
    }

    /// The same form on a thread shown in `sort`'s order.
    pub fn sorted(mut self, sort: Sort) -> Self {
        self.sort = sort.in_links().unwrap_or("");
        self
    }
}

/// The preview of a reaction alone, for the reaction form's script.
#[derive(Template)]
#[template(path = "partials/reaction_preview.html")]
pub struct ReactionPreviewFragment {
    pub preview: ReactionPreview,
}

#[derive(Template)]
#[template(path = "edit_reaction.html")]
pub struct EditReactionPage {
    pub layout: Layout,
    pub article_title: String,
    pub article_url: String,
    pub action: String,
    pub delete_action: String,
    pub body: String,
    pub errors: FieldErrors,
    pub minutes_left: i64,
}

impl EditReactionPage {
    pub fn new(
        layout: Layout,
        article: &articles::Model,
        comment: &comments::Model,
        body: String,
        errors: FieldErrors,
    ) -> Self {
        let base = format!("/artikelen/{}/reacties/{}", article.slug, comment.id);
        let elapsed = (Utc::now() - comment.created_at).num_minutes();
        Self {
            layout,
            article_title: article.title.clone(),
            article_url: format!("/artikelen/{}#reactie-{}", article.slug, comment.id),
            action: format!("{base}/bewerken"),
            delete_action: format!("{base}/verwijderen"),
            body,
            errors,
            minutes_left: (discussion::EDIT_WINDOW_MINUTES - elapsed).max(1),
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub username: String,
    pub terug: String,
    pub error: Option<Cow<'static, str>>,
    /// After "Overal uitloggen".
    pub everywhere: bool,
}

impl LoginPage {
    pub fn new(
        viewer: Viewer,
        username: String,
        terug: String,
        error: Option<Cow<'static, str>>,
    ) -> Self {
        Self {
            layout: Layout::new("Inloggen", &viewer),
            username,
            terug,
            error,
            everywhere: false,
        }
    }
}
