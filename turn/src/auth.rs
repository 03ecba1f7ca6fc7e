//! Long-term credentials (RFC 8489 section 9.2) for the TURN server: the
//! [`CredentialStore`] trait, a static user table, and coturn-style time-limited
//! credentials (`use-auth-secret`: username `expiry:user`, password
//! base64(HMAC-SHA1(secret, username))). The long-term key derivation itself (RFC 8489
//! section 9.2.2, MD5 or SHA-256) is the STUN crate's [`IntegrityKey::long_term`].

use std::collections::HashMap;

use ring::hmac;

pub use sansrtc_stun::{IntegrityKey, PasswordAlgorithm};

/// Where a TURN server finds passwords.
pub trait CredentialStore: Send + Sync {
    /// The password of `username` in `realm`, or `None` if the user is unknown or its
    /// credential has expired. `unix_now` is the wall-clock time in seconds since the Unix
    /// epoch when the caller knows it (time-limited credentials need it; the server core
    /// never reads a clock).
    fn password(&self, username: &str, realm: &str, unix_now: Option<u64>) -> Option<String>;
}

/// A fixed table of `user -> password` (coturn's `user=U:P`).
#[derive(Clone, Debug, Default)]
pub struct StaticUsers {
    users: HashMap<String, String>,
}

impl StaticUsers {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a user.
    pub fn with_user(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.insert(user.into(), password.into());
        self
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True if there are no users.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl CredentialStore for StaticUsers {
    fn password(&self, username: &str, _realm: &str, _unix_now: Option<u64>) -> Option<String> {
        self.users.get(username).cloned()
    }
}

/// Time-limited credentials from a shared secret, as coturn's `use-auth-secret` and the
/// "TURN REST API" draft: the username is `expiry` or `expiry:user` (expiry in Unix
/// seconds), the password is base64(HMAC-SHA1(secret, username)). Expired usernames, and
/// any username when the wall-clock time is unknown, are refused.
#[derive(Clone)]
pub struct TimeLimitedCredentials {
    key: hmac::Key,
}

impl core::fmt::Debug for TimeLimitedCredentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TimeLimitedCredentials { .. }")
    }
}

impl TimeLimitedCredentials {
    /// From the shared secret.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret),
        }
    }

    /// The password for `username`: base64(HMAC-SHA1(secret, username)).
    pub fn password_for(&self, username: &str) -> String {
        base64_encode(hmac::sign(&self.key, username.as_bytes()).as_ref())
    }

    /// A username valid until `expiry` (Unix seconds) for `user`, and its password.
    pub fn issue(&self, expiry: u64, user: &str) -> (String, String) {
        let username = format!("{expiry}:{user}");
        let password = self.password_for(&username);
        (username, password)
    }
}

impl CredentialStore for TimeLimitedCredentials {
    fn password(&self, username: &str, _realm: &str, unix_now: Option<u64>) -> Option<String> {
        let expiry_text = username.split(':').next()?;
        let expiry: u64 = expiry_text.parse().ok()?;
        if expiry < unix_now? {
            return None;
        }
        Some(self.password_for(username))
    }
}

/// Tries each store in order (e.g. static users, then time-limited credentials).
pub struct AnyOf(pub Vec<Box<dyn CredentialStore>>);

impl CredentialStore for AnyOf {
    fn password(&self, username: &str, realm: &str, unix_now: Option<u64>) -> Option<String> {
        self.0
            .iter()
            .find_map(|s| s.password(username, realm, unix_now))
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 section 4); a few lines are cheaper than a crate.
pub fn base64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    let sym = |i: u32| char::from(B64.get((i & 63) as usize).copied().unwrap_or(b'A'));
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        // RFC 4648 section 10.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(i.as_bytes()), o);
        }
        assert_eq!(base64_encode(&[0xff, 0xfe, 0xfd]), "//79");
    }

    #[test]
    fn time_limited_matches_coturn_formula() {
        // Computed independently with:
        //   printf '1700000000:alice' | openssl dgst -sha1 -hmac secret -binary | base64
        let t = TimeLimitedCredentials::new(b"secret");
        let (u, p) = t.issue(1_700_000_000, "alice");
        assert_eq!(u, "1700000000:alice");
        assert_eq!(p, "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
        assert_eq!(t.password(&u, "r", Some(1_600_000_000)), Some(p.clone()));
        assert_eq!(t.password(&u, "r", Some(1_700_000_000)), Some(p));
        assert_eq!(t.password(&u, "r", Some(1_700_000_001)), None, "expired");
        assert_eq!(t.password(&u, "r", None), None, "no clock");
        assert_eq!(t.password("alice", "r", Some(0)), None, "no expiry");
        assert_eq!(t.password("", "r", Some(0)), None);
    }

    #[test]
    fn static_and_any_of() {
        let s = StaticUsers::new().with_user("u", "p");
        assert_eq!(s.password("u", "r", None).as_deref(), Some("p"));
        assert_eq!(s.password("x", "r", None), None);
        let any = AnyOf(vec![
            Box::new(s),
            Box::new(TimeLimitedCredentials::new(b"k")),
        ]);
        assert_eq!(any.password("u", "r", None).as_deref(), Some("p"));
        assert!(any.password("99999999999:z", "r", Some(1)).is_some());
    }
}
