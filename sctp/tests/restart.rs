//! Association restart (RFC 9260 section 5.2.2 / 5.2.4 action A): an INIT on an established
//! association is answered with an INIT ACK whose cookie carries new tags and the tie-tags of
//! the current association; its COOKIE ECHO restarts the association. Stale, forged and
//! outdated restart cookies are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Pair, cfg};
use sansrtc_sctp::wire::{self, ct};
use sansrtc_sctp::{Association, Event, SendOptions};

/// Moves every queued packet from `from` to `to` once; returns the packets moved.
fn pass(from: &mut Association, to: &mut Association, now: Instant) -> Vec<Bytes> {
    let mut v = Vec::new();
    while let Some(t) = from.poll_transmit() {
        to.handle_receive(now, &t.payload);
        v.push(t.payload);
    }
    v
}

fn chunk_types(p: &[u8]) -> Vec<u8> {
    wire::Packet::parse(p)
        .unwrap()
        .chunks()
        .map(|c| c.unwrap().typ)
        .collect()
}

fn events(x: &mut Association) -> Vec<Event> {
    std::iter::from_fn(|| x.poll_event()).collect()
}

/// A connected pair that already moved data both ways (stream 1, SSNs past 0).
fn busy_pair() -> Pair {
    let mut p = Pair::connected(70);
    for i in 0..5u8 {
        p.a.send(
            p.now,
            1,
            53,
            Bytes::from(vec![i; 100]),
            SendOptions::default(),
        )
        .unwrap();
        p.b.send(
            p.now,
            1,
            53,
            Bytes::from(vec![i; 100]),
            SendOptions::default(),
        )
        .unwrap();
    }
    p.drive_until(
        |p| p.messages(0).len() == 5 && p.messages(1).len() == 5,
        1000,
    );
    p.events = [Vec::new(), Vec::new()];
    p
}

/// The peer `a` "reboots": a fresh association with the same ports sends INIT to `b`, and
/// `b` answers with an INIT ACK. Returns the fresh `a` holding its COOKIE ECHO unsent.
fn reboot_a(p: &mut Pair, seed: u64) -> Association {
    let now = p.now;
    let mut a2 = Association::new(cfg(seed), now);
    a2.connect(now).unwrap();
    let init = pass(&mut a2, &mut p.b, now);
    assert_eq!(chunk_types(&init[0]), vec![ct::INIT]);
    let ack = pass(&mut p.b, &mut a2, now);
    assert_eq!(chunk_types(&ack[0]), vec![ct::INIT_ACK]);
    a2
}

#[test]
fn restart_is_accepted_and_data_flows_after_it() {
    let mut p = busy_pair();
    let old_tag = p.b.local_tag();
    // Something queued on the old association: dropped by the restart (section 5.2.4 A).
    p.b.send(
        p.now,
        1,
        53,
        Bytes::from_static(b"old"),
        SendOptions::default(),
    )
    .unwrap();
    let mut a2 = reboot_a(&mut p, 71);
    // The INIT changed nothing yet (no state before COOKIE ECHO).
    assert_eq!(p.b.local_tag(), old_tag);
    assert!(p.b.is_established());
    let now = p.now;
    pass(&mut a2, &mut p.b, now); // COOKIE ECHO
    assert_ne!(p.b.local_tag(), old_tag, "restart must use a new tag");
    assert_eq!(p.b.stats().restarts, 1);
    let ev = events(&mut p.b);
    assert!(ev.contains(&Event::Restarted), "{ev:?}");
    assert!(!ev.contains(&Event::Connected));
    pass(&mut p.b, &mut a2, now); // COOKIE ACK
    assert!(a2.is_established());
    assert!(events(&mut a2).contains(&Event::Connected));
    assert_eq!(p.b.buffered_amount(1), 0, "old queue discarded");
    // Data flows both ways on the new association; stream sequence numbers start at 0 again
    // (the fresh peer would hold a message with SSN 5 back forever).
    p.a = a2;
    p.events = [Vec::new(), Vec::new()];
    for i in 0..3u8 {
        p.a.send(
            p.now,
            1,
            53,
            Bytes::from(vec![i; 2000]),
            SendOptions::default(),
        )
        .unwrap();
        p.b.send(
            p.now,
            1,
            51,
            Bytes::from(vec![i; 3000]),
            SendOptions::default(),
        )
        .unwrap();
    }
    p.drive_until(
        |p| p.messages(0).len() == 3 && p.messages(1).len() == 3,
        2000,
    );
    for (i, (stream, ppid, data)) in p.messages(1).into_iter().enumerate() {
        assert_eq!((stream, ppid, data.len()), (1, 53, 2000));
        assert!(data.iter().all(|&x| x == i as u8));
    }
    for (i, (stream, ppid, data)) in p.messages(0).into_iter().enumerate() {
        assert_eq!((stream, ppid, data.len()), (1, 51, 3000));
        assert!(data.iter().all(|&x| x == i as u8));
    }
}

