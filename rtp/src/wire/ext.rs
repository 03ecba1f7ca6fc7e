//! Typed RFC 8285 header extensions that WebRTC negotiates with `a=extmap`.
//!
//! Each type has `parse(&[u8])` (the element value) and `to_bytes` / `write` for building.
//! [`ExtensionKind::from_uri`] maps an extmap URI to its kind, and [`ExtensionMap`] holds the
//! id → kind table of a session.

use crate::error::{Error, Result};

/// abs-send-time URI.
pub const ABS_SEND_TIME_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
/// transport-wide-cc URI.
pub const TRANSPORT_CC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
/// sdes:mid URI (RFC 9143).
pub const SDES_MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
/// rtp-stream-id URI (RFC 8852).
pub const RTP_STREAM_ID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
/// repaired-rtp-stream-id URI (RFC 8852).
pub const REPAIRED_RTP_STREAM_ID_URI: &str =
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
/// ssrc-audio-level URI (RFC 6464).
pub const AUDIO_LEVEL_URI: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
/// Coordination of video orientation URI (3GPP TS 26.114).
pub const VIDEO_ORIENTATION_URI: &str = "urn:3gpp:video-orientation";
/// playout-delay URI.
pub const PLAYOUT_DELAY_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
/// abs-capture-time URI.
pub const ABS_CAPTURE_TIME_URI: &str =
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";

/// The header extensions this crate knows how to interpret.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionKind {
    /// [`AbsSendTime`].
    AbsSendTime,
    /// [`TransportCc`].
    TransportCc,
    /// sdes:mid, a string.
    SdesMid,
    /// rtp-stream-id, a string.
    RtpStreamId,
    /// repaired-rtp-stream-id, a string.
    RepairedRtpStreamId,
    /// [`AudioLevel`].
    AudioLevel,
    /// [`VideoOrientation`].
    VideoOrientation,
    /// [`PlayoutDelay`].
    PlayoutDelay,
    /// [`AbsCaptureTime`].
    AbsCaptureTime,
}

impl ExtensionKind {
    /// All known kinds.
    pub const ALL: [ExtensionKind; 9] = [
        ExtensionKind::AbsSendTime,
        ExtensionKind::TransportCc,
        ExtensionKind::SdesMid,
        ExtensionKind::RtpStreamId,
        ExtensionKind::RepairedRtpStreamId,
        ExtensionKind::AudioLevel,
        ExtensionKind::VideoOrientation,
        ExtensionKind::PlayoutDelay,
        ExtensionKind::AbsCaptureTime,
    ];
    /// The extmap URI.
    pub fn uri(self) -> &'static str {
        match self {
            ExtensionKind::AbsSendTime => ABS_SEND_TIME_URI,
            ExtensionKind::TransportCc => TRANSPORT_CC_URI,
            ExtensionKind::SdesMid => SDES_MID_URI,
            ExtensionKind::RtpStreamId => RTP_STREAM_ID_URI,
            ExtensionKind::RepairedRtpStreamId => REPAIRED_RTP_STREAM_ID_URI,
            ExtensionKind::AudioLevel => AUDIO_LEVEL_URI,
            ExtensionKind::VideoOrientation => VIDEO_ORIENTATION_URI,
            ExtensionKind::PlayoutDelay => PLAYOUT_DELAY_URI,
            ExtensionKind::AbsCaptureTime => ABS_CAPTURE_TIME_URI,
        }
    }
    /// A short name (for logs and the `sansrtc decode` output).
    pub fn name(self) -> &'static str {
        match self {
            ExtensionKind::AbsSendTime => "abs-send-time",
            ExtensionKind::TransportCc => "transport-wide-cc",
            ExtensionKind::SdesMid => "sdes:mid",
            ExtensionKind::RtpStreamId => "rtp-stream-id",
            ExtensionKind::RepairedRtpStreamId => "repaired-rtp-stream-id",
            ExtensionKind::AudioLevel => "ssrc-audio-level",
            ExtensionKind::VideoOrientation => "video-orientation",
            ExtensionKind::PlayoutDelay => "playout-delay",
            ExtensionKind::AbsCaptureTime => "abs-capture-time",
        }
    }
    /// Kind of an extmap URI (exact match).
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.uri() == uri.trim())
    }
}

/// A session's `a=extmap` table: local id (1..=255) → kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionMap {
    ids: [Option<ExtensionKind>; 256],
}

impl Default for ExtensionMap {
    fn default() -> Self {
        Self::new()
    }
}

impl ExtensionMap {
    /// An empty map.
    pub fn new() -> Self {
        ExtensionMap { ids: [None; 256] }
    }
    /// Maps `id` to `kind` (id 0 is ignored: it is padding in RFC 8285).
    pub fn insert(&mut self, id: u8, kind: ExtensionKind) {
        if id != 0 {
            if let Some(slot) = self.ids.get_mut(usize::from(id)) {
                *slot = Some(kind);
            }
        }
    }
    /// The kind mapped to `id`.
    pub fn get(&self, id: u8) -> Option<ExtensionKind> {
        self.ids.get(usize::from(id)).copied().flatten()
    }
    /// The id mapped to `kind`.
    pub fn id_of(&self, kind: ExtensionKind) -> Option<u8> {
        self.ids
            .iter()
            .position(|k| *k == Some(kind))
            .and_then(|i| u8::try_from(i).ok())
    }
}

