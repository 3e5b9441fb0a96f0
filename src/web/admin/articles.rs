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
        validate::{ArticleBody, ArticleStatus, FieldErrors, FieldMessage, Slug, Summary, Title},
    },
    editorial,
    entity::articles,
    error::{AppError, AppResult},
    store::{self, articles::ArticleInput},
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

/// The checked parts of a form; the slug is settled against the database afterwards.
struct CheckedArticle {
    title: Title,
    slug: Slug,
    summary: Summary,
    body: ArticleBody,
    status: ArticleStatus,
    reactions_open: bool,
}

impl TryFrom<&ArticleForm> for CheckedArticle {
    type Error = FieldErrors;

    fn try_from(form: &ArticleForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check("title", Title::parse(&form.title));
        let slug = if form.slug.trim().is_empty() {
            let derived = title.as_ref().map(|t| {
                Slug::from_title(t.as_ref()).ok_or(FieldMessage::new(
                    "required",
                    "Van deze titel kan geen adres worden gemaakt; vul zelf een slug in.",
                    "No slug can be made from this title; fill one in.",
                ))
            });
            derived.and_then(|result| errors.check("slug", result))
        } else {
            errors.check("slug", Slug::parse(&form.slug))
        };
        let summary = errors.check("summary", Summary::parse(&form.summary));
        let body = errors.check("body", ArticleBody::parse(&form.body));
        let status = errors.check("status", ArticleStatus::parse(&form.status));
        match (title, slug, summary, body, status) {
            (Some(title), Some(slug), Some(summary), Some(body), Some(status))
                if errors.is_empty() =>
            {
                Ok(Self {
                    title,
                    slug,
                    summary,
                    body,
                    status,
                    reactions_open: form.reactions_open.is_some(),
                })
            }
            _ => Err(errors),
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
            published: form.status == ArticleStatus::Published.as_str(),
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
                status_label: ArticleStatus::parse(&a.status).map_or("onbekend", |s| s.label()),
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
    let input = match checked_input(state, &form, None).await? {
        Ok(input) if form.voorbeeld.is_none() => input,
        outcome => return form_again(layout, action, &form, outcome.err()),
    };
    match editorial::create(&state.db, input, user.staff.id).await {
        Ok(article) => Ok(see_other(&format!(
            "{}?opgeslagen=1",
            edit_path(article.id)
        ))),
        Err(err) if store::is_unique_violation(&err) => {
            form_again(layout, action, &form, Some(slug_taken()))
        }
        Err(err) => Err(err.into()),
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
    let input = match checked_input(state, &form, Some(id)).await? {
        Ok(input) if form.voorbeeld.is_none() => input,
        outcome => return form_again(layout, action, &form, outcome.err()),
    };
    match editorial::update(&state.db, article, input).await {
        Ok(_) => Ok(see_other(&format!("{}?opgeslagen=1", edit_path(id)))),
        Err(err) if store::is_unique_violation(&err) => {
            form_again(layout, action, &form, Some(slug_taken()))
        }
        Err(err) => Err(err.into()),
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

/// Checks the form and settles a free slug; `Err` holds the field errors. The API's
/// article writes come through here too.
pub async fn checked_input(
    state: &AppState,
    form: &ArticleForm,
    except_id: Option<i32>,
) -> AppResult<Result<ArticleInput, FieldErrors>> {
    let checked = match CheckedArticle::try_from(form) {
        Ok(checked) => checked,
        Err(errors) => return Ok(Err(errors)),
    };
    let slug = store::articles::free_slug(state.db.read(), &checked.slug, except_id).await?;
    Ok(Ok(ArticleInput {
        body_html: markdown::render_article(checked.body.as_ref()),
        title: checked.title,
        slug,
        summary: checked.summary,
        body: checked.body,
        status: checked.status,
        reactions_open: checked.reactions_open,
    }))
}

fn slug_taken() -> FieldErrors {
    let mut errors = FieldErrors::default();
    errors.insert(
        "slug",
        FieldMessage::new(
            "taken",
            "Deze slug is net door een ander artikel in gebruik genomen; kies een andere.",
            "Another article has just taken this slug; choose another.",
        ),
    );
    errors
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
