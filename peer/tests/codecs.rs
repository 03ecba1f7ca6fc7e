//! Video codec negotiation (VP8, VP9, AV1, H.264) against SDP captured from Chromium and
//! between two of our PeerConnections, media of each codec over `sansrtc-netsim` through the
//! `sansrtc-rtp` packetizers and depacketizers, and the randomized RTCP report interval
//! (RFC 3550 section 6.3.1).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::time::{Duration, Instant};

use sansrtc::{
    Config, CryptoBackend, Direction, Event, MediaKind, PeerConnection, RtpPacketIn, VideoCodec,
};
use sansrtc_netsim::LinkConfig;

mod common;
use common::Pair;
use sansrtc_rtp::codec::{AnyDepacketizer, Codec, Depacketizer, Packetizer};
use sansrtc_rtp::codec::{av1::Av1Packetizer, h264::H264Packetizer};
use sansrtc_rtp::codec::{vp8::Vp8Packetizer, vp9::Vp9Packetizer};
use sansrtc_sdp::SessionDescription;

/// Chromium 156's media offer with its full codec list (`GET /offer?mode=media` of
/// `interop/py/chromium_peer.py --video-codec any`): VP8 96, H.264 102/104/108/114/116/39
/// (42001f and 42e01f and 4d001f, packetization-mode 1 and 0), AV1 45, VP9 98 (profile 0)
/// and 100 (profile 2), each with rtx, plus red and ulpfec.
const CHROME_OFFER: &str = include_str!("data/chrome_media_offer_all_codecs.sdp");
/// Chromium's answer to our default offer (audio, video with VP8 96, VP9 98, AV1 45,
/// H.264 102, data channel), from the same run.
const CHROME_ANSWER: &str = include_str!("data/chrome_answer_to_ours_codecs.sdp");

fn config(seed: u64, video: &[VideoCodec]) -> Config {
    let mut c = Config {
        seed: Some(seed),
        dtls_crypto: CryptoBackend::InsecureDeterministic,
        ..Config::default()
    };
    c.media.answer_audio = Some(Direction::SendRecv);
    c.media.answer_video = Some(Direction::SendRecv);
    c.media.video_codecs = video.to_vec();
    c
}

fn answerer(video: &[VideoCodec]) -> PeerConnection {
    let now = Instant::now();
    let mut pc = PeerConnection::new(config(7, video), now).unwrap();
    pc.add_local_address(now, "127.0.0.1:5000".parse().unwrap())
        .unwrap();
    pc
}

fn video_line(sdp: &str) -> String {
    sdp.lines()
        .find(|l| l.starts_with("m=video"))
        .unwrap()
        .to_owned()
}

/// The offer with its video section reduced to the payload types `keep` (the m= line and
/// every rtpmap/fmtp/rtcp-fb line of the others removed); `edit` changes a kept line.
fn offer_with_video_pts(keep: &[u8], edit: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut in_video = false;
    for line in CHROME_OFFER.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            in_video = line.starts_with("m=video");
            if in_video {
                let pts: Vec<String> = keep.iter().map(u8::to_string).collect();
                out.push_str(&format!(
                    "m=video 9 UDP/TLS/RTP/SAVPF {}\r\n",
                    pts.join(" ")
                ));
                continue;
            }
        }
        if in_video {
            let pt_of = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"]
                .iter()
                .find_map(|p| line.strip_prefix(p))
                .map(|rest| rest.split(' ').next().unwrap().parse::<u8>().unwrap());
            if let Some(pt) = pt_of
                && !keep.contains(&pt)
            {
                continue;
            }
            if line.starts_with("a=ssrc-group:FID") {
                continue;
            }
        }
        out.push_str(&edit(line));
        out.push_str("\r\n");
    }
    out
}

