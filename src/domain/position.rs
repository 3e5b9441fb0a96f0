//! Where a page of a list ordered by a time and an id continues, as the text a client
//! passes back: `{seconds}.{nanoseconds}_{id}`. Every text [`Position::PATTERN`] matches
//! is a position (the page after it may be empty), so the API spec can say exactly which
//! cursors the server takes.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::Regex;

/// A keyset position: after the row with this `(at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub at: DateTime<Utc>,
    pub id: i64,
}

/// Within chrono's range (about 262 000 years either side of 1970) for any 12 digits, so
/// every match decodes; ids are 10 digits at most, which an `i64` always holds.
#[allow(clippy::expect_used, reason = "a constant, read by the tests")]
static SHAPE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(Position::PATTERN).expect("Position::PATTERN is a valid regex"));

#[allow(clippy::expect_used, reason = "a constant, read by the tests")]
static EARLIEST: LazyLock<DateTime<Utc>> = LazyLock::new(|| {
    "0001-01-01T00:00:00Z"
        .parse()
        .expect("a valid RFC 3339 time")
});
#[allow(clippy::expect_used, reason = "a constant, read by the tests")]
static LATEST: LazyLock<DateTime<Utc>> = LazyLock::new(|| {
    "9999-12-31T23:59:59.999999Z"
        .parse()
        .expect("a valid RFC 3339 time")
});

impl Position {
    pub const PATTERN: &str = r"^(-?[0-9]{1,12})\.([0-9]{9})_([0-9]{1,10})$";

    pub fn encode(self) -> String {
        let nanos = self.at.timestamp_subsec_nanos().min(999_999_999);
        format!("{}.{nanos:09}_{}", self.at.timestamp(), self.id)
    }

    /// Times outside the years 1 to 9999 are held at those ends: both databases store
    /// and compare times within them (SQLite as text), and no row lies beyond them.
    pub fn decode(text: &str) -> Option<Self> {
        let parts = SHAPE.captures(text)?;
        let at = DateTime::from_timestamp(parts[1].parse().ok()?, parts[2].parse().ok()?)?;
        Some(Self {
            at: at.clamp(*EARLIEST, *LATEST),
            id: parts[3].parse().ok()?,
        })
    }
}

/// A position in a list ordered by id alone (the moderation queue): up to 10 digits.
pub struct IdPosition;

impl IdPosition {
    pub const PATTERN: &str = r"^[0-9]{1,10}$";

    pub fn decode(text: &str) -> Option<i64> {
        let digits =
            text.len() <= 10 && !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| text.parse().ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_every_match_decodes() {
        let now = Position {
            at: Utc::now(),
            id: 42,
        };
        assert_eq!(Position::decode(&now.encode()), Some(now));
        let far = Position::decode("999999999999.000000000_1").unwrap();
        assert_eq!(far.at, *LATEST, "held at the end of year 9999");
        for text in [
            "0.000000000_0",
            "-999999999999.999999999_9999999999",
            "999999999999.000000001_0000000001",
        ] {
            assert!(Position::decode(text).is_some(), "{text}");
        }
        for text in [
            "",
            "kapot",
            "1.5_3",
            "1.000000000_",
            "+1.000000000_1",
            "1.000000000_1 ",
        ] {
            assert_eq!(Position::decode(text), None, "{text}");
        }
    }

    #[test]
    fn id_positions_are_plain_digits() {
        assert_eq!(IdPosition::decode("0042"), Some(42));
        assert_eq!(IdPosition::decode("9999999999"), Some(9_999_999_999));
        for text in ["", "-1", "+1", "12345678901", "1 "] {
            assert_eq!(IdPosition::decode(text), None, "{text}");
        }
    }
}
