use sea_orm::entity::prelude::*;

/// A reader's "Nuttig" vote on a reaction. It names no one: `voter` is a keyed hash of
/// the id in the browser's vote cookie, `ip_hash` the address hash (cleared like a
/// reaction's after the retention period). At most one per browser and per address hash
/// per reaction.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comment_votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub comment_id: i32,
    pub voter: Option<String>,
    pub ip_hash: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::comments::Entity",
        from = "Column::CommentId",
        to = "super::comments::Column::Id",
        on_delete = "Cascade"
    )]
    Comment,
}

impl Related<super::comments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Comment.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
