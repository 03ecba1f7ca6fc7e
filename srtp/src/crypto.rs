//! The cipher and MAC primitives: AES counter mode (RFC 3711 4.1.1), the AES-CM key
//! derivation PRF (RFC 3711 4.3, RFC 6188 5.1), HMAC-SHA1 (RFC 3711 4.2.1) and AES-GCM
//! (RFC 7714).
//!
//! AES-CM: ring exposes no raw AES-CTR, so the keystream comes from the `aes` crate
//! (AES-NI): the expanded key schedule is kept per session, and counter mode is done here,
//! a batch of counter blocks at a time through `encrypt_blocks` (its 8-block pipeline).
//!
//! HMAC-SHA1 (RFC 2104) is built here on `sha1::compress`, which uses the SHA-NI
//! instructions when present: ring's SHA-1 is portable code and measured ~10x slower on
//! 1200-byte packets. The inner and outer hash states after the padded key are computed
//! once per session, so a packet costs the SHA-1 of its bytes plus one 64-byte block.
//!
//! Protect encrypts the payload, then hashes the packet ([`AesKey::encrypt_then_mac`]);
//! unprotect hashes, compares the tag, and only then decrypts. Each pass is one bulk call
//! (see the crate README for why not interleaved). AES-GCM is ring's.

use aes::cipher::{BlockEncrypt, BlockSizeUser, KeyInit, consts::U16};
use ring::aead;
use sha1::digest::block_buffer::{BlockBuffer, Eager};
use sha1::digest::consts::U64;

use crate::error::{Error, Result};

/// A keyed AES block cipher, 128 or 256 bit, encryption direction only.
#[derive(Clone)]
pub(crate) enum AesKey {
    Aes128(aes::Aes128Enc),
    Aes192(aes::Aes192Enc),
    Aes256(aes::Aes256Enc),
}

impl AesKey {
    pub(crate) fn new(key: &[u8]) -> Result<Self> {
        let bad = || Error::InvalidKeyLength {
            what: "AES key",
            need: 16,
            have: key.len(),
        };
        match key.len() {
            16 => aes::Aes128Enc::new_from_slice(key)
                .map(Self::Aes128)
                .map_err(|_| bad()),
            24 => aes::Aes192Enc::new_from_slice(key)
                .map(Self::Aes192)
                .map_err(|_| bad()),
            32 => aes::Aes256Enc::new_from_slice(key)
                .map(Self::Aes256)
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    /// XORs `data` with the AES-CM keystream that starts at counter block `iv`
    /// (RFC 3711 4.1.1: block j is E(k, IV + j), the counter wrapping modulo 2^128).
    pub(crate) fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        match self {
            Self::Aes128(k) => ctr_xor(k, iv, data),
            Self::Aes192(k) => ctr_xor(k, iv, data),
            Self::Aes256(k) => ctr_xor(k, iv, data),
        }
    }

    /// Encrypts `msg[enc]` with the AES-CM keystream from counter block `iv`, then feeds all
    /// of `msg` into `mac` (the HMAC inner hash): SRTP authenticates the encrypted packet
    /// (RFC 3711 3.3, 3.4). A range reaching past `msg` is clamped to it.
    ///
    /// One pass after the other, each in bulk: on the Intel Xeon this was measured on, the
    /// AES rounds and the SHA-1 chain do not overlap however they are interleaved (steps of
    /// 64, 256, 320 and 512 octets all measured slower than two bulk passes, see README).
    pub(crate) fn encrypt_then_mac(
        &self,
        iv: &[u8; 16],
        msg: &mut [u8],
        enc: core::ops::Range<usize>,
        mac: &mut Sha1State,
    ) {
        let end = enc.end.min(msg.len());
        let start = enc.start.min(end);
        self.apply_keystream(iv, msg.get_mut(start..end).unwrap_or_default());
        mac.update(msg);
    }
}

/// Counter blocks encrypted per batch: 1280 octets, so that a 1200-octet payload is one
/// batch. 1.25 KiB of stack.
const KS_BATCH: usize = 80;

/// AES counter mode over `data` from counter block `iv`. The counter blocks of a batch are
/// written out and encrypted in one `encrypt_blocks` call, which runs the `aes` crate's
/// 8-blocks-at-a-time AES-NI path; the keystream is then XORed in.
#[inline]
fn ctr_xor<C: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(
    cipher: &C,
    iv: &[u8; 16],
    data: &mut [u8],
) {
    let mut next = u128::from_be_bytes(*iv);
    let mut ks = [aes::Block::default(); KS_BATCH];
    for chunk in data.chunks_mut(KS_BATCH * 16) {
        let ks = ks.get_mut(..chunk.len().div_ceil(16)).unwrap_or_default();
        for b in ks.iter_mut() {
            *b = next.to_be_bytes().into();
            next = next.wrapping_add(1);
        }
        cipher.encrypt_blocks(ks);
        xor_keystream(chunk, ks);
    }
}

/// SHA-1 (FIPS 180-4) initial hash value.
const SHA1_IV: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];
const SHA1_BLOCK: usize = 64;

