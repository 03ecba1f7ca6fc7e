//! Media between two of our PeerConnections over `sansrtc-netsim`: transceivers in the offer
//! and the answer, DTLS-SRTP keys, RTP both ways routed by mid (and without the mid
//! extension by SSRC and payload type), RTCP reports, PLI and NACK, directions, caps; clean
//! and lossy links.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::sync::Arc;
use std::time::{Duration, Instant};

use sansrtc::{
    Config, CryptoBackend, Direction, Error, Event, MediaKind, PeerConnection, RtpPacketIn,
};
use sansrtc_netsim::{Datagram, LinkConfig};

mod common;
use common::Pair;

fn config(seed: u64, answer: Option<Direction>, nack_history: usize) -> Config {
    let mut c = Config {
        seed: Some(seed),
        dtls_crypto: CryptoBackend::InsecureDeterministic,
        ..Config::default()
    };
    c.media.answer_audio = answer;
    c.media.answer_video = answer;
    c.media.nack_history = nack_history;
    c
}

/// a offers `offered` transceivers; b answers with `answer` as its wish for audio and video;
/// `tamper` edits the answer on its way to a.
fn new_pair(
    seed: u64,
    link: LinkConfig,
    offered: &[(MediaKind, Direction)],
    answer: Option<Direction>,
    tamper: impl FnOnce(String) -> String,
) -> (Pair, String, String) {
    with_nack(seed, link, offered, answer, tamper, 512)
}

fn with_nack(
    seed: u64,
    link: LinkConfig,
    offered: &[(MediaKind, Direction)],
    answer: Option<Direction>,
    tamper: impl FnOnce(String) -> String,
    nack_history: usize,
) -> (Pair, String, String) {
    Pair::negotiated(
        seed,
        link,
        config(seed * 2 + 1, None, nack_history),
        config(seed * 2 + 2, answer, nack_history),
        |a| {
            for (kind, dir) in offered {
                a.add_transceiver(*kind, *dir).unwrap();
            }
        },
        tamper,
    )
}

fn rtp(events: &[Event]) -> Vec<&RtpPacketIn> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Rtp(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn frame(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

fn av() -> [(MediaKind, Direction); 2] {
    [
        (MediaKind::Audio, Direction::SendRecv),
        (MediaKind::Video, Direction::SendRecv),
    ]
}

fn mids(pc: &PeerConnection) -> Vec<(Arc<str>, MediaKind, Direction)> {
    pc.transceivers().collect()
}

/// Sends `n` packets each way (a: video every 20 ms, b: audio), runs `tail` more, returns
/// the payloads sent.
fn exchange(p: &mut Pair, n: usize, tail: Duration) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut va, mut ab) = (Vec::new(), Vec::new());
    let video_pt = p.a.payload_types("1")[0].0;
    let audio_pt = p.b.payload_types("0")[0].0;
    for i in 0..n {
        let now = p.net.now();
        let v = frame(i, 200 + (i * 37) % 1000);
        p.a.send_rtp(now, "1", video_pt, 3000 * i as u32, i % 3 == 2, &v)
            .unwrap();
        va.push(v);
        let a = frame(i + 7, 60 + i % 40);
        p.b.send_rtp(now, "0", audio_pt, 960 * i as u32, false, &a)
            .unwrap();
        ab.push(a);
        let t = now + Duration::from_millis(20);
        p.run_to(t, |_, _| {});
    }
    let t = p.net.now() + tail;
    p.run_to(t, |_, _| {});
    (va, ab)
}

#[test]
fn negotiates_transceivers_both_ways() {
    let (p, offer, answer) = new_pair(
        1,
        LinkConfig::default(),
        &av(),
        Some(Direction::SendRecv),
        |a| a,
    );
    for sdp in [&offer, &answer] {
        assert!(sdp.contains("a=group:BUNDLE 0 1 2"), "{sdp}");
        assert!(sdp.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111"), "{sdp}");
        assert!(sdp.contains("m=video 9 UDP/TLS/RTP/SAVPF 96"), "{sdp}");
        assert!(sdp.contains("a=rtpmap:111 opus/48000/2"), "{sdp}");
        assert!(sdp.contains("a=rtpmap:96 VP8/90000"), "{sdp}");
        assert!(sdp.contains("a=rtcp-fb:96 nack pli"), "{sdp}");
        assert!(
            sdp.contains("a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid"),
            "{sdp}"
        );
        assert!(sdp.contains("a=rtcp-mux"), "{sdp}");
        assert!(
            sdp.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"),
            "{sdp}"
        );
        assert_eq!(sdp.matches(" cname:").count(), 2, "{sdp}");
        assert_eq!(sdp.matches("a=msid:").count(), 2, "{sdp}");
    }
    let a = mids(&p.a);
    let b = mids(&p.b);
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 2);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.0, x.1), (&y.0, y.1));
        assert_eq!(x.2, Direction::SendRecv);
        assert_eq!(y.2, Direction::SendRecv);
    }
    assert_eq!(p.a.payload_types("0"), vec![(111, 48000)]);
    // VP8 first (the default preference), then VP9, AV1, H.264 with our offer's numbers.
    assert_eq!(
        p.b.payload_types("1"),
        vec![(96, 90000), (98, 90000), (45, 90000), (102, 90000)]
    );
}

