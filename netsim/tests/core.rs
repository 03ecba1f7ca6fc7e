//! The core API other crates drive: send, next_delivery, advance_to, poll_recv.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code: failing loudly is the point

use sansrtc_netsim::{Datagram, LinkConfig, Network};
use std::net::SocketAddr;
use std::time::Duration;

fn a() -> SocketAddr {
    "10.0.0.1:1000".parse().unwrap()
}
fn b() -> SocketAddr {
    "10.0.0.2:2000".parse().unwrap()
}

#[test]
fn default_link_delivers_after_10ms() {
    let mut net = Network::new(1);
    assert_eq!(net.seed(), 1);
    let t0 = net.now();
    net.send(Datagram::new(a(), b(), b"hi".to_vec()));
    assert_eq!(net.next_delivery(), Some(t0 + Duration::from_millis(10)));
    assert_eq!(net.poll_recv(), None, "not before the latency");
    net.advance_to(t0 + Duration::from_millis(9));
    assert_eq!(net.poll_recv(), None);
    net.advance_to(net.next_delivery().unwrap());
    let d = net.poll_recv().unwrap();
    assert_eq!(d, Datagram::new(a(), b(), b"hi".to_vec()));
    assert_eq!(net.poll_recv(), None);
    assert_eq!(net.next_delivery(), None);
    let s = net.stats();
    assert_eq!((s.sent, s.delivered, s.in_flight), (1, 1, 0));
    assert!(s.is_conserved());
}

#[test]
fn clock_never_moves_backwards() {
    let mut net = Network::new(1);
    let t0 = net.now();
    net.advance_to(t0 + Duration::from_secs(5));
    net.advance_to(t0 + Duration::from_secs(1));
    assert_eq!(net.now(), t0 + Duration::from_secs(5));
    assert_eq!(net.elapsed(), Duration::from_secs(5));
    net.advance(Duration::from_secs(1));
    assert_eq!(net.now(), t0 + Duration::from_secs(6));
}

#[test]
fn every_network_starts_at_the_same_instant() {
    let n1 = Network::new(1);
    let n2 = Network::new(2);
    assert_eq!(n1.now(), n2.now());
}

#[test]
fn per_pair_link_overrides_default_in_both_directions() {
    let mut net = Network::new(3);
    let t0 = net.now();
    net.set_default_link(LinkConfig::default().latency(Duration::from_millis(50)));
    net.set_link(
        a().ip(),
        b().ip(),
        LinkConfig::default().latency(Duration::from_millis(5)),
    );
    net.send(Datagram::new(b(), a(), vec![1]));
    assert_eq!(net.next_delivery(), Some(t0 + Duration::from_millis(5)));
    let c: SocketAddr = "10.0.0.3:3".parse().unwrap();
    net.send(Datagram::new(a(), c, vec![2]));
    net.advance_to(t0 + Duration::from_millis(49));
    assert_eq!(net.poll_recv().unwrap().payload, vec![1]);
    assert_eq!(net.poll_recv(), None);
    net.advance_to(t0 + Duration::from_millis(50));
    assert_eq!(net.poll_recv().unwrap().payload, vec![2]);
}

#[test]
fn deliveries_come_in_arrival_order_then_send_order() {
    let mut net = Network::new(4);
    let t0 = net.now();
    for i in 0..10u8 {
        net.send(Datagram::new(a(), b(), vec![i]));
    }
    net.advance_to(t0 + Duration::from_secs(1));
    let got: Vec<u8> = std::iter::from_fn(|| net.poll_recv())
        .map(|d| d.payload[0])
        .collect();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

#[test]
fn later_sends_enter_at_the_current_time() {
    let mut net = Network::new(5);
    let t0 = net.now();
    net.advance_to(t0 + Duration::from_millis(100));
    net.send(Datagram::new(a(), b(), vec![]));
    assert_eq!(net.next_delivery(), Some(t0 + Duration::from_millis(110)));
}
