//! ICE candidates: the RFC 8839 section 5.1 `candidate` attribute grammar, priorities and
//! foundations (RFC 8445 section 5.1.2 and 5.1.1.3).

use crate::Error;
use core::fmt;
use core::str::FromStr;
use std::net::{IpAddr, SocketAddr};

/// Longest candidate line accepted by [`Candidate::from_str`] (bytes). Real lines are about
/// 100-200 bytes; the cap keeps a hostile signaling peer from making us allocate much.
pub const MAX_CANDIDATE_LEN: usize = 2048;
/// Most extension attributes (known and unknown together) one candidate may carry.
pub const MAX_EXTENSIONS: usize = 32;

/// The candidate type (RFC 8445 section 5.1.1, RFC 8839 `cand-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateKind {
    /// A local interface address (`host`).
    Host,
    /// Learned from a STUN server (`srflx`).
    ServerReflexive,
    /// Learned from a connectivity check (`prflx`).
    PeerReflexive,
    /// A TURN relayed address (`relay`).
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference (RFC 8445 section 5.1.2.2).
    pub const fn type_preference(self) -> u32 {
        match self {
            Self::Host => 126,
            Self::PeerReflexive => 110,
            Self::ServerReflexive => 100,
            Self::Relayed => 0,
        }
    }

    /// The `typ` token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::ServerReflexive => "srflx",
            Self::PeerReflexive => "prflx",
            Self::Relayed => "relay",
        }
    }
}

impl fmt::Display for CandidateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The transport of a candidate (RFC 8839 `transport`; RFC 6544 for TCP).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// `UDP` (matched case-insensitively).
    Udp,
    /// `TCP` (RFC 6544).
    Tcp,
    /// Any other token, kept as written.
    Other(String),
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Udp => f.write_str("udp"),
            Self::Tcp => f.write_str("tcp"),
            Self::Other(s) => f.write_str(s),
        }
    }
}

/// `tcptype` (RFC 6544 section 4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// `active`.
    Active,
    /// `passive`.
    Passive,
    /// `so` (simultaneous open).
    So,
}

impl fmt::Display for TcpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::So => "so",
        })
    }
}

/// A `connection-address`: an IP address or a fully qualified domain name (RFC 8839 section
/// 5.1). Browsers hide host addresses behind mDNS names ending in `.local`
/// (draft-ietf-mmusic-mdns-ice-candidates); the agent never resolves names itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A host name, to be resolved by the caller.
    Fqdn(String),
}

impl Address {
    /// The IP address, if this is not a name.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Ip(ip) => Some(*ip),
            Self::Fqdn(_) => None,
        }
    }

    /// True for an mDNS name (`*.local`).
    pub fn is_mdns(&self) -> bool {
        match self {
            Self::Ip(_) => false,
            Self::Fqdn(n) => n.to_ascii_lowercase().ends_with(".local"),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Fqdn(n) => f.write_str(n),
        }
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        // RFC 8839 allows an FQDN; accept the usual host name characters only.
        let ok = !s.is_empty()
            && s.len() <= 255
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
        if ok {
            Ok(Self::Fqdn(s.to_owned()))
        } else {
            Err(Error::InvalidCandidate {
                field: "connection-address",
                value: truncate(s),
            })
        }
    }
}

/// One ICE candidate, as in an SDP `a=candidate` line or a trickled `candidate` string
/// (RFC 8839 section 5.1):
///
/// ```text
/// candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
///           [raddr <addr> rport <port>] *(<extension-name> <extension-value>)
/// ```
///
/// `tcptype` (RFC 6544), `generation`, `ufrag`, `network-id` and `network-cost` (used by
/// browsers) have typed fields; any other extension is kept, in order, in
/// [`extensions`](Self::extensions) and written back by [`Display`](fmt::Display).
///
/// ```
/// use sansrtc_ice::{Candidate, CandidateKind};
/// let c: Candidate = "candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx \
///     raddr 192.168.1.2 rport 61665 generation 0 ufrag EsAw network-cost 999 x-foo bar"
///     .parse()?;
/// assert_eq!(c.kind, CandidateKind::ServerReflexive);
/// assert_eq!(c.extensions, vec![("x-foo".to_string(), "bar".to_string())]);
/// assert_eq!(c.to_string().parse::<Candidate>()?, c);
/// # Ok::<(), sansrtc_ice::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// 1 to 32 `ice-char`s; equal foundations mean "same type, base and server".
    pub foundation: String,
    /// Component ID, 1 to 256 (1 = RTP or the only component with rtcp-mux).
    pub component: u16,
    /// Transport.
    pub transport: TransportKind,
    /// Priority (RFC 8445 section 5.1.2).
    pub priority: u32,
    /// Connection address.
    pub address: Address,
    /// Port.
    pub port: u16,
    /// Type.
    pub kind: CandidateKind,
    /// `raddr` / `rport`: the related address (base or mapped address), if given.
    pub related: Option<(Address, u16)>,
    /// `tcptype`, for TCP candidates.
    pub tcp_type: Option<TcpType>,
    /// `generation` (browsers).
    pub generation: Option<u32>,
    /// `ufrag` (browsers; ties the candidate to a set of credentials).
    pub ufrag: Option<String>,
    /// `network-id` (browsers).
    pub network_id: Option<u32>,
    /// `network-cost` (browsers).
    pub network_cost: Option<u32>,
    /// Unknown extension attributes, name and value, in the order received.
    pub extensions: Vec<(String, String)>,
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

