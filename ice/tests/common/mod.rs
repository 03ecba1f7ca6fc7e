//! A two-agent world over netsim: NATs, a STUN server, an optional TURN server, and an
//! instant signaling channel that trickles candidates and end-of-candidates.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)] // test helpers

use sansrtc_ice::{Agent, Config, Event, IceState, Received, Role, TurnServer};
use sansrtc_netsim::{Datagram, LinkConfig, NatConfig, NatKind, Network};
use sansrtc_stun::server::{BindingServer, ServerConfig as StunConfig};
use sansrtc_turn::auth::StaticUsers;
use sansrtc_turn::policy::PeerPolicy;
use sansrtc_turn::server::{Server as TurnSrv, ServerConfig as TurnConfig, Transport};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const STUN: &str = "1.1.1.1:3478";
pub const TURN: &str = "1.2.3.4:3478";

pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub struct Side {
    pub agent: Agent,
    pub host: SocketAddr,
    pub events: Vec<(Instant, Event)>,
    pub app: Vec<Vec<u8>>,
    signaled: usize,
}

impl Side {
    pub fn state_at(&self, s: IceState) -> Option<Instant> {
        self.events
            .iter()
            .find(|(_, e)| *e == Event::StateChanged(s))
            .map(|(t, _)| *t)
    }
    pub fn selected(&self) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::SelectedPair { .. }))
            .map(|(_, e)| e)
            .collect()
    }
}

#[derive(Clone)]
pub struct Opts {
    pub nat_a: Option<NatKind>,
    pub nat_b: Option<NatKind>,
    pub turn: bool,
    pub link: LinkConfig,
    pub a: Config,
    pub b: Config,
    /// Signal candidates at all (false: only credentials, peers learn prflx).
    pub signal: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            nat_a: None,
            nat_b: None,
            turn: false,
            link: LinkConfig::default().latency(Duration::from_millis(25)),
            a: Config::new(Role::Controlling),
            b: Config::new(Role::Controlled),
            signal: true,
        }
    }
}

pub struct World {
    pub net: Network,
    pub a: Side,
    pub b: Side,
    stun: BindingServer,
    turn: Option<TurnSrv>,
    pub signal: bool,
    pub start: Instant,
}

impl World {
    pub fn new(seed: u64, mut o: Opts) -> World {
        let mut net = Network::new(seed);
        net.set_default_link(o.link.clone());
        let host_a = if let Some(k) = o.nat_a {
            net.add_nat(NatConfig::new(
                k,
                "203.0.113.1".parse().unwrap(),
                ["192.168.1.10".parse::<std::net::IpAddr>().unwrap()],
            ));
            sa("192.168.1.10:5000")
        } else {
            sa("203.0.113.10:5000")
        };
        let host_b = if let Some(k) = o.nat_b {
            net.add_nat(NatConfig::new(
                k,
                "198.51.100.1".parse().unwrap(),
                ["192.168.2.20".parse::<std::net::IpAddr>().unwrap()],
            ));
            sa("192.168.2.20:6000")
        } else {
            sa("198.51.100.20:6000")
        };
        let turn = if o.turn {
            let users = StaticUsers::new()
                .with_user("a", "a-pass")
                .with_user("b", "b-pass");
            let mut cfg = TurnConfig::new("sim", Arc::new(users), sa(TURN).ip());
            cfg.listen_addrs = vec![sa(TURN)];
            cfg.relay_ports = 50000..=50100;
            cfg.seed = Some(seed);
            cfg.policy = PeerPolicy::default().allow("0.0.0.0/0".parse().unwrap());
            o.a.turn_servers = vec![TurnServer {
                server: sa(TURN),
                username: "a".into(),
                password: "a-pass".into(),
            }];
            o.b.turn_servers = vec![TurnServer {
                server: sa(TURN),
                username: "b".into(),
                password: "b-pass".into(),
            }];
            Some(TurnSrv::new(cfg, net.now()).unwrap())
        } else {
            None
        };
        for c in [&mut o.a, &mut o.b] {
            if c.stun_servers.is_empty() {
                c.stun_servers = vec![sa(STUN)];
            }
        }
        o.a.seed.get_or_insert(seed.wrapping_mul(2) + 1);
        o.b.seed.get_or_insert(seed.wrapping_mul(2) + 2);
        let now = net.now();
        let mut a = Agent::new(o.a, now);
        let mut b = Agent::new(o.b, now);
        a.set_remote_credentials(now, b.local_credentials().clone())
            .unwrap();
        b.set_remote_credentials(now, a.local_credentials().clone())
            .unwrap();
        a.add_host_address(now, host_a).unwrap();
        b.add_host_address(now, host_b).unwrap();
        World {
            net,
            a: Side {
                agent: a,
                host: host_a,
                events: Vec::new(),
                app: Vec::new(),
                signaled: 0,
            },
            b: Side {
                agent: b,
                host: host_b,
                events: Vec::new(),
                app: Vec::new(),
                signaled: 0,
            },
            stun: BindingServer::new(StunConfig::default()),
            turn,
            signal: o.signal,
            start: now,
        }
    }

