//! The SRTP/SRTCP session: per-SSRC contexts, protect and unprotect in place.

use core::hash::{BuildHasherDefault, Hasher};
use std::collections::HashMap;

use ring::aead;

use crate::config::Config;
use crate::crypto::{Keys, cm_iv, ct_eq, gcm_rtcp_iv, gcm_rtp_iv};
use crate::error::{Error, Result};
use crate::keys::SessionKeys;
use crate::profile::ProtectionProfile;
use crate::replay::{MAX_SRTP_INDEX, ReplayWindow, estimate_index};

/// Length of the E flag + SRTCP index word (RFC 3711 3.4).
const SRTCP_INDEX_LEN: usize = 4;
/// RTCP fixed header up to and including the sender SSRC; never encrypted (RFC 3711 3.4).
const RTCP_HEADER_LEN: usize = 8;
const RTP_FIXED_HEADER_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;
const SRTCP_E_FLAG: u32 = 0x8000_0000;
const MAX_SRTCP_INDEX: u32 = 0x7fff_ffff;

/// A multiplicative hash for SSRC keys: SSRC contexts are only created by packets that
/// authenticate (or that we protect ourselves) and are capped, so flooding is not a concern,
/// and SipHash would cost more than the table lookup on the per-packet path.
#[derive(Default, Clone, Copy)]
struct SsrcHasher(u64);

impl Hasher for SsrcHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Per-SSRC state, both directions.
#[derive(Debug, Clone)]
struct Stream {
    /// SRTP receive: highest authenticated index and the replay bitmap.
    rtp_rx: ReplayWindow,
    /// ROC assumed for the first received packet (0 unless set with `set_roc`).
    rtp_rx_roc: u32,
    /// SRTCP receive replay window.
    rtcp_rx: ReplayWindow,
    /// SRTP send: highest index protected so far.
    rtp_tx_highest: Option<u64>,
    /// ROC used for the first protected packet.
    rtp_tx_roc: u32,
    /// SRTCP index of the next protected SRTCP packet.
    rtcp_tx_next: u32,
}

impl Stream {
    fn new(window: usize, initial_srtcp_index: u32) -> Self {
        Self {
            rtp_rx: ReplayWindow::new(window),
            rtp_rx_roc: 0,
            rtcp_rx: ReplayWindow::new(window),
            rtp_tx_highest: None,
            rtp_tx_roc: 0,
            rtcp_tx_next: initial_srtcp_index,
        }
    }

    fn rx_index(&self, seq: u16) -> Result<u64> {
        match self.rtp_rx.highest() {
            Some(h) => estimate_index(h, seq).ok_or(Error::TooOld {
                index: u64::from(seq),
                highest: h,
                window: self.rtp_rx.size(),
            }),
            None => Ok((u64::from(self.rtp_rx_roc) << 16) | u64::from(seq)),
        }
    }

    fn tx_index(&self, seq: u16) -> Result<u64> {
        match self.rtp_tx_highest {
            Some(h) => estimate_index(h, seq).ok_or(Error::IndexExhausted),
            None => Ok((u64::from(self.rtp_tx_roc) << 16) | u64::from(seq)),
        }
    }
}

/// Counters of what the session did; bad packets are counted here and otherwise dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// SRTP packets protected.
    pub rtp_protected: u64,
    /// SRTP packets unprotected successfully.
    pub rtp_unprotected: u64,
    /// SRTCP packets protected.
    pub rtcp_protected: u64,
    /// SRTCP packets unprotected successfully.
    pub rtcp_unprotected: u64,
    /// Packets refused because authentication failed.
    pub auth_failures: u64,
    /// Packets refused as replays or too old for the window.
    pub replays: u64,
    /// Packets refused for any other reason (too short, bad header, MKI, cap).
    pub other_errors: u64,
}