#[test]
fn answers_chromium_with_our_codecs_in_our_order() {
    let mut pc = answerer(&VideoCodec::ALL);
    let answer = pc.create_answer(Instant::now(), CHROME_OFFER).unwrap();
    // VP8 96, VP9 profile 0 (98, not 100), AV1 45, and of the six H.264 variants only
    // constrained baseline with packetization-mode 1 (108); no rtx, red or ulpfec.
    assert_eq!(
        video_line(&answer),
        "m=video 9 UDP/TLS/RTP/SAVPF 96 98 45 108",
        "{answer}"
    );
    assert_eq!(
        pc.payload_types("1"),
        vec![(96, 90000), (98, 90000), (45, 90000), (108, 90000)]
    );
    let names: Vec<(u8, String)> = pc.codecs("1");
    assert_eq!(
        names,
        [(96, "VP8"), (98, "VP9"), (45, "AV1"), (108, "H264")].map(|(p, n)| (p, n.to_owned()))
    );
    assert_eq!(pc.codecs("0"), vec![(111, "opus".to_owned())]);
    for pt in [96, 98, 45, 108] {
        for fb in ["nack", "nack pli", "ccm fir"] {
            assert!(
                answer.contains(&format!("a=rtcp-fb:{pt} {fb}\r\n")),
                "{pt} {fb}: {answer}"
            );
        }
        assert!(!answer.contains(&format!("a=rtcp-fb:{pt} transport-cc")));
    }
    assert!(answer.contains("a=fmtp:98 profile-id=0"), "{answer}");
    assert!(
        answer.contains(
            "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
        ),
        "{answer}"
    );
    assert!(!answer.contains("rtx") && !answer.contains("red/") && !answer.contains("ulpfec"));
    // The answer parses and its video section lists exactly those codecs.
    let sdp = SessionDescription::parse(&answer).unwrap();
    let video = sdp.media_by_mid("1").unwrap();
    let pts: Vec<u8> = video.codecs().iter().map(|c| c.payload_type).collect();
    assert_eq!(pts, vec![96, 98, 45, 108]);
}

#[test]
fn our_preference_orders_the_answer_and_limits_it() {
    let mut pc = answerer(&[VideoCodec::H264, VideoCodec::Vp9]);
    let answer = pc.create_answer(Instant::now(), CHROME_OFFER).unwrap();
    assert_eq!(video_line(&answer), "m=video 9 UDP/TLS/RTP/SAVPF 108 98");
    assert_eq!(pc.payload_types("1"), vec![(108, 90000), (98, 90000)]);
    assert!(
        !answer.contains("VP8") && !answer.contains("AV1"),
        "{answer}"
    );

    let mut pc = answerer(&[VideoCodec::Av1]);
    let answer = pc.create_answer(Instant::now(), CHROME_OFFER).unwrap();
    assert_eq!(video_line(&answer), "m=video 9 UDP/TLS/RTP/SAVPF 45");
    assert_eq!(pc.codecs("1"), vec![(45, "AV1".to_owned())]);

    // No video codec at all: video rejected, audio still accepted.
    let mut pc = answerer(&[]);
    let answer = pc.create_answer(Instant::now(), CHROME_OFFER).unwrap();
    assert!(video_line(&answer).starts_with("m=video 0 "), "{answer}");
    assert!(pc.payload_types("1").is_empty());
    assert_eq!(pc.payload_types("0"), vec![(111, 48000)]);
    // ... and as offerer a video transceiver cannot be offered without a codec.
    let now = Instant::now();
    let mut pc = PeerConnection::new(config(9, &[]), now).unwrap();
    pc.add_local_address(now, "127.0.0.1:5000".parse().unwrap())
        .unwrap();
    pc.add_transceiver(MediaKind::Video, Direction::SendRecv)
        .unwrap();
    assert!(pc.create_offer(now).is_err());
}

#[test]
fn h264_needs_the_same_profile_and_packetization_mode() {
    // RFC 6184 section 8.2.2: profile (profile_idc + profile-iop) and packetization-mode must
    // match; the level may differ.
    let refused: [(&[u8], &str); 3] = [
        (&[116, 39], "main profile 4d001f, modes 1 and 0"),
        (&[104, 114], "packetization-mode 0 only"),
        (&[102], "baseline 42001f (not constrained baseline)"),
    ];
    for (pts, what) in refused {
        let offer = offer_with_video_pts(pts, str::to_owned);
        let mut pc = answerer(&VideoCodec::ALL);
        let answer = pc.create_answer(Instant::now(), &offer).unwrap();
        assert!(
            video_line(&answer).starts_with("m=video 0 "),
            "{what}: {answer}"
        );
        assert!(pc.payload_types("1").is_empty(), "{what}");
        assert!(!answer.contains("a=group:BUNDLE 0 1"), "{what}: {answer}");
    }
    // Constrained baseline at level 1.0 (42e00a) matches our 42e01f.
    let offer = offer_with_video_pts(&[108, 116], |l| {
        l.replace("profile-level-id=42e01f", "profile-level-id=42e00a")
    });
    let mut pc = answerer(&VideoCodec::ALL);
    let answer = pc.create_answer(Instant::now(), &offer).unwrap();
    assert_eq!(video_line(&answer), "m=video 9 UDP/TLS/RTP/SAVPF 108");
    assert_eq!(pc.codecs("1"), vec![(108, "H264".to_owned())]);
    // VP9 profile 2 alone is refused too.
    let offer = offer_with_video_pts(&[100], str::to_owned);
    let mut pc = answerer(&VideoCodec::ALL);
    let answer = pc.create_answer(Instant::now(), &offer).unwrap();
    assert!(video_line(&answer).starts_with("m=video 0 "), "{answer}");
}

