//! Every depacketizer fed by its packetizer, through the frame assembler, with clean,
//! truncated, reordered and lossy input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use sansrtc_rtp::codec::assembler::{AssemblerConfig, AssemblerEvent, Frame, FrameAssembler};
use sansrtc_rtp::codec::av1::{Av1Depacketizer, Av1Packetizer, write_leb128};
use sansrtc_rtp::codec::h264::{H264Depacketizer, H264Packetizer};
use sansrtc_rtp::codec::opus::OpusPacketizer;
use sansrtc_rtp::codec::vp8::{Vp8Descriptor, Vp8Packetizer};
use sansrtc_rtp::codec::vp9::{Vp9Descriptor, Vp9Packetizer, is_vp9_keyframe};
use sansrtc_rtp::codec::{AnyDepacketizer, Codec, Depacketizer, Packetizer};

type Pkt = (u16, u32, bool, Vec<u8>);

fn rtp(payloads: Vec<Vec<u8>>, seq: &mut u16, ts: u32) -> Vec<Pkt> {
    let n = payloads.len();
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let s = *seq;
            *seq = seq.wrapping_add(1);
            (s, ts, i + 1 == n, p)
        })
        .collect()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

fn run(codec: Codec, pkts: &[Pkt], t0: Instant) -> (Vec<Frame>, usize, FrameAssembler) {
    let mut a = FrameAssembler::new(AssemblerConfig::new(codec), t0);
    let mut frames = vec![];
    let mut kf = 0;
    for (i, (s, ts, m, p)) in pkts.iter().enumerate() {
        let now = t0 + Duration::from_millis(i as u64);
        a.handle_rtp(now, *s, *ts, *m, p);
        a.handle_timeout(now);
        while let Some(e) = a.poll_event() {
            match e {
                AssemblerEvent::Frame(f) => frames.push(f),
                AssemblerEvent::RequestKeyframe => kf += 1,
            }
        }
    }
    (frames, kf, a)
}

fn vp8_frame(key: bool, len: usize, seed: u8) -> Vec<u8> {
    let mut f = pattern(len, seed);
    f[0] = if key { 0x10 } else { 0x11 };
    f
}

fn vp9_frame(key: bool, len: usize, seed: u8) -> Vec<u8> {
    let mut f = pattern(len, seed);
    f[0] = if key { 0x80 } else { 0x84 };
    f
}

#[test]
fn opus_roundtrip_and_loss() {
    let t0 = Instant::now();
    let mut p = OpusPacketizer;
    let mut seq = 65530;
    let frames: Vec<Vec<u8>> = (0..12).map(|i| pattern(60 + i, i as u8)).collect();
    let mut pkts = vec![];
    for (i, f) in frames.iter().enumerate() {
        pkts.extend(rtp(p.packetize(f, 1200).unwrap(), &mut seq, 960 * i as u32));
    }
    let (out, kf, _) = run(Codec::Opus, &pkts, t0);
    assert_eq!(kf, 0);
    assert_eq!(
        out.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
        frames
    );
    // A lost packet is skipped after max_wait; audio never asks for a keyframe.
    let mut lossy = pkts.clone();
    lossy.remove(3);
    let mut a = FrameAssembler::new(AssemblerConfig::new(Codec::Opus), t0);
    let mut got = vec![];
    for (s, ts, m, p) in &lossy {
        a.handle_rtp(t0, *s, *ts, *m, p);
    }
    a.handle_timeout(t0 + Duration::from_secs(1));
    while let Some(e) = a.poll_event() {
        assert!(matches!(e, AssemblerEvent::Frame(_)));
        if let AssemblerEvent::Frame(f) = e {
            got.push(f.data);
        }
    }
    let mut want = frames.clone();
    want.remove(3);
    assert_eq!(got, want);
    assert!(p.packetize(&[0; 1300], 1200).is_err());
}