#[test]
fn rtp_rtcp_pli_and_nack_over_a_clean_link() {
    let link = LinkConfig::default().latency(Duration::from_millis(10));
    let (mut p, _, _) = new_pair(2, link, &av(), Some(Direction::SendRecv), |a| a);
    p.connect_srtp();
    assert!(
        p.a_events
            .iter()
            .any(|e| matches!(e, Event::SrtpConnected { .. }))
    );
    assert!(
        p.b_events
            .iter()
            .any(|e| matches!(e, Event::SrtpConnected { .. }))
    );
    let (video, audio) = exchange(&mut p, 150, Duration::from_millis(2500));
    // The data channel association came up next to media.
    assert!(p.a.is_sctp_connected() && p.b.is_sctp_connected());
    let got_b = rtp(&p.b_events);
    let got_a = rtp(&p.a_events);
    assert_eq!(got_b.len(), video.len());
    assert_eq!(got_a.len(), audio.len());
    for (i, r) in got_b.iter().enumerate() {
        assert_eq!(&*r.mid, "1");
        assert_eq!(r.payload_type, 96);
        assert_eq!(r.payload.as_ref(), video[i].as_slice());
        assert_eq!(r.timestamp, 3000 * i as u32);
        assert_eq!(r.marker, i % 3 == 2);
        assert_eq!(
            r.sequence_number,
            got_b[0].sequence_number.wrapping_add(i as u16)
        );
    }
    for (i, r) in got_a.iter().enumerate() {
        assert_eq!(&*r.mid, "0");
        assert_eq!(r.payload_type, 111);
        assert_eq!(r.payload.as_ref(), audio[i].as_slice());
    }
    let (sa, sb) = (p.a.stats().media, p.b.stats().media);
    assert_eq!((sa.srtp_rejected, sb.srtp_rejected), (0, 0));
    assert_eq!((sa.rtp_unroutable, sb.rtp_unroutable), (0, 0));
    assert_eq!(sa.rtp_sent, 150);
    // ~5.5 s of reports: SR for what each sends, RR for the other transceiver, both ways.
    assert!(sa.rtcp_sent >= 8 && sb.rtcp_sent >= 8, "{sa:?} {sb:?}");
    assert!(
        sa.rtcp_received >= 8 && sb.rtcp_received >= 8,
        "{sa:?} {sb:?}"
    );

    // b asks for a keyframe of a's video; a is told on mid 1.
    let ssrc = got_b[0].ssrc;
    let lost = vec![got_b[3].sequence_number, got_b[5].sequence_number];
    let now = p.net.now();
    p.b.request_keyframe(now, "1").unwrap();
    p.b.send_nack(now, "1", ssrc, &lost).unwrap();
    p.run_to(now + Duration::from_millis(50), |_, _| {});
    assert!(
        p.a_events
            .iter()
            .any(|e| matches!(e, Event::KeyframeRequest { mid } if &**mid == "1")),
        "{:?}",
        p.a_events
    );
    let nack = p.a_events.iter().find_map(|e| match e {
        Event::Nack {
            mid,
            sequence_numbers,
        } if &**mid == "1" => Some(sequence_numbers.clone()),
        _ => None,
    });
    assert_eq!(nack, Some(lost));
    assert_eq!(p.a.stats().media.keyframe_requests_received, 1);
    // Nothing to ask for on a mid nothing came in on.
    let now = p.net.now();
    assert_eq!(p.b.request_keyframe(now, "9"), Err(Error::UnknownMid));
}

