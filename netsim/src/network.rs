//! The network: a virtual clock, links, NAT boxes, and the datagrams in flight.

use crate::link::{DropCause, LinkConfig, LinkStats, MAX_DELAY, clamp01};
use crate::nat::{Nat, NatConfig, NatId, NatMapping};
use crate::pcap::{self, CaptureRecord, TTL_DELIVERED, TTL_SENT};
use crate::rng::{Rng, derive_seed};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One UDP datagram: addresses plus payload.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Datagram {
    /// Source address (as the sender bound it; NATs rewrite it on the way).
    pub src: SocketAddr,
    /// Destination address (NATs rewrite it to the inside host on the way in).
    pub dst: SocketAddr,
    /// UDP payload.
    pub payload: Vec<u8>,
}

impl Datagram {
    /// A datagram from `src` to `dst`.
    pub fn new(src: SocketAddr, dst: SocketAddr, payload: impl Into<Vec<u8>>) -> Self {
        Datagram {
            src,
            dst,
            payload: payload.into(),
        }
    }
}

/// Caps that keep a runaway test from eating memory. Exceeding an in-flight cap drops the
/// datagram ([`DropCause::Overflow`]); full capture / trace buffers stop recording (and say
/// so through [`Network::capture_truncated`] / [`Network::trace_truncated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most datagrams in flight at once. Default 100 000.
    pub max_in_flight: usize,
    /// Most payload bytes in flight at once. Default 64 MiB.
    pub max_in_flight_bytes: usize,
    /// Most capture records kept for the pcap. Default 100 000.
    pub max_capture_records: usize,
    /// Most payload bytes kept for the pcap. Default 64 MiB.
    pub max_capture_bytes: usize,
    /// Most trace events kept. Default 1 000 000.
    pub max_trace_events: usize,
    /// Most directed address pairs with link state (random stream, queue, stats). A
    /// datagram between a new pair beyond it is dropped ([`DropCause::Overflow`]) and
    /// counted in [`Network::stats`] only. Default 100 000.
    pub max_links: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 100_000,
            max_in_flight_bytes: 64 << 20,
            max_capture_records: 100_000,
            max_capture_bytes: 64 << 20,
            max_trace_events: 1_000_000,
            max_links: 100_000,
        }
    }
}

/// What happened to a datagram, as recorded by [`Network::enable_trace`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceKind {
    /// Handed to [`Network::send`].
    Sent,
    /// A duplicate copy was made.
    Duplicated,
    /// Scheduled for delivery at `due` (virtual time since start); one per copy.
    Scheduled {
        /// When it will arrive.
        due: Duration,
    },
    /// Returned by [`Network::poll_recv`].
    Delivered,
    /// Dropped.
    Dropped(DropCause),
}

/// One trace event. Two runs with the same seed and the same inputs produce equal traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceEvent {
    /// Virtual time since start.
    pub at: Duration,
    /// What happened.
    pub kind: TraceKind,
    /// Source at that point.
    pub src: SocketAddr,
    /// Destination at that point.
    pub dst: SocketAddr,
    /// Payload length.
    pub len: usize,
}

#[derive(Debug)]
struct LinkState {
    rng: Rng,
    burst_bad: bool,
    busy_until: Duration,
    stats: LinkStats,
}

