//! Negative tests: packets from a hostile peer are counted and dropped (or answered the way
//! RFC 9260 says), never panic, never grow memory past the caps, never corrupt the state.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Pair, cfg};
use sansrtc_sctp::wire::{self, ct};
use sansrtc_sctp::{Association, CloseReason, Config, Event, SendOptions};

fn packet(vtag: u32, chunks: &[u8]) -> Vec<u8> {
    let mut p = Vec::new();
    wire::emit_common_header(&mut p, 5000, 5000, vtag);
    p.extend_from_slice(chunks);
    wire::finish_packet(&mut p, false);
    p
}

fn chunk(typ: u8, flags: u8, value: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    wire::emit_chunk(&mut v, typ, flags, value);
    v
}

fn data(tsn: u32, stream: u16, ssn: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    wire::emit_data_header(
        &mut v,
        false,
        flags,
        tsn,
        stream,
        u32::from(ssn),
        0,
        53,
        payload.len(),
    );
    v.extend_from_slice(payload);
    wire::pad4(&mut v);
    v
}

/// A connected pair without I-DATA, and the next TSN `a` would use.
fn setup() -> (Pair, u32) {
    let c = |s| Config {
        enable_idata: false,
        max_message_size: 64 * 1024,
        ..cfg(s)
    };
    let mut p = Pair::new(c(40), c(41));
    p.a.connect(p.now).unwrap();
    p.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
    p.a.send(
        p.now,
        0,
        53,
        Bytes::from_static(b"probe"),
        SendOptions::default(),
    )
    .unwrap();
    let t = p.a.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&t.payload).unwrap();
    let raw = pk
        .chunks()
        .find_map(|c| c.ok().filter(|c| c.typ == ct::DATA))
        .unwrap();
    let tsn = wire::DataChunk::parse(&raw).unwrap().tsn;
    p.b.handle_receive(p.now, &t.payload);
    p.drive_until(|p| p.messages(1).len() == 1, 1000);
    p.events = [Vec::new(), Vec::new()];
    (p, tsn.wrapping_add(1))
}

fn still_works(p: &mut Pair) {
    p.a.send(
        p.now,
        0,
        53,
        Bytes::from_static(b"after"),
        SendOptions::default(),
    )
    .unwrap();
    p.drive_until(
        |p| p.messages(1).iter().any(|m| &m.2[..] == b"after"),
        10_000,
    );
    assert!(p.a.is_established() && p.b.is_established());
}

#[test]
fn bad_crc_is_dropped() {
    let (mut p, tsn) = setup();
    let mut pk = packet(p.b.local_tag(), &data(tsn, 0, 1, 3, b"evil"));
    pk[8] ^= 1;
    p.b.handle_receive(p.now, &pk);
    assert_eq!(p.b.stats().bad_checksum, 1);
    p.flush();
    assert!(p.messages(1).is_empty());
    still_works(&mut p);
}

#[test]
fn zero_checksum_rejected_unless_negotiated() {
    let (mut p, tsn) = setup();
    let mut pk = packet(p.b.local_tag(), &data(tsn, 0, 1, 3, b"evil"));
    pk[8..12].fill(0);
    p.b.handle_receive(p.now, &pk);
    assert_eq!(p.b.stats().bad_checksum, 1);
}

#[test]
fn zero_checksum_negotiated_over_dtls() {
    let c = |s| Config {
        zero_checksum: true,
        ..cfg(s)
    };
    let mut p = Pair::new(c(1), c(2));
    p.a.connect(p.now).unwrap();
    p.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
    assert!(p.a.zero_checksum_negotiated() && p.b.zero_checksum_negotiated());
    p.a.send(
        p.now,
        0,
        53,
        Bytes::from_static(b"zc"),
        SendOptions::default(),
    )
    .unwrap();
    let t = p.a.poll_transmit().unwrap();
    assert_eq!(
        &t.payload[8..12],
        &[0, 0, 0, 0],
        "RFC 9653: checksum field zero"
    );
    p.b.handle_receive(p.now, &t.payload);
    p.drive_until(|p| !p.messages(1).is_empty(), 1000);
    // One side only: not negotiated.
    let mut q = Pair::new(c(3), cfg(4));
    q.a.connect(q.now).unwrap();
    q.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
    assert!(!q.a.zero_checksum_negotiated() && !q.b.zero_checksum_negotiated());
}

