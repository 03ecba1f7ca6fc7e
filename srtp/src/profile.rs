//! SRTP protection profiles (RFC 5764 4.1.2, RFC 6188, RFC 7714 14.2).

use crate::error::{Error, Result};
use core::fmt;
use core::str::FromStr;

/// The SRTP protection profiles this crate implements.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtectionProfile {
    /// `SRTP_AES128_CM_HMAC_SHA1_80` (RFC 5764 4.1.2, id 0x0001).
    Aes128CmHmacSha1_80,
    /// `SRTP_AES128_CM_HMAC_SHA1_32` (RFC 5764 4.1.2, id 0x0002). SRTCP keeps an 80-bit tag.
    Aes128CmHmacSha1_32,
    /// AES-256 counter mode with HMAC-SHA1-80 (RFC 6188; libsrtp's `AES_CM_256_HMAC_SHA1_80`).
    /// No DTLS-SRTP profile id is registered for it.
    Aes256CmHmacSha1_80,
    /// AES-256 counter mode with HMAC-SHA1-32 (RFC 6188). SRTCP keeps an 80-bit tag.
    Aes256CmHmacSha1_32,
    /// `SRTP_AEAD_AES_128_GCM` (RFC 7714 14.2, id 0x0007).
    AeadAes128Gcm,
    /// `SRTP_AEAD_AES_256_GCM` (RFC 7714 14.2, id 0x0008).
    AeadAes256Gcm,
}

impl ProtectionProfile {
    /// Every profile, for iteration in tests and tools.
    pub const ALL: [ProtectionProfile; 6] = [
        ProtectionProfile::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32,
        ProtectionProfile::Aes256CmHmacSha1_80,
        ProtectionProfile::Aes256CmHmacSha1_32,
        ProtectionProfile::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm,
    ];

    /// The profile for an RFC 5764 / RFC 7714 DTLS-SRTP profile id.
    pub fn from_id(id: u16) -> Result<Self> {
        match id {
            0x0001 => Ok(Self::Aes128CmHmacSha1_80),
            0x0002 => Ok(Self::Aes128CmHmacSha1_32),
            0x0007 => Ok(Self::AeadAes128Gcm),
            0x0008 => Ok(Self::AeadAes256Gcm),
            _ => Err(Error::UnknownProfile { id: Some(id) }),
        }
    }

    /// The DTLS-SRTP profile id, if one is registered.
    pub fn id(self) -> Option<u16> {
        match self {
            Self::Aes128CmHmacSha1_80 => Some(0x0001),
            Self::Aes128CmHmacSha1_32 => Some(0x0002),
            Self::AeadAes128Gcm => Some(0x0007),
            Self::AeadAes256Gcm => Some(0x0008),
            Self::Aes256CmHmacSha1_80 | Self::Aes256CmHmacSha1_32 => None,
        }
    }

    /// The RFC 5764 name (`SRTP_AES128_CM_HMAC_SHA1_80`, …). The AES-256-CM profiles use the
    /// same naming pattern (`SRTP_AES256_CM_HMAC_SHA1_80`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            Self::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            Self::Aes256CmHmacSha1_80 => "SRTP_AES256_CM_HMAC_SHA1_80",
            Self::Aes256CmHmacSha1_32 => "SRTP_AES256_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }

    /// Master key length in octets.
    pub fn master_key_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 | Self::Aes128CmHmacSha1_32 | Self::AeadAes128Gcm => 16,
            Self::Aes256CmHmacSha1_80 | Self::Aes256CmHmacSha1_32 | Self::AeadAes256Gcm => 32,
        }
    }

    /// Master salt length in octets: 112 bits for AES-CM, 96 bits for AEAD (RFC 7714 12).
    pub fn master_salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Whether this is an AEAD (AES-GCM, RFC 7714) profile.
    pub fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }

    /// Authentication tag length of SRTP packets in octets.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 | Self::Aes256CmHmacSha1_80 => 10,
            Self::Aes128CmHmacSha1_32 | Self::Aes256CmHmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Authentication tag length of SRTCP packets in octets (80 bits for every HMAC-SHA1
    /// profile, RFC 5764 4.1.2).
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }

    /// Length of the DTLS-SRTP exporter output for this profile (RFC 5764 4.2):
    /// `2 * (master_key_len + master_salt_len)`.
    pub fn keying_material_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }
}

impl fmt::Display for ProtectionProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProtectionProfile {
    type Err = Error;

    /// Accepts the RFC 5764 names, case-insensitively, also without the `SRTP_` prefix, and
    /// libsrtp's names (`AES_CM_128_HMAC_SHA1_80`, `AEAD_AES_128_GCM`, …).
    fn from_str(s: &str) -> Result<Self> {
        let upper = s.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("SRTP_").unwrap_or(&upper);
        let p = match name {
            "AES128_CM_HMAC_SHA1_80" | "AES_CM_128_HMAC_SHA1_80" | "AES128_CM_SHA1_80" => {
                Self::Aes128CmHmacSha1_80
            }
            "AES128_CM_HMAC_SHA1_32" | "AES_CM_128_HMAC_SHA1_32" | "AES128_CM_SHA1_32" => {
                Self::Aes128CmHmacSha1_32
            }
            "AES256_CM_HMAC_SHA1_80" | "AES_CM_256_HMAC_SHA1_80" | "AES256_CM_SHA1_80" => {
                Self::Aes256CmHmacSha1_80
            }
            "AES256_CM_HMAC_SHA1_32" | "AES_CM_256_HMAC_SHA1_32" | "AES256_CM_SHA1_32" => {
                Self::Aes256CmHmacSha1_32
            }
            "AEAD_AES_128_GCM" => Self::AeadAes128Gcm,
            "AEAD_AES_256_GCM" => Self::AeadAes256Gcm,
            _ => return Err(Error::UnknownProfile { id: None }),
        };
        Ok(p)
    }
}
