//! The two-PeerConnection harness the netsim tests share: `a` at 10.0.0.1:5000 and `b` at
//! 10.0.0.2:6000 on one `sansrtc-netsim` network, `a` offering and `b` answering, driven on the
//! virtual clock.

// Each test file uses a different part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sansrtc::{Config, Event, PeerConnection};
use sansrtc_netsim::{Datagram, LinkConfig, Network};

/// Two connections on one network, with every event each one raised so far.
pub struct Pair {
    pub net: Network,
    pub a: PeerConnection,
    pub b: PeerConnection,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
}

impl Pair {
    /// Creates both connections from `a_cfg` and `b_cfg` on a network seeded with `seed`
    /// whose links are `link`; `setup` runs on `a` before the offer (transceivers, channels).
    /// `a` offers, `b` answers, `tamper` edits the answer on its way to `a`. Returns the
    /// pair, the offer and the answer as `a` applied it.
    pub fn negotiated(
        seed: u64,
        link: LinkConfig,
        a_cfg: Config,
        b_cfg: Config,
        setup: impl FnOnce(&mut PeerConnection),
        tamper: impl FnOnce(String) -> String,
    ) -> (Pair, String, String) {
        let mut net = Network::new(seed);
        net.set_default_link(link);
        let now = net.now();
        let a_addr: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let b_addr: SocketAddr = "10.0.0.2:6000".parse().unwrap();
        let mut a = PeerConnection::new(a_cfg, now).unwrap();
        let mut b = PeerConnection::new(b_cfg, now).unwrap();
        a.add_local_address(now, a_addr).unwrap();
        b.add_local_address(now, b_addr).unwrap();
        setup(&mut a);
        let offer = a.create_offer(now).unwrap();
        let answer = tamper(b.create_answer(now, &offer).unwrap());
        a.set_remote_answer(now, &answer).unwrap();
        let pair = Pair {
            net,
            a,
            b,
            a_addr,
            b_addr,
            a_events: Vec::new(),
            b_events: Vec::new(),
        };
        (pair, offer, answer)
    }

    /// Sends what both connections want to send (from their own address, checked) and
    /// collects their events.
    pub fn flush(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            assert_eq!(t.source, self.a_addr);
            self.net
                .send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
        }
        while let Some(t) = self.b.poll_transmit() {
            assert_eq!(t.source, self.b_addr);
            self.net
                .send(Datagram::new(t.source, t.destination, t.payload.to_vec()));
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    /// Flushes, then delivers the datagrams due now; true if there were any.
    fn deliver(&mut self) -> bool {
        self.flush();
        let now = self.net.now();
        let mut delivered = false;
        while let Some(d) = self.net.poll_recv() {
            delivered = true;
            if d.dst == self.a_addr {
                self.a.handle_receive(now, d.dst, d.src, &d.payload);
            } else if d.dst == self.b_addr {
                self.b.handle_receive(now, d.dst, d.src, &d.payload);
            }
        }
        delivered
    }

    /// Advances the clock to the next deadline (capped at `cap`; with no deadline, to `cap`)
    /// and fires the timers due; `on_a_timeout(now, a)` is told each time a's fires. False
    /// when there is no deadline and no cap.
    fn advance(
        &mut self,
        cap: Option<Instant>,
        on_a_timeout: &mut impl FnMut(Instant, &PeerConnection),
    ) -> bool {
        let next = [
            self.a.poll_timeout(),
            self.b.poll_timeout(),
            self.net.next_delivery(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = (match (next, cap) {
            (Some(n), Some(c)) => Some(n.min(c)),
            (n, c) => n.or(c),
        }) else {
            return false;
        };
        if next > self.net.now() {
            self.net.advance_to(next);
        }
        let now = self.net.now();
        if self.a.poll_timeout().is_some_and(|x| x <= now) {
            self.a.handle_timeout(now);
            on_a_timeout(now, &self.a);
        }
        if self.b.poll_timeout().is_some_and(|x| x <= now) {
            self.b.handle_timeout(now);
        }
        true
    }

    /// One step: deliver what is due, else advance to the next deadline. False when nothing
    /// is left to do.
    pub fn step(&mut self) -> bool {
        self.deliver() || self.advance(None, &mut |_, _| {})
    }

    /// Runs until the virtual clock reaches `until`; `on_a_timeout(now, a)` is told each
    /// time a's timer fires (the instant it fires, on the virtual clock).
    pub fn run_to(
        &mut self,
        until: Instant,
        mut on_a_timeout: impl FnMut(Instant, &PeerConnection),
    ) {
        for _ in 0..10_000_000 {
            if self.deliver() {
                continue;
            }
            self.advance(Some(until), &mut on_a_timeout);
            if self.net.now() >= until {
                self.flush();
                return;
            }
        }
        panic!("run_to did not reach its time");
    }

    /// Runs until `done` holds, failing the test (with both event logs) after `limit` of
    /// virtual time or when nothing is left to do.
    pub fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Pair) -> bool) {
        let start = self.net.now();
        for _ in 0..2_000_000 {
            if done(self) {
                return;
            }
            if self.net.now() - start > limit || !self.step() {
                break;
            }
        }
        assert!(
            done(self),
            "not done after {:?} (seed {}): a {:?} / b {:?}",
            self.net.now() - start,
            self.net.seed(),
            self.a_events,
            self.b_events
        );
    }

    /// Runs in 10 ms slices until both sides have SRTP keys (within 30 s of virtual time).
    pub fn connect_srtp(&mut self) {
        let deadline = self.net.now() + Duration::from_secs(30);
        while self.net.now() < deadline {
            let t = self.net.now() + Duration::from_millis(10);
            self.run_to(t, |_, _| {});
            if self.a.is_srtp_connected() && self.b.is_srtp_connected() {
                return;
            }
        }
        panic!(
            "SRTP not up (seed {}): {:?} / {:?}",
            self.net.seed(),
            self.a_events,
            self.b_events
        );
    }
}
