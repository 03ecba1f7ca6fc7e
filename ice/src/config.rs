//! Agent configuration: roles, timers (RFC 8445 section 14, RFC 7675) and every cap.

use std::net::SocketAddr;
use std::time::Duration;

/// The agent's role (RFC 8445 section 6.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Nominates the selected pair (the offerer, in WebRTC).
    Controlling,
    /// Follows the controlling agent's nomination.
    Controlled,
}

/// ICE credentials (RFC 8445 section 5.3, RFC 8839 section 5.4).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// Username fragment.
    pub ufrag: String,
    /// Password.
    pub pwd: String,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("ufrag", &self.ufrag)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Credentials from two strings.
    pub fn new(ufrag: impl Into<String>, pwd: impl Into<String>) -> Self {
        Self {
            ufrag: ufrag.into(),
            pwd: pwd.into(),
        }
    }
}

/// A TURN server to allocate a relayed candidate on (long-term credentials, UDP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnServer {
    /// Server address.
    pub server: SocketAddr,
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Configuration of an [`Agent`](crate::Agent). Every table has a cap here.
#[derive(Clone, Debug)]
pub struct Config {
    /// The initial role; a role conflict (RFC 8445 section 7.3.1.1) may change it. An
    /// ICE-lite agent is always controlled.
    pub role: Role,
    /// ICE-lite (RFC 8445 section 2.5): only host candidates, no checks sent, answers
    /// checks and takes the peer's nomination.
    pub lite: bool,
    /// The component this agent serves (1 with rtcp-mux). Candidates for other components
    /// are refused.
    pub component: u16,
    /// Local credentials; `None` draws random ones (8-character ufrag, 24-character pwd).
    pub local_credentials: Option<Credentials>,
    /// STUN servers for server-reflexive candidates (one Binding per host address of the same
    /// family).
    pub stun_servers: Vec<SocketAddr>,
    /// TURN servers for relayed candidates (one allocation per server, from the first host
    /// address of the same family).
    pub turn_servers: Vec<TurnServer>,
    /// Relay-only transport policy (W3C `RTCIceTransportPolicy` `"relay"`):
    /// host addresses only serve as bases for the TURN allocations; no server-reflexive
    /// gathering; only relayed candidates are announced ([`Event::LocalCandidate`], the
    /// [`local_candidates`] getter) and paired, and checks arriving on a host address are
    /// dropped; the relayed candidate's related address is `0.0.0.0` port 0, not the mapped
    /// address. The peer can then only learn relay addresses. Default `false` (`"all"`).
    ///
    /// [`Event::LocalCandidate`]: crate::Event::LocalCandidate
    /// [`local_candidates`]: crate::Agent::local_candidates
    pub relay_only: bool,
    /// Pacing of checks, Ta (RFC 8445 section 14.2). Default 50 ms.
    pub ta: Duration,
    /// Initial retransmission timeout of a check or a STUN Binding (RFC 8445 section 14.3:
    /// at least 500 ms). Default 500 ms; doubled per retransmission up to `max_rto`.
    pub rto: Duration,
    /// Cap on the retransmission timeout. Default 1.6 s.
    pub max_rto: Duration,
    /// Transmissions of one check before the pair fails (Rc). Default 7.
    pub max_transmissions: u32,
    /// How long the controlling agent waits, after the first valid pair, for a better one to
    /// become valid before nominating the best valid pair (it nominates at once when no
    /// higher-priority pair is still being checked). Default 250 ms.
    pub nomination_timeout: Duration,
    /// Consent check interval on the selected pair (RFC 7675 section 5.1: 5 s, randomised by
    /// 0.8-1.2). Default 5 s.
    pub consent_interval: Duration,
    /// Without a consent response for this long, the state becomes
    /// [`IceState::Disconnected`](crate::IceState::Disconnected). Default 8 s.
    pub disconnected_timeout: Duration,
    /// Without a consent response for this long, consent expires (RFC 7675: 30 s): the state
    /// becomes [`IceState::Failed`](crate::IceState::Failed) and sending stops.
    pub consent_timeout: Duration,
    /// Keepalive interval (Binding indications, RFC 8445 section 11, Tr) for agents that do
    /// not run consent checks (ICE-lite). Default 15 s.
    pub keepalive_interval: Duration,
    /// Cap on local candidates (host, srflx, relay and learned prflx). Default 32.
    pub max_local_candidates: usize,
    /// Cap on remote candidates (signaled and peer-reflexive). Default 100.
    pub max_remote_candidates: usize,
    /// Cap on candidate pairs (RFC 8445 section 6.1.2.5 suggests 100). Default 100.
    pub max_pairs: usize,
    /// Cap on outstanding STUN transactions. Default 256.
    pub max_transactions: usize,
    /// Cap on the triggered-check queue. Default 100.
    pub max_triggered: usize,
    /// Cap on queued transmits (new ones are dropped and counted beyond). Default 1024.
    pub max_transmits: usize,
    /// Cap on queued events (new ones are dropped and counted beyond). Default 1024.
    pub max_events: usize,
    /// SOFTWARE attribute in requests and responses, if any.
    pub software: Option<String>,
    /// RNG seed (credentials, tie-breaker, transaction IDs, consent jitter). `None`: seeded
    /// from the OS once in [`Agent::new`](crate::Agent::new).
    pub seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            role: Role::Controlling,
            lite: false,
            component: 1,
            local_credentials: None,
            stun_servers: Vec::new(),
            turn_servers: Vec::new(),
            relay_only: false,
            ta: Duration::from_millis(50),
            rto: Duration::from_millis(500),
            max_rto: Duration::from_millis(1600),
            max_transmissions: 7,
            nomination_timeout: Duration::from_millis(250),
            consent_interval: Duration::from_secs(5),
            disconnected_timeout: Duration::from_secs(8),
            consent_timeout: Duration::from_secs(30),
            keepalive_interval: Duration::from_secs(15),
            max_local_candidates: 32,
            max_remote_candidates: 100,
            max_pairs: 100,
            max_transactions: 256,
            max_triggered: 100,
            max_transmits: 1024,
            max_events: 1024,
            software: None,
            seed: None,
        }
    }
}

impl Config {
    /// Defaults with the given role.
    pub fn new(role: Role) -> Self {
        Self {
            role,
            ..Self::default()
        }
    }
}
