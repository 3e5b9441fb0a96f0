use sea_orm::entity::prelude::*;

/// One use of the privacy pages, without the address it was about.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `request`, `view`, `export` or `erase`.
    pub action: String,
    /// `reader`, or the id of the admin who acted.
    pub actor: String,
    /// How many reactions the use concerned.
    pub reactions: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
