//! The cipher and MAC primitives: AES counter mode (RFC 3711 4.1.1), the AES-CM key
//! derivation PRF (RFC 3711 4.3, RFC 6188 5.1), HMAC-SHA1 (RFC 3711 4.2.1) and AES-GCM
//! (RFC 7714).
//!
//! AES-CM: ring exposes no raw AES-CTR, so the keystream comes from `aes` + `ctr` (AES-NI,
//! 8 blocks in flight), with the expanded key schedule kept per session and copied (176 or
//! 240 octets) into a `ctr` core per packet. A hand-written batch of counter blocks through
//! `encrypt_blocks` measured slower than `ctr`'s own keystream/XOR loop.
//!
//! HMAC-SHA1 (RFC 2104) is built here on the `sha1` crate, which uses the SHA-NI
//! instructions when present: ring's SHA-1 is portable code and measured ~10x slower on
//! 1200-byte packets. The inner and outer hash states after the padded key are computed
//! once per session, so a packet costs the SHA-1 of its bytes plus one 64-byte block.
//! AES-GCM is ring's.

use aes::cipher::{KeyInit, StreamCipher, StreamCipherCoreWrapper};
use ctr::cipher::InnerIvInit;
use ring::aead;
use sha1::{Digest, Sha1};

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
    /// (RFC 3711 4.1.1: block j is E(k, IV + j)).
    pub(crate) fn apply_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        type Ctr<C> = ctr::CtrCore<C, ctr::flavors::Ctr128BE>;
        let iv = aes::Block::from(*iv);
        // A 128-bit counter cannot run out within one packet, so `apply_keystream` (which
        // would only refuse to wrap the counter) never fails here.
        match self {
            Self::Aes128(k) => {
                StreamCipherCoreWrapper::from_core(Ctr::inner_iv_init(k.clone(), &iv))
                    .apply_keystream(data);
            }
            Self::Aes192(k) => {
                StreamCipherCoreWrapper::from_core(Ctr::inner_iv_init(k.clone(), &iv))
                    .apply_keystream(data);
            }
            Self::Aes256(k) => {
                StreamCipherCoreWrapper::from_core(Ctr::inner_iv_init(k.clone(), &iv))
                    .apply_keystream(data);
            }
        }
    }
}

/// HMAC-SHA1 (RFC 2104) with the keyed inner and outer states precomputed.
#[derive(Clone)]
pub(crate) struct HmacSha1 {
    inner: Sha1,
    outer: Sha1,
}

impl HmacSha1 {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            let d = Sha1::digest(key);
            k.iter_mut().zip(d.iter()).for_each(|(a, b)| *a = *b);
        } else {
            k.iter_mut().zip(key.iter()).for_each(|(a, b)| *a = *b);
        }
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for ((i, o), kb) in ipad.iter_mut().zip(opad.iter_mut()).zip(k.iter()) {
            *i ^= kb;
            *o ^= kb;
        }
        let mut inner = Sha1::new();
        inner.update(ipad);
        let mut outer = Sha1::new();
        outer.update(opad);
        Self { inner, outer }
    }

    /// HMAC over `a || b`.
    #[inline]
    pub(crate) fn sign2(&self, a: &[u8], b: &[u8]) -> [u8; 20] {
        let mut h = self.inner.clone();
        h.update(a);
        h.update(b);
        let ih = h.finalize();
        let mut o = self.outer.clone();
        o.update(ih);
        o.finalize().into()
    }

    /// HMAC over `a || b || c`.
    #[inline]
    pub(crate) fn sign3(&self, a: &[u8], b: &[u8], c: &[u8]) -> [u8; 20] {
        let mut h = self.inner.clone();
        h.update(a);
        h.update(b);
        h.update(c);
        let ih = h.finalize();
        let mut o = self.outer.clone();
        o.update(ih);
        o.finalize().into()
    }
}

/// HMAC-SHA1 of `data` under `key` (RFC 2104), for tests against RFC 2202.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    HmacSha1::new(key).sign2(data, &[])
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
