//! The rules that decide what happens to a new or edited reaction. Pure: the caller
//! gathers the facts (bans, earlier approvals, timing) and gets a decision back.

use chrono::{DateTime, Utc};

use crate::domain::{markdown, states::CommentStatus};

/// How strict the site is with reactions that no other rule decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Approve when the same name and e-mail have an approved reaction (the default).
    HoldFirst,
    /// Every reaction waits for a moderator.
    HoldAll,
    /// Publish at once; moderators clean up afterwards.
    PublishAll,
}

impl Mode {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "hold_first" => Some(Self::HoldFirst),
            "hold_all" => Some(Self::HoldAll),
            "publish_all" => Some(Self::PublishAll),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::HoldFirst => "hold_first",
            Self::HoldAll => "hold_all",
            Self::PublishAll => "publish_all",
        }
    }
}

/// The site's moderation settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    pub mode: Mode,
    /// Hold a reaction with this many links or more.
    pub link_threshold: usize,
    /// Words that hold a reaction for a moderator.
    pub moderation_words: Vec<String>,
    /// Words that send a reaction to spam.
    pub block_words: Vec<String>,
    /// A form sent back sooner than this after it was served is a bot's.
    pub min_seconds: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            mode: Mode::HoldFirst,
            link_threshold: 2,
            moderation_words: Vec::new(),
            block_words: Vec::new(),
            min_seconds: 2,
        }
    }
}

/// What is known about a reaction when it is posted or edited.
#[derive(Clone, Debug, Default)]
pub struct Facts<'a> {
    pub author_name: &'a str,
    pub body: &'a str,
    /// Posted by a logged-in staff member.
    pub by_staff: bool,
    /// The e-mail address or address hash is banned.
    pub banned: bool,
    /// The same name and e-mail have an approved reaction already.
    pub known_author: bool,
    /// The hidden honeypot field was filled in.
    pub honeypot_filled: bool,
    /// Seconds between serving the form and receiving it; `None` when the signed
    /// form token was missing or forged.
    pub form_age_seconds: Option<i64>,
    /// Sent through the HTML form, which carries the honeypot and the signed
    /// "form served at" token; API clients have neither (rate limits cover them).
    pub from_form: bool,
    /// An edit of an existing reaction: timing and honeypot do not apply.
    pub is_edit: bool,
}

/// The rule that made a decision; its name goes into the moderation log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Banned,
    Staff,
    Honeypot,
    TooFast,
    BlockWord,
    Links,
    ModerationWord,
    PublishAll,
    HoldAll,
    KnownAuthor,
    FirstReaction,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Banned => "banned",
            Self::Staff => "staff",
            Self::Honeypot => "honeypot",
            Self::TooFast => "too_fast",
            Self::BlockWord => "block_word",
            Self::Links => "links",
            Self::ModerationWord => "moderation_word",
            Self::PublishAll => "publish_all",
            Self::HoldAll => "hold_all",
            Self::KnownAuthor => "known_author",
            Self::FirstReaction => "first_reaction",
        }
    }

    /// A short Dutch explanation for the moderation queue.
    pub fn label(self) -> &'static str {
        match self {
            Self::Banned => "geblokkeerd adres",
            Self::Staff => "geplaatst door de redactie",
            Self::Honeypot => "verborgen veld ingevuld (bot)",
            Self::TooFast => "formulier te snel verstuurd (bot)",
            Self::BlockWord => "bevat een geblokkeerd woord",
            Self::Links => "bevat meerdere links",
            Self::ModerationWord => "bevat een woord dat moderatie vraagt",
            Self::PublishAll => "alles wordt direct geplaatst",
            Self::HoldAll => "alles wacht op moderatie",
            Self::KnownAuthor => "eerder goedgekeurde schrijver",
            Self::FirstReaction => "eerste reactie van deze schrijver",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Banned,
            Self::Staff,
            Self::Honeypot,
            Self::TooFast,
            Self::BlockWord,
            Self::Links,
            Self::ModerationWord,
            Self::PublishAll,
            Self::HoldAll,
            Self::KnownAuthor,
            Self::FirstReaction,
        ]
        .into_iter()
        .find(|rule| rule.as_str() == name)
    }
}

/// What happens to the reaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve(Rule),
    Hold(Rule),
    Spam(Rule),
    /// Not stored at all: the poster is told why.
    Refuse(Rule),
}

impl Decision {
    pub fn rule(self) -> Rule {
        match self {
            Self::Approve(r) | Self::Hold(r) | Self::Spam(r) | Self::Refuse(r) => r,
        }
    }
}

/// How the queue recognises one author across reactions: by e-mail address, or by the
/// hash of the address they posted from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthorKey {
    Email,
    Address,
}

