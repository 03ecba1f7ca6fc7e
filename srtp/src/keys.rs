//! Session keys (RFC 3711 4.3) and the raw AES-CM primitives, public for tests, tools and
//! debugging.

use crate::config::Config;
use crate::crypto::{AesKey, kdf as kdf_inner, label};
use crate::error::{Error, Result};

/// The session keys derived from a master key and salt (RFC 3711 4.3.2, key derivation
/// rate 0). For AEAD profiles the auth keys are empty and the salts are 12 octets.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// SRTP encryption key (label 0).
    pub rtp_cipher_key: Vec<u8>,
    /// SRTP HMAC-SHA1 key, 20 octets (label 1); empty for AEAD.
    pub rtp_auth_key: Vec<u8>,
    /// SRTP session salt (label 2).
    pub rtp_salt: Vec<u8>,
    /// SRTCP encryption key (label 3).
    pub rtcp_cipher_key: Vec<u8>,
    /// SRTCP HMAC-SHA1 key, 20 octets (label 4); empty for AEAD.
    pub rtcp_auth_key: Vec<u8>,
    /// SRTCP session salt (label 5).
    pub rtcp_salt: Vec<u8>,
}

impl core::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SessionKeys { .. }")
    }
}

impl SessionKeys {
    /// Runs the key derivation of RFC 3711 4.3 (RFC 6188 for AES-256, RFC 7714 12 with
    /// errata 4938 for AEAD) for `config`'s master key and salt.
    pub fn derive(config: &Config) -> Result<Self> {
        let profile = config.profile();
        let master = AesKey::new(config.master_key())?;
        let salt = config.master_salt14();
        let klen = profile.master_key_len();
        let slen = profile.master_salt_len();
        let alen = if profile.is_aead() { 0 } else { 20 };
        let run = |l: u8, n: usize| {
            let mut v = vec![0u8; n];
            kdf_inner(&master, salt, l, &mut v);
            v
        };
        Ok(Self {
            rtp_cipher_key: run(label::RTP_ENCRYPTION, klen),
            rtp_auth_key: run(label::RTP_AUTH, alen),
            rtp_salt: run(label::RTP_SALT, slen),
            rtcp_cipher_key: run(label::RTCP_ENCRYPTION, klen),
            rtcp_auth_key: run(label::RTCP_AUTH, alen),
            rtcp_salt: run(label::RTCP_SALT, slen),
        })
    }
}

/// The AES-CM PRF of RFC 3711 4.3.3 with key derivation rate 0: fills `out` with the
/// keystream for `label` under `master_key` (16, 24 or 32 octets) and the 14-octet
/// `master_salt`.
pub fn kdf(master_key: &[u8], master_salt: &[u8], label: u8, out: &mut [u8]) -> Result<()> {
    let master = AesKey::new(master_key)?;
    let salt: &[u8; 14] = master_salt
        .try_into()
        .map_err(|_| Error::InvalidKeyLength {
            what: "master salt",
            need: 14,
            have: master_salt.len(),
        })?;
    kdf_inner(&master, salt, label, out);
    Ok(())
}

/// XORs `data` with the AES counter-mode keystream (RFC 3711 4.1.1) under `key` (16, 24 or
/// 32 octets), starting at the 128-bit counter block `iv`.
pub fn aes_cm_apply_keystream(key: &[u8], iv: &[u8; 16], data: &mut [u8]) -> Result<()> {
    AesKey::new(key)?.apply_keystream(iv, data);
    Ok(())
}
