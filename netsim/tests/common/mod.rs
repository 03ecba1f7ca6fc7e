//! Helpers shared by the integration tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code

use sansrtc_netsim::{Datagram, Network};
use std::net::SocketAddr;
use std::time::Duration;

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Steps the network to every delivery and returns (arrival time since start, datagram).
pub fn drain(net: &mut Network) -> Vec<(Duration, Datagram)> {
    let mut out = Vec::new();
    for _ in 0..10_000_000 {
        while let Some(d) = net.poll_recv() {
            out.push((net.elapsed(), d));
        }
        match net.next_delivery() {
            Some(t) => net.advance_to(t),
            None => return out,
        }
    }
    panic!("drain did not finish");
}

/// Sends `n` datagrams `gap` apart, each carrying its index (u32 big-endian) padded to
/// `size` bytes, and returns everything delivered.
pub fn send_stream(
    net: &mut Network,
    src: SocketAddr,
    dst: SocketAddr,
    n: u32,
    gap: Duration,
    size: usize,
) -> Vec<(Duration, Datagram)> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut payload = i.to_be_bytes().to_vec();
        payload.resize(size.max(4), 0);
        net.send(Datagram::new(src, dst, payload));
        let next = net.now() + gap;
        while net.next_delivery().is_some_and(|t| t <= next) {
            net.advance_to(net.next_delivery().unwrap());
            while let Some(d) = net.poll_recv() {
                out.push((net.elapsed(), d));
            }
        }
        net.advance_to(next);
    }
    out.extend(drain(net));
    out
}

pub fn index_of(d: &Datagram) -> u32 {
    u32::from_be_bytes(d.payload[..4].try_into().unwrap())
}
