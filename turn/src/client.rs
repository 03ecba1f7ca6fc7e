//! The sans-IO TURN client core (RFC 8656 sections 7-12).
//!
//! Call [`Client::allocate`], then feed every datagram from the server to
//! [`Client::handle_receive`], drain [`Client::poll_transmit`] and [`Client::poll_event`],
//! and arm a timer for [`Client::poll_timeout`]. The client authenticates with long-term
//! credentials (401 with REALM/NONCE, 438 stale nonce and realm changes retried, SHA-256
//! when the server offers it, RFC 8489 section 9.2), refreshes the allocation before it
//! expires, keeps permissions alive (every 4 minutes, they last 5) and channel bindings
//! alive (every 9 minutes, they last 10), and retransmits requests over UDP (RFC 8489
//! section 6.2.1: RTO doubling, 7 transmissions, then 16 RTO).

use core::net::{IpAddr, SocketAddr};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;
use sansrtc_stun::{
    Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, PasswordAlgorithm,
    TransactionId, attr,
};

use crate::Error;
use crate::server::Transport;
use crate::wire::{self, ChannelData, FAMILY_V4, FAMILY_V6, PROTO_UDP};

/// Which relayed address families to ask for (RFC 8656 section 7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyRequest {
    /// IPv4 only (the default; no attribute sent).
    V4,
    /// IPv6 only (REQUESTED-ADDRESS-FAMILY IPv6).
    V6,
    /// Both (ADDITIONAL-ADDRESS-FAMILY IPv6).
    Dual,
}

/// Client configuration. Every table has a cap.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The TURN server.
    pub server: SocketAddr,
    /// The transport to the server (ChannelData is padded on streams).
    pub transport: Transport,
    /// Long-term credential username.
    pub username: String,
    /// Long-term credential password.
    pub password: String,
    /// Requested allocation lifetime (LIFETIME; the server may grant another).
    pub lifetime: Duration,
    /// Address families.
    pub family: FamilyRequest,
    /// Initial retransmission timeout (RFC 8489: 500 ms).
    pub rto: Duration,
    /// Transmissions of one request before giving up (Rc, 7).
    pub max_transmissions: u32,
    /// Cap on permissions (IP addresses).
    pub max_permissions: usize,
    /// Cap on channel bindings.
    pub max_channels: usize,
    /// Cap on requests in flight.
    pub max_pending: usize,
    /// Cap on queued transmits (new ones are dropped beyond).
    pub max_transmits: usize,
    /// Cap on queued events (new ones are dropped beyond).
    pub max_events: usize,
    /// SOFTWARE attribute, if any.
    pub software: Option<String>,
    /// RNG seed (transaction IDs). `None`: from the OS once.
    pub seed: Option<u64>,
}

impl ClientConfig {
    /// Defaults for a UDP client of `server`.
    pub fn new(
        server: SocketAddr,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            server,
            transport: Transport::Udp,
            username: username.into(),
            password: password.into(),
            lifetime: Duration::from_secs(600),
            family: FamilyRequest::V4,
            rto: Duration::from_millis(500),
            max_transmissions: 7,
            max_permissions: 64,
            max_channels: 64,
            max_pending: 64,
            max_transmits: 1024,
            max_events: 1024,
            software: None,
            seed: None,
        }
    }
}