#[test]
fn vp8_roundtrip_picture_id_keyframes() {
    let t0 = Instant::now();
    let mut p = Vp8Packetizer {
        picture_id: Some(0x7FFE),
    };
    let mut seq = 100;
    let frames = vec![
        vp8_frame(true, 5000, 1),
        vp8_frame(false, 1500, 2),
        vp8_frame(false, 10, 3),
    ];
    let mut pkts = vec![];
    for (i, f) in frames.iter().enumerate() {
        let payloads = p.packetize(f, 1200).unwrap();
        assert!(payloads.iter().all(|x| x.len() <= 1200));
        let d = Vp8Descriptor::parse(&payloads[0]).unwrap();
        assert_eq!(d.picture_id, Some(((0x7FFE + i) & 0x7FFF) as u16));
        assert!(d.start_of_partition);
        pkts.extend(rtp(payloads, &mut seq, 3000 * i as u32));
    }
    let (out, kf, a) = run(Codec::Vp8, &pkts, t0);
    assert_eq!(kf, 0);
    assert_eq!(out.len(), 3);
    assert!(out[0].keyframe && !out[1].keyframe && !out[2].keyframe);
    for (o, f) in out.iter().zip(&frames) {
        assert_eq!(&o.data, f);
    }
    assert_eq!(a.stats().keyframes, 1);
    let dep = AnyDepacketizer::new(Codec::Vp8);
    assert!(dep.is_keyframe(&pkts[0].3));
    assert!(!dep.is_keyframe(&pkts[1].3), "not a partition start");
    // Descriptor with every optional field.
    let d = Vp8Descriptor::parse(&[0x90, 0xF0, 0x81, 0x23, 0x07, 0xA5, 0xAA]).unwrap();
    assert_eq!(
        (
            d.picture_id,
            d.tl0_pic_idx,
            d.tid,
            d.layer_sync,
            d.key_idx,
            d.len
        ),
        (Some(0x123), Some(7), Some(2), true, Some(5), 6)
    );
    assert!(Vp8Descriptor::parse(&[0x80]).is_err());
}

#[test]
fn vp8_loss_requires_keyframe() {
    let t0 = Instant::now();
    let mut p = Vp8Packetizer { picture_id: None };
    let mut seq = 0;
    let frames = [
        vp8_frame(true, 3000, 1),
        vp8_frame(false, 3000, 2),
        vp8_frame(false, 500, 3),
        vp8_frame(true, 2000, 4),
        vp8_frame(false, 100, 5),
    ];
    let mut pkts = vec![];
    for (i, f) in frames.iter().enumerate() {
        pkts.extend(rtp(
            p.packetize(f, 1000).unwrap(),
            &mut seq,
            3000 * i as u32,
        ));
    }
    // Lose the first packet of frame 1 (packets 0..4 are frame 0, 4..8 frame 1).
    let mut lossy = pkts.clone();
    lossy.remove(4);
    let mut a = FrameAssembler::new(AssemblerConfig::new(Codec::Vp8), t0);
    let mut frames_out = vec![];
    let mut kf = 0;
    for (i, (s, ts, m, pl)) in lossy.iter().enumerate() {
        // Frame 2 arrives long after the gap: max_wait expires.
        let now = t0 + Duration::from_millis(if i >= 6 { 300 + i as u64 } else { i as u64 });
        a.handle_timeout(now);
        a.handle_rtp(now, *s, *ts, *m, pl);
        while let Some(e) = a.poll_event() {
            match e {
                AssemblerEvent::Frame(f) => frames_out.push(f),
                AssemblerEvent::RequestKeyframe => kf += 1,
            }
        }
    }
    // Frame 0 (key), then frames 1 (incomplete) and 2 (depends on 1) are dropped, a
    // keyframe is requested, frame 3 (key) and 4 follow.
    let ts: Vec<u32> = frames_out.iter().map(|f| f.timestamp).collect();
    assert_eq!(ts, vec![0, 9000, 12000]);
    assert!(kf >= 1);
    assert!(frames_out[1].keyframe);
    // The assembler starts out wanting a keyframe: an inter frame alone is dropped.
    let (out, kf, mut a) = run(Codec::Vp8, &pkts[4..8], t0);
    assert!(out.is_empty());
    assert_eq!(kf, 0, "an inter frame first waits for older packets");
    a.handle_timeout(t0 + Duration::from_secs(1));
    assert_eq!(a.poll_event(), Some(AssemblerEvent::RequestKeyframe));
    assert_eq!(a.poll_event(), None);
    assert_eq!(a.stats().frames, 0);
}