/// One SRTP session: the session keys derived from one master key (RFC 3711 4.3), and the
/// per-SSRC contexts (ROC, replay windows, SRTCP index) created on demand up to
/// `Config::max_streams`.
///
/// A session is one direction's keys, but keeps send and receive state per SSRC, so the same
/// session can protect (as the sender) and unprotect (as the receiver), e.g. in tests. In a
/// DTLS-SRTP association use two sessions, see [`split_keying_material`](crate::split_keying_material).
///
/// Nothing here allocates per packet: contexts are allocated once per new SSRC, and the
/// `Vec` methods only grow the vector when its spare capacity is short of the trailer.
/// A packet that fails (any error) never changes the ROC, the replay windows or the SRTCP
/// index.
pub struct Session {
    profile: ProtectionProfile,
    rtp: Keys,
    rtcp: Keys,
    mki: Option<Box<[u8]>>,
    replay_window: usize,
    max_streams: usize,
    initial_srtcp_index: u32,
    streams: HashMap<u32, Stream, BuildHasherDefault<SsrcHasher>>,
    stats: Stats,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("profile", &self.profile)
            .field("streams", &self.streams.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Reads a big-endian u16 at `off`.
#[inline]
fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

/// Reads a big-endian u32 at `off`.
#[inline]
fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    Some(u32::from_be_bytes(a))
}

/// Parses the RTP header fields SRTP needs (RFC 3550 5.1): header length (fixed header,
/// CSRCs and extension), sequence number, SSRC.
#[inline]
fn rtp_header(pkt: &[u8]) -> Result<(usize, u16, u32)> {
    let truncated = |need| Error::Truncated {
        what: "RTP header",
        need,
        have: pkt.len(),
    };
    let b0 = *pkt.first().ok_or(truncated(RTP_FIXED_HEADER_LEN))?;
    if pkt.len() < RTP_FIXED_HEADER_LEN {
        return Err(truncated(RTP_FIXED_HEADER_LEN));
    }
    if b0 >> 6 != 2 {
        return Err(Error::InvalidHeader {
            field: "RTP version",
            value: u32::from(b0 >> 6),
        });
    }
    let seq = be16(pkt, 2).ok_or(truncated(RTP_FIXED_HEADER_LEN))?;
    let ssrc = be32(pkt, 8).ok_or(truncated(RTP_FIXED_HEADER_LEN))?;
    let mut hl = RTP_FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        let words = be16(pkt, hl + 2).ok_or(truncated(hl + 4))?;
        hl += 4 + 4 * usize::from(words);
    }
    if pkt.len() < hl {
        return Err(truncated(hl));
    }
    Ok((hl, seq, ssrc))
}

/// Parses the RTCP header fields SRTCP needs (RFC 3550 6.4): the sender SSRC.
#[inline]
fn rtcp_header(pkt: &[u8], need: usize) -> Result<u32> {
    if pkt.len() < need {
        return Err(Error::Truncated {
            what: "SRTCP packet",
            need,
            have: pkt.len(),
        });
    }
    let b0 = pkt.first().copied().unwrap_or(0);
    if b0 >> 6 != 2 {
        return Err(Error::InvalidHeader {
            field: "RTCP version",
            value: u32::from(b0 >> 6),
        });
    }
    be32(pkt, 4).ok_or(Error::Truncated {
        what: "RTCP header",
        need: RTCP_HEADER_LEN,
        have: pkt.len(),
    })
}

/// Copies `src` into `buf` at `off`.
#[inline]
fn put(buf: &mut [u8], off: usize, src: &[u8]) -> Result<()> {
    let have = buf.len();
    let end = off.checked_add(src.len()).ok_or(Error::BufferTooSmall {
        need: usize::MAX,
        have,
    })?;
    buf.get_mut(off..end)
        .ok_or(Error::BufferTooSmall { need: end, have })?
        .copy_from_slice(src);
    Ok(())
}

impl Session {
    /// Derives the SRTP and SRTCP session keys (RFC 3711 4.3, key derivation rate 0) and
    /// creates an empty session. SRTP has no timers, so unlike the state machines of the
    /// other crates it needs no `now`.
    pub fn new(config: Config) -> Result<Self> {
        let keys = SessionKeys::derive(&config)?;
        Self::with_session_keys(config, &keys)
    }

