//! Credentials, MESSAGE-INTEGRITY(-SHA256) keys and FINGERPRINT (RFC 8489 sections 9, 14.5-14.7).
//!
//! # Scope of string preparation
//! RFC 8489 passes passwords through OpaqueString (RFC 8265) and, for long-term credentials,
//! the realm too. For printable ASCII, which is what ICE (RFC 8445 section 5.3: `ice-pwd` is
//! ASCII) and most TURN deployments use, OpaqueString is the identity. This crate does *not*
//! implement Unicode normalisation: callers with non-ASCII passwords must pass the prepared
//! string (e.g. RFC 5769 section 2.4 uses the SASLprep output `TheMatrIX`).

use md5::{Digest, Md5};
use ring::{digest, hmac};
use sha1::Sha1;

/// HMAC-SHA1 (RFC 2104) with the key schedule done once: the hash states after absorbing the
/// inner and outer padded keys are kept and cloned per message. Built on RustCrypto's SHA-1,
/// which uses the CPU's SHA extensions when present (ring's SHA-1 is portable code).
#[derive(Clone)]
struct HmacSha1 {
    inner: Sha1,
    outer: Sha1,
}

impl HmacSha1 {
    const BLOCK: usize = 64;

    fn new(key: &[u8]) -> Self {
        let mut block = [0u8; Self::BLOCK];
        if key.len() > Self::BLOCK {
            let d = Sha1::digest(key);
            if let Some(dst) = block.get_mut(..d.len()) {
                dst.copy_from_slice(&d);
            }
        } else if let Some(dst) = block.get_mut(..key.len()) {
            dst.copy_from_slice(key);
        }
        let mut ipad = block;
        ipad.iter_mut().for_each(|b| *b ^= 0x36);
        let mut opad = block;
        opad.iter_mut().for_each(|b| *b ^= 0x5c);
        let mut inner = Sha1::new();
        inner.update(ipad);
        let mut outer = Sha1::new();
        outer.update(opad);
        Self { inner, outer }
    }

    fn sign(&self, header: &[u8], body: &[u8]) -> [u8; 20] {
        let mut h = self.inner.clone();
        h.update(header);
        h.update(body);
        let inner = h.finalize();
        let mut o = self.outer.clone();
        o.update(inner);
        o.finalize().into()
    }
}

/// XOR constant of FINGERPRINT: "STUN" in ASCII (RFC 8489 section 14.7).
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// CRC-32 (ISO-HDLC, as in zlib), slice-by-16 tables.
static CRC32: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISO_HDLC);

/// The FINGERPRINT value of `bytes`: the message up to (not including) the FINGERPRINT
/// attribute, with the header length already covering it (RFC 8489 section 14.7).
pub fn fingerprint(bytes: &[u8]) -> u32 {
    CRC32.checksum(bytes) ^ FINGERPRINT_XOR
}

/// Password algorithms for long-term credentials (RFC 8489 section 18.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PasswordAlgorithm {
    /// 0x0001: MD5, the RFC 5389 key (16 bytes).
    Md5,
    /// 0x0002: SHA-256 (32 bytes).
    Sha256,
}

impl PasswordAlgorithm {
    /// The registered number.
    pub const fn number(self) -> u16 {
        match self {
            Self::Md5 => 0x0001,
            Self::Sha256 => 0x0002,
        }
    }

    /// From the registered number.
    pub const fn from_number(n: u16) -> Option<Self> {
        match n {
            0x0001 => Some(Self::Md5),
            0x0002 => Some(Self::Sha256),
            _ => None,
        }
    }
}

/// The long-term credential key (RFC 8489 section 9.2.2):
/// `MD5(username ":" realm ":" password)` or `SHA-256(...)`. Strings are used as given (see
/// the module docs on OpaqueString). Returns 16 or 32 bytes in a fixed array, with the length.
pub fn long_term_key(
    algorithm: PasswordAlgorithm,
    username: &str,
    realm: &str,
    password: &str,
) -> ([u8; 32], usize) {
    let mut out = [0u8; 32];
    match algorithm {
        PasswordAlgorithm::Md5 => {
            let mut h = Md5::new();
            h.update(username.as_bytes());
            h.update(b":");
            h.update(realm.as_bytes());
            h.update(b":");
            h.update(password.as_bytes());
            let d = h.finalize();
            if let Some(dst) = out.get_mut(..16) {
                dst.copy_from_slice(&d);
            }
            (out, 16)
        }
        PasswordAlgorithm::Sha256 => {
            let mut ctx = digest::Context::new(&digest::SHA256);
            ctx.update(username.as_bytes());
            ctx.update(b":");
            ctx.update(realm.as_bytes());
            ctx.update(b":");
            ctx.update(password.as_bytes());
            out.copy_from_slice(ctx.finish().as_ref());
            (out, 32)
        }
    }
}

