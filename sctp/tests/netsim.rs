//! Scenario tests over the deterministic network simulator (sansrtc-netsim): bulk transfer
//! under random and burst loss with reordering and duplication, partial reliability, TSN
//! wraparound, stream reset with data in flight, INIT collision and zero-window probing.
//! A failing test prints its seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;
use sansrtc_netsim::{Datagram, GilbertElliott, LinkConfig, Network};
use sansrtc_sctp::{Association, Config, Event, SendOptions};

fn addr(i: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i], 5000))
}

struct Sim {
    net: Network,
    ep: [Association; 2],
    events: [Vec<Event>; 2],
    /// When false, side 1 does not drain its events (a stalled application).
    drain: [bool; 2],
    steps: u64,
}

impl Sim {
    fn new(seed: u64, link: LinkConfig, ca: Config, cb: Config) -> Self {
        let mut net = Network::new(seed);
        net.set_default_link(link);
        let now = net.now();
        let a = Association::new(
            Config {
                seed: Some(seed ^ 0xa),
                ..ca
            },
            now,
        );
        let b = Association::new(
            Config {
                seed: Some(seed ^ 0xb),
                ..cb
            },
            now,
        );
        Sim {
            net,
            ep: [a, b],
            events: [Vec::new(), Vec::new()],
            drain: [true, true],
            steps: 0,
        }
    }

    fn now(&self) -> Instant {
        self.net.now()
    }

