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
use sha1::digest::generic_array::GenericArray;
use sha1::digest::typenum::U64;

/// The SHA-1 chaining value before the first block (FIPS 180-4 section 5.3.1).
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// One SHA-1 compression of a full block, straight into RustCrypto's block function (SHA-NI
/// when the CPU has it), without the generic hasher's buffering.
#[inline(always)]
fn compress_block(state: &mut [u32; 5], block: &[u8; 64]) {
    let block: &GenericArray<u8, _> = block.into();
    sha1::compress(state, core::slice::from_ref(block));
}

/// SHA-1 from a precomputed chaining value (the HMAC key block already absorbed): full 64-byte
/// blocks of the input go to the compression function directly, only the partial ones are
/// copied.
struct Sha1Stream {
    state: [u32; 5],
    block: [u8; 64],
    fill: usize,
    /// Bytes hashed so far, including the key block.
    len: u64,
}

impl Sha1Stream {
    #[inline(always)]
    fn resume(state: [u32; 5]) -> Self {
        Self {
            state,
            block: [0; 64],
            fill: 0,
            len: 64,
        }
    }

    #[inline(always)]
    fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.fill != 0 {
            let free = self.block.get_mut(self.fill..).unwrap_or_default();
            let n = free.len().min(data.len());
            let (head, rest) = data.split_at(n);
            if let Some(dst) = free.get_mut(..n) {
                dst.copy_from_slice(head);
            }
            self.fill += n;
            data = rest;
            if self.fill < 64 {
                return;
            }
            compress_block(&mut self.state, &self.block);
            self.fill = 0;
        }
        let mut chunks = data.chunks_exact(64);
        for c in &mut chunks {
            if let Ok(c) = <&[u8; 64]>::try_from(c) {
                compress_block(&mut self.state, c);
            }
        }
        let rest = chunks.remainder();
        if let Some(dst) = self.block.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.fill = rest.len();
    }

    /// Pads (0x80, zeros, 64-bit bit length) and returns the final state (the digest words).
    #[inline(always)]
    fn finish(mut self) -> [u32; 5] {
        let bits = self.len.wrapping_mul(8).to_be_bytes();
        if let Some(b) = self.block.get_mut(self.fill) {
            *b = 0x80;
        }
        if let Some(tail) = self.block.get_mut(self.fill + 1..) {
            tail.fill(0);
        }
        if self.fill >= 56 {
            compress_block(&mut self.state, &self.block);
            self.block = [0; 64];
        }
        let (_, len_field) = self.block.split_at_mut(56);
        len_field.copy_from_slice(&bits);
        compress_block(&mut self.state, &self.block);
        self.state
    }
}