/// A datagram for the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The server address.
    pub destination: SocketAddr,
    /// The bytes.
    pub payload: Vec<u8>,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// The allocation exists.
    Allocated {
        /// Relayed transport addresses (two for dual-stack).
        relayed: Vec<SocketAddr>,
        /// Our address as the server sees it (XOR-MAPPED-ADDRESS).
        mapped: Option<SocketAddr>,
        /// Granted lifetime.
        lifetime: Duration,
    },
    /// Allocate failed: an error code, or `None` after a timeout.
    AllocationFailed {
        /// The ERROR-CODE, if the server answered.
        code: Option<u16>,
    },
    /// A Refresh succeeded.
    Refreshed {
        /// The new lifetime.
        lifetime: Duration,
    },
    /// The allocation is gone (refresh failed with 437, or timed out, or expired).
    AllocationLost,
    /// The allocation was deleted on request.
    Deallocated,
    /// A permission was installed (or refreshed for the first time).
    PermissionCreated {
        /// The peer IP.
        peer: IpAddr,
    },
    /// CreatePermission failed (e.g. 403 for a forbidden peer); `None` after a timeout.
    PermissionFailed {
        /// The peer IP.
        peer: IpAddr,
        /// The ERROR-CODE.
        code: Option<u16>,
    },
    /// A channel is bound.
    ChannelBound {
        /// The peer.
        peer: SocketAddr,
        /// The channel number.
        channel: u16,
    },
    /// ChannelBind failed; `None` after a timeout.
    ChannelBindFailed {
        /// The peer.
        peer: SocketAddr,
        /// The ERROR-CODE.
        code: Option<u16>,
    },
    /// Data from a peer (Data indication or ChannelData).
    Data {
        /// The peer.
        peer: SocketAddr,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Datagrams that were not understood or failed integrity.
    pub dropped: u64,
    /// Request retransmissions.
    pub retransmissions: u64,
    /// Datagrams from peers delivered.
    pub data_received: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Allocate,
    Refresh { lifetime: u32 },
    Permission(IpAddr),
    Bind(SocketAddr, u16),
}

#[derive(Debug)]
struct Pending {
    kind: Kind,
    bytes: Vec<u8>,
    next: Instant,
    rto: Duration,
    sent: u32,
    auth_retries: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Allocating,
    Allocated,
    Closed,
}

#[derive(Debug)]
struct Perm {
    refresh_at: Option<Instant>,
    installed: bool,
}

#[derive(Debug)]
struct Chan {
    number: u16,
    bound: bool,
    refresh_at: Option<Instant>,
}

/// Permissions are refreshed this long after they are installed (they last 300 s).
pub const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Channel bindings are refreshed this long after they are bound (they last 600 s).
pub const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
const MAX_AUTH_RETRIES: u8 = 3;
/// After a channel refresh timed out, try again this soon.
const BIND_RETRY: Duration = Duration::from_secs(10);

/// The TURN client core. See the module docs.
pub struct Client {
    config: ClientConfig,
    rng: StdRng,
    state: State,
    realm: Option<String>,
    nonce: Option<String>,
    key: Option<IntegrityKey>,
    algorithms: Option<Vec<u8>>,
    algorithm: PasswordAlgorithm,
    relayed: Vec<SocketAddr>,
    mapped: Option<SocketAddr>,
    refresh_at: Option<Instant>,
    expires: Option<Instant>,
    perms: HashMap<IpAddr, Perm>,
    chans: HashMap<SocketAddr, Chan>,
    by_number: HashMap<u16, SocketAddr>,
    next_channel: u16,
    pending: HashMap<TransactionId, Pending>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
    stats: ClientStats,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("state", &self.state)
            .field("relayed", &self.relayed)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client; nothing is sent until [`allocate`](Self::allocate).
    pub fn new(config: ClientConfig, _now: Instant) -> Self {
        let rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        Self {
            config,
            rng,
            state: State::Idle,
            realm: None,
            nonce: None,
            key: None,
            algorithms: None,
            algorithm: PasswordAlgorithm::Md5,
            relayed: Vec::new(),
            mapped: None,
            refresh_at: None,
            expires: None,
            perms: HashMap::new(),
            chans: HashMap::new(),
            by_number: HashMap::new(),
            next_channel: wire::MIN_CHANNEL,
            pending: HashMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: ClientStats::default(),
        }
    }

    // ---- getters ----

    /// The relayed addresses once allocated.
    pub fn relayed_addresses(&self) -> &[SocketAddr] {
        &self.relayed
    }

    /// Our server-reflexive address from the Allocate response.
    pub fn mapped_address(&self) -> Option<SocketAddr> {
        self.mapped
    }

    /// True while the allocation exists.
    pub fn is_allocated(&self) -> bool {
        self.state == State::Allocated
    }

    /// The channel bound to `peer`, if the binding succeeded.
    pub fn channel_of(&self, peer: SocketAddr) -> Option<u16> {
        self.chans.get(&peer).filter(|c| c.bound).map(|c| c.number)
    }

    /// The password algorithm in use (SHA-256 when the server offered it).
    pub fn password_algorithm(&self) -> PasswordAlgorithm {
        self.algorithm
    }

