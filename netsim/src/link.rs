//! Link configuration (the impairment knobs) and per-link statistics.

use std::time::Duration;

/// Gilbert-Elliott burst-loss model: a two-state Markov chain evaluated once per datagram.
///
/// In the *good* state a datagram is lost with probability `loss_good`, in the *bad* state
/// with `loss_bad`. After each datagram the chain moves good -> bad with probability `p` and
/// bad -> good with probability `r`, so the mean burst (bad-state sojourn) is `1 / r`
/// datagrams and the stationary share of the bad state is `p / (p + r)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GilbertElliott {
    /// Probability of moving from the good to the bad state after a datagram.
    pub p: f64,
    /// Probability of moving from the bad to the good state after a datagram.
    pub r: f64,
    /// Loss probability while in the good state (Gilbert's model: 0).
    pub loss_good: f64,
    /// Loss probability while in the bad state (Gilbert's model: 1).
    pub loss_bad: f64,
}

impl GilbertElliott {
    /// The simple Gilbert model: nothing lost in the good state, everything in the bad one.
    pub fn new(p: f64, r: f64) -> Self {
        GilbertElliott {
            p,
            r,
            loss_good: 0.0,
            loss_bad: 1.0,
        }
    }

    /// Sets the loss probability in the good state.
    #[must_use]
    pub fn loss_good(mut self, loss: f64) -> Self {
        self.loss_good = loss;
        self
    }

    /// Sets the loss probability in the bad state.
    #[must_use]
    pub fn loss_bad(mut self, loss: f64) -> Self {
        self.loss_bad = loss;
        self
    }

    /// Long-run loss rate of the model: `pi_bad * loss_bad + pi_good * loss_good`.
    pub fn expected_loss(&self) -> f64 {
        let p = clamp01(self.p);
        let r = clamp01(self.r);
        if p + r <= 0.0 {
            return clamp01(self.loss_good);
        }
        let bad = p / (p + r);
        bad * clamp01(self.loss_bad) + (1.0 - bad) * clamp01(self.loss_good)
    }
}

/// Clamps a probability into [0, 1]; NaN becomes 0.
pub(crate) fn clamp01(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

/// The impairments of one (direction of a) link. Every datagram that crosses the link is
/// treated, in this order:
///
/// 1. **MTU**: dropped if the IP packet it would be (payload + 8 bytes UDP + 20 bytes IPv4 or
///    40 bytes IPv6 header) is larger than `mtu`.
/// 2. **Bandwidth**: with `bandwidth_bps` set, the link serialises one datagram at a time
///    (IP packet size * 8 / bps); a datagram that finds more than `queue_bytes` (counting
///    itself) waiting is dropped (drop-tail).
/// 3. **Loss**: dropped with probability `loss`, then by the `burst` model if any.
/// 4. **Delay**: delivered `latency` + uniform [0, `jitter`] after it left the queue (jitter
///    reorders datagrams naturally); with probability `reorder` it is held `reorder_delay`
///    longer, so later datagrams overtake it.
/// 5. **Bit flip**: with probability `bit_flip` one uniformly chosen bit of the payload is
///    inverted (a non-empty payload is needed).
/// 6. **Duplication**: with probability `duplicate` a second copy is delivered, with its own
///    jitter, reordering and bit-flip draws.
///
/// Probabilities are clamped to [0, 1] (NaN = 0). Delays are clamped to [`MAX_DELAY`].
#[derive(Clone, Debug, PartialEq)]
pub struct LinkConfig {
    /// One-way propagation delay; no datagram arrives earlier. Default 10 ms.
    pub latency: Duration,
    /// Maximum extra delay, drawn uniformly in [0, jitter] per datagram. Default 0.
    pub jitter: Duration,
    /// Independent (Bernoulli) loss probability per datagram. Default 0.
    pub loss: f64,
    /// Optional Gilbert-Elliott burst loss, applied after `loss`. Default none.
    pub burst: Option<GilbertElliott>,
    /// Probability that a datagram is delivered twice. Default 0.
    pub duplicate: f64,
    /// Probability that a datagram is held back by `reorder_delay`. Default 0.
    pub reorder: f64,
    /// Extra delay of a reordered datagram. Default 10 ms.
    pub reorder_delay: Duration,
    /// Largest IP packet (payload + UDP + IP header) the link carries. Default 65535.
    pub mtu: usize,
    /// Probability that one bit of the payload is flipped. Default 0.
    pub bit_flip: f64,
    /// Link rate in bits per second; `None` = infinitely fast. Default none.
    pub bandwidth_bps: Option<u64>,
    /// Drop-tail queue size in bytes (IP packet sizes) when `bandwidth_bps` is set.
    /// Default 65536.
    pub queue_bytes: usize,
}

/// The longest delay the simulator schedules; larger configured delays are clamped to it so
/// that virtual time never overflows. One year.
pub const MAX_DELAY: Duration = Duration::from_secs(365 * 24 * 3600);

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            burst: None,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(10),
            mtu: 65535,
            bit_flip: 0.0,
            bandwidth_bps: None,
            queue_bytes: 65536,
        }
    }
}

impl LinkConfig {
    /// Sets the one-way latency.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Sets the jitter (maximum extra delay, uniform).
    #[must_use]
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the independent loss probability.
    #[must_use]
    pub fn loss(mut self, loss: f64) -> Self {
        self.loss = loss;
        self
    }