    /// Creates a session from session keys given directly (as RFC 7714 16-17 publish them)
    /// instead of derived; `config` supplies the profile and tunables, its master key and
    /// salt are ignored.
    pub fn with_session_keys(config: Config, keys: &SessionKeys) -> Result<Self> {
        config.validate()?;
        let profile = config.profile();
        let rtp = Keys::from_raw(
            profile,
            &keys.rtp_cipher_key,
            &keys.rtp_salt,
            &keys.rtp_auth_key,
            false,
        )?;
        let rtcp = Keys::from_raw(
            profile,
            &keys.rtcp_cipher_key,
            &keys.rtcp_salt,
            &keys.rtcp_auth_key,
            true,
        )?;
        Ok(Self {
            profile,
            rtp,
            rtcp,
            mki: config.mki.clone().map(Vec::into_boxed_slice),
            replay_window: config.replay_window,
            max_streams: config.max_streams,
            initial_srtcp_index: config.initial_srtcp_index,
            streams: HashMap::default(),
            stats: Stats::default(),
        })
    }

    /// The protection profile.
    pub fn profile(&self) -> ProtectionProfile {
        self.profile
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Number of SSRC contexts.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    fn mki_len(&self) -> usize {
        self.mki.as_ref().map_or(0, |m| m.len())
    }

    /// Octets `protect_rtp` appends: authentication tag plus MKI.
    pub fn rtp_overhead(&self) -> usize {
        self.rtp.tag_len() + self.mki_len()
    }

    /// Octets `protect_rtcp` appends: authentication tag, E flag + SRTCP index, MKI.
    pub fn rtcp_overhead(&self) -> usize {
        self.rtcp.tag_len() + SRTCP_INDEX_LEN + self.mki_len()
    }

    /// The rollover counter of `ssrc` as the receiver tracks it (of the highest index
    /// received), or `None` if no packet of that SSRC was unprotected yet.
    pub fn rx_roc(&self, ssrc: u32) -> Option<u32> {
        let h = self.streams.get(&ssrc)?.rtp_rx.highest()?;
        u32::try_from(h >> 16).ok()
    }

    /// The rollover counter of `ssrc` on the sending side, or `None` before its first
    /// protected packet.
    pub fn tx_roc(&self, ssrc: u32) -> Option<u32> {
        let h = self.streams.get(&ssrc)?.rtp_tx_highest?;
        u32::try_from(h >> 16).ok()
    }

    /// Sets the ROC that the next SRTP packet of `ssrc` (sent or received) is taken to have,
    /// e.g. when joining a stream in progress (RFC 3711 3.3.1; libsrtp's `srtp_set_stream_roc`).
    /// Forgets that SSRC's SRTP replay history. Creates the context if needed.
    pub fn set_roc(&mut self, ssrc: u32, roc: u32) -> Result<()> {
        let stream = self.stream_entry(ssrc)?;
        stream.rtp_rx.reset_to(None);
        stream.rtp_rx_roc = roc;
        stream.rtp_tx_highest = None;
        stream.rtp_tx_roc = roc;
        Ok(())
    }

    fn stream_entry(&mut self, ssrc: u32) -> Result<&mut Stream> {
        let len = self.streams.len();
        let cap = self.max_streams;
        let window = self.replay_window;
        let first = self.initial_srtcp_index;
        match self.streams.entry(ssrc) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                if len >= cap {
                    return Err(Error::TooManyStreams { cap });
                }
                Ok(e.insert(Stream::new(window, first)))
            }
        }
    }

    fn count_error(&mut self, e: &Error) {
        match e {
            Error::AuthenticationFailed => self.stats.auth_failures += 1,
            Error::Replayed { .. } | Error::TooOld { .. } => self.stats.replays += 1,
            _ => self.stats.other_errors += 1,
        }
    }

    // ---------------------------------------------------------------- SRTP

    /// Protects the RTP packet in `packet` in place (RFC 3711 3.3 / RFC 7714 8.2): encrypts
    /// the payload and appends MKI and tag. Grows the vector only if its spare capacity is
    /// less than [`rtp_overhead`](Self::rtp_overhead). On error `packet` is left as it was.
    pub fn protect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<()> {
        let overhead = self.rtp_overhead();
        protect_vec(packet, overhead, |buf, len| {
            self.protect_rtp_in_place(buf, len)
        })
    }

    /// Protects the RTP packet in `buf[..len]` in place; `buf` must have at least
    /// [`rtp_overhead`](Self::rtp_overhead) octets after `len`. Returns the SRTP length.
    pub fn protect_rtp_in_place(&mut self, buf: &mut [u8], len: usize) -> Result<usize> {
        let r = self.protect_rtp_inner(buf, len);
        match &r {
            Ok(_) => self.stats.rtp_protected += 1,
            Err(e) => self.count_error(e),
        }
        r
    }

    fn protect_rtp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize> {
        let total = len + self.rtp_overhead();
        if buf.len() < total {
            return Err(Error::BufferTooSmall {
                need: total,
                have: buf.len(),
            });
        }
        let (pkt, trailer) = buf.split_at_mut(len);
        let (hl, seq, ssrc) = rtp_header(pkt)?;
        let mki_len = self.mki_len();
        let stream = self.stream_entry(ssrc)?;
        let index = stream.tx_index(seq)?;
        let roc = (index >> 16) as u32;
        match &self.rtp {
            Keys::CmHmac {
                aes,
                salt,
                hmac,
                tag_len,
            } => {
                // Encrypt the payload, then MAC header || payload || ROC.
                let mut mac = hmac.start();
                aes.encrypt_then_mac(&cm_iv(salt, ssrc, index), pkt, hl..len, &mut mac);
                mac.update(&roc.to_be_bytes());
                let tag = hmac.finish(mac);
                if let Some(m) = &self.mki {
                    put(trailer, 0, m)?;
                }
                put(trailer, mki_len, tag.get(..*tag_len).unwrap_or_default())?;
            }
            Keys::Gcm { key, salt } => {
                let (header, payload) = pkt.split_at_mut(hl);
                let nonce = aead::Nonce::assume_unique_for_key(gcm_rtp_iv(salt, ssrc, roc, seq));
                let tag = key
                    .seal_in_place_separate_tag(nonce, aead::Aad::from(&*header), payload)
                    .map_err(|_| Error::BufferTooSmall {
                        need: total,
                        have: total,
                    })?;
                put(trailer, 0, tag.as_ref())?;
                if let Some(m) = &self.mki {
                    put(trailer, GCM_TAG_LEN, m)?;
                }
            }
        }
        if let Some(stream) = self.streams.get_mut(&ssrc) {
            if stream.rtp_tx_highest.is_none_or(|h| index > h) {
                stream.rtp_tx_highest = Some(index);
            }
        }
        Ok(total)
    }

    /// Unprotects the SRTP packet in `packet` in place (RFC 3711 3.3 / RFC 7714 8.2):
    /// verifies, checks replay, decrypts, and truncates MKI and tag. On error the packet is
    /// dropped by the caller; its bytes may have been changed (AES-GCM decrypts while it
    /// verifies), but the session state is not.
    pub fn unprotect_rtp(&mut self, packet: &mut Vec<u8>) -> Result<()> {
        let n = self.unprotect_rtp_in_place(packet)?;
        packet.truncate(n);
        Ok(())
    }

    /// Unprotects the SRTP packet that fills `buf` in place; returns the length of the RTP
    /// packet at the front of `buf`.
    pub fn unprotect_rtp_in_place(&mut self, buf: &mut [u8]) -> Result<usize> {
        let r = self.unprotect_rtp_inner(buf);
        match &r {
            Ok(_) => self.stats.rtp_unprotected += 1,
            Err(e) => self.count_error(e),
        }
        r
    }

    fn unprotect_rtp_inner(&mut self, buf: &mut [u8]) -> Result<usize> {
        let (hl, seq, ssrc) = rtp_header(buf)?;
        let mki_len = self.mki_len();
        let tag_len = self.rtp.tag_len();
        let need = hl + mki_len + tag_len;
        if buf.len() < need {
            return Err(Error::Truncated {
                what: "SRTP packet",
                need,
                have: buf.len(),
            });
        }
        let fresh;
        let stream = match self.streams.get(&ssrc) {
            Some(s) => s,
            None => {
                if self.streams.len() >= self.max_streams {
                    return Err(Error::TooManyStreams {
                        cap: self.max_streams,
                    });
                }
                fresh = Stream::new(self.replay_window, self.initial_srtcp_index);
                &fresh
            }
        };
        let index = stream.rx_index(seq)?;
        stream.rtp_rx.check(index)?;
        let roc = (index >> 16) as u32;

        // AES-CM: body | MKI | tag (RFC 3711 3.1); AEAD: body | tag | MKI (RFC 7714 8).
        if let Some(m) = &self.mki {
            let pos = match &self.rtp {
                Keys::CmHmac { .. } => buf.len() - tag_len - mki_len,
                Keys::Gcm { .. } => buf.len() - mki_len,
            };
            if !ct_eq(m, buf.get(pos..pos + mki_len).unwrap_or_default()) {
                return Err(Error::UnknownMki);
            }
        }
        let plain_len = match &self.rtp {
            Keys::CmHmac {
                aes, salt, hmac, ..
            } => {
                let (body, tail) = buf.split_at_mut(buf.len() - tag_len - mki_len);
                let tag = tail.get(mki_len..).unwrap_or_default();
                // Verify the MAC over the ciphertext, then decrypt: a packet that fails is
                // left as given.
                let mut mac = hmac.start();
                mac.update(body);
                mac.update(&roc.to_be_bytes());
                let computed = hmac.finish(mac);
                let computed = computed.get(..tag_len).unwrap_or_default();
                if !ct_eq(computed, tag) {
                    return Err(Error::AuthenticationFailed);
                }
                let iv = cm_iv(salt, ssrc, index);
                aes.apply_keystream(&iv, body.get_mut(hl..).unwrap_or_default());
                body.len()
            }
            Keys::Gcm { key, salt } => {
                // Here the tag belongs to the ciphertext: body || tag, with MKI after it.
                let (body, _mki) = buf.split_at_mut(buf.len() - mki_len);
                let (header, ct) = body.split_at_mut(hl);
                let nonce = aead::Nonce::assume_unique_for_key(gcm_rtp_iv(salt, ssrc, roc, seq));
                key.open_in_place(nonce, aead::Aad::from(&*header), ct)
                    .map_err(|_| Error::AuthenticationFailed)?;
                body.len() - GCM_TAG_LEN
            }
        };
        let stream = self.stream_entry(ssrc)?;
        stream.rtp_rx.accept(index);
        Ok(plain_len)
    }

    // ---------------------------------------------------------------- SRTCP

    /// Protects the (compound) RTCP packet in `packet` in place (RFC 3711 3.4 / RFC 7714
    /// 9): encrypts everything after the first 8 octets and appends E flag + SRTCP index,
    /// MKI and tag (AES-GCM: tag, then E + index, then MKI).
    pub fn protect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<()> {
        let overhead = self.rtcp_overhead();
        protect_vec(packet, overhead, |buf, len| {
            self.protect_rtcp_in_place(buf, len)
        })
    }

    /// Protects the RTCP packet in `buf[..len]` in place; `buf` must have at least
    /// [`rtcp_overhead`](Self::rtcp_overhead) octets after `len`. Returns the SRTCP length.
    pub fn protect_rtcp_in_place(&mut self, buf: &mut [u8], len: usize) -> Result<usize> {
        let r = self.protect_rtcp_inner(buf, len);
        match &r {
            Ok(_) => self.stats.rtcp_protected += 1,
            Err(e) => self.count_error(e),
        }
        r
    }

    fn protect_rtcp_inner(&mut self, buf: &mut [u8], len: usize) -> Result<usize> {
        let total = len + self.rtcp_overhead();
        if buf.len() < total {
            return Err(Error::BufferTooSmall {
                need: total,
                have: buf.len(),
            });
        }
        let (pkt, trailer) = buf.split_at_mut(len);
        let ssrc = rtcp_header(pkt, RTCP_HEADER_LEN)?;
        let mki_len = self.mki_len();
        let stream = self.stream_entry(ssrc)?;
        let index = stream.rtcp_tx_next;
        if index > MAX_SRTCP_INDEX {
            return Err(Error::IndexExhausted);
        }
        let eidx = (SRTCP_E_FLAG | index).to_be_bytes();
        match &self.rtcp {
            Keys::CmHmac {
                aes,
                salt,
                hmac,
                tag_len,
            } => {
                put(trailer, 0, &eidx)?;
                // The authenticated portion is the packet and the E + index word after it.
                let authed = buf.get_mut(..len + SRTCP_INDEX_LEN).unwrap_or_default();
                let iv = cm_iv(salt, ssrc, u64::from(index));
                let mut mac = hmac.start();
                aes.encrypt_then_mac(&iv, authed, RTCP_HEADER_LEN..len, &mut mac);
                let tag = hmac.finish(mac);
                let trailer = buf.get_mut(len..).unwrap_or_default();
                if let Some(m) = &self.mki {
                    put(trailer, SRTCP_INDEX_LEN, m)?;
                }
                put(
                    trailer,
                    SRTCP_INDEX_LEN + mki_len,
                    tag.get(..*tag_len).unwrap_or_default(),
                )?;
            }
            Keys::Gcm { key, salt } => {
                let (header, payload) = pkt.split_at_mut(RTCP_HEADER_LEN);
                let mut aad = [0u8; RTCP_HEADER_LEN + SRTCP_INDEX_LEN];
                put(&mut aad, 0, header)?;
                put(&mut aad, RTCP_HEADER_LEN, &eidx)?;
                let nonce = aead::Nonce::assume_unique_for_key(gcm_rtcp_iv(salt, ssrc, index));
                let tag = key
                    .seal_in_place_separate_tag(nonce, aead::Aad::from(&aad), payload)
                    .map_err(|_| Error::BufferTooSmall {
                        need: total,
                        have: total,
                    })?;
                put(trailer, 0, tag.as_ref())?;
                put(trailer, GCM_TAG_LEN, &eidx)?;
                if let Some(m) = &self.mki {
                    put(trailer, GCM_TAG_LEN + SRTCP_INDEX_LEN, m)?;
                }
            }
        }
        if let Some(stream) = self.streams.get_mut(&ssrc) {
            stream.rtcp_tx_next = index + 1;
        }
        Ok(total)
    }

    /// Unprotects the SRTCP packet in `packet` in place (RFC 3711 3.4 / RFC 7714 9),
    /// accepting both E = 1 (encrypted) and E = 0 (authenticated only) packets.
    pub fn unprotect_rtcp(&mut self, packet: &mut Vec<u8>) -> Result<()> {
        let n = self.unprotect_rtcp_in_place(packet)?;
        packet.truncate(n);
        Ok(())
    }

    /// Unprotects the SRTCP packet that fills `buf` in place; returns the length of the
    /// RTCP packet at the front of `buf`.
    pub fn unprotect_rtcp_in_place(&mut self, buf: &mut [u8]) -> Result<usize> {
        let r = self.unprotect_rtcp_inner(buf);
        match &r {
            Ok(_) => self.stats.rtcp_unprotected += 1,
            Err(e) => self.count_error(e),
        }
        r
    }

    fn unprotect_rtcp_inner(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mki_len = self.mki_len();
        let tag_len = self.rtcp.tag_len();
        let trailer = tag_len + SRTCP_INDEX_LEN + mki_len;
        let ssrc = rtcp_header(buf, RTCP_HEADER_LEN + trailer)?;
        let len = buf.len();
        // Position of the E + index word.
        let eidx_pos = match &self.rtcp {
            Keys::CmHmac { .. } => len - tag_len - mki_len - SRTCP_INDEX_LEN,
            Keys::Gcm { .. } => len - mki_len - SRTCP_INDEX_LEN,
        };
        let eidx = be32(buf, eidx_pos).ok_or(Error::Truncated {
            what: "SRTCP index",
            need: trailer,
            have: len,
        })?;
        let encrypted = eidx & SRTCP_E_FLAG != 0;
        let index = eidx & MAX_SRTCP_INDEX;

        match self.streams.get(&ssrc) {
            Some(s) => s.rtcp_rx.check(u64::from(index))?,
            None => {
                if self.streams.len() >= self.max_streams {
                    return Err(Error::TooManyStreams {
                        cap: self.max_streams,
                    });
                }
            }
        }
        let mki_pos = match &self.rtcp {
            Keys::CmHmac { .. } => eidx_pos + SRTCP_INDEX_LEN,
            Keys::Gcm { .. } => eidx_pos + SRTCP_INDEX_LEN,
        };
        if let Some(m) = &self.mki {
            let got = buf.get(mki_pos..mki_pos + mki_len).unwrap_or_default();
            if !ct_eq(m, got) {
                return Err(Error::UnknownMki);
            }
        }
        let plain_len = match &self.rtcp {
            Keys::CmHmac {
                aes, salt, hmac, ..
            } => {
                let (authed, tail) = buf.split_at_mut(eidx_pos + SRTCP_INDEX_LEN);
                let tag = tail.get(mki_len..).unwrap_or_default();
                // Verify the MAC over the ciphertext, then decrypt (E = 1).
                let mut mac = hmac.start();
                mac.update(authed);
                let computed = hmac.finish(mac);
                let computed = computed.get(..tag_len).unwrap_or_default();
                if !ct_eq(computed, tag) {
                    return Err(Error::AuthenticationFailed);
                }
                if encrypted {
                    let iv = cm_iv(salt, ssrc, u64::from(index));
                    let payload = authed
                        .get_mut(RTCP_HEADER_LEN..eidx_pos)
                        .unwrap_or_default();
                    aes.apply_keystream(&iv, payload);
                }
                eidx_pos
            }
            Keys::Gcm { key, salt } => {
                let nonce = aead::Nonce::assume_unique_for_key(gcm_rtcp_iv(salt, ssrc, index));
                let tag_pos = eidx_pos - GCM_TAG_LEN;
                if encrypted {
                    let mut aad = [0u8; RTCP_HEADER_LEN + SRTCP_INDEX_LEN];
                    put(&mut aad, 0, buf.get(..RTCP_HEADER_LEN).unwrap_or_default())?;
                    put(&mut aad, RTCP_HEADER_LEN, &eidx.to_be_bytes())?;
                    let ct = buf.get_mut(RTCP_HEADER_LEN..eidx_pos).unwrap_or_default();
                    key.open_in_place(nonce, aead::Aad::from(&aad), ct)
                        .map_err(|_| Error::AuthenticationFailed)?;
                } else {
                    // RFC 7714 9.2 with E = 0: the AAD is the whole RTCP packet followed by
                    // the E + index word, and the ciphertext is empty. Rotate the tag behind
                    // the index word so that the AAD is contiguous, without copying out.
                    let region = buf
                        .get_mut(tag_pos..eidx_pos + SRTCP_INDEX_LEN)
                        .unwrap_or_default();
                    region.rotate_left(GCM_TAG_LEN);
                    let (aad, tag) = buf.split_at_mut(tag_pos + SRTCP_INDEX_LEN);
                    let tag = tag.get_mut(..GCM_TAG_LEN).unwrap_or_default();
                    let ok = key
                        .open_in_place(nonce, aead::Aad::from(&*aad), tag)
                        .is_ok();
                    let region = buf
                        .get_mut(tag_pos..eidx_pos + SRTCP_INDEX_LEN)
                        .unwrap_or_default();
                    region.rotate_right(GCM_TAG_LEN);
                    if !ok {
                        return Err(Error::AuthenticationFailed);
                    }
                }
                tag_pos
            }
        };
        let stream = self.stream_entry(ssrc)?;
        stream.rtcp_rx.accept(u64::from(index));
        Ok(plain_len)
    }
}

/// Whether a packet of the RTP/RTCP range (first byte 128..=191) is RTCP, by the RFC 5761 4
/// rule: the second octet (marker bit + payload type) is in 192..=223 (RTCP types 64..=95
/// with the marker bit set), e.g. SR 200, RR 201, SDES 202, BYE 203, RTPFB 205, PSFB 206.
pub fn is_rtcp(packet: &[u8]) -> bool {
    matches!(packet.get(1), Some(192..=223))
}

/// Largest valid SRTP packet index.
pub const MAX_INDEX: u64 = MAX_SRTP_INDEX;

/// Grows `packet` by `overhead` octets, runs `protect` on it (original length as argument) and
/// trims to the protected length, or back to the original length on error.
fn protect_vec(
    packet: &mut Vec<u8>,
    overhead: usize,
    protect: impl FnOnce(&mut [u8], usize) -> Result<usize>,
) -> Result<()> {
    let len = packet.len();
    packet.resize(len + overhead, 0);
    let r = protect(packet, len);
    packet.truncate(*r.as_ref().unwrap_or(&len));
    r.map(|_| ())
}