#[inline(always)]
fn digest_bytes(state: &[u32; 5]) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (dst, w) in out.chunks_exact_mut(4).zip(state) {
        dst.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// HMAC-SHA1 (RFC 2104) with the key schedule done once: the SHA-1 chaining values after
/// absorbing the inner and outer padded keys are kept (20 bytes each), so a message costs
/// only its own blocks plus one outer block.
#[derive(Clone)]
struct HmacSha1 {
    inner: [u32; 5],
    outer: [u32; 5],
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
        let mut inner = SHA1_IV;
        compress_block(&mut inner, &ipad);
        let mut outer = SHA1_IV;
        compress_block(&mut outer, &opad);
        Self { inner, outer }
    }

    /// Longest `header || body` whose inner hash fits in two blocks with its padding
    /// (0x80 and the 8-byte length): every ICE connectivity check without long attributes.
    const TWO_BLOCKS: usize = 128 - 9;

    #[inline]
    fn sign(&self, header: &[u8], body: &[u8]) -> [u8; 20] {
        digest_bytes(&self.sign_words(header, body))
    }

    /// The HMAC as the five big-endian words of the outer SHA-1 state.
    #[inline]
    fn sign_words(&self, header: &[u8], body: &[u8]) -> [u32; 5] {
        let inner = match <&[u8; 20]>::try_from(header) {
            Ok(h) if body.len() <= Self::TWO_BLOCKS - 20 => self.inner_short(h, body),
            _ => {
                let mut h = Sha1Stream::resume(self.inner);
                h.update(header);
                h.update(body);
                h.finish()
            }
        };
        // The outer hash is always one block: opad block + 20-byte digest.
        let mut block = GenericArray::<u8, U64>::default();
        let (digest, tail) = block.split_at_mut(20);
        for (dst, w) in digest.chunks_exact_mut(4).zip(inner) {
            dst.copy_from_slice(&w.to_be_bytes());
        }
        if let Some((first, _)) = tail.split_first_mut() {
            *first = 0x80;
        }
        let (_, len_field) = block.split_at_mut(56);
        len_field.copy_from_slice(&((64u64 + 20) * 8).to_be_bytes());
        let mut state = self.outer;
        sha1::compress(&mut state, core::slice::from_ref(&block));
        state
    }

    /// The inner hash of a STUN header and at most 99 body bytes: written straight into the
    /// two block buffers, padded in place, one call to the block function.
    #[inline(always)]
    fn inner_short(&self, header: &[u8; 20], body: &[u8]) -> [u32; 5] {
        let total = 20 + body.len();
        let mut blocks = [GenericArray::<u8, U64>::default(); 2];
        let [b0, b1] = &mut blocks;
        let (h, rest0) = b0.split_at_mut(20);
        h.copy_from_slice(header);
        let (body0, body1) = body.split_at(body.len().min(44));
        if let Some(dst) = rest0.get_mut(..body0.len()) {
            dst.copy_from_slice(body0);
        }
        if let Some(dst) = b1.get_mut(..body1.len()) {
            dst.copy_from_slice(body1);
        }
        let pad = if total < 64 {
            rest0.get_mut(body0.len())
        } else {
            b1.get_mut(body1.len())
        };
        if let Some(b) = pad {
            *b = 0x80;
        }
        let bits = ((64 + total as u64) * 8).to_be_bytes();
        let (blocks_used, last) = if total < 56 { (1, b0) } else { (2, b1) };
        let (_, len_field) = last.split_at_mut(56);
        len_field.copy_from_slice(&bits);
        let mut state = self.inner;
        sha1::compress(&mut state, blocks.get(..blocks_used).unwrap_or_default());
        state
    }
}

/// XOR constant of FINGERPRINT: "STUN" in ASCII (RFC 8489 section 14.7).
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// The FINGERPRINT value of `bytes`: the message up to (not including) the FINGERPRINT
/// attribute, with the header length already covering it (RFC 8489 section 14.7).
pub fn fingerprint(bytes: &[u8]) -> u32 {
    crate::crc32::checksum(bytes) ^ FINGERPRINT_XOR
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

    /// Compares word by word (the computed HMAC never leaves registers as bytes), without
    /// an early exit.
    pub(crate) fn verify_sha1(&self, header: &[u8], body: &[u8], tag: &[u8]) -> bool {
        let Ok(tag) = <&[u8; 20]>::try_from(tag) else {
            return false;
        };
        let ours = self.sha1.sign_words(header, body);
        let diff = tag.chunks_exact(4).zip(ours).fold(0u32, |acc, (t, w)| {
            acc | (u32::from_be_bytes([
                t.first().copied().unwrap_or(0),
                t.get(1).copied().unwrap_or(0),
                t.get(2).copied().unwrap_or(0),
                t.get(3).copied().unwrap_or(0),
            ]) ^ w)
        });
        core::hint::black_box(diff) == 0
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
        // Every length around the block and padding boundaries, split at the STUN header.
        let key = b"a3LfrCDJv9Q2m7sP0uYtXw8z";
        let ring_key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
        let ours = HmacSha1::new(key);
        let msg: Vec<u8> = (0..400u32).map(|i| (i * 31 + 7) as u8).collect();
        for len in 0..msg.len() {
            let split = len.min(20);
            assert_eq!(
                &ours.sign(&msg[..split], &msg[split..len])[..],
                hmac::sign(&ring_key, &msg[..len]).as_ref(),
                "len {len}"
            );
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
