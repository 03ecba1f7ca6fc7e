//! TURN client and server cores over the deterministic network simulator: clients behind
//! symmetric NATs, lossy links, permission expiry.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sansrtc_netsim::{Datagram, LinkConfig, NatConfig, NatKind, Network};
use sansrtc_turn::auth::StaticUsers;
use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};
use sansrtc_turn::policy::PeerPolicy;
use sansrtc_turn::server::{Server, ServerConfig, Transport};

const SERVER_IP: &str = "1.2.3.4";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Peer {
    addr: SocketAddr,
    echo: bool,
    received: Vec<(SocketAddr, Vec<u8>)>,
}

struct World {
    net: Network,
    server: Server,
    server_addr: SocketAddr,
    clients: Vec<(SocketAddr, Client, Vec<ClientEvent>, bool)>,
    peers: Vec<Peer>,
}

impl World {
    fn new(seed: u64, tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        let net = Network::new(seed);
        let server_addr = SocketAddr::new(SERVER_IP.parse().unwrap(), 3478);
        let users = StaticUsers::new()
            .with_user("alice", "alice-pass")
            .with_user("bob", "bob-pass");
        let mut cfg = ServerConfig::new("sim.test", Arc::new(users), server_addr.ip());
        cfg.listen_addrs = vec![server_addr];
        cfg.relay_ports = 50000..=50100;
        cfg.seed = Some(seed);
        // Relaying between two allocations of this server is the test's point.
        cfg.policy = PeerPolicy::default().allow(SERVER_IP.parse().unwrap());
        tweak(&mut cfg);
        let server = Server::new(cfg, net.now()).unwrap();
        World {
            net,
            server,
            server_addr,
            clients: Vec::new(),
            peers: Vec::new(),
        }
    }

    fn add_client(&mut self, local: &str, user: &str, pass: &str, seed: u64) -> usize {
        let mut cfg = ClientConfig::new(self.server_addr, user, pass);
        cfg.seed = Some(seed);
        let c = Client::new(cfg, self.net.now());
        self.clients.push((sa(local), c, Vec::new(), true));
        self.clients.len() - 1
    }

    fn add_peer(&mut self, addr: &str, echo: bool) -> usize {
        self.peers.push(Peer {
            addr: sa(addr),
            echo,
            received: Vec::new(),
        });
        self.peers.len() - 1
    }

    fn flush(&mut self) {
        let now = self.net.now();
        loop {
            let mut any = false;
            while let Some(t) = self.server.poll_transmit() {
                any = true;
                self.net
                    .send(Datagram::new(t.source, t.destination, t.payload));
            }
            for (local, c, events, _) in &mut self.clients {
                while let Some(t) = c.poll_transmit() {
                    any = true;
                    self.net
                        .send(Datagram::new(*local, t.destination, t.payload));
                }
                while let Some(e) = c.poll_event() {
                    events.push(e);
                }
            }
            while let Some(d) = self.net.poll_recv() {
                any = true;
                if d.dst == self.server_addr || d.dst.ip() == self.server_addr.ip() {
                    self.server
                        .handle_receive(now, Transport::Udp, d.dst, d.src, &d.payload);
                } else if let Some((_, c, _, _)) =
                    self.clients.iter_mut().find(|(l, ..)| *l == d.dst)
                {
                    c.handle_receive(now, d.src, &d.payload);
                } else if let Some(p) = self.peers.iter_mut().find(|p| p.addr == d.dst) {
                    if p.echo {
                        self.net
                            .send(Datagram::new(p.addr, d.src, d.payload.clone()));
                    }
                    p.received.push((d.src, d.payload));
                }
            }
            if !any {
                break;
            }
        }
    }

    /// Runs until `until` (virtual), stepping to the earliest timer or delivery.
    fn run_for(&mut self, d: Duration) {
        let end = self.net.now() + d;
        for _ in 0..1_000_000 {
            self.flush();
            let mut next = end;
            let mut consider = |t: Option<Instant>| {
                if let Some(t) = t {
                    next = next.min(t);
                }
            };
            consider(self.server.poll_timeout());
            consider(self.net.next_delivery());
            for (_, c, _, live) in &self.clients {
                if *live {
                    consider(c.poll_timeout());
                }
            }
            let next = next.max(self.net.now());
            self.net.advance_to(next);
            let now = self.net.now();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
            }
            for (_, c, _, live) in &mut self.clients {
                if *live && c.poll_timeout().is_some_and(|t| t <= now) {
                    c.handle_timeout(now);
                }
            }
            if now >= end {
                self.flush();
                return;
            }
        }
        panic!("step bound exceeded (seed {})", self.net.seed());
    }

    fn client(&mut self, i: usize) -> &mut Client {
        &mut self.clients[i].1
    }

    fn events(&self, i: usize) -> &[ClientEvent] {
        &self.clients[i].2
    }
}

