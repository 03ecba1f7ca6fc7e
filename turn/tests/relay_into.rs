//! `Server::handle_receive_into` (the allocation-free relay path) relays exactly what
//! `handle_receive` relays: same bytes, same addresses, same counters, in both directions,
//! for ChannelData and for Data indications; too-small buffers fall back to the queue.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use sansrtc_turn::auth::StaticUsers;
use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};
use sansrtc_turn::server::{Server, ServerConfig, Transmit, TransmitMeta, Transport};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const LISTEN: &str = "1.2.3.4:3478";
const ME: &str = "8.8.4.4:5000";
const PEER: &str = "9.9.9.9:7000";
const PEER2: &str = "9.9.9.10:7001";

fn server(now: Instant) -> Server {
    let users = StaticUsers::new().with_user("alice", "alice-pass");
    let mut cfg = ServerConfig::new("into.test", Arc::new(users), "1.2.3.4".parse().unwrap());
    cfg.listen_addrs = vec![sa(LISTEN)];
    cfg.relay_ports = 50000..=50009;
    cfg.seed = Some(11);
    Server::new(cfg, now).unwrap()
}

/// Runs the client and the server until quiet; returns the client's events.
fn pump(s: &mut Server, c: &mut Client, now: Instant) -> Vec<ClientEvent> {
    let mut events = Vec::new();
    for _ in 0..50 {
        let mut any = false;
        while let Some(t) = c.poll_transmit() {
            any = true;
            s.handle_receive(now, Transport::Udp, sa(LISTEN), sa(ME), &t.payload);
        }
        while let Some(t) = s.poll_transmit() {
            any = true;
            c.handle_receive(now, t.source, &t.payload);
        }
        events.extend(std::iter::from_fn(|| c.poll_event()));
        if !any {
            break;
        }
    }
    events
}

/// A server with an allocation for ME, a channel to PEER and a permission for PEER2
/// (no channel), plus the client's ChannelData for PEER and the relayed address.
fn setup(now: Instant) -> (Server, Vec<u8>, SocketAddr) {
    let mut s = server(now);
    let mut cfg = ClientConfig::new(sa(LISTEN), "alice", "alice-pass");
    cfg.seed = Some(5);
    let mut c = Client::new(cfg, now);
    c.allocate(now).unwrap();
    let ev = pump(&mut s, &mut c, now);
    assert!(
        matches!(ev.first(), Some(ClientEvent::Allocated { .. })),
        "{ev:?}"
    );
    c.bind_channel(now, sa(PEER)).unwrap();
    c.create_permission(now, sa(PEER2).ip()).unwrap();
    let ev = pump(&mut s, &mut c, now);
    assert!(
        ev.iter()
            .any(|e| matches!(e, ClientEvent::ChannelBound { .. })),
        "{ev:?}"
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e, ClientEvent::PermissionCreated { .. })),
        "{ev:?}"
    );
    c.send(now, sa(PEER), b"hello peer, over a channel")
        .unwrap();
    let cd = c.poll_transmit().unwrap().payload;
    assert_eq!(cd[0] & 0xC0, 0x40, "ChannelData");
    let relayed = c.relayed_addresses()[0];
    (s, cd, relayed)
}

fn as_meta(t: &Transmit) -> TransmitMeta {
    TransmitMeta {
        transport: t.transport,
        source: t.source,
        destination: t.destination,
        len: t.payload.len(),
    }
}

#[test]
fn into_and_queued_paths_relay_the_same_bytes() {
    let now = Instant::now();
    let (mut a, cd, relayed) = setup(now);
    let (mut b, cd_b, relayed_b) = setup(now);
    assert_eq!((&cd, relayed), (&cd_b, relayed_b), "same seeds, same setup");
    let mut out = vec![0u8; 2048];
    let cases: [(SocketAddr, SocketAddr, &[u8]); 3] = [
        // client -> peer (ChannelData unwrapped)
        (sa(LISTEN), sa(ME), &cd),
        // peer -> client over the channel (ChannelData)
        (relayed, sa(PEER), b"pong from the peer"),
        // peer with a permission but no channel -> Data indication (random txid)
        (relayed, sa(PEER2), b"from the second peer"),
    ];
    for (local, remote, data) in cases {
        a.handle_receive(now, Transport::Udp, local, remote, data);
        let queued = a.poll_transmit().expect("queued path relays");
        assert!(a.poll_transmit().is_none());
        let meta = b
            .handle_receive_into(now, Transport::Udp, local, remote, data, &mut out)
            .expect("into path relays");
        assert!(
            b.poll_transmit().is_none(),
            "nothing queued on the into path"
        );
        assert_eq!(meta, as_meta(&queued));
        assert_eq!(&out[..meta.len], &queued.payload[..]);
    }
    assert_eq!(a.stats(), b.stats());
    assert_eq!(a.stats().relayed_to_peer, 1);
    assert_eq!(a.stats().relayed_to_client, 2);
    // Client -> peer is the ChannelData payload itself.
    let meta = b
        .handle_receive_into(now, Transport::Udp, sa(LISTEN), sa(ME), &cd, &mut out)
        .unwrap();
    assert_eq!(&out[..meta.len], b"hello peer, over a channel");
    assert_eq!((meta.source, meta.destination), (relayed, sa(PEER)));
}

#[test]
fn too_small_buffers_fall_back_to_the_queue_and_nothing_is_relayed_without_permission() {
    let now = Instant::now();
    let (mut s, cd, relayed) = setup(now);
    let mut tiny = [0u8; 3];
    assert!(
        s.handle_receive_into(now, Transport::Udp, sa(LISTEN), sa(ME), &cd, &mut tiny)
            .is_none()
    );
    let t = s.poll_transmit().expect("queued instead");
    assert_eq!(t.payload, b"hello peer, over a channel");
    assert!(
        s.handle_receive_into(now, Transport::Udp, relayed, sa(PEER), b"pong", &mut tiny)
            .is_none()
    );
    let t = s.poll_transmit().expect("queued instead");
    assert_eq!(t.destination, sa(ME));
    assert_eq!(&t.payload[4..], b"pong");
    // A peer without permission, and ChannelData from another 5-tuple: nothing.
    let mut out = [0u8; 2048];
    let before = s.stats();
    assert!(
        s.handle_receive_into(
            now,
            Transport::Udp,
            relayed,
            sa("9.9.9.11:1"),
            b"x",
            &mut out
        )
        .is_none()
    );
    assert!(
        s.handle_receive_into(
            now,
            Transport::Udp,
            sa(LISTEN),
            sa("8.8.4.4:5001"),
            &cd,
            &mut out
        )
        .is_none()
    );
    assert!(s.poll_transmit().is_none());
    assert_eq!(
        s.stats().dropped_no_permission,
        before.dropped_no_permission + 2
    );
    // STUN through the into path still answers through the queue.
    let mut req = [0u8; 20];
    req[1] = 0x01; // Binding request
    req[4..8].copy_from_slice(&0x2112_A442u32.to_be_bytes());
    assert!(
        s.handle_receive_into(now, Transport::Udp, sa(LISTEN), sa(ME), &req, &mut out)
            .is_none()
    );
    assert_eq!(s.poll_transmit().map(|t| t.destination), Some(sa(ME)));
}