/// Runs the SHA-1 compression function over every whole 64-octet block of `data`, straight
/// from the caller's buffer and in one call (the `sha1` crate's SHA-NI code when the CPU has
/// it), so the state stays in registers from block to block. `block_buffer` (the `sha1`
/// crate's own buffering) provides the view of the octets as a slice of blocks; with whole
/// blocks only it copies nothing.
#[inline]
fn sha1_blocks(state: &mut [u32; 5], data: &[u8]) {
    let whole = data
        .get(..data.len() - data.len() % SHA1_BLOCK)
        .unwrap_or_default();
    let mut view = BlockBuffer::<U64, Eager>::default();
    view.digest_blocks(whole, |blocks| sha1::compress(state, blocks));
}

/// A running SHA-1 hash. Whole blocks go from the input to the compression function without
/// a copy; only a partial block is buffered. The final padding is done here.
#[derive(Clone)]
pub(crate) struct Sha1State {
    state: [u32; 5],
    buf: [u8; SHA1_BLOCK],
    buffered: usize,
    /// Message length so far, octets.
    len: u64,
}

impl Sha1State {
    fn new() -> Self {
        Self {
            state: SHA1_IV,
            buf: [0; SHA1_BLOCK],
            buffered: 0,
            len: 0,
        }
    }

    /// Absorbs `data`.
    #[inline]
    pub(crate) fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.buffered > 0 {
            let take = (SHA1_BLOCK - self.buffered).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.buffered..self.buffered + take) {
                dst.copy_from_slice(head);
            }
            self.buffered += take;
            data = rest;
            if self.buffered < SHA1_BLOCK {
                return;
            }
            sha1_blocks(&mut self.state, &self.buf);
            self.buffered = 0;
        }
        let whole = data.len() - data.len() % SHA1_BLOCK;
        let (blocks, rest) = data.split_at(whole);
        sha1_blocks(&mut self.state, blocks);
        if let Some(dst) = self.buf.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.buffered = rest.len();
    }

    /// Pads (FIPS 180-4 5.1.1) and returns the digest.
    pub(crate) fn finalize(mut self) -> [u8; 20] {
        let bits = self.len.wrapping_mul(8).to_be_bytes();
        let mut pad = [0u8; 2 * SHA1_BLOCK];
        let n = self.buffered;
        if let (Some(dst), Some(src)) = (pad.get_mut(..n), self.buf.get(..n)) {
            dst.copy_from_slice(src);
        }
        if let Some(b) = pad.get_mut(n) {
            *b = 0x80;
        }
        let end = if n + 9 <= SHA1_BLOCK {
            SHA1_BLOCK
        } else {
            2 * SHA1_BLOCK
        };
        if let Some(dst) = pad.get_mut(end - 8..end) {
            dst.copy_from_slice(&bits);
        }
        sha1_blocks(&mut self.state, pad.get(..end).unwrap_or_default());
        let mut out = [0u8; 20];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state.iter()) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// HMAC-SHA1 (RFC 2104) with the keyed inner and outer states precomputed: a packet costs
