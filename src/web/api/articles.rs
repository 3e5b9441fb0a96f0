//! Articles: the public list and page, and editors' writes with a token.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use crate::{
    app::AppState,
    domain::{states::Role, validate::Slug},
    editorial::{self, Draft},
    entity::articles,
    store::{self, articles::Cursor},
    web::api::{
        Answers, ApiError, ApiTags, CreateArticle, ListArticles, MaybeToken, ShowArticle,
        TokenAuth, UpdateArticle, fields,
        objects::{Article, ArticleInput, ArticleList, ArticleSummary},
        page_size,
    },
};

pub struct ArticlesApi;

#[derive(ApiResponse)]
pub enum ArticleCreated {
    /// The new article.
    #[oai(status = 201)]
    Created(Json<Article>),
}

async fn to_api(state: &AppState, article: articles::Model) -> Result<Article, ApiError> {
    let reaction_count = store::articles::approved_count(state.db.read(), article.id).await?;
    Ok(Article {
        status: article.status.into(),
        slug: article.slug,
        title: article.title,
        summary: article.summary,
        body_html: article.body_html,
        published_at: article.published_at,
        updated_at: article.updated_at,
        reactions_open: article.reactions_open,
        reaction_count,
    })
}

/// The slug of an article whose title has no letter or digit to derive one from.
const FALLBACK_SLUG: &str = "artikel";

/// The request as the editorial service reads it; `slug` when the request has none.
/// A blank slug is derived from the title, or is `artikel` when the title has nothing
/// to derive it from: which titles fold to a slug is more than a spec can say, so every
/// title the spec allows gets one (the site's form asks the editor instead).
fn draft<'a>(input: &'a ArticleInput, slug: &'a str) -> Draft<'a> {
    let given = input.slug.as_ref().map_or(slug, |s| s.0.as_str());
    let slug = if given.trim().is_empty() && Slug::from_title(&input.title.0).is_none() {
        FALLBACK_SLUG
    } else {
        given
    };
    Draft {
        title: &input.title.0,
        slug,
        summary: input.summary.as_ref().map_or("", |s| s.0.as_str()),
        body: &input.body.0,
        status: Ok(input.status.into()),
        reactions_open: input.reactions_open.unwrap_or(true),
    }
}

#[OpenApi(tag = "ApiTags::Articles")]
impl ArticlesApi {
    /// Published articles, newest first.
    #[oai(path = "/articles", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        /// Page size: 20 when absent; below 1 counts as 1, above 100 as 100.
        #[oai(validator(minimum(value = "0"), maximum(value = "4294967295")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<fields::Cursor>>,
    ) -> Result<Json<ArticleList>, Answers<ListArticles>> {
        let after = match &cursor.0 {
            Some(c) => Some(
                Cursor::decode(&c.0)
                    .ok_or_else(|| ApiError::bad_request("The cursor is not valid."))?,
            ),
            None => None,
        };
        let size = page_size(limit.0);
        let mut rows = store::articles::published_page(state.db.read(), after, size + 1).await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        let next_cursor = more
            .then(|| rows.last().and_then(Cursor::after).map(Cursor::encode))
            .flatten();
        Ok(Json(ArticleList {
            items: rows
                .into_iter()
                .map(|r| ArticleSummary {
                    slug: r.slug,
                    title: r.title,
                    summary: r.summary,
                    published_at: r.published_at,
                    reaction_count: r.reaction_count,
                })
                .collect(),
            next_cursor,
        }))
    }

    /// One published article; with a staff token, drafts too.
    #[oai(path = "/articles/:slug", method = "get")]
    async fn show(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: MaybeToken,
        slug: Path<String>,
    ) -> Result<Json<Article>, Answers<ShowArticle>> {
        let staff = auth.user(req).await?.is_some();
        let article = store::articles::find_readable(state.db.read(), &slug.0, staff)
            .await?
            .ok_or_else(|| ApiError::not_found("No published article has this slug."))?;
        Ok(Json(to_api(&state, article).await?))
    }

    /// Create an article (editors and admins).
    #[oai(path = "/articles", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        body: Json<ArticleInput>,
    ) -> Result<ArticleCreated, Answers<CreateArticle>> {
        ApiError::require(&auth.0, Role::can_edit_articles)?;
        let article = editorial::create(&state.db, draft(&body.0, ""), auth.0.id)
            .await?
            .map_err(|errors| ApiError::validation(&errors))?;
        Ok(ArticleCreated::Created(Json(
            to_api(&state, article).await?,
        )))
    }

    /// Replace an article's fields (editors and admins); drafts can be addressed too.
    #[oai(path = "/articles/:slug", method = "put")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: TokenAuth,
        slug: Path<String>,
        body: Json<ArticleInput>,
    ) -> Result<Json<Article>, Answers<UpdateArticle>> {
        ApiError::require(&auth.0, Role::can_edit_articles)?;
        let existing = store::articles::find_current(state.db.read(), &slug.0)
            .await?
            .ok_or_else(|| ApiError::not_found("No article has this slug."))?;
        let slug = existing.slug.clone();
        let article = editorial::update(&state.db, existing, draft(&body.0, &slug))
            .await?
            .map_err(|errors| ApiError::validation(&errors))?;
        Ok(Json(to_api(&state, article).await?))
    }
}
