//! NAT mapping and filtering behaviour of each kind (RFC 4787 terms), timeouts, hairpinning,
//! routing of private addresses, caps and port allocation.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code: failing loudly is the point

mod common;
use common::*;
use sansrtc_netsim::{
    Datagram, DropCause, LinkConfig, NatConfig, NatKind, Network, PortAllocation, Subnet,
};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const PUBLIC: &str = "203.0.113.1";

fn public_ip() -> IpAddr {
    PUBLIC.parse().unwrap()
}
fn host() -> SocketAddr {
    addr("192.168.1.10:5000")
}
fn host2() -> SocketAddr {
    addr("192.168.1.11:5000")
}
fn s1() -> SocketAddr {
    addr("198.51.100.1:3478")
}
fn s1_other_port() -> SocketAddr {
    addr("198.51.100.1:3479")
}
fn s2() -> SocketAddr {
    addr("198.51.100.2:3478")
}

fn net_behind(kind: NatKind) -> Network {
    let mut net = Network::new(7);
    net.add_nat(NatConfig::new(
        kind,
        public_ip(),
        ["192.168.1.0/24".parse::<Subnet>().unwrap()],
    ));
    net
}

/// Sends one datagram and returns what arrived (if anything).
fn one(net: &mut Network, src: SocketAddr, dst: SocketAddr) -> Option<Datagram> {
    net.send(Datagram::new(src, dst, b"x".to_vec()));
    let got = drain(net);
    assert!(got.len() <= 1);
    got.into_iter().next().map(|(_, d)| d)
}

const KINDS: [NatKind; 4] = [
    NatKind::FullCone,
    NatKind::AddressRestricted,
    NatKind::PortRestricted,
    NatKind::Symmetric,
];

#[test]
fn outbound_source_is_rewritten() {
    for kind in KINDS {
        let mut net = net_behind(kind);
        let d = one(&mut net, host(), s1()).unwrap();
        assert_eq!(d.src.ip(), public_ip(), "{kind:?}");
        assert_eq!(d.dst, s1());
        // The reply reaches the inside host with its own address restored.
        let back = one(&mut net, s1(), d.src).unwrap();
        assert_eq!(back.dst, host(), "{kind:?}");
        assert_eq!(back.src, s1());
    }
}

#[test]
fn mapping_behaviour_per_kind() {
    for kind in KINDS {
        let mut net = net_behind(kind);
        let m1 = one(&mut net, host(), s1()).unwrap().src;
        let m1_again = one(&mut net, host(), s1()).unwrap().src;
        let m2 = one(&mut net, host(), s2()).unwrap().src;
        let m3 = one(&mut net, host(), s1_other_port()).unwrap().src;
        assert_eq!(m1, m1_again, "{kind:?}: a flow keeps its mapping");
        if kind == NatKind::Symmetric {
            assert_ne!(m1, m2, "symmetric: new mapping per remote address");
            assert_ne!(m1, m3, "symmetric: new mapping per remote port");
            assert_ne!(m2, m3);
        } else {
            assert_eq!(m1, m2, "{kind:?}: endpoint-independent mapping");
            assert_eq!(m1, m3, "{kind:?}: endpoint-independent mapping");
        }
        let other_host = one(&mut net, host2(), s1()).unwrap().src;
        assert_ne!(other_host, m1, "{kind:?}: hosts get different ports");
    }
}

#[test]
fn filtering_behaviour_per_kind() {
    // After the host sent only to s1: who may send in on that mapping?
    //                 (s1,   s1 other port, s2)
    let table = [
        (NatKind::FullCone, [true, true, true]),
        (NatKind::AddressRestricted, [true, true, false]),
        (NatKind::PortRestricted, [true, false, false]),
        (NatKind::Symmetric, [true, false, false]),
    ];
    for (kind, want) in table {
        for (i, remote) in [s1(), s1_other_port(), s2()].into_iter().enumerate() {
            let mut net = net_behind(kind);
            let mapped = one(&mut net, host(), s1()).unwrap().src;
            let got = one(&mut net, remote, mapped);
            assert_eq!(got.is_some(), want[i], "{kind:?} from {remote}");
            if let Some(d) = got {
                assert_eq!(d.dst, host());
            } else {
                assert_eq!(net.stats().dropped.nat, 1);
            }
            assert!(net.stats().is_conserved());
        }
    }
}