#[test]
fn stale_restart_cookie_is_refused() {
    let mut p = busy_pair();
    let old_tag = p.b.local_tag();
    let mut a2 = reboot_a(&mut p, 72);
    let later = p.now + Duration::from_secs(61);
    let echo = a2.poll_transmit().unwrap();
    p.b.handle_receive(later, &echo.payload);
    assert_eq!(p.b.local_tag(), old_tag);
    assert_eq!(p.b.stats().restarts, 0);
    assert!(!events(&mut p.b).contains(&Event::Restarted));
    let err = p.b.poll_transmit().unwrap();
    let pk = wire::Packet::parse(&err.payload).unwrap();
    let c = pk.chunks().next().unwrap().unwrap();
    assert_eq!(c.typ, ct::ERROR);
    assert_eq!(
        wire::ParamIter::new(c.value).next().unwrap().unwrap().typ,
        wire::cause::STALE_COOKIE
    );
}

#[test]
fn forged_restart_cookie_is_refused() {
    let mut p = busy_pair();
    let old_tag = p.b.local_tag();
    let bad_before = p.b.stats().bad_cookies;
    let mut a2 = reboot_a(&mut p, 73);
    let mut echo = a2.poll_transmit().unwrap().payload.to_vec();
    // The tie-tag field inside the cookie (after the 16-octet chunk + parameter headers).
    echo[16 + 36] ^= 0x01;
    wire::finish_packet(&mut echo, false);
    p.b.handle_receive(p.now, &echo);
    assert_eq!(p.b.local_tag(), old_tag);
    assert_eq!(p.b.stats().bad_cookies, bad_before + 1);
    assert!(!events(&mut p.b).contains(&Event::Restarted));
    assert!(p.b.poll_transmit().is_none());
    // The old association still carries data.
    p.a.send(
        p.now,
        1,
        53,
        Bytes::from_static(b"still"),
        SendOptions::default(),
    )
    .unwrap();
    p.drive_until(|p| p.messages(1).len() == 1, 1000);
}

#[test]
fn restart_cookie_from_before_an_earlier_restart_is_discarded() {
    let mut p = busy_pair();
    // Two reboots answered while the old association was current: both cookies carry its
    // tie-tags. The first restarts; the second no longer names the current association.
    let mut a2 = reboot_a(&mut p, 74);
    let mut a3 = reboot_a(&mut p, 75);
    let now = p.now;
    pass(&mut a2, &mut p.b, now);
    assert_eq!(p.b.stats().restarts, 1);
    let tag = p.b.local_tag();
    pass(&mut a3, &mut p.b, now);
    assert_eq!(p.b.stats().restarts, 1);
    assert_eq!(p.b.local_tag(), tag);
    // The first restart's peer is the one b talks to.
    pass(&mut p.b, &mut a2, now);
    assert!(a2.is_established());
}

#[test]
fn replayed_original_cookie_does_not_restart() {
    let now = Instant::now();
    let mut a = Association::new(cfg(76), now);
    let mut b = Association::new(cfg(77), now);
    a.connect(now).unwrap();
    pass(&mut a, &mut b, now);
    pass(&mut b, &mut a, now);
    let echo = pass(&mut a, &mut b, now);
    pass(&mut b, &mut a, now);
    assert!(a.is_established() && b.is_established());
    let tag = b.local_tag();
    events(&mut b);
    b.handle_receive(now, &echo[0]);
    assert_eq!(b.local_tag(), tag);
    assert_eq!(b.stats().restarts, 0);
    assert!(events(&mut b).is_empty());
    // Section 5.2.4 case D: answered with a COOKIE ACK.
    let ack = b.poll_transmit().unwrap();
    assert_eq!(chunk_types(&ack.payload), vec![ct::COOKIE_ACK]);
}