#[test]
fn wrong_verification_tag_is_dropped() {
    let (mut p, tsn) = setup();
    let pk = packet(p.b.local_tag() ^ 0x5555, &data(tsn, 0, 1, 3, b"evil"));
    p.b.handle_receive(p.now, &pk);
    assert_eq!(p.b.stats().bad_vtag, 1);
    // ABORT with a wrong tag must not kill the association.
    p.b.handle_receive(p.now, &packet(12345, &chunk(ct::ABORT, 0, &[])));
    p.flush();
    assert!(p.b.is_established());
    still_works(&mut p);
}

#[test]
fn chunk_length_below_four_or_past_packet() {
    let (mut p, _) = setup();
    let tag = p.b.local_tag();
    p.b.handle_receive(p.now, &packet(tag, &[ct::SACK, 0, 0, 2, 0, 0, 0, 0]));
    p.b.handle_receive(p.now, &packet(tag, &[ct::SACK, 0, 0, 200, 0, 0, 0, 0]));
    p.b.handle_receive(p.now, &packet(tag, &[ct::DATA, 3, 0, 17, 0, 0]));
    p.b.handle_receive(p.now, &packet(tag, &[]));
    assert!(p.b.stats().malformed >= 4, "{:?}", p.b.stats());
    still_works(&mut p);
}

#[test]
fn truncated_init_parameters_get_no_answer() {
    let now = std::time::Instant::now();
    let mut b = Association::new(cfg(9), now);
    let mut v = Vec::new();
    wire::Init {
        init_tag: 7,
        a_rwnd: 100_000,
        os: 10,
        mis: 10,
        initial_tsn: 1,
        forward_tsn: true,
        reconfig: true,
        idata: true,
        zero_checksum: None,
        cookie: None,
    }
    .emit_value(&mut v);
    // Cut inside the Supported Extensions parameter, keeping the chunk length consistent.
    let cut = &v[..v.len() - 3];
    b.handle_receive(now, &packet(0, &chunk(ct::INIT, 0, cut)));
    assert!(b.poll_transmit().is_none());
    assert_eq!(b.stats().malformed, 1);
    // The whole INIT is answered with an INIT ACK and creates no state.
    b.handle_receive(now, &packet(0, &chunk(ct::INIT, 0, &v)));
    let ack = b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&ack.payload).unwrap();
    assert_eq!(pk.header.vtag, 7);
    assert!(!b.is_established());
    // INIT with a non-zero vtag or bundled with another chunk is dropped.
    b.handle_receive(now, &packet(5, &chunk(ct::INIT, 0, &v)));
    let mut two = chunk(ct::INIT, 0, &v);
    two.extend(chunk(ct::COOKIE_ACK, 0, &[]));
    b.handle_receive(now, &packet(0, &two));
    assert!(b.poll_transmit().is_none());
}

/// Runs INIT -> INIT ACK by hand and returns the COOKIE ECHO packet bytes and b.
fn cookie_echo(delay: Duration, tamper: bool) -> (Association, Vec<u8>, std::time::Instant) {
    let now = std::time::Instant::now();
    let mut a = Association::new(cfg(20), now);
    let mut b = Association::new(cfg(21), now);
    a.connect(now).unwrap();
    b.handle_receive(now, &a.poll_transmit().unwrap().payload);
    a.handle_receive(now, &b.poll_transmit().unwrap().payload);
    let mut echo = a.poll_transmit().unwrap().payload.to_vec();
    if tamper {
        echo[30] ^= 0x40;
        wire::finish_packet(&mut echo, false);
    }
    (b, echo, now + delay)
}