#[test]
fn unsolicited_inbound_is_dropped_even_by_full_cone() {
    for kind in KINDS {
        let mut net = net_behind(kind);
        let got = one(&mut net, s1(), SocketAddr::new(public_ip(), 49152));
        assert!(got.is_none(), "{kind:?}");
        assert_eq!(net.stats().dropped.nat, 1);
    }
}

#[test]
fn mappings_expire_without_outbound_traffic() {
    for kind in KINDS {
        let mut net = Network::new(8);
        net.add_nat(
            NatConfig::new(
                kind,
                public_ip(),
                [Subnet::new("192.168.1.0".parse().unwrap(), 24).unwrap()],
            )
            .mapping_timeout(Duration::from_secs(30)),
        );
        let mapped = one(&mut net, host(), s1()).unwrap().src;
        // Keep-alives every 20 s keep it open for two minutes.
        for _ in 0..6 {
            net.advance(Duration::from_secs(20));
            assert_eq!(one(&mut net, host(), s1()).unwrap().src, mapped, "{kind:?}");
            assert!(one(&mut net, s1(), mapped).is_some(), "{kind:?}");
        }
        // Inbound traffic alone does not refresh it (inbound_refresh is off by default).
        for _ in 0..4 {
            net.advance(Duration::from_secs(10));
            let _ = one(&mut net, s1(), mapped);
        }
        assert!(one(&mut net, s1(), mapped).is_none(), "{kind:?}: expired");
    }
}

#[test]
fn inbound_refresh_keeps_mapping_alive() {
    let mut net = Network::new(9);
    net.set_default_link(LinkConfig::default().latency(Duration::ZERO));
    net.add_nat(
        NatConfig::new(
            NatKind::FullCone,
            public_ip(),
            ["192.168.1.0/24".parse::<Subnet>().unwrap()],
        )
        .mapping_timeout(Duration::from_secs(30))
        .inbound_refresh(true),
    );
    let mapped = one(&mut net, host(), s1()).unwrap().src;
    for _ in 0..10 {
        net.advance(Duration::from_secs(20));
        assert!(one(&mut net, s2(), mapped).is_some());
    }
}

#[test]
fn new_mapping_after_expiry_may_differ() {
    let mut net = Network::new(10);
    let id = net.add_nat(
        NatConfig::new(
            NatKind::PortRestricted,
            public_ip(),
            ["192.168.1.0/24".parse::<Subnet>().unwrap()],
        )
        .mapping_timeout(Duration::from_secs(5)),
    );
    let m1 = one(&mut net, host(), s1()).unwrap().src;
    assert_eq!(net.nat_public_addr(id, host(), s1()), Some(m1));
    assert_eq!(net.nat_mappings(id).len(), 1);
    net.advance(Duration::from_secs(6));
    assert_eq!(net.nat_public_addr(id, host(), s1()), None);
    assert!(net.nat_mappings(id).is_empty());
    let m2 = one(&mut net, host(), s1()).unwrap().src;
    assert_ne!(m1, m2, "sequential allocation moves on");
}

#[test]
fn private_addresses_are_unroutable_from_outside_but_reachable_on_the_lan() {
    let mut net = net_behind(NatKind::FullCone);
    assert!(one(&mut net, s1(), host()).is_none());
    assert_eq!(net.stats().dropped.unroutable, 1);
    // Same inside network: delivered directly, addresses untouched.
    let d = one(&mut net, host2(), host()).unwrap();
    assert_eq!((d.src, d.dst), (host2(), host()));
}

