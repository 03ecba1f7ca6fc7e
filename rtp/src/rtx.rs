//! Sender-side retransmission buffer with RTX (RFC 4588).
//!
//! [`RetransmissionBuffer::store`] keeps a copy of each sent RTP packet in a ring indexed by
//! sequence number (bounded by `capacity`, and by `max_age` at lookup). On a Generic NACK,
//! [`RetransmissionBuffer::handle_nack`] queues either the original packet or, when RTX is
//! configured, an RTX packet (RFC 4588 §4: own SSRC, payload type and sequence space,
//! original sequence number (OSN) in the first two payload octets). [`rtx_unwrap`] is the
//! receiver side.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::wire::rtcp::Nack;
use crate::wire::rtp::{HeaderExtension, RtpPacket, RtpRepr};

/// RTX parameters (RFC 4588 §8: `a=rtpmap:<pt> rtx/<rate>` with `apt=`).
#[derive(Debug, Clone)]
pub struct RtxConfig {
    /// SSRC of the RTX stream.
    pub ssrc: u32,
    /// (original payload type, RTX payload type) pairs.
    pub payload_types: Vec<(u8, u8)>,
    /// First RTX sequence number (should be random, RFC 3550 §5.1).
    pub initial_seq: u16,
}

/// Configuration of [`RetransmissionBuffer`].
#[derive(Debug, Clone)]
pub struct RtxBufferConfig {
    /// Packets kept (ring size, 1..=65536).
    pub capacity: usize,
    /// Packets older than this are not retransmitted.
    pub max_age: Duration,
    /// A packet is not resent more often than this (a burst of NACKs for the same loss).
    pub min_resend_interval: Duration,
    /// Cap on queued retransmissions.
    pub max_queue: usize,
    /// RTX, or `None` to resend the original packets.
    pub rtx: Option<RtxConfig>,
}