#[test]
fn applies_chromiums_answer_to_our_codecs() {
    let now = Instant::now();
    let mut pc = PeerConnection::new(config(11, &VideoCodec::ALL), now).unwrap();
    pc.add_local_address(now, "127.0.0.1:5000".parse().unwrap())
        .unwrap();
    pc.add_transceiver(MediaKind::Audio, Direction::SendRecv)
        .unwrap();
    pc.add_transceiver(MediaKind::Video, Direction::SendRecv)
        .unwrap();
    pc.create_data_channel(now, "x", Default::default())
        .unwrap();
    let offer = pc.create_offer(now).unwrap();
    assert_eq!(
        video_line(&offer),
        "m=video 9 UDP/TLS/RTP/SAVPF 96 98 45 102"
    );
    for l in [
        "a=rtpmap:98 VP9/90000",
        "a=fmtp:98 profile-id=0",
        "a=rtpmap:45 AV1/90000",
        "a=rtpmap:102 H264/90000",
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        "a=rtcp-fb:102 nack pli",
        "a=rtcp-fb:45 ccm fir",
    ] {
        assert!(offer.contains(l), "{l}: {offer}");
    }
    pc.set_remote_answer(now, CHROME_ANSWER).unwrap();
    assert_eq!(
        pc.payload_types("1"),
        vec![(96, 90000), (98, 90000), (45, 90000), (102, 90000)]
    );
    assert_eq!(pc.payload_types("0"), vec![(111, 48000)]);
}

#[test]
fn two_peers_keep_the_offerers_numbers_and_the_answerers_order() {
    let now = Instant::now();
    let mut a = PeerConnection::new(config(1, &[VideoCodec::H264, VideoCodec::Vp9]), now).unwrap();
    let mut b = PeerConnection::new(
        config(2, &[VideoCodec::Vp9, VideoCodec::Vp8, VideoCodec::H264]),
        now,
    )
    .unwrap();
    a.add_local_address(now, "10.0.0.1:5000".parse().unwrap())
        .unwrap();
    b.add_local_address(now, "10.0.0.2:6000".parse().unwrap())
        .unwrap();
    a.add_transceiver(MediaKind::Video, Direction::SendRecv)
        .unwrap();
    let offer = a.create_offer(now).unwrap();
    assert_eq!(video_line(&offer), "m=video 9 UDP/TLS/RTP/SAVPF 102 98");
    let answer = b.create_answer(now, &offer).unwrap();
    assert_eq!(video_line(&answer), "m=video 9 UDP/TLS/RTP/SAVPF 98 102");
    a.set_remote_answer(now, &answer).unwrap();
    let both = vec![(98, "VP9".to_owned()), (102, "H264".to_owned())];
    assert_eq!(a.codecs("0"), both);
    assert_eq!(b.codecs("0"), both);

    // Nothing in common: the video section is rejected.
    let mut a = PeerConnection::new(config(3, &[VideoCodec::H264]), now).unwrap();
    let mut b = PeerConnection::new(config(4, &[VideoCodec::Vp8, VideoCodec::Av1]), now).unwrap();
    a.add_local_address(now, "10.0.0.1:5000".parse().unwrap())
        .unwrap();
    b.add_local_address(now, "10.0.0.2:6000".parse().unwrap())
        .unwrap();
    a.add_transceiver(MediaKind::Video, Direction::SendRecv)
        .unwrap();
    a.create_data_channel(now, "x", Default::default()).unwrap();
    let offer = a.create_offer(now).unwrap();
    let answer = b.create_answer(now, &offer).unwrap();
    assert!(video_line(&answer).starts_with("m=video 0 "), "{answer}");
    a.set_remote_answer(now, &answer).unwrap();
    assert!(a.payload_types("0").is_empty());
    assert_eq!(
        a.transceivers().next().map(|t| t.2),
        Some(Direction::Inactive)
    );
}

