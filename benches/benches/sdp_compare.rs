//! SDP parse/serialize: sansrtc-sdp vs Mozilla's webrtc-sdp (Firefox's parser) vs webrtc-rs's
//! rtc-sdp, on the same real Chromium offers, in the same run.
#![allow(missing_docs)]

use std::io::Cursor;

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const CHROME_AV_DATA: &str = include_str!("../../sdp/tests/data/chrome_av_data_offer.sdp");
const CHROME_SIMULCAST: &str = include_str!("../../sdp/tests/data/chrome_simulcast_offer.sdp");
const CHROME_AV_H264: &str = include_str!("../../sdp/tests/data/chrome_av_h264_offer.sdp");

fn bench(c: &mut Criterion) {
    for (name, text) in [
        ("chrome_av_data_offer_171_lines", CHROME_AV_DATA),
        ("chrome_av_h264_offer_114_lines", CHROME_AV_H264),
        ("chrome_simulcast_offer_69_lines", CHROME_SIMULCAST),
    ] {
        let mut g = c.benchmark_group(format!("sdp_compare/{name}"));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function("parse/sansrtc-sdp", |b| {
            b.iter(|| sansrtc_sdp::SessionDescription::parse(black_box(text)).is_ok())
        });
        g.bench_function("parse/webrtc-sdp", |b| {
            b.iter(|| webrtc_sdp::parse_sdp(black_box(text), false).is_ok())
        });
        g.bench_function("parse/rtc-sdp", |b| {
            b.iter(|| {
                let mut r = Cursor::new(black_box(text).as_bytes());
                rtc_sdp::description::session::SessionDescription::unmarshal(&mut r).is_ok()
            })
        });
        if let Ok(s) = sansrtc_sdp::SessionDescription::parse(text) {
            g.bench_function("serialize/sansrtc-sdp", |b| {
                b.iter(|| black_box(&s).serialize())
            });
        }
        if let Ok(s) = webrtc_sdp::parse_sdp(text, false) {
            g.bench_function("serialize/webrtc-sdp", |b| {
                b.iter(|| black_box(&s).to_string())
            });
        }
        let mut r = Cursor::new(text.as_bytes());
        if let Ok(s) = rtc_sdp::description::session::SessionDescription::unmarshal(&mut r) {
            g.bench_function("serialize/rtc-sdp", |b| b.iter(|| black_box(&s).marshal()));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