/// the compression of its own blocks, its final padded block and one outer block.
#[derive(Clone)]
pub(crate) struct HmacSha1 {
    /// SHA-1 state after `K XOR ipad`.
    inner: [u32; 5],
    /// SHA-1 state after `K XOR opad`.
    outer: [u32; 5],
}

impl HmacSha1 {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut k = [0u8; SHA1_BLOCK];
        if key.len() > SHA1_BLOCK {
            let mut h = Sha1State::new();
            h.update(key);
            let d = h.finalize();
            k.iter_mut().zip(d.iter()).for_each(|(a, b)| *a = *b);
        } else {
            k.iter_mut().zip(key.iter()).for_each(|(a, b)| *a = *b);
        }
        let mut ipad = [0x36u8; SHA1_BLOCK];
        let mut opad = [0x5cu8; SHA1_BLOCK];
        for ((i, o), kb) in ipad.iter_mut().zip(opad.iter_mut()).zip(k.iter()) {
            *i ^= kb;
            *o ^= kb;
        }
        let mut inner = SHA1_IV;
        sha1_blocks(&mut inner, &ipad);
        let mut outer = SHA1_IV;
        sha1_blocks(&mut outer, &opad);
        Self { inner, outer }
    }

    /// The inner hash, keyed, ready to absorb the message.
    #[inline]
    pub(crate) fn start(&self) -> Sha1State {
        Sha1State {
            state: self.inner,
            buf: [0; SHA1_BLOCK],
            buffered: 0,
            len: SHA1_BLOCK as u64,
        }
    }

    /// Finishes the inner hash and computes the outer one: the MAC.
    #[inline]
    pub(crate) fn finish(&self, inner: Sha1State) -> [u8; 20] {
        let ih = inner.finalize();
        let mut block = [0u8; SHA1_BLOCK];
        block.iter_mut().zip(ih.iter()).for_each(|(a, b)| *a = *b);
        // Padding of the 84-octet outer message (opad block + 20-octet inner digest).
        if let Some(b) = block.get_mut(20) {
            *b = 0x80;
        }
        let bits = ((SHA1_BLOCK as u64 + 20) * 8).to_be_bytes();
        if let Some(dst) = block.get_mut(SHA1_BLOCK - 8..) {
            dst.copy_from_slice(&bits);
        }
        let mut state = self.outer;
        sha1_blocks(&mut state, &block);
        let mut out = [0u8; 20];
        for (o, w) in out.chunks_exact_mut(4).zip(state.iter()) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }

    /// HMAC over the concatenation of `parts`.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> [u8; 20] {
        let mut h = self.start();
        for p in parts {
            h.update(p);
        }
        self.finish(h)
    }
}

/// HMAC-SHA1 of `data` under `key` (RFC 2104), for tests against RFC 2202.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    HmacSha1::new(key).sign(&[data])
}

/// XORs `data` (at most `ks.len()` blocks) with the keystream blocks `ks`.
#[inline(always)]
fn xor_keystream(data: &mut [u8], ks: &[aes::Block]) {
    let mut words = data.chunks_exact_mut(16);
    let mut blocks = ks.iter();
    for (d, k) in (&mut words).zip(&mut blocks) {
        let mut a = [0u8; 16];
        a.copy_from_slice(d);
        let x = u128::from_ne_bytes(a) ^ u128::from_ne_bytes((*k).into());
        d.copy_from_slice(&x.to_ne_bytes());
    }
    let rest = words.into_remainder();
    if let Some(k) = blocks.next() {
        rest.iter_mut().zip(k.iter()).for_each(|(d, k)| *d ^= k);
    }
}

