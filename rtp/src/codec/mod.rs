//! Packetizers and depacketizers for the WebRTC codecs, and a frame assembler.
//!
//! A packetizer turns one encoded frame into RTP payloads no longer than an MTU budget (the
//! caller adds RTP headers and sets the marker bit on the last payload). A depacketizer turns
//! the payloads of one frame, in order, back into the codec's bitstream and tells
//! frame starts and keyframes apart. [`assembler::FrameAssembler`] buffers RTP packets,
//! outputs complete frames in order and says when to ask for a keyframe.

pub mod assembler;
pub mod av1;
pub mod h264;
pub mod opus;
pub mod vp8;
pub mod vp9;

use crate::error::Result;

/// The codecs this crate can (de)packetize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Opus (RFC 7587).
    Opus,
    /// VP8 (RFC 7741).
    Vp8,
    /// VP9 (RFC 9628).
    Vp9,
    /// H.264 (RFC 6184), packetization-mode 1.
    H264,
    /// AV1 (the AV1 RTP payload format).
    Av1,
}

impl Codec {
    /// Audio codecs: every packet is a frame, and loss never needs a keyframe.
    pub fn is_audio(self) -> bool {
        matches!(self, Codec::Opus)
    }
    /// Codec by SDP encoding name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "opus" => Some(Codec::Opus),
            "vp8" => Some(Codec::Vp8),
            "vp9" => Some(Codec::Vp9),
            "h264" => Some(Codec::H264),
            "av1" | "av1x" => Some(Codec::Av1),
            _ => None,
        }
    }
}

/// Splits frames into RTP payloads.
pub trait Packetizer {
    /// Payloads for `frame`, each at most `mtu` octets.
    fn packetize(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>>;
}

/// The payloads of one frame, back to back in one buffer that is reused from frame to frame
/// (see [`vp8::Vp8Packetizer::packetize_into`]): after the first frames, packetizing
/// allocates nothing. The buffer holds one frame plus its payload descriptors; `clear`
/// keeps the capacity, [`Payloads::shrink_to`] gives it back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payloads {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Payloads {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }
    /// Drops the payloads, keeps the capacity.
    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
    /// Releases capacity beyond `bytes` octets of payload data.
    pub fn shrink_to(&mut self, bytes: usize) {
        self.data.shrink_to(bytes);
        self.ends.shrink_to(bytes / 64);
    }
    /// Number of payloads.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether there is no payload.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Payload `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(p) => *self.ends.get(p)?,
            None => 0,
        };
        self.data.get(start..end)
    }
    /// The payloads in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.ends.iter().scan(0usize, |start, &end| {
            let p = self.data.get(*start..end);
            *start = end;
            p
        })
    }
    /// All payloads concatenated.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }
    /// Room for `payloads` more payloads totalling `bytes` octets.
    pub(crate) fn reserve(&mut self, payloads: usize, bytes: usize) {
        self.data.reserve(bytes);
        self.ends.reserve(payloads);
    }
    /// Appends one payload: `header` then `body`.
    #[inline]
    pub(crate) fn push(&mut self, header: &[u8], body: &[u8]) {
        self.data.extend_from_slice(header);
        self.data.extend_from_slice(body);
        self.ends.push(self.data.len());
    }
}

/// Reassembles RTP payloads into the codec bitstream.
pub trait Depacketizer {
    /// Appends the media in `payload` to `out`. Payloads of a frame are given in order,
    /// after a [`Depacketizer::reset`] at the frame start.
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()>;
    /// `Some(true)` if `payload` certainly starts a frame, `Some(false)` if it certainly does
    /// not, `None` if the payload format cannot tell.
    fn is_frame_start(&self, payload: &[u8]) -> Option<bool>;
    /// Whether `payload` shows that its frame is a keyframe (independently decodable).
    fn is_keyframe(&self, payload: &[u8]) -> bool;
    /// Drops partial state (a fragment in progress).
    fn reset(&mut self) {}
    /// Whether a keyframe just depacketized can really be decoded (H.264: SPS/PPS known).
    fn keyframe_ready(&self) -> bool {
        true
    }
}

