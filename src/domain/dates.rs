//! Dates the Dutch way: "28 november 2026", "3 minuten geleden".

use chrono::{DateTime, Datelike, Utc};

const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

/// A calendar date in Dutch: "1 augustus 2017".
pub fn long_date(at: DateTime<Utc>) -> String {
    format!(
        "{} {} {}",
        at.day(),
        MONTHS[at.month0() as usize],
        at.year()
    )
}

/// How long ago `at` was, seen from `now`, in Dutch.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - at).num_seconds().max(0);
    let (amount, one, many) = match seconds {
        0..60 => return "zojuist".to_owned(),
        60..3600 => (seconds / 60, "minuut", "minuten"),
        3600..86_400 => (seconds / 3600, "uur", "uur"),
        86_400..2_592_000 => (seconds / 86_400, "dag", "dagen"),
        _ => return long_date(at),
    };
    let unit = if amount == 1 { one } else { many };
    format!("{amount} {unit} geleden")
}

/// The exact moment in Dutch, in UTC: "28 november 2026, 09:05 UTC".
pub fn exact(at: DateTime<Utc>) -> String {
    format!("{}, {} UTC", long_date(at), at.format("%H:%M"))
}

/// An RFC 3339 timestamp for `<time datetime>`.
pub fn machine(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    #[test]
    fn long_date_uses_dutch_months() {
        assert_eq!(long_date(at(2017, 8, 1, 0, 0, 0)), "1 augustus 2017");
        assert_eq!(long_date(at(2026, 3, 31, 23, 0, 0)), "31 maart 2026");
    }

    #[test]
    fn relative_dates_in_dutch() {
        let now = at(2026, 11, 28, 12, 0, 0);
        let cases = [
            (at(2026, 11, 28, 11, 59, 30), "zojuist"),
            (at(2026, 11, 28, 11, 59, 0), "1 minuut geleden"),
            (at(2026, 11, 28, 11, 15, 0), "45 minuten geleden"),
            (at(2026, 11, 28, 9, 0, 0), "3 uur geleden"),
            (at(2026, 11, 27, 12, 0, 0), "1 dag geleden"),
            (at(2026, 11, 10, 12, 0, 0), "18 dagen geleden"),
            (at(2026, 1, 5, 12, 0, 0), "5 januari 2026"),
            (at(2026, 11, 28, 12, 5, 0), "zojuist"),
        ];
        for (when, expected) in cases {
            assert_eq!(relative(when, now), expected);
        }
    }

    #[test]
    fn exact_time_names_the_zone() {
        assert_eq!(
            exact(at(2026, 11, 28, 9, 5, 0)),
            "28 november 2026, 09:05 UTC"
        );
    }

    #[test]
    fn machine_time_is_rfc3339() {
        assert_eq!(machine(at(2026, 11, 28, 9, 5, 0)), "2026-11-28T09:05:00Z");
    }
}