#[test]
fn vp9_flexible_and_non_flexible() {
    for flexible in [true, false] {
        let t0 = Instant::now();
        let mut p = Vp9Packetizer {
            picture_id: 5,
            flexible,
        };
        let mut seq = 65000;
        let frames = vec![
            vp9_frame(true, 4000, 1),
            vp9_frame(false, 2500, 2),
            vp9_frame(false, 30, 3),
        ];
        assert!(is_vp9_keyframe(&frames[0]) && !is_vp9_keyframe(&frames[1]));
        let mut pkts = vec![];
        for (i, f) in frames.iter().enumerate() {
            let payloads = p.packetize(f, 1200).unwrap();
            let first = Vp9Descriptor::parse(&payloads[0]).unwrap();
            let last = Vp9Descriptor::parse(payloads.last().unwrap()).unwrap();
            assert!(first.begin && last.end);
            assert_eq!(first.flexible, flexible);
            assert_eq!(first.picture_id, Some(5 + i as u16));
            assert_eq!(first.inter_predicted, i != 0);
            assert_eq!(first.ss.is_some(), i == 0);
            if flexible && i > 0 {
                assert_eq!(first.p_diffs, vec![1]);
            }
            pkts.extend(rtp(payloads, &mut seq, 3000 * i as u32));
        }
        let (out, kf, _) = run(Codec::Vp9, &pkts, t0);
        assert_eq!(kf, 0);
        assert_eq!(
            out.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
            frames
        );
        assert!(out[0].keyframe && !out[1].keyframe);
        // Reordered packets within the frames still assemble.
        let mut shuffled = pkts.clone();
        shuffled.swap(1, 3);
        shuffled.swap(5, 6);
        let (out, _, _) = run(Codec::Vp9, &shuffled, t0);
        assert_eq!(
            out.iter().map(|f| f.data.clone()).collect::<Vec<_>>(),
            frames
        );
    }
    // A descriptor with layer indices, P_DIFFs and a full scalability structure.
    let d = Vp9Descriptor::parse(&[
        0xFA, 0x81, 0x02, 0x42, 0x03, 0x04, // I P L F B V: pid 0x102, L, 2 P_DIFFs
        0x38, 0x01, 0x40, 0x00, 0xF0, 0x02, 0x80, 0x01, 0xE0, 0x01, 0x34, 0x05, 0xAA,
    ])
    .unwrap();
    assert_eq!(d.picture_id, Some(0x102));
    assert_eq!(d.layer, Some((2, false, 1, false)));
    assert_eq!(d.p_diffs, vec![1, 2]);
    assert_eq!(d.len, 18);
    let ss = d.ss.unwrap();
    assert_eq!(ss.spatial_layers, 2);
    assert_eq!(ss.resolutions, vec![(320, 240), (640, 480)]);
    assert_eq!(ss.pictures, vec![(1, true, vec![5])]);
    assert!(Vp9Descriptor::parse(&[0x80]).is_err());
    assert!(
        Vp9Descriptor::parse(&[0x50, 0x03, 0x03, 0x03]).is_err(),
        "4 P_DIFFs"
    );
}

fn h264_stream(nals: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![];
    for (i, n) in nals.iter().enumerate() {
        v.extend_from_slice(if i % 2 == 0 {
            &[0, 0, 0, 1][..]
        } else {
            &[0, 0, 1][..]
        });
        v.extend_from_slice(n);
    }
    v
}
fn annexb4(nals: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![];
    for n in nals {
        v.extend_from_slice(&[0, 0, 0, 1]);
        v.extend_from_slice(n);
    }
    v
}
fn nal(t: u8, len: usize, seed: u8) -> Vec<u8> {
    let mut n = pattern(len, seed);
    n[0] = 0x60 | t;
    n
}

