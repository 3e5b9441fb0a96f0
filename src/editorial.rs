//! The one code path below the handlers for articles (form and API alike): creating and
//! changing one, and telling the page caches that what readers see has changed.

use sea_orm::DbErr;

use crate::{
    entity::articles,
    store::{self, Db, articles::ArticleInput},
};

/// Stores a new article. A clash on the slug comes back as the database's unique
/// violation, for the caller to turn into a form error.
pub async fn create(
    db: &Db,
    input: ArticleInput,
    author_id: i32,
) -> Result<articles::Model, DbErr> {
    let article = store::articles::insert(db.write(), input, author_id).await?;
    db.versions().article_changed(article.id);
    Ok(article)
}

/// Saves an edit of `existing`.
pub async fn update(
    db: &Db,
    existing: articles::Model,
    input: ArticleInput,
) -> Result<articles::Model, DbErr> {
    let article = store::articles::update(db.write(), existing, input).await?;
    db.versions().article_changed(article.id);
    Ok(article)
}