fn bad(field: &'static str, value: &str) -> Error {
    Error::InvalidCandidate {
        field,
        value: truncate(value),
    }
}

fn is_ice_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '+' || c == '/'
}

impl Candidate {
    /// A candidate with no optional fields.
    pub fn new(
        kind: CandidateKind,
        address: SocketAddr,
        priority: u32,
        foundation: impl Into<String>,
        component: u16,
    ) -> Self {
        Self {
            foundation: foundation.into(),
            component,
            transport: TransportKind::Udp,
            priority,
            address: Address::Ip(address.ip()),
            port: address.port(),
            kind,
            related: None,
            tcp_type: None,
            generation: None,
            ufrag: None,
            network_id: None,
            network_cost: None,
            extensions: Vec::new(),
        }
    }

    /// The transport address, if the connection address is an IP address.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.address.ip().map(|ip| SocketAddr::new(ip, self.port))
    }

    /// The same candidate with its (mDNS) name replaced by `ip`, once the caller resolved it.
    #[must_use]
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.address = Address::Ip(ip);
        self
    }
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "candidate:{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.kind
        )?;
        if let Some((a, p)) = &self.related {
            write!(f, " raddr {a} rport {p}")?;
        }
        if let Some(t) = self.tcp_type {
            write!(f, " tcptype {t}")?;
        }
        if let Some(g) = self.generation {
            write!(f, " generation {g}")?;
        }
        if let Some(u) = &self.ufrag {
            write!(f, " ufrag {u}")?;
        }
        if let Some(n) = self.network_id {
            write!(f, " network-id {n}")?;
        }
        if let Some(n) = self.network_cost {
            write!(f, " network-cost {n}")?;
        }
        for (k, v) in &self.extensions {
            write!(f, " {k} {v}")?;
        }
        Ok(())
    }
}

impl FromStr for Candidate {
    type Err = Error;

    /// Parses `candidate:...`, `a=candidate:...` or the bare value after `candidate:` (as
    /// aioice writes it).
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.len() > MAX_CANDIDATE_LEN {
            return Err(Error::TooLong {
                what: "candidate line",
                len: s.len(),
                max: MAX_CANDIDATE_LEN,
            });
        }
        let s = s.trim();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        let mut it = s.split_ascii_whitespace();
        let mut next = |field: &'static str| it.next().ok_or(bad(field, "<missing>"));
        let foundation = next("foundation")?;
        if foundation.is_empty() || foundation.len() > 32 || !foundation.chars().all(is_ice_char) {
            return Err(bad("foundation", foundation));
        }
        let component_s = next("component-id")?;
        let component: u16 = component_s
            .parse()
            .ok()
            .filter(|c| (1..=256).contains(c) && component_s.len() <= 3)
            .ok_or(bad("component-id", component_s))?;
        let transport_s = next("transport")?;
        let transport = if transport_s.eq_ignore_ascii_case("udp") {
            TransportKind::Udp
        } else if transport_s.eq_ignore_ascii_case("tcp") {
            TransportKind::Tcp
        } else if transport_s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            TransportKind::Other(transport_s.to_owned())
        } else {
            return Err(bad("transport", transport_s));
        };
        let prio_s = next("priority")?;
        let priority: u32 = prio_s
            .parse()
            .ok()
            .filter(|_| prio_s.len() <= 10)
            .ok_or(bad("priority", prio_s))?;
        let address: Address = next("connection-address")?.parse()?;
        let port_s = next("port")?;
        let port: u16 = port_s.parse().map_err(|_| bad("port", port_s))?;
        let typ = next("typ")?;
        if typ != "typ" {
            return Err(bad("typ", typ));
        }
        let kind_s = next("cand-type")?;
        let kind = match kind_s {
            "host" => CandidateKind::Host,
            "srflx" => CandidateKind::ServerReflexive,
            "prflx" => CandidateKind::PeerReflexive,
            "relay" => CandidateKind::Relayed,
            other => return Err(bad("cand-type", other)),
        };
        let mut c = Candidate {
            foundation: foundation.to_owned(),
            component,
            transport,
            priority,
            address,
            port,
            kind,
            related: None,
            tcp_type: None,
            generation: None,
            ufrag: None,
            network_id: None,
            network_cost: None,
            extensions: Vec::new(),
        };
        let mut raddr: Option<Address> = None;
        let mut rport: Option<u16> = None;
        let mut count = 0usize;
        while let Some(name) = it.next() {
            let value = it.next().ok_or(bad("extension-att-value", name))?;
            count += 1;
            if count > MAX_EXTENSIONS {
                return Err(Error::TooLong {
                    what: "candidate extensions",
                    len: count,
                    max: MAX_EXTENSIONS,
                });
            }
            let num = |field| value.parse::<u32>().map_err(|_| bad(field, value));
            match name {
                "raddr" => raddr = Some(value.parse()?),
                "rport" => rport = Some(value.parse().map_err(|_| bad("rport", value))?),
                "tcptype" => {
                    c.tcp_type = Some(match value {
                        "active" => TcpType::Active,
                        "passive" => TcpType::Passive,
                        "so" => TcpType::So,
                        _ => return Err(bad("tcptype", value)),
                    });
                }
                "generation" => c.generation = Some(num("generation")?),
                "ufrag" => c.ufrag = Some(value.to_owned()),
                "network-id" => c.network_id = Some(num("network-id")?),
                "network-cost" => c.network_cost = Some(num("network-cost")?),
                _ => c.extensions.push((name.to_owned(), value.to_owned())),
            }
        }
        c.related = match (raddr, rport) {
            (Some(a), Some(p)) => Some((a, p)),
            (None, None) => None,
            (Some(_), None) => return Err(bad("rport", "<missing after raddr>")),
            (None, Some(_)) => return Err(bad("raddr", "<missing before rport>")),
        };
        Ok(c)
    }
}

