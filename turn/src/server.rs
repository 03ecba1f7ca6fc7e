//! The sans-IO TURN server core (RFC 8656).
//!
//! Feed it every datagram (or stream frame) the server receives with
//! [`Server::handle_receive`], naming the local address it arrived on: the listening
//! address for client traffic, or a relayed transport address for traffic from peers.
//! Then drain [`Server::poll_transmit`] (each [`Transmit`] names the local address to send
//! from: the listening address, or the relayed address), [`Server::poll_event`], and arm a
//! timer for [`Server::poll_timeout`]. The core never opens sockets: relayed addresses are
//! `relay_ip:port` with ports drawn from [`ServerConfig::relay_ports`]; the driver binds
//! the whole range up front (or on [`ServerEvent::AllocationCreated`]).

use core::net::{IpAddr, SocketAddr};
use std::collections::{HashMap, VecDeque};

use crate::fasthash::{FastMap, FastState};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sansrtc_stun::{
    Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, PasswordAlgorithm,
    TransactionId, attr,
};

use crate::Error;
use crate::auth::CredentialStore;
use crate::nonce::{NonceCheck, NonceKey};
use crate::policy::PeerPolicy;
use crate::wire::{self, ChannelData, FAMILY_V4, FAMILY_V6, PROTO_UDP};

/// The transport between client and server (RFC 8656 section 3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP (frames are split by the driver, see [`crate::wire::stream_frame_len`]).
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// True for TCP and TLS: ChannelData is padded to 4 bytes (RFC 8656 section 12.5).
    pub const fn is_stream(self) -> bool {
        !matches!(self, Self::Udp)
    }
}

/// Client transport address, server transport address and transport: the key of an
/// allocation (RFC 8656 section 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// The client's address as the server sees it.
    pub client: SocketAddr,
    /// The server's address the client talks to.
    pub server: SocketAddr,
    /// The transport.
    pub transport: Transport,
}

/// Configuration of a [`Server`]. Every table has a cap, documented here.
#[derive(Clone)]
pub struct ServerConfig {
    /// REALM sent in 401 and 438 responses (RFC 8489 section 9.2).
    pub realm: String,
    /// Where passwords come from.
    pub credentials: Arc<dyn CredentialStore>,
    /// IPv4 (or the only) address relayed transport addresses are on.
    pub relay_ip: IpAddr,
    /// Optional IPv6 relay address: enables REQUESTED-ADDRESS-FAMILY IPv6 and dual-stack
    /// allocations (ADDITIONAL-ADDRESS-FAMILY, RFC 8656 section 7.2).
    pub relay_ip_v6: Option<IpAddr>,
    /// Relay ports (coturn's `min-port`..`max-port`). Also caps the number of allocations.
    pub relay_ports: RangeInclusive<u16>,
    /// The server's own listening addresses: never accepted as peers, whatever the policy.
    pub listen_addrs: Vec<SocketAddr>,
    /// Which peers may be relayed to (403 otherwise).
    pub policy: PeerPolicy,
    /// Cap on allocations in total (508 Insufficient Capacity beyond).
    pub max_allocations: usize,
    /// Cap on allocations per username (486 Allocation Quota Reached beyond).
    pub max_allocations_per_user: usize,
    /// Cap on permissions per allocation (508 beyond).
    pub max_permissions: usize,
    /// Cap on channel bindings per allocation (508 beyond).
    pub max_channels: usize,
    /// Highest channel number accepted: 0x4FFF (RFC 8656 section 12, the default) or
    /// [`wire::MAX_CHANNEL_RFC5766`] (0x7FFF) for RFC 5766 clients such as coturn's.
    pub max_channel_number: u16,
    /// Relayed bytes per second per allocation, each direction counted (token bucket with a
    /// one-second burst); excess datagrams are dropped. `None`: unlimited.
    pub bandwidth_per_allocation: Option<u64>,
    /// Largest allocation lifetime granted (RFC 8656 section 7.2: 3600 s suggested).
    pub max_lifetime: Duration,
    /// Lifetime granted when the client asks for less or nothing (600 s).
    pub default_lifetime: Duration,
    /// How long a nonce is accepted (438 after).
    pub nonce_lifetime: Duration,
    /// Offer SHA-256 in PASSWORD-ALGORITHMS (RFC 8489 section 9.2.4).
    pub offer_sha256: bool,
    /// Cap on queued transmits; beyond it new ones are dropped and counted.
    pub max_transmits: usize,
    /// Cap on queued events; beyond it new ones are dropped.
    pub max_events: usize,
    /// Wall-clock time (Unix seconds) at the `now` given to [`Server::new`], for
    /// time-limited credentials. `None`: such credentials are refused.
    pub unix_time_at_start: Option<u64>,
    /// SOFTWARE attribute in responses, if any.
    pub software: Option<String>,
    /// Seed of the RNG (nonce secret, port choice). `None`: seeded from the OS once.
    pub seed: Option<u64>,
}

impl core::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("realm", &self.realm)
            .field("relay_ip", &self.relay_ip)
            .field("relay_ports", &self.relay_ports)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// Defaults: relay on `relay_ip`, ports 49152..=65535, 1000 allocations, 10 per user,
    /// 64 permissions and 64 channels per allocation, no bandwidth cap, lifetimes 600 s /
    /// 3600 s, nonces valid 10 minutes, SHA-256 offered.
    pub fn new(
        realm: impl Into<String>,
        credentials: Arc<dyn CredentialStore>,
        relay_ip: IpAddr,
    ) -> Self {
        Self {
            realm: realm.into(),
            credentials,
            relay_ip,
            relay_ip_v6: None,
            relay_ports: 49152..=65535,
            listen_addrs: Vec::new(),
            policy: PeerPolicy::default(),
            max_allocations: 1000,
            max_allocations_per_user: 10,
            max_permissions: 64,
            max_channels: 64,
            max_channel_number: wire::MAX_CHANNEL,
            bandwidth_per_allocation: None,
            max_lifetime: Duration::from_secs(3600),
            default_lifetime: Duration::from_secs(600),
            nonce_lifetime: Duration::from_secs(600),
            offer_sha256: true,
            max_transmits: 4096,
            max_events: 1024,
            unix_time_at_start: None,
            software: None,
            seed: None,
        }
    }
}

