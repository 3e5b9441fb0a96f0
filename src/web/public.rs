//! The pages every reader sees, and the health check.

use poem::{
    IntoResponse, Response, handler,
    http::StatusCode,
    web::{Data, Html, Path},
};

use crate::{
    app::AppState,
    domain::{markdown::SafeHtml, validate::ArticleStatus},
    error::{AppError, AppResult},
    store,
    web::{
        auth::Viewer,
        render,
        views::{
            ArticlePage, ArticleSummaryView, DateView, IndexPage, Layout, reaction_count_label,
        },
    },
};

#[handler]
pub async fn index(Data(state): Data<&AppState>, viewer: Viewer) -> AppResult<Html<String>> {
    let articles = store::articles::list_published(&state.db).await?;
    let needs_first_admin = articles.is_empty() && store::users::count(&state.db).await? == 0;
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
    };
    render(&page)
}

#[handler]
pub async fn show(
    Data(state): Data<&AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let article = store::articles::find_by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let is_draft = article.status != ArticleStatus::Published.as_str();
    if is_draft && viewer.staff.is_none() {
        return Err(AppError::NotFound);
    }
    let edit_url = viewer
        .staff
        .as_ref()
        .filter(|s| s.role.can_edit_articles())
        .map(|_| format!("/beheer/artikelen/{}/bewerken", article.id));
    let page = ArticlePage {
        layout: Layout::new(article.title.clone(), &viewer),
        title: article.title,
        summary: article.summary,
        published: article.published_at.map(DateView::new),
        body: SafeHtml::from_stored(article.body_html),
        is_draft,
        edit_url,
        reactions_open: article.reactions_open,
    };
    render(&page)
}

/// 200 when the database answers, 503 when it does not.
#[handler]
pub async fn healthz(Data(state): Data<&AppState>) -> AppResult<Response> {
    store::ping(&state.db)
        .await
        .map_err(AppError::Unavailable)?;
    Ok((StatusCode::OK, "ok").into_response())
}