// ---- over netsim ----

/// a offers audio + video, b answers; with the configurations `a_cfg`, `b_cfg`, over a 10 ms
/// link.
fn new_pair(seed: u64, a_cfg: Config, b_cfg: Config) -> Pair {
    with_link(
        seed,
        a_cfg,
        b_cfg,
        LinkConfig::default().latency(Duration::from_millis(10)),
    )
    .0
}

/// The same over `link`; also returns the offer and the answer.
fn with_link(seed: u64, a_cfg: Config, b_cfg: Config, link: LinkConfig) -> (Pair, String, String) {
    Pair::negotiated(
        seed,
        link,
        a_cfg,
        b_cfg,
        |a| {
            a.add_transceiver(MediaKind::Audio, Direction::SendRecv)
                .unwrap();
            a.add_transceiver(MediaKind::Video, Direction::SendRecv)
                .unwrap();
        },
        |answer| answer,
    )
}

/// Bytes without zeros (so no H.264 start code appears inside a NAL unit).
fn bytes(len: usize, seed: usize) -> Vec<u8> {
    (0..len)
        .map(|j| ((seed * 131 + j * 7) % 255 + 1) as u8)
        .collect()
}

/// An encoded frame of `codec` (`key`: a keyframe) as the depacketizer gives it back.
fn frame(codec: VideoCodec, i: usize, key: bool) -> Vec<u8> {
    let len = 300 + (i * 397) % 3000;
    let mut body = bytes(len, i);
    match codec {
        // VP8 payload header: bit 0 of the first octet is 0 on a keyframe (RFC 7741 4.3).
        VideoCodec::Vp8 => {
            body[0] = if key { 0x10 } else { 0x11 };
            body
        }
        // VP9 uncompressed header: frame marker 2, profile 0, show_existing 0, frame_type
        // (0 key) in the bits after it.
        VideoCodec::Vp9 => {
            body[0] = if key { 0x82 } else { 0x86 };
            body
        }
        // A temporal unit of OBUs with size fields: a sequence header on keyframes, then a
        // frame OBU.
        VideoCodec::Av1 => {
            let obu = |t: u8, payload: &[u8]| {
                let mut v = vec![(t << 3) | 0x02];
                sansrtc_rtp::codec::av1::write_leb128(payload.len() as u64, &mut v);
                v.extend_from_slice(payload);
                v
            };
            let mut tu = Vec::new();
            if key {
                tu.extend(obu(1, &bytes(11, i + 1)));
            }
            tu.extend(obu(6, &body));
            tu
        }
        // Annex B with 4-byte start codes: SPS, PPS and an IDR slice, or a non-IDR slice.
        VideoCodec::H264 => {
            let mut nals = Vec::new();
            if key {
                let mut sps = bytes(12, 1);
                sps[0] = 0x67;
                let mut pps = bytes(5, 2);
                pps[0] = 0x68;
                nals.push(sps);
                nals.push(pps);
                body[0] = 0x65;
            } else {
                body[0] = 0x41;
            }
            nals.push(body);
            nals.iter()
                .flat_map(|n| [&[0, 0, 0, 1][..], n].concat())
                .collect()
        }
        _ => unreachable!(),
    }
}

fn packetizer(codec: VideoCodec) -> Box<dyn Packetizer> {
    match codec {
        VideoCodec::Vp8 => Box::new(Vp8Packetizer {
            picture_id: Some(1),
        }),
        VideoCodec::Vp9 => Box::new(Vp9Packetizer::default()),
        VideoCodec::Av1 => Box::new(Av1Packetizer),
        _ => Box::new(H264Packetizer::default()),
    }
}