#[test]
fn rtp_under_loss_jitter_and_duplication() {
    for seed in 20..24 {
        for nack_history in [0, 512] {
            let link = LinkConfig::default()
                .latency(Duration::from_millis(20))
                .jitter(Duration::from_millis(5))
                .loss(0.1)
                .duplicate(0.02);
            let (mut p, _, _) = with_nack(
                seed,
                link,
                &av(),
                Some(Direction::SendRecv),
                |a| a,
                nack_history,
            );
            p.connect_srtp();
            let (video, _) = exchange(&mut p, 300, Duration::from_millis(1500));
            let got = rtp(&p.b_events);
            let (sa, sb) = (p.a.stats().media, p.b.stats().media);
            let ctx = format!(
                "seed {seed}, history {nack_history}: {} of {}",
                got.len(),
                video.len()
            );
            if nack_history == 0 {
                // No repair: the loss shows, and nothing is NACKed or resent.
                assert!(got.len() < video.len(), "{ctx}: no loss?");
                assert!(got.len() > video.len() * 7 / 10, "{ctx}");
                assert_eq!((sb.nacks_sent, sa.rtp_retransmitted), (0, 0), "{ctx}");
            } else {
                // b NACKs the gaps (VP8 negotiated `nack`), a resends from its history.
                assert!(sb.nacks_sent > 0 && sa.nacks_received > 0, "{ctx}: {sb:?}");
                assert!(sa.rtp_retransmitted >= 10, "{ctx}: {sa:?}");
            }
            // SRTP replay protection drops the duplicates; every packet that arrives is one
            // we sent, intact, on the right mid, once.
            let first = got[0]
                .sequence_number
                .wrapping_sub((got[0].timestamp / 3000) as u16);
            let mut seen = std::collections::HashSet::new();
            for r in &got {
                assert_eq!(&*r.mid, "1");
                let i = (r.timestamp / 3000) as usize;
                assert_eq!(r.sequence_number, first.wrapping_add(i as u16));
                assert_eq!(r.payload.as_ref(), video[i].as_slice(), "{ctx}");
                assert!(seen.insert(i), "{ctx}: packet {i} delivered twice");
            }
            if nack_history > 0 {
                // Every packet arrives although the link dropped about 10 %; only a loss at
                // the very start or end leaves no gap to NACK.
                let missing: Vec<usize> = (0..video.len()).filter(|i| !seen.contains(i)).collect();
                assert!(
                    missing.iter().all(|&i| i == 0 || i + 2 >= video.len()),
                    "{ctx}: missing {missing:?}"
                );
            }
            assert!(
                sb.srtp_rejected > 0,
                "{ctx}: duplicates should be refused as replays"
            );
            assert_eq!(sb.rtp_unroutable, 0);
        }
    }
}

#[test]
fn routes_without_the_mid_extension() {
    // The answer drops the sdes:mid extension: b's packets carry none, a routes them by the
    // SSRC of b's a=ssrc lines or, for an SSRC not signaled, by payload type.
    let strip = |a: String| {
        a.lines()
            .filter(|l| !l.starts_with("a=extmap:"))
            .map(|l| format!("{l}\r\n"))
            .collect::<String>()
    };
    let link = LinkConfig::default().latency(Duration::from_millis(5));
    let (mut p, _, answer) = new_pair(3, link, &av(), Some(Direction::SendRecv), strip);
    assert!(!answer.contains("extmap"));
    p.connect_srtp();
    let (_, audio) = exchange(&mut p, 20, Duration::from_millis(100));
    let got = rtp(&p.a_events);
    assert_eq!(got.len(), audio.len());
    assert!(got.iter().all(|r| &*r.mid == "0"));
    let got = rtp(&p.b_events);
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|r| &*r.mid == "1"));
}

