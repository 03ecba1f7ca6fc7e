//! Two of our PeerConnections over `sansrtc-netsim` with a real TURN server in between (the
//! sans-IO `sansrtc_turn::server::Server`), one side with the relay-only ICE policy
//! (`Config::ice.relay_only`, W3C `iceTransportPolicy: "relay"`): its description carries
//! no host candidate, the selected pair's local address is its relayed address, and data
//! channel messages flow both ways through the relay. A wrong TURN password fails ICE
//! cleanly instead of hanging.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sansrtc::{ChannelOptions, Config, CryptoBackend, Event, IceState, PeerConnection};
use sansrtc_netsim::{Datagram, LinkConfig, Network};
use sansrtc_turn::auth::StaticUsers;
use sansrtc_turn::policy::PeerPolicy;
use sansrtc_turn::server::{Server, ServerConfig, Transport};

const TURN: &str = "10.0.0.100:3478";
const RELAY_PORTS: std::ops::RangeInclusive<u16> = 50000..=50100;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Which side is relay-only, and the password it uses.
#[derive(Clone, Copy, Debug)]
struct Case {
    offerer_relay_only: bool,
    answerer_relay_only: bool,
    password: &'static str,
    /// Send `local_description()` after `Event::GatheringComplete` instead of what
    /// `create_offer` / `create_answer` return.
    gathered: bool,
    /// Trickle: each side's `Event::LocalCandidate` goes to the other's
    /// `add_remote_candidate` as it comes.
    trickle: bool,
}

struct World {
    net: Network,
    turn: Server,
    pcs: [PeerConnection; 2],
    addrs: [SocketAddr; 2],
    events: [Vec<Event>; 2],
    offer: String,
    answer: String,
    trickle: bool,
    /// Events of each side already passed on to the other.
    forwarded: [usize; 2],
}

fn config(seed: u64, relay_only: bool, password: &str) -> Config {
    let mut c = Config {
        seed: Some(seed),
        dtls_crypto: CryptoBackend::InsecureDeterministic,
        ..Config::default()
    };
    c.ice.relay_only = relay_only;
    c.ice.turn_servers = vec![sansrtc_ice::TurnServer {
        server: sa(TURN),
        username: "alice".into(),
        password: password.into(),
    }];
    c
}

impl World {
    fn new(seed: u64, case: Case, link: LinkConfig) -> World {
        let mut net = Network::new(seed);
        net.set_default_link(link);
        let now = net.now();
        let users = StaticUsers::new().with_user("alice", "alice-pass");
        let mut tc = ServerConfig::new("sim", Arc::new(users), sa(TURN).ip());
        tc.listen_addrs = vec![sa(TURN)];
        tc.relay_ports = RELAY_PORTS;
        tc.seed = Some(seed);
        // The simulated peers live in 10.0.0.0/8, which a TURN server refuses by default.
        tc.policy = PeerPolicy::default().allow("10.0.0.0/8".parse().unwrap());
        let turn = Server::new(tc, now).unwrap();
        let addrs = [sa("10.0.0.1:5000"), sa("10.0.0.2:6000")];
        let mut a = PeerConnection::new(
            config(seed * 2 + 1, case.offerer_relay_only, case.password),
            now,
        )
        .unwrap();
        let mut b = PeerConnection::new(
            config(seed * 2 + 2, case.answerer_relay_only, case.password),
            now,
        )
        .unwrap();
        a.add_local_address(now, addrs[0]).unwrap();
        b.add_local_address(now, addrs[1]).unwrap();
        a.create_data_channel(now, "relay", ChannelOptions::default())
            .unwrap();
        let mut w = World {
            net,
            turn,
            pcs: [a, b],
            addrs,
            events: [Vec::new(), Vec::new()],
            offer: String::new(),
            answer: String::new(),
            trickle: case.trickle,
            forwarded: [0, 0],
        };
        let now = w.net.now();
        w.offer = w.pcs[0].create_offer(now).unwrap();
        if case.gathered {
            w.gather(0);
            w.offer = w.pcs[0].local_description().unwrap();
        }
        let now = w.net.now();
        w.answer = w.pcs[1].create_answer(now, &w.offer.clone()).unwrap();
        if case.gathered {
            w.gather(1);
            w.answer = w.pcs[1].local_description().unwrap();
        }
        let now = w.net.now();
        let answer = w.answer.clone();
        w.pcs[0].set_remote_answer(now, &answer).unwrap();
        w
    }

    fn gather(&mut self, i: usize) {
        let done = self.run_until(Duration::from_secs(10), |w| {
            w.events[i].contains(&Event::GatheringComplete)
        });
        assert!(done, "side {i} did not finish gathering");
    }