#[test]
fn media_of_each_codec_crosses_intact() {
    for (k, codec) in VideoCodec::ALL.into_iter().enumerate() {
        let seed = 40 + k as u64;
        let mut p = new_pair(
            seed,
            config(seed * 2, &[codec]),
            config(seed * 2 + 1, &[codec]),
        );
        p.connect_srtp();
        let pts = p.a.payload_types("1");
        assert_eq!(pts, vec![(codec.offer_payload_type(), 90000)], "{codec:?}");
        assert_eq!(p.b.codecs("1"), vec![(pts[0].0, codec.name().to_owned())]);
        let pt = pts[0].0;
        let mut pk = packetizer(codec);
        let mut sent = Vec::new();
        for i in 0..40 {
            let f = frame(codec, i, i % 10 == 0);
            let payloads = pk.packetize(&f, 1100).unwrap();
            let n = payloads.len();
            let now = p.net.now();
            for (j, pl) in payloads.iter().enumerate() {
                p.a.send_rtp(now, "1", pt, 3000 * i as u32, j + 1 == n, pl)
                    .unwrap();
            }
            sent.push(f);
            let t = now + Duration::from_millis(33);
            p.run_to(t, |_, _| {});
        }
        let t = p.net.now() + Duration::from_millis(200);
        p.run_to(t, |_, _| {});
        let got: Vec<&RtpPacketIn> = p
            .b_events
            .iter()
            .filter_map(|e| match e {
                Event::Rtp(r) if &*r.mid == "1" => Some(r),
                _ => None,
            })
            .collect();
        assert!(got.iter().all(|r| r.payload_type == pt), "{codec:?}");
        let mut d = AnyDepacketizer::new(Codec::from_name(codec.name()).unwrap());
        let mut frames = Vec::new();
        let mut cur = Vec::new();
        let mut start = true;
        for (n, r) in got.iter().enumerate() {
            if n > 0 {
                assert_eq!(
                    r.sequence_number,
                    got[n - 1].sequence_number.wrapping_add(1),
                    "{codec:?}"
                );
            }
            if start {
                d.reset();
                assert_ne!(d.is_frame_start(&r.payload), Some(false), "{codec:?}");
            }
            d.depacketize(&r.payload, &mut cur).unwrap();
            start = r.marker;
            if r.marker {
                frames.push(std::mem::take(&mut cur));
            }
        }
        assert_eq!(frames.len(), sent.len(), "{codec:?}");
        for (i, (a, b)) in frames.iter().zip(&sent).enumerate() {
            assert_eq!(a, b, "{codec:?} frame {i}");
        }
    }
}

#[test]
fn report_interval_is_randomized_within_half_to_one_and_a_half() {
    let interval = Duration::from_millis(200);
    let mk = |seed: u64| {
        let mut c = config(seed, &VideoCodec::ALL);
        c.media.rtcp_interval = interval;
        c
    };
    let run = |seed: u64| -> Vec<Duration> {
        let mut p = new_pair(seed, mk(seed * 2), mk(seed * 2 + 1));
        p.connect_srtp();
        let mut times: Vec<Instant> = Vec::new();
        let mut last = p.a.stats().media.rtcp_sent;
        let until = p.net.now() + interval * 110;
        p.run_to(until, |now, a| {
            let s = a.stats().media.rtcp_sent;
            if s > last {
                // Both transceivers report at the same instant: one time per interval.
                assert_eq!(s - last, 2);
                times.push(now);
            }
            last = s;
        });
        times.windows(2).map(|w| w[1] - w[0]).collect()
    };
    let gaps = run(5);
    assert!(gaps.len() >= 100, "{} intervals", gaps.len());
    let (lo, hi) = (interval / 2, interval * 3 / 2);
    for g in &gaps {
        assert!(
            *g >= lo && *g <= hi,
            "interval {g:?} outside [{lo:?}, {hi:?}]"
        );
    }
    let min = gaps.iter().min().unwrap();
    let max = gaps.iter().max().unwrap();
    // Spread over the range, not all equal (uniform: 100 draws fill most of it).
    assert!(*max - *min > interval / 2, "{min:?}..{max:?}");
    let mean = gaps.iter().sum::<Duration>() / gaps.len() as u32;
    assert!(
        mean > interval * 9 / 10 && mean < interval * 11 / 10,
        "{mean:?}"
    );
    // The same seed replays the same intervals; another seed does not.
    assert_eq!(run(5), gaps);
    assert_ne!(run(6), gaps);
}

