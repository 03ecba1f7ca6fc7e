//! A generic `Pair`-style driver (after quinn-proto's test `Pair` and str0m's `progress()`):
//! steps any number of sans-IO endpoints over a [`Network`] to the earliest timeout, with a
//! step bound.

use crate::{Datagram, Error, Network};
use std::net::SocketAddr;
use std::time::Instant;

/// What the [`Driver`] needs from an endpoint. Tests wrap their state machine (STUN
/// transaction, DTLS, SCTP association, ICE agent...) in a small adapter implementing this.
pub trait Endpoint {
    /// Whether datagrams addressed to `dst` belong to this endpoint.
    fn accepts(&self, dst: SocketAddr) -> bool;
    /// Feeds one received datagram (`handle_receive`).
    fn handle_receive(&mut self, now: Instant, datagram: Datagram);
    /// The next datagram to send, if any (`poll_transmit`).
    fn poll_transmit(&mut self, now: Instant) -> Option<Datagram>;
    /// When the endpoint next wants [`handle_timeout`](Self::handle_timeout).
    fn poll_timeout(&self) -> Option<Instant>;
    /// Fires the endpoint's timers (`handle_timeout`).
    fn handle_timeout(&mut self, now: Instant);
    /// Whatever "finished" means for this test (a transaction completed, a handshake
    /// done...), for [`Driver::run_until`] predicates. Default: never.
    fn is_done(&self) -> bool {
        false
    }
}

/// Why [`Driver::run_until`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The `done` predicate held.
    Done,
    /// Nothing in flight and no endpoint has a timer: nothing will ever happen again.
    Idle,
}

/// Steps endpoints over a network. A *step* is: flush every endpoint's transmits into the
/// network, deliver every due datagram (repeating while this creates more work at the same
/// instant, at most `max_flush_rounds` times), check `done`, then advance the clock to the
/// earliest of every endpoint's `poll_timeout()` and the network's `next_delivery()` and fire
/// due timers.
#[derive(Debug)]
pub struct Driver {
    /// Most steps [`run_until`](Self::run_until) takes before failing. Default 100 000.
    pub max_steps: u64,
    /// Most transmit/deliver rounds within one instant. Default 1000.
    pub max_flush_rounds: u32,
    /// Most datagrams drained from one endpoint per round. Default 10 000.
    pub max_transmits_per_round: u32,
    /// Datagrams no endpoint accepted (counted, then dropped).
    pub unclaimed: u64,
    /// Steps taken so far.
    pub steps: u64,
}

impl Default for Driver {
    fn default() -> Self {
        Driver {
            max_steps: 100_000,
            max_flush_rounds: 1000,
            max_transmits_per_round: 10_000,
            unclaimed: 0,
            steps: 0,
        }
    }
}

impl Driver {
    /// A driver with the default bounds.
    pub fn new() -> Self {
        Driver::default()
    }

    /// Sets the step bound.
    #[must_use]
    pub fn max_steps(mut self, n: u64) -> Self {
        self.max_steps = n;
        self
    }

    /// Moves datagrams between the endpoints and the network at the current instant until
    /// nothing more happens (or the round bound is hit).
    pub fn flush(&mut self, net: &mut Network, endpoints: &mut [&mut dyn Endpoint]) {
        for _ in 0..self.max_flush_rounds {
            let now = net.now();
            let mut moved = false;
            for ep in endpoints.iter_mut() {
                for _ in 0..self.max_transmits_per_round {
                    match ep.poll_transmit(now) {
                        Some(d) => {
                            net.send(d);
                            moved = true;
                        }
                        None => break,
                    }
                }
            }
            while let Some(d) = net.poll_recv() {
                moved = true;
                match endpoints.iter_mut().find(|ep| ep.accepts(d.dst)) {
                    Some(ep) => ep.handle_receive(now, d),
                    None => self.unclaimed += 1,
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// One step (see the type docs). Returns `false` when nothing is scheduled any more.
    pub fn step(&mut self, net: &mut Network, endpoints: &mut [&mut dyn Endpoint]) -> bool {
        self.steps += 1;
        self.flush(net, endpoints);
        let next = endpoints
            .iter()
            .filter_map(|ep| ep.poll_timeout())
            .chain(net.next_delivery())
            .min();
        let Some(next) = next else {
            return false;
        };
        net.advance_to(next);
        let now = net.now();
        for ep in endpoints.iter_mut() {
            if ep.poll_timeout().is_some_and(|t| t <= now) {
                ep.handle_timeout(now);
            }
        }
        true
    }

    /// Steps until `done(net, endpoints)` holds ([`Outcome::Done`]), nothing is left to do
    /// ([`Outcome::Idle`]), or the step bound is exceeded ([`Error::StepLimit`]).
    pub fn run_until(
        &mut self,
        net: &mut Network,
        endpoints: &mut [&mut dyn Endpoint],
        mut done: impl FnMut(&Network, &[&mut dyn Endpoint]) -> bool,
    ) -> Result<Outcome, Error> {
        let start = self.steps;
        loop {
            if done(net, endpoints) {
                return Ok(Outcome::Done);
            }
            if self.steps - start >= self.max_steps {
                return Err(Error::StepLimit {
                    steps: self.max_steps,
                    seed: net.seed(),
                });
            }
            if !self.step(net, endpoints) {
                // Deliver what the last flush left, then decide.
                return Ok(if done(net, endpoints) {
                    Outcome::Done
                } else {
                    Outcome::Idle
                });
            }
        }
    }
}
