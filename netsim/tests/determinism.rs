//! Same seed = bit-identical run; different seed = different run. Also the in-flight caps.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code: failing loudly is the point

mod common;
use common::*;
use sansrtc_netsim::{
    Datagram, GilbertElliott, Limits, LinkConfig, NatConfig, NatKind, Network, PortAllocation,
    Subnet, TraceEvent,
};
use std::time::Duration;

fn everything() -> LinkConfig {
    LinkConfig::default()
        .latency(Duration::from_millis(15))
        .jitter(Duration::from_millis(7))
        .loss(0.05)
        .burst(GilbertElliott::new(0.02, 0.3))
        .duplicate(0.05)
        .reorder(0.05)
        .bit_flip(0.05)
        .bandwidth_bps(2_000_000)
        .queue_bytes(8_000)
}

/// A busy scenario: two hosts behind NATs and a server, every impairment on.
fn scenario(seed: u64) -> (Vec<TraceEvent>, Vec<(Duration, Datagram)>, Vec<u8>) {
    let mut net = Network::new(seed);
    net.enable_trace();
    net.enable_capture();
    net.set_default_link(everything());
    net.add_nat(
        NatConfig::new(
            NatKind::Symmetric,
            "203.0.113.1".parse().unwrap(),
            ["10.1.0.0/16".parse::<Subnet>().unwrap()],
        )
        .port_allocation(PortAllocation::Random),
    );
    let a = addr("10.1.0.5:4000");
    let b = addr("198.51.100.7:4000");
    let mut got = Vec::new();
    for i in 0..2000u32 {
        let size = 20 + (i as usize * 37) % 1200;
        let mut p = i.to_be_bytes().to_vec();
        p.resize(size, (i % 251) as u8);
        net.send(Datagram::new(a, b, p.clone()));
        net.send(Datagram::new(
            b,
            addr(&format!("203.0.113.1:{}", 49152 + i % 7)),
            p,
        ));
        net.advance(Duration::from_micros(700));
        while let Some(d) = net.poll_recv() {
            got.push((net.elapsed(), d));
        }
    }
    got.extend(drain(&mut net));
    (net.trace().to_vec(), got, net.pcap_bytes())
}

#[test]
fn same_seed_gives_identical_runs() {
    let (t1, g1, p1) = scenario(42);
    let (t2, g2, p2) = scenario(42);
    assert!(t1.len() > 4000, "a busy trace: {}", t1.len());
    assert!(g1.len() > 500, "many deliveries: {}", g1.len());
    assert_eq!(t1, t2);
    assert_eq!(g1, g2);
    assert_eq!(p1, p2);
}

#[test]
fn different_seeds_give_different_runs() {
    let (t1, g1, _) = scenario(1);
    let (t2, g2, _) = scenario(2);
    assert_ne!(t1, t2);
    assert_ne!(g1, g2);
}

#[test]
fn stats_are_conserved_in_the_busy_scenario() {
    let mut net = Network::new(3);
    net.set_default_link(everything());
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    for i in 0..3000u32 {
        net.send(Datagram::new(a, b, vec![0; (i % 1400) as usize]));
        net.advance(Duration::from_micros(300));
        while net.poll_recv().is_some() {}
        assert!(net.stats().is_conserved());
        assert!(net.link_stats(a.ip(), b.ip()).is_conserved());
    }
    drain(&mut net);
    let s = net.stats();
    assert!(s.is_conserved());
    assert_eq!(s.in_flight, 0);
    assert_eq!(net.in_flight(), 0);
    // Every impairment was exercised.
    for (what, n) in [
        ("loss", s.dropped.loss),
        ("burst", s.dropped.burst),
        ("queue", s.dropped.queue),
        ("duplicated", s.duplicated),
        ("reordered", s.reordered),
        ("corrupted", s.corrupted),
    ] {
        assert!(n > 0, "{what} never happened: {s:?}");
    }
}

#[test]
fn in_flight_cap_drops_overflow() {
    let mut net = Network::new(4);
    net.set_limits(Limits {
        max_in_flight: 100,
        ..Limits::default()
    });
    assert_eq!(net.limits().max_in_flight, 100);
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    for _ in 0..150 {
        net.send(Datagram::new(a, b, vec![1]));
    }
    assert_eq!(net.in_flight(), 100);
    assert_eq!(net.stats().dropped.overflow, 50);
    assert_eq!(drain(&mut net).len(), 100);
    // Once drained, sending works again.
    net.send(Datagram::new(a, b, vec![1]));
    assert_eq!(drain(&mut net).len(), 1);
    assert!(net.stats().is_conserved());
}

#[test]
fn in_flight_byte_cap_drops_overflow() {
    let mut net = Network::new(5);
    net.set_limits(Limits {
        max_in_flight_bytes: 10_000,
        ..Limits::default()
    });
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    for _ in 0..20 {
        net.send(Datagram::new(a, b, vec![0; 1000]));
    }
    assert_eq!(net.in_flight(), 10);
    assert_eq!(net.stats().dropped.overflow, 10);
}

#[test]
fn trace_is_capped() {
    let mut net = Network::new(6);
    net.set_limits(Limits {
        max_trace_events: 10,
        ..Limits::default()
    });
    net.enable_trace();
    for _ in 0..20 {
        net.send(Datagram::new(
            addr("10.0.0.1:1"),
            addr("10.0.0.2:2"),
            vec![1],
        ));
    }
    assert_eq!(net.trace().len(), 10);
    assert!(net.trace_truncated());
}

#[test]
fn link_table_is_capped() {
    let mut net = Network::new(7);
    net.set_limits(Limits {
        max_links: 2,
        ..Limits::default()
    });
    let a = addr("10.0.0.1:1");
    for i in 0..5u8 {
        net.send(Datagram::new(a, addr(&format!("10.0.1.{i}:1")), vec![i]));
    }
    // Known pairs keep working.
    net.send(Datagram::new(a, addr("10.0.1.0:1"), vec![9]));
    let got = drain(&mut net);
    assert_eq!(got.len(), 3);
    let s = net.stats();
    assert_eq!(s.dropped.overflow, 3);
    assert_eq!(s.sent, 6);
    assert!(s.is_conserved());
    assert_eq!(net.link_stats(a.ip(), "10.0.1.4".parse().unwrap()).sent, 0);
}
