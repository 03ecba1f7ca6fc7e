//! Receiver-side NACK generator (RFC 4585 §6.2.1 Generic NACK, with the retransmission
//! timing of RFC 4588 §3 in mind).
//!
//! Feed it every received sequence number with [`NackGenerator::handle_receive`]; it
//! tracks the gaps, and on [`NackGenerator::handle_timeout`] it queues NACKs for the missing
//! packets that are due: first after `send_delay` (to let reordering settle), then again
//! every RTT until `max_retries` or `max_age`. Everything is bounded by `max_missing`; when
//! the loss is too large to repair, it asks for a keyframe instead.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use crate::seq::SeqUnwrapper;
use crate::wire::rtcp::Nack;

/// Configuration of [`NackGenerator`].
#[derive(Debug, Clone)]
pub struct NackConfig {
    /// Our SSRC (sender of the NACK).
    pub sender_ssrc: u32,
    /// SSRC of the media we NACK.
    pub media_ssrc: u32,
    /// Cap on tracked missing packets; beyond it the oldest are dropped and a keyframe is
    /// requested.
    pub max_missing: usize,
    /// Times one packet is NACKed before giving up.
    pub max_retries: u32,
    /// Age after which a missing packet is abandoned.
    pub max_age: Duration,
    /// Wait after detecting a gap before the first NACK (reordering tolerance).
    pub send_delay: Duration,
    /// RTT to assume until [`NackGenerator::set_rtt`] is called.
    pub initial_rtt: Duration,
    /// Lower bound on the re-request interval.
    pub min_retry_interval: Duration,
    /// Cap on sequence numbers in one NACK packet.
    pub max_per_packet: usize,
    /// Cap on queued NACK packets and events.
    pub max_queue: usize,
}

impl Default for NackConfig {
    fn default() -> Self {
        NackConfig {
            sender_ssrc: 0,
            media_ssrc: 0,
            max_missing: 1000,
            max_retries: 10,
            max_age: Duration::from_secs(1),
            send_delay: Duration::from_millis(5),
            initial_rtt: Duration::from_millis(100),
            min_retry_interval: Duration::from_millis(10),
            max_per_packet: 256,
            max_queue: 16,
        }
    }
}

/// Events from the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NackEvent {
    /// Loss cannot be repaired by retransmission (too much, or too old): ask for a keyframe
    /// (PLI/FIR).
    RequestKeyframe,
    /// A packet was given up on after its retries / age.
    GaveUp {
        /// The sequence number.
        seq: u16,
    },
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NackStats {
    /// NACK packets produced.
    pub nacks_sent: u64,
    /// Sequence numbers requested (counting repeats).
    pub seqs_requested: u64,
    /// Missing packets that arrived later.
    pub recovered: u64,
    /// Missing packets abandoned.
    pub gave_up: u64,
}

#[derive(Debug, Clone, Copy)]
struct Missing {
    first_seen: Instant,
    last_sent: Option<Instant>,
    retries: u32,
}

/// The NACK generator. See the module docs.
#[derive(Debug)]
pub struct NackGenerator {
    config: NackConfig,
    unwrapper: SeqUnwrapper,
    highest: Option<i64>,
    missing: BTreeMap<i64, Missing>,
    rtt: Duration,
    transmits: VecDeque<Nack>,
    events: VecDeque<NackEvent>,
    stats: NackStats,
}

impl NackGenerator {
    /// A new generator.
    pub fn new(config: NackConfig, _now: Instant) -> Self {
        let rtt = config.initial_rtt;
        NackGenerator {
            config,
            unwrapper: SeqUnwrapper::new(),
            highest: None,
            missing: BTreeMap::new(),
            rtt,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: NackStats::default(),
        }
    }

