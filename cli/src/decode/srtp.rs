//! `sansrtc decode --srtp PROFILE:KEY_SALT_HEX`: unprotects SRTP and SRTCP packets as a
//! receiver would (like libsrtp's `rtp_decoder`), keeping ROC and replay state across them.

use sansrtc_srtp::{Config, ProtectionProfile, Session, is_rtcp};

use crate::hex;

/// A receiver's SRTP session for the decoder.
pub struct SrtpDecoder {
    session: Session,
}

impl SrtpDecoder {
    /// `spec` is `PROFILE:KEY_SALT_HEX`: an RFC 5764 profile name (e.g.
    /// `SRTP_AES128_CM_HMAC_SHA1_80`, `SRTP_AEAD_AES_128_GCM`; libsrtp's names are accepted
    /// too) and the master key followed by the master salt, in hex.
    pub fn new(spec: &str) -> Result<Self, String> {
        let (name, key) = spec
            .split_once(':')
            .ok_or_else(|| format!("expected PROFILE:KEY_SALT_HEX, got {spec:?}"))?;
        let profile: ProtectionProfile = name.parse().map_err(|_| {
            let known: Vec<&str> = ProtectionProfile::ALL.iter().map(|p| p.name()).collect();
            format!(
                "unknown SRTP profile {name:?} (known: {})",
                known.join(", ")
            )
        })?;
        let key_salt = hex::decode(key).map_err(|e| format!("bad key hex: {e}"))?;
        let need = profile.master_key_len() + profile.master_salt_len();
        if key_salt.len() != need {
            return Err(format!(
                "{} needs {} octets of key and salt ({} + {}), got {}",
                profile.name(),
                need,
                profile.master_key_len(),
                profile.master_salt_len(),
                key_salt.len()
            ));
        }
        let mut config = Config::from_key_salt(profile, &key_salt).map_err(|e| e.to_string())?;
        // A capture may be reordered more than a live receiver tolerates; be generous.
        config.replay_window = 1024;
        let session = Session::new(config).map_err(|e| e.to_string())?;
        Ok(Self { session })
    }

    /// Unprotects one SRTP or SRTCP packet (told apart by RFC 5761 4) and returns the RTP or
    /// RTCP plaintext, or why it failed (authentication, replay, too short, …).
    pub fn unprotect(&mut self, packet: &[u8]) -> Result<Vec<u8>, String> {
        let mut buf = packet.to_vec();
        let r = if is_rtcp(packet) {
            self.session.unprotect_rtcp(&mut buf)
        } else {
            self.session.unprotect_rtp(&mut buf)
        };
        r.map(|()| buf).map_err(|e| e.to_string())
    }
}