/// RFC 3711 4.3.1 / 4.3.3 with key_derivation_rate 0: `x = (label << 48) XOR master_salt`,
/// output = AES-CM keystream under the master key from IV `x * 2^16`.
///
/// `master_salt` is 14 octets (an AEAD 12-octet salt must already be padded with two zero
/// octets, RFC 7714 errata 4938).
pub(crate) fn kdf(master: &AesKey, master_salt: &[u8; 14], label: u8, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(master_salt);
    iv[7] ^= label;
    out.fill(0);
    master.apply_keystream(&iv, out);
}

/// KDF labels (RFC 3711 4.3.2).
pub(crate) mod label {
    pub const RTP_ENCRYPTION: u8 = 0;
    pub const RTP_AUTH: u8 = 1;
    pub const RTP_SALT: u8 = 2;
    pub const RTCP_ENCRYPTION: u8 = 3;
    pub const RTCP_AUTH: u8 = 4;
    pub const RTCP_SALT: u8 = 5;
}

/// Session keys for one direction of one of SRTP or SRTCP.
// Two per session, never moved on the packet path: boxing would only add an indirection.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Keys {
    /// AES-CM encryption plus HMAC-SHA1 authentication (RFC 3711 4.1.1, 4.2.1).
    CmHmac {
        aes: AesKey,
        salt: [u8; 14],
        hmac: HmacSha1,
        tag_len: usize,
    },
    /// AES-GCM (RFC 7714).
    Gcm {
        key: aead::LessSafeKey,
        salt: [u8; 12],
    },
}

impl Keys {
    /// Builds keyed state from raw session keys for SRTP (`rtcp == false`) or SRTCP.
    pub(crate) fn from_raw(
        profile: crate::ProtectionProfile,
        enc: &[u8],
        salt: &[u8],
        auth: &[u8],
        rtcp: bool,
    ) -> Result<Self> {
        let key_len = profile.master_key_len();
        let salt_len = profile.master_salt_len();
        if enc.len() != key_len {
            return Err(Error::InvalidKeyLength {
                what: "session key",
                need: key_len,
                have: enc.len(),
            });
        }
        if salt.len() != salt_len {
            return Err(Error::InvalidKeyLength {
                what: "session salt",
                need: salt_len,
                have: salt.len(),
            });
        }
        if profile.is_aead() {
            let alg = if key_len == 16 {
                &aead::AES_128_GCM
            } else {
                &aead::AES_256_GCM
            };
            let unbound = aead::UnboundKey::new(alg, enc).map_err(|_| Error::InvalidKeyLength {
                what: "GCM session key",
                need: key_len,
                have: enc.len(),
            })?;
            let mut s12 = [0u8; 12];
            s12.copy_from_slice(salt);
            Ok(Keys::Gcm {
                key: aead::LessSafeKey::new(unbound),
                salt: s12,
            })
        } else {
            if auth.len() != 20 {
                return Err(Error::InvalidKeyLength {
                    what: "HMAC-SHA1 session auth key",
                    need: 20,
                    have: auth.len(),
                });
            }
            let mut s14 = [0u8; 14];
            s14.copy_from_slice(salt);
            let tag_len = if rtcp {
                profile.rtcp_tag_len()
            } else {
                profile.rtp_tag_len()
            };
            Ok(Keys::CmHmac {
                aes: AesKey::new(enc)?,
                salt: s14,
                hmac: HmacSha1::new(auth),
                tag_len,
            })
        }
    }

    /// Authentication tag length in octets.
    pub(crate) fn tag_len(&self) -> usize {
        match self {
            Keys::CmHmac { tag_len, .. } => *tag_len,
            Keys::Gcm { .. } => 16,
        }
    }
}