#[test]
fn two_clients_behind_symmetric_nats_talk_only_through_the_relay() {
    for seed in [1u64, 2, 3] {
        let mut w = World::new(seed, |_| {});
        w.net
            .set_default_link(LinkConfig::default().latency(Duration::from_millis(20)));
        w.net.add_nat(NatConfig::new(
            NatKind::Symmetric,
            "5.6.7.8".parse().unwrap(),
            ["10.0.0.0/24".parse::<sansrtc_netsim::Subnet>().unwrap()],
        ));
        w.net.add_nat(NatConfig::new(
            NatKind::Symmetric,
            "9.9.9.9".parse().unwrap(),
            ["10.1.0.0/24".parse::<sansrtc_netsim::Subnet>().unwrap()],
        ));
        let a = w.add_client("10.0.0.2:4000", "alice", "alice-pass", seed);
        let b = w.add_client("10.1.0.2:4000", "bob", "bob-pass", seed + 100);
        let now = w.net.now();
        w.client(a).allocate(now).unwrap();
        w.client(b).allocate(now).unwrap();
        w.run_for(Duration::from_secs(2));
        let ra = w.clients[a].1.relayed_addresses().to_vec();
        let rb = w.clients[b].1.relayed_addresses().to_vec();
        assert_eq!(ra.len(), 1, "seed {seed}: {:?}", w.events(a));
        assert_eq!(rb.len(), 1, "seed {seed}: {:?}", w.events(b));
        // The server saw each client at its NAT's public address.
        let ma = w.clients[a].1.mapped_address().unwrap();
        assert_eq!(ma.ip(), "5.6.7.8".parse::<IpAddr>().unwrap());
        let now = w.net.now();
        w.client(a).bind_channel(now, rb[0]).unwrap();
        w.client(b).bind_channel(now, ra[0]).unwrap();
        w.run_for(Duration::from_secs(2));
        assert!(
            w.events(a)
                .iter()
                .any(|e| matches!(e, ClientEvent::ChannelBound { .. }))
        );
        let now = w.net.now();
        for i in 0..20u8 {
            w.client(a).send(now, rb[0], &[b'a', i]).unwrap();
            w.client(b).send(now, ra[0], &[b'b', i]).unwrap();
        }
        w.run_for(Duration::from_secs(2));
        let got_b: Vec<_> = w
            .events(b)
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Data { peer, data } => Some((*peer, data.clone())),
                _ => None,
            })
            .collect();
        let got_a: Vec<_> = w
            .events(a)
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Data { peer, data } => Some((*peer, data.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(got_b.len(), 20, "seed {seed}");
        assert_eq!(got_a.len(), 20, "seed {seed}");
        assert!(got_b.iter().all(|(p, d)| *p == ra[0] && d[0] == b'a'));
        assert!(got_a.iter().all(|(p, d)| *p == rb[0] && d[0] == b'b'));
        // A direct packet from A's inside address to B's NAT mapping is filtered: the
        // symmetric NAT only lets the server in.
        let mb = w.clients[b].1.mapped_address().unwrap();
        w.net
            .send(Datagram::new(sa("10.0.0.2:4000"), mb, b"direct".to_vec()));
        w.run_for(Duration::from_secs(1));
        let got_direct = w
            .events(b)
            .iter()
            .any(|e| matches!(e, ClientEvent::Data { data, .. } if data.as_slice() == b"direct"));
        assert!(!got_direct, "seed {seed}");
        let s = w.server.stats();
        assert_eq!(s.relayed_to_peer, 40);
        assert_eq!(s.relayed_to_client, 40);
    }
}