impl AuthorKey {
    pub const ALL: [Self; 2] = [Self::Email, Self::Address];

    /// The queue's query parameter: `?zelfde_email=N` shows the reactions with the e-mail
    /// address of reaction N, so that neither the address nor its hash is in the URL.
    pub fn param(self) -> &'static str {
        match self {
            Self::Email => "zelfde_email",
            Self::Address => "zelfde_adres",
        }
    }

    /// What the key is, in Dutch ("… van dit e-mailadres").
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "e-mailadres",
            Self::Address => "adres (IP-hash)",
        }
    }
}

/// How many of an author's other reactions were approved, rejected or marked as spam.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub approved: i64,
    pub rejected: i64,
    pub spam: i64,
}

impl History {
    /// The statuses a history counts, in the order the queue shows them.
    pub const COUNTED: [CommentStatus; 3] = [
        CommentStatus::Approved,
        CommentStatus::Rejected,
        CommentStatus::Spam,
    ];

    /// The history from `count`, which counts every reaction with the author's key
    /// per status, the reaction looked at (whose status is `own`) included: it is left
    /// out here.
    pub fn of_others(count: impl Fn(CommentStatus) -> i64, own: CommentStatus) -> Self {
        let others = |status| (count(status) - i64::from(status == own)).max(0);
        Self {
            approved: others(CommentStatus::Approved),
            rejected: others(CommentStatus::Rejected),
            spam: others(CommentStatus::Spam),
        }
    }

    /// The count for one of the [`History::COUNTED`] statuses (0 for the others).
    pub fn get(self, status: CommentStatus) -> i64 {
        match status {
            CommentStatus::Approved => self.approved,
            CommentStatus::Rejected => self.rejected,
            CommentStatus::Spam => self.spam,
            CommentStatus::Pending | CommentStatus::Deleted => 0,
        }
    }
}

/// What a moderator's "Uitlichten" or "Niet meer uitlichten" does to one reaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Featuring {
    /// Store this as the reaction's `featured_at`: featured from now, or not any more.
    Set(Option<DateTime<Utc>>),
    /// It is so already: nothing changes and nothing is logged.
    Unchanged,
    /// Only a reaction readers see (approved) can be featured.
    NotApproved,
}

/// Decides featuring (`feature`) or unfeaturing a reaction in `status`, featured since
/// `featured_at` if at all. Unfeaturing is always allowed: a reaction that is not
/// approved is never featured (see [`keeps_featuring`]), so it is simply unchanged.
pub fn featuring(
    status: CommentStatus,
    featured_at: Option<DateTime<Utc>>,
    feature: bool,
    now: DateTime<Utc>,
) -> Featuring {
    match (feature, featured_at) {
        (true, _) if !status.is_public() => Featuring::NotApproved,
        (true, Some(_)) | (false, None) => Featuring::Unchanged,
        (true, None) => Featuring::Set(Some(now)),
        (false, Some(_)) => Featuring::Set(None),
    }
}

/// Whether a reaction moving to `status` stays featured: only while readers see it. A
/// rejected, spam, deleted or waiting reaction loses its featuring, and approving it
/// again does not bring it back.
pub fn keeps_featuring(status: CommentStatus) -> bool {
    status.is_public()
}

/// Applies the rules, strongest first: bans, staff, bot signs, block words, links,
/// moderation words, then the site's mode.
pub fn decide(rules: &Rules, facts: &Facts<'_>) -> Decision {
    if facts.by_staff {
        return Decision::Approve(Rule::Staff);
    }
    if facts.banned {
        return Decision::Refuse(Rule::Banned);
    }
    if facts.from_form && !facts.is_edit {
        if facts.honeypot_filled {
            return Decision::Spam(Rule::Honeypot);
        }
        if facts
            .form_age_seconds
            .is_none_or(|age| age < rules.min_seconds)
        {
            return Decision::Spam(Rule::TooFast);
        }
    }
    let text = format!("{}\n{}", facts.author_name, facts.body);
    if contains_any_word(&text, &rules.block_words) {
        return Decision::Spam(Rule::BlockWord);
    }
    if rules.link_threshold > 0 && markdown::count_links(facts.body) >= rules.link_threshold {
        return Decision::Hold(Rule::Links);
    }
    if contains_any_word(&text, &rules.moderation_words) {
        return Decision::Hold(Rule::ModerationWord);
    }
    match rules.mode {
        Mode::PublishAll => Decision::Approve(Rule::PublishAll),
        Mode::HoldAll => Decision::Hold(Rule::HoldAll),
        Mode::HoldFirst if facts.known_author => Decision::Approve(Rule::KnownAuthor),
        Mode::HoldFirst => Decision::Hold(Rule::FirstReaction),
    }
}

