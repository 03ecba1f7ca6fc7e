//! Frame assembler: buffers RTP packets of one stream, outputs complete frames in order,
//! knows keyframes, and tells the caller when to ask for one (PLI/FIR, RFC 4585 §6.3.1,
//! RFC 5104 §4.3.1).
//!
//! A frame is the run of consecutive sequence numbers sharing one RTP timestamp that ends
//! with the marker bit (RFC 3550 §5.1; every payload format here sets M on a frame's last
//! packet). Its start is known when the payload format says so, or when the previous
//! sequence number ended the previous frame. Frames leave in decode order; a frame after
//! a gap waits `max_wait` for the missing packets (NACK/RTX time), after which the gap is
//! declared lost. For video, loss means the decoder needs a keyframe: non-key frames are
//! dropped until one arrives, and [`AssemblerEvent::RequestKeyframe`] is raised (at most
//! once per `keyframe_request_interval`). Audio frames (Opus) are independent.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::{AnyDepacketizer, Codec, Depacketizer};
use crate::seq::SeqUnwrapper;
use crate::wire::rtp::RtpPacket;

/// Configuration of [`FrameAssembler`].
#[derive(Debug, Clone)]
pub struct AssemblerConfig {
    /// The payload format.
    pub codec: Codec,
    /// Cap on buffered packets; beyond it the oldest are dropped (as lost).
    pub max_packets: usize,
    /// Cap on one frame's depacketized size; larger frames are dropped.
    pub max_frame_bytes: usize,
    /// How long a frame after a gap waits for the missing packets.
    pub max_wait: Duration,
    /// Minimum interval between two keyframe requests.
    pub keyframe_request_interval: Duration,
    /// Cap on queued events.
    pub max_events: usize,
}

impl AssemblerConfig {
    /// Defaults for `codec`: 1024 packets, 8 MiB frames, 200 ms wait, 500 ms between
    /// keyframe requests.
    pub fn new(codec: Codec) -> Self {
        AssemblerConfig {
            codec,
            max_packets: 1024,
            max_frame_bytes: 8 << 20,
            max_wait: Duration::from_millis(200),
            keyframe_request_interval: Duration::from_millis(500),
            max_events: 64,
        }
    }
}

/// A complete, depacketized frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// RTP timestamp.
    pub timestamp: u32,
    /// Independently decodable.
    pub keyframe: bool,
    /// The codec bitstream (Annex B for H.264, low-overhead OBUs for AV1).
    pub data: Vec<u8>,
    /// First sequence number.
    pub first_seq: u16,
    /// Last sequence number.
    pub last_seq: u16,
}

/// Output of the assembler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssemblerEvent {
    /// A frame ready for the decoder.
    Frame(Frame),
    /// Send a PLI (or FIR): the decoder cannot go on without a keyframe.
    RequestKeyframe,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// Frames output.
    pub frames: u64,
    /// Keyframes output.
    pub keyframes: u64,
    /// Frames dropped (incomplete, undecodable, or waiting for a keyframe).
    pub frames_dropped: u64,
    /// Packets dropped (late, duplicate, over the cap).
    pub packets_dropped: u64,
    /// Keyframe requests raised.
    pub keyframe_requests: u64,
}

#[derive(Debug, Clone)]
struct Pkt {
    ts: u32,
    marker: bool,
    start: Option<bool>,
    key: bool,
    arrived: Instant,
    payload: Vec<u8>,
}

/// The frame assembler. See the module docs.
#[derive(Debug)]
pub struct FrameAssembler {
    config: AssemblerConfig,
    depack: AnyDepacketizer,
    unwrapper: SeqUnwrapper,
    packets: BTreeMap<i64, Pkt>,
    /// Last sequence number handed out or given up on.
    done_until: Option<i64>,
    need_keyframe: bool,
    last_request: Option<Instant>,
    events: VecDeque<AssemblerEvent>,
    stats: AssemblerStats,
}