#[test]
fn h264_single_stap_fua_and_parameter_sets() {
    let t0 = Instant::now();
    let sps = nal(7, 12, 1);
    let pps = nal(8, 5, 2);
    let idr = nal(5, 4000, 3);
    let small = nal(1, 100, 4);
    let big = nal(1, 2500, 5);
    let mut p = H264Packetizer::default();
    let f0 = h264_stream(&[vec![0x09, 0xF0], sps.clone(), pps.clone(), idr.clone()]);
    let f1 = h264_stream(&[small.clone(), big.clone()]);
    let f2 = h264_stream(std::slice::from_ref(&idr)); // IDR without SPS/PPS: the packetizer re-inserts them
    let mut seq = 7;
    let p0 = p.packetize(&f0, 1200).unwrap();
    assert_eq!(p0[0][0] & 0x1F, 24, "SPS+PPS aggregated into STAP-A");
    assert!(
        p0[1..].iter().all(|x| x[0] & 0x1F == 28),
        "IDR fragmented into FU-A"
    );
    assert!(p0.iter().all(|x| x.len() <= 1200));
    let p1 = p.packetize(&f1, 1200).unwrap();
    assert_eq!(
        p1[0][0] & 0x1F,
        1,
        "small NAL alone since the next does not fit"
    );
    let p2 = p.packetize(&f2, 1200).unwrap();
    assert_eq!(p2[0][0] & 0x1F, 24);
    let mut pkts = rtp(p0, &mut seq, 0);
    pkts.extend(rtp(p1, &mut seq, 3000));
    pkts.extend(rtp(p2, &mut seq, 6000));
    let (out, kf, _) = run(Codec::H264, &pkts, t0);
    assert_eq!(kf, 0);
    assert_eq!(out.len(), 3);
    assert_eq!(
        out[0].data,
        annexb4(&[sps.clone(), pps.clone(), idr.clone()]),
        "AUD dropped"
    );
    assert_eq!(out[1].data, annexb4(&[small, big]));
    assert_eq!(out[2].data, annexb4(&[sps, pps, idr.clone()]));
    assert!(out[0].keyframe && !out[1].keyframe && out[2].keyframe);
    // An IDR with no SPS/PPS ever seen is not a usable keyframe.
    let mut p = H264Packetizer::default();
    let lone = rtp(
        p.packetize(&h264_stream(&[idr]), 1200).unwrap(),
        &mut seq,
        9000,
    );
    let (out, kf, _) = run(Codec::H264, &lone, t0);
    assert!(out.is_empty());
    assert_eq!(kf, 1);
}

#[test]
fn h264_truncated_and_hostile() {
    let mut d = H264Depacketizer::default();
    let mut out = vec![];
    assert!(d.depacketize(&[], &mut out).is_err());
    assert!(
        d.depacketize(&[0x7C, 0x05], &mut out).is_err(),
        "FU-A continuation without start"
    );
    assert!(
        d.depacketize(&[0x78, 0x00, 0x10, 0x65], &mut out).is_err(),
        "STAP-A size beyond payload"
    );
    assert!(
        d.depacketize(&[0x78, 0x00], &mut out).is_err(),
        "truncated STAP-A size"
    );
    assert!(
        d.depacketize(&[0x7C], &mut out).is_err(),
        "FU header missing"
    );
    assert!(
        d.depacketize(&[0x7C, 0xC5, 1], &mut out).is_err(),
        "S and E"
    );
    assert!(d.depacketize(&[0x80], &mut out).is_err(), "forbidden bit");
    assert!(
        d.depacketize(&[0x79, 0x00, 0x01, 0x41], &mut out).is_err(),
        "STAP-B"
    );
    let mut d = H264Depacketizer::default();
    d.max_nal_size = 10;
    assert!(d.depacketize(&[0x7C, 0x85, 1, 2, 3], &mut out).is_ok());
    assert!(
        d.depacketize(&[0x7C, 0x05, 1, 2, 3, 4, 5, 6, 7, 8], &mut out)
            .is_err(),
        "cap"
    );
}

fn obu(t: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(t << 3) | 0x02];
    write_leb128(payload.len() as u64, &mut v);
    v.extend_from_slice(payload);
    v
}