/// USERHASH = SHA-256(username ":" realm) (RFC 8489 section 14.4).
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(username.as_bytes());
    ctx.update(b":");
    ctx.update(realm.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A pre-keyed HMAC key for MESSAGE-INTEGRITY (HMAC-SHA1) and MESSAGE-INTEGRITY-SHA256.
///
/// Building one does the HMAC key schedule for both hashes once; keep it for the lifetime of
/// the credential so that each check costs only the hashing of the message.
#[derive(Clone)]
pub struct IntegrityKey {
    sha1: HmacSha1,
    sha256: hmac::Key,
}

impl core::fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

impl IntegrityKey {
    /// From raw key bytes.
    pub fn new(key: &[u8]) -> Self {
        Self {
            sha1: HmacSha1::new(key),
            sha256: hmac::Key::new(hmac::HMAC_SHA256, key),
        }
    }

    /// Short-term credential (RFC 8489 section 9.1.1): key = OpaqueString(password), which is
    /// the password itself for the ASCII passwords ICE uses (see the module docs).
    pub fn short_term(password: &str) -> Self {
        Self::new(password.as_bytes())
    }

    /// Long-term credential (RFC 8489 section 9.2.2), see [`long_term_key`].
    pub fn long_term(
        algorithm: PasswordAlgorithm,
        username: &str,
        realm: &str,
        password: &str,
    ) -> Self {
        let (key, len) = long_term_key(algorithm, username, realm, password);
        Self::new(key.get(..len).unwrap_or_default())
    }

    /// HMAC-SHA1 over `header || body`.
    pub(crate) fn sign_sha1(&self, header: &[u8], body: &[u8]) -> [u8; 20] {
        self.sha1.sign(header, body)
    }

    /// HMAC-SHA256 over `header || body`.
    pub(crate) fn sign_sha256(&self, header: &[u8], body: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.sha256);
        ctx.update(header);
        ctx.update(body);
        ctx.sign()
    }

    pub(crate) fn verify_sha1(&self, header: &[u8], body: &[u8], tag: &[u8]) -> bool {
        constant_time_eq(&self.sign_sha1(header, body), tag)
    }

    /// `tag` may be truncated (16..=32 bytes, RFC 8489 section 14.6): the computed HMAC's
    /// prefix of the same length is compared.
    pub(crate) fn verify_sha256(&self, header: &[u8], body: &[u8], tag: &[u8]) -> bool {
        let full = self.sign_sha256(header, body);
        match full.as_ref().get(..tag.len()) {
            Some(prefix) if tag.len() >= 16 => constant_time_eq(prefix, tag),
            _ => false,
        }
    }
}

/// Compares two tags without an early exit, so the time taken does not reveal how many
/// leading bytes of a forged tag were right. ring's own helper is deprecated for external use
/// and `hmac::verify` needs contiguous input, which the rewritten STUN header prevents.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha1_matches_ring() {
        // Keys shorter than, equal to and longer than the block; RFC 2202 case 1 too.
        for key in [&b""[..], b"k", &[0x0b; 20], &[7; 64], &[9; 65], &[1; 200]] {
            for msg in [&b""[..], b"Hi There", &[0xdd; 150]] {
                let ours = HmacSha1::new(key).sign(&msg[..msg.len() / 3], &msg[msg.len() / 3..]);
                let theirs = hmac::sign(
                    &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
                    msg,
                );
                assert_eq!(&ours[..], theirs.as_ref());
            }
        }
        let t = HmacSha1::new(&[0x0b; 20]).sign(b"Hi ", b"There");
        assert_eq!(
            t,
            [
                0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b, 0xc0, 0xb6, 0xfb, 0x37,
                0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00
            ]
        );
    }

    #[test]
    fn ct_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn fingerprint_check_value() {
        // CRC-32/ISO-HDLC check value of "123456789" is 0xCBF43926.
        assert_eq!(fingerprint(b"123456789"), 0xCBF4_3926 ^ FINGERPRINT_XOR);
    }

    #[test]
    fn password_algorithm_numbers() {
        for a in [PasswordAlgorithm::Md5, PasswordAlgorithm::Sha256] {
            assert_eq!(PasswordAlgorithm::from_number(a.number()), Some(a));
        }
        assert_eq!(PasswordAlgorithm::from_number(3), None);
    }
}