/// The AES-CM IV (RFC 3711 4.1.1): `(salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16)`.
#[inline]
pub(crate) fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    let s = ssrc.to_be_bytes();
    let i = index.to_be_bytes();
    for (a, b) in iv.iter_mut().skip(4).zip(s.iter()) {
        *a ^= b;
    }
    for (a, b) in iv.iter_mut().skip(8).zip(i.iter().skip(2)) {
        *a ^= b;
    }
    iv
}

/// The AES-GCM SRTP IV (RFC 7714 8.1): `00 00 || SSRC || ROC || SEQ` XOR salt.
#[inline]
pub(crate) fn gcm_rtp_iv(salt: &[u8; 12], ssrc: u32, roc: u32, seq: u16) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[6..10].copy_from_slice(&roc.to_be_bytes());
    iv[10..12].copy_from_slice(&seq.to_be_bytes());
    for (a, b) in iv.iter_mut().zip(salt.iter()) {
        *a ^= b;
    }
    iv
}

/// The AES-GCM SRTCP IV (RFC 7714 9.1): `00 00 || SSRC || 00 00 || 0 || SRTCP index` XOR salt.
#[inline]
pub(crate) fn gcm_rtcp_iv(salt: &[u8; 12], ssrc: u32, index: u32) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[8..12].copy_from_slice(&(index & 0x7fff_ffff).to_be_bytes());
    for (a, b) in iv.iter_mut().zip(salt.iter()) {
        *a ^= b;
    }
    iv
}