#[test]
fn directions_and_rejections() {
    // a receives audio only and sends video only; b sends audio, receives video.
    let offered = [
        (MediaKind::Audio, Direction::RecvOnly),
        (MediaKind::Video, Direction::SendOnly),
    ];
    let (mut p, offer, answer) = new_pair(
        4,
        LinkConfig::default(),
        &offered,
        Some(Direction::SendRecv),
        |a| a,
    );
    assert!(offer.contains("a=recvonly") && offer.contains("a=sendonly"));
    assert!(answer.contains("a=recvonly") && answer.contains("a=sendonly"));
    // Only the sending sections announce an SSRC.
    assert_eq!(offer.matches(" cname:").count(), 1);
    assert_eq!(answer.matches(" cname:").count(), 1);
    p.connect_srtp();
    let now = p.net.now();
    assert!(matches!(
        p.a.send_rtp(now, "0", 111, 0, false, b"x"),
        Err(Error::WrongState { .. })
    ));
    assert!(matches!(
        p.b.send_rtp(now, "1", 96, 0, false, b"x"),
        Err(Error::WrongState { .. })
    ));
    p.a.send_rtp(now, "1", 96, 0, true, b"video").unwrap();
    p.b.send_rtp(now, "0", 111, 0, false, b"audio").unwrap();
    // A forwarder's numbering: the given sequence number, then send_rtp continues after it.
    p.a.send_rtp_with_sequence(now, "1", 40_000, 96, 3000, true, b"v2")
        .unwrap();
    p.a.send_rtp(now, "1", 96, 6000, true, b"v3").unwrap();
    p.run_to(now + Duration::from_millis(50), |_, _| {});
    let seqs: Vec<u16> = rtp(&p.b_events).iter().map(|r| r.sequence_number).collect();
    assert_eq!(seqs.len(), 3);
    assert_eq!(seqs[1..], [40_000, 40_001]);
    assert_eq!(rtp(&p.a_events).len(), 1);

    // An answerer without media configuration rejects both sections (port 0) and keeps the
    // data channel.
    let (p, _, answer) = new_pair(5, LinkConfig::default(), &av(), None, |a| a);
    assert!(answer.contains("m=audio 0 "), "{answer}");
    assert!(answer.contains("m=video 0 "), "{answer}");
    assert!(answer.contains("a=group:BUNDLE 2"), "{answer}");
    assert!(mids(&p.b).is_empty());
    assert!(mids(&p.a).iter().all(|t| t.2 == Direction::Inactive));
    let now = p.net.now();
    let mut a = p.a;
    assert!(matches!(
        a.send_rtp(now, "0", 111, 0, false, b"x"),
        Err(Error::NotConnected | Error::WrongState { .. })
    ));
    assert_eq!(
        a.send_rtp(now, "7", 111, 0, false, b"x"),
        Err(Error::UnknownMid)
    );
}

#[test]
fn transceiver_calls_in_the_wrong_state_and_caps() {
    let now = Instant::now();
    let mut cfg = Config::default();
    cfg.media.max_transceivers = 2;
    let mut a = PeerConnection::new(cfg, now).unwrap();
    // Before SRTP: nothing to send with.
    a.add_transceiver(MediaKind::Audio, Direction::SendRecv)
        .unwrap();
    a.add_transceiver(MediaKind::Video, Direction::SendRecv)
        .unwrap();
    assert_eq!(
        a.add_transceiver(MediaKind::Video, Direction::SendRecv),
        Err(Error::QueueFull {
            what: "transceivers",
            cap: 2
        })
    );
    assert!(
        a.add_transceiver(MediaKind::Application, Direction::SendRecv)
            .is_err()
    );
    assert_eq!(
        a.send_rtp(now, "0", 111, 0, false, b"x"),
        Err(Error::NotConnected)
    );
    let _ = a.create_offer(now).unwrap();
    assert!(matches!(
        a.add_transceiver(MediaKind::Audio, Direction::SendRecv),
        Err(Error::WrongState { .. })
    ));
}

#[test]
fn oversized_payload_and_junk_srtp_are_refused() {
    let link = LinkConfig::default().latency(Duration::from_millis(5));
    let (mut p, _, _) = new_pair(6, link, &av(), Some(Direction::SendRecv), |a| a);
    p.connect_srtp();
    let now = p.net.now();
    assert!(matches!(
        p.a.send_rtp(now, "1", 96, 0, false, &[0u8; 1401]),
        Err(Error::InvalidField { .. })
    ));
    // RTP- and RTCP-looking junk from the peer's address: counted, no event, no panic.
    let before = p.a_events.len();
    for first in [0x80u8, 0x90, 0xbf] {
        for second in [0u8, 96, 200, 201, 206] {
            let mut d = vec![first, second];
            d.extend_from_slice(&[0x55; 40]);
            p.a.handle_receive(now, p.a_addr, p.b_addr, &d);
            p.a.handle_receive(now, p.a_addr, p.b_addr, &d[..3]);
        }
    }
    p.flush();
    assert!(rtp(&p.a_events[before..]).is_empty());
    assert_eq!(p.a.stats().media.srtp_rejected, 30);
}

