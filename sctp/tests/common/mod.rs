//! In-memory pair harness: two associations, a virtual clock, an optional packet filter.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sansrtc_sctp::{Association, Config, Event};

pub type Filter = Box<dyn FnMut(usize, &[u8]) -> Option<Vec<u8>>>;

pub struct Pair {
    pub a: Association,
    pub b: Association,
    pub now: Instant,
    pub latency: Duration,
    /// (deliver at, to index, bytes)
    pub wire: VecDeque<(Instant, usize, Bytes)>,
    pub events: [Vec<Event>; 2],
    pub filter: Option<Filter>,
    pub packets: [u64; 2],
}

pub fn cfg(seed: u64) -> Config {
    Config {
        seed: Some(seed),
        ..Config::default()
    }
}

impl Pair {
    pub fn new(ca: Config, cb: Config) -> Self {
        let now = Instant::now();
        Pair {
            a: Association::new(ca, now),
            b: Association::new(cb, now),
            now,
            latency: Duration::from_millis(5),
            wire: VecDeque::new(),
            events: [Vec::new(), Vec::new()],
            filter: None,
            packets: [0, 0],
        }
    }

    pub fn connected(seed: u64) -> Self {
        let mut p = Pair::new(cfg(seed), cfg(seed + 1000));
        p.a.connect(p.now).unwrap();
        p.drive_until(|p| p.a.is_established() && p.b.is_established(), 1000);
        p.events = [Vec::new(), Vec::new()];
        p
    }

    pub fn side(&mut self, i: usize) -> &mut Association {
        if i == 0 { &mut self.a } else { &mut self.b }
    }

    /// Drains transmits and events once; returns whether anything moved.
    pub fn flush(&mut self) -> bool {
        let mut moved = false;
        for i in 0..2 {
            while let Some(t) = self.side(i).poll_transmit() {
                moved = true;
                self.packets[i] += 1;
                let bytes = match &mut self.filter {
                    Some(f) => match f(i, &t.payload) {
                        Some(b) => Bytes::from(b),
                        None => continue,
                    },
                    None => t.payload,
                };
                let at = self.now + self.latency;
                self.wire.push_back((at, 1 - i, bytes));
            }
            while let Some(e) = self.side(i).poll_event() {
                moved = true;
                self.events[i].push(e);
            }
        }
        moved
    }

    /// One step: flush, deliver what is due, else advance time to the next deadline.
    pub fn step(&mut self) -> bool {
        self.flush();
        let now = self.now;
        let mut delivered = false;
        while self.wire.front().is_some_and(|w| w.0 <= now) {
            let (_, to, b) = self.wire.pop_front().unwrap();
            self.side(to).handle_receive(now, &b);
            delivered = true;
        }
        if delivered {
            return true;
        }
        let mut next = self.wire.front().map(|w| w.0);
        for t in [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
        {
            next = Some(next.map_or(t, |n: Instant| n.min(t)));
        }
        let Some(next) = next else { return false };
        if next > self.now {
            self.now = next;
        }
        let now = self.now;
        if self.a.poll_timeout().is_some_and(|t| t <= now) {
            self.a.handle_timeout(now);
        }
        if self.b.poll_timeout().is_some_and(|t| t <= now) {
            self.b.handle_timeout(now);
        }
        true
    }

    pub fn drive_until(&mut self, mut done: impl FnMut(&mut Pair) -> bool, max_steps: usize) {
        for _ in 0..max_steps {
            self.flush();
            if done(self) {
                return;
            }
            if !self.step() {
                break;
            }
        }
        self.flush();
        assert!(
            done(self),
            "condition not reached: a={:?} b={:?}",
            self.a,
            self.b
        );
    }

    pub fn messages(&self, i: usize) -> Vec<(u16, u32, Bytes)> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                Event::Message {
                    stream, ppid, data, ..
                } => Some((*stream, *ppid, data.clone())),
                _ => None,
            })
            .collect()
    }
}