/// Constant-time comparison of two tags of the same length.
#[inline]
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut acc = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        acc |= x ^ y;
    }
    core::hint::black_box(acc) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha1::Digest;

    /// HMAC-SHA1 through the `sha1` crate's own buffering and padding, as a reference.
    fn reference_hmac(key: &[u8; 20], parts: &[&[u8]]) -> [u8; 20] {
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for ((i, o), k) in ipad.iter_mut().zip(opad.iter_mut()).zip(key.iter()) {
            *i ^= k;
            *o ^= k;
        }
        let mut h = sha1::Sha1::new();
        h.update(ipad);
        for p in parts {
            h.update(p);
        }
        let ih = h.finalize();
        let mut o = sha1::Sha1::new();
        o.update(opad);
        o.update(ih);
        o.finalize().into()
    }

    /// AES-CM through the `ctr` crate, as a reference for the counter mode done here.
    fn reference_ctr(key: &[u8], iv: &[u8; 16], data: &mut [u8]) {
        use ctr::cipher::{KeyIvInit, StreamCipher};
        match key.len() {
            16 => ctr::Ctr128BE::<aes::Aes128>::new(key.into(), iv.into()).apply_keystream(data),
            24 => ctr::Ctr128BE::<aes::Aes192>::new(key.into(), iv.into()).apply_keystream(data),
            _ => ctr::Ctr128BE::<aes::Aes256>::new(key.into(), iv.into()).apply_keystream(data),
        }
    }

    #[test]
    fn keystream_matches_ctr_crate_across_batches_and_counter_wrap() {
        let ivs = [
            [0x5au8; 16],
            // The low 64 bits about to wrap: the carry must reach the upper half.
            [
                1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd,
            ],
            // The whole 128-bit counter wraps to zero (RFC 3711 4.1.1: modulo 2^128).
            [0xff; 16],
        ];
        for key in [&[7u8; 16][..], &[8u8; 24][..], &[9u8; 32][..]] {
            let aes = AesKey::new(key).unwrap();
            for iv in &ivs {
                for len in (0..=300).chain([1199, 1200, 1279, 1280, 1281, 2560, 2561, 5000]) {
                    let plain: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                    let mut want = plain.clone();
                    reference_ctr(key, iv, &mut want);
                    let mut got = plain.clone();
                    aes.apply_keystream(iv, &mut got);
                    assert_eq!(got, want, "len {len} iv {iv:02x?}");
                }
            }
        }
    }

    #[test]
    fn encrypt_then_mac_matches_separate_passes() {
        let auth_key = [0x0bu8; 20];
        let hmac = HmacSha1::new(&auth_key);
        let iv = [0x5au8; 16];
        for key in [&[7u8; 16][..], &[8u8; 24][..], &[9u8; 32][..]] {
            let aes = AesKey::new(key).unwrap();
            for len in (0..=300).chain([1023, 1024, 1025, 1212, 1216, 1220, 1500]) {
                for start in [0usize, 8, 12, 16, 60, 64, 76, 140] {
                    if start > len {
                        continue;
                    }
                    let plain: Vec<u8> = (0..len).map(|i| (i * 31 + start) as u8).collect();
                    // The RTCP shape: the last 4 octets authenticated but not encrypted.
                    for end in [len, len.saturating_sub(4).max(start)] {
                        let mut want = plain.clone();
                        reference_ctr(key, &iv, &mut want[start..end]);
                        let want_tag = reference_hmac(&auth_key, &[&want, b"roc!"]);

                        let mut got = plain.clone();
                        let mut mac = hmac.start();
                        aes.encrypt_then_mac(&iv, &mut got, start..end, &mut mac);
                        mac.update(b"roc!");
                        assert_eq!(got, want, "ciphertext, len {len} enc {start}..{end}");
                        assert_eq!(
                            hmac.finish(mac),
                            want_tag,
                            "tag, len {len} enc {start}..{end}"
                        );
                        // The receiving side: MAC over the ciphertext in pieces, then decrypt.
                        let mut mac = hmac.start();
                        let (a, b) = got.split_at(len / 3);
                        mac.update(a);
                        mac.update(b);
                        mac.update(b"roc!");
                        assert_eq!(hmac.finish(mac), want_tag, "rx tag, len {len}");
                        aes.apply_keystream(&iv, &mut got[start..end]);
                        assert_eq!(got, plain, "plaintext, len {len} enc {start}..{end}");
                    }
                }
            }
        }
    }

    #[test]
    fn encrypt_then_mac_clamps_a_range_past_the_message() {
        let aes = AesKey::new(&[7u8; 16]).unwrap();
        let hmac = HmacSha1::new(&[1u8; 20]);
        let mut got = vec![3u8; 40];
        let mut mac = hmac.start();
        aes.encrypt_then_mac(&[0u8; 16], &mut got, 12..100, &mut mac);
        let mut want = vec![3u8; 40];
        reference_ctr(&[7u8; 16], &[0u8; 16], &mut want[12..]);
        assert_eq!(got, want);
        assert_eq!(hmac.finish(mac), reference_hmac(&[1u8; 20], &[&want]));
    }

    #[test]
    fn sha1_state_any_split_matches_one_shot() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7) as u8).collect();
        for len in [0usize, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300] {
            let want: [u8; 20] = sha1::Sha1::digest(&data[..len]).into();
            for cut in [0, 1, 3, len / 2, len.saturating_sub(1), len] {
                let mut h = Sha1State::new();
                h.update(&data[..cut.min(len)]);
                h.update(&data[cut.min(len)..len]);
                assert_eq!(h.finalize(), want, "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn cm_iv_matches_libsrtp_vector() {
        // srtp_protect_libsrtp.json rtp-1: salt 30cb..9ae1, SSRC cafebabe, index 0x1234.
        let salt: [u8; 14] = [
            0x30, 0xcb, 0xbc, 0x08, 0x86, 0x3d, 0x8c, 0x85, 0xd4, 0x9d, 0xb3, 0x4a, 0x9a, 0xe1,
        ];
        let iv = cm_iv(&salt, 0xcafe_babe, 0x1234);
        assert_eq!(
            iv,
            [
                0x30, 0xcb, 0xbc, 0x08, 0x4c, 0xc3, 0x36, 0x3b, 0xd4, 0x9d, 0xb3, 0x4a, 0x88, 0xd5,
                0, 0
            ]
        );
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