impl Default for RtxBufferConfig {
    fn default() -> Self {
        RtxBufferConfig {
            capacity: 1024,
            max_age: Duration::from_secs(1),
            min_resend_interval: Duration::from_millis(10),
            max_queue: 256,
            rtx: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Stored {
    seq: u16,
    sent_at: Instant,
    last_resent: Option<Instant>,
    bytes: Vec<u8>,
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtxStats {
    /// Packets retransmitted.
    pub resent: u64,
    /// NACKed packets no longer (or never) in the buffer.
    pub missing: u64,
    /// NACKed packets skipped because they were resent very recently.
    pub throttled: u64,
}

/// The retransmission buffer. See the module docs.
#[derive(Debug)]
pub struct RetransmissionBuffer {
    config: RtxBufferConfig,
    slots: Vec<Option<Stored>>,
    rtx_seq: u16,
    queue: VecDeque<Vec<u8>>,
    stats: RtxStats,
}

impl RetransmissionBuffer {
    /// A new buffer (capacity is clamped to 1..=65536).
    pub fn new(config: RtxBufferConfig, _now: Instant) -> Self {
        let cap = config.capacity.clamp(1, 65536);
        let rtx_seq = config.rtx.as_ref().map_or(0, |r| r.initial_seq);
        RetransmissionBuffer {
            config,
            slots: vec![None; cap],
            rtx_seq,
            queue: VecDeque::new(),
            stats: RtxStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> RtxStats {
        self.stats
    }

    /// Stores a copy of a packet just sent.
    pub fn store(&mut self, now: Instant, packet: &[u8]) -> Result<()> {
        let p = RtpPacket::new_checked(packet)?;
        let seq = p.sequence_number();
        let idx = usize::from(seq) % self.slots.len();
        if let Some(slot) = self.slots.get_mut(idx) {
            *slot = Some(Stored {
                seq,
                sent_at: now,
                last_resent: None,
                bytes: packet.to_vec(),
            });
        }
        Ok(())
    }

    /// Queues retransmissions for the sequence numbers a NACK reports lost.
    pub fn handle_nack(&mut self, now: Instant, nack: &Nack) {
        for seq in nack.lost() {
            self.resend(now, seq);
        }
    }

    /// Queues a retransmission of one sequence number, if it is still held.
    pub fn resend(&mut self, now: Instant, seq: u16) {
        let idx = usize::from(seq) % self.slots.len();
        let max_age = self.config.max_age;
        let min_iv = self.config.min_resend_interval;
        let Some(Some(stored)) = self.slots.get_mut(idx) else {
            self.stats.missing += 1;
            return;
        };
        if stored.seq != seq || now.saturating_duration_since(stored.sent_at) > max_age {
            self.stats.missing += 1;
            return;
        }
        if stored
            .last_resent
            .is_some_and(|t| now.saturating_duration_since(t) < min_iv)
        {
            self.stats.throttled += 1;
            return;
        }
        stored.last_resent = Some(now);
        let bytes = stored.bytes.clone();
        let out = match &self.config.rtx {
            None => Some(bytes),
            Some(rtx) => {
                let r = rtx_wrap(&bytes, rtx, self.rtx_seq);
                if r.is_ok() {
                    self.rtx_seq = self.rtx_seq.wrapping_add(1);
                }
                r.ok()
            }
        };
        if let Some(out) = out {
            if self.queue.len() >= self.config.max_queue {
                self.queue.pop_front();
            }
            self.queue.push_back(out);
            self.stats.resent += 1;
        }
    }

    /// The next packet to retransmit.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.queue.pop_front()
    }
}

fn ext_of<'a>(p: &'a RtpPacket<&'a [u8]>) -> HeaderExtension<'a> {
    match (p.extension_profile(), p.extension_data()) {
        (Some(profile), Some(data)) => HeaderExtension::Raw { profile, data },
        _ => HeaderExtension::None,
    }
}

/// Builds the RTX packet for `original` (RFC 4588 §4).
pub fn rtx_wrap(original: &[u8], rtx: &RtxConfig, rtx_seq: u16) -> Result<Vec<u8>> {
    let p = RtpPacket::new_checked(original)?;
    let pt = rtx
        .payload_types
        .iter()
        .find(|(o, _)| *o == p.payload_type())
        .map(|(_, r)| *r)
        .ok_or(Error::InvalidField {
            field: "payload type without an RTX mapping",
            value: u64::from(p.payload_type()),
        })?;
    let csrcs: Vec<u32> = p.csrcs().collect();
    let mut payload = Vec::with_capacity(2 + p.payload().len());
    payload.extend_from_slice(&p.sequence_number().to_be_bytes());
    payload.extend_from_slice(p.payload());
    RtpRepr {
        marker: p.marker(),
        payload_type: pt,
        sequence_number: rtx_seq,
        timestamp: p.timestamp(),
        ssrc: rtx.ssrc,
        csrcs: &csrcs,
        extension: ext_of(&p),
        payload: &payload,
        padding: 0,
    }
    .to_vec()
}

/// Restores the original packet from an RTX packet (RFC 4588 §4), given the original
/// stream's SSRC and payload type.
pub fn rtx_unwrap(rtx_packet: &[u8], original_ssrc: u32, original_pt: u8) -> Result<Vec<u8>> {
    let p = RtpPacket::new_checked(rtx_packet)?;
    let payload = p.payload();
    let (Some(&a), Some(&b)) = (payload.first(), payload.get(1)) else {
        return Err(Error::Truncated {
            what: "RTX original sequence number",
            need: 2,
            have: payload.len(),
        });
    };
    let csrcs: Vec<u32> = p.csrcs().collect();
    RtpRepr {
        marker: p.marker(),
        payload_type: original_pt,
        sequence_number: u16::from_be_bytes([a, b]),
        timestamp: p.timestamp(),
        ssrc: original_ssrc,
        csrcs: &csrcs,
        extension: ext_of(&p),
        payload: payload.get(2..).unwrap_or(&[]),
        padding: 0,
    }
    .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::rtp::Extension;

    fn pkt(seq: u16) -> Vec<u8> {
        let e = [Extension {
            id: 5,
            data: &[1, 2],
        }];
        RtpRepr {
            payload_type: 96,
            sequence_number: seq,
            timestamp: 1000 + u32::from(seq),
            ssrc: 0xAAAA,
            marker: seq % 2 == 0,
            extension: HeaderExtension::Auto(&e),
            payload: &[seq as u8; 20],
            ..Default::default()
        }
        .to_vec()
        .unwrap()
    }

    #[test]
    fn resends_original_and_respects_capacity_age_throttle() {
        let t0 = Instant::now();
        let cfg = RtxBufferConfig {
            capacity: 8,
            ..RtxBufferConfig::default()
        };
        let mut b = RetransmissionBuffer::new(cfg, t0);
        for s in 0..20u16 {
            b.store(t0, &pkt(s)).unwrap();
        }
        b.handle_nack(t0, &Nack::from_sequence_numbers(1, 0xAAAA, &[3, 15, 19]));
        assert_eq!(b.poll_transmit().unwrap(), pkt(15));
        assert_eq!(b.poll_transmit().unwrap(), pkt(19));
        assert!(b.poll_transmit().is_none());
        assert_eq!(b.stats().missing, 1, "3 was overwritten by 11");
        b.resend(t0, 15);
        assert!(b.poll_transmit().is_none());
        assert_eq!(b.stats().throttled, 1);
        b.resend(t0 + Duration::from_secs(2), 19);
        assert!(b.poll_transmit().is_none(), "too old");
    }

    #[test]
    fn rtx_wrap_and_unwrap_roundtrip() {
        let t0 = Instant::now();
        let cfg = RtxBufferConfig {
            rtx: Some(RtxConfig {
                ssrc: 0xBBBB,
                payload_types: vec![(96, 97)],
                initial_seq: 65535,
            }),
            ..RtxBufferConfig::default()
        };
        let mut b = RetransmissionBuffer::new(cfg, t0);
        for s in 100..110u16 {
            b.store(t0, &pkt(s)).unwrap();
        }
        b.resend(t0, 104);
        b.resend(t0, 105);
        let r1 = b.poll_transmit().unwrap();
        let r2 = b.poll_transmit().unwrap();
        let p1 = RtpPacket::new_checked(&r1[..]).unwrap();
        assert_eq!(p1.ssrc(), 0xBBBB);
        assert_eq!(p1.payload_type(), 97);
        assert_eq!(p1.sequence_number(), 65535);
        assert_eq!(&p1.payload()[..2], &104u16.to_be_bytes());
        assert_eq!(p1.extension(5), Some(&[1u8, 2][..]));
        assert_eq!(
            RtpPacket::new_checked(&r2[..]).unwrap().sequence_number(),
            0
        );
        assert_eq!(rtx_unwrap(&r1, 0xAAAA, 96).unwrap(), pkt(104));
        assert_eq!(rtx_unwrap(&r2, 0xAAAA, 96).unwrap(), pkt(105));
        // An RTX packet without OSN is an error, not a panic.
        let short = RtpRepr {
            payload: &[1],
            ..Default::default()
        }
        .to_vec()
        .unwrap();
        assert!(matches!(
            rtx_unwrap(&short, 1, 96),
            Err(Error::Truncated { .. })
        ));
        // No RTX mapping for PT 111.
        let mut other = pkt(1);
        other[1] = 111;
        let rtx = RtxConfig {
            ssrc: 1,
            payload_types: vec![(96, 97)],
            initial_seq: 0,
        };
        assert!(rtx_wrap(&other, &rtx, 0).is_err());
    }
}