    /// One round: transmit, deliver due datagrams, else advance the clock.
    fn step(&mut self) {
        self.steps += 1;
        for i in 0..2 {
            while let Some(t) = self.ep[i].poll_transmit() {
                self.net.send(Datagram::new(
                    addr(i as u8 + 1),
                    addr(2 - i as u8),
                    t.payload.to_vec(),
                ));
            }
        }
        let now = self.net.now();
        let mut got = false;
        while let Some(d) = self.net.poll_recv() {
            let to = if d.dst == addr(1) { 0 } else { 1 };
            self.ep[to].handle_receive(now, &d.payload);
            got = true;
        }
        for i in 0..2 {
            if self.drain[i] {
                while let Some(e) = self.ep[i].poll_event() {
                    self.events[i].push(e);
                }
            }
        }
        if got {
            return;
        }
        let mut next = self.net.next_delivery();
        for t in self.ep.iter().filter_map(|e| e.poll_timeout()) {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
        if let Some(n) = next
            && n > now
        {
            self.net.advance_to(n);
        }
        let now = self.net.now();
        for e in self.ep.iter_mut() {
            if e.poll_timeout().is_some_and(|t| t <= now) {
                e.handle_timeout(now);
            }
        }
    }

    fn run_until(&mut self, seed: u64, max_steps: u64, mut done: impl FnMut(&mut Sim) -> bool) {
        let start = self.steps;
        while !done(self) {
            assert!(
                self.steps - start < max_steps,
                "seed {seed}: not done after {max_steps} steps at {:?}: a={:?} b={:?} a.stats={:?} b.stats={:?}",
                self.net.now() - self.net.start(),
                self.ep[0],
                self.ep[1],
                self.ep[0].stats(),
                self.ep[1].stats()
            );
            self.step();
        }
    }

    fn connect(&mut self, seed: u64) {
        let now = self.now();
        self.ep[0].connect(now).unwrap();
        self.run_until(seed, 100_000, |s| {
            s.ep[0].is_established() && s.ep[1].is_established()
        });
    }
}

fn message(seq: u32, len: usize) -> Bytes {
    let mut v = vec![(seq % 251) as u8; len.max(8)];
    v[..4].copy_from_slice(&seq.to_be_bytes());
    v[4..8].copy_from_slice(&(len as u32).to_be_bytes());
    Bytes::from(v)
}

/// Sends `total` octets in messages of varying size on stream 0 (ordered, reliable) and
/// checks that every message arrives exactly once, intact and in order.
fn transfer(seed: u64, link: LinkConfig, total: usize, cfg: Config) -> Sim {
    let mut sim = Sim::new(seed, link, cfg.clone(), cfg);
    sim.connect(seed);
    let mut sent_bytes = 0usize;
    let mut seq = 0u32;
    let mut expected = 0u32;
    let mut received_bytes = 0usize;
    let max_steps = 50_000_000;
    while received_bytes < total {
        // Keep the send buffer fed.
        while sent_bytes < total && sim.ep[0].send_buffer_used() < 4 * 1024 * 1024 {
            let len = [1200usize, 16 * 1024, 64 * 1024, 300, 100_000][seq as usize % 5]
                .min(total - sent_bytes)
                .max(8);
            let now = sim.now();
            if let Err(e) = sim.ep[0].send(now, 0, 53, message(seq, len), SendOptions::default()) {
                let ev = sim.ep[0].poll_event();
                panic!(
                    "seed {seed}: send failed: {e} at {:?}: a={:?} {:?} events={:?} b={:?} {:?}",
                    sim.net.elapsed(),
                    sim.ep[0],
                    sim.ep[0].stats(),
                    ev,
                    sim.ep[1],
                    sim.ep[1].stats()
                );
            }
            seq += 1;
            sent_bytes += len;
        }
        sim.step();
        for e in sim.events[1].drain(..) {
            match e {
                Event::Message { stream, data, .. } => {
                    assert_eq!(stream, 0);
                    let got = u32::from_be_bytes(data[..4].try_into().unwrap());
                    assert_eq!(got, expected, "seed {seed}: out of order or duplicate");
                    let len = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                    assert_eq!(data.len(), len, "seed {seed}: wrong length");
                    assert!(
                        data[8..].iter().all(|&b| b == (got % 251) as u8),
                        "seed {seed}: corrupted"
                    );
                    expected += 1;
                    received_bytes += data.len();
                }
                Event::Closed { reason } => panic!(
                    "seed {seed}: closed {reason:?} at {:?} a={:?} {:?} b={:?} {:?}",
                    sim.net.elapsed(),
                    sim.ep[0],
                    sim.ep[0].stats(),
                    sim.ep[1],
                    sim.ep[1].stats()
                ),
                _ => {}
            }
        }
        assert!(sim.steps < max_steps, "seed {seed}: too many steps");
    }
    assert_eq!(expected, seq, "seed {seed}");
    sim
}

fn transfer_mb() -> usize {
    std::env::var("SCTP_NETSIM_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

#[test]
fn transfer_clean_link() {
    let t0 = std::time::Instant::now();
    let sim = transfer(
        1,
        LinkConfig::default().latency(Duration::from_millis(20)),
        transfer_mb() << 20,
        Config::default(),
    );
    eprintln!(
        "clean: {:?} wall, {:?} virtual, {:?}",
        t0.elapsed(),
        sim.net.elapsed(),
        sim.ep[0].stats()
    );
}

#[test]
fn transfer_random_loss_reorder_duplicate() {
    let link = LinkConfig::default()
        .latency(Duration::from_millis(20))
        .jitter(Duration::from_millis(5))
        .loss(0.02)
        .duplicate(0.01)
        .reorder(0.02)
        .bit_flip(0.001);
    let sim = transfer(2, link, transfer_mb() << 20, Config::default());
    let s = sim.ep[0].stats();
    assert!(
        s.fast_retransmits + s.t3_retransmits > 0,
        "loss must have caused retransmissions"
    );
    assert!(sim.ep[1].stats().duplicates > 0 || sim.ep[1].stats().bad_checksum > 0);
}

#[test]
fn transfer_ten_percent_loss() {
    let link = LinkConfig::default()
        .latency(Duration::from_millis(10))
        .loss(0.10)
        .duplicate(0.02)
        .reorder(0.05);
    transfer(3, link, transfer_mb() << 20, Config::default());
}

#[test]
fn transfer_burst_loss() {
    let link = LinkConfig::default()
        .latency(Duration::from_millis(15))
        .burst(GilbertElliott::new(0.01, 0.25))
        .reorder(0.01);
    transfer(4, link, transfer_mb() << 20, Config::default());
}

#[test]
fn transfer_without_idata() {
    let link = LinkConfig::default()
        .latency(Duration::from_millis(10))
        .loss(0.03)
        .reorder(0.03);
    transfer(
        5,
        link,
        2 << 20,
        Config {
            enable_idata: false,
            ..Config::default()
        },
    );
}

#[test]
fn tsn_wraparound() {
    for idata in [false, true] {
        let cfg = Config {
            initial_tsn: Some(u32::MAX - 300),
            enable_idata: idata,
            ..Config::default()
        };
        let link = LinkConfig::default()
            .latency(Duration::from_millis(5))
            .loss(0.03)
            .reorder(0.02);
        transfer(6, link, 3 << 20, cfg);
    }
}

#[test]
fn partial_reliability_drops_only_what_it_may() {
    let seed = 7;
    let link = LinkConfig::default()
        .latency(Duration::from_millis(10))
        .loss(0.08);
    let mut sim = Sim::new(seed, link, Config::default(), Config::default());
    sim.connect(seed);
    let n = 400u32;
    for i in 0..n {
        let now = sim.now();
        // Stream 1: unordered, no retransmissions. Stream 2: ordered, lifetime 50 ms.
        let pr = SendOptions {
            unordered: true,
            max_retransmits: Some(0),
            lifetime: None,
        };
        sim.ep[0].send(now, 1, 53, message(i, 3000), pr).unwrap();
        let ttl = SendOptions {
            unordered: false,
            max_retransmits: None,
            lifetime: Some(Duration::from_millis(50)),
        };
        sim.ep[0].send(now, 2, 53, message(i, 2000), ttl).unwrap();
        sim.ep[0]
            .send(now, 0, 53, message(i, 500), SendOptions::default())
            .unwrap();
        for _ in 0..3 {
            sim.step();
        }
    }
    sim.run_until(seed, 2_000_000, |s| {
        s.events[1]
            .iter()
            .filter(|e| matches!(e, Event::Message { stream: 0, .. }))
            .count()
            == n as usize
            && s.ep[0].is_idle()
    });
    let mut per: BTreeMap<u16, Vec<u32>> = BTreeMap::new();
    for e in &sim.events[1] {
        if let Event::Message { stream, data, .. } = e {
            let seq = u32::from_be_bytes(data[..4].try_into().unwrap());
            assert_eq!(
                data.len() as u32,
                u32::from_be_bytes(data[4..8].try_into().unwrap())
            );
            per.entry(*stream).or_default().push(seq);
        }
    }
    assert_eq!(
        per[&0],
        (0..n).collect::<Vec<_>>(),
        "reliable stream lost or reordered data"
    );
    let s1 = &per[&1];
    let mut dedup = s1.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(
        dedup.len(),
        s1.len(),
        "duplicates on the partially reliable stream"
    );
    assert!(
        s1.len() < n as usize && s1.len() > n as usize / 2,
        "stream 1 got {} of {n}",
        s1.len()
    );
    let s2 = &per[&2];
    assert!(
        s2.windows(2).all(|w| w[0] < w[1]),
        "ordered PR stream out of order"
    );
    assert!(sim.ep[0].stats().abandoned_messages > 0);
    assert!(sim.ep[0].is_established() && sim.ep[1].is_established());
}

#[test]
fn stream_reset_with_data_in_flight() {
    let seed = 8;
    let link = LinkConfig::default()
        .latency(Duration::from_millis(30))
        .loss(0.05);
    let mut sim = Sim::new(seed, link, Config::default(), Config::default());
    sim.connect(seed);
    let now = sim.now();
    for i in 0..50 {
        sim.ep[0]
            .send(now, 2, 53, message(i, 5000), SendOptions::default())
            .unwrap();
    }
    sim.ep[0].reset_streams(now, &[2]).unwrap();
    sim.run_until(seed, 1_000_000, |s| {
        s.events[0]
            .iter()
            .any(|e| matches!(e, Event::OutgoingStreamsReset { .. }))
            && s.events[1]
                .iter()
                .any(|e| matches!(e, Event::IncomingStreamsReset { .. }))
    });
    let got: Vec<u32> = sim.events[1]
        .iter()
        .filter_map(|e| match e {
            Event::Message { data, .. } => Some(u32::from_be_bytes(data[..4].try_into().unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        (0..50).collect::<Vec<_>>(),
        "data sent before the reset must all arrive"
    );
    // The reset event comes after the last message.
    let pos_reset = sim.events[1]
        .iter()
        .position(|e| matches!(e, Event::IncomingStreamsReset { .. }))
        .unwrap();
    let pos_last = sim.events[1]
        .iter()
        .rposition(|e| matches!(e, Event::Message { .. }))
        .unwrap();
    assert!(pos_reset > pos_last);
    // The stream is usable again, starting from SSN 0.
    sim.events[1].clear();
    let now = sim.now();
    sim.ep[0]
        .send(now, 2, 53, message(99, 100), SendOptions::default())
        .unwrap();
    sim.run_until(seed, 100_000, |s| {
        s.events[1]
            .iter()
            .any(|e| matches!(e, Event::Message { .. }))
    });
}

#[test]
fn init_collision_under_loss() {
    for seed in 10..20 {
        let link = LinkConfig::default()
            .latency(Duration::from_millis(20))
            .loss(0.2);
        let mut sim = Sim::new(seed, link, Config::default(), Config::default());
        let now = sim.now();
        sim.ep[0].connect(now).unwrap();
        sim.ep[1].connect(now).unwrap();
        sim.run_until(seed, 100_000, |s| {
            s.ep[0].is_established() && s.ep[1].is_established()
        });
        let now = sim.now();
        sim.ep[1]
            .send(
                now,
                1,
                51,
                Bytes::from_static(b"hi"),
                SendOptions::default(),
            )
            .unwrap();
        sim.run_until(seed, 100_000, |s| {
            s.events[0]
                .iter()
                .any(|e| matches!(e, Event::Message { .. }))
        });
    }
}

#[test]
fn zero_window_probing() {
    let seed = 9;
    let small = Config {
        max_message_size: 8 * 1024,
        initial_receive_window: 16 * 1024,
        max_receive_window: 16 * 1024,
        ..Config::default()
    };
    let mut sim = Sim::new(
        seed,
        LinkConfig::default().latency(Duration::from_millis(10)),
        Config::default(),
        small,
    );
    sim.connect(seed);
    sim.drain[1] = false;
    let n = 200u32;
    for i in 0..n {
        let now = sim.now();
        sim.ep[0]
            .send(now, 0, 53, message(i, 1000), SendOptions::default())
            .unwrap();
    }
    // The receiver's application is stalled for 3 s: the window closes.
    let stall_end = sim.now() + Duration::from_secs(3);
    sim.run_until(seed, 1_000_000, |s| s.now() >= stall_end);
    assert!(
        !sim.ep[0].is_idle(),
        "sender must be blocked by the closed window"
    );
    assert!(sim.ep[1].is_established());
    sim.drain[1] = true;
    sim.run_until(seed, 1_000_000, |s| {
        s.events[1]
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count()
            == n as usize
    });
    let got: Vec<u32> = sim.events[1]
        .iter()
        .filter_map(|e| match e {
            Event::Message { data, .. } => Some(u32::from_be_bytes(data[..4].try_into().unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

#[test]
fn shutdown_under_loss() {
    let seed = 11;
    let link = LinkConfig::default()
        .latency(Duration::from_millis(10))
        .loss(0.1);
    let mut sim = Sim::new(seed, link, Config::default(), Config::default());
    sim.connect(seed);
    let now = sim.now();
    for i in 0..20 {
        sim.ep[0]
            .send(now, 0, 53, message(i, 4000), SendOptions::default())
            .unwrap();
    }
    sim.ep[0].shutdown(now).unwrap();
    sim.run_until(seed, 1_000_000, |s| {
        s.ep[0].is_closed() && s.ep[1].is_closed()
    });
    let n = sim.events[1]
        .iter()
        .filter(|e| matches!(e, Event::Message { .. }))
        .count();
    assert_eq!(n, 20, "all data is delivered before SHUTDOWN completes");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn any_seed_any_link_delivers_in_order(
        seed in any::<u64>(),
        loss in 0.0f64..0.12,
        dup in 0.0f64..0.05,
        reorder in 0.0f64..0.1,
        latency_ms in 1u64..80,
        idata in any::<bool>(),
    ) {
        let link = LinkConfig::default()
            .latency(Duration::from_millis(latency_ms))
            .jitter(Duration::from_millis(latency_ms / 4))
            .loss(loss)
            .duplicate(dup)
            .reorder(reorder);
        transfer(seed, link, 300_000, Config { enable_idata: idata, ..Config::default() });
    }
}