/// Any of the depacketizers, by [`Codec`].
#[derive(Debug, Clone)]
pub enum AnyDepacketizer {
    /// Opus.
    Opus(opus::OpusDepacketizer),
    /// VP8.
    Vp8(vp8::Vp8Depacketizer),
    /// VP9.
    Vp9(vp9::Vp9Depacketizer),
    /// H.264.
    H264(h264::H264Depacketizer),
    /// AV1.
    Av1(av1::Av1Depacketizer),
}

impl AnyDepacketizer {
    /// The depacketizer for `codec`.
    pub fn new(codec: Codec) -> Self {
        match codec {
            Codec::Opus => AnyDepacketizer::Opus(opus::OpusDepacketizer),
            Codec::Vp8 => AnyDepacketizer::Vp8(vp8::Vp8Depacketizer),
            Codec::Vp9 => AnyDepacketizer::Vp9(vp9::Vp9Depacketizer),
            Codec::H264 => AnyDepacketizer::H264(h264::H264Depacketizer::default()),
            Codec::Av1 => AnyDepacketizer::Av1(av1::Av1Depacketizer::default()),
        }
    }
    fn inner(&self) -> &dyn Depacketizer {
        match self {
            AnyDepacketizer::Opus(d) => d,
            AnyDepacketizer::Vp8(d) => d,
            AnyDepacketizer::Vp9(d) => d,
            AnyDepacketizer::H264(d) => d,
            AnyDepacketizer::Av1(d) => d,
        }
    }
    fn inner_mut(&mut self) -> &mut dyn Depacketizer {
        match self {
            AnyDepacketizer::Opus(d) => d,
            AnyDepacketizer::Vp8(d) => d,
            AnyDepacketizer::Vp9(d) => d,
            AnyDepacketizer::H264(d) => d,
            AnyDepacketizer::Av1(d) => d,
        }
    }
}

impl Depacketizer for AnyDepacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.inner_mut().depacketize(payload, out)
    }
    fn is_frame_start(&self, payload: &[u8]) -> Option<bool> {
        self.inner().is_frame_start(payload)
    }
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        self.inner().is_keyframe(payload)
    }
    fn reset(&mut self) {
        self.inner_mut().reset();
    }
    fn keyframe_ready(&self) -> bool {
        self.inner().keyframe_ready()
    }
}

pub(crate) fn codec_err(codec: &'static str, what: &'static str) -> crate::Error {
    crate::Error::Codec { codec, what }
}

/// Fuzzing entry: first octet picks the codec, then `len(1) payload` records are fed to the
/// depacketizer directly and to a frame assembler as consecutive RTP packets.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_depacketize(data: &[u8]) {
    use std::time::{Duration, Instant};
    let Some((&sel, mut rest)) = data.split_first() else {
        return;
    };
    let codec = match sel % 5 {
        0 => Codec::Opus,
        1 => Codec::Vp8,
        2 => Codec::Vp9,
        3 => Codec::H264,
        _ => Codec::Av1,
    };
    let mut d = AnyDepacketizer::new(codec);
    let t0 = Instant::now();
    let mut asm = assembler::FrameAssembler::new(assembler::AssemblerConfig::new(codec), t0);
    let mut out = Vec::new();
    let mut seq = u16::from(sel);
    let mut ts = 0u32;
    while let Some((&hdr, r)) = rest.split_first() {
        let len = usize::from(hdr & 0x7F);
        let (payload, r) = r.split_at(len.min(r.len()));
        rest = r;
        let _ = d.is_frame_start(payload);
        let _ = d.is_keyframe(payload);
        let _ = d.depacketize(payload, &mut out);
        assert!(
            out.len() <= 4 * data.len() + 64,
            "depacketizer output grew unboundedly"
        );
        let marker = hdr & 0x80 != 0;
        let now = t0 + Duration::from_millis(u64::from(seq % 64));
        asm.handle_rtp(now, seq, ts, marker, payload);
        asm.handle_timeout(now);
        while let Some(ev) = asm.poll_event() {
            if let assembler::AssemblerEvent::Frame(f) = ev {
                assert!(f.data.len() <= 4 * data.len() + 64);
            }
        }
        if marker {
            ts = ts.wrapping_add(3000);
        }
        seq = seq.wrapping_add(if hdr & 0x40 != 0 { 2 } else { 1 });
    }
}
