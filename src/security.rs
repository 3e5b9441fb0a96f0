//! Secrets at work: keys derived from the site secret, random tokens, password hashes.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::Secret;

type HmacSha256 = Hmac<Sha256>;

/// A client's address as reactions store it and bans match it (HMAC-SHA256, hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressHash {
    /// Stored with a reaction, and what a ban made from it holds: of an IPv4 address, or
    /// of an IPv6 one's /64, so that a ban is not dodged by moving within the /64 one
    /// subscriber holds.
    pub stored: String,
    /// Of the whole IPv6 address, as reactions stored before bans covered the /64 hold
    /// it: a ban made from one of those still matches.
    pub whole_address: Option<String>,
}

impl AddressHash {
    /// A hash made from something other than a client address (the demo's posters).
    pub fn of(stored: String) -> Self {
        Self {
            stored,
            whole_address: None,
        }
    }

    /// Every hash a ban on this client may hold.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.stored.as_str()).chain(self.whole_address.as_deref())
    }
}

/// Purpose-bound keys, each derived from the site secret so that one leaked token
/// kind says nothing about another.
#[derive(Clone)]
pub struct Keys {
    csrf: [u8; 32],
    ip: [u8; 32],
    signing: [u8; 32],
    voter: [u8; 32],
}

impl Keys {
    pub fn derive(secret: &Secret) -> Self {
        Self {
            csrf: derive_key(secret, b"kantlijn/csrf/v1"),
            ip: derive_key(secret, b"kantlijn/ip-hash/v1"),
            signing: derive_key(secret, b"kantlijn/signing/v1"),
            voter: derive_key(secret, b"kantlijn/voter/v1"),
        }
    }

    /// The form token that belongs to a browser's CSRF cookie value.
    pub fn csrf_token(&self, cookie_value: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac(&self.csrf, cookie_value.as_bytes()))
    }

    /// Checks a submitted form token against the browser's CSRF cookie, in constant time.
    pub fn csrf_token_is_valid(&self, cookie_value: &str, token: &str) -> bool {
        let Ok(token) = URL_SAFE_NO_PAD.decode(token) else {
            return false;
        };
        let mut mac = mac_with(&self.csrf);
        mac.update(cookie_value.as_bytes());
        mac.verify_slice(&token).is_ok()
    }

    /// HMAC-SHA256 (hex) of a client address; raw addresses are never stored.
    pub fn ip_hash(&self, ip: &str) -> String {
        hex::encode(hmac(&self.ip, ip.as_bytes()))
    }

    /// HMAC-SHA256 (hex) of the random id in a browser's vote cookie: what a vote
    /// stores, so the stored row cannot be turned back into the cookie.
    pub fn voter_hash(&self, voter_id: &str) -> String {
        hex::encode(hmac(&self.voter, voter_id.as_bytes()))
    }

    /// Signs `payload` as `payload.signature` for a cookie or a hidden field.
    pub fn sign(&self, payload: &str) -> String {
        format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(hmac(&self.signing, payload.as_bytes()))
        )
    }

    /// Returns the payload of a value made by [`Keys::sign`] when the signature holds.
    pub fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (payload, signature) = signed.rsplit_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = mac_with(&self.signing);
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).ok().map(|()| payload)
    }
}

#[allow(
    clippy::expect_used,
    reason = "HMAC takes a key of any length: new_from_slice cannot fail"
)]
fn mac_with(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes any key length")
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = mac_with(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn derive_key(secret: &Secret, purpose: &[u8]) -> [u8; 32] {
    hmac(secret.expose(), purpose)
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case).
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// Whether two secrets are equal, in time that does not depend on where they differ
/// (their SHA-256 digests are compared, so not even on their lengths).
pub fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let expected = Sha256::digest(expected);
    let given = Sha256::digest(given);
    expected
        .iter()
        .zip(given.iter())
        .fold(0u8, |diff, (a, b)| diff | (a ^ b))
        == 0
}

/// The check of a site secret kept in the database: a key derived from it for no other
/// use, so it tells whether a secret is the same without saying anything of it.
pub fn secret_check(secret: &Secret) -> String {
    hex::encode(derive_key(secret, b"kantlijn/secret-check/v1"))
}

/// A fresh random token of 256 bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token: recognisable by its prefix, 256 random bits.
pub fn new_api_token() -> String {
    format!("klt_{}", random_token())
}

/// A readable random password for generated accounts.
pub fn random_password() -> String {
    random_token()[..20].to_owned()
}

/// SHA-256 (hex) of a token, as stored in the database.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An argon2id hash in PHC format.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
}