#[test]
fn stale_cookie_is_refused_with_error() {
    let (mut b, echo, later) = cookie_echo(Duration::from_secs(61), false);
    b.handle_receive(later, &echo);
    assert!(!b.is_established());
    assert_eq!(b.stats().bad_cookies, 1);
    let err = b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&err.payload).unwrap();
    let c = pk.chunks().next().unwrap().unwrap();
    assert_eq!(c.typ, ct::ERROR);
    assert_eq!(
        wire::ParamIter::new(c.value).next().unwrap().unwrap().typ,
        wire::cause::STALE_COOKIE
    );
}

#[test]
fn forged_cookie_is_refused() {
    let (mut b, echo, now) = cookie_echo(Duration::ZERO, true);
    b.handle_receive(now, &echo);
    assert!(!b.is_established());
    assert_eq!(b.stats().bad_cookies, 1);
    assert!(b.poll_transmit().is_none());
    // The genuine cookie within its lifetime works.
    let (mut b, echo, now) = cookie_echo(Duration::from_secs(10), false);
    b.handle_receive(now, &echo);
    assert!(b.is_established());
}

#[test]
fn forward_tsn_far_ahead_is_ignored() {
    let (mut p, tsn) = setup();
    let tag = p.b.local_tag();
    let mut v = Vec::new();
    wire::emit_forward_tsn(&mut v, false, tsn.wrapping_add(1_000_000), &[]);
    p.b.handle_receive(p.now, &packet(tag, &v));
    assert_eq!(p.b.stats().bad_forward_tsn, 1);
    still_works(&mut p);
}

#[test]
fn forward_tsn_for_unknown_streams() {
    let (mut p, tsn) = setup();
    let tag = p.b.local_tag();
    let entries: Vec<wire::SkipEntry> = (0..100)
        .map(|i| wire::SkipEntry {
            stream: 60000 + i,
            unordered: false,
            mid: 5,
        })
        .collect();
    let mut v = Vec::new();
    // Forward over nothing new (tsn - 1 is already acknowledged).
    wire::emit_forward_tsn(&mut v, false, tsn.wrapping_sub(1), &entries);
    p.b.handle_receive(p.now, &packet(tag, &v));
    still_works(&mut p);
}

#[test]
fn reconfig_for_unknown_streams_is_denied() {
    let c = |s| Config {
        num_streams: 16,
        enable_idata: false,
        ..cfg(s)
    };
    let mut p = Pair::new(c(50), c(51));
    p.a.connect(p.now).unwrap();
    p.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
    let tag = p.b.local_tag();
    let mut param = Vec::new();
    wire::emit_outgoing_reset(&mut param, 0, 0, 0, &[3, 4000]);
    p.b.handle_receive(p.now, &packet(tag, &chunk(ct::RECONFIG, 0, &param)));
    let t = p.b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&t.payload).unwrap();
    let rc = pk
        .chunks()
        .find_map(|c| c.ok().filter(|c| c.typ == ct::RECONFIG))
        .unwrap();
    let resp = wire::reconfig_params(rc.value).next().unwrap().unwrap();
    assert_eq!(
        resp,
        wire::ReconfigParam::Response {
            resp_seq: 0,
            result: wire::reconfig_result::DENIED
        }
    );
    // A request with a bad sequence number.
    let mut param = Vec::new();
    wire::emit_outgoing_reset(&mut param, 77, 0, 0, &[3]);
    p.b.handle_receive(p.now, &packet(tag, &chunk(ct::RECONFIG, 0, &param)));
    let t = p.b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&t.payload).unwrap();
    let rc = pk
        .chunks()
        .find_map(|c| c.ok().filter(|c| c.typ == ct::RECONFIG))
        .unwrap();
    let resp = wire::reconfig_params(rc.value).next().unwrap().unwrap();
    assert_eq!(
        resp,
        wire::ReconfigParam::Response {
            resp_seq: 77,
            result: wire::reconfig_result::BAD_SEQ
        }
    );
    assert!(p.b.is_established());
}

