//! The ICE agent (RFC 8445), with trickle (RFC 8838), consent freshness (RFC 7675), ICE
//! restart and ICE-lite.
//!
//! Methods are grouped as in quinn-proto: getters, inputs (`handle_*`), commands, outputs
//! (`poll_*`). After any input or command, drain `poll_transmit`, then `poll_event`, then
//! ask `poll_timeout`.

use crate::Error;
use crate::candidate::{self, Address, Candidate, CandidateKind, TransportKind};
use crate::config::{Config, Credentials, Role};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sansrtc_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId, attr,
};
use sansrtc_turn::client::{Client as TurnClient, ClientConfig as TurnConfig, ClientEvent};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// A datagram to send from local address `source` (a host candidate's base: the socket to
/// send it from) to `destination`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The local socket address to send from.
    pub source: SocketAddr,
    /// Where to send.
    pub destination: SocketAddr,
    /// The bytes.
    pub payload: Bytes,
}

/// The agent's connection state (after the W3C `RTCIceConnectionState` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IceState {
    /// No remote candidates or credentials yet.
    New,
    /// Checks are running; nothing selected.
    Checking,
    /// A pair is selected and consent is fresh.
    Connected,
    /// No consent response for [`Config::disconnected_timeout`]; may come back.
    Disconnected,
    /// Every pair failed, or consent expired (RFC 7675 section 5.1). Needs a restart.
    Failed,
    /// [`Agent::close`] was called.
    Closed,
}

/// Why a pair became the selected pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelectReason {
    /// We are controlling and our nomination (a check with USE-CANDIDATE) succeeded (RFC 8445
    /// section 8.1.1).
    Nominated,
    /// We are controlled and the peer nominated this valid pair (RFC 8445 section 7.3.1.5).
    PeerNominated,
    /// The peer nominated a pair of higher priority than the selected one (a peer using
    /// aggressive nomination, RFC 5245 section 8.1.1.2).
    HigherPriorityNominated,
}

/// What happened, in order.
// Events are rare (a handful per connection); boxing the candidates would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A new local candidate to signal to the peer (trickle, RFC 8838 section 8).
    LocalCandidate(Candidate),
    /// Gathering finished: signal end-of-candidates (RFC 8838 section 8.2).
    GatheringComplete,
    /// The connection state changed.
    StateChanged(IceState),
    /// The selected pair changed: media now flows between these candidates.
    SelectedPair {
        /// Our candidate (host or relayed).
        local: Candidate,
        /// The peer's candidate (possibly peer-reflexive).
        remote: Candidate,
        /// Why.
        reason: SelectReason,
    },
    /// A role conflict (RFC 8445 section 7.3.1.1) switched our role.
    RoleChanged(Role),
    /// Application data that arrived through a TURN relay (the relayed local candidate
    /// `local` received it from `remote`).
    Data {
        /// Our relayed address.
        local: SocketAddr,
        /// The peer.
        remote: SocketAddr,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// What [`Agent::handle_receive`] did with a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Received {
    /// It was STUN or TURN traffic for the agent (consumed, or counted and dropped).
    Ice,
    /// Not for the agent (DTLS, RTP...): the caller demultiplexes it (RFC 7983).
    Other,
}

/// Counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connectivity checks sent (first transmissions, consent checks included).
    pub checks_sent: u64,
    /// Retransmissions of checks and Binding requests.
    pub retransmissions: u64,
    /// Authenticated check requests received.
    pub checks_received: u64,
    /// Responses that matched a transaction.
    pub responses: u64,
    /// STUN datagrams dropped: malformed, unmatched, failed integrity or not for us.
    pub dropped: u64,
    /// Error responses sent (400, 401, 420, 487).
    pub errors_sent: u64,
    /// Role conflicts seen.
    pub role_conflicts: u64,
    /// Remote candidates refused by a cap.
    pub candidates_refused: u64,
    /// Pairs refused by the cap.
    pub pairs_refused: u64,
    /// Transmits or events dropped because their queue was full.
    pub queue_overflows: u64,
}

#[derive(Clone, Debug)]
struct Local {
    cand: Candidate,
    /// The transport address (what the peer sends to).
    addr: SocketAddr,
    local_pref: u16,
}

#[derive(Clone, Debug)]
struct Remote {
    cand: Candidate,
    addr: SocketAddr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PairState {
    Frozen,
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug)]
struct Pair {
    local: usize,
    remote: usize,
    local_addr: SocketAddr,
    remote_addr: SocketAddr,
    priority: u64,
    state: PairState,
    foundation: (String, String),
    valid: bool,
    peer_nominated: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxKind {
    Check {
        pair: usize,
        nominate: bool,
        controlling: bool,
        consent: bool,
        generation: u32,
    },
    Gather {
        server: SocketAddr,
    },
}

#[derive(Clone, Debug)]
struct Tx {
    id: TransactionId,
    kind: TxKind,
    /// The local address it was sent from (a base, or a relayed address).
    local: SocketAddr,
    remote: SocketAddr,
    payload: Bytes,
    sent: u32,
    rto: Duration,
    next: Instant,
    /// A check superseded by a triggered check (RFC 8445 section 7.3.1.4): no more
    /// retransmissions, and no response within its schedule is not a failure; a response
    /// that does come is still used.
    cancelled: bool,
}

#[derive(Debug)]
struct Turn {
    client: TurnClient,
    /// The host base the TURN traffic leaves from.
    base: SocketAddr,
    server: SocketAddr,
    relayed: Vec<SocketAddr>,
    permissions: Vec<IpAddr>,
    done: bool,
}

#[derive(Clone, Copy, Debug)]
struct Selected {
    /// Index of the pair while the check list holds it (None after a restart until a new
    /// pair is selected; the old path keeps carrying data meanwhile).
    pair: Option<usize>,
    local: SocketAddr,
    remote: SocketAddr,
    priority: u64,
}

const KNOWN_ATTRIBUTES: &[u16] = &[
    attr::PRIORITY,
    attr::USE_CANDIDATE,
    attr::ICE_CONTROLLED,
    attr::ICE_CONTROLLING,
];

/// The ICE agent. See the [crate docs](crate) for the run loop.
pub struct Agent {
    config: Config,
    rng: StdRng,
    role: Role,
    tie_breaker: u64,
    local_credentials: Credentials,
    local_key: IntegrityKey,
    remote_credentials: Option<Credentials>,
    remote_key: Option<IntegrityKey>,
    generation: u32,
    locals: Vec<Local>,
    host_count: u16,
    remotes: Vec<Remote>,
    prflx_count: u32,
    remote_end_of_candidates: bool,
    pairs: Vec<Pair>,
    triggered: VecDeque<usize>,
    txs: Vec<Tx>,
    turns: Vec<Turn>,
    gathering_started: bool,
    gathering_complete: bool,
    next_tick: Option<Instant>,
    nominating: Option<usize>,
    nominate_deadline: Option<Instant>,
    selected: Option<Selected>,
    last_consent: Option<Instant>,
    next_consent: Option<Instant>,
    next_keepalive: Option<Instant>,
    consent_expired: bool,
    state: IceState,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
}

impl core::fmt::Debug for Agent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Agent")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("locals", &self.locals.len())
            .field("remotes", &self.remotes.len())
            .field("pairs", &self.pairs.len())
            .finish_non_exhaustive()
    }
}