#[test]
fn allocation_refresh_survives_loss() {
    for seed in [11u64, 12, 13, 14] {
        let mut w = World::new(seed, |c| {
            c.default_lifetime = Duration::from_secs(60);
            c.max_lifetime = Duration::from_secs(60);
        });
        w.net.set_default_link(
            LinkConfig::default()
                .latency(Duration::from_millis(30))
                .jitter(Duration::from_millis(10))
                .loss(0.25)
                .duplicate(0.05),
        );
        let a = w.add_client("8.8.4.4:5000", "alice", "alice-pass", seed);
        let p = w.add_peer("8.8.8.8:7000", true);
        let now = w.net.now();
        w.client(a).allocate(now).unwrap();
        w.run_for(Duration::from_secs(40));
        let relayed = w.clients[a].1.relayed_addresses().to_vec();
        assert_eq!(relayed.len(), 1, "seed {seed}: {:?}", w.events(a));
        // 10 minutes: ten lifetimes of 60 s; each refresh must get through 25% loss.
        w.run_for(Duration::from_secs(600));
        let refreshed = w
            .events(a)
            .iter()
            .filter(|e| matches!(e, ClientEvent::Refreshed { .. }))
            .count();
        assert!(refreshed >= 10, "seed {seed}: {refreshed} refreshes");
        assert!(
            !w.events(a)
                .iter()
                .any(|e| matches!(e, ClientEvent::AllocationLost)),
            "seed {seed}: {:?}",
            w.events(a)
        );
        assert_eq!(w.server.allocation_count(), 1, "seed {seed}");
        assert!(
            w.clients[a].1.stats().retransmissions > 0,
            "loss was exercised"
        );
        // and the allocation still relays
        let now = w.net.now();
        let peer = w.peers[p].addr;
        w.client(a).create_permission(now, peer.ip()).unwrap();
        w.run_for(Duration::from_secs(20));
        let now = w.net.now();
        for i in 0..50u8 {
            w.client(a).send(now, peer, &[i]).unwrap();
        }
        w.run_for(Duration::from_secs(2));
        assert!(!w.peers[p].received.is_empty(), "seed {seed}");
        assert!(
            w.peers[p]
                .received
                .iter()
                .all(|(src, _)| *src == relayed[0])
        );
    }
}

#[test]
fn permission_expiry_stops_relaying() {
    let mut w = World::new(21, |_| {});
    let a = w.add_client("8.8.4.4:5000", "alice", "alice-pass", 21);
    let p = w.add_peer("8.8.8.8:7000", false);
    let now = w.net.now();
    w.client(a).allocate(now).unwrap();
    w.run_for(Duration::from_secs(1));
    let relay = w.clients[a].1.relayed_addresses()[0];
    let peer = w.peers[p].addr;
    let now = w.net.now();
    w.client(a).create_permission(now, peer.ip()).unwrap();
    w.run_for(Duration::from_secs(1));
    assert!(
        w.events(a)
            .contains(&ClientEvent::PermissionCreated { peer: peer.ip() })
    );
    // peer -> client works while the permission lives
    w.net.send(Datagram::new(peer, relay, b"one".to_vec()));
    w.run_for(Duration::from_secs(1));
    let data = |w: &World| {
        w.events(a)
            .iter()
            .filter(|e| matches!(e, ClientEvent::Data { .. }))
            .count()
    };
    assert_eq!(data(&w), 1);
    // The client stops refreshing (its timers no longer run); the allocation itself lives
    // 600 s, the permission 300 s.
    w.clients[a].3 = false;
    w.run_for(Duration::from_secs(295));
    w.net.send(Datagram::new(peer, relay, b"two".to_vec()));
    w.run_for(Duration::from_millis(500));
    assert_eq!(data(&w), 2, "still permitted just before 300 s");
    w.run_for(Duration::from_secs(5));
    let dropped_before = w.server.stats().dropped_no_permission;
    w.net.send(Datagram::new(peer, relay, b"three".to_vec()));
    w.run_for(Duration::from_secs(1));
    assert_eq!(data(&w), 2, "relayed after the permission expired");
    assert_eq!(w.server.stats().dropped_no_permission, dropped_before + 1);
    assert_eq!(w.server.allocation_count(), 1, "allocation still alive");
    // and the client -> peer direction is refused too
    let now = w.net.now();
    w.client(a).send(now, peer, b"out").unwrap();
    w.run_for(Duration::from_secs(1));
    assert!(w.peers[p].received.is_empty());
    // After 600 s without refresh the allocation is gone.
    w.run_for(Duration::from_secs(300));
    assert_eq!(w.server.allocation_count(), 0);
}