#[test]
fn flood_of_tiny_fragments_is_bounded() {
    let (mut p, tsn) = setup();
    let tag = p.b.local_tag();
    // Middle fragments of one message that never starts nor ends, one octet each.
    for i in 0..40_000u32 {
        let pk = packet(tag, &data(tsn.wrapping_add(1 + i), 0, 1, 0, &[0xaa]));
        p.b.handle_receive(p.now, &pk);
        let _ = p.b.poll_transmit();
    }
    let cap = p.b.config().max_receive_window as usize * 2;
    assert!(
        p.b.rx_buffered_for_fuzzing() <= cap,
        "buffered {}",
        p.b.rx_buffered_for_fuzzing()
    );
    // The flood is stopped: the peer is aborted once one message has too many fragments.
    assert!(p.b.is_closed());
    p.flush();
    assert!(matches!(
        p.events[1].last(),
        Some(Event::Closed { reason: CloseReason::ProtocolViolation { what } }) if what.contains("fragments")
    ));
}

#[test]
fn message_over_the_maximum_aborts() {
    let (mut p, tsn) = setup();
    let tag = p.b.local_tag();
    let frag = vec![0x55u8; 1000];
    // First fragment, then 80 middle fragments: 81 000 octets > 64 KiB maximum.
    p.b.handle_receive(p.now, &packet(tag, &data(tsn, 0, 1, 2, &frag)));
    for i in 1..=80u32 {
        p.b.handle_receive(
            p.now,
            &packet(tag, &data(tsn.wrapping_add(i), 0, 1, 0, &frag)),
        );
        if p.b.is_closed() {
            break;
        }
    }
    assert!(p.b.is_closed());
    let mut saw_abort = false;
    while let Some(t) = p.b.poll_transmit() {
        let pk = wire::Packet::parse(&t.payload).unwrap();
        saw_abort |= pk.chunks().any(|c| c.unwrap().typ == ct::ABORT);
    }
    assert!(saw_abort);
    p.flush();
    assert!(matches!(
        p.events[1].last(),
        Some(Event::Closed {
            reason: CloseReason::ProtocolViolation { .. }
        })
    ));
}

#[test]
fn asconf_and_auth_are_rejected() {
    let (mut p, tsn) = setup();
    let tag = p.b.local_tag();
    // ASCONF (0xC1): skipped and reported; the DATA after it is processed.
    let mut two = chunk(ct::ASCONF, 0, &[0, 0, 0, 1]);
    two.extend(data(tsn, 0, 1, 3, b"kept"));
    p.b.handle_receive(p.now, &packet(tag, &two));
    let mut saw_error = false;
    while let Some(t) = p.b.poll_transmit() {
        let pk = wire::Packet::parse(&t.payload).unwrap();
        for c in pk.chunks() {
            let c = c.unwrap();
            if c.typ == ct::ERROR {
                let cause = wire::ParamIter::new(c.value).next().unwrap().unwrap();
                assert_eq!(cause.typ, wire::cause::UNRECOGNIZED_CHUNK);
                saw_error = true;
            }
        }
        p.a.handle_receive(p.now, &t.payload);
    }
    assert!(saw_error);
    // AUTH (15): the rest of the packet is discarded.
    let mut two = chunk(ct::AUTH, 0, &[0; 8]);
    two.extend(data(tsn.wrapping_add(1), 0, 2, 3, b"dropped"));
    p.b.handle_receive(p.now, &packet(tag, &two));
    // ASCONF-ACK (0x80): skipped silently.
    p.b.handle_receive(
        p.now,
        &packet(tag, &chunk(ct::ASCONF_ACK, 0, &[0, 0, 0, 1])),
    );
    p.flush();
    let msgs: Vec<Bytes> = p.messages(1).into_iter().map(|m| m.2).collect();
    assert_eq!(msgs, vec![Bytes::from_static(b"kept")]);
    assert_eq!(p.b.stats().unrecognized_chunks, 3);
    assert!(p.b.is_established());
}

