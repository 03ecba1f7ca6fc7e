//! Receiver statistics per RFC 3550 Appendix A.1–A.8: sequence validation with probation,
//! extended highest sequence number, expected / lost / fraction lost, interarrival jitter,
//! and LSR/DLSR — everything a reception report block needs.

use std::time::{Duration, Instant};

use crate::seq::TimestampUnwrapper;
use crate::wire::rtcp::ReportBlock;

const RTP_SEQ_MOD: u32 = 1 << 16;

/// Configuration of [`ReceiverStats`].
#[derive(Debug, Clone)]
pub struct StatsConfig {
    /// SSRC of the source being received (goes into the report block).
    pub ssrc: u32,
    /// RTP clock rate of the source, Hz (for jitter).
    pub clock_rate: u32,
    /// Packets in sequence needed before a source is valid (RFC 3550 A.1 MIN_SEQUENTIAL);
    /// 0 accepts the first packet at once.
    pub min_sequential: u32,
    /// Largest forward jump treated as loss rather than a restart (A.1 MAX_DROPOUT).
    pub max_dropout: u32,
    /// Largest backward jump treated as reordering (A.1 MAX_MISORDER).
    pub max_misorder: u32,
}

impl StatsConfig {
    /// RFC 3550's suggested constants for a source with the given SSRC and clock rate.
    pub fn new(ssrc: u32, clock_rate: u32) -> Self {
        StatsConfig {
            ssrc,
            clock_rate,
            min_sequential: 2,
            max_dropout: 3000,
            max_misorder: 100,
        }
    }
}

/// Per-source reception statistics (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    config: StatsConfig,
    epoch: Instant,
    started: bool,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u32,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    /// Jitter scaled by 16 (A.8 integer form).
    jitter_q4: u64,
    transit: Option<i64>,
    ts: TimestampUnwrapper,
    last_sr: Option<(u32, Instant)>,
}

impl ReceiverStats {
    /// New statistics; `now` is the time origin for arrival timestamps.
    pub fn new(config: StatsConfig, now: Instant) -> Self {
        ReceiverStats {
            config,
            epoch: now,
            started: false,
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: RTP_SEQ_MOD + 1,
            probation: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter_q4: 0,
            transit: None,
            ts: TimestampUnwrapper::new(),
            last_sr: None,
        }
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1 `update_seq`: returns whether the packet is valid (counted).
    fn update_seq(&mut self, seq: u16) -> bool {
        let udelta = u32::from(seq.wrapping_sub(self.max_seq));
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    self.received += 1;
                    return true;
                }
            } else {
                self.probation = self.config.min_sequential.saturating_sub(1);
                self.max_seq = seq;
            }
            return false;
        } else if udelta < self.config.max_dropout {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if udelta <= RTP_SEQ_MOD - self.config.max_misorder {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a big jump: the source restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return false;
            }
        }
        // else: duplicate or reordered packet.
        self.received = self.received.wrapping_add(1);
        true
    }

    /// Records a received packet. Returns whether it passed sequence validation (A.1).
    pub fn handle_packet(&mut self, now: Instant, seq: u16, rtp_timestamp: u32) -> bool {
        if !self.started {
            self.started = true;
            if self.config.min_sequential == 0 {
                self.init_seq(seq);
                self.received = 1;
                self.update_jitter(now, rtp_timestamp);
                return true;
            }
            self.init_seq(seq);
            self.max_seq = seq.wrapping_sub(1);
            self.probation = self.config.min_sequential;
        }
        let ok = self.update_seq(seq);
        if ok {
            self.update_jitter(now, rtp_timestamp);
        }
        ok
    }

    /// A.8: J += (|D| - J) / 16, kept scaled by 16 in an integer.
    fn update_jitter(&mut self, now: Instant, rtp_timestamp: u32) {
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        let arrival = (elapsed * u128::from(self.config.clock_rate) / 1_000_000_000) as i64;
        let transit = arrival - self.ts.unwrap(rtp_timestamp);
        if let Some(prev) = self.transit {
            let d = (transit - prev).unsigned_abs();
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.transit = Some(transit);
    }

    /// Records an SR from this source (for LSR/DLSR), RFC 3550 §6.4.1.
    pub fn handle_sender_report(&mut self, now: Instant, ntp_time: u64) {
        self.last_sr = Some(((ntp_time >> 16) as u32, now));
    }

    /// Extended highest sequence number received (A.3).
    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }
    /// Packets expected (A.3).
    pub fn expected(&self) -> u32 {
        if self.received == 0 && self.probation > 0 {
            return 0;
        }
        self.extended_highest_seq()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1)
    }
    /// Packets received and counted.
    pub fn received(&self) -> u32 {
        self.received
    }
    /// Cumulative packets lost, clamped to the 24-bit signed field (A.3).
    pub fn cumulative_lost(&self) -> i32 {
        let lost = i64::from(self.expected()) - i64::from(self.received);
        lost.clamp(-0x80_0000, 0x7F_FFFF) as i32
    }
    /// Interarrival jitter in timestamp units (A.8).
    pub fn jitter(&self) -> u32 {
        (self.jitter_q4 >> 4).min(u64::from(u32::MAX)) as u32
    }

    /// Builds a report block and starts a new reporting interval (A.3 fraction lost).
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.wrapping_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            None => (0, 0),
            Some((lsr, at)) => {
                let d = now.saturating_duration_since(at);
                (lsr, dlsr_units(d))
            }
        };
        ReportBlock {
            ssrc: self.config.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost(),
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}