    /// Updates the round-trip time used for re-requests.
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt = rtt;
    }

    /// Counters.
    pub fn stats(&self) -> NackStats {
        self.stats
    }

    /// Number of packets currently considered missing.
    pub fn missing_count(&self) -> usize {
        self.missing.len()
    }

    fn push_event(&mut self, e: NackEvent) {
        if self.events.len() < self.config.max_queue && self.events.back() != Some(&e) {
            self.events.push_back(e);
        }
    }

    /// Records a received (or recovered) packet.
    pub fn handle_receive(&mut self, now: Instant, seq: u16) {
        let ext = self.unwrapper.unwrap(seq);
        let Some(highest) = self.highest else {
            self.highest = Some(ext);
            return;
        };
        if ext <= highest {
            if self.missing.remove(&ext).is_some() {
                self.stats.recovered += 1;
            }
            return;
        }
        let gap = (ext - highest - 1) as usize;
        if gap > self.config.max_missing {
            // Unrepairable: forget the old gaps and ask for a keyframe.
            self.stats.gave_up += self.missing.len() as u64;
            self.missing.clear();
            self.push_event(NackEvent::RequestKeyframe);
        } else {
            for s in highest + 1..ext {
                self.missing.insert(
                    s,
                    Missing {
                        first_seen: now,
                        last_sent: None,
                        retries: 0,
                    },
                );
            }
            let mut dropped = false;
            while self.missing.len() > self.config.max_missing {
                self.missing.pop_first();
                self.stats.gave_up += 1;
                dropped = true;
            }
            if dropped {
                self.push_event(NackEvent::RequestKeyframe);
            }
        }
        self.highest = Some(ext);
    }

    fn retry_interval(&self) -> Duration {
        self.rtt.max(self.config.min_retry_interval)
    }

    fn due_at(&self, m: &Missing) -> Instant {
        match m.last_sent {
            None => m.first_seen + self.config.send_delay,
            Some(t) => t + self.retry_interval(),
        }
    }

    /// Ages the missing list and queues the NACKs that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut gave_up = Vec::new();
        let mut due = Vec::new();
        let interval = self.retry_interval();
        for (&seq, m) in &self.missing {
            let expired = now.saturating_duration_since(m.first_seen) > self.config.max_age;
            let due_at = match m.last_sent {
                None => m.first_seen + self.config.send_delay,
                Some(t) => t + interval,
            };
            if now >= due_at {
                if expired || m.retries >= self.config.max_retries {
                    gave_up.push(seq);
                } else if due.len() < self.config.max_per_packet {
                    due.push(seq);
                }
            }
        }
        for seq in gave_up {
            self.missing.remove(&seq);
            self.stats.gave_up += 1;
            self.push_event(NackEvent::GaveUp { seq: seq as u16 });
            self.push_event(NackEvent::RequestKeyframe);
        }
        if due.is_empty() {
            return;
        }
        for seq in &due {
            if let Some(m) = self.missing.get_mut(seq) {
                m.last_sent = Some(now);
                m.retries += 1;
            }
        }
        let seqs: Vec<u16> = due.iter().map(|&s| s as u16).collect();
        self.stats.nacks_sent += 1;
        self.stats.seqs_requested += seqs.len() as u64;
        if self.transmits.len() >= self.config.max_queue {
            self.transmits.pop_front();
        }
        self.transmits.push_back(Nack::from_sequence_numbers(
            self.config.sender_ssrc,
            self.config.media_ssrc,
            &seqs,
        ));
    }

    /// The next NACK to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Nack> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<NackEvent> {
        self.events.pop_front()
    }

    /// When `handle_timeout` next has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.missing.values().map(|m| self.due_at(m)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn nacks_gap_then_retries_each_rtt_then_gives_up() {
        let t0 = Instant::now();
        let cfg = NackConfig {
            sender_ssrc: 1,
            media_ssrc: 2,
            max_retries: 3,
            ..NackConfig::default()
        };
        let mut g = NackGenerator::new(cfg, t0);
        g.set_rtt(ms(50));
        g.handle_receive(t0, 65534);
        g.handle_receive(t0, 2); // 65535, 0, 1 missing (across the wrap)
        assert_eq!(g.missing_count(), 3);
        g.handle_timeout(t0);
        assert!(
            g.poll_transmit().is_none(),
            "waits send_delay for reordering"
        );
        let t1 = g.poll_timeout().unwrap();
        assert_eq!(t1, t0 + ms(5));
        g.handle_timeout(t1);
        let n = g.poll_transmit().unwrap();
        assert_eq!((n.sender_ssrc, n.media_ssrc), (1, 2));
        assert_eq!(n.lost().collect::<Vec<_>>(), vec![65535, 0, 1]);
        // 0 arrives (retransmitted); the others are asked again one RTT later.
        g.handle_receive(t1 + ms(10), 0);
        assert_eq!(g.stats().recovered, 1);
        assert_eq!(g.poll_timeout(), Some(t1 + ms(50)));
        g.handle_timeout(t1 + ms(49));
        assert!(g.poll_transmit().is_none());
        g.handle_timeout(t1 + ms(50));
        assert_eq!(
            g.poll_transmit().unwrap().lost().collect::<Vec<_>>(),
            vec![65535, 1]
        );
        g.handle_timeout(t1 + ms(100));
        assert!(g.poll_transmit().is_some());
        // Third retry was the last: at the next due time they are abandoned.
        g.handle_timeout(t1 + ms(150));
        assert!(g.poll_transmit().is_none());
        assert_eq!(g.missing_count(), 0);
        assert_eq!(g.poll_event(), Some(NackEvent::GaveUp { seq: 65535 }));
        assert_eq!(g.poll_event(), Some(NackEvent::RequestKeyframe));
        assert_eq!(g.stats().gave_up, 2);
    }

    #[test]
    fn huge_gap_requests_keyframe_and_stays_bounded() {
        let t0 = Instant::now();
        let cfg = NackConfig {
            max_missing: 100,
            ..NackConfig::default()
        };
        let mut g = NackGenerator::new(cfg, t0);
        g.handle_receive(t0, 0);
        g.handle_receive(t0, 5000);
        assert_eq!(g.missing_count(), 0);
        assert_eq!(g.poll_event(), Some(NackEvent::RequestKeyframe));
        // Many small gaps: never more than max_missing tracked.
        let mut seq = 5000u16;
        for _ in 0..200 {
            seq = seq.wrapping_add(3);
            g.handle_receive(t0, seq);
            assert!(g.missing_count() <= 100);
        }
        assert_eq!(g.poll_event(), Some(NackEvent::RequestKeyframe));
    }

    #[test]
    fn reordered_packet_is_not_nacked() {
        let t0 = Instant::now();
        let mut g = NackGenerator::new(NackConfig::default(), t0);
        g.handle_receive(t0, 10);
        g.handle_receive(t0, 12);
        g.handle_receive(t0 + ms(1), 11);
        g.handle_timeout(t0 + ms(100));
        assert!(g.poll_transmit().is_none());
        assert_eq!(g.poll_timeout(), None);
    }
}
