//! The pages every reader sees, and the health check.

use chrono::{DateTime, Utc};
use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{Data, Html, Path, Query, cookie::CookieJar},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    discussion,
    domain::{dates, markdown::SafeHtml, thread, validate::ArticleStatus},
    entity::articles,
    error::{AppError, AppResult},
    store::{
        self,
        articles::Cursor,
        comments::{Status, ThreadComment},
    },
    web::{
        auth::Viewer,
        reactions::OwnReactions,
        render, render_with_status,
        views::{
            ArticlePage, ArticleSummaryView, DateView, IndexPage, Layout, ReactionFormView,
            ReactionView, reaction_count_label,
        },
    },
};

/// Articles on one page of the front page.
const INDEX_PAGE: u64 = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndexQuery {
    /// Continue after this cursor (the "Oudere artikelen" link).
    voor: Option<String>,
}

#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Query(query): Query<IndexQuery>,
) -> AppResult<Html<String>> {
    let after = query.voor.as_deref().and_then(Cursor::decode);
    let mut articles =
        store::articles::published_page(state.db.read(), after, INDEX_PAGE + 1).await?;
    let older_url = (articles.len() as u64 > INDEX_PAGE)
        .then(|| {
            articles.truncate(INDEX_PAGE as usize);
            articles.last().and_then(Cursor::after)
        })
        .flatten()
        .map(|cursor| format!("/?voor={}", cursor.encode()));
    let needs_first_admin =
        articles.is_empty() && after.is_none() && store::users::count(state.db.read()).await? == 0;
    let page = IndexPage {
        layout: Layout::new("Artikelen", &viewer),
        articles: articles
            .into_iter()
            .map(|a| ArticleSummaryView {
                slug: a.slug,
                title: a.title,
                summary: a.summary,
                published: a.published_at.map(DateView::new),
                reaction_count: reaction_count_label(a.reaction_count),
            })
            .collect(),
        needs_first_admin,
        older_url,
    };
    render(&page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    /// The reaction to highlight (the poster's own, after posting).
    reactie: Option<i32>,
    /// The reaction to reply to (the "Reageer" link without JavaScript).
    antwoord: Option<i32>,
}

#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    cookies: &CookieJar,
    Path(slug): Path<String>,
    Query(query): Query<ShowQuery>,
) -> AppResult<Response> {
    let article = store::articles::find_readable(state.db.read(), &slug, viewer.staff.is_some())
        .await?
        .ok_or(AppError::NotFound)?;
    let own = OwnReactions::from_cookies(&state.keys, cookies);
    let form = article
        .reactions_open
        .then(|| ReactionFormView::empty(&state.keys, &article, query.antwoord));
    let context = ArticleContext {
        own: &own,
        form,
        highlight: query.reactie,
    };
    render_article(state, &viewer, &article, context, StatusCode::OK).await
}

/// What besides the article itself shapes its page.
pub struct ArticleContext<'a> {
    pub own: &'a OwnReactions,
    pub form: Option<ReactionFormView>,
    pub highlight: Option<i32>,
}

/// The article page with its thread: one query for all reactions of the article.
pub async fn render_article(
    state: &AppState,
    viewer: &Viewer,
    article: &articles::Model,
    context: ArticleContext<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let now = Utc::now();
    let comments = store::comments::for_article(state.db.read(), article.id).await?;
    let approved = comments
        .iter()
        .filter(|c| c.status == Status::Approved.as_str())
        .count();
    let views: Vec<ReactionView> = comments
        .into_iter()
        .map(|c| reaction_view(c, context.own, context.highlight, now))
        .collect();
    let thread = thread::build(views);
    let mut form = context.form;
    if let Some(form) = form.as_mut() {
        form.parent_name = thread
            .rows
            .iter()
            .find(|r| r.item.id.to_string() == form.parent_id && !r.tombstone && !r.item.pending)
            .map(|r| r.item.author_name.clone());
    }
    let edit_url = viewer
        .staff
        .as_ref()
        .filter(|s| s.role.can_edit_articles())
        .map(|_| format!("/beheer/artikelen/{}/bewerken", article.id));
    let page = ArticlePage {
        layout: Layout::new(article.title.clone(), viewer),
        slug: article.slug.clone(),
        title: article.title.clone(),
        summary: article.summary.clone(),
        published: article.published_at.map(DateView::new),
        body: SafeHtml::from_stored(article.body_html.clone()),
        is_draft: article.status != ArticleStatus::Published.as_str(),
        edit_url,
        reactions_open: article.reactions_open,
        count_label: reaction_count_label(approved as i64),
        thread,
        form,
    };
    render_with_status(&page, status)
}

fn reaction_view(
    comment: ThreadComment,
    own: &OwnReactions,
    highlight: Option<i32>,
    now: DateTime<Utc>,
) -> ReactionView {
    let status = Status::parse(&comment.status);
    let is_own = discussion::holds_key(own.key_for(comment.id), comment.edit_key_hash.as_deref());
    let approved = status == Some(Status::Approved);
    // The poster of a reaction the rules sent to spam sees the same "pending" answer.
    let own_waiting = is_own && matches!(status, Some(Status::Pending | Status::Spam));
    let in_window = discussion::edit_window_open(comment.created_at, now);
    ReactionView {
        id: comment.id,
        parent_id: comment.parent_id,
        by_staff: comment.user_id.is_some(),
        body: SafeHtml::from_stored(comment.body_html),
        created_relative: dates::relative(comment.created_at, now),
        created: DateView::new(comment.created_at),
        created_exact: dates::exact(comment.created_at),
        pending: own_waiting,
        visible: approved || own_waiting,
        editable: is_own && in_window && (approved || own_waiting),
        highlight: highlight == Some(comment.id),
        author_url: comment.author_url,
        author_name: comment.author_name,
    }
}

/// Prometheus text format.
#[handler]
pub async fn metrics(Data(state): Data<&AppState>) -> Response {
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state.db.read()))
}

/// 200 when the database answers, 503 when it does not.
#[handler]
pub async fn healthz(Data(state): Data<&AppState>) -> AppResult<Response> {
    store::ping(state.db.read())
        .await
        .map_err(AppError::Unavailable)?;
    Ok((StatusCode::OK, "ok").into_response())
}
