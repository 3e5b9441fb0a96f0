//! `GET /zoeken?q=`: the site's search, with the found words marked in each snippet.

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Query},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::search::{self, Piece},
    error::{AppError, AppResult},
    search::{PAGE_SIZE, find},
    web::{
        self,
        auth::Viewer,
        render_with_status,
        views::{DateView, Layout},
    },
};

/// The furthest page of results.
const MAX_PAGE: u64 = 500;

/// The longest query read; the rest of a longer one is left out.
pub const MAX_QUERY_CHARS: usize = 500;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
    pagina: Option<String>,
}

/// One result as the page shows it.
pub struct ResultView {
    pub title: String,
    pub url: String,
    /// "Reactie van …" for a reaction.
    pub by: Option<String>,
    pub when: DateView,
    pub snippet: Vec<Piece>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    searched: bool,
    /// The query holds no word to look for.
    nothing_to_find: bool,
    results: Vec<ResultView>,
    page: u64,
    newer_url: Option<String>,
    older_url: Option<String>,
}

/// A query as read: at most [`MAX_QUERY_CHARS`], control characters left out.
pub fn clean_query(q: &str) -> String {
    q.chars()
        .filter(|c| !c.is_control())
        .take(MAX_QUERY_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn page_url(q: &str, page: u64) -> String {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    if page == 1 {
        format!("/zoeken?q={q}")
    } else {
        format!("/zoeken?q={q}&pagina={page}")
    }
}

#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Query(query): Query<SearchQuery>,
) -> AppResult<Response> {
    let page = match query.pagina.as_deref() {
        None => 1,
        Some(n) => web::page_number(n, MAX_PAGE)?,
    };
    let q = clean_query(&query.q);
    let parsed = search::Query::parse(&q);
    let searched = !q.is_empty();
    let results = if parsed.is_empty() {
        Default::default()
    } else {
        find(&state.db, &parsed, (page - 1) * PAGE_SIZE, PAGE_SIZE).await?
    };
    if page > 1 && results.found.is_empty() {
        return Err(AppError::NotFound);
    }
    let title = if searched {
        format!("Zoeken: {q}")
    } else {
        "Zoeken".to_owned()
    };
    let view = SearchPage {
        layout: Layout::new(title, &viewer),
        searched,
        nothing_to_find: searched && parsed.is_empty(),
        results: results
            .found
            .into_iter()
            .map(|f| ResultView {
                title: f.article_title,
                url: f.url,
                by: f.reaction_by,
                when: DateView::new(f.at),
                snippet: f.snippet,
            })
            .collect(),
        page,
        newer_url: (page > 1).then(|| page_url(&q, page - 1)),
        older_url: (results.more && page < MAX_PAGE).then(|| page_url(&q, page + 1)),
        q,
    };
    render_with_status(&view, StatusCode::OK)
}
