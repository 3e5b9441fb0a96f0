//! The signed tokens in the links the site mails: confirming reply notifications,
//! unsubscribing (a reader's notifications, a staff member's digest) and a privacy
//! request. Each names a row by id under the site's signing key with a purpose of its
//! own, so a token made for one purpose is worthless for another; none carries an
//! address, so no address ends up in a URL or an access log.

use chrono::{DateTime, Utc};

use crate::security::Keys;

/// How long a privacy link works.
pub const PRIVACY_LINK_HOURS: i64 = 24;

/// Who an unsubscribe link stops mail to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsubscribe {
    /// A reader's reply notifications (a `mail_subscribers` id).
    Reader(i32),
    /// A staff member's digest (a `users` id).
    Digest(i32),
}

/// The token of the double opt-in link for a `mail_subscribers` row.
pub fn confirm_token(keys: &Keys, subscriber_id: i32) -> String {
    keys.sign(&format!("confirm-{subscriber_id}"))
}

/// The `mail_subscribers` id a confirmation token names, when its signature holds.
pub fn parse_confirm(keys: &Keys, token: &str) -> Option<i32> {
    keys.verify(token)?.strip_prefix("confirm-")?.parse().ok()
}

pub fn unsubscribe_token(keys: &Keys, who: Unsubscribe) -> String {
    match who {
        Unsubscribe::Reader(id) => keys.sign(&format!("unsubscribe-r{id}")),
        Unsubscribe::Digest(id) => keys.sign(&format!("unsubscribe-d{id}")),
    }
}

pub fn parse_unsubscribe(keys: &Keys, token: &str) -> Option<Unsubscribe> {
    let rest = keys.verify(token)?.strip_prefix("unsubscribe-")?;
    if let Some(id) = rest.strip_prefix('r') {
        return id.parse().ok().map(Unsubscribe::Reader);
    }
    rest.strip_prefix('d')?
        .parse()
        .ok()
        .map(Unsubscribe::Digest)
}

/// The token of a privacy link: a `privacy_requests` row until it expires.
pub fn privacy_token(keys: &Keys, request_id: i32, expires_at: DateTime<Utc>) -> String {
    keys.sign(&format!("privacy-{request_id}-{}", expires_at.timestamp()))
}

/// The `privacy_requests` id a privacy token names, when its signature holds and it has
/// not expired at `now`.
pub fn parse_privacy(keys: &Keys, token: &str, now: DateTime<Utc>) -> Option<i32> {
    let rest = keys.verify(token)?.strip_prefix("privacy-")?;
    let (id, expires) = rest.split_once('-')?;
    let expires: i64 = expires.parse().ok()?;
    (now.timestamp() < expires).then_some(())?;
    id.parse().ok()
}

/// An absolute link to `path` (without its leading `/`) on the site at `base`.
pub fn absolute(base: &url::Url, path: &str) -> String {
    base.join(path.trim_start_matches('/'))
        .map_or_else(|_| format!("{base}{path}"), String::from)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::config::Secret;

    fn keys() -> Keys {
        Keys::derive(&Secret::parse("a-test-secret-that-is-long-enough-123").unwrap())
    }

    #[test]
    fn each_token_works_for_its_purpose_only() {
        let keys = keys();
        let confirm = confirm_token(&keys, 7);
        assert_eq!(parse_confirm(&keys, &confirm), Some(7));
        assert_eq!(parse_unsubscribe(&keys, &confirm), None);
        let reader = unsubscribe_token(&keys, Unsubscribe::Reader(7));
        let digest = unsubscribe_token(&keys, Unsubscribe::Digest(7));
        assert_eq!(
            parse_unsubscribe(&keys, &reader),
            Some(Unsubscribe::Reader(7))
        );
        assert_eq!(
            parse_unsubscribe(&keys, &digest),
            Some(Unsubscribe::Digest(7))
        );
        assert_eq!(parse_confirm(&keys, &reader), None);
        let forged = reader.replace("r7", "r8");
        assert_eq!(parse_unsubscribe(&keys, &forged), None);
        let other = Keys::derive(&Secret::parse("another-secret-that-is-long-enough-99").unwrap());
        assert_eq!(parse_confirm(&other, &confirm), None);
    }

    #[test]
    fn a_privacy_token_expires() {
        let keys = keys();
        let now = Utc::now();
        let token = privacy_token(&keys, 3, now + Duration::hours(PRIVACY_LINK_HOURS));
        assert_eq!(parse_privacy(&keys, &token, now), Some(3));
        assert_eq!(
            parse_privacy(&keys, &token, now + Duration::hours(25)),
            None
        );
        assert_eq!(
            parse_privacy(&keys, "privacy-3-99999999999.AAAA", now),
            None
        );
        assert!(!token.contains('@') && !token.contains('/'), "{token}");
    }

    #[test]
    fn links_keep_the_sites_path() {
        let base = url::Url::parse("https://example.nl/blog/").unwrap();
        assert_eq!(
            absolute(&base, "/privacy/x"),
            "https://example.nl/blog/privacy/x"
        );
    }
}