#[test]
fn hairpinning() {
    for hairpin in [false, true] {
        let mut net = Network::new(11);
        net.add_nat(
            NatConfig::new(
                NatKind::PortRestricted,
                public_ip(),
                ["192.168.1.0/24".parse::<Subnet>().unwrap()],
            )
            .hairpin(hairpin),
        );
        // host2 learns its mapping via a server, host learns host's; host2 opens a hole
        // towards host's public address, then host sends to host2's public address.
        let m_host = one(&mut net, host(), s1()).unwrap().src;
        let m_host2 = one(&mut net, host2(), s1()).unwrap().src;
        let _ = one(&mut net, host2(), m_host);
        let got = one(&mut net, host(), m_host2);
        if hairpin {
            let d = got.unwrap();
            assert_eq!(d.dst, host2());
            assert_eq!(d.src, m_host, "the hairpinned source is the public mapping");
        } else {
            assert!(got.is_none());
        }
    }
}

/// Two hosts behind two NATs learn their mappings from a server, then both send to the
/// other's mapped address (ICE-style hole punching); a side that received something answers
/// the source it saw (a peer-reflexive address). Returns whether both directions got
/// through in the second round.
fn hole_punch(kind_a: NatKind, kind_b: NatKind) -> bool {
    let mut net = Network::new(12);
    net.add_nat(NatConfig::new(
        kind_a,
        "203.0.113.1".parse().unwrap(),
        ["10.1.0.0/16".parse::<Subnet>().unwrap()],
    ));
    net.add_nat(NatConfig::new(
        kind_b,
        "203.0.113.2".parse().unwrap(),
        ["10.2.0.0/16".parse::<Subnet>().unwrap()],
    ));
    let a = addr("10.1.0.5:4000");
    let b = addr("10.2.0.5:4000");
    let server = addr("198.51.100.9:3478");
    let ma = one(&mut net, a, server).unwrap().src;
    let mb = one(&mut net, b, server).unwrap().src;
    let seen_by_b = one(&mut net, a, mb).map(|d| d.src);
    let seen_by_a = one(&mut net, b, ma).map(|d| d.src);
    let ab = one(&mut net, a, seen_by_a.unwrap_or(mb)).is_some_and(|d| d.dst == b);
    let ba = one(&mut net, b, seen_by_b.unwrap_or(ma)).is_some_and(|d| d.dst == a);
    ab && ba
}

#[test]
fn hole_punching_matrix() {
    use NatKind::*;
    assert!(hole_punch(FullCone, FullCone));
    assert!(hole_punch(PortRestricted, PortRestricted));
    assert!(hole_punch(AddressRestricted, Symmetric));
    assert!(hole_punch(FullCone, Symmetric));
    assert!(!hole_punch(PortRestricted, Symmetric));
    assert!(!hole_punch(Symmetric, Symmetric));
}

#[test]
fn mapping_table_cap() {
    let mut net = Network::new(13);
    net.add_nat(
        NatConfig::new(
            NatKind::Symmetric,
            public_ip(),
            ["192.168.1.0/24".parse::<Subnet>().unwrap()],
        )
        .max_mappings(2),
    );
    assert!(one(&mut net, host(), s1()).is_some());
    assert!(one(&mut net, host(), s2()).is_some());
    assert!(one(&mut net, host(), s1_other_port()).is_none());
    assert_eq!(net.stats().dropped.nat, 1);
    // An existing flow still works.
    assert!(one(&mut net, host(), s1()).is_some());
}

#[test]
fn filter_cap_forgets_least_recently_used_remote() {
    let mut net = Network::new(14);
    net.add_nat(
        NatConfig::new(
            NatKind::PortRestricted,
            public_ip(),
            ["192.168.1.0/24".parse::<Subnet>().unwrap()],
        )
        .max_filters_per_mapping(2),
    );
    let m = one(&mut net, host(), s1()).unwrap().src;
    one(&mut net, host(), s2()).unwrap();
    one(&mut net, host(), s1_other_port()).unwrap(); // evicts s1
    assert!(one(&mut net, s1(), m).is_none());
    assert!(one(&mut net, s2(), m).is_some());
    assert!(one(&mut net, s1_other_port(), m).is_some());
}

