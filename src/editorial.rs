//! The one code path below the handlers for articles, used by the editors' form, the API
//! and the demo alike: checking what an editor wrote, choosing a free slug, saving, and
//! telling the page caches that what readers see has changed.

use crate::store::changes::Change;
use crate::{
    domain::{
        markdown,
        states::ArticleStatus,
        validate::{ArticleBody, FieldErrors, FieldMessage, Slug, Summary, Title},
    },
    entity::articles,
    error::AppResult,
    store::{self, Db, articles::ArticleInput},
};

/// An article as an editor wrote it, from a form or a request, not yet checked.
#[derive(Clone, Copy, Debug)]
pub struct Draft<'a> {
    pub title: &'a str,
    /// Empty: derived from the title.
    pub slug: &'a str,
    pub summary: &'a str,
    /// Markdown.
    pub body: &'a str,
    /// A form's radio button is checked here too; a typed request has it checked already.
    pub status: Result<ArticleStatus, FieldMessage>,
    pub reactions_open: bool,
}

/// Checks every field at once; the slug is not yet settled against other articles.
pub fn check(draft: &Draft<'_>) -> Result<ArticleInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let title = errors.check("title", Title::parse(draft.title));
    let slug = if draft.slug.trim().is_empty() {
        title.as_ref().and_then(|t| {
            errors.check(
                "slug",
                Slug::from_title(t.as_ref()).ok_or(UNSLUGGABLE_TITLE),
            )
        })
    } else {
        errors.check("slug", Slug::parse(draft.slug))
    };
    let summary = errors.check("summary", Summary::parse(draft.summary));
    let body = errors.check("body", ArticleBody::parse(draft.body));
    let status = errors.check("status", draft.status);
    match (title, slug, summary, body, status) {
        (Some(title), Some(slug), Some(summary), Some(body), Some(status)) if errors.is_empty() => {
            Ok(ArticleInput {
                body_html: markdown::render_article(body.as_ref()),
                title,
                slug,
                summary,
                body,
                status,
                reactions_open: draft.reactions_open,
            })
        }
        _ => Err(errors),
    }
}

/// Stores a new article by `author_id`, under its slug or the first free `-2`, `-3`...
pub async fn create(
    db: &Db,
    draft: Draft<'_>,
    author_id: i32,
) -> AppResult<Result<articles::Model, FieldErrors>> {
    let mut input = match check(&draft) {
        Ok(input) => input,
        Err(errors) => return Ok(Err(errors)),
    };
    input.slug = store::articles::free_slug(db.read(), &input.slug, None).await?;
    let txn = db.begin().await?;
    let written = store::articles::insert(&txn, input, author_id).await;
    saved(db, indexed(txn, written, true).await).await
}

/// Saves an edit of `existing`; `published_at` is set on the first publication and kept.
pub async fn update(
    db: &Db,
    existing: articles::Model,
    draft: Draft<'_>,
) -> AppResult<Result<articles::Model, FieldErrors>> {
    let mut input = match check(&draft) {
        Ok(input) => input,
        Err(errors) => return Ok(Err(errors)),
    };
    input.slug = store::articles::free_slug(db.read(), &input.slug, Some(existing.id)).await?;
    let was = existing.status;
    let txn = db.begin().await?;
    let written = store::articles::update(&txn, existing, input).await;
    let republished = written.as_ref().is_ok_and(|a| a.status != was);
    saved(db, indexed(txn, written, republished).await).await
}

/// Commits a written article with its search index in step: its own row, and when it
/// was published or unpublished (`status_changed`) its approved reactions' rows too.
async fn indexed(
    txn: sea_orm::DatabaseTransaction,
    written: Result<articles::Model, sea_orm::DbErr>,
    status_changed: bool,
) -> Result<articles::Model, sea_orm::DbErr> {
    let article = written?;
    if status_changed {
        store::search::sync_article(&txn, article.id).await?;
    } else {
        store::search::sync_article_text(&txn, article.id).await?;
    }
    txn.commit().await?;
    Ok(article)
}

/// After a write: the caches (of every instance) learn of the change, or a slug another
/// article took in the meantime becomes a form error.
async fn saved(
    db: &Db,
    written: Result<articles::Model, sea_orm::DbErr>,
) -> AppResult<Result<articles::Model, FieldErrors>> {
    match written {
        Ok(article) => {
            db.changed(Change::Article(article.id)).await;
            Ok(Ok(article))
        }
        Err(err) if store::is_unique_violation(&err) => Ok(Err(slug_taken())),
        Err(err) => Err(err.into()),
    }
}

const UNSLUGGABLE_TITLE: FieldMessage = FieldMessage::new(
    "required",
    "Van deze titel kan geen adres worden gemaakt; vul zelf een slug in.",
    "No slug can be made from this title; fill one in.",
);

/// Another article took the slug between the check and the write.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft<'static> {
        Draft {
            title: "Coöperatie in de klas",
            slug: "",
            summary: "",
            body: "Tekst.",
            status: Ok(ArticleStatus::Draft),
            reactions_open: true,
        }
    }

    #[test]
    fn an_empty_slug_comes_from_the_title() {
        let input = check(&draft()).unwrap();
        assert_eq!(input.slug.as_ref(), "cooperatie-in-de-klas");
        assert!(input.body_html.as_str().contains("<p>Tekst.</p>"));
    }

    #[test]
    fn every_field_error_is_collected() {
        let errors = check(&Draft {
            title: "",
            slug: "Geen Slug",
            body: " ",
            status: ArticleStatus::parse("misschien"),
            ..draft()
        })
        .unwrap_err();
        for field in ["title", "slug", "body", "status"] {
            assert!(errors.contains(field), "{field}");
        }
        let errors = check(&Draft {
            title: "!!!",
            ..draft()
        })
        .unwrap_err();
        assert_eq!(errors.get("slug"), Some(UNSLUGGABLE_TITLE));
    }
}