    fn step(&mut self) -> bool {
        let now = self.net.now();
        for i in 0..2 {
            while let Some(t) = self.pcs[i].poll_transmit() {
                assert_eq!(t.source, self.addrs[i]);
                self.net
                    .send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
            }
            while let Some(e) = self.pcs[i].poll_event() {
                self.events[i].push(e);
            }
        }
        // Signaling: trickled candidates, and the end of each side's gathering (what a
        // browser signals as a null candidate). Before the other side has a description
        // there is nothing to tell (a gathered description carries both).
        for i in 0..2 {
            let new: Vec<Event> = self.events[i][self.forwarded[i]..].to_vec();
            self.forwarded[i] = self.events[i].len();
            for e in new {
                match e {
                    Event::LocalCandidate { candidate, .. } if self.trickle => {
                        self.pcs[1 - i]
                            .add_remote_candidate(now, &candidate)
                            .unwrap();
                    }
                    Event::GatheringComplete => {
                        let _ = self.pcs[1 - i].end_of_remote_candidates(now);
                    }
                    _ => {}
                }
            }
        }
        while let Some(x) = self.turn.poll_transmit() {
            self.net
                .send(Datagram::new(x.source, x.destination, x.payload));
        }
        let mut delivered = false;
        while let Some(d) = self.net.poll_recv() {
            delivered = true;
            if d.dst.ip() == sa(TURN).ip() {
                self.turn
                    .handle_receive(now, Transport::Udp, d.dst, d.src, &d.payload);
            } else if let Some(i) = self.addrs.iter().position(|a| *a == d.dst) {
                self.pcs[i].handle_receive(now, d.dst, d.src, &d.payload);
            }
        }
        if delivered {
            return true;
        }
        let next = [
            self.pcs[0].poll_timeout(),
            self.pcs[1].poll_timeout(),
            self.turn.poll_timeout(),
            self.net.next_delivery(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(t) = next else { return false };
        if t > self.net.now() {
            self.net.advance_to(t);
        }
        let now = self.net.now();
        for pc in &mut self.pcs {
            if pc.poll_timeout().is_some_and(|x| x <= now) {
                pc.handle_timeout(now);
            }
        }
        if self.turn.poll_timeout().is_some_and(|x| x <= now) {
            self.turn.handle_timeout(now);
        }
        true
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let end = self.net.now() + limit;
        for _ in 0..2_000_000 {
            if done(self) {
                return true;
            }
            if self.net.now() > end || !self.step() {
                break;
            }
        }
        done(self)
    }

    fn selected(&self, i: usize) -> Option<(SocketAddr, SocketAddr)> {
        self.events[i].iter().rev().find_map(|e| match e {
            Event::SelectedPair { local, remote } => Some((*local, *remote)),
            _ => None,
        })
    }

    fn open(&self, i: usize) -> Option<u16> {
        self.events[i].iter().find_map(|e| match e {
            Event::ChannelOpen { id, label, .. } if label == "relay" => Some(*id),
            _ => None,
        })
    }

    fn received(&self, i: usize, chan: u16) -> Vec<Vec<u8>> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::Message { id, data, .. } if *id == chan => Some(data.to_vec()),
                _ => None,
            })
            .collect()
    }
}

fn is_relayed(addr: SocketAddr) -> bool {
    addr.ip() == sa(TURN).ip() && RELAY_PORTS.contains(&addr.port())
}

/// Connects, checks the selected pairs, and sends `count` messages each way (1 B to 16 KiB).
fn relayed_echo(seed: u64, case: Case, link: LinkConfig, count: usize) {
    let mut w = World::new(seed, case, link);
    let sides = [case.offerer_relay_only, case.answerer_relay_only];
    // A relay-only description names no host address of ours; a gathered one carries the
    // relayed candidate.
    for (relay_only, sdp, addr) in [
        (sides[0], &w.offer, w.addrs[0]),
        (sides[1], &w.answer, w.addrs[1]),
    ] {
        if relay_only {
            let host = format!(" {} ", addr.ip());
            assert!(!sdp.contains(&host), "{case:?}: {sdp}");
            assert!(!sdp.contains(" typ host"), "{case:?}: {sdp}");
            assert_eq!(sdp.contains(" typ relay"), case.gathered, "{case:?}: {sdp}");
        }
        // With a TURN server, gathering outlives create_offer/create_answer: only a gathered
        // description says end-of-candidates, and every description offers trickle.
        assert_eq!(
            sdp.contains("a=end-of-candidates"),
            case.gathered,
            "{case:?}: {sdp}"
        );
        assert!(sdp.contains("a=ice-options:trickle"), "{sdp}");
        if relay_only {}
    }
    let ok = w.run_until(Duration::from_secs(30), |w| {
        w.open(0).is_some() && w.open(1).is_some()
    });
    assert!(
        ok,
        "{case:?} seed {seed}: not open: {:?} / {:?}",
        w.events[0], w.events[1]
    );
    for (i, relay_only) in sides.into_iter().enumerate() {
        let (local, remote) = w.selected(i).unwrap();
        let (peer_local, peer_remote) = w.selected(1 - i).unwrap();
        // Each side's view of the path agrees with the other's.
        assert_eq!((local, remote), (peer_remote, peer_local), "{case:?}");
        if relay_only {
            assert!(is_relayed(local), "{case:?}: side {i} selected {local}");
        } else {
            assert_eq!(local, w.addrs[i], "{case:?}: side {i} selected {local}");
        }
    }
    let (ca, cb) = (w.open(0).unwrap(), w.open(1).unwrap());
    let now = w.net.now();
    let msg = |i: usize, from: u8| -> Vec<u8> {
        let len = [1, 100, 1200, 5000, 16 * 1024][i % 5];
        (0..len).map(|j| (i * 7 + j) as u8 ^ from).collect()
    };
    for i in 0..count {
        w.pcs[0].send(now, ca, &msg(i, 0xa0)).unwrap();
        w.pcs[1].send(now, cb, &msg(i, 0xb0)).unwrap();
    }
    let ok = w.run_until(Duration::from_secs(30), |w| {
        w.received(1, cb).len() == count && w.received(0, ca).len() == count
    });
    assert!(ok, "{case:?} seed {seed}: messages did not all arrive");
    let want_b: Vec<Vec<u8>> = (0..count).map(|i| msg(i, 0xa0)).collect();
    let want_a: Vec<Vec<u8>> = (0..count).map(|i| msg(i, 0xb0)).collect();
    assert_eq!(w.received(1, cb), want_b, "{case:?}");
    assert_eq!(w.received(0, ca), want_a, "{case:?}");
    assert!(w.turn.allocation_count() >= 1, "{case:?}");
}

