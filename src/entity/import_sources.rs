use sea_orm::entity::prelude::*;

/// An imported item's origin: `source` names the export (e.g. `wordpress
/// https://example.org`), `kind` is `article` or `comment`, `source_id` its id there.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "import_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub source: String,
    pub kind: String,
    pub source_id: String,
    pub local_id: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