#[test]
fn av1_aggregation_fragmentation_and_n_bit() {
    let t0 = Instant::now();
    let seqhdr = obu(1, &pattern(11, 1));
    let frame0 = obu(6, &pattern(3000, 2));
    let frame1 = obu(6, &pattern(400, 3));
    let md = obu(5, &pattern(20, 4));
    let td = obu(2, &[]);
    let tu0: Vec<u8> = [td.clone(), seqhdr.clone(), frame0.clone()].concat();
    let tu1: Vec<u8> = [td, md.clone(), frame1.clone()].concat();
    let mut p = Av1Packetizer;
    let p0 = p.packetize(&tu0, 1200).unwrap();
    assert!(p0.iter().all(|x| x.len() <= 1200));
    assert_eq!(
        p0[0][0] & 0x08,
        0x08,
        "N set on the first packet of a coded video sequence"
    );
    assert_eq!(p0[0][0] & 0x40, 0x40, "Y: the frame OBU continues");
    assert_eq!(p0[1][0] & 0x80, 0x80, "Z: continuation");
    assert_eq!(p0[1][0] & 0x30, 0x10, "W = 1");
    let p1 = p.packetize(&tu1, 1200).unwrap();
    assert_eq!(p1.len(), 1);
    assert_eq!(p1[0][0] & 0x38, 0x20, "W = 2, N = 0");
    let mut seq = 1000;
    let mut pkts = rtp(p0, &mut seq, 0);
    pkts.extend(rtp(p1, &mut seq, 3000));
    let (out, kf, _) = run(Codec::Av1, &pkts, t0);
    assert_eq!(kf, 0);
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[0].data,
        [seqhdr, frame0].concat(),
        "temporal delimiter dropped"
    );
    assert_eq!(out[1].data, [md, frame1].concat());
    assert!(out[0].keyframe && !out[1].keyframe);
    // Loss of the middle fragment: the depacketizer reports it, the assembler drops.
    let mut d = Av1Depacketizer::default();
    let mut o = vec![];
    assert!(d.depacketize(&pkts[0].3, &mut o).is_ok());
    // Through the assembler, losing the middle fragment loses the keyframe: the next
    // (inter) frame is dropped and a keyframe requested.
    let mut lossy = pkts.clone();
    lossy.remove(1);
    let mut a = FrameAssembler::new(AssemblerConfig::new(Codec::Av1), t0);
    for (s, ts, m, p) in &lossy {
        a.handle_rtp(t0, *s, *ts, *m, p);
    }
    a.handle_timeout(t0 + Duration::from_secs(1));
    let mut reqs = 0;
    while let Some(e) = a.poll_event() {
        assert_eq!(e, AssemblerEvent::RequestKeyframe);
        reqs += 1;
    }
    assert!(reqs >= 1);
    assert_eq!(a.stats().frames, 0);
    let mut d = Av1Depacketizer::default();
    assert!(
        d.depacketize(&pkts[1].3, &mut o).is_err(),
        "Z without start"
    );
    assert!(
        d.depacketize(&[0x00, 0x05, 1], &mut o).is_err(),
        "length beyond payload"
    );
    assert!(
        d.depacketize(
            &[0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            &mut o
        )
        .is_err(),
        "bad leb128"
    );
    assert!(d.depacketize(&[], &mut o).is_err());
}

#[test]
fn truncated_payloads_never_panic_and_error() {
    // Every prefix of every packet from every packetizer: the depacketizers return errors or
    // output, never panic; the assembler stays bounded.
    let t0 = Instant::now();
    let inputs: Vec<(Codec, Vec<Vec<u8>>)> = vec![
        (
            Codec::Vp8,
            Vp8Packetizer {
                picture_id: Some(1),
            }
            .packetize(&vp8_frame(true, 3000, 1), 500)
            .unwrap(),
        ),
        (
            Codec::Vp9,
            Vp9Packetizer::default()
                .packetize(&vp9_frame(true, 3000, 1), 500)
                .unwrap(),
        ),
        (
            Codec::H264,
            H264Packetizer::default()
                .packetize(
                    &h264_stream(&[nal(7, 10, 1), nal(8, 4, 2), nal(5, 3000, 3)]),
                    500,
                )
                .unwrap(),
        ),
        (
            Codec::Av1,
            Av1Packetizer
                .packetize(&[obu(1, &[1; 10]), obu(6, &[2; 3000])].concat(), 500)
                .unwrap(),
        ),
    ];
    for (codec, payloads) in inputs {
        for pl in &payloads {
            for cut in 0..pl.len().min(12) {
                let mut d = AnyDepacketizer::new(codec);
                let mut out = vec![];
                let _ = d.depacketize(&pl[..cut], &mut out);
                let _ = d.is_keyframe(&pl[..cut]);
            }
        }
        // Truncated packets through the assembler: no frame is output.
        let mut seq = 0;
        let pkts: Vec<Pkt> = rtp(
            payloads
                .iter()
                .map(|p| p[..p.len().min(2)].to_vec())
                .collect(),
            &mut seq,
            0,
        );
        let (out, _, a) = run(codec, &pkts, t0);
        assert!(out.iter().all(|f| !f.data.is_empty()), "{codec:?}");
        assert!(a.stats().frames <= 1);
    }
}

