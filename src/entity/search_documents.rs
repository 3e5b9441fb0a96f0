use sea_orm::entity::prelude::*;

/// A published article or approved reaction as search terms (`domain::search`): `kind`
/// is `article` or `reaction`, `ref_id` its id. The databases index `title` and `body`
/// (SQLite's `search_fts`, PostgreSQL's `vector` column); article titles also on their
/// own (`search_titles`, a partial GIN index).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub kind: String,
    pub ref_id: i32,
    pub article_id: i32,
    pub title: String,
    pub body: String,
    pub sort_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
