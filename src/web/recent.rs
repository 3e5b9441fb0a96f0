//! The newest approved reactions across the site: `/reacties` in pages, and the five
//! newest on the front page. Readers get `/reacties` from the page cache (kept under
//! the site's version, which every change readers can see moves on); staff get it
//! rendered for them.

use std::time::Instant;

use askama::Template;
use poem::{
    IntoResponse, Request, Response, handler,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::markdown::reaction_excerpt,
    error::{AppError, AppResult},
    store::{self, Scope, comments::RecentComment},
    web::{
        self,
        auth::Viewer,
        page_cache::{self, Fills, Key, Value},
        render,
        views::{DateView, Layout, RecentItemView, RecentPage},
    },
};

/// Reactions on one page of `/reacties`.
pub const PER_PAGE: u64 = 20;
/// Reactions the front page shows.
pub const ON_HOME: u64 = 5;
/// The most characters of a reaction's text a list shows.
const EXCERPT_CHARS: usize = 200;
/// The last page anyone may ask for: far beyond any site, and a bound on the offset.
const MAX_PAGE: u64 = 100_000;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecentQuery {
    /// The page, 1-based.
    pagina: Option<String>,
}

impl RecentQuery {
    /// The page asked for; one that is not a positive number does not exist.
    fn page(&self) -> AppResult<u64> {
        self.pagina
            .as_deref()
            .map_or(Ok(1), |page| web::page_number(page, MAX_PAGE))
    }
}

/// `GET /reacties`: the newest approved reactions, 20 a page; past the last page 404.
#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    req: &Request,
    Query(query): Query<RecentQuery>,
) -> AppResult<Response> {
    let started = Instant::now();
    let page = query.page()?;
    let versions = state.db.versions();
    let fills = Fills {
        csrf: &viewer.csrf_token,
        form_token: "",
    };
    let key = Key::Recent(page);
    if viewer.staff.is_none()
        && let Some(Value::Page(rendered)) = state.pages.get(&key, versions)
    {
        return Ok(rendered.respond(req, &fills, true));
    }
    let made = versions.snapshot(Scope::Site);
    let mut view = recent_page(state, &viewer, page).await?;
    if viewer.staff.is_some() {
        return Ok(render(&view)?.into_response());
    }
    view.layout.csrf_token = state.pages.holes().csrf().to_owned();
    let html = view.render().map_err(AppError::internal)?;
    let rendered = state
        .pages
        .keep(key, &html, page_cache::HTML, made, versions, started);
    Ok(rendered.respond(req, &fills, false))
}

/// Page `page` of the newest reactions: one query, for one more than the page holds to
/// know whether an older page follows.
async fn recent_page(state: &AppState, viewer: &Viewer, page: u64) -> AppResult<RecentPage> {
    let mut rows =
        store::comments::recent_approved(state.db.read(), (page - 1) * PER_PAGE, PER_PAGE + 1)
            .await?;
    if rows.is_empty() && page > 1 {
        return Err(AppError::NotFound);
    }
    let more = rows.len() as u64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let page_url = |n: u64| match n {
        1 => "/reacties".to_owned(),
        n => format!("/reacties?pagina={n}"),
    };
    Ok(RecentPage {
        layout: Layout::new("Recente reacties", viewer),
        items: rows.into_iter().map(item_view).collect(),
        page,
        newer_url: (page > 1).then(|| page_url(page - 1)),
        older_url: more.then(|| page_url(page + 1)),
    })
}

/// One reaction as the lists of recent reactions show it.
pub fn item_view(comment: RecentComment) -> RecentItemView {
    let id = comment.id;
    RecentItemView {
        url: format!(
            "/artikelen/{}?reactie={id}#reactie-{id}",
            comment.article_slug
        ),
        article_url: format!("/artikelen/{}", comment.article_slug),
        article_title: comment.article_title,
        by_staff: comment.user_id.is_some(),
        author_name: comment.author_name,
        created: DateView::new(comment.created_at),
        excerpt: reaction_excerpt(&comment.body_md, EXCERPT_CHARS),
    }
}
