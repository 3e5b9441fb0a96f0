//! The states the site stores, typed end to end: where a reaction stands, whether an
//! article is public, what a staff member may do. Each is stored as the string its
//! `string_value` names (the schema is unchanged); reading any other stored value is an
//! error, never a silent default. These definitions are the only place the names are
//! written: serde (the export file) writes the same names, derived from the variants.

use std::fmt;

use sea_orm::{DeriveActiveEnum, EnumIter, Iterable, sea_query::StringLen};
use serde::{Deserialize, Serialize};

use super::validate::FieldMessage;

/// Where a reaction stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum CommentStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "spam")]
    Spam,
    #[sea_orm(string_value = "deleted")]
    Deleted,
}

impl CommentStatus {
    /// The stored name, as in a URL's `?status=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Spam => "spam",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::iter().find(|s| s.as_str() == value)
    }

    /// The Dutch name for tabs and the log.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Wachtend",
            Self::Approved => "Goedgekeurd",
            Self::Rejected => "Afgewezen",
            Self::Spam => "Spam",
            Self::Deleted => "Verwijderd",
        }
    }

    /// Where a reaction stands, as a phrase in a sentence ("antwoord op … (goedgekeurd)").
    pub fn state(self) -> &'static str {
        match self {
            Self::Pending => "wacht op moderatie",
            Self::Approved => "goedgekeurd",
            Self::Rejected => "afgewezen",
            Self::Spam => "spam",
            Self::Deleted => "verwijderd",
        }
    }

    /// Shown on the public page and counted.
    pub fn is_public(self) -> bool {
        self == Self::Approved
    }
}

/// What a row of the moderation log records.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum LogAction {
    /// A new reaction, decided by the rules.
    #[sea_orm(string_value = "submit")]
    Submit,
    /// A reader's edit, decided again by the rules.
    #[sea_orm(string_value = "edit")]
    Edit,
    #[sea_orm(string_value = "approve")]
    Approve,
    #[sea_orm(string_value = "reject")]
    Reject,
    #[sea_orm(string_value = "spam")]
    Spam,
    /// By a moderator, or by the reader who wrote it.
    #[sea_orm(string_value = "delete")]
    Delete,
    #[sea_orm(string_value = "ban_email")]
    BanEmail,
    #[sea_orm(string_value = "ban_ip_hash")]
    BanIpHash,
    /// The retention job took the personal data of a reaction nobody handled in time,
    /// which stays for the replies below it.
    #[sea_orm(string_value = "expire")]
    Expire,
    /// The author's personal data erased, on their request or an admin's (AVG).
    #[sea_orm(string_value = "erase")]
    Erase,
    /// Brought in from another system (WordPress, Disqus) with the state it had there;
    /// the reason names the source's id.
    #[sea_orm(string_value = "import")]
    Import,
    /// A moderator featured an approved reaction ("Uitgelicht").
    #[sea_orm(string_value = "feature")]
    Feature,
    /// A moderator took the featuring away.
    #[sea_orm(string_value = "unfeature")]
    Unfeature,
}

impl LogAction {
    /// The stored name, as in the log page's `?action=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Edit => "edit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Spam => "spam",
            Self::Delete => "delete",
            Self::BanEmail => "ban_email",
            Self::BanIpHash => "ban_ip_hash",
            Self::Expire => "expire",
            Self::Erase => "erase",
            Self::Import => "import",
            Self::Feature => "feature",
            Self::Unfeature => "unfeature",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::iter().find(|a| a.as_str() == value)
    }

    /// The Dutch description on the log page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Submit => "geplaatst (regels)",
            Self::Edit => "bewerkt door lezer",
            Self::Approve => "goedgekeurd",
            Self::Reject => "afgewezen",
            Self::Spam => "als spam gemarkeerd",
            Self::Delete => "verwijderd",
            Self::BanEmail => "e-mailadres geblokkeerd",
            Self::BanIpHash => "adres geblokkeerd",
            Self::Expire => "gewist na bewaartermijn",
            Self::Erase => "gegevens gewist (AVG)",
            Self::Import => "geïmporteerd",
            Self::Feature => "uitgelicht",
            Self::Unfeature => "niet meer uitgelicht",
        }
    }
}

