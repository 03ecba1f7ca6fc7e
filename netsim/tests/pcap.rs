//! The pcap writer, checked byte by byte against the libpcap savefile format
//! (pcap-savefile(5)), RFC 791 (IPv4), RFC 8200 (IPv6) and RFC 768 (UDP).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code: failing loudly is the point

mod common;
use common::*;
use sansrtc_netsim::pcap::{LINKTYPE_RAW, TTL_DELIVERED, TTL_SENT};
use sansrtc_netsim::{Datagram, Network};
use std::time::Duration;

fn u16be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}
fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Internet checksum over `data` with an initial sum.
fn ones_sum(data: &[u8], mut acc: u32) -> u16 {
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        acc += u32::from(w);
    }
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

#[test]
fn global_header_bytes() {
    let net = Network::new(1);
    let bytes = net.pcap_bytes();
    assert_eq!(
        bytes,
        vec![
            0xd4, 0xc3, 0xb2, 0xa1, // magic, little-endian, microseconds
            0x02, 0x00, 0x04, 0x00, // version 2.4
            0, 0, 0, 0, // thiszone
            0, 0, 0, 0, // sigfigs
            0xff, 0xff, 0x00, 0x00, // snaplen 65535
            101, 0, 0, 0, // LINKTYPE_RAW
        ]
    );
    assert_eq!(LINKTYPE_RAW, 101);
}

#[test]
fn ipv4_records_sent_and_delivered() {
    let mut net = Network::new(2);
    net.enable_capture();
    let (a, b) = (addr("10.0.0.1:1234"), addr("10.0.0.2:5678"));
    net.advance(Duration::from_micros(1_500_250));
    net.send(Datagram::new(a, b, b"hello".to_vec()));
    let got = drain(&mut net);
    assert_eq!(got.len(), 1);
    assert_eq!(net.captured().len(), 2);
    assert!(!net.capture_truncated());

    let f = net.pcap_bytes();
    let rec_len = 16 + 20 + 8 + 5;
    assert_eq!(f.len(), 24 + 2 * rec_len);

    // Record 1: when sent, t = 1.500250 s.
    let r = &f[24..];
    assert_eq!(u32le(r, 0), 1, "ts_sec");
    assert_eq!(u32le(r, 4), 500_250, "ts_usec");
    assert_eq!(u32le(r, 8), 33, "incl_len");
    assert_eq!(u32le(r, 12), 33, "orig_len");
    let ip = &r[16..16 + 20];
    assert_eq!(ip[0], 0x45, "version 4, IHL 5");
    assert_eq!(ip[1], 0, "TOS");
    assert_eq!(u16be(ip, 2), 33, "total length");
    assert_eq!(u16be(ip, 4), 0, "identification = record index");
    assert_eq!(u16be(ip, 6), 0x4000, "DF, offset 0");
    assert_eq!(ip[8], TTL_SENT);
    assert_eq!(ip[9], 17, "UDP");
    assert_eq!(&ip[12..16], &[10, 0, 0, 1]);
    assert_eq!(&ip[16..20], &[10, 0, 0, 2]);
    assert_eq!(ones_sum(ip, 0), 0, "header checksum verifies");
    let udp = &r[36..36 + 13];
    assert_eq!(u16be(udp, 0), 1234);
    assert_eq!(u16be(udp, 2), 5678);
    assert_eq!(u16be(udp, 4), 13);
    assert_ne!(u16be(udp, 6), 0, "checksum present");
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&ip[12..20]);
    pseudo.extend_from_slice(&[0, 17, 0, 13]);
    pseudo.extend_from_slice(udp);
    assert_eq!(ones_sum(&pseudo, 0), 0, "UDP checksum verifies");
    assert_eq!(&udp[8..], b"hello");

    // Record 2: when delivered, 10 ms later, TTL 63.
    let r = &f[24 + rec_len..];
    assert_eq!(u32le(r, 0), 1);
    assert_eq!(u32le(r, 4), 510_250);
    assert_eq!(r[16 + 8], TTL_DELIVERED);
    assert_eq!(u16be(&r[16..], 4), 1, "identification");
    assert_eq!(ones_sum(&r[16..36], 0), 0);
}