#[test]
fn a_media_only_offer_needs_media_enabled() {
    // a's offer without the data channel section: audio and video only.
    let now = Instant::now();
    let mut a = PeerConnection::new(config(1, None, 512), now).unwrap();
    a.add_local_address(now, "10.0.0.1:5000".parse().unwrap())
        .unwrap();
    for (k, d) in av() {
        a.add_transceiver(k, d).unwrap();
    }
    let offer = a.create_offer(now).unwrap();
    let cut = offer.find("m=application").unwrap();
    let media_only = offer[..cut].replace("a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1");
    // Not enabled: nothing to accept, an error rather than an empty answer.
    let mut b = PeerConnection::new(config(2, None, 512), now).unwrap();
    assert!(matches!(
        b.create_answer(now, &media_only),
        Err(Error::MissingField { .. })
    ));
    // Enabled: both sections accepted, no data channel section, and no SCTP runs.
    let mut b = PeerConnection::new(config(3, Some(Direction::SendRecv), 512), now).unwrap();
    b.add_local_address(now, "10.0.0.2:6000".parse().unwrap())
        .unwrap();
    let answer = b.create_answer(now, &media_only).unwrap();
    assert!(answer.contains("a=group:BUNDLE 0 1"), "{answer}");
    assert!(!answer.contains("m=application"), "{answer}");
    assert_eq!(mids(&b).len(), 2);
    a.set_remote_answer(now, &answer).unwrap();
    assert!(mids(&a).iter().all(|t| t.2 == Direction::SendRecv));
}

#[test]
fn close_connection_sends_bye_and_the_peer_drops_the_sources() {
    let link = LinkConfig::default().latency(Duration::from_millis(10));
    let (mut p, _, _) = new_pair(5, link, &av(), Some(Direction::SendRecv), |a| a);
    p.connect_srtp();
    exchange(&mut p, 30, Duration::from_millis(100));
    // a sent video (mid 1), b sent audio (mid 0): each tracks the other's source.
    assert_eq!(p.b.remote_ssrcs("1").len(), 1);
    assert_eq!(p.a.remote_ssrcs("0").len(), 1);
    assert_eq!(p.b.stats().media.byes_received, 0);
    let now = p.net.now();
    p.a.close_connection(now);
    // What a sends last, in order: SCTP SHUTDOWN (DTLS), the two BYE compounds (SRTCP),
    // then the close_notify (DTLS).
    let mut first_bytes = Vec::new();
    while let Some(t) = p.a.poll_transmit() {
        first_bytes.push(t.payload[0]);
        p.net
            .send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
    }
    let srtcp: Vec<usize> = (0..first_bytes.len())
        .filter(|&i| (128..=191).contains(&first_bytes[i]))
        .collect();
    assert_eq!(srtcp.len(), 2, "{first_bytes:?}");
    let last = first_bytes.len() - 1;
    assert!((20..=63).contains(&first_bytes[last]), "{first_bytes:?}");
    assert!(srtcp.iter().all(|&i| i < last), "{first_bytes:?}");
    p.run_to(now + Duration::from_millis(500), |_, _| {});
    let (sa, sb) = (p.a.stats().media, p.b.stats().media);
    // One compound (SR/RR + SDES + BYE) per transceiver, both authenticated by b.
    assert_eq!(sa.byes_sent, 2, "{sa:?}");
    assert_eq!(sb.byes_received, 2, "{sb:?}");
    assert_eq!(sb.remote_sources_ended, 1, "{sb:?}");
    assert!(p.b.remote_ssrcs("1").is_empty());
    assert_eq!(sb.srtp_rejected, 0);
    // The close_notify came after the BYEs and still closes DTLS on b.
    assert!(
        p.b_events
            .iter()
            .any(|e| matches!(e, Event::DtlsClosed { .. })),
        "{:?}",
        p.b_events
    );
    // b, closing after a, still sends its own BYEs; a, closed, reads nothing any more.
    let now = p.net.now();
    p.b.close_connection(now);
    assert_eq!(p.b.stats().media.byes_sent, 2);
    assert_eq!(p.a.stats().media.byes_received, 0);
}

#[test]
fn no_bye_without_srtp_keys_or_before_anything_was_sent() {
    let (mut p, _, _) = new_pair(
        6,
        LinkConfig::default(),
        &av(),
        Some(Direction::SendRecv),
        |a| a,
    );
    let now = p.net.now();
    p.a.close_connection(now);
    assert_eq!(p.a.stats().media.byes_sent, 0);
    // Keyed, but closed before the first report or packet (RFC 3550 section 6.3.7: a
    // participant that never sent RTP or RTCP sends no BYE).
    let (mut p, _, _) = new_pair(
        7,
        LinkConfig::default(),
        &av(),
        Some(Direction::SendRecv),
        |a| a,
    );
    p.connect_srtp();
    let s = p.a.stats().media;
    assert_eq!((s.rtp_sent, s.rtcp_sent), (0, 0));
    let now = p.net.now();
    p.a.close_connection(now);
    assert_eq!(p.a.stats().media.byes_sent, 0);
}
