//! The RFC 8839 candidate grammar: lines as real stacks write them, round trips, negative
//! cases, and a proptest that Display -> FromStr is the identity and parsing never panics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use sansrtc_ice::{Address, Candidate, CandidateKind, Error, TcpType, TransportKind};
use std::net::IpAddr;

#[test]
fn real_world_lines() {
    // Chrome host with mDNS name (trickled `candidate` string form).
    let c: Candidate = "candidate:2330327405 1 udp 2113937151 6c3a4fb1-0f4b-4bd0-9e2c-3c0f1a5b7d21.local 54321 typ host generation 0 ufrag w9Zp network-cost 999"
        .parse()
        .unwrap();
    assert_eq!(c.kind, CandidateKind::Host);
    assert!(c.address.is_mdns());
    assert_eq!(c.socket_addr(), None);
    assert_eq!(
        (c.generation, c.ufrag.as_deref(), c.network_cost),
        (Some(0), Some("w9Zp"), Some(999))
    );
    // Chrome srflx with raddr/rport and network-id.
    let c: Candidate = "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag EsAw network-id 1 network-cost 10"
        .parse()
        .unwrap();
    assert_eq!(
        c.related,
        Some((Address::Ip("0.0.0.0".parse().unwrap()), 0))
    );
    assert_eq!(c.network_id, Some(1));
    // Firefox relay, IPv6 host, upper-case transport.
    let c: Candidate =
        "candidate:3 1 UDP 8331263 198.51.100.4 59001 typ relay raddr 198.51.100.4 rport 59001"
            .parse()
            .unwrap();
    assert_eq!(
        (c.kind, c.transport.clone()),
        (CandidateKind::Relayed, TransportKind::Udp)
    );
    let c: Candidate = "candidate:0 1 UDP 2122252543 2001:db8::1 50000 typ host"
        .parse()
        .unwrap();
    assert_eq!(c.address, Address::Ip("2001:db8::1".parse().unwrap()));
    // aioice writes the value without the "candidate:" prefix.
    let c: Candidate = "6815297761 1 udp 2130706431 127.0.0.1 42521 typ host"
        .parse()
        .unwrap();
    assert_eq!(c.foundation, "6815297761");
    // TCP (RFC 6544).
    let c: Candidate = "candidate:1 1 TCP 2128609279 10.0.1.1 9 typ host tcptype active"
        .parse()
        .unwrap();
    assert_eq!(
        (c.transport.clone(), c.tcp_type),
        (TransportKind::Tcp, Some(TcpType::Active))
    );
    // Unknown extensions are kept in order and written back.
    let line = "candidate:1 1 udp 100 10.0.0.1 5000 typ prflx x-b 2 x-a 1";
    let c: Candidate = line.parse().unwrap();
    assert_eq!(
        c.extensions,
        vec![("x-b".into(), "2".into()), ("x-a".into(), "1".into())]
    );
    assert_eq!(c.to_string(), line);
}

#[test]
fn display_is_canonical() {
    let c: Candidate = "candidate:1 1 UDP 100 10.0.0.1 5000 typ srflx raddr 10.0.0.2 rport 6 network-cost 5 generation 1"
        .parse()
        .unwrap();
    assert_eq!(
        c.to_string(),
        "candidate:1 1 udp 100 10.0.0.1 5000 typ srflx raddr 10.0.0.2 rport 6 generation 1 network-cost 5"
    );
}

#[test]
fn malformed_lines_are_errors() {
    let bad = [
        "",
        "candidate:",
        "candidate:1 1 udp 100 10.0.0.1 5000",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ bogus",
        "candidate:1 1 udp 100 10.0.0.1 5000 type host",
        "candidate:1 0 udp 100 10.0.0.1 5000 typ host",
        "candidate:1 257 udp 100 10.0.0.1 5000 typ host",
        "candidate:1 1 udp 4294967296 10.0.0.1 5000 typ host",
        "candidate:1 1 udp -1 10.0.0.1 5000 typ host",
        "candidate:1 1 udp 100 10.0.0.1 65536 typ host",
        "candidate:1 1 udp 100 bad|host 5000 typ host",
        "candidate:1 1 u%p 100 10.0.0.1 5000 typ host",
        "candidate:f:o 1 udp 100 10.0.0.1 5000 typ host",
        "candidate:123456789012345678901234567890123 1 udp 100 10.0.0.1 5000 typ host",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host raddr 1.2.3.4",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host rport 5",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host generation x",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host tcptype sideways",
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host dangling",
    ];
    for line in bad {
        assert!(line.parse::<Candidate>().is_err(), "accepted {line:?}");
    }
    let e = "candidate:1 1 udp 100 10.0.0.1 5000 typ bogus"
        .parse::<Candidate>()
        .unwrap_err();
    assert_eq!(e.to_string(), "invalid candidate cand-type: \"bogus\"");
    let long = format!(
        "candidate:1 1 udp 100 10.0.0.1 5000 typ host{}",
        " a b".repeat(40)
    );
    assert!(matches!(
        long.parse::<Candidate>(),
        Err(Error::TooLong { .. })
    ));
    let huge = "x".repeat(5000);
    assert!(matches!(
        huge.parse::<Candidate>(),
        Err(Error::TooLong { .. })
    ));
}

fn arb_candidate() -> impl Strategy<Value = Candidate> {
    let addr = prop_oneof![
        any::<[u8; 4]>().prop_map(|b| Address::Ip(IpAddr::from(b))),
        any::<[u8; 16]>().prop_map(|b| Address::Ip(IpAddr::from(b))),
        "[a-z0-9-]{1,20}\\.local".prop_map(Address::Fqdn),
    ];
    let kind = prop_oneof![
        Just(CandidateKind::Host),
        Just(CandidateKind::ServerReflexive),
        Just(CandidateKind::PeerReflexive),
        Just(CandidateKind::Relayed),
    ];
    (
        "[A-Za-z0-9+/]{1,32}",
        1u16..=256,
        any::<u32>(),
        addr.clone(),
        any::<u16>(),
        kind,
        proptest::option::of((addr, any::<u16>())),
        proptest::option::of(any::<u32>()),
        proptest::option::of("[A-Za-z0-9+/]{4,10}"),
        proptest::option::of(any::<u32>()),
        proptest::collection::vec(("x-[a-z]{1,8}", "[a-z0-9]{1,8}"), 0..4),
    )
        .prop_map(
            |(f, comp, prio, address, port, kind, related, generation, ufrag, cost, ext)| {
                Candidate {
                    foundation: f,
                    component: comp,
                    transport: TransportKind::Udp,
                    priority: prio,
                    address,
                    port,
                    kind,
                    related,
                    tcp_type: None,
                    generation,
                    ufrag,
                    network_id: None,
                    network_cost: cost,
                    extensions: ext,
                }
            },
        )
}

proptest! {
    #[test]
    fn display_parse_round_trip(c in arb_candidate()) {
        let s = c.to_string();
        let back: Candidate = s.parse().unwrap();
        prop_assert_eq!(back, c);
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,300}") {
        let _ = s.parse::<Candidate>();
    }

    #[test]
    fn parse_never_panics_on_near_miss(tail in "[ a-z0-9.:]{0,80}") {
        let _ = format!("candidate:1 1 udp 100 10.0.0.1 5000 typ host {tail}").parse::<Candidate>();
    }
}
