//! Session configuration.

use crate::error::{Error, Result};
use crate::profile::ProtectionProfile;
use crate::replay::MAX_REPLAY_WINDOW;

/// Default replay window, in packets (the size libsrtp, webrtc-rs and pion use).
pub const DEFAULT_REPLAY_WINDOW: usize = 64;
/// Default cap on SSRC contexts per session.
pub const DEFAULT_MAX_STREAMS: usize = 1024;
/// Largest MKI accepted, in octets.
pub const MAX_MKI_LEN: usize = 128;

/// The master key, master salt and tunables of one SRTP session (one direction of a
/// DTLS-SRTP association, RFC 5764 4.2).
#[derive(Clone)]
pub struct Config {
    profile: ProtectionProfile,
    master_key: [u8; 32],
    master_salt: [u8; 14],
    /// Replay window size in packets, for SRTP and SRTCP alike (RFC 3711 3.3.2). Default
    /// [`DEFAULT_REPLAY_WINDOW`]; at least 1, at most [`MAX_REPLAY_WINDOW`] (32768).
    /// Costs `window / 8` octets per SSRC and direction (RTP and RTCP).
    pub replay_window: usize,
    /// Cap on the number of SSRC contexts (created on demand, on the first packet that
    /// authenticates or is protected). A packet from a new SSRC beyond the cap is refused with
    /// [`Error::TooManyStreams`]. Default [`DEFAULT_MAX_STREAMS`].
    pub max_streams: usize,
    /// Optional Master Key Identifier carried in every packet (RFC 3711 3.1). On receive, a
    /// packet whose MKI differs is refused with [`Error::UnknownMki`]. At most
    /// [`MAX_MKI_LEN`] octets.
    pub mki: Option<Vec<u8>>,
    /// The SRTCP index of the first SRTCP packet this session protects, per SSRC.
    /// RFC 3711 3.4 starts at 0; libsrtp starts at 1. Default 0.
    pub initial_srtcp_index: u32,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        f.debug_struct("Config")
            .field("profile", &self.profile)
            .field("replay_window", &self.replay_window)
            .field("max_streams", &self.max_streams)
            .field("mki_len", &self.mki.as_ref().map(Vec::len))
            .field("initial_srtcp_index", &self.initial_srtcp_index)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration for `profile` with the given master key and master salt (16 or 32
    /// octets of key; 14 octets of salt for AES-CM, 12 for AEAD).
    pub fn new(profile: ProtectionProfile, master_key: &[u8], master_salt: &[u8]) -> Result<Self> {
        let klen = profile.master_key_len();
        let slen = profile.master_salt_len();
        if master_key.len() != klen {
            return Err(Error::InvalidKeyLength {
                what: "master key",
                need: klen,
                have: master_key.len(),
            });
        }
        if master_salt.len() != slen {
            return Err(Error::InvalidKeyLength {
                what: "master salt",
                need: slen,
                have: master_salt.len(),
            });
        }
        let mut key = [0u8; 32];
        key.iter_mut()
            .zip(master_key.iter())
            .for_each(|(d, s)| *d = *s);
        // An AEAD 96-bit salt is used as salt * 2^16 in the KDF (RFC 7714 errata 4938):
        // copying it to the front of 14 zero octets does exactly that.
        let mut salt = [0u8; 14];
        salt.iter_mut()
            .zip(master_salt.iter())
            .for_each(|(d, s)| *d = *s);
        Ok(Self {
            profile,
            master_key: key,
            master_salt: salt,
            replay_window: DEFAULT_REPLAY_WINDOW,
            max_streams: DEFAULT_MAX_STREAMS,
            mki: None,
            initial_srtcp_index: 0,
        })
    }

    /// A configuration from `key || salt` concatenated (the `inline:` form of SDES and of
    /// libsrtp's tools).
    pub fn from_key_salt(profile: ProtectionProfile, key_salt: &[u8]) -> Result<Self> {
        let klen = profile.master_key_len();
        let need = klen + profile.master_salt_len();
        if key_salt.len() != need {
            return Err(Error::InvalidKeyLength {
                what: "master key and salt",
                need,
                have: key_salt.len(),
            });
        }
        let (k, s) = key_salt.split_at(klen);
        Self::new(profile, k, s)
    }

    /// The protection profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    pub(crate) fn master_key(&self) -> &[u8] {
        self.master_key
            .get(..self.profile.master_key_len())
            .unwrap_or_default()
    }

    pub(crate) fn master_salt14(&self) -> &[u8; 14] {
        &self.master_salt
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.replay_window == 0 || self.replay_window > MAX_REPLAY_WINDOW {
            return Err(Error::InvalidConfig {
                field: "replay_window",
                reason: "must be between 1 and 32768",
            });
        }
        if self.max_streams == 0 {
            return Err(Error::InvalidConfig {
                field: "max_streams",
                reason: "must be at least 1",
            });
        }
        if let Some(m) = &self.mki {
            if m.is_empty() || m.len() > MAX_MKI_LEN {
                return Err(Error::InvalidConfig {
                    field: "mki",
                    reason: "must be 1 to 128 octets",
                });
            }
        }
        if self.initial_srtcp_index > 0x7fff_ffff {
            return Err(Error::InvalidConfig {
                field: "initial_srtcp_index",
                reason: "must fit in 31 bits",
            });
        }
        Ok(())
    }
}

/// Which side of the DTLS handshake this endpoint was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The DTLS client.
    Client,
    /// The DTLS server.
    Server,
}

/// Splits DTLS-SRTP exporter output (RFC 5764 4.2: `client_write_key | server_write_key |
/// client_write_salt | server_write_salt`) into the configurations for the two directions.
///
/// Returns `(outbound, inbound)`: the session that protects what this endpoint sends, and
/// the one that unprotects what it receives.
pub fn split_keying_material(
    profile: ProtectionProfile,
    keying_material: &[u8],
    role: Role,
) -> Result<(Config, Config)> {
    let k = profile.master_key_len();
    let s = profile.master_salt_len();
    let need = 2 * (k + s);
    if keying_material.len() != need {
        return Err(Error::InvalidKeyLength {
            what: "DTLS-SRTP keying material",
            need,
            have: keying_material.len(),
        });
    }
    let (keys, salts) = keying_material.split_at(2 * k);
    let (ck, sk) = keys.split_at(k);
    let (cs, ss) = salts.split_at(s);
    let client = Config::new(profile, ck, cs)?;
    let server = Config::new(profile, sk, ss)?;
    Ok(match role {
        Role::Client => (client, server),
        Role::Server => (server, client),
    })
}
