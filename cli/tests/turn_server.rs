//! `sansrtc turn-server` through real sockets on loopback: the UDP engine (epoll,
//! recvmmsg/sendmmsg, allocation-free relay) and the TCP path, driven by the sansrtc-turn
//! client core against a UDP echo peer in the test. Bursts make the engine batch; every
//! datagram must come back exact and in full, and shutdown reports the counters.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};
use sansrtc_turn::server::Transport;
use sansrtc_turn::wire;

mod common;
use common::Server;

/// `sansrtc turn-server` on 127.0.0.1:0 with user u:p, loopback peers allowed, relay ports
/// PORTS, and UDP GSO off when `no_gso`.
fn start(ports: &str, no_gso: bool) -> Server {
    let env: &[(&str, &str)] = if no_gso {
        &[("SANSRTC_NO_GSO", "1")]
    } else {
        &[]
    };
    Server::spawn(
        &[
            "turn-server",
            "--listen",
            "127.0.0.1:0",
            "--realm",
            "t",
            "--user",
            "u:p",
            "--allow-peer",
            "127.0.0.0/8",
            "--relay-ports",
            ports,
        ],
        env,
    )
}

/// A client transport: UDP datagrams or a TCP stream with RFC 8656 section 12.5 framing.
enum Link {
    Udp(UdpSocket),
    Tcp(TcpStream, Vec<u8>),
}

impl Link {
    fn send(&mut self, to: SocketAddr, b: &[u8]) {
        match self {
            Link::Udp(s) => {
                s.send_to(b, to).unwrap();
            }
            Link::Tcp(s, _) => s.write_all(b).unwrap(),
        }
    }

    /// One datagram or frame, if one arrives within the socket's read timeout.
    fn recv(&mut self) -> Option<Vec<u8>> {
        match self {
            Link::Udp(s) => {
                let mut buf = [0u8; 2048];
                s.recv_from(&mut buf).ok().map(|(n, _)| buf[..n].to_vec())
            }
            Link::Tcp(s, acc) => loop {
                if let Ok(Some(len)) = wire::stream_frame_len(acc)
                    && len <= acc.len()
                {
                    return Some(acc.drain(..len).collect());
                }
                let mut buf = [0u8; 4096];
                match s.read(&mut buf) {
                    Ok(n) if n > 0 => acc.extend_from_slice(&buf[..n]),
                    _ => return None,
                }
            },
        }
    }
}

/// Runs the client until `done` says so (or 10 s), feeding it what arrives.
fn drive(
    c: &mut Client,
    link: &mut Link,
    server: SocketAddr,
    mut done: impl FnMut(&mut Client, ClientEvent) -> bool,
) {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < end, "timed out");
        while let Some(t) = c.poll_transmit() {
            link.send(t.destination, &t.payload);
        }
        while let Some(e) = c.poll_event() {
            if done(c, e) {
                return;
            }
        }
        if let Some(b) = link.recv() {
            c.handle_receive(Instant::now(), server, &b);
        }
        let now = Instant::now();
        if c.poll_timeout().is_some_and(|t| t <= now) {
            c.handle_timeout(now);
        }
    }
}