#[test]
fn data_on_unknown_stream_reports_error() {
    let c = |s| Config {
        num_streams: 4,
        enable_idata: false,
        ..cfg(s)
    };
    let mut p = Pair::new(c(60), c(61));
    p.a.connect(p.now).unwrap();
    p.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
    assert!(
        p.a.send(
            p.now,
            9,
            53,
            Bytes::from_static(b"x"),
            SendOptions::default()
        )
        .is_err()
    );
}

#[test]
fn peer_abort_closes() {
    let (mut p, _) = setup();
    p.a.abort(p.now);
    p.drive_until(|p| p.b.is_closed(), 100);
    assert!(matches!(
        p.events[1].last(),
        Some(Event::Closed {
            reason: CloseReason::PeerAbort { cause: Some(12) }
        })
    ));
}

/// RFC 6525 section 5.2.3: an Incoming SSN Reset Request is answered by resetting our
/// outgoing streams (an Outgoing SSN Reset Request naming it), not with "Denied".
#[test]
fn incoming_reset_request_is_answered_by_an_outgoing_reset() {
    let mut p = Pair::connected(60);
    for i in 0..3u8 {
        p.b.send(
            p.now,
            1,
            53,
            Bytes::from(vec![i; 10]),
            SendOptions::default(),
        )
        .unwrap();
    }
    p.drive_until(|p| p.messages(0).len() == 3, 1000);
    p.events = [Vec::new(), Vec::new()];
    let tag = p.b.local_tag();
    let incoming = |req_seq: u32, streams: &[u16]| {
        let mut v = req_seq.to_be_bytes().to_vec();
        for s in streams {
            v.extend_from_slice(&s.to_be_bytes());
        }
        let mut param = Vec::new();
        wire::emit_param(&mut param, 14, &v);
        packet(tag, &chunk(ct::RECONFIG, 0, &param))
    };
    // An unknown stream is denied.
    p.b.handle_receive(p.now, &incoming(0, &[65535]));
    let t = p.b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&t.payload).unwrap();
    let rc = pk
        .chunks()
        .find_map(|c| c.ok().filter(|c| c.typ == ct::RECONFIG))
        .unwrap();
    assert_eq!(
        wire::reconfig_params(rc.value).next().unwrap().unwrap(),
        wire::ReconfigParam::Response {
            resp_seq: 0,
            result: wire::reconfig_result::DENIED
        }
    );
    // Stream 1: b sends an Outgoing SSN Reset Request whose response sequence number is 1.
    p.b.handle_receive(p.now, &incoming(1, &[1]));
    let t = p.b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&t.payload).unwrap();
    let rc = pk
        .chunks()
        .find_map(|c| c.ok().filter(|c| c.typ == ct::RECONFIG))
        .unwrap();
    match wire::reconfig_params(rc.value).next().unwrap().unwrap() {
        wire::ReconfigParam::OutgoingReset {
            resp_seq, streams, ..
        } => {
            assert_eq!(resp_seq, 1);
            assert_eq!(streams, &[0u8, 1][..]);
        }
        other => panic!("expected an Outgoing SSN Reset Request, got {other:?}"),
    }
    // A retransmission of the same request gets no second answer.
    p.b.handle_receive(p.now, &incoming(1, &[1]));
    assert!(p.b.poll_transmit().is_none());
    // Deliver the request to a: a resets its incoming stream 1, b learns the reset was
    // performed, and b's next message on stream 1 starts again at SSN 0 and is delivered.
    p.a.handle_receive(p.now, &t.payload);
    p.drive_until(
        |p| {
            p.events[1]
                .iter()
                .any(|e| matches!(e, Event::OutgoingStreamsReset { streams } if streams == &[1]))
        },
        1000,
    );
    assert!(
        p.events[0]
            .iter()
            .any(|e| matches!(e, Event::IncomingStreamsReset { streams } if streams == &[1]))
    );
    p.b.send(
        p.now,
        1,
        53,
        Bytes::from_static(b"fresh"),
        SendOptions::default(),
    )
    .unwrap();
    p.drive_until(|p| p.messages(0).iter().any(|m| &m.2[..] == b"fresh"), 1000);
}
