//! Sender and receiver over a lossy, reordering link (seeded, replayable): VP8 frames are
//! packetized, stored for retransmission and sent; the receiver NACKs gaps, the sender
//! answers with RTX, the receiver unwraps RTX and the assembler outputs every frame.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sansrtc_rtp::codec::assembler::{AssemblerConfig, AssemblerEvent, FrameAssembler};
use sansrtc_rtp::codec::vp8::Vp8Packetizer;
use sansrtc_rtp::codec::{Codec, Packetizer};
use sansrtc_rtp::nack::{NackConfig, NackGenerator};
use sansrtc_rtp::rtx::{RetransmissionBuffer, RtxBufferConfig, RtxConfig, rtx_unwrap};
use sansrtc_rtp::stats::{ReceiverStats, StatsConfig};
use sansrtc_rtp::wire::rtcp::RtcpPacket;
use sansrtc_rtp::wire::rtp::{RtpPacket, RtpRepr};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn chance(&mut self, percent: u32) -> bool {
        self.next() % 100 < percent
    }
}

fn run(seed: u64, loss_percent: u32) {
    let t0 = Instant::now();
    let mut rng = Lcg(seed);
    let (media_ssrc, rtx_ssrc) = (0x1111, 0x2222);
    let mut packetizer = Vp8Packetizer {
        picture_id: Some(0),
    };
    let mut rtx_buf = RetransmissionBuffer::new(
        RtxBufferConfig {
            rtx: Some(RtxConfig {
                ssrc: rtx_ssrc,
                payload_types: vec![(96, 97)],
                initial_seq: 500,
            }),
            ..RtxBufferConfig::default()
        },
        t0,
    );
    let mut nack = NackGenerator::new(
        NackConfig {
            sender_ssrc: 9,
            media_ssrc,
            max_retries: 20,
            ..NackConfig::default()
        },
        t0,
    );
    nack.set_rtt(Duration::from_millis(40));
    let mut asm = FrameAssembler::new(
        AssemblerConfig {
            max_wait: Duration::from_secs(2),
            ..AssemblerConfig::new(Codec::Vp8)
        },
        t0,
    );
    let mut stats = ReceiverStats::new(StatsConfig::new(media_ssrc, 90_000), t0);
    // In-flight datagrams: (arrival time, tiebreak) -> bytes, one way each.
    let mut to_receiver: BTreeMap<(Duration, u32), Vec<u8>> = BTreeMap::new();
    let mut to_sender: BTreeMap<(Duration, u32), Vec<u8>> = BTreeMap::new();
    let mut seq = 65000u16;
    let mut sent_frames = vec![];
    let mut got_frames = vec![];
    let mut keyframe_requests = 0;
    let step = Duration::from_millis(5);
    let mut now = Duration::ZERO;
    while now < Duration::from_secs(6) {
        let t = t0 + now;
        // Sender: a frame every 33 ms for 3 s (first one a keyframe).
        if now < Duration::from_secs(3) && now.as_millis() % 33 < 5 {
            let i = sent_frames.len() as u32;
            let mut frame: Vec<u8> = (0..3000 + (i % 7) * 500)
                .map(|k| (k + i) as u8 | 1)
                .collect();
            frame[0] = if i == 0 { 0x10 } else { 0x11 };
            let payloads = packetizer.packetize(&frame, 1100).unwrap();
            let n = payloads.len();
            for (k, p) in payloads.iter().enumerate() {
                let bytes = RtpRepr {
                    marker: k + 1 == n,
                    payload_type: 96,
                    sequence_number: seq,
                    timestamp: 3000 * i,
                    ssrc: media_ssrc,
                    payload: p,
                    ..Default::default()
                }
                .to_vec()
                .unwrap();
                seq = seq.wrapping_add(1);
                rtx_buf.store(t, &bytes).unwrap();
                if !rng.chance(loss_percent) {
                    let delay = Duration::from_millis(20 + u64::from(rng.next() % 15));
                    to_receiver.insert((now + delay, rng.next()), bytes);
                }
            }
            sent_frames.push((3000 * i, frame));
        }
        // Receiver.
        let due: Vec<_> = to_receiver
            .range(..=(now, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            let bytes = to_receiver.remove(&k).unwrap();
            let p = RtpPacket::new_checked(&bytes[..]).unwrap();
            let original;
            let p = if p.ssrc() == rtx_ssrc {
                original = rtx_unwrap(&bytes, media_ssrc, 96).unwrap();
                RtpPacket::new_checked(&original[..]).unwrap()
            } else {
                RtpPacket::new_checked(&bytes[..]).unwrap()
            };
            stats.handle_packet(t, p.sequence_number(), p.timestamp());
            nack.handle_receive(t, p.sequence_number());
            asm.handle_receive(t, &p);
        }
        nack.handle_timeout(t);
        asm.handle_timeout(t);
        while let Some(n) = nack.poll_transmit() {
            let bytes = RtcpPacket::Nack(n).to_vec().unwrap();
            if !rng.chance(loss_percent) {
                to_sender.insert((now + Duration::from_millis(20), rng.next()), bytes);
            }
        }
        while let Some(e) = asm.poll_event() {
            match e {
                AssemblerEvent::Frame(f) => got_frames.push((f.timestamp, f.data)),
                AssemblerEvent::RequestKeyframe => keyframe_requests += 1,
            }
        }
        // Sender handles NACKs.
        let due: Vec<_> = to_sender
            .range(..=(now, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for k in due {
            let bytes = to_sender.remove(&k).unwrap();
            if let RtcpPacket::Nack(n) = RtcpPacket::parse_bytes(&bytes).unwrap() {
                rtx_buf.handle_nack(t, &n);
            }
        }
        while let Some(r) = rtx_buf.poll_transmit() {
            if !rng.chance(loss_percent) {
                to_receiver.insert((now + Duration::from_millis(20), rng.next()), r);
            }
        }
        now += step;
    }
    assert_eq!(
        got_frames.len(),
        sent_frames.len(),
        "seed {seed}: every frame recovered by NACK/RTX (nack stats {:?}, rtx {:?}, asm {:?})",
        nack.stats(),
        rtx_buf.stats(),
        asm.stats()
    );
    assert_eq!(got_frames, sent_frames, "seed {seed}");
    assert_eq!(keyframe_requests, 0, "seed {seed}");
    if loss_percent > 0 {
        assert!(nack.stats().recovered > 0, "seed {seed}");
        assert!(rtx_buf.stats().resent > 0, "seed {seed}");
    }
    // Everything was eventually received: no cumulative loss left.
    let rb = stats.report_block(t0 + now);
    assert!(rb.cumulative_lost <= 0, "seed {seed}: {rb:?}");
}

#[test]
fn lossless_link_delivers_everything() {
    run(1, 0);
}

#[test]
fn five_percent_loss_is_repaired_by_nack_and_rtx() {
    for seed in 1..6 {
        run(seed, 5);
    }
}