    /// Enables Gilbert-Elliott burst loss.
    #[must_use]
    pub fn burst(mut self, model: GilbertElliott) -> Self {
        self.burst = Some(model);
        self
    }

    /// Sets the duplication probability.
    #[must_use]
    pub fn duplicate(mut self, p: f64) -> Self {
        self.duplicate = p;
        self
    }

    /// Sets the reordering probability.
    #[must_use]
    pub fn reorder(mut self, p: f64) -> Self {
        self.reorder = p;
        self
    }

    /// Sets the extra delay of a reordered datagram.
    #[must_use]
    pub fn reorder_delay(mut self, delay: Duration) -> Self {
        self.reorder_delay = delay;
        self
    }

    /// Sets the MTU (largest IP packet, headers included).
    #[must_use]
    pub fn mtu(mut self, mtu: usize) -> Self {
        self.mtu = mtu;
        self
    }

    /// Sets the bit-flip probability per datagram.
    #[must_use]
    pub fn bit_flip(mut self, p: f64) -> Self {
        self.bit_flip = p;
        self
    }

    /// Limits the link rate (bits per second); 0 is treated as 1 bit/s.
    #[must_use]
    pub fn bandwidth_bps(mut self, bps: u64) -> Self {
        self.bandwidth_bps = Some(bps);
        self
    }

    /// Sets the drop-tail queue size in bytes.
    #[must_use]
    pub fn queue_bytes(mut self, bytes: usize) -> Self {
        self.queue_bytes = bytes;
        self
    }
}

/// Why a datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DropCause {
    /// Independent random loss (`LinkConfig::loss`).
    Loss,
    /// Gilbert-Elliott burst loss (`LinkConfig::burst`).
    Burst,
    /// Larger than the link MTU.
    Mtu,
    /// The drop-tail queue of a bandwidth-limited link was full.
    Queue,
    /// A NAT dropped it: inbound filtering, no mapping, expired mapping, or its table full.
    Nat,
    /// Addressed to a private address behind a NAT from outside that NAT.
    Unroutable,
    /// The network's cap on datagrams (or bytes) in flight was reached.
    Overflow,
}

impl std::fmt::Display for DropCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DropCause::Loss => "random loss",
            DropCause::Burst => "burst loss",
            DropCause::Mtu => "larger than MTU",
            DropCause::Queue => "queue full",
            DropCause::Nat => "filtered by NAT",
            DropCause::Unroutable => "unroutable private address",
            DropCause::Overflow => "in-flight cap reached",
        })
    }
}

/// Drop counters, one per [`DropCause`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropStats {
    /// Random loss.
    pub loss: u64,
    /// Burst loss.
    pub burst: u64,
    /// MTU exceeded.
    pub mtu: u64,
    /// Queue overflow.
    pub queue: u64,
    /// NAT filtering / mapping failure.
    pub nat: u64,
    /// Private destination not reachable from the sender.
    pub unroutable: u64,
    /// Network in-flight cap.
    pub overflow: u64,
}

impl DropStats {
    /// Sum over every cause.
    pub fn total(&self) -> u64 {
        self.loss + self.burst + self.mtu + self.queue + self.nat + self.unroutable + self.overflow
    }

    /// The counter of one cause.
    pub fn get(&self, cause: DropCause) -> u64 {
        match cause {
            DropCause::Loss => self.loss,
            DropCause::Burst => self.burst,
            DropCause::Mtu => self.mtu,
            DropCause::Queue => self.queue,
            DropCause::Nat => self.nat,
            DropCause::Unroutable => self.unroutable,
            DropCause::Overflow => self.overflow,
        }
    }

    pub(crate) fn bump(&mut self, cause: DropCause) {
        let c = match cause {
            DropCause::Loss => &mut self.loss,
            DropCause::Burst => &mut self.burst,
            DropCause::Mtu => &mut self.mtu,
            DropCause::Queue => &mut self.queue,
            DropCause::Nat => &mut self.nat,
            DropCause::Unroutable => &mut self.unroutable,
            DropCause::Overflow => &mut self.overflow,
        };
        *c = c.saturating_add(1);
    }
}

/// Counters of one direction of a link (or of the whole network).
///
/// Invariant (checked by the tests): `delivered + dropped.total() + in_flight == sent +
/// duplicated`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams handed to [`Network::send`](crate::Network::send).
    pub sent: u64,
    /// Extra copies created by duplication.
    pub duplicated: u64,
    /// Datagrams returned by [`Network::poll_recv`](crate::Network::poll_recv).
    pub delivered: u64,
    /// Datagrams scheduled and not yet delivered or dropped.
    pub in_flight: u64,
    /// Drops by cause.
    pub dropped: DropStats,
    /// Datagrams that got a bit flipped.
    pub corrupted: u64,
    /// Datagrams held back by the reorder knob.
    pub reordered: u64,
    /// Payload bytes handed to `send`.
    pub bytes_sent: u64,
    /// Payload bytes delivered.
    pub bytes_delivered: u64,
}

impl LinkStats {
    /// Whether `delivered + dropped + in_flight == sent + duplicated` holds.
    pub fn is_conserved(&self) -> bool {
        u128::from(self.delivered) + u128::from(self.dropped.total()) + u128::from(self.in_flight)
            == u128::from(self.sent) + u128::from(self.duplicated)
    }
}
