use sea_orm::entity::prelude::*;

use crate::domain::states::CommentStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub article_id: i32,
    pub parent_id: Option<i32>,
    pub author_name: String,
    /// Never shown on public pages or in the public API.
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_md: String,
    pub body_html: String,
    pub status: CommentStatus,
    pub user_id: Option<i32>,
    /// HMAC-SHA256 of the client address with the site secret.
    pub ip_hash: String,
    pub edit_key_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The poster asked to be mailed when a reply to this reaction is approved.
    pub notify_replies: bool,
    /// This reply's parent's author was told of it (once).
    pub reply_notified: bool,
    /// When a moderator featured it ("Uitgelicht"); `None`: not featured.
    pub featured_at: Option<DateTimeUtc>,
    /// Readers' "Nuttig" votes (rows of `comment_votes`), kept with them.
    pub helpful_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::articles::Entity",
        from = "Column::ArticleId",
        to = "super::articles::Column::Id"
    )]
    Article,
}

impl Related<super::articles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Article.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