impl FrameAssembler {
    /// A new assembler. Video starts out needing a keyframe.
    pub fn new(config: AssemblerConfig, _now: Instant) -> Self {
        let depack = AnyDepacketizer::new(config.codec);
        let need_keyframe = !config.codec.is_audio();
        FrameAssembler {
            config,
            depack,
            unwrapper: SeqUnwrapper::new(),
            packets: BTreeMap::new(),
            done_until: None,
            need_keyframe,
            last_request: None,
            events: VecDeque::new(),
            stats: AssemblerStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> AssemblerStats {
        self.stats
    }

    /// Whether the decoder is waiting for a keyframe.
    pub fn needs_keyframe(&self) -> bool {
        self.need_keyframe
    }

    /// Feeds a validated RTP packet.
    pub fn handle_receive(&mut self, now: Instant, packet: &RtpPacket<&[u8]>) {
        self.handle_rtp(
            now,
            packet.sequence_number(),
            packet.timestamp(),
            packet.marker(),
            packet.payload(),
        );
    }

    /// Feeds the fields of an RTP packet.
    pub fn handle_rtp(&mut self, now: Instant, seq: u16, ts: u32, marker: bool, payload: &[u8]) {
        let ext = self.unwrapper.unwrap(seq);
        if self.done_until.is_some_and(|d| ext <= d) || self.packets.contains_key(&ext) {
            self.stats.packets_dropped += 1;
            return;
        }
        let audio = self.config.codec.is_audio();
        self.packets.insert(
            ext,
            Pkt {
                ts,
                // Audio: every packet is a whole frame, whatever M says.
                marker: marker || audio,
                start: if audio {
                    Some(true)
                } else {
                    self.depack.is_frame_start(payload)
                },
                key: self.depack.is_keyframe(payload),
                arrived: now,
                payload: payload.to_vec(),
            },
        );
        while self.packets.len() > self.config.max_packets {
            if let Some((s, _)) = self.packets.pop_first() {
                self.stats.packets_dropped += 1;
                self.give_up_until(s, now);
            }
        }
        self.assemble(now);
    }

    fn push_event(&mut self, e: AssemblerEvent) {
        if self.events.len() >= self.config.max_events {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    fn request_keyframe(&mut self, now: Instant) {
        let due = self.last_request.is_none_or(|t| {
            now.saturating_duration_since(t) >= self.config.keyframe_request_interval
        });
        if due {
            self.last_request = Some(now);
            self.stats.keyframe_requests += 1;
            self.push_event(AssemblerEvent::RequestKeyframe);
        }
    }

    /// Everything up to and including `seq` is lost: forget it.
    fn give_up_until(&mut self, seq: i64, now: Instant) {
        let keep = self.packets.split_off(&(seq + 1));
        let dropped = std::mem::replace(&mut self.packets, keep);
        self.stats.packets_dropped += dropped.len() as u64;
        self.done_until = Some(self.done_until.map_or(seq, |d| d.max(seq)));
        self.stats.frames_dropped += 1;
        if !self.config.codec.is_audio() {
            self.need_keyframe = true;
            self.request_keyframe(now);
        }
    }

    /// The complete frames in the buffer: (first seq, last seq, keyframe), oldest first.
    fn complete_frames(&self) -> Vec<(i64, i64, bool)> {
        let mut found = Vec::new();
        let mut run_start: Option<i64> = None;
        let mut key = false;
        let mut prev: Option<(i64, u32, bool)> = None;
        for (&s, p) in &self.packets {
            let contiguous = prev.is_some_and(|(ps, pts, pm)| ps + 1 == s && pts == p.ts && !pm);
            if !contiguous {
                // A new candidate frame starts at s if we can tell it is a start.
                let after_done = self.done_until.is_some_and(|d| d + 1 == s);
                let prev_ended =
                    prev.is_some_and(|(ps, pts, pm)| ps + 1 == s && (pm || pts != p.ts));
                let starts = match p.start {
                    Some(false) => false,
                    Some(true) => true,
                    None => {
                        after_done || prev_ended || (self.done_until.is_none() && prev.is_none())
                    }
                };
                run_start = if starts { Some(s) } else { None };
                key = false;
            }
            key |= p.key;
            if p.marker {
                if let Some(first) = run_start.take() {
                    found.push((first, s, key));
                }
            }
            prev = Some((s, p.ts, p.marker));
        }
        found
    }

    fn assemble(&mut self, now: Instant) {
        let audio = self.config.codec.is_audio();
        loop {
            let oldest = self.packets.first_key_value().map(|(&s, _)| s);
            // In decode order: right after the last frame out or, before any, the oldest
            // packet held (older packets may still come, so only a keyframe may start).
            let in_order = |first: i64, key: bool| match self.done_until {
                Some(d) => d + 1 == first,
                None => oldest == Some(first) && (key || audio),
            };
            let next = self.complete_frames().into_iter().find(|&(first, _, key)| {
                // In order, or a keyframe that makes the gap before it irrelevant.
                in_order(first, key) || (key && !audio)
            });
            let Some((first, last, keyframe)) = next else {
                return;
            };
            let in_order = in_order(first, keyframe);
            // Take the frame's packets; drop everything older.
            let rest = self.packets.split_off(&(last + 1));
            let mut taken = std::mem::replace(&mut self.packets, rest);
            let frame_pkts = taken.split_off(&first);
            self.stats.packets_dropped += taken.len() as u64;
            self.done_until = Some(last);
            if !in_order {
                self.stats.frames_dropped += 1;
            }
            self.output(now, first, last, keyframe, frame_pkts);
        }
    }

    fn output(&mut self, now: Instant, first: i64, last: i64, key: bool, pkts: BTreeMap<i64, Pkt>) {
        let audio = self.config.codec.is_audio();
        if self.need_keyframe && !key && !audio {
            self.stats.frames_dropped += 1;
            self.request_keyframe(now);
            return;
        }
        self.depack.reset();
        let mut data = Vec::new();
        let mut ts = 0;
        let mut ok = true;
        for p in pkts.values() {
            ts = p.ts;
            if self.depack.depacketize(&p.payload, &mut data).is_err()
                || data.len() > self.config.max_frame_bytes
            {
                ok = false;
                break;
            }
        }
        let keyframe = key && self.depack.keyframe_ready();
        if !ok || (self.need_keyframe && !keyframe && !audio) {
            self.stats.frames_dropped += 1;
            if !audio {
                self.need_keyframe = true;
                self.request_keyframe(now);
            }
            return;
        }
        if keyframe {
            self.need_keyframe = false;
            self.stats.keyframes += 1;
        }
        self.stats.frames += 1;
        self.push_event(AssemblerEvent::Frame(Frame {
            timestamp: ts,
            keyframe,
            data,
            first_seq: first as u16,
            last_seq: last as u16,
        }));
    }

    /// Gives up on gaps older than `max_wait` and repeats keyframe requests.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((&s, p)) = self.packets.first_key_value() {
            if now.saturating_duration_since(p.arrived) < self.config.max_wait {
                break;
            }
            // The oldest packet waited too long: give up on everything before it, and on its
            // own frame if that frame cannot complete.
            let before = s - 1;
            if self.done_until.is_none_or(|d| d < before) {
                self.give_up_until(before, now);
            }
            let n = self.packets.len();
            self.assemble(now);
            if self.packets.len() == n {
                // Still stuck on this packet's frame: drop it.
                let ts = p_ts(&self.packets, s);
                let end = self
                    .packets
                    .range(s..)
                    .take_while(|(_, q)| Some(q.ts) == ts)
                    .map(|(&k, _)| k)
                    .last()
                    .unwrap_or(s);
                self.give_up_until(end, now);
                self.assemble(now);
            }
        }
        if self.need_keyframe && !self.config.codec.is_audio() && self.last_request.is_some() {
            self.request_keyframe(now);
        }
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AssemblerEvent> {
        self.events.pop_front()
    }

    /// When `handle_timeout` next has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let gap = self
            .packets
            .first_key_value()
            .map(|(_, p)| p.arrived + self.config.max_wait);
        let kf = if self.need_keyframe && !self.config.codec.is_audio() {
            self.last_request
                .map(|t| t + self.config.keyframe_request_interval)
        } else {
            None
        };
        match (gap, kf) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn p_ts(m: &BTreeMap<i64, Pkt>, s: i64) -> Option<u32> {
    m.get(&s).map(|p| p.ts)
}
