//! Two of our PeerConnections over `sansrtc-netsim`: offer/answer in process, ICE, DTLS,
//! SCTP, data channels both ways, text and binary messages from 1 byte to 64 KiB, close;
//! clean and lossy links.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sansrtc::{ChannelOptions, Config, CryptoBackend, Event, IceState, PeerConnection};
use sansrtc_netsim::{Datagram, LinkConfig};

mod common;
use common::Pair;

fn config(seed: u64, crypto: CryptoBackend) -> Config {
    Config {
        seed: Some(seed),
        dtls_crypto: crypto,
        ..Config::default()
    }
}

fn new_pair(seed: u64, link: LinkConfig, crypto: CryptoBackend) -> Pair {
    with_answer(seed, link, crypto, |a| a)
}

/// `tamper` edits the answer on its way to the offerer.
fn with_answer(
    seed: u64,
    link: LinkConfig,
    crypto: CryptoBackend,
    tamper: impl FnOnce(String) -> String,
) -> Pair {
    let (p, offer, _) = Pair::negotiated(
        seed,
        link,
        config(seed * 2 + 1, crypto),
        config(seed * 2 + 2, crypto),
        |_| {},
        |answer| {
            assert!(answer.contains("a=setup:active"), "{answer}");
            tamper(answer)
        },
    );
    assert!(offer.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
    assert!(offer.contains("a=setup:actpass"));
    assert!(offer.contains("a=candidate:"));
    assert!(offer.contains("a=fingerprint:sha-256 "));
    p
}

fn open_id(events: &[Event], label: &str) -> Option<u16> {
    events.iter().find_map(|e| match e {
        Event::ChannelOpen { id, label: l, .. } if l == label => Some(*id),
        _ => None,
    })
}

fn messages(events: &[Event], chan: u16) -> Vec<(bool, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { id, binary, data } if *id == chan => Some((*binary, data.to_vec())),
            _ => None,
        })
        .collect()
}