    fn drain(side: &mut Side, net: &mut Network) -> bool {
        let mut any = false;
        while let Some(t) = side.agent.poll_transmit() {
            any = true;
            net.send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
        }
        let now = net.now();
        while let Some(e) = side.agent.poll_event() {
            any = true;
            side.events.push((now, e));
        }
        any
    }

    /// Trickles new LocalCandidate / GatheringComplete events to the other side at once.
    pub fn exchange(&mut self) {
        let now = self.net.now();
        for (from, to) in [(0, 1), (1, 0)] {
            let (src, dst) = if from == 0 {
                (&mut self.a, &mut self.b)
            } else {
                (&mut self.b, &mut self.a)
            };
            while src.signaled < src.events.len() {
                let (_, e) = &src.events[src.signaled];
                src.signaled += 1;
                let _ = to;
                match e {
                    Event::LocalCandidate(c) if self.signal => {
                        let _ = dst.agent.add_remote_candidate(now, c.clone());
                    }
                    Event::GatheringComplete if self.signal => {
                        dst.agent.end_of_remote_candidates(now);
                    }
                    _ => {}
                }
            }
        }
    }

    pub fn flush(&mut self) {
        for _ in 0..10_000 {
            let now = self.net.now();
            let mut any = Self::drain(&mut self.a, &mut self.net);
            any |= Self::drain(&mut self.b, &mut self.net);
            if let Some(t) = self.turn.as_mut() {
                while let Some(x) = t.poll_transmit() {
                    any = true;
                    self.net
                        .send(Datagram::new(x.source, x.destination, x.payload));
                }
            }
            self.exchange();
            while let Some(d) = self.net.poll_recv() {
                any = true;
                if d.dst == sa(STUN) {
                    let mut out = [0u8; 512];
                    if let Some(n) = self.stun.handle(&d.payload, d.src, &mut out) {
                        self.net
                            .send(Datagram::new(d.dst, d.src, out[..n].to_vec()));
                    }
                } else if d.dst.ip() == sa(TURN).ip() {
                    if let Some(t) = self.turn.as_mut() {
                        t.handle_receive(now, Transport::Udp, d.dst, d.src, &d.payload);
                    }
                } else {
                    for side in [&mut self.a, &mut self.b] {
                        if side.host == d.dst
                            && side.agent.handle_receive(now, d.src, d.dst, &d.payload)
                                == Received::Other
                        {
                            side.app.push(d.payload.clone());
                        }
                    }
                }
            }
            if !any {
                return;
            }
        }
        panic!("flush did not settle (seed {})", self.net.seed());
    }

    /// One step: flush, then advance to the next timer or delivery and fire due timers.
    pub fn step(&mut self) -> bool {
        self.flush();
        let next = [
            self.a.agent.poll_timeout(),
            self.b.agent.poll_timeout(),
            self.turn.as_ref().and_then(TurnSrv::poll_timeout),
            self.net.next_delivery(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { return false };
        self.net.advance_to(next.max(self.net.now()));
        let now = self.net.now();
        for side in [&mut self.a, &mut self.b] {
            if side.agent.poll_timeout().is_some_and(|t| t <= now) {
                side.agent.handle_timeout(now);
            }
        }
        if let Some(t) = self.turn.as_mut() {
            if t.poll_timeout().is_some_and(|x| x <= now) {
                t.handle_timeout(now);
            }
        }
        self.flush();
        true
    }

    /// Steps until `done` holds or `limit` of virtual time passed; returns whether it held.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let end = self.net.now() + limit;
        for _ in 0..1_000_000 {
            if done(self) {
                return true;
            }
            if self.net.now() >= end || !self.step() {
                return done(self);
            }
        }
        panic!("step bound hit (seed {})", self.net.seed());
    }

    pub fn both_connected(&self) -> bool {
        self.a.agent.state() == IceState::Connected && self.b.agent.state() == IceState::Connected
    }
}
