//! RTP/RTCP: sansrtc-rtp against webrtc-rs's rtc-rtp / rtc-rtcp, same inputs, same run.
//!
//! Cases:
//! - RTP header parse + lookup of one extension, on a packet with four one-byte extensions
//!   (audio level, abs-send-time, transport-wide-cc, MID) and a 1000-octet payload;
//! - RTCP compound parse (SR + SDES + NACK + PLI, the shared vector);
//! - VP8 and H.264 packetization of a 100 KB frame at MTU 1200.
//!
//! Setup checks that both stacks read the same fields from the same bytes.

// Bench code: a panic is a failed setup; criterion_group! generates an undocumented fn.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rtc_shared::marshal::Unmarshal;
use sansrtc_rtp::codec::Packetizer;
use sansrtc_rtp::wire::rtp::{Extension, HeaderExtension, RtpPacket, RtpRepr};

const RTCP_COMPOUND: &str = "81c8000c1a2b3c4de5f3b2a1800000000001e2400000006400003e80cafef00d190000070001000500000020b2a180000000800081ca00061a2b3c4d0111616c696365406578616d706c652e636f6d0081cd00031a2b3c4dcafef00d03e8000581ce00021a2b3c4dcafef00d";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn four_ext_packet() -> Vec<u8> {
    let exts = [
        Extension {
            id: 1,
            data: &[0x9a],
        },
        Extension {
            id: 3,
            data: &[0x12, 0x34, 0x56],
        },
        Extension {
            id: 5,
            data: &[0x00, 0x2a],
        },
        Extension { id: 9, data: b"0" },
    ];
    RtpRepr {
        payload_type: 111,
        sequence_number: 23456,
        timestamp: 123456,
        ssrc: 0x1a2b3c4d,
        extension: HeaderExtension::Auto(&exts),
        payload: &[0xAB; 1000],
        ..Default::default()
    }
    .to_vec()
    .unwrap()
}

fn frame_100k() -> Vec<u8> {
    (0..100_000u32).map(|i| (i * 7 + 1) as u8 | 1).collect()
}

fn h264_frame_100k() -> Vec<u8> {
    let mut v = vec![
        0, 0, 0, 1, 0x67, 1, 2, 3, 0, 0, 0, 1, 0x68, 4, 5, 0, 0, 0, 1, 0x65,
    ];
    v.extend((0..100_000u32).map(|i| (i * 7 + 1) as u8 | 1));
    v
}

fn check_same_results(pkt: &[u8], rtcp: &[u8]) {
    let ours = RtpPacket::new_checked(pkt).unwrap();
    let mut b = Bytes::copy_from_slice(pkt);
    let theirs = rtc_rtp::Packet::unmarshal(&mut b).unwrap();
    assert_eq!(theirs.header.sequence_number, ours.sequence_number());
    assert_eq!(theirs.header.ssrc, ours.ssrc());
    for id in [1u8, 3, 5, 9] {
        assert_eq!(
            theirs.header.get_extension(id).as_deref(),
            ours.extension(id),
            "extension {id}"
        );
    }
    assert_eq!(&theirs.payload[..], ours.payload());
    let n_ours = sansrtc_rtp::parse_compound(rtcp)
        .filter(|p| p.is_ok())
        .count();
    let mut b = Bytes::copy_from_slice(rtcp);
    let n_theirs = rtc_rtcp::packet::unmarshal(&mut b).unwrap().len();
    assert_eq!((n_ours, n_theirs), (4, 4));
}

fn benches(c: &mut Criterion) {
    let pkt = four_ext_packet();
    let rtcp = hex(RTCP_COMPOUND);
    check_same_results(&pkt, &rtcp);

    let mut g = c.benchmark_group("rtp_parse_find_ext");
    g.bench_function("sansrtc", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            black_box(p.extension(black_box(5)).map(|v| v.len()))
        })
    });
    // Elements checked as the lookup walks to them (RtpPacket::new_checked_lazy).
    g.bench_function("sansrtc_lazy", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked_lazy(black_box(&pkt[..])).unwrap();
            black_box(p.extension(black_box(5)).map(|v| v.len()))
        })
    });
    let shared = Bytes::from(pkt.clone());
    g.bench_function("rtc-rtp", |b| {
        b.iter(|| {
            let mut buf = black_box(shared.clone());
            let p = rtc_rtp::Packet::unmarshal(&mut buf).unwrap();
            black_box(p.header.get_extension(black_box(5)).map(|v| v.len()))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rtcp_parse_compound");
    g.bench_function("sansrtc", |b| {
        b.iter(|| {
            for p in sansrtc_rtp::parse_compound(black_box(&rtcp)) {
                black_box(p.unwrap());
            }
        })
    });
    let shared = Bytes::from(rtcp.clone());
    g.bench_function("rtc-rtcp", |b| {
        b.iter(|| {
            let mut buf = black_box(shared.clone());
            black_box(rtc_rtcp::packet::unmarshal(&mut buf).unwrap())
        })
    });
    g.finish();

    let f = frame_100k();
    let h = h264_frame_100k();
    let mut g = c.benchmark_group("packetize_100k_vp8");
    g.throughput(Throughput::Bytes(f.len() as u64));
    g.bench_function("sansrtc", |b| {
        let mut p = sansrtc_rtp::codec::vp8::Vp8Packetizer {
            picture_id: Some(1),
        };
        b.iter(|| black_box(p.packetize(black_box(&f), 1200).unwrap()))
    });
    g.bench_function("sansrtc_into_reused_buffer", |b| {
        let mut p = sansrtc_rtp::codec::vp8::Vp8Packetizer {
            picture_id: Some(1),
        };
        let mut out = sansrtc_rtp::codec::Payloads::new();
        b.iter(|| {
            p.packetize_into(black_box(&f), 1200, &mut out).unwrap();
            black_box(out.len())
        })
    });
    let fb = Bytes::from(f.clone());
    g.bench_function("rtc-rtp", |b| {
        use rtc_rtp::packetizer::Payloader;
        let mut p = rtc_rtp::codec::vp8::Vp8Payloader::default();
        p.enable_picture_id = true;
        b.iter(|| black_box(p.payload(1200, black_box(&fb)).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("packetize_100k_h264");
    g.throughput(Throughput::Bytes(h.len() as u64));
    g.bench_function("sansrtc", |b| {
        let mut p = sansrtc_rtp::codec::h264::H264Packetizer::default();
        b.iter(|| black_box(p.packetize(black_box(&h), 1200).unwrap()))
    });
    let hb = Bytes::from(h.clone());
    g.bench_function("rtc-rtp", |b| {
        use rtc_rtp::packetizer::Payloader;
        let mut p = rtc_rtp::codec::h264::H264Payloader::default();
        b.iter(|| black_box(p.payload(1200, black_box(&hb)).unwrap()))
    });
    g.finish();
}

criterion_group!(rtp_compare, benches);
criterion_main!(rtp_compare);