#[test]
fn port_allocation_strategies() {
    let mk = |alloc| {
        let mut net = Network::new(15);
        net.add_nat(
            NatConfig::new(
                NatKind::Symmetric,
                public_ip(),
                ["192.168.1.0/24".parse::<Subnet>().unwrap()],
            )
            .port_allocation(alloc)
            .port_range(40000, 40999),
        );
        net
    };
    let mut net = mk(PortAllocation::Preserve);
    assert_eq!(one(&mut net, host(), s1()).unwrap().src.port(), 5000);
    // The preserved port is taken: the next flow falls back to the range.
    assert_eq!(one(&mut net, host(), s2()).unwrap().src.port(), 40000);

    let mut net = mk(PortAllocation::Sequential);
    let ports: Vec<u16> = [s1(), s2(), s1_other_port()]
        .into_iter()
        .map(|r| one(&mut net, host(), r).unwrap().src.port())
        .collect();
    assert_eq!(ports, vec![40000, 40001, 40002]);

    let random_ports = || {
        let mut net = mk(PortAllocation::Random);
        (0..20u16)
            .map(|i| {
                one(
                    &mut net,
                    host(),
                    addr(&format!("198.51.100.1:{}", 1000 + i)),
                )
                .unwrap()
                .src
                .port()
            })
            .collect::<Vec<u16>>()
    };
    let ports = random_ports();
    assert!(ports.iter().all(|p| (40000..=40999).contains(p)));
    let mut sorted = ports.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 20, "distinct");
    assert_ne!(ports, sorted, "not sequential");
    assert_eq!(ports, random_ports(), "deterministic");
}

#[test]
fn nat_drops_happen_at_arrival_time() {
    // The filter is evaluated when the datagram reaches the NAT, not when it was sent:
    // a reply in flight while the mapping expires is dropped.
    let mut net = Network::new(16);
    net.set_default_link(LinkConfig::default().latency(Duration::from_secs(3)));
    net.add_nat(
        NatConfig::new(
            NatKind::FullCone,
            public_ip(),
            ["192.168.1.0/24".parse::<Subnet>().unwrap()],
        )
        .mapping_timeout(Duration::from_secs(5)),
    );
    let m = one(&mut net, host(), s1()).unwrap().src; // mapping refreshed at t=0, now t=3
    net.send(Datagram::new(s1(), m, vec![1])); // would arrive at t=6 > 0+5
    assert!(drain(&mut net).is_empty());
    let s = net.stats();
    assert_eq!(s.dropped.nat, 1);
    assert!(s.is_conserved());
}

#[test]
fn trace_records_nat_drops() {
    let mut net = net_behind(NatKind::PortRestricted);
    net.enable_trace();
    let m = one(&mut net, host(), s1()).unwrap().src;
    let _ = one(&mut net, s2(), m);
    assert!(
        net.trace()
            .iter()
            .any(|e| e.kind == sansrtc_netsim::TraceKind::Dropped(DropCause::Nat) && e.src == s2())
    );
}

#[test]
fn filtering_uses_the_state_at_arrival_even_if_polled_late() {
    // s2's datagram arrives at t = 10 ms, before the host opens a hole towards s2 at
    // t = 50 ms; a test that advances past both and polls afterwards must still see it
    // dropped.
    let mut net = net_behind(NatKind::PortRestricted);
    let m = one(&mut net, host(), s1()).unwrap().src;
    net.send(Datagram::new(s2(), m, vec![1]));
    net.advance(Duration::from_millis(50));
    net.send(Datagram::new(host(), s2(), vec![2])); // permission for s2 from now on
    let got = drain(&mut net);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.dst, s2());
    assert_eq!(net.stats().dropped.nat, 1);
    // Now s2 gets in.
    assert!(one(&mut net, s2(), m).is_some());
}
