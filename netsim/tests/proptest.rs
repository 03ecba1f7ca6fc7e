//! Property tests over arbitrary link configurations and traffic: no panic, nothing arrives
//! before the link latency, and delivered + dropped + in flight = sent + duplicated.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code: failing loudly is the point

mod common;
use common::*;
use proptest::prelude::*;
use sansrtc_netsim::{
    Datagram, GilbertElliott, LinkConfig, MAX_DELAY, NatConfig, NatKind, Network, Subnet, TraceKind,
};
use std::time::Duration;

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        8 => (0u64..200_000).prop_map(Duration::from_micros),
        1 => Just(Duration::ZERO),
        1 => Just(Duration::MAX),
    ]
}

fn prob() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0f64..1.0,
        1 => Just(0.0),
        1 => Just(1.0),
        1 => prop::num::f64::ANY,
    ]
}

prop_compose! {
    fn link_config()(
        latency in duration(),
        jitter in duration(),
        loss in prob(),
        burst in prop::option::of((prob(), prob(), prob(), prob())),
        duplicate in prob(),
        reorder in prob(),
        reorder_delay in duration(),
        mtu in prop_oneof![0usize..3000, Just(65535), Just(usize::MAX)],
        bit_flip in prob(),
        bandwidth in prop::option::of(prop_oneof![0u64..10_000_000, Just(u64::MAX)]),
        queue_bytes in prop_oneof![0usize..100_000, Just(usize::MAX)],
    ) -> LinkConfig {
        let mut c = LinkConfig::default()
            .latency(latency)
            .jitter(jitter)
            .loss(loss)
            .duplicate(duplicate)
            .reorder(reorder)
            .reorder_delay(reorder_delay)
            .mtu(mtu)
            .bit_flip(bit_flip)
            .queue_bytes(queue_bytes);
        if let Some((p, r, g, b)) = burst {
            c = c.burst(GilbertElliott::new(p, r).loss_good(g).loss_bad(b));
        }
        if let Some(bps) = bandwidth {
            c = c.bandwidth_bps(bps);
        }
        c
    }
}

fn traffic() -> impl Strategy<Value = Vec<(u32, usize, bool)>> {
    prop::collection::vec((0u32..20_000, 0usize..2000, any::<bool>()), 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn links_never_deliver_early_and_conserve(
        seed in any::<u64>(),
        cfg in link_config(),
        ops in traffic(),
    ) {
        let mut net = Network::new(seed);
        net.set_default_link(cfg.clone());
        let latency = cfg.latency.min(MAX_DELAY);
        let (a, b) = (addr("10.0.0.1:0"), addr("[fd00::2]:0"));
        let (a2, b2) = (addr("10.0.0.3:0"), addr("10.0.0.4:0"));
        let mut sent_at = Vec::new();
        for (i, (gap_us, size, dir)) in ops.iter().enumerate() {
            // The source port carries the index: ports are never corrupted.
            let port = i as u16 + 1;
            let (src, dst) = match (dir, i % 3) {
                (_, 0) => (a, b),
                (true, _) => (a2, b2),
                (false, _) => (b2, a2),
            };
            let src = std::net::SocketAddr::new(src.ip(), port);
            sent_at.push(net.elapsed());
            net.send(Datagram::new(src, dst, vec![0x5A; *size]));
            net.advance(Duration::from_micros(u64::from(*gap_us)));
            while let Some(d) = net.poll_recv() {
                let sent = sent_at[usize::from(d.src.port()) - 1];
                prop_assert!(net.elapsed() >= sent + latency);
            }
            prop_assert!(net.stats().is_conserved(), "{:?}", net.stats());
        }
        let mut steps = 0;
        while let Some(t) = net.next_delivery() {
            net.advance_to(t);
            while let Some(d) = net.poll_recv() {
                let sent = sent_at[usize::from(d.src.port()) - 1];
                prop_assert!(net.elapsed() >= sent + latency);
                prop_assert!(d.payload.len() == ops[usize::from(d.src.port()) - 1].1);
            }
            steps += 1;
            prop_assert!(steps < 10_000);
        }
        let s = net.stats();
        prop_assert!(s.is_conserved(), "{:?}", s);
        prop_assert_eq!(s.in_flight, 0);
        prop_assert_eq!(s.sent, ops.len() as u64);
        for (x, y) in [(a, b), (a2, b2), (b2, a2)] {
            prop_assert!(net.link_stats(x.ip(), y.ip()).is_conserved());
        }
    }

    #[test]
    fn nats_never_panic_and_conserve(
        seed in any::<u64>(),
        cfg in link_config(),
        kind in prop_oneof![
            Just(NatKind::FullCone),
            Just(NatKind::AddressRestricted),
            Just(NatKind::PortRestricted),
            Just(NatKind::Symmetric),
        ],
        timeout_ms in 0u64..5000,
        max_mappings in 0usize..8,
        hairpin in any::<bool>(),
        ops in prop::collection::vec((0u8..6, 0u8..6, 0u16..4, 0u32..3000), 0..200),
    ) {
        let mut net = Network::new(seed);
        net.set_default_link(cfg.clone());
        net.enable_trace();
        let nat = net.add_nat(
            NatConfig::new(kind, "203.0.113.1".parse().unwrap(), ["192.168.0.0/24".parse::<Subnet>().unwrap()])
                .mapping_timeout(Duration::from_millis(timeout_ms))
                .max_mappings(max_mappings)
                .port_range(50000, 50003)
                .hairpin(hairpin),
        );
        // Endpoints: two inside hosts, two outside hosts, and the NAT's public ports.
        let ep = |k: u8, port: u16| -> std::net::SocketAddr {
            match k {
                0 => addr("192.168.0.2:1000"),
                1 => addr("192.168.0.3:1000"),
                2 => addr("198.51.100.1:3478"),
                3 => addr("198.51.100.2:3478"),
                _ => std::net::SocketAddr::new("203.0.113.1".parse().unwrap(), 50000 + port),
            }
        };
        for (s, d, port, gap_us) in ops {
            let src = ep(s.min(3), port);
            let dst = ep(d, port);
            net.send(Datagram::new(src, dst, vec![1, 2, 3]));
            net.advance(Duration::from_micros(u64::from(gap_us)));
            while let Some(d) = net.poll_recv() {
                // Nothing is ever delivered to the public address itself.
                prop_assert_ne!(d.dst.ip(), "203.0.113.1".parse::<std::net::IpAddr>().unwrap());
            }
            prop_assert!(net.stats().is_conserved());
            prop_assert!(net.nat_mappings(nat).len() <= max_mappings);
        }
        drain(&mut net);
        let s = net.stats();
        prop_assert!(s.is_conserved());
        prop_assert_eq!(s.in_flight, 0);
        let latency = cfg.latency.min(MAX_DELAY);
        let mut sent_at = None;
        for e in net.trace() {
            match e.kind {
                TraceKind::Sent => sent_at = Some(e.at),
                TraceKind::Scheduled { due } => {
                    prop_assert!(due >= sent_at.unwrap() + latency);
                }
                _ => {}
            }
        }
    }
}
