//! Stateless nonces (RFC 8489 section 9.2; RFC 8656 section 7.2): the server keeps no
//! table of issued nonces. A nonce is
//! `"obMatJos2" + features + expiry + tag` where the first 13 characters are the RFC 8489
//! section 9.2 nonce cookie with the "password algorithms" security feature bit set (so
//! clients may negotiate SHA-256), `expiry` is 8 hex digits of seconds since the server
//! started, and `tag` is 16 hex digits of HMAC-SHA256(server secret, expiry || client
//! 5-tuple). A nonce is therefore valid only for the client transport address it was issued
//! to, only until it expires, and cannot be forged without the server secret; a replayed
//! request from another address or after expiry gets 438 Stale Nonce.

use core::net::SocketAddr;
use std::time::{Duration, Instant};

use ring::hmac;

/// RFC 8489 section 9.2: the nonce cookie, then 4 base64 characters of 24 feature bits;
/// bit 0 (the most significant) is "Password algorithms".
pub const NONCE_PREFIX: &str = "obMatJos2gAAA";
const EXPIRY_HEX: usize = 8;
const TAG_HEX: usize = 16;
/// Length of every nonce this module issues.
pub const NONCE_LEN: usize = NONCE_PREFIX.len() + EXPIRY_HEX + TAG_HEX;

/// Issues and checks nonces with a server secret.
pub struct NonceKey {
    key: hmac::Key,
    epoch: Instant,
    lifetime: Duration,
}

impl core::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceKey")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// The verdict on a received nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NonceCheck {
    /// Issued by us, for this client, not expired.
    Valid,
    /// Expired, forged, malformed, or issued to another client address: answer 438.
    Stale,
}

impl NonceKey {
    /// A key from 32 secret bytes; `epoch` is the server's start, `lifetime` how long a
    /// nonce is accepted.
    pub fn new(secret: &[u8; 32], epoch: Instant, lifetime: Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            epoch,
            lifetime,
        }
    }

    fn tag(&self, expiry: u32, client: SocketAddr) -> [u8; 8] {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&expiry.to_be_bytes());
        match client {
            SocketAddr::V4(a) => ctx.update(&a.ip().octets()),
            SocketAddr::V6(a) => ctx.update(&a.ip().octets()),
        }
        ctx.update(&client.port().to_be_bytes());
        let t = ctx.sign();
        let mut out = [0u8; 8];
        for (o, i) in out.iter_mut().zip(t.as_ref()) {
            *o = *i;
        }
        out
    }

    fn secs(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    /// A fresh nonce for `client`, valid for the configured lifetime.
    pub fn issue(&self, now: Instant, client: SocketAddr) -> String {
        let expiry = u32::try_from(self.secs(now).saturating_add(self.lifetime.as_secs()))
            .unwrap_or(u32::MAX);
        let mut s = String::with_capacity(NONCE_LEN);
        s.push_str(NONCE_PREFIX);
        push_hex(&mut s, &expiry.to_be_bytes());
        push_hex(&mut s, &self.tag(expiry, client));
        s
    }

    /// Checks a nonce received from `client`. Comparison of the tag is constant time.
    pub fn check(&self, now: Instant, client: SocketAddr, nonce: &str) -> NonceCheck {
        let Some(rest) = nonce.strip_prefix(NONCE_PREFIX) else {
            return NonceCheck::Stale;
        };
        if rest.len() != EXPIRY_HEX + TAG_HEX {
            return NonceCheck::Stale;
        }
        let (exp_hex, tag_hex) = rest.split_at(EXPIRY_HEX);
        let (Some(exp), Some(tag)) = (parse_hex::<4>(exp_hex), parse_hex::<8>(tag_hex)) else {
            return NonceCheck::Stale;
        };
        let expiry = u32::from_be_bytes(exp);
        let want = self.tag(expiry, client);
        let mut diff = 0u8;
        for (a, b) in want.iter().zip(tag.iter()) {
            diff |= a ^ b;
        }
        if diff != 0 || u64::from(expiry) <= self.secs(now) {
            return NonceCheck::Stale;
        }
        NonceCheck::Valid
    }
}

fn push_hex(s: &mut String, bytes: &[u8]) {
    const H: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        for nib in [b >> 4, b & 15] {
            s.push(char::from(H.get(usize::from(nib)).copied().unwrap_or(b'0')));
        }
    }
}

fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let hi = char::from(*pair.first()?).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *o = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_lifecycle() {
        let t0 = Instant::now();
        let k = NonceKey::new(&[7; 32], t0, Duration::from_secs(600));
        let a: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        let b: SocketAddr = "198.51.100.1:5001".parse().unwrap();
        let n = k.issue(t0, a);
        assert_eq!(n.len(), NONCE_LEN);
        assert!(n.starts_with("obMatJos2"));
        assert_eq!(k.check(t0, a, &n), NonceCheck::Valid);
        assert_eq!(
            k.check(t0 + Duration::from_secs(599), a, &n),
            NonceCheck::Valid
        );
        assert_eq!(
            k.check(t0 + Duration::from_secs(600), a, &n),
            NonceCheck::Stale
        );
        assert_eq!(k.check(t0, b, &n), NonceCheck::Stale, "other client");
        // a different server secret does not accept it
        let k2 = NonceKey::new(&[8; 32], t0, Duration::from_secs(600));
        assert_eq!(k2.check(t0, a, &n), NonceCheck::Stale);
        // tampering with the expiry breaks the tag
        let mut forged = n.clone().into_bytes();
        forged[NONCE_PREFIX.len()] = b'f';
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(k.check(t0, a, &forged), NonceCheck::Stale);
        for bad in [
            "",
            "obMatJos2gAAA",
            "abc",
            &n[..n.len() - 1],
            &format!("{n}0"),
        ] {
            assert_eq!(k.check(t0, a, bad), NonceCheck::Stale, "{bad}");
        }
        let nonhex = format!("{}{}", NONCE_PREFIX, "zz".repeat(12));
        assert_eq!(k.check(t0, a, &nonhex), NonceCheck::Stale);
    }
}