/// A datagram (or stream frame) to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The transport (for TCP/TLS, the connection is identified by `source` and `destination`).
    pub transport: Transport,
    /// The local address to send from: the listening address or a relayed address.
    pub source: SocketAddr,
    /// Where to.
    pub destination: SocketAddr,
    /// The bytes.
    pub payload: Vec<u8>,
}

/// Where to send the datagram that [`Server::handle_receive_into`] wrote into the caller's
/// buffer: `out[..len]` from `source` to `destination` over `transport`. The same
/// addressing as a [`Transmit`], without an owned payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransmitMeta {
    /// The transport (for TCP/TLS, the connection is identified by `source` and `destination`).
    pub transport: Transport,
    /// The local address to send from: the listening address or a relayed address.
    pub source: SocketAddr,
    /// Where to.
    pub destination: SocketAddr,
    /// Bytes written at the start of the caller's buffer.
    pub len: usize,
}

/// What happened, for logs and the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// An allocation was created.
    AllocationCreated {
        /// Its 5-tuple.
        five_tuple: FiveTuple,
        /// Relayed addresses (one, or two for dual-stack).
        relayed: Vec<SocketAddr>,
        /// The authenticated username.
        username: String,
    },
    /// An allocation was deleted (Refresh with lifetime 0) or expired.
    AllocationClosed {
        /// Its 5-tuple.
        five_tuple: FiveTuple,
        /// Its relayed addresses, now free.
        relayed: Vec<SocketAddr>,
        /// True if it expired rather than being deleted.
        expired: bool,
    },
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Datagrams that were neither valid STUN nor valid ChannelData.
    pub malformed: u64,
    /// Requests answered with an error response.
    pub error_responses: u64,
    /// Requests answered with a success response.
    pub success_responses: u64,
    /// Datagrams relayed client -> peer.
    pub relayed_to_peer: u64,
    /// Datagrams relayed peer -> client.
    pub relayed_to_client: u64,
    /// Datagrams dropped for lack of permission, channel or allocation.
    pub dropped_no_permission: u64,
    /// Datagrams dropped by the bandwidth cap.
    pub dropped_bandwidth: u64,
    /// Transmits dropped because the queue was full.
    pub dropped_queue_full: u64,
    /// Allocations currently alive.
    pub allocations: u64,
}

#[derive(Debug)]
struct Channel {
    peer: SocketAddr,
    expires: Instant,
}

#[derive(Debug)]
struct Allocation {
    relayed: Vec<SocketAddr>,
    username: String,
    expires: Instant,
    allocate_txid: TransactionId,
    allocate_lifetime: u32,
    permissions: FastMap<IpAddr, Instant>,
    channels: FastMap<u16, Channel>,
    peer_channels: FastMap<SocketAddr, u16>,
    tokens: f64,
    tokens_at: Instant,
}

/// Permission lifetime (RFC 8656 section 9: 300 s, not configurable).
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// Channel binding lifetime (RFC 8656 section 12: 600 s).
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);
/// After a channel expires, its number and peer stay reserved this long (RFC 8656
/// section 12).
pub const CHANNEL_COOLDOWN: Duration = Duration::from_secs(300);

/// How long a port reserved with EVEN-PORT R=1 stays reserved (RFC 8656 section 7.2:
/// "approximately 30 seconds").
pub const RESERVATION_LIFETIME: Duration = Duration::from_secs(30);

/// TURN attribute types this server understands beyond what the STUN crate knows.
const TURN_KNOWN: &[u16] = &[
    attr::CHANNEL_NUMBER,
    attr::LIFETIME,
    attr::XOR_PEER_ADDRESS,
    attr::DATA,
    attr::REQUESTED_ADDRESS_FAMILY,
    attr::EVEN_PORT,
    attr::REQUESTED_TRANSPORT,
    attr::DONT_FRAGMENT,
    attr::RESERVATION_TOKEN,
    attr::XOR_RELAYED_ADDRESS,
];

const SHA256_FIRST: [u8; 8] = [0, 2, 0, 0, 0, 1, 0, 0];
const MD5_ONLY: [u8; 4] = [0, 1, 0, 0];

/// The TURN server core. See the module docs for how to drive it.
pub struct Server {
    config: ServerConfig,
    start: Instant,
    nonce: NonceKey,
    rng: StdRng,
    /// Keyed hashing for every table below (see [`crate::fasthash`]).
    hash: FastState,
    allocations: FastMap<FiveTuple, Allocation>,
    by_relay: FastMap<SocketAddr, FiveTuple>,
    per_user: HashMap<String, usize>,
    free_ports: Vec<u16>,
    reservations: HashMap<[u8; 8], (u16, Instant)>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ServerEvent>,
    next_timeout: Option<Instant>,
    stats: ServerStats,
}

