use sea_orm::entity::prelude::*;

/// A mail waiting to be sent (or given up on: `status` `failed`). A sent mail's row is
/// deleted, so nothing of it stays behind.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// What the mail is for (`confirm`, `reply`, `privacy`, `digest`).
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`), when the mail has one.
    pub unsubscribe: Option<String>,
    /// Fixed when queued, so a mail sent again after a crash is recognisably the same.
    pub message_id: String,
    /// The reaction the mail is about, so erasing its author can take the mail too.
    pub comment_id: Option<i32>,
    /// `pending` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While a worker sends it, other workers leave it alone until then.
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
