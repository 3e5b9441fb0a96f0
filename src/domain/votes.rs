//! "Nuttig" votes: what a request does to the vote a reader may already have, and which
//! reactions take votes at all.

use crate::domain::states::CommentStatus;

/// What a vote request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wish {
    /// The site's button: vote, or take the vote back when there is one.
    Toggle,
    /// The API's `POST`: vote; voting twice changes nothing.
    Vote,
    /// The API's `DELETE`: take the vote back, if there is one.
    Withdraw,
}

/// What happens to the stored votes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Add,
    /// Remove every vote of this browser or address on the reaction.
    Remove,
    Keep,
}

impl Wish {
    /// The change for a reader who has (`has_voted`) or has not voted yet.
    pub fn change(self, has_voted: bool) -> Change {
        match (self, has_voted) {
            (Self::Toggle | Self::Vote, false) => Change::Add,
            (Self::Toggle | Self::Withdraw, true) => Change::Remove,
            (Self::Vote, true) | (Self::Withdraw, false) => Change::Keep,
        }
    }
}

impl Change {
    /// Whether the reader has a vote afterwards.
    pub fn voted_after(self, had_voted: bool) -> bool {
        match self {
            Self::Add => true,
            Self::Remove => false,
            Self::Keep => had_voted,
        }
    }
}

/// Only what every reader sees takes votes: an approved reaction on a published article.
pub fn takes_votes(status: CommentStatus, article_published: bool) -> bool {
    status == CommentStatus::Approved && article_published
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toggle_adds_a_missing_vote_and_removes_a_present_one() {
        assert_eq!(Wish::Toggle.change(false), Change::Add);
        assert_eq!(Wish::Toggle.change(true), Change::Remove);
    }

    #[test]
    fn the_apis_vote_and_withdrawal_are_idempotent() {
        assert_eq!(Wish::Vote.change(false), Change::Add);
        assert_eq!(Wish::Vote.change(true), Change::Keep);
        assert_eq!(Wish::Withdraw.change(true), Change::Remove);
        assert_eq!(Wish::Withdraw.change(false), Change::Keep);
    }

    #[test]
    fn voted_after_follows_the_change() {
        for had in [false, true] {
            assert!(Change::Add.voted_after(had));
            assert!(!Change::Remove.voted_after(had));
            assert_eq!(Change::Keep.voted_after(had), had);
        }
    }

    #[test]
    fn only_approved_reactions_on_published_articles_take_votes() {
        assert!(takes_votes(CommentStatus::Approved, true));
        assert!(!takes_votes(CommentStatus::Approved, false));
        for status in [
            CommentStatus::Pending,
            CommentStatus::Rejected,
            CommentStatus::Spam,
            CommentStatus::Deleted,
        ] {
            assert!(!takes_votes(status, true), "{status:?}");
        }
    }
}