/// How many password hashes may be computed at once: one per core, at most four. Each
/// takes 19 MiB and a core for tens of milliseconds; a crowd of failed logins from many
/// addresses queues here instead of taking the memory and every core of the site.
fn hashing_slots() -> std::sync::Arc<tokio::sync::Semaphore> {
    static SLOTS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::LazyLock::new(|| {
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
            std::sync::Arc::new(tokio::sync::Semaphore::new(cores.clamp(1, 4)))
        });
    std::sync::Arc::clone(&SLOTS)
}

/// Makes glibc give memory blocks of 4 MiB and more back to the system when they are
/// freed. By default its threshold for that grows to the largest block freed, so each
/// of the blocking threads that ran an argon2 hash kept its 19 MiB in an arena of its
/// own: 256 failed logins from 64 clients left 495 MB resident (66 MB with this).
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Runs a password hash off the async threads, waiting for one of the few slots.
pub async fn with_hashing_slot<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let slot = hashing_slots()
        .acquire_owned()
        .await
        .map_err(|e| anyhow::anyhow!("the password hashing slots are closed: {e}"))?;
    // The slot goes with the work: a client that hangs up drops this future, not the
    // hash already running, so the slot must stay taken until the hash is done.
    tokio::task::spawn_blocking(move || {
        let done = work();
        drop(slot);
        done
    })
    .await
    .map_err(|e| anyhow::anyhow!("password hashing stopped: {e}"))
}

/// Checks a password against a stored hash; a malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .and_then(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed))
        .is_ok()
}

/// A hash to verify against when the user does not exist, so that a wrong name takes
/// as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    #[allow(
        clippy::expect_used,
        reason = "hashing a constant with default parameters"
    )]
    static HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash_password("kantlijn-dummy-password").expect("hashing a constant password works")
    });
    &HASH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::derive(&Secret::parse(&"s".repeat(40)).unwrap())
    }

    #[test]
    fn csrf_token_matches_only_its_cookie() {
        let keys = keys();
        let token = keys.csrf_token("cookie-a");
        assert!(keys.csrf_token_is_valid("cookie-a", &token));
        assert!(!keys.csrf_token_is_valid("cookie-b", &token));
        assert!(!keys.csrf_token_is_valid("cookie-a", "niet-base64!"));
        let other = Keys::derive(&Secret::parse(&"t".repeat(40)).unwrap());
        assert!(!other.csrf_token_is_valid("cookie-a", &token));
    }

    #[test]
    fn signed_values_round_trip_and_reject_tampering() {
        let keys = keys();
        let signed = keys.sign("42:1700000000");
        assert_eq!(keys.verify(&signed), Some("42:1700000000"));
        assert_eq!(keys.verify(&signed.replace("42", "43")), None);
        assert_eq!(keys.verify("zonder-punt"), None);
    }

    #[test]
    fn ip_hash_is_keyed_and_stable() {
        let keys = keys();
        assert_eq!(keys.ip_hash("192.0.2.1"), keys.ip_hash("192.0.2.1"));
        assert_ne!(keys.ip_hash("192.0.2.1"), keys.ip_hash("192.0.2.2"));
        assert_eq!(keys.ip_hash("192.0.2.1").len(), 64);
        assert_ne!(
            keys.ip_hash("192.0.2.1"),
            hex::encode(Sha256::digest(b"192.0.2.1"))
        );
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct paard batterij").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct paard batterij", &hash));
        assert!(!verify_password("fout", &hash));
        assert!(!verify_password("x", "geen hash"));
    }

    /// However many logins arrive at once, no more hashes run than there are slots.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn password_hashing_runs_a_few_at_a_time() {
        use std::sync::{
            Arc,
            atomic::{AtomicUsize, Ordering},
        };
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let (running, most) = (Arc::clone(&running), Arc::clone(&most));
                tokio::spawn(with_hashing_slot(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        // Half the callers give up at once, as clients that hang up do; their hashes
        // run on and keep their slots.
        for (n, task) in tasks.into_iter().enumerate() {
            if n % 2 == 0 {
                task.abort();
            } else {
                let _ = task.await;
            }
        }
        while running.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let slots = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        assert_eq!(most.load(Ordering::SeqCst), slots.clamp(1, 4));
    }

    #[test]
    fn tokens_are_random_and_hash_to_hex() {
        assert_ne!(random_token(), random_token());
        assert_eq!(token_hash("abc").len(), 64);
    }
}