/// Allocates over `link`, binds a channel to `peer` and gives `other` a permission only
/// (Send/Data indications); then relays `rounds` bursts of `burst` datagrams each way.
fn exercise(server: SocketAddr, mut link: Link, transport: Transport, seed: u64) {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let other = UdpSocket::bind("127.0.0.2:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let (peer_addr, other_addr) = (peer.local_addr().unwrap(), other.local_addr().unwrap());
    let mut cfg = ClientConfig::new(server, "u", "p");
    cfg.transport = transport;
    cfg.seed = Some(seed);
    let mut c = Client::new(cfg, Instant::now());
    c.allocate(Instant::now()).unwrap();
    let (mut bound, mut permitted) = (false, false);
    drive(&mut c, &mut link, server, |c, e| {
        match e {
            ClientEvent::Allocated { .. } => {
                c.bind_channel(Instant::now(), peer_addr).unwrap();
                c.create_permission(Instant::now(), other_addr.ip())
                    .unwrap();
            }
            ClientEvent::ChannelBound { .. } => bound = true,
            ClientEvent::PermissionCreated { .. } => permitted = true,
            e => panic!("unexpected {e:?}"),
        }
        bound && permitted
    });
    let relayed = c.relayed_addresses()[0];
    let mut buf = [0u8; 2048];
    let (rounds, burst) = (4, 64);
    for round in 0..rounds {
        // A burst client -> peer over the channel, all at once so the server batches.
        for i in 0..burst {
            let msg = format!("{transport:?} round {round} datagram {i:03}");
            c.send(Instant::now(), peer_addr, msg.as_bytes()).unwrap();
            let t = c.poll_transmit().unwrap();
            link.send(t.destination, &t.payload);
        }
        let mut got = Vec::new();
        for _ in 0..burst {
            let (n, from) = peer
                .recv_from(&mut buf)
                .expect("peer receives every datagram");
            assert_eq!(from, relayed, "from the relayed address");
            got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        got.sort();
        let want: Vec<String> = (0..burst)
            .map(|i| format!("{transport:?} round {round} datagram {i:03}"))
            .collect();
        assert_eq!(got, want);
        // The peer echoes them all back at once; the client gets ChannelData.
        for m in &want {
            peer.send_to(m.as_bytes(), relayed).unwrap();
        }
        let mut back = Vec::new();
        while back.len() < burst {
            let b = link.recv().expect("client receives every datagram");
            // Late STUN responses (client retransmissions) may still be in flight.
            if b[0] & 0xC0 == 0x40 && transport.is_stream() {
                assert_eq!(b.len() % 4, 0, "padded on streams");
            }
            c.handle_receive(Instant::now(), server, &b);
            while let Some(e) = c.poll_event() {
                if let ClientEvent::Data { peer: p, data } = e {
                    assert_eq!(p, peer_addr);
                    back.push(String::from_utf8(data).unwrap());
                }
            }
        }
        back.sort();
        assert_eq!(back, want);
    }
    // Without a channel: Send indication out, Data indication back.
    c.send(Instant::now(), other_addr, b"indication out")
        .unwrap();
    let t = c.poll_transmit().unwrap();
    link.send(t.destination, &t.payload);
    let (n, from) = other.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"indication out"[..], relayed));
    other.send_to(b"indication back", relayed).unwrap();
    let mut data = None;
    while data.is_none() {
        let b = link.recv().expect("Data indication");
        c.handle_receive(Instant::now(), server, &b);
        while let Some(e) = c.poll_event() {
            if let ClientEvent::Data { peer, data: d } = e {
                data = Some((peer, d));
            }
        }
    }
    assert_eq!(data, Some((other_addr, b"indication back".to_vec())));
}

#[test]
fn udp_and_tcp_relay_bursts_exactly() {
    let mut s = start("61700-61799", false);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    exercise(s.addr, Link::Udp(udp), Transport::Udp, 1);
    let tcp = TcpStream::connect(s.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    exercise(s.addr, Link::Tcp(tcp, Vec::new()), Transport::Tcp, 2);
    let lines = s.interrupt();
    let last = lines
        .iter()
        .find(|l| l.contains("shutting down"))
        .unwrap_or_else(|| panic!("no shutdown line: {lines:?}"));
    // 2 transports x 4 rounds x 64, plus one indication each way per transport.
    assert!(last.contains("2 created"), "{last}");
    assert!(
        last.contains("relayed 514 to peers, 514 to clients"),
        "{last}"
    );
    assert!(last.contains(" 0 send errors"), "{last}");
}

/// The same UDP bursts with GSO off: every datagram leaves through `sendmmsg`.
#[test]
fn udp_bursts_without_gso() {
    let mut s = start("61800-61899", true);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    exercise(s.addr, Link::Udp(udp), Transport::Udp, 3);
    let lines = s.interrupt();
    let last = lines
        .iter()
        .find(|l| l.contains("shutting down"))
        .unwrap_or_else(|| panic!("no shutdown line: {lines:?}"));
    assert!(
        last.contains("relayed 257 to peers, 257 to clients"),
        "{last}"
    );
    assert!(last.contains(" 0 send errors"), "{last}");
}