    /// Counters.
    pub fn stats(&self) -> ClientStats {
        self.stats
    }

    // ---- commands ----

    /// Sends an Allocate request (first without credentials, RFC 8656 section 7.1).
    pub fn allocate(&mut self, now: Instant) -> Result<(), Error> {
        if self.state != State::Idle {
            return Err(Error::InvalidState {
                what: "allocate twice",
            });
        }
        self.state = State::Allocating;
        self.request(now, Kind::Allocate, 0)
    }

    /// Installs (and keeps alive) a permission for `peer` (CreatePermission).
    pub fn create_permission(&mut self, now: Instant, peer: IpAddr) -> Result<(), Error> {
        self.require_allocated("create_permission before the allocation exists")?;
        if !self.perms.contains_key(&peer) && self.perms.len() >= self.config.max_permissions {
            return Err(Error::CapacityExceeded {
                what: "permissions",
                cap: self.config.max_permissions,
            });
        }
        self.perms.entry(peer).or_insert(Perm {
            refresh_at: None,
            installed: false,
        });
        self.request(now, Kind::Permission(peer), 0)
    }

    /// Binds a channel to `peer` (ChannelBind, which also installs the permission); returns
    /// the channel number. Data to `peer` uses ChannelData once bound.
    pub fn bind_channel(&mut self, now: Instant, peer: SocketAddr) -> Result<u16, Error> {
        self.require_allocated("bind_channel before the allocation exists")?;
        if let Some(c) = self.chans.get(&peer) {
            let number = c.number;
            let in_flight = self
                .pending
                .values()
                .any(|p| p.kind == Kind::Bind(peer, number));
            if !c.bound && !in_flight {
                // An earlier attempt timed out: try again with the same number.
                self.request(now, Kind::Bind(peer, number), 0)?;
            }
            return Ok(number);
        }
        if self.chans.len() >= self.config.max_channels
            || self.by_number.len() > usize::from(wire::MAX_CHANNEL - wire::MIN_CHANNEL)
        {
            return Err(Error::CapacityExceeded {
                what: "channels",
                cap: self.config.max_channels,
            });
        }
        let mut number = self.next_channel;
        while self.by_number.contains_key(&number) {
            number = if number >= wire::MAX_CHANNEL {
                wire::MIN_CHANNEL
            } else {
                number + 1
            };
        }
        self.next_channel = if number >= wire::MAX_CHANNEL {
            wire::MIN_CHANNEL
        } else {
            number + 1
        };
        self.chans.insert(
            peer,
            Chan {
                number,
                bound: false,
                refresh_at: None,
            },
        );
        self.by_number.insert(number, peer);
        if !self.perms.contains_key(&peer.ip()) && self.perms.len() < self.config.max_permissions {
            // ChannelBind installs the permission; keep it alive from now on.
            self.perms.insert(
                peer.ip(),
                Perm {
                    refresh_at: Some(now + PERMISSION_REFRESH),
                    installed: false,
                },
            );
        }
        self.request(now, Kind::Bind(peer, number), 0)?;
        Ok(number)
    }

    /// Sends `data` to `peer` through the relay: ChannelData if a channel is bound, else a
    /// Send indication (RFC 8656 section 10).
    pub fn send(&mut self, _now: Instant, peer: SocketAddr, data: &[u8]) -> Result<(), Error> {
        self.require_allocated("send before the allocation exists")?;
        let stream = self.config.transport.is_stream();
        let payload = match self.chans.get(&peer).filter(|c| c.bound) {
            Some(c) => {
                let cd = ChannelData {
                    channel: c.number,
                    data,
                };
                let mut buf = vec![0u8; cd.buffer_len(stream)];
                let n = cd.emit(&mut buf, stream)?;
                buf.truncate(n);
                buf
            }
            None => {
                let txid = TransactionId::random(&mut self.rng);
                let mut buf = vec![0u8; data.len() + 64];
                let mut b = MessageBuilder::new(
                    &mut buf,
                    MessageType::new(Class::Indication, Method::SEND),
                    txid,
                )?;
                let (v, n) = wire::encode_xor_address(peer, &txid);
                b.add_raw(attr::XOR_PEER_ADDRESS, v.get(..n).unwrap_or_default())?;
                b.add_raw(attr::DATA, data)?;
                let n = b.finish();
                buf.truncate(n);
                buf
            }
        };
        self.push_transmit(payload);
        Ok(())
    }

