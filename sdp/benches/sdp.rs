//! Parse and serialize real Chromium SDPs (captured here, see tests/data/capture.sh).
#![allow(missing_docs, clippy::indexing_slicing)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use sansrtc_sdp::SessionDescription;
use sansrtc_sdp::jsep::{AnswerSpec, CodecSpec, MediaCapabilities, TransportSpec, create_answer};
use sansrtc_sdp::{Direction, Fingerprint, HashFunction};

const CHROME_AV_DATA: &str = include_str!("../tests/data/chrome_av_data_offer.sdp");
const CHROME_AV_H264: &str = include_str!("../tests/data/chrome_av_h264_offer.sdp");
const CHROME_DC: &str = include_str!("../tests/data/chrome_datachannel_offer.sdp");
const CHROME_SIMULCAST: &str = include_str!("../tests/data/chrome_simulcast_offer.sdp");

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("sdp");
    for (name, text) in [
        ("chrome_av_data_offer_171_lines", CHROME_AV_DATA),
        ("chrome_av_h264_offer_114_lines", CHROME_AV_H264),
        ("chrome_simulcast_offer_69_lines", CHROME_SIMULCAST),
        ("chrome_datachannel_offer_19_lines", CHROME_DC),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| SessionDescription::parse(black_box(text)))
        });
        let Ok(sdp) = SessionDescription::parse(text) else {
            return;
        };
        g.bench_function(format!("serialize/{name}"), |b| {
            b.iter(|| black_box(&sdp).serialize())
        });
    }
    let Ok(offer) = SessionDescription::parse(CHROME_AV_DATA) else {
        return;
    };
    g.bench_function("typed/codecs_of_video_section", |b| {
        b.iter(|| black_box(&offer).media[1].codecs().len())
    });
    let caps = MediaCapabilities {
        codecs: vec![
            CodecSpec::opus(111),
            CodecSpec::video(96, "VP8", None, Some(97)),
        ],
        extensions: vec!["urn:ietf:params:rtp-hdrext:sdes:mid".into()],
        direction: Direction::SendRecv,
        msid: None,
        receive_simulcast: false,
    };
    let spec = AnswerSpec {
        session_id: 1,
        session_version: 1,
        transport: TransportSpec {
            ice_ufrag: "bnch".into(),
            ice_pwd: "benchbenchbenchbenchbench".into(),
            ice_options: vec!["trickle".into()],
            ice_lite: false,
            fingerprints: vec![Fingerprint {
                hash: HashFunction::Sha256,
                digest: vec![7; 32],
            }],
        },
        audio: Some(caps.clone()),
        video: Some(caps),
        data_channel: true,
        sctp_port: 5000,
        max_message_size: 262_144,
    };
    g.throughput(Throughput::Elements(1));
    g.bench_function("jsep/create_answer_to_chrome_av_data_offer", |b| {
        b.iter(|| create_answer(black_box(&offer), &spec))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