fn exact<const N: usize>(data: &[u8], what: &'static str) -> Result<[u8; N]> {
    data.try_into().map_err(|_| Error::BadLength {
        what,
        claimed: data.len(),
        available: N,
    })
}

/// abs-send-time: 24-bit 6.18 fixed-point seconds (the middle of an NTP timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsSendTime(pub u32);

impl AbsSendTime {
    /// Parses the 3-octet value.
    pub fn parse(data: &[u8]) -> Result<Self> {
        let [a, b, c] = exact::<3>(data, "abs-send-time value")?;
        Ok(AbsSendTime(u32::from_be_bytes([0, a, b, c])))
    }
    /// From a 64-bit NTP timestamp (bits 14..38 of the 32.32 value).
    pub fn from_ntp(ntp: u64) -> Self {
        AbsSendTime(((ntp >> 14) & 0x00FF_FFFF) as u32)
    }
    /// The 3 octets.
    pub fn to_bytes(self) -> [u8; 3] {
        let b = self.0.to_be_bytes();
        [b[1], b[2], b[3]]
    }
    /// Seconds (mod 64) as a float.
    pub fn seconds(self) -> f64 {
        f64::from(self.0 & 0x00FF_FFFF) / f64::from(1u32 << 18)
    }
}

/// transport-wide-cc: a 16-bit transport-wide sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransportCc(pub u16);

impl TransportCc {
    /// Parses the 2-octet value.
    pub fn parse(data: &[u8]) -> Result<Self> {
        // Version 2 of the draft appends 2 octets of feedback request; keep the seq number.
        match data {
            [a, b] | [a, b, _, _] => Ok(TransportCc(u16::from_be_bytes([*a, *b]))),
            _ => Err(Error::BadLength {
                what: "transport-wide-cc value",
                claimed: data.len(),
                available: 2,
            }),
        }
    }
    /// The 2 octets.
    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

/// The string extensions sdes:mid, rtp-stream-id and repaired-rtp-stream-id (RFC 8852):
/// 1..=255 octets of US-ASCII alphanumerics (RFC 8852 §3 restricts RID to `[A-Za-z0-9_-]`).
pub fn parse_sdes_string(data: &[u8]) -> Result<&str> {
    if data.is_empty() {
        return Err(Error::BadLength {
            what: "SDES string extension",
            claimed: 0,
            available: 0,
        });
    }
    // Some senders pad with NULs inside the element; the string ends at the first one.
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let s = data.get(..end).unwrap_or(&[]);
    core::str::from_utf8(s).map_err(|e| Error::InvalidField {
        field: "SDES string extension (not UTF-8)",
        value: e.valid_up_to() as u64,
    })
}

/// ssrc-audio-level (RFC 6464 §3): voice activity flag and level in -dBov (0..=127).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AudioLevel {
    /// V flag: the encoder believes the packet contains voice.
    pub voice: bool,
    /// Level, 0 (loudest) to 127 (silence) in -dBov.
    pub level: u8,
}

impl AudioLevel {
    /// Parses the value (1 octet; RFC 6464 also allows padding in the two-byte form).
    pub fn parse(data: &[u8]) -> Result<Self> {
        let Some(&b) = data.first() else {
            return Err(Error::BadLength {
                what: "ssrc-audio-level value",
                claimed: 0,
                available: 1,
            });
        };
        Ok(AudioLevel {
            voice: b & 0x80 != 0,
            level: b & 0x7F,
        })
    }
    /// The octet.
    pub fn to_bytes(self) -> [u8; 1] {
        [if self.voice { 0x80 } else { 0 } | (self.level & 0x7F)]
    }
}

/// Coordination of video orientation (3GPP TS 26.114 §7.4.5): camera, flip, rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoOrientation {
    /// C: back-facing camera.
    pub back_camera: bool,
    /// F: horizontal flip.
    pub flip: bool,
    /// R1R0: rotation in units of 90° clockwise (0..=3).
    pub rotation: u8,
}

impl VideoOrientation {
    /// Parses the 1-octet value.
    pub fn parse(data: &[u8]) -> Result<Self> {
        let [b] = exact::<1>(data, "video-orientation value")?;
        Ok(VideoOrientation {
            back_camera: b & 0x08 != 0,
            flip: b & 0x04 != 0,
            rotation: b & 0x03,
        })
    }
    /// Rotation in degrees.
    pub fn degrees(self) -> u16 {
        u16::from(self.rotation & 3) * 90
    }
    /// The octet.
    pub fn to_bytes(self) -> [u8; 1] {
        [if self.back_camera { 0x08 } else { 0 }
            | if self.flip { 0x04 } else { 0 }
            | (self.rotation & 0x03)]
    }
}