fn random_string(rng: &mut StdRng, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len)
        .map(|_| {
            let i = rng.random_range(0..CHARS.len());
            char::from(CHARS.get(i).copied().unwrap_or(b'a'))
        })
        .collect()
}

fn check_credential(s: &str, what: &'static str) -> Result<(), Error> {
    let ok = !s.is_empty()
        && s.len() <= 256
        && !s.contains(':')
        && s.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidCredentials { what })
    }
}

fn same_family(a: SocketAddr, b: SocketAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

impl Agent {
    /// A new agent. Nothing is sent until host addresses and remote candidates are added.
    pub fn new(config: Config, _now: Instant) -> Self {
        let mut rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        let local_credentials = match &config.local_credentials {
            Some(c) => c.clone(),
            None => Credentials::new(random_string(&mut rng, 8), random_string(&mut rng, 24)),
        };
        let role = if config.lite {
            Role::Controlled
        } else {
            config.role
        };
        let tie_breaker = rng.random();
        let local_key = IntegrityKey::short_term(&local_credentials.pwd);
        Self {
            config,
            rng,
            role,
            tie_breaker,
            local_credentials,
            local_key,
            remote_credentials: None,
            remote_key: None,
            generation: 0,
            locals: Vec::new(),
            host_count: 0,
            remotes: Vec::new(),
            prflx_count: 0,
            remote_end_of_candidates: false,
            pairs: Vec::new(),
            triggered: VecDeque::new(),
            txs: Vec::new(),
            turns: Vec::new(),
            gathering_started: false,
            gathering_complete: false,
            next_tick: None,
            nominating: None,
            nominate_deadline: None,
            selected: None,
            last_consent: None,
            next_consent: None,
            next_keepalive: None,
            consent_expired: false,
            state: IceState::New,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    // ---- getters ----

    /// Our credentials (to signal in `a=ice-ufrag` / `a=ice-pwd`).
    pub fn local_credentials(&self) -> &Credentials {
        &self.local_credentials
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The connection state.
    pub fn state(&self) -> IceState {
        self.state
    }

    /// Whether this is an ICE-lite agent.
    pub fn is_lite(&self) -> bool {
        self.config.lite
    }

    /// Our candidates so far (host, server-reflexive, relayed; learned peer-reflexive ones
    /// too, which are not signaled). With [`Config::relay_only`], host and server-reflexive
    /// ones are left out.
    pub fn local_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.locals
            .iter()
            .filter(|l| self.announced(l.cand.kind))
            .map(|l| &l.cand)
    }

    /// The peer's candidates (signaled and peer-reflexive).
    pub fn remote_candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.remotes.iter().map(|r| &r.cand)
    }

    /// Number of candidate pairs in the check list.
    pub fn pair_count(&self) -> usize {
        self.pairs.len()
    }

    /// The selected pair as (local transport address, remote transport address).
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.selected.map(|s| (s.local, s.remote))
    }

    /// Whether gathering has finished.
    pub fn is_gathering_complete(&self) -> bool {
        self.gathering_complete
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    // ---- inputs ----

    /// A datagram arrived on local socket `destination` from `source`. STUN checks and
    /// responses, and traffic from our TURN servers, are consumed; anything else is
    /// [`Received::Other`] for the caller to demultiplex.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) -> Received {
        if self.state == IceState::Closed {
            return Received::Other;
        }
        if let Some(i) = self
            .turns
            .iter()
            .position(|t| t.server == source && t.base == destination)
        {
            if let Some(t) = self.turns.get_mut(i) {
                t.client.handle_receive(now, source, data);
            }
            self.drain_turn(now, i);
            self.after_input(now);
            return Received::Ice;
        }
        if !matches!(data.first(), Some(0..=3)) {
            return Received::Other;
        }
        self.on_stun(now, destination, source, data);
        self.after_input(now);
        Received::Ice
    }

    /// Fires due timers: pacing, retransmissions, nomination, consent, keepalives, TURN.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == IceState::Closed {
            return;
        }
        self.retransmit(now);
        for i in 0..self.turns.len() {
            if let Some(t) = self.turns.get_mut(i) {
                if t.client.poll_timeout().is_some_and(|d| d <= now) {
                    t.client.handle_timeout(now);
                }
            }
            self.drain_turn(now, i);
        }
        if self.nominate_deadline.is_some_and(|d| d <= now) {
            self.nominate_deadline = None;
            self.maybe_nominate(now, true);
        }
        if self.next_tick.is_some_and(|t| t <= now) {
            self.tick(now);
        }
        self.consent(now);
        self.after_input(now);
    }

    // ---- commands ----

    /// Adds a local interface address: a host candidate (returned and also queued as
    /// [`Event::LocalCandidate`]). Starts server-reflexive gathering towards each configured
    /// STUN server of the same family, and a TURN allocation for each TURN server not yet
    /// allocated from an address of that family.
    pub fn add_host_address(&mut self, now: Instant, addr: SocketAddr) -> Result<Candidate, Error> {
        if self.state == IceState::Closed {
            return Err(Error::Closed);
        }
        if let Some(l) = self.locals.iter().find(|l| l.addr == addr) {
            return Ok(l.cand.clone());
        }
        let local_pref = 65535u16.saturating_sub(self.host_count.saturating_mul(256));
        self.host_count = self.host_count.saturating_add(1);
        let cand = self.add_local(CandidateKind::Host, addr, None, None, local_pref)?;
        self.gathering_started = true;
        self.gathering_complete = false;
        if !self.config.lite {
            // A relay-only agent gathers no server-reflexive address: it would reveal ours.
            let stun_servers = if self.config.relay_only {
                Vec::new()
            } else {
                self.config.stun_servers.clone()
            };
            for server in stun_servers {
                if same_family(server, addr) {
                    self.start_gather(now, addr, server);
                }
            }
            for ts in self.config.turn_servers.clone() {
                if !same_family(ts.server, addr) || self.turns.iter().any(|t| t.server == ts.server)
                {
                    continue;
                }
                let mut tc = TurnConfig::new(ts.server, ts.username.clone(), ts.password.clone());
                tc.seed = Some(self.rng.random());
                tc.max_permissions = self.config.max_remote_candidates.max(1);
                let mut client = TurnClient::new(tc, now);
                let ok = client.allocate(now).is_ok();
                self.turns.push(Turn {
                    client,
                    base: addr,
                    server: ts.server,
                    relayed: Vec::new(),
                    permissions: Vec::new(),
                    done: !ok,
                });
                let i = self.turns.len() - 1;
                self.drain_turn(now, i);
            }
        }
        self.after_input(now);
        Ok(cand)
    }

    /// Sets the peer's credentials. Different credentials than before mean the peer
    /// restarted ICE (RFC 8445 section 9): its candidates and every pair are dropped.
    pub fn set_remote_credentials(
        &mut self,
        now: Instant,
        creds: Credentials,
    ) -> Result<(), Error> {
        check_credential(&creds.ufrag, "ufrag")?;
        check_credential(&creds.pwd, "pwd")?;
        if self.remote_credentials.as_ref() == Some(&creds) {
            return Ok(());
        }
        if self.remote_credentials.is_some() {
            self.reset_remote();
        }
        self.remote_key = Some(IntegrityKey::short_term(&creds.pwd));
        self.remote_credentials = Some(creds);
        if self.state == IceState::New && !self.remotes.is_empty() {
            self.set_state(IceState::Checking);
        }
        self.kick(now);
        Ok(())
    }

    /// Adds a (trickled) remote candidate (RFC 8838 section 11). Host names, such as the
    /// mDNS `.local` names browsers use, are returned as [`Error::UnresolvedAddress`]:
    /// resolve them and add the candidate again. Beyond
    /// [`Config::max_remote_candidates`] candidates are refused.
    pub fn add_remote_candidate(&mut self, now: Instant, cand: Candidate) -> Result<(), Error> {
        if self.state == IceState::Closed {
            return Err(Error::Closed);
        }
        if cand.component != self.config.component {
            return Err(Error::Unsupported {
                what: "candidate of another component",
            });
        }
        if cand.transport != TransportKind::Udp {
            return Err(Error::Unsupported {
                what: "non-UDP candidate",
            });
        }
        let Some(addr) = cand.socket_addr() else {
            let hostname = match &cand.address {
                Address::Fqdn(n) => n.clone(),
                Address::Ip(ip) => ip.to_string(),
            };
            return Err(Error::UnresolvedAddress { hostname });
        };
        if addr.port() == 0 || addr.ip().is_unspecified() {
            return Err(Error::InvalidCandidate {
                field: "connection-address",
                value: addr.to_string(),
            });
        }
        if let Some(r) = self.remotes.iter_mut().find(|r| r.addr == addr) {
            // A signaled candidate replaces a peer-reflexive one learned earlier.
            if r.cand.kind == CandidateKind::PeerReflexive {
                r.cand = cand;
            }
            return Ok(());
        }
        if self.remotes.len() >= self.config.max_remote_candidates {
            self.stats.candidates_refused += 1;
            return Err(Error::CapacityExceeded {
                what: "remote candidates",
                cap: self.config.max_remote_candidates,
            });
        }
        self.remotes.push(Remote { cand, addr });
        let ri = self.remotes.len() - 1;
        self.pair_remote(ri);
        if self.state == IceState::New && self.remote_credentials.is_some() {
            self.set_state(IceState::Checking);
        }
        self.kick(now);
        self.after_input(now);
        Ok(())
    }

    /// The peer signaled end-of-candidates (RFC 8838 section 12): once every pair has failed,
    /// the state becomes [`IceState::Failed`].
    pub fn end_of_remote_candidates(&mut self, now: Instant) {
        self.remote_end_of_candidates = true;
        self.after_input(now);
    }

    /// ICE restart (RFC 8445 section 9): new local credentials (returned), the peer's
    /// candidates and the check list are dropped. The selected path keeps carrying data
    /// until a new pair is selected. Signal the new credentials and candidates, then call
    /// [`set_remote_credentials`](Self::set_remote_credentials) with the peer's new ones.
    pub fn restart(&mut self, now: Instant) -> Credentials {
        self.local_credentials = Credentials::new(
            random_string(&mut self.rng, 8),
            random_string(&mut self.rng, 24),
        );
        self.local_key = IntegrityKey::short_term(&self.local_credentials.pwd);
        self.reset_remote();
        self.remote_credentials = None;
        self.remote_key = None;
        if self.state != IceState::Closed {
            self.set_state(IceState::Checking);
        }
        self.after_input(now);
        self.local_credentials.clone()
    }

    /// Sends application data on the selected pair (through the TURN relay when the local
    /// candidate is relayed).
    pub fn send(&mut self, now: Instant, data: &[u8]) -> Result<(), Error> {
        if self.state == IceState::Closed {
            return Err(Error::Closed);
        }
        if self.consent_expired {
            return Err(Error::ConsentExpired);
        }
        let s = self.selected.ok_or(Error::NoSelectedPair)?;
        self.emit(now, s.local, s.remote, Bytes::copy_from_slice(data));
        Ok(())
    }

    /// Stops everything: no more transmits, timers or events after the `Closed` state.
    pub fn close(&mut self, now: Instant) {
        for i in 0..self.turns.len() {
            if let Some(t) = self.turns.get_mut(i) {
                let _ = t.client.deallocate(now);
            }
            self.drain_turn(now, i);
        }
        self.txs.clear();
        self.triggered.clear();
        self.next_tick = None;
        self.nominate_deadline = None;
        self.next_consent = None;
        self.next_keepalive = None;
        self.set_state(IceState::Closed);
    }

    // ---- outputs ----

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == IceState::Closed {
            return None;
        }
        let consent_deadlines = match (self.last_consent, self.selected) {
            (Some(l), Some(s))
                if s.pair.is_some() && !self.consent_expired && !self.config.lite =>
            {
                let d = if self.state == IceState::Connected {
                    l + self.config.disconnected_timeout
                } else {
                    l + self.config.consent_timeout
                };
                Some(d)
            }
            _ => None,
        };
        [
            self.next_tick,
            self.nominate_deadline,
            self.next_consent,
            self.next_keepalive,
            consent_deadlines,
        ]
        .into_iter()
        .flatten()
        .chain(self.txs.iter().map(|t| t.next))
        .chain(self.turns.iter().filter_map(|t| t.client.poll_timeout()))
        .min()
    }

    // ---- internals: queues ----

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= self.config.max_events {
            self.stats.queue_overflows += 1;
        } else {
            self.events.push_back(e);
        }
    }

    fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() >= self.config.max_transmits {
            self.stats.queue_overflows += 1;
        } else {
            self.transmits.push_back(t);
        }
    }

    fn set_state(&mut self, s: IceState) {
        if self.state != s {
            self.state = s;
            self.push_event(Event::StateChanged(s));
        }
    }

    /// Sends `payload` from local candidate address `local` to `remote`: directly from a
    /// host base, or through the TURN client owning relayed address `local`.
    fn emit(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, payload: Bytes) {
        if let Some(i) = self.turns.iter().position(|t| t.relayed.contains(&local)) {
            if let Some(t) = self.turns.get_mut(i) {
                // The peer must be permitted at the server (RFC 8656 section 9); the first
                // checks may be dropped until the permission exists and are retransmitted.
                let ip = remote.ip();
                if !t.permissions.contains(&ip) && t.client.create_permission(now, ip).is_ok() {
                    t.permissions.push(ip);
                }
                let _ = t.client.send(now, remote, &payload);
            }
            self.drain_turn(now, i);
            return;
        }
        self.push_transmit(Transmit {
            source: local,
            destination: remote,
            payload,
        });
    }

    fn drain_turn(&mut self, now: Instant, i: usize) {
        let mut out = Vec::new();
        let mut evs = Vec::new();
        let Some(t) = self.turns.get_mut(i) else {
            return;
        };
        let base = t.base;
        while let Some(x) = t.client.poll_transmit() {
            out.push(x);
        }
        while let Some(e) = t.client.poll_event() {
            evs.push(e);
        }
        for x in out {
            self.push_transmit(Transmit {
                source: base,
                destination: x.destination,
                payload: Bytes::from(x.payload),
            });
        }
        for e in evs {
            match e {
                ClientEvent::Allocated {
                    relayed, mapped, ..
                } => {
                    let server_ip = self.turns.get(i).map(|t| t.server.ip());
                    for r in relayed {
                        if let Some(t) = self.turns.get_mut(i) {
                            t.relayed.push(r);
                        }
                        // The related address is the mapped one, which a relay-only agent
                        // keeps to itself (as browsers do: 0.0.0.0 port 0).
                        let related = if self.config.relay_only {
                            let any = match r.ip() {
                                IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                            };
                            Some((Address::Ip(any), 0))
                        } else {
                            mapped.map(|m| (Address::Ip(m.ip()), m.port()))
                        };
                        if self
                            .add_local(CandidateKind::Relayed, r, server_ip, related, 65535)
                            .is_ok()
                        {
                            if let Some(li) = self.locals.iter().position(|l| l.addr == r) {
                                self.pair_local(li);
                            }
                        }
                    }
                    if let Some(t) = self.turns.get_mut(i) {
                        t.done = true;
                    }
                    self.kick(now);
                }
                ClientEvent::AllocationFailed { .. } | ClientEvent::AllocationLost => {
                    if let Some(t) = self.turns.get_mut(i) {
                        t.done = true;
                    }
                }
                ClientEvent::Data { peer, data } => {
                    let local = self.turns.get(i).and_then(|t| t.relayed.first().copied());
                    if let Some(local) = local {
                        if matches!(data.first(), Some(0..=3)) {
                            self.on_stun(now, local, peer, &data);
                        } else {
                            self.push_event(Event::Data {
                                local,
                                remote: peer,
                                data,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        // Newly queued TURN transmits (from on_stun responses) are drained by the next call.
        if let Some(t) = self.turns.get_mut(i) {
            let mut more = Vec::new();
            while let Some(x) = t.client.poll_transmit() {
                more.push(x);
            }
            for x in more {
                self.push_transmit(Transmit {
                    source: base,
                    destination: x.destination,
                    payload: Bytes::from(x.payload),
                });
            }
        }
    }

    // ---- internals: candidates and pairs ----

    fn add_local(
        &mut self,
        kind: CandidateKind,
        addr: SocketAddr,
        server: Option<IpAddr>,
        related: Option<(Address, u16)>,
        local_pref: u16,
    ) -> Result<Candidate, Error> {
        if self.locals.len() >= self.config.max_local_candidates {
            return Err(Error::CapacityExceeded {
                what: "local candidates",
                cap: self.config.max_local_candidates,
            });
        }
        let base_ip = match (&related, kind) {
            (Some((Address::Ip(ip), _)), CandidateKind::ServerReflexive) => *ip,
            _ => addr.ip(),
        };
        let mut cand = Candidate::new(
            kind,
            addr,
            candidate::priority(kind, local_pref, self.config.component),
            candidate::foundation(kind, base_ip, server),
            self.config.component,
        );
        cand.related = related;
        self.locals.push(Local {
            cand: cand.clone(),
            addr,
            local_pref,
        });
        if kind != CandidateKind::PeerReflexive && self.announced(kind) {
            self.push_event(Event::LocalCandidate(cand.clone()));
        }
        if kind == CandidateKind::Host && !self.config.relay_only {
            let li = self.locals.len() - 1;
            self.pair_local(li);
        }
        Ok(cand)
    }
}

impl Agent {
    /// Whether a local candidate of this kind is signaled and shown (relay-only hides host
    /// and server-reflexive ones).
    fn announced(&self, kind: CandidateKind) -> bool {
        !self.config.relay_only
            || !matches!(kind, CandidateKind::Host | CandidateKind::ServerReflexive)
    }

    /// Whether checks may be sent from, and received on, this local candidate (a host base
    /// or a relayed address; relay-only: relayed only).
    fn pairable(relay_only: bool, l: &Local) -> bool {
        match l.cand.kind {
            CandidateKind::Host => !relay_only,
            CandidateKind::Relayed => true,
            CandidateKind::ServerReflexive | CandidateKind::PeerReflexive => false,
        }
    }

    fn pair_local(&mut self, li: usize) {
        for ri in 0..self.remotes.len() {
            self.make_pair(li, ri);
        }
    }

    fn pair_remote(&mut self, ri: usize) {
        for li in 0..self.locals.len() {
            self.make_pair(li, ri);
        }
    }

    fn compute_priority(&self, local: u32, remote: u32) -> u64 {
        match self.role {
            Role::Controlling => candidate::pair_priority(local, remote),
            Role::Controlled => candidate::pair_priority(remote, local),
        }
    }

    /// Forms the pair (local `li`, remote `ri`) if both fit (RFC 8445 section 6.1.2.2);
    /// returns its index. At the cap, the lowest-priority frozen or waiting pair gives way
    /// to a better one (section 6.1.2.5), else the new pair is refused.
    fn make_pair(&mut self, li: usize, ri: usize) -> Option<usize> {
        if let Some(i) = self
            .pairs
            .iter()
            .position(|p| p.local == li && p.remote == ri)
        {
            return Some(i);
        }
        let (l, r) = (self.locals.get(li)?, self.remotes.get(ri)?);
        if !Self::pairable(self.config.relay_only, l) || !same_family(l.addr, r.addr) {
            return None;
        }
        let priority = self.compute_priority(l.cand.priority, r.cand.priority);
        let foundation = (l.cand.foundation.clone(), r.cand.foundation.clone());
        let busy = self.pairs.iter().any(|p| {
            p.foundation == foundation
                && matches!(
                    p.state,
                    PairState::Waiting | PairState::InProgress | PairState::Frozen
                )
        });
        let pair = Pair {
            local: li,
            remote: ri,
            local_addr: l.addr,
            remote_addr: r.addr,
            priority,
            state: if busy {
                PairState::Frozen
            } else {
                PairState::Waiting
            },
            foundation,
            valid: false,
            peer_nominated: false,
        };
        let index = if self.pairs.len() < self.config.max_pairs {
            self.pairs.push(pair);
            self.pairs.len() - 1
        } else {
            let victim = self
                .pairs
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    matches!(p.state, PairState::Frozen | PairState::Waiting)
                        && Some(*i) != self.nominating
                        && self.selected.is_none_or(|s| s.pair != Some(*i))
                })
                .min_by_key(|(_, p)| p.priority)
                .map(|(i, p)| (i, p.priority));
            match victim {
                Some((i, prio)) if prio < priority => {
                    let slot = self.pairs.get_mut(i)?;
                    *slot = pair;
                    self.triggered.retain(|t| *t != i);
                    i
                }
                _ => {
                    self.stats.pairs_refused += 1;
                    return None;
                }
            }
        };
        Some(index)
    }

    fn recompute_priorities(&mut self) {
        for i in 0..self.pairs.len() {
            let prio = self.pairs.get(i).and_then(|p| {
                let l = self.locals.get(p.local)?;
                let r = self.remotes.get(p.remote)?;
                Some(self.compute_priority(l.cand.priority, r.cand.priority))
            });
            if let (Some(prio), Some(p)) = (prio, self.pairs.get_mut(i)) {
                p.priority = prio;
            }
        }
        if let Some(s) = self.selected.as_mut() {
            if let Some(p) = s.pair.and_then(|i| self.pairs.get(i)) {
                s.priority = p.priority;
            }
        }
    }

    fn set_role(&mut self, role: Role) {
        if self.role != role {
            self.role = role;
            self.nominating = None;
            self.nominate_deadline = None;
            self.recompute_priorities();
            self.push_event(Event::RoleChanged(role));
        }
    }

    fn reset_remote(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.remotes.clear();
        self.pairs.clear();
        self.triggered.clear();
        self.txs.retain(|t| matches!(t.kind, TxKind::Gather { .. }));
        self.nominating = None;
        self.nominate_deadline = None;
        self.remote_end_of_candidates = false;
        self.next_consent = None;
        self.last_consent = None;
        self.consent_expired = false;
        if let Some(s) = self.selected.as_mut() {
            s.pair = None;
        }
        self.locals
            .retain(|l| l.cand.kind != CandidateKind::PeerReflexive);
    }

    /// Makes sure pacing runs (the Ta timer).
    fn kick(&mut self, now: Instant) {
        if self.config.lite || self.remote_key.is_none() || self.state == IceState::Closed {
            return;
        }
        if self.next_tick.is_none() {
            self.next_tick = Some(now);
        }
    }

    fn push_triggered(&mut self, pi: usize, front: bool) {
        if self.triggered.contains(&pi) {
            if front {
                self.triggered.retain(|t| *t != pi);
            } else {
                return;
            }
        }
        if self.triggered.len() >= self.config.max_triggered {
            return;
        }
        if front {
            self.triggered.push_front(pi);
        } else {
            self.triggered.push_back(pi);
        }
    }

    /// Cancels the in-flight checks of pair `pi` (RFC 8445 section 7.3.1.4). At most one
    /// cancelled check per pair is kept waiting for a late response, so a peer that keeps
    /// checking cannot pile up transactions.
    fn cancel_checks(&mut self, pi: usize) {
        let is_check =
            |t: &Tx| matches!(t.kind, TxKind::Check { pair, consent: false, .. } if pair == pi);
        self.txs.retain(|t| !(t.cancelled && is_check(t)));
        for t in self.txs.iter_mut().filter(|t| is_check(t)) {
            t.cancelled = true;
        }
    }

    /// One Ta slot (RFC 8445 section 6.1.4.2): a triggered check first, else the
    /// highest-priority waiting pair, else unfreeze the best frozen pair. Once a pair is
    /// selected only triggered checks run.
    fn tick(&mut self, now: Instant) {
        self.next_tick = None;
        if self.config.lite || self.remote_key.is_none() {
            return;
        }
        let mut chosen = None;
        while let Some(pi) = self.triggered.pop_front() {
            if self
                .pairs
                .get(pi)
                .is_some_and(|p| p.state != PairState::InProgress || self.nominating == Some(pi))
            {
                chosen = Some(pi);
                break;
            }
        }
        if chosen.is_none() && self.selected.is_none_or(|s| s.pair.is_none()) {
            chosen = self.best_in_state(PairState::Waiting).or_else(|| {
                let f = self.best_in_state(PairState::Frozen)?;
                Some(f)
            });
        }
        if let Some(pi) = chosen {
            let nominate = self.role == Role::Controlling && self.nominating == Some(pi);
            self.send_check(now, pi, nominate, false);
            self.next_tick = Some(now + self.config.ta);
        }
    }

    fn best_in_state(&self, state: PairState) -> Option<usize> {
        self.pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.state == state)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, _)| i)
    }

    fn send_check(&mut self, now: Instant, pi: usize, nominate: bool, consent: bool) {
        let (Some(creds), Some(key)) = (&self.remote_credentials, &self.remote_key) else {
            return;
        };
        let Some(p) = self.pairs.get(pi) else {
            return;
        };
        let Some(l) = self.locals.get(p.local) else {
            return;
        };
        if self.txs.len() >= self.config.max_transactions {
            return;
        }
        let (local, remote) = (p.local_addr, p.remote_addr);
        let prflx_priority = candidate::priority(
            CandidateKind::PeerReflexive,
            l.local_pref,
            self.config.component,
        );
        let id = TransactionId::random(&mut self.rng);
        let username = format!("{}:{}", creds.ufrag, self.local_credentials.ufrag);
        let mut buf = vec![0u8; 128 + username.len()];
        let built = (|| -> Result<usize, sansrtc_stun::Error> {
            let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, id)?;
            b.username(&username)?;
            b.priority(prflx_priority)?;
            match self.role {
                Role::Controlling => b.ice_controlling(self.tie_breaker)?,
                Role::Controlled => b.ice_controlled(self.tie_breaker)?,
            }
            if nominate {
                b.use_candidate()?;
            }
            b.finish_with_integrity(key)
        })();
        let Ok(n) = built else {
            return;
        };
        buf.truncate(n);
        let payload = Bytes::from(buf);
        if let Some(p) = self.pairs.get_mut(pi) {
            if !consent && p.state != PairState::Succeeded {
                p.state = PairState::InProgress;
            }
        }
        self.txs.push(Tx {
            id,
            kind: TxKind::Check {
                pair: pi,
                nominate,
                controlling: self.role == Role::Controlling,
                consent,
                generation: self.generation,
            },
            local,
            remote,
            payload: payload.clone(),
            sent: 1,
            rto: self.config.rto,
            next: now + self.config.rto,
            cancelled: false,
        });
        self.stats.checks_sent += 1;
        self.emit(now, local, remote, payload);
    }

    fn start_gather(&mut self, now: Instant, base: SocketAddr, server: SocketAddr) {
        if self.txs.len() >= self.config.max_transactions {
            return;
        }
        let id = TransactionId::random(&mut self.rng);
        let mut buf = vec![0u8; 64];
        let Ok(n) = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, id)
            .and_then(MessageBuilder::finish_with_fingerprint)
        else {
            return;
        };
        buf.truncate(n);
        let payload = Bytes::from(buf);
        self.txs.push(Tx {
            id,
            kind: TxKind::Gather { server },
            local: base,
            remote: server,
            payload: payload.clone(),
            sent: 1,
            rto: self.config.rto,
            next: now + self.config.rto,
            cancelled: false,
        });
        self.push_transmit(Transmit {
            source: base,
            destination: server,
            payload,
        });
    }

    /// Retransmissions and transaction timeouts (RFC 8445 section 14.3, RFC 8489 6.2.1).
    fn retransmit(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.txs.len() {
            let Some(t) = self.txs.get_mut(i) else { break };
            if t.next > now {
                i += 1;
                continue;
            }
            if t.sent >= self.config.max_transmissions {
                let t = self.txs.swap_remove(i);
                if !t.cancelled {
                    self.on_tx_timeout(now, t);
                }
                continue;
            }
            t.sent += 1;
            t.rto = t.rto.saturating_mul(2).min(self.config.max_rto);
            t.next = now + t.rto;
            if t.cancelled {
                i += 1;
                continue;
            }
            let (local, remote, payload) = (t.local, t.remote, t.payload.clone());
            let gather = matches!(t.kind, TxKind::Gather { .. });
            self.stats.retransmissions += 1;
            if gather {
                self.push_transmit(Transmit {
                    source: local,
                    destination: remote,
                    payload,
                });
            } else {
                self.emit(now, local, remote, payload);
            }
            i += 1;
        }
    }

    fn pair_matches(
        &self,
        pi: usize,
        generation: u32,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> bool {
        generation == self.generation
            && self
                .pairs
                .get(pi)
                .is_some_and(|p| p.local_addr == local && p.remote_addr == remote)
    }

    fn on_tx_timeout(&mut self, now: Instant, t: Tx) {
        if let TxKind::Check {
            pair,
            consent,
            generation,
            ..
        } = t.kind
        {
            if consent || !self.pair_matches(pair, generation, t.local, t.remote) {
                return;
            }
            let still_pending = self.txs.iter().any(|x| {
                !x.cancelled
                    && matches!(x.kind, TxKind::Check { pair: p, consent: false, .. } if p == pair)
            });
            if let Some(p) = self.pairs.get_mut(pair) {
                if p.state == PairState::InProgress && !still_pending {
                    p.state = PairState::Failed;
                }
            }
            if self.nominating == Some(pair) {
                self.nominating = None;
                self.maybe_nominate(now, true);
            }
        }
    }

    // ---- internals: STUN ----

    fn on_stun(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, data: &[u8]) {
        let Ok(msg) = Message::new_checked(data) else {
            self.stats.dropped += 1;
            return;
        };
        if msg.method() != Method::BINDING {
            self.stats.dropped += 1;
            return;
        }
        match msg.class() {
            Class::Request => self.on_request(now, local, remote, &msg),
            Class::SuccessResponse | Class::ErrorResponse => {
                self.on_response(now, local, remote, &msg);
            }
            // Keepalive Binding indications need no answer (RFC 8445 section 11).
            Class::Indication => {}
        }
    }

    fn respond(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        id: TransactionId,
        error: Option<(u16, &[u16])>,
        sign: bool,
    ) {
        let mut buf = vec![0u8; 256];
        let key = self.local_key.clone();
        let software = self.config.software.clone();
        let built = (|| -> Result<usize, sansrtc_stun::Error> {
            let ty = if error.is_some() {
                MessageType::BINDING_ERROR
            } else {
                MessageType::BINDING_SUCCESS
            };
            let mut b = MessageBuilder::new(&mut buf, ty, id)?;
            match error {
                Some((code, unknown)) => {
                    b.error_code(code, None)?;
                    if !unknown.is_empty() {
                        b.unknown_attributes(unknown)?;
                    }
                }
                None => b.xor_mapped_address(remote)?,
            }
            if let Some(s) = &software {
                b.software(s)?;
            }
            if sign {
                b.finish_with_integrity(&key)
            } else {
                b.finish_with_fingerprint()
            }
        })();
        let Ok(n) = built else {
            return;
        };
        buf.truncate(n);
        if error.is_some() {
            self.stats.errors_sent += 1;
        }
        self.emit(now, local, remote, Bytes::from(buf));
    }

    /// A connectivity check from the peer (RFC 8445 section 7.3).
    fn on_request(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
    ) {
        let id = msg.transaction_id();
        let Some(li) = self
            .locals
            .iter()
            .position(|l| l.addr == local && Self::pairable(self.config.relay_only, l))
        else {
            self.stats.dropped += 1;
            return;
        };
        let (Some(user), true) = (msg.username(), msg.has_message_integrity()) else {
            self.respond(
                now,
                local,
                remote,
                id,
                Some((ErrorCode::BAD_REQUEST, &[])),
                false,
            );
            return;
        };
        let ours = user.split_once(':').map(|(a, _)| a);
        if ours != Some(self.local_credentials.ufrag.as_str())
            || msg.verify_message_integrity(&self.local_key).is_err()
        {
            self.respond(
                now,
                local,
                remote,
                id,
                Some((ErrorCode::UNAUTHENTICATED, &[])),
                false,
            );
            return;
        }
        let unknown: Vec<u16> = msg
            .unknown_comprehension_required_except(KNOWN_ATTRIBUTES)
            .take(8)
            .collect();
        if !unknown.is_empty() {
            self.respond(
                now,
                local,
                remote,
                id,
                Some((ErrorCode::UNKNOWN_ATTRIBUTE, &unknown)),
                true,
            );
            return;
        }
        let Some(peer_priority) = msg.priority() else {
            self.respond(
                now,
                local,
                remote,
                id,
                Some((ErrorCode::BAD_REQUEST, &[])),
                true,
            );
            return;
        };
        self.stats.checks_received += 1;
        let theirs_controlling = match msg.attribute(attr::ICE_CONTROLLING) {
            Some(Ok(Attribute::IceControlling(t))) => Some(t),
            _ => None,
        };
        let theirs_controlled = match msg.attribute(attr::ICE_CONTROLLED) {
            Some(Ok(Attribute::IceControlled(t))) => Some(t),
            _ => None,
        };
        // Role conflict (RFC 8445 section 7.3.1.1). A lite agent is always controlled.
        if !self.config.lite {
            match (self.role, theirs_controlling, theirs_controlled) {
                (Role::Controlling, Some(t), _) => {
                    self.stats.role_conflicts += 1;
                    if self.tie_breaker >= t {
                        self.respond(
                            now,
                            local,
                            remote,
                            id,
                            Some((ErrorCode::ROLE_CONFLICT, &[])),
                            true,
                        );
                        return;
                    }
                    self.set_role(Role::Controlled);
                }
                (Role::Controlled, _, Some(t)) => {
                    self.stats.role_conflicts += 1;
                    if self.tie_breaker >= t {
                        self.set_role(Role::Controlling);
                    } else {
                        self.respond(
                            now,
                            local,
                            remote,
                            id,
                            Some((ErrorCode::ROLE_CONFLICT, &[])),
                            true,
                        );
                        return;
                    }
                }
                _ => {}
            }
        }
        self.respond(now, local, remote, id, None, true);
        // The peer's address: a known candidate, or a new peer-reflexive one (7.3.1.3).
        let ri = match self.remotes.iter().position(|r| r.addr == remote) {
            Some(ri) => ri,
            None => {
                if self.remotes.len() >= self.config.max_remote_candidates {
                    self.stats.candidates_refused += 1;
                    return;
                }
                self.prflx_count = self.prflx_count.wrapping_add(1);
                let cand = Candidate::new(
                    CandidateKind::PeerReflexive,
                    remote,
                    peer_priority,
                    format!("prflx{}", self.prflx_count),
                    self.config.component,
                );
                self.remotes.push(Remote { cand, addr: remote });
                self.remotes.len() - 1
            }
        };
        let Some(pi) = self.make_pair(li, ri) else {
            return;
        };
        let use_candidate = msg.use_candidate();
        if self.config.lite {
            // A lite agent's pairs are valid as soon as a check arrives (RFC 8445 2.5).
            if let Some(p) = self.pairs.get_mut(pi) {
                p.state = PairState::Succeeded;
                p.valid = true;
            }
            if use_candidate {
                self.peer_nominated(now, pi);
            }
            return;
        }
        // Triggered check (7.3.1.4). An in-progress check is cancelled and replaced: its
        // request may have been lost before the peer's check opened the way (a TURN
        // permission, a NAT binding), and the new one need not wait for its retransmission.
        let state = self.pairs.get(pi).map(|p| p.state);
        if let Some(state) = state.filter(|s| *s != PairState::Succeeded) {
            if let Some(p) = self.pairs.get_mut(pi) {
                p.state = PairState::Waiting;
            }
            if state == PairState::InProgress {
                self.cancel_checks(pi);
            }
            self.push_triggered(pi, false);
            self.kick(now);
        }
        if use_candidate && self.role == Role::Controlled {
            self.peer_nominated(now, pi);
        }
        if self.state == IceState::New {
            self.set_state(IceState::Checking);
        }
    }

    fn peer_nominated(&mut self, now: Instant, pi: usize) {
        let Some(p) = self.pairs.get_mut(pi) else {
            return;
        };
        p.peer_nominated = true;
        if p.valid {
            self.select(now, pi, SelectReason::PeerNominated);
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        msg: &Message<&[u8]>,
    ) {
        let id = msg.transaction_id();
        let Some(ti) = self.txs.iter().position(|t| t.id == id) else {
            self.stats.dropped += 1;
            return;
        };
        let Some(tx) = self.txs.get(ti) else { return };
        match tx.kind {
            TxKind::Gather { server } => {
                if remote != server || local != tx.local {
                    self.stats.dropped += 1;
                    return;
                }
                let base = tx.local;
                self.txs.swap_remove(ti);
                self.stats.responses += 1;
                if msg.class() != Class::SuccessResponse {
                    return;
                }
                let Some(mapped) = msg.xor_mapped_address() else {
                    return;
                };
                if self.locals.iter().any(|l| l.addr == mapped) {
                    return;
                }
                let local_pref = self
                    .locals
                    .iter()
                    .find(|l| l.addr == base)
                    .map_or(65535, |l| l.local_pref);
                let related = Some((Address::Ip(base.ip()), base.port()));
                let _ = self.add_local(
                    CandidateKind::ServerReflexive,
                    mapped,
                    Some(server.ip()),
                    related,
                    local_pref,
                );
            }
            TxKind::Check {
                pair,
                nominate,
                controlling,
                consent,
                generation,
            } => {
                // Responses are authenticated with the peer's password (7.2.5.2).
                let ok = self
                    .remote_key
                    .as_ref()
                    .is_some_and(|k| msg.verify_message_integrity(k).is_ok());
                if !ok || generation != self.generation {
                    self.stats.dropped += 1;
                    return;
                }
                let (tlocal, tremote) = (tx.local, tx.remote);
                self.txs.swap_remove(ti);
                self.stats.responses += 1;
                if !self.pair_matches(pair, generation, tlocal, tremote) {
                    return;
                }
                // Non-symmetric addresses fail the pair (7.2.5.2.1).
                if local != tlocal || remote != tremote {
                    self.fail_pair(now, pair);
                    return;
                }
                if msg.class() == Class::ErrorResponse {
                    let code = msg.error_code().map(|e| e.code);
                    let was = if controlling {
                        Role::Controlling
                    } else {
                        Role::Controlled
                    };
                    if code == Some(ErrorCode::ROLE_CONFLICT) && !self.config.lite {
                        // 7.2.5.1: switch role (if not switched already) and retry.
                        if self.role == was {
                            self.stats.role_conflicts += 1;
                            self.set_role(match was {
                                Role::Controlling => Role::Controlled,
                                Role::Controlled => Role::Controlling,
                            });
                        }
                        if let Some(p) = self.pairs.get_mut(pair) {
                            p.state = PairState::Waiting;
                        }
                        self.push_triggered(pair, true);
                        self.kick(now);
                    } else if !consent {
                        self.fail_pair(now, pair);
                    }
                    return;
                }
                self.on_check_success(
                    now,
                    pair,
                    msg.xor_mapped_address(),
                    tlocal,
                    nominate,
                    consent,
                );
            }
        }
    }

    fn fail_pair(&mut self, now: Instant, pi: usize) {
        if let Some(p) = self.pairs.get_mut(pi) {
            if p.state != PairState::Succeeded {
                p.state = PairState::Failed;
            }
        }
        if self.nominating == Some(pi) {
            self.nominating = None;
            self.maybe_nominate(now, true);
        }
    }

    fn on_check_success(
        &mut self,
        now: Instant,
        pi: usize,
        mapped: Option<SocketAddr>,
        base: SocketAddr,
        nominate: bool,
        consent: bool,
    ) {
        // A mapped address we do not know is a peer-reflexive local candidate (7.2.5.3.1).
        if let Some(m) = mapped {
            if !self.locals.iter().any(|l| l.addr == m) {
                let lp = self
                    .locals
                    .iter()
                    .find(|l| l.addr == base)
                    .map_or(65535, |l| l.local_pref);
                let related = Some((Address::Ip(base.ip()), base.port()));
                let _ = self.add_local(CandidateKind::PeerReflexive, m, None, related, lp);
            }
        }
        let Some(p) = self.pairs.get_mut(pi) else {
            return;
        };
        p.state = PairState::Succeeded;
        p.valid = true;
        let foundation = p.foundation.clone();
        let peer_nominated = p.peer_nominated;
        // Unfreeze pairs of the same foundation (7.2.5.3.3).
        for q in &mut self.pairs {
            if q.state == PairState::Frozen && q.foundation == foundation {
                q.state = PairState::Waiting;
            }
        }
        if self.selected.is_some_and(|s| s.pair == Some(pi)) {
            // Consent refreshed (RFC 7675 section 5.1).
            self.last_consent = Some(now);
            if self.state == IceState::Disconnected {
                self.set_state(IceState::Connected);
            }
        }
        if consent {
            return;
        }
        if self.role == Role::Controlling {
            if nominate && self.nominating == Some(pi) {
                self.select(now, pi, SelectReason::Nominated);
            } else if self.nominating.is_none() && self.selected.is_none_or(|s| s.pair.is_none()) {
                if self.nominate_deadline.is_none() {
                    self.nominate_deadline = Some(now + self.config.nomination_timeout);
                }
                self.maybe_nominate(now, false);
            }
        } else if peer_nominated {
            self.select(now, pi, SelectReason::PeerNominated);
        }
        self.kick(now);
    }

    /// Regular nomination (RFC 8445 section 8.1.1): the best valid pair, once no better pair
    /// is still being checked (or when `force`d by the nomination timeout).
    fn maybe_nominate(&mut self, now: Instant, force: bool) {
        if self.role != Role::Controlling
            || self.config.lite
            || self.nominating.is_some()
            || self.selected.is_some_and(|s| s.pair.is_some())
        {
            return;
        }
        let Some((best, prio)) = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.valid)
            .max_by_key(|(_, p)| p.priority)
            .map(|(i, p)| (i, p.priority))
        else {
            return;
        };
        let better_pending = self.pairs.iter().any(|p| {
            p.priority > prio
                && matches!(
                    p.state,
                    PairState::Frozen | PairState::Waiting | PairState::InProgress
                )
        });
        if better_pending && !force {
            return;
        }
        self.nominating = Some(best);
        self.nominate_deadline = None;
        self.push_triggered(best, true);
        self.kick(now);
    }

    fn select(&mut self, now: Instant, pi: usize, reason: SelectReason) {
        let Some(p) = self.pairs.get(pi) else {
            return;
        };
        let mut reason = reason;
        if let Some(s) = self.selected {
            if s.pair == Some(pi) {
                return;
            }
            if s.pair.is_some() {
                if p.priority <= s.priority {
                    return;
                }
                reason = SelectReason::HigherPriorityNominated;
            }
        }
        let (Some(l), Some(r)) = (self.locals.get(p.local), self.remotes.get(p.remote)) else {
            return;
        };
        self.selected = Some(Selected {
            pair: Some(pi),
            local: p.local_addr,
            remote: p.remote_addr,
            priority: p.priority,
        });
        let ev = Event::SelectedPair {
            local: l.cand.clone(),
            remote: r.cand.clone(),
            reason,
        };
        self.push_event(ev);
        self.last_consent = Some(now);
        self.consent_expired = false;
        if self.config.lite {
            self.next_keepalive = Some(now + self.config.keepalive_interval);
        } else {
            self.next_consent = Some(now + self.consent_delay());
        }
        self.set_state(IceState::Connected);
    }

    fn consent_delay(&mut self) -> Duration {
        // RFC 7675 section 5.1: uniformly in [0.8, 1.2] times the interval.
        let f: f64 = self.rng.random_range(0.8..1.2);
        self.config.consent_interval.mul_f64(f)
    }

    /// Consent freshness (RFC 7675) and keepalives (RFC 8445 section 11).
    fn consent(&mut self, now: Instant) {
        let Some(s) = self.selected else { return };
        if self.config.lite {
            if self.next_keepalive.is_some_and(|t| t <= now) {
                self.next_keepalive = Some(now + self.config.keepalive_interval);
                let id = TransactionId::random(&mut self.rng);
                let mut buf = vec![0u8; 64];
                if let Ok(n) = MessageBuilder::new(&mut buf, MessageType::BINDING_INDICATION, id)
                    .and_then(MessageBuilder::finish_with_fingerprint)
                {
                    buf.truncate(n);
                    self.emit(now, s.local, s.remote, Bytes::from(buf));
                }
            }
            return;
        }
        let Some(pi) = s.pair else { return };
        if self.consent_expired {
            return;
        }
        if let Some(last) = self.last_consent {
            if now >= last + self.config.consent_timeout {
                self.consent_expired = true;
                self.next_consent = None;
                self.set_state(IceState::Failed);
                return;
            }
            if now >= last + self.config.disconnected_timeout && self.state == IceState::Connected {
                self.set_state(IceState::Disconnected);
            }
        }
        if self.next_consent.is_some_and(|t| t <= now) {
            self.next_consent = Some(now + self.consent_delay());
            self.send_check(now, pi, false, true);
        }
    }

    /// Gathering completion and check-list failure, evaluated after every input.
    fn after_input(&mut self, _now: Instant) {
        if self.gathering_started && !self.gathering_complete {
            let pending = self
                .txs
                .iter()
                .any(|t| matches!(t.kind, TxKind::Gather { .. }))
                || self.turns.iter().any(|t| !t.done);
            if !pending {
                self.gathering_complete = true;
                self.push_event(Event::GatheringComplete);
            }
        }
        // Trickle ICE (RFC 8838): the check list fails only once the peer's end-of-candidates
        // is in and our own gathering is done too; a relayed candidate (the only kind a
        // relay-only agent pairs) comes a few round trips after the peer's may all be in.
        if self.state == IceState::Checking
            && self.remote_end_of_candidates
            && self.gathering_complete
            && !self.config.lite
            && self.selected.is_none_or(|s| s.pair.is_none())
            && self.triggered.is_empty()
            && self.pairs.iter().all(|p| p.state == PairState::Failed)
            && !self
                .txs
                .iter()
                .any(|t| matches!(t.kind, TxKind::Check { .. }))
        {
            self.set_state(IceState::Failed);
        }
    }
}