    /// Deletes the allocation (Refresh with LIFETIME 0).
    pub fn deallocate(&mut self, now: Instant) -> Result<(), Error> {
        self.require_allocated("deallocate without an allocation")?;
        self.request(now, Kind::Refresh { lifetime: 0 }, 0)
    }

    // ---- inputs ----

    /// A datagram from `from`; anything not from the server is ignored.
    pub fn handle_receive(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if from != self.config.server {
            self.stats.dropped += 1;
            return;
        }
        match data.first() {
            Some(0x40..=0x4F) => {
                let Ok(cd) = ChannelData::parse(data) else {
                    self.stats.dropped += 1;
                    return;
                };
                let Some(peer) = self.by_number.get(&cd.channel).copied() else {
                    self.stats.dropped += 1;
                    return;
                };
                self.stats.data_received += 1;
                self.push_event(ClientEvent::Data {
                    peer,
                    data: cd.data.to_vec(),
                });
            }
            Some(0x00..=0x03) => self.on_stun(now, data),
            _ => self.stats.dropped += 1,
        }
    }

    /// Retransmits, refreshes and expires.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Retransmissions and transaction timeouts.
        let due: Vec<TransactionId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.next <= now)
            .map(|(t, _)| *t)
            .collect();
        for txid in due {
            let Some(p) = self.pending.get_mut(&txid) else {
                continue;
            };
            let stream = self.config.transport.is_stream();
            if p.sent >= self.config.max_transmissions || stream {
                let kind = p.kind;
                self.pending.remove(&txid);
                self.on_failure(now, kind, None);
                continue;
            }
            p.sent += 1;
            p.rto = p.rto.saturating_mul(2);
            p.next = if p.sent >= self.config.max_transmissions {
                now + self.config.rto.saturating_mul(16)
            } else {
                now + p.rto
            };
            let bytes = p.bytes.clone();
            self.stats.retransmissions += 1;
            self.push_transmit(bytes);
        }
        if self.state != State::Allocated {
            return;
        }
        if self.expires.is_some_and(|e| e <= now) {
            self.lose();
            return;
        }
        if self.refresh_at.is_some_and(|t| t <= now) {
            self.refresh_at = None;
            let secs = u32::try_from(self.config.lifetime.as_secs()).unwrap_or(u32::MAX);
            let _ = self.request(now, Kind::Refresh { lifetime: secs }, 0);
        }
        let perms: Vec<IpAddr> = self
            .perms
            .iter()
            .filter(|(_, p)| p.refresh_at.is_some_and(|t| t <= now))
            .map(|(ip, _)| *ip)
            .collect();
        for ip in perms {
            if let Some(p) = self.perms.get_mut(&ip) {
                p.refresh_at = None;
            }
            let _ = self.request(now, Kind::Permission(ip), 0);
        }
        let chans: Vec<(SocketAddr, u16)> = self
            .chans
            .iter()
            .filter(|(_, c)| c.refresh_at.is_some_and(|t| t <= now))
            .map(|(p, c)| (*p, c.number))
            .collect();
        for (peer, number) in chans {
            if let Some(c) = self.chans.get_mut(&peer) {
                c.refresh_at = None;
            }
            let _ = self.request(now, Kind::Bind(peer, number), 0);
        }
    }

    // ---- outputs ----

    /// The next datagram for the server.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut min = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for p in self.pending.values() {
            min(Some(p.next));
        }
        if self.state == State::Allocated {
            min(self.refresh_at);
            min(self.expires);
            for p in self.perms.values() {
                min(p.refresh_at);
            }
            for c in self.chans.values() {
                min(c.refresh_at);
            }
        }
        t
    }

    // ---- internals ----

    fn require_allocated(&self, what: &'static str) -> Result<(), Error> {
        if self.state == State::Allocated {
            Ok(())
        } else {
            Err(Error::InvalidState { what })
        }
    }

    fn push_transmit(&mut self, payload: Vec<u8>) {
        if self.transmits.len() < self.config.max_transmits {
            self.transmits.push_back(Transmit {
                destination: self.config.server,
                payload,
            });
        }
    }

    fn push_event(&mut self, e: ClientEvent) {
        if self.events.len() < self.config.max_events {
            self.events.push_back(e);
        }
    }

    fn lose(&mut self) {
        self.state = State::Closed;
        self.pending.clear();
        self.push_event(ClientEvent::AllocationLost);
    }

    fn method_of(kind: Kind) -> Method {
        match kind {
            Kind::Allocate => Method::ALLOCATE,
            Kind::Refresh { .. } => Method::REFRESH,
            Kind::Permission(_) => Method::CREATE_PERMISSION,
            Kind::Bind(..) => Method::CHANNEL_BIND,
        }
    }

    fn request(&mut self, now: Instant, kind: Kind, auth_retries: u8) -> Result<(), Error> {
        if self.pending.len() >= self.config.max_pending {
            return Err(Error::CapacityExceeded {
                what: "requests in flight",
                cap: self.config.max_pending,
            });
        }
        let txid = TransactionId::random(&mut self.rng);
        let bytes = self.build(kind, txid)?;
        self.pending.insert(
            txid,
            Pending {
                kind,
                bytes: bytes.clone(),
                next: now
                    + if self.config.transport.is_stream() {
                        Duration::from_millis(39_500)
                    } else {
                        self.config.rto
                    },
                rto: self.config.rto,
                sent: 1,
                auth_retries,
            },
        );
        self.push_transmit(bytes);
        Ok(())
    }

    fn build(&self, kind: Kind, txid: TransactionId) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; 1024];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::new(Class::Request, Self::method_of(kind)),
            txid,
        )?;
        match kind {
            Kind::Allocate => {
                b.add_raw(attr::REQUESTED_TRANSPORT, &[PROTO_UDP, 0, 0, 0])?;
                let secs = u32::try_from(self.config.lifetime.as_secs()).unwrap_or(u32::MAX);
                b.add_raw(attr::LIFETIME, &secs.to_be_bytes())?;
                match self.config.family {
                    FamilyRequest::V4 => {}
                    FamilyRequest::V6 => {
                        b.add_raw(attr::REQUESTED_ADDRESS_FAMILY, &[FAMILY_V6, 0, 0, 0])?;
                    }
                    FamilyRequest::Dual => {
                        b.add_raw(attr::ADDITIONAL_ADDRESS_FAMILY, &[FAMILY_V6, 0, 0, 0])?;
                    }
                }
                let _ = FAMILY_V4;
            }
            Kind::Refresh { lifetime } => b.add_raw(attr::LIFETIME, &lifetime.to_be_bytes())?,
            Kind::Permission(ip) => {
                let (v, n) = wire::encode_xor_address(SocketAddr::new(ip, 0), &txid);
                b.add_raw(attr::XOR_PEER_ADDRESS, v.get(..n).unwrap_or_default())?;
            }
            Kind::Bind(peer, number) => {
                b.add_raw(attr::CHANNEL_NUMBER, &wire::encode_channel_number(number))?;
                let (v, n) = wire::encode_xor_address(peer, &txid);
                b.add_raw(attr::XOR_PEER_ADDRESS, v.get(..n).unwrap_or_default())?;
            }
        }
        if let Some(s) = &self.config.software {
            b.software(s)?;
        }
        let n = match (&self.key, &self.realm, &self.nonce) {
            (Some(key), Some(realm), Some(nonce)) => {
                b.username(&self.config.username)?;
                b.realm(realm)?;
                b.nonce(nonce)?;
                if let Some(algs) = &self.algorithms {
                    b.add_raw(attr::PASSWORD_ALGORITHMS, algs)?;
                    let [h, l] = self.algorithm.number().to_be_bytes();
                    b.add_raw(attr::PASSWORD_ALGORITHM, &[h, l, 0, 0])?;
                }
                if self.algorithm == PasswordAlgorithm::Sha256 {
                    b.finish_with_integrity_sha256(key, 32)?
                } else {
                    b.finish_with_integrity(key)?
                }
            }
            _ => b.finish_with_fingerprint()?,
        };
        buf.truncate(n);
        Ok(buf)
    }

    fn on_stun(&mut self, now: Instant, data: &[u8]) {
        let Ok(msg) = Message::new_checked(data) else {
            self.stats.dropped += 1;
            return;
        };
        match msg.class() {
            Class::Indication if msg.method() == Method::DATA => {
                let txid = msg.transaction_id();
                let peer = msg
                    .get(attr::XOR_PEER_ADDRESS)
                    .and_then(|a| wire::decode_xor_address(a.value, &txid));
                match (peer, msg.get(attr::DATA)) {
                    (Some(peer), Some(d)) => {
                        self.stats.data_received += 1;
                        self.push_event(ClientEvent::Data {
                            peer,
                            data: d.value.to_vec(),
                        });
                    }
                    _ => self.stats.dropped += 1,
                }
            }
            Class::SuccessResponse | Class::ErrorResponse => self.on_response(now, &msg),
            _ => self.stats.dropped += 1,
        }
    }

    fn on_response(&mut self, now: Instant, msg: &Message<&[u8]>) {
        let txid = msg.transaction_id();
        let Some(p) = self.pending.get(&txid) else {
            self.stats.dropped += 1;
            return;
        };
        if Self::method_of(p.kind) != msg.method() {
            self.stats.dropped += 1;
            return;
        }
        // A response with integrity must verify with our key (RFC 8489 section 9.2.5);
        // an unauthenticated 401/438 is the normal challenge.
        let has_mi = msg.has_message_integrity() || msg.has_message_integrity_sha256();
        if has_mi {
            if let Some(key) = &self.key {
                if msg.verify_integrity(key).is_err() {
                    self.stats.dropped += 1;
                    return;
                }
            }
        } else if msg.class() == Class::SuccessResponse && self.key.is_some() {
            self.stats.dropped += 1;
            return;
        }
        let Some(p) = self.pending.remove(&txid) else {
            return;
        };
        if msg.class() == Class::ErrorResponse {
            let code = msg.error_code().map(|e| e.code);
            if matches!(code, Some(401 | 438))
                && !has_mi
                && p.auth_retries < MAX_AUTH_RETRIES
                && self.learn_challenge(msg, code)
            {
                let _ = self.request(now, p.kind, p.auth_retries + 1);
                return;
            }
            self.on_failure(now, p.kind, code);
            return;
        }
        self.on_success(now, p.kind, msg);
    }

    /// Takes REALM, NONCE and PASSWORD-ALGORITHMS from a 401/438; false if retrying is
    /// pointless (a 401 for credentials that were just used with the same realm).
    fn learn_challenge(&mut self, msg: &Message<&[u8]>, code: Option<u16>) -> bool {
        let text = |t: u16| {
            msg.get(t)
                .and_then(|a| core::str::from_utf8(a.value).ok())
                .map(str::to_owned)
        };
        let (Some(realm), Some(nonce)) = (text(attr::REALM), text(attr::NONCE)) else {
            return false;
        };
        let realm_changed = self.realm.as_deref() != Some(&realm);
        if code == Some(401) && self.key.is_some() && !realm_changed {
            return false;
        }
        // RFC 8489 section 9.2.5: with the nonce cookie and PASSWORD-ALGORITHMS, pick the
        // first algorithm we support, and echo the list back.
        let algs = msg.get(attr::PASSWORD_ALGORITHMS).map(|a| a.value.to_vec());
        match algs {
            Some(list) if nonce.starts_with("obMatJos2") => {
                let pick = list
                    .chunks(4)
                    .filter_map(|c| c.first_chunk::<2>())
                    .map(|n| u16::from_be_bytes(*n))
                    .find_map(PasswordAlgorithm::from_number);
                match pick {
                    Some(a) => {
                        self.algorithm = a;
                        self.algorithms = Some(list);
                    }
                    None => return false,
                }
            }
            _ => {
                self.algorithm = PasswordAlgorithm::Md5;
                self.algorithms = None;
            }
        }
        self.key = Some(IntegrityKey::long_term(
            self.algorithm,
            &self.config.username,
            &realm,
            &self.config.password,
        ));
        self.realm = Some(realm);
        self.nonce = Some(nonce);
        true
    }

    fn on_failure(&mut self, now: Instant, kind: Kind, code: Option<u16>) {
        match kind {
            Kind::Allocate => {
                self.state = State::Closed;
                self.push_event(ClientEvent::AllocationFailed { code });
            }
            Kind::Refresh { lifetime: 0 } => {
                self.state = State::Closed;
                self.push_event(ClientEvent::Deallocated);
            }
            Kind::Refresh { .. } => {
                if self.state == State::Allocated {
                    self.lose();
                }
            }
            Kind::Permission(peer) => {
                if let Some(p) = self.perms.get_mut(&peer) {
                    if code.is_some() {
                        self.perms.remove(&peer);
                    } else {
                        // Timed out: try again at the next keepalive slot.
                        p.refresh_at = None;
                    }
                }
                self.push_event(ClientEvent::PermissionFailed { peer, code });
            }
            Kind::Bind(peer, number) => {
                if code.is_some() {
                    self.chans.remove(&peer);
                    self.by_number.remove(&number);
                } else if let Some(c) = self.chans.get_mut(&peer) {
                    // Timed out: the server may have bound it anyway (the response was
                    // lost), so the number stays reserved for this peer; a bound channel
                    // retries its refresh soon, an unbound one when `bind_channel` is
                    // called again (RFC 8656 section 11: rebinding the same pair is a
                    // refresh, another number for the same peer would be refused).
                    c.refresh_at = c.bound.then(|| now + BIND_RETRY);
                }
                self.push_event(ClientEvent::ChannelBindFailed { peer, code });
            }
        }
    }

    fn on_success(&mut self, now: Instant, kind: Kind, msg: &Message<&[u8]>) {
        let txid = msg.transaction_id();
        let lifetime = msg
            .get(attr::LIFETIME)
            .and_then(|a| wire::decode_u32(a.value))
            .map(|s| Duration::from_secs(u64::from(s)));
        match kind {
            Kind::Allocate => {
                let relayed: Vec<SocketAddr> = msg
                    .attributes()
                    .filter(|a| a.attr_type == attr::XOR_RELAYED_ADDRESS)
                    .filter_map(|a| wire::decode_xor_address(a.value, &txid))
                    .collect();
                let Some(lifetime) = lifetime.filter(|_| !relayed.is_empty()) else {
                    self.state = State::Closed;
                    self.push_event(ClientEvent::AllocationFailed { code: None });
                    return;
                };
                self.state = State::Allocated;
                self.relayed = relayed.clone();
                self.mapped = msg.xor_mapped_address();
                self.set_lifetime(now, lifetime);
                self.push_event(ClientEvent::Allocated {
                    relayed,
                    mapped: self.mapped,
                    lifetime,
                });
            }
            Kind::Refresh { lifetime: 0 } => {
                self.state = State::Closed;
                self.push_event(ClientEvent::Deallocated);
            }
            Kind::Refresh { .. } => {
                let lifetime = lifetime.unwrap_or(self.config.lifetime);
                self.set_lifetime(now, lifetime);
                self.push_event(ClientEvent::Refreshed { lifetime });
            }
            Kind::Permission(peer) => {
                if let Some(p) = self.perms.get_mut(&peer) {
                    p.refresh_at = Some(now + PERMISSION_REFRESH);
                    if !p.installed {
                        p.installed = true;
                        self.push_event(ClientEvent::PermissionCreated { peer });
                    }
                }
            }
            Kind::Bind(peer, channel) => {
                if let Some(c) = self.chans.get_mut(&peer) {
                    c.refresh_at = Some(now + CHANNEL_REFRESH);
                    let first = !c.bound;
                    c.bound = true;
                    if first {
                        self.push_event(ClientEvent::ChannelBound { peer, channel });
                    }
                }
                if let Some(p) = self.perms.get_mut(&peer.ip()) {
                    p.installed = true;
                    p.refresh_at = Some(now + PERMISSION_REFRESH);
                }
            }
        }
    }

    fn set_lifetime(&mut self, now: Instant, lifetime: Duration) {
        self.expires = Some(now + lifetime);
        // Refresh a minute before expiry, or at half the lifetime if it is short.
        let margin = Duration::from_secs(60).min(lifetime / 2);
        self.refresh_at = Some(now + lifetime - margin);
    }
}