fn rtx_config(seed: u64, rtx: bool) -> Config {
    let mut c = config(seed, &VideoCodec::ALL);
    c.media.rtx = rtx;
    c
}

#[test]
fn rtx_answers_chromium_with_apt_and_an_fid_group() {
    let now = Instant::now();
    let mut pc = PeerConnection::new(rtx_config(7, true), now).unwrap();
    pc.add_local_address(now, "127.0.0.1:5000".parse().unwrap())
        .unwrap();
    let answer = pc.create_answer(now, CHROME_OFFER).unwrap();
    // Each kept codec with its offered RTX (RFC 4588 section 8.1: apt = the offered codec).
    assert_eq!(
        video_line(&answer),
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 45 46 108 109",
        "{answer}"
    );
    for (rtx, apt) in [(97, 96), (99, 98), (46, 45), (109, 108)] {
        assert!(answer.contains(&format!("a=rtpmap:{rtx} rtx/90000\r\n")));
        assert!(answer.contains(&format!("a=fmtp:{rtx} apt={apt}\r\n")));
    }
    assert!(!answer.contains("apt=102") && !answer.contains("apt=100"));
    // Our RTX SSRC, grouped with the original one, and described like it.
    let sdp = SessionDescription::parse(&answer).unwrap();
    let video = sdp.media_by_mid("1").unwrap();
    let groups = video.ssrc_groups();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].semantics, "FID");
    assert_eq!(groups[0].ssrcs.len(), 2);
    let described: Vec<u32> = video.ssrcs().iter().map(|s| s.ssrc).collect();
    assert_eq!(described, {
        let (o, r) = (groups[0].ssrcs[0], groups[0].ssrcs[1]);
        vec![o, o, r, r]
    });
    // Audio has no RTX.
    assert_eq!(pc.payload_types("0"), vec![(111, 48000)]);
    // Without rtx configured the same offer gets no RTX and no group.
    let mut pc = answerer(&VideoCodec::ALL);
    let answer = pc.create_answer(now, CHROME_OFFER).unwrap();
    assert!(!answer.contains("rtx") && !answer.contains("ssrc-group"));
}

/// 10 % loss one way (a's video to b): b NACKs, a resends; returns the pair, the frames sent
/// and the answer.
fn lossy_video(seed: u64, a_rtx: bool, b_rtx: bool) -> (Pair, Vec<Vec<u8>>, String) {
    let link = LinkConfig::default()
        .latency(Duration::from_millis(20))
        .loss(0.1);
    let (mut p, offer, answer) = with_link(
        seed,
        rtx_config(seed * 2, a_rtx),
        rtx_config(seed * 2 + 1, b_rtx),
        link,
    );
    assert_eq!(offer.contains("a=fmtp:97 apt=96"), a_rtx, "{offer}");
    p.connect_srtp();
    let mut sent = Vec::new();
    for i in 0..300usize {
        let now = p.net.now();
        let v = bytes(200 + (i * 37) % 1000, i);
        p.a.send_rtp(now, "1", 96, 3000 * i as u32, i % 3 == 2, &v)
            .unwrap();
        sent.push(v);
        p.run_to(now + Duration::from_millis(20), |_, _| {});
    }
    let t = p.net.now() + Duration::from_millis(1500);
    p.run_to(t, |_, _| {});
    (p, sent, answer)
}

fn check_repaired(p: &Pair, sent: &[Vec<u8>], ctx: &str) {
    let got: Vec<&RtpPacketIn> = p
        .b_events
        .iter()
        .filter_map(|e| match e {
            Event::Rtp(r) => Some(r),
            _ => None,
        })
        .collect();
    let first = got[0]
        .sequence_number
        .wrapping_sub((got[0].timestamp / 3000) as u16);
    let mut seen = std::collections::HashSet::new();
    for r in &got {
        // Retransmissions arrive as the original: its payload type, SSRC, number, bytes.
        assert_eq!((&*r.mid, r.payload_type), ("1", 96), "{ctx}");
        assert_eq!(r.ssrc, got[0].ssrc, "{ctx}");
        let i = (r.timestamp / 3000) as usize;
        assert_eq!(r.sequence_number, first.wrapping_add(i as u16), "{ctx}");
        assert_eq!(r.payload.as_ref(), sent[i].as_slice(), "{ctx}");
        seen.insert(i);
    }
    let missing: Vec<usize> = (0..sent.len()).filter(|i| !seen.contains(i)).collect();
    assert!(
        missing.iter().all(|&i| i == 0 || i + 2 >= sent.len()),
        "{ctx}: missing {missing:?}"
    );
    assert_eq!(
        p.b.remote_ssrcs("1"),
        vec![got[0].ssrc],
        "{ctx}: RTX is no source"
    );
}