impl core::fmt::Debug for Server {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Server")
            .field("allocations", &self.allocations.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

enum Verdict {
    Ok(Box<(String, IntegrityKey, bool)>),
    Reject,
}

impl Server {
    /// A server; fails on an empty port range or a zero cap.
    pub fn new(config: ServerConfig, now: Instant) -> Result<Self, Error> {
        if config.relay_ports.is_empty() {
            return Err(Error::InvalidConfig {
                field: "relay_ports",
                reason: "empty range",
            });
        }
        if config.max_transmits == 0 || config.max_events == 0 {
            return Err(Error::InvalidConfig {
                field: "max_transmits/max_events",
                reason: "must be at least 1",
            });
        }
        let mut rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        let mut secret = [0u8; 32];
        rng.fill(&mut secret);
        let nonce = NonceKey::new(&secret, now, config.nonce_lifetime);
        let hash = FastState::new(rng.random());
        let mut free_ports: Vec<u16> = config.relay_ports.clone().collect();
        // Random order, so relayed ports are not predictable (RFC 8656 section 7.2).
        for i in (1..free_ports.len()).rev() {
            let j = rng.random_range(0..=i);
            free_ports.swap(i, j);
        }
        let mut config = config;
        let own: Vec<IpAddr> = config
            .listen_addrs
            .iter()
            .map(|a| a.ip())
            .chain(Some(config.relay_ip))
            .chain(config.relay_ip_v6)
            .filter(|ip| !ip.is_unspecified())
            .collect();
        for ip in own {
            config.policy = config.policy.clone().deny_own(ip);
        }
        Ok(Self {
            config,
            start: now,
            nonce,
            rng,
            hash,
            allocations: FastMap::with_hasher(hash),
            by_relay: FastMap::with_hasher(hash),
            per_user: HashMap::new(),
            free_ports,
            reservations: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            next_timeout: None,
            stats: ServerStats::default(),
        })
    }

    // ---- getters ----

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        let mut s = self.stats;
        s.allocations = self.allocations.len() as u64;
        s
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Number of live allocations.
    pub fn allocation_count(&self) -> usize {
        self.allocations.len()
    }

    /// Relayed addresses of the allocation of `five_tuple`.
    pub fn relayed_addresses(&self, five_tuple: &FiveTuple) -> Option<&[SocketAddr]> {
        self.allocations.get(five_tuple).map(|a| &a.relayed[..])
    }

    /// True if `local` is a relayed address of a live allocation.
    pub fn is_relayed_address(&self, local: SocketAddr) -> bool {
        self.by_relay.contains_key(&local)
    }

    // ---- inputs ----

    /// A datagram (or one stream frame) arrived on local address `local` from `remote`.
    /// If `local` is a relayed address it is peer traffic (UDP only); otherwise it is from
    /// a client on the 5-tuple (`remote`, `local`, `transport`).
    pub fn handle_receive(
        &mut self,
        now: Instant,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        let _ = self.receive(now, transport, local, remote, data, None);
    }

    /// [`handle_receive`](Self::handle_receive) without an allocation on the relay path:
    /// a relayed datagram (ChannelData from a client, RFC 8656 section 12.6; data from a
    /// peer, sections 11.4 and 12.7) is written into `out` and returned as a
    /// [`TransmitMeta`] for the caller to send at once, instead of being queued as an owned
    /// [`Transmit`]. Everything else (STUN requests, Send indications, responses) behaves as
    /// in `handle_receive`: drain [`poll_event`](Self::poll_event) and
    /// [`poll_transmit`](Self::poll_transmit) after it as usual. If `out` is too small for
    /// the relayed datagram (at most `data.len() + 64` bytes), it is queued instead.
    pub fn handle_receive_into(
        &mut self,
        now: Instant,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
        out: &mut [u8],
    ) -> Option<TransmitMeta> {
        self.receive(now, transport, local, remote, data, Some(out))
    }

    fn receive(
        &mut self,
        now: Instant,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
        out: Option<&mut [u8]>,
    ) -> Option<TransmitMeta> {
        if transport == Transport::Udp {
            if let Some(ft) = self.by_relay.get(&local).copied() {
                return self.on_peer_data(now, ft, remote, data, out);
            }
        }
        let ft = FiveTuple {
            client: remote,
            server: local,
            transport,
        };
        match data.first() {
            Some(0x00..=0x03) => {
                self.on_stun(now, ft, data);
                None
            }
            Some(0x40..=0x7F) => self.on_channel_data(now, ft, data, out),
            _ => {
                self.stats.malformed += 1;
                None
            }
        }
    }

    /// Expires allocations, permissions and channels due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut next: Option<Instant> = None;
        let mut expired = Vec::new();
        for (ft, a) in &mut self.allocations {
            if a.expires <= now {
                expired.push(*ft);
                continue;
            }
            a.permissions.retain(|_, exp| *exp > now);
            let peer_channels = &mut a.peer_channels;
            a.channels.retain(|num, ch| {
                let keep = ch.expires + CHANNEL_COOLDOWN > now;
                if !keep {
                    peer_channels.remove(&ch.peer);
                    let _ = num;
                }
                keep
            });
            let mut earliest = a.expires;
            for exp in a.permissions.values() {
                earliest = earliest.min(*exp);
            }
            for ch in a.channels.values() {
                let t = if ch.expires > now {
                    ch.expires
                } else {
                    ch.expires + CHANNEL_COOLDOWN
                };
                earliest = earliest.min(t);
            }
            next = Some(next.map_or(earliest, |n| n.min(earliest)));
        }
        for ft in expired {
            self.remove_allocation(&ft, true);
        }
        let free = &mut self.free_ports;
        self.reservations.retain(|_, (port, exp)| {
            if *exp <= now {
                free.insert(0, *port);
                false
            } else {
                next = Some(next.map_or(*exp, |n| n.min(*exp)));
                true
            }
        });
        self.next_timeout = next;
    }

    // ---- outputs ----

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout
    }

    // ---- internals ----

    fn arm(&mut self, t: Instant) {
        self.next_timeout = Some(self.next_timeout.map_or(t, |n| n.min(t)));
    }

    fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() >= self.config.max_transmits {
            self.stats.dropped_queue_full += 1;
        } else {
            self.transmits.push_back(t);
        }
    }

    fn push_event(&mut self, e: ServerEvent) {
        if self.events.len() < self.config.max_events {
            self.events.push_back(e);
        }
    }

    fn unix_now(&self, now: Instant) -> Option<u64> {
        self.config
            .unix_time_at_start
            .map(|u| u.saturating_add(now.saturating_duration_since(self.start).as_secs()))
    }

    fn take_tokens(&mut self, ft: &FiveTuple, now: Instant, bytes: usize) -> bool {
        let Some(rate) = self.config.bandwidth_per_allocation else {
            return true;
        };
        let Some(a) = self.allocations.get_mut(ft) else {
            return false;
        };
        let rate = rate as f64;
        let elapsed = now.saturating_duration_since(a.tokens_at).as_secs_f64();
        a.tokens = (a.tokens + elapsed * rate).min(rate);
        a.tokens_at = now;
        if a.tokens >= bytes as f64 {
            a.tokens -= bytes as f64;
            true
        } else {
            self.stats.dropped_bandwidth += 1;
            false
        }
    }

    fn on_peer_data(
        &mut self,
        now: Instant,
        ft: FiveTuple,
        peer: SocketAddr,
        data: &[u8],
        out: Option<&mut [u8]>,
    ) -> Option<TransmitMeta> {
        let a = self.allocations.get(&ft)?;
        let permitted = a
            .permissions
            .get(&crate::policy::canonical(peer.ip()))
            .is_some_and(|exp| *exp > now);
        if !permitted || a.expires <= now {
            self.stats.dropped_no_permission += 1;
            return None;
        }
        let channel = a
            .peer_channels
            .get(&peer)
            .and_then(|n| a.channels.get(n).map(|c| (*n, c.expires)))
            .filter(|(_, exp)| *exp > now)
            .map(|(n, _)| n);
        if !self.take_tokens(&ft, now, data.len()) {
            return None;
        }
        let stream = ft.transport.is_stream();
        let emit = |buf: &mut [u8], rng: &mut StdRng| match channel {
            Some(channel) => ChannelData { channel, data }.emit(buf, stream).ok(),
            None => {
                let txid = TransactionId::random(rng);
                build_data_indication(buf, txid, peer, data).ok()
            }
        };
        let (transport, source, destination) = (ft.transport, ft.server, ft.client);
        if let Some(out) = out {
            if let Some(len) = emit(out, &mut self.rng) {
                self.stats.relayed_to_client += 1;
                return Some(TransmitMeta {
                    transport,
                    source,
                    destination,
                    len,
                });
            }
        }
        let mut buf = vec![0u8; data.len() + 64];
        let n = emit(&mut buf, &mut self.rng)?;
        buf.truncate(n);
        self.stats.relayed_to_client += 1;
        self.push_transmit(Transmit {
            transport,
            source,
            destination,
            payload: buf,
        });
        None
    }

    fn on_channel_data(
        &mut self,
        now: Instant,
        ft: FiveTuple,
        data: &[u8],
        out: Option<&mut [u8]>,
    ) -> Option<TransmitMeta> {
        let Ok(cd) = ChannelData::parse_in(data, self.config.max_channel_number) else {
            self.stats.malformed += 1;
            return None;
        };
        let Some(a) = self.allocations.get(&ft) else {
            self.stats.dropped_no_permission += 1;
            return None;
        };
        let Some(ch) = a.channels.get(&cd.channel).filter(|c| c.expires > now) else {
            self.stats.dropped_no_permission += 1;
            return None;
        };
        let peer = ch.peer;
        let permitted = a
            .permissions
            .get(&crate::policy::canonical(peer.ip()))
            .is_some_and(|exp| *exp > now);
        let source = a
            .relayed
            .iter()
            .find(|r| r.is_ipv4() == peer.is_ipv4())
            .copied()?;
        if !permitted {
            self.stats.dropped_no_permission += 1;
            return None;
        }
        if !self.take_tokens(&ft, now, cd.data.len()) {
            return None;
        }
        self.stats.relayed_to_peer += 1;
        if let Some(dst) = out.and_then(|o| o.get_mut(..cd.data.len())) {
            dst.copy_from_slice(cd.data);
            return Some(TransmitMeta {
                transport: Transport::Udp,
                source,
                destination: peer,
                len: cd.data.len(),
            });
        }
        self.push_transmit(Transmit {
            transport: Transport::Udp,
            source,
            destination: peer,
            payload: cd.data.to_vec(),
        });
        None
    }

    fn on_stun(&mut self, now: Instant, ft: FiveTuple, data: &[u8]) {
        let Ok(msg) = Message::new_checked(data) else {
            self.stats.malformed += 1;
            return;
        };
        let txid = msg.transaction_id();
        let method = msg.method();
        match msg.class() {
            Class::Request => {}
            Class::Indication => {
                if method == Method::SEND {
                    self.on_send_indication(now, ft, &msg);
                }
                return;
            }
            _ => return,
        }
        let unknown: Vec<u16> = msg
            .unknown_comprehension_required_except(TURN_KNOWN)
            .collect();
        if !unknown.is_empty() {
            let mut extra = Vec::with_capacity(unknown.len() * 2);
            for u in &unknown {
                extra.extend_from_slice(&u.to_be_bytes());
            }
            self.error(
                ft,
                method,
                txid,
                420,
                None,
                &[(attr::UNKNOWN_ATTRIBUTES, &extra)],
            );
            return;
        }
        if method == Method::BINDING {
            self.binding(ft, txid);
            return;
        }
        if ![
            Method::ALLOCATE,
            Method::REFRESH,
            Method::CREATE_PERMISSION,
            Method::CHANNEL_BIND,
        ]
        .contains(&method)
        {
            self.error(ft, method, txid, 400, None, &[]);
            return;
        }
        let (username, key, sha256_mi) = match self.authenticate(now, ft, &msg) {
            Verdict::Ok(v) => *v,
            Verdict::Reject => return,
        };
        let auth = Auth {
            key: &key,
            sha256: sha256_mi,
        };
        if method != Method::ALLOCATE {
            match self.allocations.get(&ft) {
                None => {
                    self.error(ft, method, txid, 437, Some(auth), &[]);
                    return;
                }
                Some(a) if a.username != username => {
                    self.error(ft, method, txid, 441, Some(auth), &[]);
                    return;
                }
                Some(_) => {}
            }
        }
        match method {
            Method::ALLOCATE => self.allocate(now, ft, &msg, username, auth),
            Method::REFRESH => self.refresh(now, ft, &msg, auth),
            Method::CREATE_PERMISSION => self.create_permission(now, ft, &msg, auth),
            _ => self.channel_bind(now, ft, &msg, auth),
        }
    }

    fn binding(&mut self, ft: FiveTuple, txid: TransactionId) {
        let mut buf = [0u8; 256];
        let Ok(mut b) = MessageBuilder::new(
            &mut buf,
            MessageType::new(Class::SuccessResponse, Method::BINDING),
            txid,
        ) else {
            return;
        };
        if b.xor_mapped_address(ft.client).is_err() {
            return;
        }
        if let Some(s) = &self.config.software {
            let _ = b.software(s);
        }
        let Ok(n) = b.finish_with_fingerprint() else {
            return;
        };
        self.stats.success_responses += 1;
        self.reply(ft, buf.get(..n).unwrap_or_default().to_vec());
    }

    fn reply(&mut self, ft: FiveTuple, payload: Vec<u8>) {
        self.push_transmit(Transmit {
            transport: ft.transport,
            source: ft.server,
            destination: ft.client,
            payload,
        });
    }

    /// RFC 8489 section 9.2.4 checks, in order; sends the error response itself.
    fn authenticate(&mut self, now: Instant, ft: FiveTuple, msg: &Message<&[u8]>) -> Verdict {
        let txid = msg.transaction_id();
        let method = msg.method();
        if !msg.has_message_integrity() && !msg.has_message_integrity_sha256() {
            self.challenge(now, ft, method, txid, 401);
            return Verdict::Reject;
        }
        let text = |t: u16| {
            msg.get(t)
                .and_then(|a| core::str::from_utf8(a.value).ok())
                .map(str::to_owned)
        };
        let (Some(username), Some(realm), Some(nonce)) =
            (text(attr::USERNAME), text(attr::REALM), text(attr::NONCE))
        else {
            self.error(ft, method, txid, 400, None, &[]);
            return Verdict::Reject;
        };
        // Downgrade protection (RFC 8489 section 9.2.4): PASSWORD-ALGORITHMS must repeat
        // what we offered, and PASSWORD-ALGORITHM must be one of them.
        let offered: &[u8] = if self.config.offer_sha256 {
            &SHA256_FIRST
        } else {
            &MD5_ONLY
        };
        let algs = msg.get(attr::PASSWORD_ALGORITHMS).map(|a| a.value);
        let alg = msg.get(attr::PASSWORD_ALGORITHM).map(|a| a.value);
        let algorithm = match (algs, alg) {
            (None, None) => PasswordAlgorithm::Md5,
            (Some(list), Some(one)) if list == offered => {
                let chosen = one
                    .first_chunk::<2>()
                    .map(|n| u16::from_be_bytes(*n))
                    .and_then(PasswordAlgorithm::from_number);
                let in_list = list.chunks(4).any(|c| c.get(..2) == one.get(..2));
                match chosen {
                    Some(a) if in_list => a,
                    _ => {
                        self.error(ft, method, txid, 400, None, &[]);
                        return Verdict::Reject;
                    }
                }
            }
            _ => {
                self.error(ft, method, txid, 400, None, &[]);
                return Verdict::Reject;
            }
        };
        if self.nonce.check(now, ft.client, &nonce) == NonceCheck::Stale {
            self.challenge(now, ft, method, txid, 438);
            return Verdict::Reject;
        }
        if realm != self.config.realm {
            self.challenge(now, ft, method, txid, 401);
            return Verdict::Reject;
        }
        let unix_now = self.unix_now(now);
        let Some(password) = self
            .config
            .credentials
            .password(&username, &realm, unix_now)
        else {
            self.challenge(now, ft, method, txid, 401);
            return Verdict::Reject;
        };
        let key = IntegrityKey::long_term(algorithm, &username, &realm, &password);
        if msg.verify_integrity(&key).is_err() {
            self.challenge(now, ft, method, txid, 401);
            return Verdict::Reject;
        }
        Verdict::Ok(Box::new((
            username,
            key,
            msg.has_message_integrity_sha256(),
        )))
    }

    /// 401 or 438 with REALM, a fresh NONCE and PASSWORD-ALGORITHMS, no integrity.
    fn challenge(
        &mut self,
        now: Instant,
        ft: FiveTuple,
        method: Method,
        txid: TransactionId,
        code: u16,
    ) {
        let nonce = self.nonce.issue(now, ft.client);
        let realm = self.config.realm.clone();
        let algs: &[u8] = if self.config.offer_sha256 {
            &SHA256_FIRST
        } else {
            &MD5_ONLY
        };
        self.error(
            ft,
            method,
            txid,
            code,
            None,
            &[
                (attr::REALM, realm.as_bytes()),
                (attr::NONCE, nonce.as_bytes()),
                (attr::PASSWORD_ALGORITHMS, algs),
            ],
        );
    }

    fn error(
        &mut self,
        ft: FiveTuple,
        method: Method,
        txid: TransactionId,
        code: u16,
        auth: Option<Auth<'_>>,
        extra: &[(u16, &[u8])],
    ) {
        self.stats.error_responses += 1;
        let mut buf = [0u8; 1200];
        let Ok(mut b) = MessageBuilder::new(
            &mut buf,
            MessageType::new(Class::ErrorResponse, method),
            txid,
        ) else {
            return;
        };
        if b.error_code(code, None).is_err() {
            return;
        }
        for (t, v) in extra {
            if b.add_raw(*t, v).is_err() {
                return;
            }
        }
        if let Some(s) = &self.config.software {
            let _ = b.software(s);
        }
        let n = match auth {
            Some(a) => a.finish(b),
            None => b.finish_with_fingerprint(),
        };
        if let Ok(n) = n {
            self.reply(ft, buf.get(..n).unwrap_or_default().to_vec());
        }
    }

    fn success(
        &mut self,
        ft: FiveTuple,
        method: Method,
        txid: TransactionId,
        auth: Auth<'_>,
        attrs: &[(u16, &[u8])],
    ) {
        let mut buf = [0u8; 1200];
        let Ok(mut b) = MessageBuilder::new(
            &mut buf,
            MessageType::new(Class::SuccessResponse, method),
            txid,
        ) else {
            return;
        };
        for (t, v) in attrs {
            if b.add_raw(*t, v).is_err() {
                return;
            }
        }
        if let Some(s) = &self.config.software {
            let _ = b.software(s);
        }
        if let Ok(n) = auth.finish(b) {
            self.stats.success_responses += 1;
            self.reply(ft, buf.get(..n).unwrap_or_default().to_vec());
        }
    }

    fn lifetime_of(&self, msg: &Message<&[u8]>) -> Option<Duration> {
        let requested = msg
            .get(attr::LIFETIME)
            .and_then(|a| wire::decode_u32(a.value))
            .map(|s| Duration::from_secs(u64::from(s)));
        match requested {
            Some(d) if d.is_zero() => None,
            Some(d) => Some(
                d.max(self.config.default_lifetime)
                    .min(self.config.max_lifetime),
            ),
            None => Some(self.config.default_lifetime),
        }
    }

    fn allocate(
        &mut self,
        now: Instant,
        ft: FiveTuple,
        msg: &Message<&[u8]>,
        username: String,
        auth: Auth<'_>,
    ) {
        let txid = msg.transaction_id();
        let m = Method::ALLOCATE;
        if let Some(a) = self.allocations.get(&ft) {
            if a.allocate_txid == txid {
                // A retransmitted Allocate (RFC 8656 section 7.2): answer it again.
                let relayed = a.relayed.clone();
                let lifetime = a.allocate_lifetime;
                self.allocate_success(ft, txid, &relayed, lifetime, Extras::default(), auth);
            } else {
                self.error(ft, m, txid, 437, Some(auth), &[]);
            }
            return;
        }
        match msg
            .get(attr::REQUESTED_TRANSPORT)
            .and_then(|a| wire::decode_first_byte(a.value))
        {
            None => return self.error(ft, m, txid, 400, Some(auth), &[]),
            Some(PROTO_UDP) => {}
            Some(_) => return self.error(ft, m, txid, 442, Some(auth), &[]),
        }
        let token = msg
            .get(attr::RESERVATION_TOKEN)
            .and_then(|a| <[u8; 8]>::try_from(a.value).ok());
        let even_port = msg
            .get(attr::EVEN_PORT)
            .map(|a| a.value.first().is_some_and(|b| b & 0x80 != 0));
        if msg.get(attr::RESERVATION_TOKEN).is_some() && (token.is_none() || even_port.is_some()) {
            // RFC 8656 section 7.2: both EVEN-PORT and RESERVATION-TOKEN is a bad request.
            return self.error(ft, m, txid, 400, Some(auth), &[]);
        }
        let requested = msg.get(attr::REQUESTED_ADDRESS_FAMILY).map(|a| a.value);
        let additional = msg.get(attr::ADDITIONAL_ADDRESS_FAMILY).map(|a| a.value);
        let (want_v4, want_v6) = match (requested, additional) {
            (Some(_), Some(_)) => return self.error(ft, m, txid, 400, Some(auth), &[]),
            (Some(v), None) => match wire::decode_first_byte(v) {
                Some(FAMILY_V4) => (true, false),
                Some(FAMILY_V6) => (false, true),
                _ => return self.error(ft, m, txid, 440, Some(auth), &[]),
            },
            (None, Some(v)) => match wire::decode_first_byte(v) {
                Some(FAMILY_V6) => (true, true),
                _ => return self.error(ft, m, txid, 400, Some(auth), &[]),
            },
            (None, None) => (true, false),
        };
        let v4_ip = Some(self.config.relay_ip).filter(|ip| ip.is_ipv4());
        let v6_ip = self
            .config
            .relay_ip_v6
            .or(Some(self.config.relay_ip).filter(|ip| ip.is_ipv6()));
        if want_v6 && !want_v4 && v6_ip.is_none() || want_v4 && !want_v6 && v4_ip.is_none() {
            return self.error(ft, m, txid, 440, Some(auth), &[]);
        }
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut address_error = None;
        if want_v4 {
            if let Some(ip) = v4_ip {
                ips.push(ip);
            }
        }
        if want_v6 {
            match v6_ip {
                Some(ip) => ips.push(ip),
                None => address_error = Some(FAMILY_V6),
            }
        }
        if ips.is_empty() {
            return self.error(ft, m, txid, 440, Some(auth), &[]);
        }
        // Quotas: 486 per user, 508 in total or when ports run out (RFC 8656 section 7.2).
        if self.per_user.get(&username).copied().unwrap_or(0)
            >= self.config.max_allocations_per_user
        {
            return self.error(ft, m, txid, 486, Some(auth), &[]);
        }
        if self.allocations.len() >= self.config.max_allocations || self.free_ports.is_empty() {
            return self.error(ft, m, txid, 508, Some(auth), &[]);
        }
        let mut new_token = None;
        let port = if let Some(t) = token {
            // A port reserved by an earlier EVEN-PORT R=1 Allocate (RFC 8656 section 7.2).
            match self.reservations.remove(&t) {
                Some((port, exp)) if exp > now => port,
                Some((port, _)) => {
                    self.free_ports.insert(0, port);
                    return self.error(ft, m, txid, 508, Some(auth), &[]);
                }
                None => return self.error(ft, m, txid, 508, Some(auth), &[]),
            }
        } else {
            let reserve =
                even_port == Some(true) && self.reservations.len() < self.config.max_allocations;
            let Some((port, reserved)) = self.take_port(even_port.is_some(), reserve) else {
                return self.error(ft, m, txid, 508, Some(auth), &[]);
            };
            if let Some(next) = reserved {
                let mut t = [0u8; 8];
                self.rng.fill(&mut t);
                self.reservations
                    .insert(t, (next, now + RESERVATION_LIFETIME));
                self.arm(now + RESERVATION_LIFETIME);
                new_token = Some(t);
            }
            port
        };
        // LIFETIME 0 on Allocate: grant the default rather than an allocation born dead.
        let lifetime = self
            .lifetime_of(msg)
            .unwrap_or(self.config.default_lifetime);
        let extras = Extras {
            address_error,
            token: new_token,
        };
        self.allocate_with(now, ft, txid, username, auth, ips, port, lifetime, extras);
    }

    #[allow(clippy::too_many_arguments)]
    fn allocate_with(
        &mut self,
        now: Instant,
        ft: FiveTuple,
        txid: TransactionId,
        username: String,
        auth: Auth<'_>,
        ips: Vec<IpAddr>,
        port: u16,
        lifetime: Duration,
        extras: Extras,
    ) {
        let relayed: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        let secs = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
        let expires = now + lifetime;
        for r in &relayed {
            self.by_relay.insert(*r, ft);
        }
        *self.per_user.entry(username.clone()).or_insert(0) += 1;
        let rate = self.config.bandwidth_per_allocation.unwrap_or(0) as f64;
        self.allocations.insert(
            ft,
            Allocation {
                relayed: relayed.clone(),
                username: username.clone(),
                expires,
                allocate_txid: txid,
                allocate_lifetime: secs,
                permissions: FastMap::with_hasher(self.hash),
                channels: FastMap::with_hasher(self.hash),
                peer_channels: FastMap::with_hasher(self.hash),
                tokens: rate,
                tokens_at: now,
            },
        );
        self.arm(expires);
        self.push_event(ServerEvent::AllocationCreated {
            five_tuple: ft,
            relayed: relayed.clone(),
            username,
        });
        self.allocate_success(ft, txid, &relayed, secs, extras, auth);
    }

    fn allocate_success(
        &mut self,
        ft: FiveTuple,
        txid: TransactionId,
        relayed: &[SocketAddr],
        lifetime: u32,
        extras: Extras,
        auth: Auth<'_>,
    ) {
        let encoded: Vec<([u8; 20], usize)> = relayed
            .iter()
            .map(|r| wire::encode_xor_address(*r, &txid))
            .collect();
        let (mapped, mlen) = wire::encode_xor_address(ft.client, &txid);
        let life = lifetime.to_be_bytes();
        let mut attrs: Vec<(u16, &[u8])> = encoded
            .iter()
            .map(|(b, n)| (attr::XOR_RELAYED_ADDRESS, b.get(..*n).unwrap_or_default()))
            .collect();
        attrs.push((attr::LIFETIME, &life));
        let aec;
        if let Some(t) = &extras.token {
            attrs.push((attr::RESERVATION_TOKEN, t));
        }
        if let Some(fam) = extras.address_error {
            aec = wire::encode_address_error_code(fam, 440, "Address Family not Supported");
            attrs.push((attr::ADDRESS_ERROR_CODE, &aec));
        }
        attrs.push((
            attr::XOR_MAPPED_ADDRESS,
            mapped.get(..mlen).unwrap_or_default(),
        ));
        self.success(ft, Method::ALLOCATE, txid, auth, &attrs);
    }

    /// A free port; even if asked, and with the next port reserved too if asked.
    fn take_port(&mut self, even: bool, reserve: bool) -> Option<(u16, Option<u16>)> {
        if reserve {
            let i = self.free_ports.iter().rposition(|p| {
                p % 2 == 0
                    && p.checked_add(1)
                        .is_some_and(|n| self.free_ports.contains(&n))
            })?;
            let port = self.free_ports.swap_remove(i);
            let next = port.checked_add(1)?;
            let j = self.free_ports.iter().position(|p| *p == next)?;
            self.free_ports.swap_remove(j);
            Some((port, Some(next)))
        } else if even {
            let i = self.free_ports.iter().rposition(|p| p % 2 == 0)?;
            Some((self.free_ports.swap_remove(i), None))
        } else {
            self.free_ports.pop().map(|p| (p, None))
        }
    }

    fn remove_allocation(&mut self, ft: &FiveTuple, expired: bool) {
        let Some(a) = self.allocations.remove(ft) else {
            return;
        };
        for r in &a.relayed {
            self.by_relay.remove(r);
        }
        if let Some(port) = a.relayed.first().map(|r| r.port()) {
            // Reused last: the pool is a stack, so push to the bottom.
            self.free_ports.insert(0, port);
        }
        if let Some(n) = self.per_user.get_mut(&a.username) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_user.remove(&a.username);
            }
        }
        self.push_event(ServerEvent::AllocationClosed {
            five_tuple: *ft,
            relayed: a.relayed,
            expired,
        });
    }

    fn refresh(&mut self, now: Instant, ft: FiveTuple, msg: &Message<&[u8]>, auth: Auth<'_>) {
        let txid = msg.transaction_id();
        match self.lifetime_of(msg) {
            None => {
                self.remove_allocation(&ft, false);
                self.success(
                    ft,
                    Method::REFRESH,
                    txid,
                    auth,
                    &[(attr::LIFETIME, &[0; 4])],
                );
            }
            Some(d) => {
                if let Some(a) = self.allocations.get_mut(&ft) {
                    a.expires = now + d;
                }
                self.arm(now + d);
                let secs = u32::try_from(d.as_secs()).unwrap_or(u32::MAX).to_be_bytes();
                self.success(ft, Method::REFRESH, txid, auth, &[(attr::LIFETIME, &secs)]);
            }
        }
    }

    /// Policy check for a peer: 403 unless allowed, 443 if no relayed address of its
    /// family. Returns the error code.
    fn check_peer(&self, ft: &FiveTuple, peer: SocketAddr) -> Result<(), u16> {
        if self.config.listen_addrs.contains(&peer) {
            return Err(403);
        }
        if self.config.policy.check(peer.ip()).is_err() {
            return Err(403);
        }
        let v4 = crate::policy::canonical(peer.ip()).is_ipv4();
        let has_family = self
            .allocations
            .get(ft)
            .is_some_and(|a| a.relayed.iter().any(|r| r.is_ipv4() == v4));
        if !has_family {
            return Err(443);
        }
        Ok(())
    }

    fn create_permission(
        &mut self,
        now: Instant,
        ft: FiveTuple,
        msg: &Message<&[u8]>,
        auth: Auth<'_>,
    ) {
        let txid = msg.transaction_id();
        let m = Method::CREATE_PERMISSION;
        let mut peers = Vec::new();
        for a in msg.attributes() {
            if a.attr_type == attr::XOR_PEER_ADDRESS {
                match wire::decode_xor_address(a.value, &txid) {
                    Some(p) => peers.push(p),
                    None => return self.error(ft, m, txid, 400, Some(auth), &[]),
                }
            }
        }
        if peers.is_empty() || peers.len() > self.config.max_permissions {
            return self.error(ft, m, txid, 400, Some(auth), &[]);
        }
        for p in &peers {
            if let Err(code) = self.check_peer(&ft, *p) {
                return self.error(ft, m, txid, code, Some(auth), &[]);
            }
        }
        let cap = self.config.max_permissions;
        let Some(a) = self.allocations.get_mut(&ft) else {
            return;
        };
        let new = peers
            .iter()
            .filter(|p| {
                !a.permissions
                    .contains_key(&crate::policy::canonical(p.ip()))
            })
            .count();
        if a.permissions.len() + new > cap {
            return self.error(ft, m, txid, 508, Some(auth), &[]);
        }
        for p in peers {
            a.permissions
                .insert(crate::policy::canonical(p.ip()), now + PERMISSION_LIFETIME);
        }
        self.arm(now + PERMISSION_LIFETIME);
        self.success(ft, m, txid, auth, &[]);
    }

    fn channel_bind(&mut self, now: Instant, ft: FiveTuple, msg: &Message<&[u8]>, auth: Auth<'_>) {
        let txid = msg.transaction_id();
        let m = Method::CHANNEL_BIND;
        let number = msg
            .get(attr::CHANNEL_NUMBER)
            .and_then(|a| wire::decode_channel_number(a.value));
        let peer = msg
            .get(attr::XOR_PEER_ADDRESS)
            .and_then(|a| wire::decode_xor_address(a.value, &txid));
        let (Some(number), Some(peer)) = (number, peer) else {
            return self.error(ft, m, txid, 400, Some(auth), &[]);
        };
        if number < wire::MIN_CHANNEL || number > self.config.max_channel_number {
            return self.error(ft, m, txid, 400, Some(auth), &[]);
        }
        if let Err(code) = self.check_peer(&ft, peer) {
            return self.error(ft, m, txid, code, Some(auth), &[]);
        }
        let cap = self.config.max_channels;
        let Some(a) = self.allocations.get_mut(&ft) else {
            return;
        };
        // A channel is bound to one peer and a peer to one channel, also during the
        // cooldown after expiry (RFC 8656 section 11.2).
        if a.channels.get(&number).is_some_and(|c| c.peer != peer)
            || a.peer_channels.get(&peer).is_some_and(|n| *n != number)
        {
            return self.error(ft, m, txid, 400, Some(auth), &[]);
        }
        if !a.channels.contains_key(&number) && a.channels.len() >= cap {
            return self.error(ft, m, txid, 508, Some(auth), &[]);
        }
        let perm_new = !a
            .permissions
            .contains_key(&crate::policy::canonical(peer.ip()));
        if perm_new && a.permissions.len() >= self.config.max_permissions {
            return self.error(ft, m, txid, 508, Some(auth), &[]);
        }
        a.channels.insert(
            number,
            Channel {
                peer,
                expires: now + CHANNEL_LIFETIME,
            },
        );
        a.peer_channels.insert(peer, number);
        a.permissions.insert(
            crate::policy::canonical(peer.ip()),
            now + PERMISSION_LIFETIME,
        );
        self.arm(now + PERMISSION_LIFETIME);
        self.success(ft, m, txid, auth, &[]);
    }

    fn on_send_indication(&mut self, now: Instant, ft: FiveTuple, msg: &Message<&[u8]>) {
        let txid = msg.transaction_id();
        let peer = msg
            .get(attr::XOR_PEER_ADDRESS)
            .and_then(|a| wire::decode_xor_address(a.value, &txid));
        let (Some(peer), Some(data)) = (peer, msg.get(attr::DATA).map(|a| a.value)) else {
            self.stats.malformed += 1;
            return;
        };
        let Some(a) = self.allocations.get(&ft) else {
            self.stats.dropped_no_permission += 1;
            return;
        };
        let permitted = a
            .permissions
            .get(&crate::policy::canonical(peer.ip()))
            .is_some_and(|exp| *exp > now);
        let source = a
            .relayed
            .iter()
            .find(|r| r.is_ipv4() == crate::policy::canonical(peer.ip()).is_ipv4())
            .copied();
        let (true, Some(source)) = (permitted, source) else {
            self.stats.dropped_no_permission += 1;
            return;
        };
        if !self.take_tokens(&ft, now, data.len()) {
            return;
        }
        self.stats.relayed_to_peer += 1;
        self.push_transmit(Transmit {
            transport: Transport::Udp,
            source,
            destination: peer,
            payload: data.to_vec(),
        });
    }

    /// Deletes one allocation (e.g. the driver could not open its relayed socket); emits
    /// [`ServerEvent::AllocationClosed`]. Returns false if there was none.
    pub fn deallocate(&mut self, five_tuple: &FiveTuple) -> bool {
        let had = self.allocations.contains_key(five_tuple);
        self.remove_allocation(five_tuple, false);
        had
    }

    /// Removes every allocation (server shutdown); emits [`ServerEvent::AllocationClosed`].
    pub fn close_all(&mut self) {
        let fts: Vec<FiveTuple> = self.allocations.keys().copied().collect();
        for ft in fts {
            self.remove_allocation(&ft, false);
        }
    }

    #[doc(hidden)]
    pub fn random_u64(&mut self) -> u64 {
        self.rng.random()
    }
}

