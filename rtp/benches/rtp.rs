//! Criterion benches of the RTP hot paths: header parse + extension lookup, RTCP compound
//! parse, VP8 and H.264 packetization of a 100 KB frame.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sansrtc_rtp::codec::Packetizer;
use sansrtc_rtp::codec::h264::H264Packetizer;
use sansrtc_rtp::codec::vp8::Vp8Packetizer;
use sansrtc_rtp::wire::rtcp::parse_compound;
use sansrtc_rtp::wire::rtp::{Extension, HeaderExtension, RtpPacket, RtpRepr};

/// An RTP packet with four one-byte extensions (audio level, abs-send-time, TWCC, MID)
/// and a 1000-octet payload: the shape browsers send.
pub fn four_ext_packet() -> Vec<u8> {
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

pub const RTCP_COMPOUND: &str = "81c8000c1a2b3c4de5f3b2a1800000000001e2400000006400003e80cafef00d190000070001000500000020b2a180000000800081ca00061a2b3c4d0111616c696365406578616d706c652e636f6d0081cd00031a2b3c4dcafef00d03e8000581ce00021a2b3c4dcafef00d";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap(), 16).unwrap())
        .collect()
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

fn benches(c: &mut Criterion) {
    let pkt = four_ext_packet();
    let mut g = c.benchmark_group("rtp");
    g.bench_function("parse_and_find_extension", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            black_box(p.extension(black_box(5)));
        })
    });
    g.bench_function("parse_lazy_and_find_extension", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked_lazy(black_box(&pkt[..])).unwrap();
            black_box(p.extension(black_box(5)));
        })
    });
    g.bench_function("parse_header_only", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            black_box((
                p.sequence_number(),
                p.timestamp(),
                p.ssrc(),
                p.payload().len(),
            ));
        })
    });
    g.bench_function("parse_and_iterate_4_extensions", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            for e in p.extensions() {
                black_box(e);
            }
        })
    });
    let mut buf = pkt.clone();
    g.bench_function("rewrite_in_place_seq_ssrc_ext", |b| {
        b.iter(|| {
            let mut p = RtpPacket::new_checked(black_box(&mut buf[..])).unwrap();
            p.set_sequence_number(7);
            p.set_ssrc(9);
            if let Some(v) = p.extension_mut(5) {
                v.copy_from_slice(&[0, 1]);
            }
        })
    });
    g.finish();

    let rtcp = hex(RTCP_COMPOUND);
    let mut g = c.benchmark_group("rtcp");
    g.bench_function("parse_compound_sr_sdes_nack_pli", |b| {
        b.iter(|| {
            for p in parse_compound(black_box(&rtcp)) {
                black_box(p.unwrap());
            }
        })
    });
    g.finish();

    let f = frame_100k();
    let h = h264_frame_100k();
    let mut g = c.benchmark_group("packetize_100k");
    g.throughput(Throughput::Bytes(f.len() as u64));
    g.bench_function("vp8", |b| {
        let mut p = Vp8Packetizer {
            picture_id: Some(1),
        };
        b.iter(|| black_box(p.packetize(black_box(&f), 1200).unwrap()))
    });
    g.bench_function("vp8_into_reused_buffer", |b| {
        let mut p = Vp8Packetizer {
            picture_id: Some(1),
        };
        let mut out = sansrtc_rtp::codec::Payloads::new();
        b.iter(|| {
            p.packetize_into(black_box(&f), 1200, &mut out).unwrap();
            black_box(out.len())
        })
    });
    g.bench_function("h264", |b| {
        let mut p = H264Packetizer::default();
        b.iter(|| black_box(p.packetize(black_box(&h), 1200).unwrap()))
    });
    g.finish();
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