/// A duration in 1/65536 s, saturating (the DLSR unit).
pub fn dlsr_units(d: Duration) -> u32 {
    ((d.as_nanos() << 16) / 1_000_000_000).min(u128::from(u32::MAX)) as u32
}

/// Round-trip time from a report block received at `now` whose LSR refers to an SR we sent
/// with NTP time `ntp_now_middle` (RFC 3550 §6.4.1: A - LSR - DLSR), all in 1/65536 s.
pub fn rtt_from_report(ntp_now_middle: u32, block: &ReportBlock) -> Option<Duration> {
    if block.last_sr == 0 {
        return None;
    }
    let rtt = ntp_now_middle
        .wrapping_sub(block.last_sr)
        .wrapping_sub(block.delay_since_last_sr);
    // A negative result (clock trouble) wraps to a huge value: reject it.
    if rtt > 0x8000_0000 {
        return None;
    }
    Some(Duration::from_nanos((u64::from(rtt) * 1_000_000_000) >> 16))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn probation_then_counts_and_loss() {
        let t0 = Instant::now();
        let mut s = ReceiverStats::new(StatsConfig::new(7, 90_000), t0);
        assert!(!s.handle_packet(t0, 100, 0));
        assert!(s.handle_packet(t0, 101, 0));
        // 101 is the base now; 102, 104, 105 received; 103 lost.
        for seq in [102u16, 104, 105] {
            assert!(s.handle_packet(t0, seq, 0));
        }
        assert_eq!(s.expected(), 5);
        assert_eq!(s.received(), 4);
        assert_eq!(s.cumulative_lost(), 1);
        let rb = s.report_block(t0);
        assert_eq!(rb.ssrc, 7);
        assert_eq!(rb.extended_highest_seq, 105);
        assert_eq!(rb.fraction_lost, 51); // 256 / 5
        // Next interval: no loss.
        assert!(s.handle_packet(t0, 106, 0));
        assert_eq!(s.report_block(t0).fraction_lost, 0);
    }

    #[test]
    fn wrap_counts_cycles_and_duplicates_count() {
        let t0 = Instant::now();
        let mut cfg = StatsConfig::new(1, 8000);
        cfg.min_sequential = 0;
        let mut s = ReceiverStats::new(cfg, t0);
        for seq in 65530u16..=65535 {
            s.handle_packet(t0, seq, 0);
        }
        for seq in 0u16..5 {
            s.handle_packet(t0, seq, 0);
        }
        assert_eq!(s.extended_highest_seq(), (1 << 16) + 4);
        assert_eq!(s.expected(), 11);
        assert_eq!(s.cumulative_lost(), 0);
        // A duplicate makes cumulative lost negative, as RFC 3550 allows.
        s.handle_packet(t0, 4, 0);
        assert_eq!(s.cumulative_lost(), -1);
    }

    #[test]
    fn restart_after_big_jump() {
        let t0 = Instant::now();
        let mut cfg = StatsConfig::new(1, 8000);
        cfg.min_sequential = 0;
        let mut s = ReceiverStats::new(cfg, t0);
        s.handle_packet(t0, 10, 0);
        assert!(!s.handle_packet(t0, 40000, 0));
        // The next sequential packet confirms the restart.
        assert!(s.handle_packet(t0, 40001, 0));
        assert_eq!(s.extended_highest_seq(), 40001);
        assert_eq!(s.expected(), 1);
    }

    #[test]
    fn jitter_constant_for_steady_stream_and_grows_with_variation() {
        let t0 = Instant::now();
        let mut cfg = StatsConfig::new(1, 8000);
        cfg.min_sequential = 0;
        let mut s = ReceiverStats::new(cfg, t0);
        for i in 0..100u32 {
            s.handle_packet(t0 + ms(20 * u64::from(i)), i as u16, 160 * i);
        }
        assert_eq!(s.jitter(), 0);
        // Every other packet arrives 10 ms (80 ticks) late: jitter converges towards 80.
        for i in 100..1100u32 {
            let late = if i % 2 == 0 { 10 } else { 0 };
            s.handle_packet(t0 + ms(20 * u64::from(i) + late), i as u16, 160 * i);
        }
        assert!((75..=80).contains(&s.jitter()), "{}", s.jitter());
    }

    #[test]
    fn lsr_dlsr_and_rtt() {
        let t0 = Instant::now();
        let mut s = ReceiverStats::new(StatsConfig::new(1, 8000), t0);
        let ntp = 0xe5f3_b2a1_8000_0000u64;
        s.handle_sender_report(t0, ntp);
        let rb = s.report_block(t0 + ms(500));
        assert_eq!(rb.last_sr, 0xb2a1_8000);
        assert_eq!(rb.delay_since_last_sr, 32768);
        // The SR's sender receives the RR 600 ms after sending the SR: RTT 100 ms.
        let now_middle = 0xb2a1_8000u32 + dlsr_units(ms(600));
        let rtt = rtt_from_report(now_middle, &rb).unwrap();
        assert!((rtt.as_micros() as i64 - 100_000).abs() < 50, "{rtt:?}");
    }
}