/// Optional parts of an Allocate success response.
#[derive(Clone, Copy, Default)]
struct Extras {
    /// ADDRESS-ERROR-CODE for this family (dual-stack request, family unavailable).
    address_error: Option<u8>,
    /// RESERVATION-TOKEN for the reserved next port.
    token: Option<[u8; 8]>,
}

/// The credentials a response is signed with: the same key and integrity attribute as the
/// request (RFC 8489 section 9.2.4).
#[derive(Clone, Copy)]
struct Auth<'k> {
    key: &'k IntegrityKey,
    sha256: bool,
}

impl Auth<'_> {
    fn finish(self, b: MessageBuilder<'_>) -> Result<usize, sansrtc_stun::Error> {
        if self.sha256 {
            b.finish_with_integrity_sha256(self.key, 32)
        } else {
            b.finish_with_integrity(self.key)
        }
    }
}

/// Writes a Data indication (RFC 8656 section 11.4) with XOR-PEER-ADDRESS and DATA.
pub fn build_data_indication(
    buf: &mut [u8],
    txid: TransactionId,
    peer: SocketAddr,
    data: &[u8],
) -> Result<usize, Error> {
    let mut b = MessageBuilder::new(buf, MessageType::new(Class::Indication, Method::DATA), txid)?;
    let (v, n) = wire::encode_xor_address(peer, &txid);
    b.add_raw(attr::XOR_PEER_ADDRESS, v.get(..n).unwrap_or_default())?;
    b.add_raw(attr::DATA, data)?;
    Ok(b.finish())
}
