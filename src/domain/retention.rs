//! How long personal data is kept (DESIGN.md "Privacy (AVG)"): the periods admins set,
//! with their defaults and bounds.

/// The retention periods, in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// A reaction's address hash is cleared this long after it was posted.
    pub ip_days: u32,
    /// Pending and spam reactions nobody handled this long are removed.
    pub unhandled_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            ip_days: 30,
            unhandled_days: 30,
        }
    }
}

impl Retention {
    /// The shortest period an admin may set: a day.
    pub const MIN_DAYS: u32 = 1;
    /// The longest: ten years.
    pub const MAX_DAYS: u32 = 3650;

    /// A period as a form or the settings table holds it: whole days within the bounds.
    pub fn parse_days(value: &str) -> Option<u32> {
        value
            .trim()
            .parse()
            .ok()
            .filter(|days| (Self::MIN_DAYS..=Self::MAX_DAYS).contains(days))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_days_within_bounds() {
        assert_eq!(Retention::parse_days(" 30 "), Some(30));
        assert_eq!(Retention::parse_days("1"), Some(1));
        assert_eq!(Retention::parse_days("3650"), Some(3650));
        for bad in ["0", "-1", "3651", "", "30.5", "dertig"] {
            assert_eq!(Retention::parse_days(bad), None, "{bad}");
        }
    }
}
