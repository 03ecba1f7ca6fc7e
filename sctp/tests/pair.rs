//! Scenario tests over an in-memory pair.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use bytes::Bytes;
use common::{Pair, cfg};
use sansrtc_sctp::{Event, SendOptions};

#[test]
fn handshake_and_small_message() {
    let mut p = Pair::connected(1);
    p.a.send(
        p.now,
        0,
        51,
        Bytes::from_static(b"hello"),
        SendOptions::default(),
    )
    .unwrap();
    p.drive_until(|p| !p.messages(1).is_empty(), 1000);
    assert_eq!(p.messages(1), vec![(0, 51, Bytes::from_static(b"hello"))]);
}

#[test]
fn both_connect_init_collision() {
    let mut p = Pair::new(cfg(5), cfg(6));
    p.a.connect(p.now).unwrap();
    p.b.connect(p.now).unwrap();
    p.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
    p.b.send(
        p.now,
        1,
        53,
        Bytes::from_static(b"x"),
        SendOptions::default(),
    )
    .unwrap();
    p.drive_until(|p| !p.messages(0).is_empty(), 1000);
    assert!(p.events[0].contains(&Event::Connected) && p.events[1].contains(&Event::Connected));
}

#[test]
fn large_messages_fragmented_in_order() {
    let mut p = Pair::connected(2);
    let mut sent = Vec::new();
    for i in 0..20u32 {
        let m: Vec<u8> = (0..(i as usize * 7919 % 200_000 + 1))
            .map(|x| (x as u32 ^ i) as u8)
            .collect();
        sent.push(Bytes::from(m.clone()));
        p.a.send(p.now, 3, 53, Bytes::from(m), SendOptions::default())
            .unwrap();
    }
    p.drive_until(|p| p.messages(1).len() == 20, 100_000);
    let got: Vec<Bytes> = p.messages(1).into_iter().map(|m| m.2).collect();
    assert_eq!(got, sent);
}
