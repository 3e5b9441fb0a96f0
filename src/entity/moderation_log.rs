use sea_orm::entity::prelude::*;

use crate::domain::states::{CommentStatus, LogAction};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moderation_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub comment_id: i32,
    /// A user id, or `system` for automatic decisions.
    pub actor: String,
    pub action: LogAction,
    pub from_status: Option<CommentStatus>,
    pub to_status: CommentStatus,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