#[test]
fn ipv6_record() {
    let mut net = Network::new(3);
    net.enable_capture();
    let (a, b) = (addr("[2001:db8::1]:1"), addr("[2001:db8::2]:2"));
    net.send(Datagram::new(a, b, vec![0xAB; 3]));
    let f = net.pcap_bytes();
    let r = &f[24..];
    assert_eq!(u32le(r, 8), 40 + 8 + 3);
    let ip = &r[16..56];
    assert_eq!(ip[0] >> 4, 6);
    assert_eq!(u16be(ip, 4), 11, "payload length");
    assert_eq!(ip[6], 17, "next header UDP");
    assert_eq!(ip[7], TTL_SENT, "hop limit");
    assert_eq!(
        &ip[8..24],
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
    );
    assert_eq!(
        &ip[24..40],
        &"2001:db8::2"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets()
    );
    let udp = &r[56..67];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&ip[8..40]);
    pseudo.extend_from_slice(&[0, 0, 0, 11, 0, 0, 0, 17]);
    pseudo.extend_from_slice(udp);
    assert_eq!(ones_sum(&pseudo, 0), 0, "UDP checksum verifies");
}

#[test]
fn nat_translation_is_visible_in_the_capture() {
    use sansrtc_netsim::{NatConfig, NatKind, Subnet};
    let mut net = Network::new(4);
    net.enable_capture();
    net.add_nat(NatConfig::new(
        NatKind::FullCone,
        "203.0.113.1".parse().unwrap(),
        ["192.168.0.0/16".parse::<Subnet>().unwrap()],
    ));
    let (h, s) = (addr("192.168.0.2:5000"), addr("198.51.100.1:3478"));
    net.send(Datagram::new(h, s, vec![1]));
    drain(&mut net);
    let c = net.captured();
    assert_eq!(c[0].src, h, "as sent");
    assert_eq!(
        c[1].src.ip(),
        "203.0.113.1".parse::<std::net::IpAddr>().unwrap(),
        "as received"
    );
}

#[test]
fn write_pcap_writes_the_same_bytes() {
    let mut net = Network::new(5);
    net.enable_capture();
    net.send(Datagram::new(
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        vec![7; 100],
    ));
    drain(&mut net);
    let path = std::env::temp_dir().join(format!("sansrtc-netsim-{}.pcap", std::process::id()));
    net.write_pcap(&path).unwrap();
    let on_disk = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(on_disk, net.pcap_bytes());
}

#[test]
fn capture_is_capped() {
    let mut net = Network::new(6);
    net.set_limits(sansrtc_netsim::Limits {
        max_capture_records: 3,
        ..Default::default()
    });
    net.enable_capture();
    for _ in 0..5 {
        net.send(Datagram::new(
            addr("10.0.0.1:1"),
            addr("10.0.0.2:2"),
            vec![1],
        ));
    }
    assert_eq!(net.captured().len(), 3);
    assert!(net.capture_truncated());
}

#[test]
fn oversized_payload_is_cut_to_snaplen() {
    let mut net = Network::new(7);
    net.enable_capture();
    net.send(Datagram::new(
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        vec![0; 70_000],
    ));
    let f = net.pcap_bytes();
    let r = &f[24..];
    assert_eq!(u32le(r, 8), 65535, "incl_len");
    assert_eq!(u32le(r, 12), 70_028, "orig_len");
    assert_eq!(f.len(), 24 + 16 + 65535);
    assert_eq!(ones_sum(&r[16..36], 0), 0);
}

#[test]
fn records_are_written_in_time_order() {
    let mut net = Network::new(8);
    net.enable_capture();
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    net.send(Datagram::new(a, b, vec![1])); // arrives at 10 ms
    net.advance(Duration::from_millis(30));
    net.send(Datagram::new(a, b, vec![2])); // sent at 30 ms, before the first is polled
    assert!(net.poll_recv().is_some());
    let times: Vec<Duration> = net.captured().iter().map(|r| r.at).collect();
    assert_eq!(
        times,
        [0, 30, 10].map(Duration::from_millis).to_vec(),
        "event order"
    );
    let f = net.pcap_bytes();
    let mut at = 24;
    let mut usecs = Vec::new();
    while at < f.len() {
        usecs.push(u32le(&f, at + 4));
        at += 16 + u32le(&f, at + 8) as usize;
    }
    assert_eq!(usecs, vec![0, 10_000, 30_000]);
}