#[test]
fn keepalives_hold_permissions_and_channels_for_an_hour() {
    let mut w = World::new(31, |_| {});
    w.net.set_default_link(LinkConfig::default().loss(0.1));
    let a = w.add_client("8.8.4.4:5000", "alice", "alice-pass", 31);
    let p = w.add_peer("8.8.8.8:7000", true);
    let q = w.add_peer("8.8.8.9:7000", true);
    let now = w.net.now();
    w.client(a).allocate(now).unwrap();
    w.run_for(Duration::from_secs(30));
    let now = w.net.now();
    let (pa, qa) = (w.peers[p].addr, w.peers[q].addr);
    w.client(a).create_permission(now, qa.ip()).unwrap();
    let ch = w.client(a).bind_channel(now, pa).unwrap();
    w.run_for(Duration::from_secs(3600));
    assert!(w.clients[a].1.is_allocated());
    assert_eq!(w.clients[a].1.channel_of(pa), Some(ch));
    let now = w.net.now();
    for i in 0..20u8 {
        w.client(a).send(now, pa, &[i]).unwrap();
        w.client(a).send(now, qa, &[i]).unwrap();
    }
    w.run_for(Duration::from_secs(2));
    let echoed = w
        .events(a)
        .iter()
        .filter(|e| matches!(e, ClientEvent::Data { .. }))
        .count();
    // 10% loss each way, 40 round trips: expect most back, all impossible to lose.
    assert!(echoed >= 20, "{echoed}");
    assert!(
        !w.events(a).iter().any(|e| matches!(
            e,
            ClientEvent::PermissionFailed { .. } | ClientEvent::ChannelBindFailed { .. }
        )),
        "{:?}",
        w.events(a)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Over any seeded link with up to 30 % loss, duplication, reordering and jitter, the
    /// allocation and channel binding complete (retransmissions), and whatever data comes
    /// back is exactly what was sent, from the right peer, through the relay.
    #[test]
    fn allocation_and_relay_over_impaired_links(
        seed in 0u64..1_000_000,
        loss in 0.0f64..0.3,
        dup in 0.0f64..0.1,
        reorder in 0.0f64..0.2,
        latency_ms in 1u64..150,
        jitter_ms in 0u64..30,
    ) {
        let mut w = World::new(seed, |_| {});
        w.net.set_default_link(
            LinkConfig::default()
                .latency(Duration::from_millis(latency_ms))
                .jitter(Duration::from_millis(jitter_ms))
                .loss(loss)
                .duplicate(dup)
                .reorder(reorder),
        );
        let a = w.add_client("8.8.4.4:5000", "alice", "alice-pass", seed);
        let p = w.add_peer("8.8.8.8:7000", true);
        // A transaction can legitimately time out (all 7 transmissions lost); the client
        // reports it, and the application retries. Three attempts make failure unlikely
        // enough that a failure here means a bug, not bad luck.
        for attempt in 0..3u64 {
            if attempt > 0 {
                let mut cfg = ClientConfig::new(w.server_addr, "alice", "alice-pass");
                cfg.seed = Some(seed + attempt);
                w.clients[a].1 = Client::new(cfg, w.net.now());
                // The server may hold the allocation whose response was lost: a retry from
                // the same 5-tuple would get 437 (RFC 8656 section 7.2), so use a new port.
                w.clients[a].0 = SocketAddr::new(w.clients[a].0.ip(), 5000 + attempt as u16);
            }
            let now = w.net.now();
            w.client(a).allocate(now).unwrap();
            // 401 then the authenticated request: two transactions of up to 39.5 s each.
            w.run_for(Duration::from_secs(90));
            if w.clients[a].1.is_allocated() {
                break;
            }
            proptest::prop_assert!(
                w.events(a).contains(&ClientEvent::AllocationFailed { code: None }),
                "seed {}: {:?}", seed, w.events(a)
            );
        }
        proptest::prop_assert!(w.clients[a].1.is_allocated(), "seed {seed}: {:?}", w.events(a));
        let relay = w.clients[a].1.relayed_addresses()[0];
        let peer = w.peers[p].addr;
        let mut ch = 0;
        for _ in 0..3 {
            let now = w.net.now();
            ch = w.client(a).bind_channel(now, peer).unwrap();
            w.run_for(Duration::from_secs(40));
            if w.clients[a].1.channel_of(peer).is_some() {
                break;
            }
            let timed_out = ClientEvent::ChannelBindFailed { peer, code: None };
            proptest::prop_assert!(w.events(a).contains(&timed_out), "seed {}", seed);
        }
        proptest::prop_assert_eq!(w.clients[a].1.channel_of(peer), Some(ch), "seed {}", seed);
        let now = w.net.now();
        for i in 0..30u8 {
            w.client(a).send(now, peer, &[i; 3]).unwrap();
        }
        w.run_for(Duration::from_secs(5));
        for (src, data) in &w.peers[p].received {
            proptest::prop_assert_eq!(*src, relay);
            proptest::prop_assert!(data.len() == 3 && data[0] < 30 && data.iter().all(|b| *b == data[0]));
        }
        for e in w.events(a) {
            if let ClientEvent::Data { peer: from, data } = e {
                proptest::prop_assert_eq!(*from, peer);
                proptest::prop_assert!(data.len() == 3 && data[0] < 30);
            }
        }
        if loss < 0.05 {
            proptest::prop_assert!(!w.peers[p].received.is_empty(), "seed {}", seed);
        }
    }
}