#[test]
fn assembler_caps_and_duplicates() {
    let t0 = Instant::now();
    let mut cfg = AssemblerConfig::new(Codec::Vp8);
    cfg.max_packets = 8;
    let mut a = FrameAssembler::new(cfg, t0);
    // 100 packets of one frame that never ends: bounded buffer.
    for s in 0..100u16 {
        a.handle_rtp(t0, s, 0, false, &[0x10, 0x00, 1]);
    }
    assert!(a.stats().packets_dropped >= 92);
    let mut reqs = 0;
    while let Some(e) = a.poll_event() {
        assert_eq!(e, AssemblerEvent::RequestKeyframe);
        reqs += 1;
    }
    assert_eq!(reqs, 1, "rate-limited");
    // Re-requests at the interval while still waiting.
    a.handle_timeout(t0 + Duration::from_millis(600));
    assert!(a.poll_event().is_some());
    // Duplicates are dropped.
    let mut a = FrameAssembler::new(AssemblerConfig::new(Codec::Vp8), t0);
    let f = vp8_frame(true, 100, 1);
    let pl = Vp8Packetizer::default().packetize(&f, 1200).unwrap();
    a.handle_rtp(t0, 5, 0, true, &pl[0]);
    a.handle_rtp(t0, 5, 0, true, &pl[0]);
    assert!(matches!(a.poll_event(), Some(AssemblerEvent::Frame(_))));
    assert!(a.poll_event().is_none());
    assert_eq!(a.stats().packets_dropped, 1);
}

#[test]
fn vp8_packetize_into_reuses_one_buffer_and_matches_packetize() {
    use sansrtc_rtp::codec::Payloads;
    let mut out = Payloads::new();
    for pid in [None, Some(0x7FFF), Some(5)] {
        let mut a = Vp8Packetizer { picture_id: pid };
        let mut b = a;
        for (len, mtu) in [
            (1, 1200),
            (5000, 1200),
            (2400, 1204),
            (100_000, 1200),
            (7, 5),
        ] {
            let f = pattern(len, len as u8);
            let want = a.packetize(&f, mtu).unwrap();
            b.packetize_into(&f, mtu, &mut out).unwrap();
            assert_eq!(out.len(), want.len(), "{pid:?} {len} {mtu}");
            assert!(!out.is_empty());
            let got: Vec<&[u8]> = out.iter().collect();
            let want_refs: Vec<&[u8]> = want.iter().map(|p| &p[..]).collect();
            assert_eq!(got, want_refs);
            assert_eq!(out.get(want.len() - 1), Some(&want[want.len() - 1][..]));
            assert_eq!(out.get(want.len()), None);
            assert_eq!(out.as_bytes(), &want.concat()[..]);
            assert!(out.iter().all(|p| p.len() <= mtu));
        }
        assert_eq!(a.picture_id, b.picture_id);
    }
    // Errors leave the buffer empty; a reused buffer does not keep the old frame.
    let mut p = Vp8Packetizer {
        picture_id: Some(1),
    };
    assert!(p.packetize_into(&[], 1200, &mut out).is_err());
    assert!(out.is_empty());
    assert!(p.packetize_into(&[1, 2, 3], 4, &mut out).is_err());
    assert_eq!(p.picture_id, Some(1));
}