/// Whole-word, case-insensitive matching; a listed phrase may span several words.
fn contains_any_word(text: &str, words: &[String]) -> bool {
    let haystack = normalise(text);
    words
        .iter()
        .map(|w| normalise(w))
        .filter(|w| !w.trim().is_empty())
        .any(|word| haystack.contains(&format!(" {} ", word.trim())))
}

/// Lowercases and turns everything but letters and digits into single spaces, padded.
fn normalise(text: &str) -> String {
    let mut out = String::from(" ");
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_approved_reaction_is_featured() {
        let now = Utc::now();
        assert_eq!(
            featuring(CommentStatus::Approved, None, true, now),
            Featuring::Set(Some(now))
        );
        for status in [
            CommentStatus::Pending,
            CommentStatus::Rejected,
            CommentStatus::Spam,
            CommentStatus::Deleted,
        ] {
            assert_eq!(
                featuring(status, None, true, now),
                Featuring::NotApproved,
                "{status}"
            );
            assert_eq!(featuring(status, None, false, now), Featuring::Unchanged);
            assert!(!keeps_featuring(status), "{status}");
        }
        assert!(keeps_featuring(CommentStatus::Approved));
    }

    #[test]
    fn featuring_twice_changes_nothing_and_unfeaturing_clears() {
        let now = Utc::now();
        let earlier = now - chrono::Duration::hours(1);
        let approved = CommentStatus::Approved;
        assert_eq!(
            featuring(approved, Some(earlier), true, now),
            Featuring::Unchanged
        );
        assert_eq!(
            featuring(approved, Some(earlier), false, now),
            Featuring::Set(None)
        );
        assert_eq!(featuring(approved, None, false, now), Featuring::Unchanged);
    }

    #[test]
    fn a_history_leaves_out_the_reaction_looked_at() {
        let count = |status| match status {
            CommentStatus::Approved => 3,
            CommentStatus::Rejected => 1,
            CommentStatus::Spam => 0,
            CommentStatus::Pending => 7,
            CommentStatus::Deleted => 2,
        };
        let expected = |approved, rejected, spam| History {
            approved,
            rejected,
            spam,
        };
        assert_eq!(
            History::of_others(count, CommentStatus::Approved),
            expected(2, 1, 0)
        );
        assert_eq!(
            History::of_others(count, CommentStatus::Rejected),
            expected(3, 0, 0)
        );
        assert_eq!(
            History::of_others(count, CommentStatus::Pending),
            expected(3, 1, 0),
            "a pending reaction is not among the counted"
        );
        assert_eq!(
            History::of_others(count, CommentStatus::Spam),
            expected(3, 1, 0),
            "never below zero, even if the reaction was not counted"
        );
    }

    #[test]
    fn a_history_reads_back_per_counted_status() {
        let history = History {
            approved: 3,
            rejected: 1,
            spam: 2,
        };
        let read: Vec<i64> = History::COUNTED.iter().map(|s| history.get(*s)).collect();
        assert_eq!(read, [3, 1, 2]);
        assert_eq!(history.get(CommentStatus::Pending), 0);
    }

    fn facts(body: &str) -> Facts<'_> {
        Facts {
            author_name: "Lezer",
            body,
            form_age_seconds: Some(30),
            from_form: true,
            ..Facts::default()
        }
    }

    #[test]
    fn first_reaction_is_held_and_a_known_author_approved() {
        let rules = Rules::default();
        assert_eq!(
            decide(&rules, &facts("Hallo")),
            Decision::Hold(Rule::FirstReaction)
        );
        let known = Facts {
            known_author: true,
            ..facts("Hallo")
        };
        assert_eq!(decide(&rules, &known), Decision::Approve(Rule::KnownAuthor));
    }

    #[test]
    fn hold_all_and_publish_all_modes() {
        let known = Facts {
            known_author: true,
            ..facts("Hallo")
        };
        let hold_all = Rules {
            mode: Mode::HoldAll,
            ..Rules::default()
        };
        assert_eq!(decide(&hold_all, &known), Decision::Hold(Rule::HoldAll));
        let publish_all = Rules {
            mode: Mode::PublishAll,
            ..Rules::default()
        };
        assert_eq!(
            decide(&publish_all, &facts("Hallo")),
            Decision::Approve(Rule::PublishAll)
        );
    }

    #[test]
    fn two_links_hold_even_a_known_author() {
        let rules = Rules::default();
        let one = Facts {
            known_author: true,
            ..facts("Zie https://a.nl")
        };
        assert_eq!(decide(&rules, &one), Decision::Approve(Rule::KnownAuthor));
        let two = Facts {
            known_author: true,
            ..facts("[a](https://a.nl) en https://b.nl")
        };
        assert_eq!(decide(&rules, &two), Decision::Hold(Rule::Links));
        let publish_all = Rules {
            mode: Mode::PublishAll,
            ..Rules::default()
        };
        assert_eq!(decide(&publish_all, &two), Decision::Hold(Rule::Links));
    }

    #[test]
    fn moderation_words_hold_whole_words_only() {
        let rules = Rules {
            moderation_words: vec!["Casino".into(), "gratis geld".into()],
            ..Rules::default()
        };
        let known = |body| Facts {
            known_author: true,
            ..facts(body)
        };
        assert_eq!(
            decide(&rules, &known("Naar het CASINO!")),
            Decision::Hold(Rule::ModerationWord)
        );
        assert_eq!(
            decide(&rules, &known("Gratis   geld hier")),
            Decision::Hold(Rule::ModerationWord)
        );
        assert_eq!(
            decide(&rules, &known("Casinoschip")),
            Decision::Approve(Rule::KnownAuthor)
        );
    }

    #[test]
    fn block_words_go_to_spam_also_in_the_name() {
        let rules = Rules {
            block_words: vec!["viagra".into()],
            ..Rules::default()
        };
        assert_eq!(
            decide(&rules, &facts("koop Viagra")),
            Decision::Spam(Rule::BlockWord)
        );
        let in_name = Facts {
            author_name: "Viagra shop",
            ..facts("hoi")
        };
        assert_eq!(decide(&rules, &in_name), Decision::Spam(Rule::BlockWord));
    }

    #[test]
    fn honeypot_and_fast_forms_are_spam() {
        let rules = Rules::default();
        let honeypot = Facts {
            honeypot_filled: true,
            known_author: true,
            ..facts("hoi")
        };
        assert_eq!(decide(&rules, &honeypot), Decision::Spam(Rule::Honeypot));
        for age in [None, Some(-5), Some(0), Some(1)] {
            let fast = Facts {
                form_age_seconds: age,
                known_author: true,
                ..facts("hoi")
            };
            assert_eq!(
                decide(&rules, &fast),
                Decision::Spam(Rule::TooFast),
                "age {age:?}"
            );
        }
        let slow = Facts {
            form_age_seconds: Some(2),
            known_author: true,
            ..facts("hoi")
        };
        assert_eq!(decide(&rules, &slow), Decision::Approve(Rule::KnownAuthor));
    }

    #[test]
    fn edits_skip_timing_and_honeypot_but_not_links() {
        let rules = Rules::default();
        let edit = Facts {
            is_edit: true,
            form_age_seconds: None,
            known_author: true,
            ..facts("hoi")
        };
        assert_eq!(decide(&rules, &edit), Decision::Approve(Rule::KnownAuthor));
        let edit = Facts {
            body: "https://a.nl https://b.nl",
            ..edit
        };
        assert_eq!(decide(&rules, &edit), Decision::Hold(Rule::Links));
    }

    #[test]
    fn api_posts_skip_the_form_checks_but_not_the_rest() {
        let rules = Rules::default();
        let api = Facts {
            from_form: false,
            form_age_seconds: None,
            known_author: true,
            ..facts("hoi")
        };
        assert_eq!(decide(&rules, &api), Decision::Approve(Rule::KnownAuthor));
        let api = Facts {
            body: "https://a.nl https://b.nl",
            ..api
        };
        assert_eq!(decide(&rules, &api), Decision::Hold(Rule::Links));
    }

    #[test]
    fn staff_are_approved_and_bans_refused() {
        let rules = Rules {
            mode: Mode::HoldAll,
            ..Rules::default()
        };
        let staff = Facts {
            by_staff: true,
            form_age_seconds: None,
            ..facts("https://a.nl https://b.nl")
        };
        assert_eq!(decide(&rules, &staff), Decision::Approve(Rule::Staff));
        let banned = Facts {
            banned: true,
            known_author: true,
            ..facts("hoi")
        };
        assert_eq!(decide(&rules, &banned), Decision::Refuse(Rule::Banned));
    }

    #[test]
    fn rule_names_round_trip() {
        for rule in [
            Rule::Banned,
            Rule::Links,
            Rule::FirstReaction,
            Rule::TooFast,
        ] {
            assert_eq!(Rule::from_name(rule.as_str()), Some(rule));
        }
        assert_eq!(Mode::parse("hold_first"), Some(Mode::HoldFirst));
        assert_eq!(Mode::parse("x"), None);
    }
}
