//! Editors write, preview, publish and unpublish articles.

use askama::Template;
use poem::{
    Response, handler,
    http::StatusCode,
    web::{Data, Html, Path, Query},
};
use serde::Deserialize;

use crate::{
    app::AppState,
    domain::{
        markdown::{self, SafeHtml},
        states::ArticleStatus,
        validate::FieldErrors,
    },
    editorial::{self, Draft},
    entity::articles,
    error::{AppError, AppResult},
    store,
    web::{
        HtmlForm,
        auth::{Authorized, EditArticles},
        render, render_with_status, see_other,
        views::{DateView, Layout},
    },
};

/// The article form as submitted; every field optional so that nothing typed is lost.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ArticleForm {
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub status: String,
    pub reactions_open: Option<String>,
    /// Set by the "Voorbeeld" button: render, do not save.
    pub voorbeeld: Option<String>,
}

impl ArticleForm {
    fn draft(&self) -> Draft<'_> {
        Draft {
            title: &self.title,
            slug: &self.slug,
            summary: &self.summary,
            body: &self.body,
            status: ArticleStatus::parse(&self.status),
            reactions_open: self.reactions_open.is_some(),
        }
    }
}

pub struct ArticleRow {
    pub edit_url: String,
    pub public_url: String,
    pub title: String,
    pub status_label: &'static str,
    pub published: Option<DateView>,
    pub updated: DateView,
}

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ArticlesPage {
    layout: Layout,
    articles: Vec<ArticleRow>,
}

#[derive(Template)]
#[template(path = "admin/article_form.html")]
struct ArticleFormPage {
    layout: Layout,
    action: String,
    heading: String,
    title: String,
    slug: String,
    summary: String,
    body: String,
    published: bool,
    reactions_open: bool,
    errors: FieldErrors,
    preview: Option<SafeHtml>,
    saved: bool,
    public_url: Option<String>,
}

impl ArticleFormPage {
    fn from_form(layout: Layout, action: String, form: &ArticleForm, errors: FieldErrors) -> Self {
        Self {
            heading: layout.title.clone(),
            layout,
            action,
            title: form.title.clone(),
            slug: form.slug.clone(),
            summary: form.summary.clone(),
            body: form.body.clone(),
            published: ArticleStatus::parse(&form.status).is_ok_and(ArticleStatus::is_published),
            reactions_open: form.reactions_open.is_some(),
            errors,
            preview: None,
            saved: false,
            public_url: None,
        }
    }

    fn from_article(layout: Layout, article: &articles::Model, saved: bool) -> Self {
        Self {
            heading: layout.title.clone(),
            layout,
            action: edit_path(article.id),
            title: article.title.clone(),
            slug: article.slug.clone(),
            summary: article.summary.clone(),
            body: article.body_md.clone(),
            published: article.status.is_published(),
            reactions_open: article.reactions_open,
            errors: FieldErrors::default(),
            preview: None,
            saved,
            public_url: Some(format!("/artikelen/{}", article.slug)),
        }
    }
}

fn edit_path(id: i32) -> String {
    format!("/beheer/artikelen/{id}/bewerken")
}

#[handler]
pub async fn index(
    Data(state): Data<&AppState>,
    user: Authorized<EditArticles>,
) -> AppResult<Html<String>> {
    let articles = store::articles::list_all(state.db.read()).await?;
    render(&ArticlesPage {
        layout: Layout::for_staff("Artikelen", &user.staff, &user.csrf_token),
        articles: articles
            .into_iter()
            .map(|a| ArticleRow {
                edit_url: edit_path(a.id),
                public_url: format!("/artikelen/{}", a.slug),
                title: a.title,
                status_label: a.status.label(),
                published: a.published_at.map(DateView::new),
                updated: DateView::new(a.updated_at),
            })
            .collect(),
    })
}

#[handler]
pub async fn new_form(user: Authorized<EditArticles>) -> AppResult<Html<String>> {
    let form = ArticleForm {
        status: ArticleStatus::Draft.as_str().to_owned(),
        reactions_open: Some("on".to_owned()),
        ..ArticleForm::default()
    };
    let layout = Layout::for_staff("Nieuw artikel", &user.staff, &user.csrf_token);
    render(&ArticleFormPage::from_form(
        layout,
        "/beheer/artikelen/nieuw".to_owned(),
        &form,
        FieldErrors::default(),
    ))
}

#[handler]
pub async fn create(
    Data(state): Data<&AppState>,
    user: Authorized<EditArticles>,
    HtmlForm(form): HtmlForm<ArticleForm>,
) -> AppResult<Response> {
    let layout = Layout::for_staff("Nieuw artikel", &user.staff, &user.csrf_token);
    let action = "/beheer/artikelen/nieuw".to_owned();
    if form.voorbeeld.is_some() {
        return form_again(layout, action, &form, editorial::check(&form.draft()).err());
    }
    match editorial::create(&state.db, form.draft(), user.staff.id).await? {
        Ok(article) => Ok(see_other(&format!(
            "{}?opgeslagen=1",
            edit_path(article.id)
        ))),
        Err(errors) => form_again(layout, action, &form, Some(errors)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditQuery {
    opgeslagen: Option<String>,
}

#[handler]
pub async fn edit_form(
    Data(state): Data<&AppState>,
    user: Authorized<EditArticles>,
    Path(id): Path<i32>,
    Query(query): Query<EditQuery>,
) -> AppResult<Html<String>> {
    let article = store::articles::find_by_id(state.db.read(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let layout = Layout::for_staff("Artikel bewerken", &user.staff, &user.csrf_token);
    render(&ArticleFormPage::from_article(
        layout,
        &article,
        query.opgeslagen.is_some(),
    ))
}

#[handler]
pub async fn update(
    Data(state): Data<&AppState>,
    user: Authorized<EditArticles>,
    Path(id): Path<i32>,
    HtmlForm(form): HtmlForm<ArticleForm>,
) -> AppResult<Response> {
    let article = store::articles::find_by_id(state.db.read(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let layout = Layout::for_staff("Artikel bewerken", &user.staff, &user.csrf_token);
    let action = edit_path(id);
    if form.voorbeeld.is_some() {
        return form_again(layout, action, &form, editorial::check(&form.draft()).err());
    }
    match editorial::update(&state.db, article, form.draft()).await? {
        Ok(_) => Ok(see_other(&format!("{}?opgeslagen=1", edit_path(id)))),
        Err(errors) => form_again(layout, action, &form, Some(errors)),
    }
}

/// The server-side preview for the editor's JavaScript: the rendered fragment only.
#[handler]
pub async fn preview(
    _user: Authorized<EditArticles>,
    HtmlForm(form): HtmlForm<ArticleForm>,
) -> Html<String> {
    Html(markdown::render_article(&form.body).into_inner())
}

/// The form again with what was typed: with errors (422) or with a preview (200).
fn form_again(
    layout: Layout,
    action: String,
    form: &ArticleForm,
    errors: Option<FieldErrors>,
) -> AppResult<Response> {
    let errors = errors.unwrap_or_default();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut page = ArticleFormPage::from_form(layout, action, form, errors);
    if form.voorbeeld.is_some() {
        page.preview = Some(markdown::render_article(&form.body));
    }
    render_with_status(&page, status)
}