#[derive(Debug)]
struct InFlight {
    due: Duration,
    seq: u64,
    link: (IpAddr, IpAddr),
    via_nat: Option<usize>,
    datagram: Datagram,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for InFlight {}
impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

static START: OnceLock<Instant> = OnceLock::new();

/// IP + UDP header bytes added to a payload to get the IP packet size.
fn header_len(d: &Datagram) -> usize {
    if d.src.is_ipv4() && d.dst.is_ipv4() {
        28
    } else {
        48
    }
}

/// A deterministic simulated network. See the crate documentation for the driving loop.
#[derive(Debug)]
pub struct Network {
    seed: u64,
    start: Instant,
    now: Instant,
    elapsed: Duration,
    default_link: LinkConfig,
    configs: BTreeMap<(IpAddr, IpAddr), LinkConfig>,
    links: BTreeMap<(IpAddr, IpAddr), LinkState>,
    total: LinkStats,
    queue: BinaryHeap<Reverse<InFlight>>,
    /// Arrived (past any NAT) and waiting for `poll_recv`, in arrival order.
    ready: VecDeque<InFlight>,
    seq: u64,
    in_flight_bytes: usize,
    limits: Limits,
    nats: Vec<Nat>,
    capture: Option<Vec<CaptureRecord>>,
    capture_bytes: usize,
    capture_truncated: bool,
    trace: Option<Vec<TraceEvent>>,
    trace_truncated: bool,
}

impl Network {
    /// A network whose random draws all derive from `seed`. The virtual clock starts at a
    /// fixed `Instant` (taken once per process), so every network of a test run shares it.
    pub fn new(seed: u64) -> Self {
        let start = *START.get_or_init(Instant::now);
        Network {
            seed,
            start,
            now: start,
            elapsed: Duration::ZERO,
            default_link: LinkConfig::default(),
            configs: BTreeMap::new(),
            links: BTreeMap::new(),
            total: LinkStats::default(),
            queue: BinaryHeap::new(),
            ready: VecDeque::new(),
            seq: 0,
            in_flight_bytes: 0,
            limits: Limits::default(),
            nats: Vec::new(),
            capture: None,
            capture_bytes: 0,
            capture_truncated: false,
            trace: None,
            trace_truncated: false,
        }
    }

    // ----- getters -----

    /// The seed this network was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The instant the virtual clock started at.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Virtual time elapsed since [`start`](Self::start).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// Datagrams currently in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len() + self.ready.len()
    }

    /// Counters of the directed link `src -> dst` (addresses as the sender used them).
    pub fn link_stats(&self, src: IpAddr, dst: IpAddr) -> LinkStats {
        self.links
            .get(&(src, dst))
            .map(|l| l.stats)
            .unwrap_or_default()
    }

    /// Counters summed over every link.
    pub fn stats(&self) -> LinkStats {
        self.total
    }

    /// The configuration that applies to datagrams from `src` to `dst`.
    pub fn link_config(&self, src: IpAddr, dst: IpAddr) -> &LinkConfig {
        self.configs.get(&(src, dst)).unwrap_or(&self.default_link)
    }

    /// The current caps.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    // ----- configuration -----

    /// Sets the link used between every pair of addresses without a [`set_link`](Self::set_link).
    pub fn set_default_link(&mut self, cfg: LinkConfig) {
        self.default_link = cfg;
    }

    /// Sets the link between `a` and `b`, both directions.
    pub fn set_link(&mut self, a: IpAddr, b: IpAddr, cfg: LinkConfig) {
        self.configs.insert((b, a), cfg.clone());
        self.configs.insert((a, b), cfg);
    }

    /// Sets the link from `src` to `dst` only (asymmetric links).
    pub fn set_link_directed(&mut self, src: IpAddr, dst: IpAddr, cfg: LinkConfig) {
        self.configs.insert((src, dst), cfg);
    }

    /// Replaces the caps.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Adds a NAT box. Datagrams from its `inside` hosts to outside addresses get their
    /// source rewritten to `public_ip:port`; datagrams to `public_ip` are filtered per its
    /// kind and forwarded to the inside host. NATs are searched in the order added.
    pub fn add_nat(&mut self, cfg: NatConfig) -> NatId {
        let id = NatId(self.nats.len());
        let seed = derive_seed(self.seed, &[&(id.0 as u64).to_le_bytes()]);
        self.nats.push(Nat::new(cfg, seed));
        id
    }

    /// The live mappings of a NAT (empty for an unknown id).
    pub fn nat_mappings(&self, id: NatId) -> Vec<NatMapping> {
        self.nats
            .get(id.0)
            .map(|n| n.mappings(self.elapsed))
            .unwrap_or_default()
    }

    /// The public address `inside` is currently mapped to towards `remote`, if any (does not
    /// create or refresh a mapping).
    pub fn nat_public_addr(
        &self,
        id: NatId,
        inside: SocketAddr,
        remote: SocketAddr,
    ) -> Option<SocketAddr> {
        self.nats.get(id.0)?.lookup(self.elapsed, inside, remote)
    }

    /// Starts recording every datagram for [`write_pcap`](Self::write_pcap): once when sent
    /// (TTL 64, addresses as sent) and once when delivered (TTL 63, addresses as received).
    pub fn enable_capture(&mut self) {
        if self.capture.is_none() {
            self.capture = Some(Vec::new());
        }
    }

    /// The records captured so far.
    pub fn captured(&self) -> &[CaptureRecord] {
        self.capture.as_deref().unwrap_or_default()
    }