#[test]
fn rtx_repairs_loss_on_its_own_ssrc() {
    for seed in [3, 4, 5] {
        let (p, sent, answer) = lossy_video(seed, true, true);
        let ctx = format!("seed {seed}");
        assert!(answer.contains("a=fmtp:97 apt=96"), "{answer}");
        assert!(answer.contains("a=ssrc-group:FID"), "{answer}");
        let (sa, sb) = (p.a.stats().media, p.b.stats().media);
        assert!(sa.rtp_retransmitted >= 10, "{ctx}: {sa:?}");
        // Every retransmission went out as RTX; those the link did not drop came back as
        // originals (RTX has its own SRTP stream: no replay refusal, no unroutable).
        assert!(
            sb.rtx_received > 0 && sb.rtx_received <= sa.rtp_retransmitted,
            "{ctx}: {sb:?}"
        );
        assert!(
            sb.rtx_received * 10 >= sa.rtp_retransmitted * 7,
            "{ctx}: {sa:?} {sb:?}"
        );
        assert_eq!(
            (sb.rtx_dropped, sb.srtp_rejected, sb.rtp_unroutable),
            (0, 0, 0),
            "{ctx}"
        );
        check_repaired(&p, &sent, &ctx);
    }
}

#[test]
fn rtx_offered_but_not_accepted_resends_the_original() {
    let (p, sent, answer) = lossy_video(6, true, false);
    assert!(
        !answer.contains("rtx") && !answer.contains("ssrc-group"),
        "{answer}"
    );
    let (sa, sb) = (p.a.stats().media, p.b.stats().media);
    assert!(sa.rtp_retransmitted >= 10, "{sa:?}");
    assert_eq!(sb.rtx_received, 0);
    check_repaired(&p, &sent, "rtx not accepted");
}

#[test]
fn rtx_packets_without_an_original_number_or_source_are_dropped() {
    let (mut p, _, _) = with_link(
        8,
        rtx_config(16, true),
        rtx_config(17, true),
        LinkConfig::default().latency(Duration::from_millis(10)),
    );
    p.connect_srtp();
    let step = |p: &mut Pair, pt: u8, payload: &[u8]| {
        let now = p.net.now();
        p.a.send_rtp(now, "1", pt, 0, false, payload).unwrap();
        p.run_to(now + Duration::from_millis(30), |_, _| {});
        p.b.stats().media
    };
    // The RTX payload type, but on an SSRC that no FID group names as RTX, before b knows a
    // source on mid 1: nobody to give it to.
    let s = step(&mut p, 97, &[0x12, 0x34, 9, 9, 9]);
    assert_eq!(
        (s.rtx_dropped, s.rtx_received, s.rtp_received),
        (1, 0, 0),
        "{s:?}"
    );
    // Once the one source is known, RTX is attributed to it; one octet is no original
    // sequence number.
    let s = step(&mut p, 96, &[1, 2, 3]);
    assert_eq!(s.rtp_received, 1, "{s:?}");
    let s = step(&mut p, 97, &[0x12]);
    assert_eq!(
        (s.rtx_dropped, s.rtx_received, s.rtp_received),
        (2, 0, 1),
        "{s:?}"
    );
    // Two octets or more: the original, numbered by them, with the apt payload type.
    let s = step(&mut p, 97, &[0x12, 0x34, 9, 9, 9]);
    assert_eq!(
        (s.rtx_dropped, s.rtx_received, s.rtp_received),
        (2, 1, 2),
        "{s:?}"
    );
    let last = p
        .b_events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::Rtp(r) => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (
            last.payload_type,
            last.sequence_number,
            last.payload.as_ref()
        ),
        (96, 0x1234, &[9u8, 9, 9][..])
    );
    assert_eq!(s.srtp_rejected, 0);
}