/// playout-delay: minimum and maximum delay, 12 bits each, in units of 10 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlayoutDelay {
    /// Minimum delay in 10 ms units (0..=4095).
    pub min: u16,
    /// Maximum delay in 10 ms units (0..=4095).
    pub max: u16,
}

impl PlayoutDelay {
    /// Parses the 3-octet value.
    pub fn parse(data: &[u8]) -> Result<Self> {
        let [a, b, c] = exact::<3>(data, "playout-delay value")?;
        let v = u32::from_be_bytes([0, a, b, c]);
        Ok(PlayoutDelay {
            min: (v >> 12) as u16,
            max: (v & 0xFFF) as u16,
        })
    }
    /// The 3 octets.
    pub fn to_bytes(self) -> [u8; 3] {
        let v = (u32::from(self.min & 0xFFF) << 12) | u32::from(self.max & 0xFFF);
        let b = v.to_be_bytes();
        [b[1], b[2], b[3]]
    }
}

/// abs-capture-time: NTP capture timestamp, optionally with the estimated capture clock
/// offset (Q32.32 signed seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbsCaptureTime {
    /// 64-bit NTP timestamp (UQ32.32) of the capture.
    pub timestamp: u64,
    /// Estimated capture clock offset (Q32.32), if sent.
    pub clock_offset: Option<i64>,
}

impl AbsCaptureTime {
    /// Parses the 8- or 16-octet value.
    pub fn parse(data: &[u8]) -> Result<Self> {
        match data.len() {
            8 => Ok(AbsCaptureTime {
                timestamp: u64::from_be_bytes(exact::<8>(data, "abs-capture-time value")?),
                clock_offset: None,
            }),
            16 => {
                let (a, b) = data.split_at(8);
                Ok(AbsCaptureTime {
                    timestamp: u64::from_be_bytes(exact::<8>(a, "abs-capture-time value")?),
                    clock_offset: Some(i64::from_be_bytes(exact::<8>(
                        b,
                        "abs-capture-time offset",
                    )?)),
                })
            }
            n => Err(Error::BadLength {
                what: "abs-capture-time value (8 or 16 octets)",
                claimed: n,
                available: 8,
            }),
        }
    }
    /// Writes the value into `out` (8 or 16 octets) and returns the length written.
    pub fn write(self, out: &mut [u8; 16]) -> usize {
        let (a, b) = out.split_at_mut(8);
        a.copy_from_slice(&self.timestamp.to_be_bytes());
        match self.clock_offset {
            Some(o) => {
                b.copy_from_slice(&o.to_be_bytes());
                16
            }
            None => 8,
        }
    }
}

/// A typed view of one extension value, see [`TypedExtension::parse`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedExtension<'a> {
    /// abs-send-time.
    AbsSendTime(AbsSendTime),
    /// transport-wide-cc.
    TransportCc(TransportCc),
    /// sdes:mid.
    SdesMid(&'a str),
    /// rtp-stream-id.
    RtpStreamId(&'a str),
    /// repaired-rtp-stream-id.
    RepairedRtpStreamId(&'a str),
    /// ssrc-audio-level.
    AudioLevel(AudioLevel),
    /// video-orientation.
    VideoOrientation(VideoOrientation),
    /// playout-delay.
    PlayoutDelay(PlayoutDelay),
    /// abs-capture-time.
    AbsCaptureTime(AbsCaptureTime),
}

impl<'a> TypedExtension<'a> {
    /// Interprets `data` as an extension of `kind`.
    pub fn parse(kind: ExtensionKind, data: &'a [u8]) -> Result<Self> {
        Ok(match kind {
            ExtensionKind::AbsSendTime => TypedExtension::AbsSendTime(AbsSendTime::parse(data)?),
            ExtensionKind::TransportCc => TypedExtension::TransportCc(TransportCc::parse(data)?),
            ExtensionKind::SdesMid => TypedExtension::SdesMid(parse_sdes_string(data)?),
            ExtensionKind::RtpStreamId => TypedExtension::RtpStreamId(parse_sdes_string(data)?),
            ExtensionKind::RepairedRtpStreamId => {
                TypedExtension::RepairedRtpStreamId(parse_sdes_string(data)?)
            }
            ExtensionKind::AudioLevel => TypedExtension::AudioLevel(AudioLevel::parse(data)?),
            ExtensionKind::VideoOrientation => {
                TypedExtension::VideoOrientation(VideoOrientation::parse(data)?)
            }
            ExtensionKind::PlayoutDelay => TypedExtension::PlayoutDelay(PlayoutDelay::parse(data)?),
            ExtensionKind::AbsCaptureTime => {
                TypedExtension::AbsCaptureTime(AbsCaptureTime::parse(data)?)
            }
        })
    }
}