#[test]
fn offerer_relay_only_answerer_host() {
    let case = Case {
        offerer_relay_only: true,
        answerer_relay_only: false,
        password: "alice-pass",
        gathered: false,
        trickle: false,
    };
    for seed in 0..3 {
        relayed_echo(
            seed,
            case,
            LinkConfig::default().latency(Duration::from_millis(20)),
            50,
        );
    }
}

#[test]
fn answerer_relay_only_offerer_host() {
    let case = Case {
        offerer_relay_only: false,
        answerer_relay_only: true,
        password: "alice-pass",
        gathered: false,
        trickle: false,
    };
    for seed in 0..3 {
        relayed_echo(
            seed,
            case,
            LinkConfig::default().latency(Duration::from_millis(20)),
            50,
        );
    }
}

#[test]
fn relay_only_over_a_lossy_link() {
    let case = Case {
        offerer_relay_only: true,
        answerer_relay_only: false,
        password: "alice-pass",
        gathered: false,
        trickle: false,
    };
    for seed in 0..3 {
        relayed_echo(
            seed,
            case,
            LinkConfig::default()
                .latency(Duration::from_millis(20))
                .jitter(Duration::from_millis(5))
                .loss(0.05),
            50,
        );
    }
}

/// A wrong TURN password: the allocation is refused (401 twice), the relay-only side has no
/// candidate at all, and its ICE fails (not a hang) once gathering is over.
#[test]
fn wrong_turn_password_fails_cleanly() {
    let case = Case {
        offerer_relay_only: true,
        answerer_relay_only: false,
        password: "not-the-password",
        gathered: false,
        trickle: false,
    };
    let mut w = World::new(
        1,
        case,
        LinkConfig::default().latency(Duration::from_millis(20)),
    );
    let failed = w.run_until(Duration::from_secs(30), |w| {
        w.events[0].contains(&Event::IceStateChanged(IceState::Failed))
    });
    assert!(failed, "{:?}", w.events[0]);
    assert!(w.selected(0).is_none());
    assert_eq!(w.turn.allocation_count(), 0);
    assert!(w.net.now() - w.net.start() < Duration::from_secs(5));
}

/// Both sides relay-only: only possible when each signals its relayed candidate, so each
/// waits for `GatheringComplete` and sends `local_description()` (non-trickle, as browsers
/// do). The selected pair is relayed at both ends.
#[test]
fn both_relay_only_with_gathered_descriptions() {
    let case = Case {
        offerer_relay_only: true,
        answerer_relay_only: true,
        password: "alice-pass",
        gathered: true,
        trickle: false,
    };
    for seed in 0..3 {
        relayed_echo(
            seed,
            case,
            LinkConfig::default().latency(Duration::from_millis(20)),
            50,
        );
    }
}

/// Both sides relay-only with trickle ICE: the descriptions go out at once without any
/// candidate, and each relayed candidate follows as `Event::LocalCandidate`, passed to the
/// other side's `add_remote_candidate` (as a browser application does). Relayed at both ends.
#[test]
fn both_relay_only_with_trickled_candidates() {
    let case = Case {
        offerer_relay_only: true,
        answerer_relay_only: true,
        password: "alice-pass",
        gathered: false,
        trickle: true,
    };
    for seed in 0..3 {
        relayed_echo(
            seed,
            case,
            LinkConfig::default().latency(Duration::from_millis(20)),
            50,
        );
    }
}