/// The priority formula of RFC 8445 section 5.1.2.1:
/// `2^24 * type_preference + 2^8 * local_preference + (256 - component)`.
pub fn priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    let component = u32::from(component.clamp(1, 256));
    (kind.type_preference() << 24) + (u32::from(local_preference) << 8) + (256 - component)
}

/// The pair priority of RFC 8445 section 6.1.2.3, where `g` is the controlling agent's
/// candidate priority and `d` the controlled agent's:
/// `2^32 * MIN(G,D) + 2 * MAX(G,D) + (G > D ? 1 : 0)`.
pub fn pair_priority(g: u32, d: u32) -> u64 {
    let (g, d) = (u64::from(g), u64::from(d));
    // Saturating: a peer may put any u32 in PRIORITY, and 2^32 * MIN + 2 * MAX overflows
    // 64 bits above 2^31 (real priorities stay below, the type preference being <= 126).
    (g.min(d) << 32)
        .saturating_add(2 * g.max(d))
        .saturating_add(u64::from(g > d))
}

/// A foundation (RFC 8445 section 5.1.1.3): equal for candidates of the same type, base IP
/// address, STUN/TURN server IP and transport, different otherwise. Deterministic (FNV-1a
/// over those fields, printed in decimal) so tests and logs are stable across runs.
pub fn foundation(kind: CandidateKind, base_ip: IpAddr, server: Option<IpAddr>) -> String {
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    eat(kind.as_str().as_bytes());
    eat(base_ip.to_string().as_bytes());
    if let Some(s) = server {
        eat(s.to_string().as_bytes());
    }
    eat(b"udp");
    h.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_formula() {
        // RFC 8445 5.1.2.1 with the recommended preferences.
        assert_eq!(priority(CandidateKind::Host, 65535, 1), 2_130_706_431);
        assert_eq!(
            priority(CandidateKind::ServerReflexive, 65535, 1),
            1_694_498_815
        );
        assert_eq!(priority(CandidateKind::Relayed, 65535, 1), 16_777_215);
        assert_eq!(
            priority(CandidateKind::PeerReflexive, 65535, 2),
            1_862_270_974
        );
        // Type dominates local preference.
        assert!(
            priority(CandidateKind::Host, 0, 1) > priority(CandidateKind::PeerReflexive, 65535, 1)
        );
    }

    #[test]
    fn pair_priority_formula() {
        // Symmetric except for the tie bit.
        assert_eq!(pair_priority(10, 20), (10u64 << 32) + 40);
        assert_eq!(pair_priority(20, 10), (10u64 << 32) + 41);
        assert_eq!(pair_priority(u32::MAX, u32::MAX), u64::MAX);
        assert_eq!(pair_priority(1 << 31, 1 << 31), (1u64 << 63) + (1u64 << 32));
    }

    #[test]
    fn foundation_rules() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let s: IpAddr = "1.2.3.4".parse().unwrap();
        assert_eq!(
            foundation(CandidateKind::Host, a, None),
            foundation(CandidateKind::Host, a, None)
        );
        assert_ne!(
            foundation(CandidateKind::Host, a, None),
            foundation(CandidateKind::Host, b, None)
        );
        assert_ne!(
            foundation(CandidateKind::Host, a, None),
            foundation(CandidateKind::ServerReflexive, a, Some(s))
        );
        assert!(
            foundation(CandidateKind::Relayed, a, Some(s))
                .chars()
                .all(is_ice_char)
        );
    }
}