fn payload(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

fn sizes() -> Vec<usize> {
    vec![
        1,
        2,
        100,
        1000,
        1200,
        2000,
        5000,
        16 * 1024,
        40_000,
        64 * 1024,
    ]
}

/// The full scenario: connect, open a channel from each side, messages both ways (text and
/// binary, 1 B..64 KiB), verify order and bytes, close both channels.
/// Returns the DTLS records both sides rejected (duplicates are replays).
fn scenario(seed: u64, link: LinkConfig, crypto: CryptoBackend, limit: Duration) -> u64 {
    let link_lossy = link.loss > 0.0;
    let mut p = new_pair(seed, link, crypto);
    let now = p.net.now();
    // a asks before the association is up: the request waits.
    p.a.create_data_channel(now, "from-a", ChannelOptions::default())
        .unwrap();
    p.run_until(limit, |p| {
        p.a.is_sctp_connected()
            && p.b.is_sctp_connected()
            && open_id(&p.b_events, "from-a").is_some()
    });
    for ev in [&p.a_events, &p.b_events] {
        assert!(
            ev.contains(&Event::IceStateChanged(IceState::Connected)),
            "{ev:?}"
        );
        assert!(ev.contains(&Event::DtlsConnected));
        assert!(ev.contains(&Event::SctpConnected));
        assert!(ev.iter().any(|e| matches!(e, Event::SelectedPair { .. })));
    }
    let now = p.net.now();
    p.b.create_data_channel(now, "from-b", ChannelOptions::default())
        .unwrap();
    p.run_until(limit, |p| {
        open_id(&p.a_events, "from-b").is_some()
            && open_id(&p.a_events, "from-a").is_some()
            && open_id(&p.b_events, "from-b").is_some()
    });
    let a_ch = open_id(&p.a_events, "from-a").unwrap();
    let b_ch = open_id(&p.b_events, "from-b").unwrap();
    // DTLS client (b, answered active) uses even ids, the server odd ones (RFC 8832 s6).
    assert_eq!(a_ch % 2, 1);
    assert_eq!(b_ch % 2, 0);
    assert_eq!(open_id(&p.b_events, "from-a"), Some(a_ch));
    assert_eq!(open_id(&p.a_events, "from-b"), Some(b_ch));

    let now = p.net.now();
    let mut sent_ab = Vec::new();
    let mut sent_ba = Vec::new();
    for (i, len) in sizes().into_iter().enumerate() {
        let data = payload(i, len);
        if i % 2 == 0 {
            p.a.send(now, a_ch, &data).unwrap();
            sent_ab.push((true, data.clone()));
            let text = "é".repeat(len / 2) + if len % 2 == 1 { "x" } else { "" };
            p.b.send_text(now, b_ch, &text).unwrap();
            sent_ba.push((false, text.into_bytes()));
        } else {
            let text: String = "t".repeat(len);
            p.a.send_text(now, a_ch, &text).unwrap();
            sent_ab.push((false, text.into_bytes()));
            p.b.send(now, b_ch, &data).unwrap();
            sent_ba.push((true, data));
        }
    }
    let (n_ab, n_ba) = (sent_ab.len(), sent_ba.len());
    p.run_until(limit * 4, |p| {
        messages(&p.b_events, a_ch).len() >= n_ab && messages(&p.a_events, b_ch).len() >= n_ba
    });
    assert_eq!(messages(&p.b_events, a_ch), sent_ab, "seed {seed}");
    assert_eq!(messages(&p.a_events, b_ch), sent_ba, "seed {seed}");

    let now = p.net.now();
    p.a.close(now, a_ch).unwrap();
    p.b.close(now, b_ch).unwrap();
    p.run_until(limit, |p| {
        [a_ch, b_ch].iter().all(|c| {
            p.a_events.contains(&Event::ChannelClosed { id: *c })
                && p.b_events.contains(&Event::ChannelClosed { id: *c })
        })
    });
    // A closed channel refuses sends.
    assert!(p.a.send(p.net.now(), a_ch, b"late").is_err());
    let st = p.net.stats();
    if link_lossy {
        assert!(
            st.dropped.total() > 0,
            "seed {seed}: the lossy link dropped nothing"
        );
    }
    p.a.stats().dtls_rejected + p.b.stats().dtls_rejected
}

fn clean_link() -> LinkConfig {
    LinkConfig::default().latency(Duration::from_millis(10))
}

#[test]
fn connects_and_exchanges_over_a_clean_link_with_ring() {
    let rejected = scenario(
        1,
        clean_link(),
        CryptoBackend::Ring,
        Duration::from_secs(10),
    );
    assert_eq!(rejected, 0);
}

#[test]
fn connects_and_exchanges_over_a_clean_link_deterministic() {
    for seed in 2..5 {
        let rejected = scenario(
            seed,
            clean_link(),
            CryptoBackend::InsecureDeterministic,
            Duration::from_secs(10),
        );
        assert_eq!(rejected, 0);
    }
}

#[test]
fn connects_and_exchanges_under_loss() {
    for seed in 10..16 {
        let link = LinkConfig::default()
            .latency(Duration::from_millis(20))
            .jitter(Duration::from_millis(5))
            .loss(0.1)
            .duplicate(0.02);
        scenario(
            seed,
            link,
            CryptoBackend::InsecureDeterministic,
            Duration::from_secs(60),
        );
    }
}

#[test]
fn sending_before_connected_is_refused() {
    let now = Instant::now();
    let mut a = PeerConnection::new(Config::default(), now).unwrap();
    assert_eq!(a.send(now, 1, b"x"), Err(sansrtc::Error::NotConnected));
    assert!(a.set_remote_answer(now, "v=0\r\n").is_err());
    assert!(a.create_answer(now, "garbage").is_err());
    let _offer = a.create_offer(now).unwrap();
    assert!(
        a.create_offer(now).is_err(),
        "second offer in have-local-offer"
    );
}

#[test]
fn answer_without_fingerprint_is_refused() {
    let now = Instant::now();
    let mut a = PeerConnection::new(Config::default(), now).unwrap();
    a.add_local_address(now, "10.0.0.1:5000".parse().unwrap())
        .unwrap();
    let mut b = PeerConnection::new(Config::default(), now).unwrap();
    let offer = a.create_offer(now).unwrap();
    let stripped: String = offer
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    assert!(matches!(
        b.create_answer(now, &stripped),
        Err(sansrtc::Error::MissingField { .. })
    ));
}

#[test]
fn datagrams_are_demultiplexed_and_junk_is_counted() {
    let now = Instant::now();
    let mut a = PeerConnection::new(Config::default(), now).unwrap();
    let l: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let r: SocketAddr = "10.0.0.2:5000".parse().unwrap();
    a.add_local_address(now, l).unwrap();
    let _ = a.create_offer(now).unwrap();
    // RTP, unknown first byte, DTLS before the answer: all dropped, nothing panics.
    for d in [
        &[0x80u8, 0, 0, 0][..],
        &[0xff],
        &[22, 0xfe, 0xfd],
        &[],
        &[0, 1],
    ] {
        a.handle_receive(now, l, r, d);
    }
    assert_eq!(a.stats().dropped, 4);
    assert_eq!(a.stats().stun_received, 1);
}

#[test]
fn a_wrong_fingerprint_in_the_answer_fails_dtls_and_nothing_flows() {
    let mut p = with_answer(7, clean_link(), CryptoBackend::InsecureDeterministic, |a| {
        // Same length, one digest octet changed: the certificate no longer matches.
        let i = a.find("a=fingerprint:sha-256 ").unwrap() + "a=fingerprint:sha-256 ".len();
        let mut s = a.clone();
        let old = &a[i..i + 2];
        s.replace_range(i..i + 2, if old == "00" { "01" } else { "00" });
        s
    });
    let now = p.net.now();
    p.a.create_data_channel(now, "x", ChannelOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(30), |p| {
        p.a_events
            .iter()
            .any(|e| matches!(e, Event::DtlsClosed { .. }))
    });
    for ev in [&p.a_events, &p.b_events] {
        assert!(!ev.contains(&Event::DtlsConnected), "{ev:?}");
        assert!(!ev.contains(&Event::SctpConnected), "{ev:?}");
    }
    assert!(p.a.send(p.net.now(), 1, b"x").is_err());
}

#[test]
fn events_are_capped() {
    let now = Instant::now();
    let cfg = Config {
        max_events: 3,
        seed: Some(1),
        ..Config::default()
    };
    let mut p = new_pair(8, clean_link(), CryptoBackend::InsecureDeterministic);
    // Replace a with a capped one by a fresh offer/answer.
    let mut a = PeerConnection::new(cfg, now).unwrap();
    a.add_local_address(now, p.a_addr).unwrap();
    let mut b = PeerConnection::new(Config::default(), now).unwrap();
    b.add_local_address(now, p.b_addr).unwrap();
    let offer = a.create_offer(now).unwrap();
    let answer = b.create_answer(now, &offer).unwrap();
    a.set_remote_answer(now, &answer).unwrap();
    p.a = a;
    p.b = b;
    // Never drain a's events: connecting produces more than 3 of them.
    let start = p.net.now();
    for _ in 0..100_000 {
        if p.b.is_sctp_connected() || p.net.now() - start > Duration::from_secs(10) {
            break;
        }
        // Step without draining a's events: drain only transmits of both and b's events.
        let now = p.net.now();
        while let Some(t) = p.a.poll_transmit() {
            p.net
                .send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
        }
        while let Some(t) = p.b.poll_transmit() {
            p.net
                .send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
        }
        while p.b.poll_event().is_some() {}
        let mut delivered = false;
        while let Some(d) = p.net.poll_recv() {
            delivered = true;
            if d.dst == p.a_addr {
                p.a.handle_receive(now, d.dst, d.src, &d.payload);
            } else {
                p.b.handle_receive(now, d.dst, d.src, &d.payload);
            }
        }
        if delivered {
            continue;
        }
        let next = [
            p.a.poll_timeout(),
            p.b.poll_timeout(),
            p.net.next_delivery(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(t) = next else { break };
        p.net.advance_to(t.max(p.net.now()));
        let now = p.net.now();
        p.a.handle_timeout(now);
        p.b.handle_timeout(now);
    }
    assert!(p.b.is_sctp_connected());
    let mut n = 0;
    while p.a.poll_event().is_some() {
        n += 1;
    }
    assert_eq!(n, 3);
    assert!(p.a.stats().events_dropped > 0);
}

#[test]
fn close_connection_tells_the_peer() {
    let mut p = new_pair(9, clean_link(), CryptoBackend::InsecureDeterministic);
    p.run_until(Duration::from_secs(10), |p| {
        p.a.is_sctp_connected() && p.b.is_sctp_connected()
    });
    let now = p.net.now();
    p.a.close_connection(now);
    assert!(p.a.poll_timeout().is_none());
    assert_eq!(p.a.send(now, 1, b"x"), Err(sansrtc::Error::Closed));
    p.run_until(Duration::from_secs(10), |p| {
        p.b_events
            .iter()
            .any(|e| matches!(e, Event::DtlsClosed { .. }))
    });
}

#[test]
fn the_peers_max_message_size_is_enforced_on_send() {
    // b's answer announces 1000 bytes instead of our default 262144 (RFC 8841 section 6).
    let mut p = with_answer(7, clean_link(), CryptoBackend::InsecureDeterministic, |a| {
        assert!(a.contains("a=max-message-size:262144\r\n"), "{a}");
        a.replace("a=max-message-size:262144", "a=max-message-size:1000")
    });
    assert_eq!(p.a.remote_max_message_size(), Some(1000));
    assert_eq!(p.b.remote_max_message_size(), Some(262_144));
    let now = p.net.now();
    p.a.create_data_channel(now, "limited", ChannelOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(10), |p| {
        open_id(&p.a_events, "limited").is_some() && open_id(&p.b_events, "limited").is_some()
    });
    let ch = open_id(&p.a_events, "limited").unwrap();
    let now = p.net.now();
    assert_eq!(
        p.a.send(now, ch, &[7u8; 1001]),
        Err(sansrtc::Error::MessageTooLarge {
            size: 1001,
            max: 1000
        })
    );
    assert_eq!(
        p.a.send_text(now, ch, &"x".repeat(1001)),
        Err(sansrtc::Error::MessageTooLarge {
            size: 1001,
            max: 1000
        })
    );
    p.a.send(now, ch, &[7u8; 1000]).unwrap();
    // b's own limit for a is a's announced 262144: larger messages flow the other way.
    p.b.send(now, ch, &[9u8; 5000]).unwrap();
    p.run_until(Duration::from_secs(10), |p| {
        !messages(&p.b_events, ch).is_empty() && !messages(&p.a_events, ch).is_empty()
    });
    assert_eq!(messages(&p.b_events, ch), vec![(true, vec![7u8; 1000])]);
    assert_eq!(messages(&p.a_events, ch), vec![(true, vec![9u8; 5000])]);
}
