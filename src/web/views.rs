//! View structs for the templates: plain values, never entities.

use askama::Template;
use chrono::{DateTime, Utc};
use poem::http::StatusCode;

use crate::{
    domain::{dates, markdown::SafeHtml},
    web::auth::{Staff, Viewer},
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
}

#[derive(Template)]
#[template(path = "article.html")]
pub struct ArticlePage {
    pub layout: Layout,
    pub title: String,
    pub summary: String,
    pub published: Option<DateView>,
    pub body: SafeHtml,
    pub is_draft: bool,
    pub edit_url: Option<String>,
    pub reactions_open: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    pub username: String,
    pub terug: String,
    pub error: Option<&'static str>,
}

impl LoginPage {
    pub fn new(
        viewer: Viewer,
        username: String,
        terug: String,
        error: Option<&'static str>,
    ) -> Self {
        Self {
            layout: Layout::new("Inloggen", &viewer),
            username,
            terug,
            error,
        }
    }
}