    /// Whether capture stopped at a [`Limits`] cap.
    pub fn capture_truncated(&self) -> bool {
        self.capture_truncated
    }

    /// The capture as a classic pcap file (LINKTYPE_RAW, synthesised IP/UDP headers).
    pub fn pcap_bytes(&self) -> Vec<u8> {
        pcap::encode(self.captured())
    }

    /// Writes the capture as a classic pcap file that Wireshark opens.
    pub fn write_pcap(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.pcap_bytes())
    }

    /// Starts recording a [`TraceEvent`] per send, schedule, delivery and drop.
    pub fn enable_trace(&mut self) {
        if self.trace.is_none() {
            self.trace = Some(Vec::new());
        }
    }

    /// The trace so far.
    pub fn trace(&self) -> &[TraceEvent] {
        self.trace.as_deref().unwrap_or_default()
    }

    /// Whether the trace stopped at a [`Limits`] cap.
    pub fn trace_truncated(&self) -> bool {
        self.trace_truncated
    }

    // ----- time -----

    /// When the next datagram arrives (possibly already due), or `None` if nothing is in
    /// flight. A datagram a NAT will filter still counts.
    pub fn next_delivery(&self) -> Option<Instant> {
        match self.ready.front() {
            Some(f) => Some(self.instant(f.due)),
            None => self.queue.peek().map(|Reverse(f)| self.instant(f.due)),
        }
    }

    /// Moves the virtual clock to `t`; earlier instants are ignored (time never goes back).
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
            self.elapsed = t.saturating_duration_since(self.start);
        }
        self.process_arrivals();
    }

    /// Moves the virtual clock forward by `d`.
    pub fn advance(&mut self, d: Duration) {
        if let Some(t) = self.now.checked_add(d) {
            self.advance_to(t);
        }
    }

    fn instant(&self, d: Duration) -> Instant {
        self.start.checked_add(d).unwrap_or(self.now)
    }

    // ----- the datagram path -----

    fn record_trace(&mut self, at: Duration, kind: TraceKind, d: &Datagram) {
        if let Some(trace) = self.trace.as_mut() {
            if trace.len() >= self.limits.max_trace_events {
                self.trace_truncated = true;
                return;
            }
            trace.push(TraceEvent {
                at,
                kind,
                src: d.src,
                dst: d.dst,
                len: d.payload.len(),
            });
        }
    }

    fn record_capture(&mut self, at: Duration, ttl: u8, d: &Datagram) {
        if let Some(cap) = self.capture.as_mut() {
            if cap.len() >= self.limits.max_capture_records
                || self.capture_bytes.saturating_add(d.payload.len())
                    > self.limits.max_capture_bytes
            {
                self.capture_truncated = true;
                return;
            }
            self.capture_bytes += d.payload.len();
            cap.push(CaptureRecord {
                at,
                src: d.src,
                dst: d.dst,
                ttl,
                payload: d.payload.clone(),
            });
        }
    }

    fn stats_mut(&mut self, key: (IpAddr, IpAddr), f: impl Fn(&mut LinkStats)) {
        f(&mut self.total);
        if let Some(l) = self.links.get_mut(&key) {
            f(&mut l.stats);
        }
    }

    fn drop_datagram(&mut self, key: (IpAddr, IpAddr), cause: DropCause, d: &Datagram) {
        self.stats_mut(key, |s| s.dropped.bump(cause));
        self.record_trace(self.elapsed, TraceKind::Dropped(cause), d);
    }

    fn nat_inside(&self, ip: IpAddr) -> Option<usize> {
        self.nats.iter().position(|n| n.is_inside(ip))
    }

    fn nat_public(&self, ip: IpAddr) -> Option<usize> {
        self.nats.iter().position(|n| n.cfg.public_ip == ip)
    }

    /// Hands a datagram to the network at [`now`](Self::now). It is routed (through NATs),
    /// impaired per its link, and later returned by [`poll_recv`](Self::poll_recv) — or
    /// dropped and counted.
    pub fn send(&mut self, d: Datagram) {
        let now = self.elapsed;
        let key = (d.src.ip(), d.dst.ip());
        let seed = self.seed;
        let table_full = self.links.len() >= self.limits.max_links;
        if !table_full || self.links.contains_key(&key) {
            self.links.entry(key).or_insert_with(|| LinkState {
                rng: Rng::new(derive_seed(
                    seed,
                    &[key.0.to_string().as_bytes(), key.1.to_string().as_bytes()],
                )),
                burst_bad: false,
                busy_until: Duration::ZERO,
                stats: LinkStats::default(),
            });
        }
        let len = d.payload.len() as u64;
        self.stats_mut(key, |s| {
            s.sent += 1;
            s.bytes_sent += len;
        });
        self.record_trace(now, TraceKind::Sent, &d);
        self.record_capture(now, TTL_SENT, &d);

        if !self.links.contains_key(&key) {
            // The link table is at its cap: counted in the totals only.
            self.drop_datagram(key, DropCause::Overflow, &d);
            return;
        }

        // Routing through NATs.
        let mut wire = d;
        let src_nat = self.nat_inside(wire.src.ip());
        let mut via_nat = None;
        if let Some(n) = self.nat_inside(wire.dst.ip()) {
            if src_nat != Some(n) {
                self.drop_datagram(key, DropCause::Unroutable, &wire);
                return;
            }
        } else {
            if let Some(x) = src_nat {
                let translated = self
                    .nats
                    .get_mut(x)
                    .and_then(|nat| nat.outbound(now, wire.src, wire.dst));
                match translated {
                    Some(public) => wire.src = public,
                    None => {
                        self.drop_datagram(key, DropCause::Nat, &wire);
                        return;
                    }
                }
            }
            if let Some(y) = self.nat_public(wire.dst.ip()) {
                let hairpin_ok = self.nats.get(y).is_some_and(|n| n.cfg.hairpin);
                if src_nat == Some(y) && !hairpin_ok {
                    self.drop_datagram(key, DropCause::Nat, &wire);
                    return;
                }
                via_nat = Some(y);
            }
        }

        let cfg = self
            .configs
            .get(&key)
            .or_else(|| self.configs.get(&(wire.src.ip(), wire.dst.ip())))
            .unwrap_or(&self.default_link)
            .clone();

        let ip_len = wire.payload.len().saturating_add(header_len(&wire));
        if ip_len > cfg.mtu {
            self.drop_datagram(key, DropCause::Mtu, &wire);
            return;
        }
        if self.over_cap(wire.payload.len()) {
            self.drop_datagram(key, DropCause::Overflow, &wire);
            return;
        }

        let Some(link) = self.links.get_mut(&key) else {
            return; // inserted above
        };

        // Bandwidth: serialise behind earlier datagrams, drop-tail when the queue is full.
        let depart = match cfg.bandwidth_bps {
            Some(bps) => {
                let bps = u128::from(bps.max(1));
                let backlog = link.busy_until.saturating_sub(now);
                let backlog_bytes = backlog.as_nanos().saturating_mul(bps) / 8_000_000_000;
                if backlog_bytes.saturating_add(ip_len as u128) > cfg.queue_bytes as u128 {
                    self.drop_datagram(key, DropCause::Queue, &wire);
                    return;
                }
                let ser_ns = (ip_len as u128).saturating_mul(8_000_000_000).div_ceil(bps);
                let ser =
                    Duration::from_nanos(u64::try_from(ser_ns).unwrap_or(u64::MAX)).min(MAX_DELAY);
                let depart = link.busy_until.max(now).saturating_add(ser);
                link.busy_until = depart;
                depart
            }
            None => now,
        };

        // Loss: independent, then the burst chain (stepped for every datagram that got here).
        let lost_random = link.rng.chance(clamp01(cfg.loss));
        let lost_burst = match cfg.burst {
            Some(ge) => {
                let p_loss = if link.burst_bad {
                    ge.loss_bad
                } else {
                    ge.loss_good
                };
                let lost = link.rng.chance(clamp01(p_loss));
                if link.burst_bad {
                    if link.rng.chance(clamp01(ge.r)) {
                        link.burst_bad = false;
                    }
                } else if link.rng.chance(clamp01(ge.p)) {
                    link.burst_bad = true;
                }
                lost
            }
            None => false,
        };
        if lost_random {
            self.drop_datagram(key, DropCause::Loss, &wire);
            return;
        }
        if lost_burst {
            self.drop_datagram(key, DropCause::Burst, &wire);
            return;
        }

        let copies = if link.rng.chance(clamp01(cfg.duplicate)) {
            2
        } else {
            1
        };
        if copies == 2 {
            self.stats_mut(key, |s| s.duplicated += 1);
            self.record_trace(now, TraceKind::Duplicated, &wire);
        }
        let mut original = Some(wire);
        for copy in 0..copies {
            let mut dg = if copy + 1 == copies {
                match original.take() {
                    Some(d) => d,
                    None => return,
                }
            } else {
                match original.as_ref() {
                    Some(d) => d.clone(),
                    None => return,
                }
            };
            if copy > 0 && self.over_cap(dg.payload.len()) {
                self.drop_datagram(key, DropCause::Overflow, &dg);
                continue;
            }
            let Some(link) = self.links.get_mut(&key) else {
                return;
            };
            let mut delay = cfg
                .latency
                .min(MAX_DELAY)
                .saturating_add(link.rng.duration_upto(cfg.jitter.min(MAX_DELAY)));
            let reordered = link.rng.chance(clamp01(cfg.reorder));
            if reordered {
                delay = delay.saturating_add(cfg.reorder_delay.min(MAX_DELAY));
            }
            let mut corrupted = false;
            if !dg.payload.is_empty() && link.rng.chance(clamp01(cfg.bit_flip)) {
                let bits = (dg.payload.len() as u64).saturating_mul(8);
                let bit = link.rng.below(bits);
                if let Some(byte) = dg.payload.get_mut((bit / 8) as usize) {
                    *byte ^= 1 << (bit % 8);
                    corrupted = true;
                }
            }
            self.stats_mut(key, |s| {
                s.in_flight += 1;
                s.reordered += u64::from(reordered);
                s.corrupted += u64::from(corrupted);
            });
            let due = depart.saturating_add(delay);
            self.record_trace(now, TraceKind::Scheduled { due }, &dg);
            self.in_flight_bytes = self.in_flight_bytes.saturating_add(dg.payload.len());
            self.seq += 1;
            self.queue.push(Reverse(InFlight {
                due,
                seq: self.seq,
                link: key,
                via_nat,
                datagram: dg,
            }));
        }
    }

    fn over_cap(&self, len: usize) -> bool {
        self.in_flight() >= self.limits.max_in_flight
            || self.in_flight_bytes.saturating_add(len) > self.limits.max_in_flight_bytes
    }

    /// Moves every datagram due by now out of the flight queue, in arrival order, through
    /// the NAT at its destination. Run on every clock move, before the caller can send again,
    /// so that NAT state is evaluated exactly as it was at each arrival instant.
    fn process_arrivals(&mut self) {
        loop {
            match self.queue.peek() {
                Some(Reverse(f)) if f.due <= self.elapsed => {}
                _ => return,
            }
            let Some(Reverse(mut f)) = self.queue.pop() else {
                return;
            };
            if let Some(n) = f.via_nat {
                let inside = self
                    .nats
                    .get_mut(n)
                    .and_then(|nat| nat.inbound(f.due, f.datagram.src, f.datagram.dst.port()));
                match inside {
                    Some(inside) => f.datagram.dst = inside,
                    None => {
                        self.in_flight_bytes = self
                            .in_flight_bytes
                            .saturating_sub(f.datagram.payload.len());
                        self.stats_mut(f.link, |s| {
                            s.in_flight = s.in_flight.saturating_sub(1);
                            s.dropped.bump(DropCause::Nat);
                        });
                        self.record_trace(f.due, TraceKind::Dropped(DropCause::Nat), &f.datagram);
                        continue;
                    }
                }
            }
            self.ready.push_back(f);
        }
    }

    /// The next datagram due at or before [`now`](Self::now), in arrival order (ties in
    /// send order), or `None`. A datagram that a NAT filtered on arrival never shows up.
    pub fn poll_recv(&mut self) -> Option<Datagram> {
        self.process_arrivals();
        let f = self.ready.pop_front()?;
        self.in_flight_bytes = self
            .in_flight_bytes
            .saturating_sub(f.datagram.payload.len());
        let len = f.datagram.payload.len() as u64;
        self.stats_mut(f.link, |s| {
            s.in_flight = s.in_flight.saturating_sub(1);
            s.delivered += 1;
            s.bytes_delivered += len;
        });
        self.record_trace(f.due, TraceKind::Delivered, &f.datagram);
        self.record_capture(f.due, TTL_DELIVERED, &f.datagram);
        Some(f.datagram)
    }
}
