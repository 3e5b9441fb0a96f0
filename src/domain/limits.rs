//! Rate-limit actions and quotas: which limit a request falls under and how generous
//! each limit is. The limiters themselves live in `web::middleware::rate_limit`.

use std::collections::HashMap;

/// What a request does, for the purpose of limiting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Posting a reaction, through the form or the API.
    Reaction,
    /// Logging in (counted per address and per username).
    Login,
    /// The Markdown preview.
    Preview,
    /// Asking for a privacy link (each one sends a mail).
    Privacy,
    /// A search, on the site or through the API.
    Search,
    /// Marking a reaction "Nuttig" or taking that back, on the site or through the API.
    Vote,
    /// Any other request.
    Other,
}

impl Action {
    pub const ALL: [Self; 7] = [
        Self::Reaction,
        Self::Login,
        Self::Preview,
        Self::Privacy,
        Self::Search,
        Self::Vote,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reaction => "reaction",
            Self::Login => "login",
            Self::Preview => "preview",
            Self::Privacy => "privacy",
            Self::Search => "search",
            Self::Vote => "vote",
            Self::Other => "other",
        }
    }

    /// The Dutch name on the settings page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Reaction => "Reactie plaatsen (formulier en API)",
            Self::Login => "Inloggen (per adres en per gebruikersnaam)",
            Self::Preview => "Markdown-voorbeeld",
            Self::Privacy => "Privacylink aanvragen (stuurt een e-mail)",
            Self::Search => "Zoeken (site en API)",
            Self::Vote => "Reactie als nuttig markeren (site en API)",
            Self::Other => "Alle andere verzoeken",
        }
    }
}

/// A burst, then a steady rate per minute; both at least 1 (`Quota::new`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub burst: u32,
    pub per_minute: u32,
}

impl Quota {
    pub const MAX_BURST: u32 = 100_000;
    pub const MAX_PER_MINUTE: u32 = 6_000_000;

    /// The defaults of DESIGN.md.
    pub fn default_for(action: Action) -> Self {
        match action {
            Action::Reaction => Self {
                burst: 3,
                per_minute: 2,
            },
            Action::Login => Self {
                burst: 5,
                per_minute: 1,
            },
            Action::Preview => Self {
                burst: 20,
                per_minute: 60,
            },
            // Every request mails someone: a few in a row, then one a minute (the
            // slowest a quota can be).
            Action::Privacy => Self {
                burst: 3,
                per_minute: 1,
            },
            // A person searches, reads, searches again; a scraper does not stop.
            Action::Search => Self {
                burst: 30,
                per_minute: 60,
            },
            // A reader marks what helped them while reading a thread; a script marking
            // everything, or flipping one vote back and forth, soon waits.
            Action::Vote => Self {
                burst: 20,
                per_minute: 60,
            },
            Action::Other => Self {
                burst: 200,
                per_minute: 3000,
            },
        }
    }

    /// Reads the stored form `burst,per_minute`.
    pub fn parse(value: &str) -> Option<Self> {
        let (burst, per_minute) = value.split_once(',')?;
        Self::new(burst.trim().parse().ok()?, per_minute.trim().parse().ok()?)
    }

    pub fn new(burst: u32, per_minute: u32) -> Option<Self> {
        ((1..=Self::MAX_BURST).contains(&burst) && (1..=Self::MAX_PER_MINUTE).contains(&per_minute))
            .then_some(Self { burst, per_minute })
    }

    pub fn stored(self) -> String {
        format!("{},{}", self.burst, self.per_minute)
    }
}

/// The quota of every action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quotas(pub HashMap<Action, Quota>);

impl Default for Quotas {
    fn default() -> Self {
        Self(
            Action::ALL
                .into_iter()
                .map(|a| (a, Quota::default_for(a)))
                .collect(),
        )
    }
}

impl Quotas {
    pub fn get(&self, action: Action) -> Quota {
        self.0
            .get(&action)
            .copied()
            .unwrap_or_else(|| Quota::default_for(action))
    }
}

/// `KANTLIJN_RATE_LIMITS`: on (the default), off (except the login limit), or off
/// including login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    On,
    Off,
    OffIncludingLogin,
}

impl Mode {
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "" | "on" => Some(Self::On),
            "off" => Some(Self::Off),
            "off-including-login" => Some(Self::OffIncludingLogin),
            _ => None,
        }
    }

    /// Whether the limit of `action` is enforced.
    pub fn applies(self, action: Action) -> bool {
        match self {
            Self::On => true,
            Self::Off => action == Action::Login,
            Self::OffIncludingLogin => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_parse_and_check_their_bounds() {
        assert_eq!(
            Quota::parse("3,2"),
            Some(Quota {
                burst: 3,
                per_minute: 2
            })
        );
        assert_eq!(
            Quota::parse(
                &Quota {
                    burst: 7,
                    per_minute: 9
                }
                .stored()
            ),
            Some(Quota {
                burst: 7,
                per_minute: 9
            })
        );
        for bad in ["", "3", "0,1", "1,0", "a,b", "100001,1"] {
            assert_eq!(Quota::parse(bad), None, "{bad:?}");
        }
    }
}