/// Whether an article is visible to the public.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ArticleStatus {
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "published")]
    Published,
}

impl ArticleStatus {
    /// Reads the editor's form field.
    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        Self::iter()
            .find(|s| s.as_str() == value.trim())
            .ok_or(STATUS_UNKNOWN)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    /// The Dutch name shown to editors.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "concept",
            Self::Published => "gepubliceerd",
        }
    }

    pub fn is_published(self) -> bool {
        self == Self::Published
    }
}

/// What a staff member may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "editor")]
    Editor,
    #[sea_orm(string_value = "moderator")]
    Moderator,
}

impl Role {
    /// Reads a form field or a command-line value.
    pub fn parse(value: &str) -> Result<Self, FieldMessage> {
        Self::iter()
            .find(|r| r.as_str() == value.trim())
            .ok_or(ROLE_UNKNOWN)
    }

    /// The value stored in the database and used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Moderator => "moderator",
        }
    }

    /// The Dutch name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "beheerder",
            Self::Editor => "redacteur",
            Self::Moderator => "moderator",
        }
    }

    pub fn can_edit_articles(self) -> bool {
        matches!(self, Self::Admin | Self::Editor)
    }

    pub fn can_moderate(self) -> bool {
        matches!(self, Self::Admin | Self::Moderator)
    }

    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

macro_rules! display_as_stored {
    ($($name:ident),*) => {
        $(impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        })*
    };
}

display_as_stored!(CommentStatus, LogAction, ArticleStatus, Role);

const ROLE_UNKNOWN: FieldMessage = FieldMessage::new(
    "invalid_choice",
    "Kies een rol: admin, editor of moderator.",
    "Choose a role: admin, editor or moderator.",
);

const STATUS_UNKNOWN: FieldMessage = FieldMessage::new(
    "invalid_choice",
    "Kies concept of gepubliceerd.",
    "Choose draft or published.",
);

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use super::*;

    /// `as_str` (no allocation) and the stored value are the same names.
    #[test]
    fn names_match_the_stored_values() {
        for status in CommentStatus::iter() {
            assert_eq!(status.as_str(), status.to_value());
            assert_eq!(CommentStatus::parse(status.as_str()), Some(status));
        }
        for action in LogAction::iter() {
            assert_eq!(action.as_str(), action.to_value());
            assert_eq!(LogAction::parse(action.as_str()), Some(action));
        }
        for status in ArticleStatus::iter() {
            assert_eq!(status.as_str(), status.to_value());
            assert_eq!(ArticleStatus::parse(status.as_str()), Ok(status));
        }
        for role in Role::iter() {
            assert_eq!(role.as_str(), role.to_value());
            assert_eq!(Role::parse(&format!(" {} ", role.as_str())), Ok(role));
        }
        assert_eq!(CommentStatus::parse("Approved"), None);
    }

    /// What the export file writes (serde) is the stored name, for every variant.
    #[test]
    fn serde_writes_the_stored_names() {
        fn check<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug>(
            value: T,
            stored: &str,
        ) {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{stored}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), value);
        }
        CommentStatus::iter().for_each(|v| check(v, v.as_str()));
        LogAction::iter().for_each(|v| check(v, v.as_str()));
        ArticleStatus::iter().for_each(|v| check(v, v.as_str()));
        Role::iter().for_each(|v| check(v, v.as_str()));
        assert!(Role::parse("root").is_err());
    }

    /// A value no variant stores is an error, not a default.
    #[test]
    fn unknown_stored_values_are_errors() {
        assert!(CommentStatus::try_from_value(&"onbekend".to_owned()).is_err());
        assert!(Role::try_from_value(&"superuser".to_owned()).is_err());
        assert!(ArticleStatus::try_from_value(&String::new()).is_err());
    }
}
