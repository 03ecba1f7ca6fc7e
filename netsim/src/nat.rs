//! NAT boxes: mapping and filtering behaviour after RFC 4787 (and the classic RFC 3489
//! names).

use crate::Error;
use crate::rng::{Rng, derive_seed};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// The four classic NAT types (RFC 3489 section 5; RFC 4787 sections 4.1 and 5 for the
/// mapping / filtering terms).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NatKind {
    /// Endpoint-independent mapping and filtering: once mapped, anyone may send in.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering: inbound only from IP
    /// addresses the inside host has sent to.
    AddressRestricted,
    /// Endpoint-independent mapping, address-and-port-dependent filtering: inbound only from
    /// the exact IP:port the inside host has sent to.
    #[default]
    PortRestricted,
    /// Address-and-port-dependent mapping (a new public port per remote IP:port) and
    /// filtering: only that remote may answer on that port.
    Symmetric,
}

/// How a NAT picks the public port of a new mapping (RFC 4787 section 4.2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PortAllocation {
    /// The next free port of `port_range`, in order.
    #[default]
    Sequential,
    /// The inside port if it is free (anywhere in 1..=65535), else sequential.
    Preserve,
    /// A random free port of `port_range` (from the network seed).
    Random,
}

/// An IP prefix such as `10.0.0.0/8`, or a single address (`/32`, `/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Subnet {
    addr: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// A prefix of `prefix` bits; host bits of `addr` are cleared. Fails when the prefix is
    /// longer than the address (32 for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, Error> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(Error::InvalidSubnet {
                value: format!("{addr}/{prefix}"),
                reason: "prefix longer than the address",
            });
        }
        let addr = match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        };
        Ok(Subnet { addr, prefix })
    }

    /// The network address (host bits cleared).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies inside this prefix (never across address families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl From<IpAddr> for Subnet {
    fn from(addr: IpAddr) -> Self {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Subnet { addr, prefix }
    }
}

impl From<std::net::Ipv4Addr> for Subnet {
    fn from(addr: std::net::Ipv4Addr) -> Self {
        Subnet::from(IpAddr::V4(addr))
    }
}

impl From<std::net::Ipv6Addr> for Subnet {
    fn from(addr: std::net::Ipv6Addr) -> Self {
        Subnet::from(IpAddr::V6(addr))
    }
}

impl FromStr for Subnet {
    type Err = Error;

    /// `"10.0.0.0/8"`, `"fd00::/8"`, or a bare address.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason| Error::InvalidSubnet {
            value: s.to_owned(),
            reason,
        };
        match s.split_once('/') {
            Some((a, p)) => {
                let addr: IpAddr = a.trim().parse().map_err(|_| bad("bad address"))?;
                let prefix: u8 = p.trim().parse().map_err(|_| bad("bad prefix length"))?;
                Subnet::new(addr, prefix)
            }
            None => {
                let addr: IpAddr = s.trim().parse().map_err(|_| bad("bad address"))?;
                Ok(Subnet::from(addr))
            }
        }
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Configuration of one NAT box. Build it with [`NatConfig::new`] and the setters, or as a
/// struct literal with `..Default::default()`.
#[derive(Clone, Debug, PartialEq)]
pub struct NatConfig {
    /// Mapping and filtering behaviour. Default [`NatKind::PortRestricted`].
    pub kind: NatKind,
    /// The outside address; inside sources are rewritten to it. Default `0.0.0.0` (set it).
    pub public_ip: IpAddr,
    /// Addresses / prefixes of the hosts behind this NAT. Inside addresses must be unique in
    /// the network: a datagram to an inside address from anywhere but the same inside is
    /// dropped as [`DropCause::Unroutable`](crate::DropCause::Unroutable).
    pub inside: Vec<Subnet>,
    /// Idle time after which a mapping (and each filter entry) expires; refreshed by
    /// outbound traffic (RFC 4787 REQ-5/REQ-6). Default 120 s.
    pub mapping_timeout: Duration,
    /// Whether inbound traffic also refreshes the mapping. Default false.
    pub inbound_refresh: bool,
    /// Port choice for new mappings. Default [`PortAllocation::Sequential`].
    pub port_allocation: PortAllocation,
    /// Inclusive range of public ports for new mappings. Default 49152..=65535.
    pub port_range: (u16, u16),
    /// Cap on live mappings; when full (after purging expired ones) new outbound flows are
    /// dropped. Default 4096.
    pub max_mappings: usize,
    /// Cap on remote endpoints remembered per mapping for filtering; the least recently
    /// used is forgotten. Default 64.
    pub max_filters_per_mapping: usize,
    /// Whether an inside host may reach another inside host through the public address
    /// (RFC 4787 REQ-9). Default false (dropped as NAT).
    pub hairpin: bool,
}

impl Default for NatConfig {
    fn default() -> Self {
        NatConfig {
            kind: NatKind::default(),
            public_ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            inside: Vec::new(),
            mapping_timeout: Duration::from_secs(120),
            inbound_refresh: false,
            port_allocation: PortAllocation::default(),
            port_range: (49152, 65535),
            max_mappings: 4096,
            max_filters_per_mapping: 64,
            hairpin: false,
        }
    }
}

impl NatConfig {
    /// A NAT of `kind` with public address `public_ip` in front of `inside`.
    pub fn new<I, S>(kind: NatKind, public_ip: IpAddr, inside: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Subnet>,
    {
        NatConfig {
            kind,
            public_ip,
            inside: inside.into_iter().map(Into::into).collect(),
            ..NatConfig::default()
        }
    }

    /// Sets the mapping timeout.
    #[must_use]
    pub fn mapping_timeout(mut self, t: Duration) -> Self {
        self.mapping_timeout = t;
        self
    }

    /// Sets whether inbound traffic refreshes mappings.
    #[must_use]
    pub fn inbound_refresh(mut self, on: bool) -> Self {
        self.inbound_refresh = on;
        self
    }

    /// Sets the port allocation strategy.
    #[must_use]
    pub fn port_allocation(mut self, a: PortAllocation) -> Self {
        self.port_allocation = a;
        self
    }

    /// Sets the public port range (inclusive; swapped if reversed, port 0 excluded).
    #[must_use]
    pub fn port_range(mut self, lo: u16, hi: u16) -> Self {
        self.port_range = (lo, hi);
        self
    }

    /// Sets the mapping-table cap.
    #[must_use]
    pub fn max_mappings(mut self, n: usize) -> Self {
        self.max_mappings = n;
        self
    }

    /// Sets the per-mapping filter cap.
    #[must_use]
    pub fn max_filters_per_mapping(mut self, n: usize) -> Self {
        self.max_filters_per_mapping = n;
        self
    }

    /// Enables or disables hairpinning.
    #[must_use]
    pub fn hairpin(mut self, on: bool) -> Self {
        self.hairpin = on;
        self
    }
}

/// Handle of a NAT added with [`Network::add_nat`](crate::Network::add_nat).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NatId(pub(crate) usize);

/// One live mapping, as reported by [`Network::nat_mappings`](crate::Network::nat_mappings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatMapping {
    /// The inside endpoint.
    pub inside: SocketAddr,
    /// The public endpoint it is mapped to.
    pub public: SocketAddr,
    /// For a symmetric NAT, the remote this mapping is bound to.
    pub remote: Option<SocketAddr>,
    /// Remotes currently allowed in by the filter (all of them for a full cone).
    pub allowed: Vec<SocketAddr>,
}

type MapKey = (SocketAddr, Option<SocketAddr>);

#[derive(Debug)]
struct Mapping {
    key: MapKey,
    last_active: Duration,
    /// Remote endpoints sent to, with the time of the last outbound datagram to each.
    filters: Vec<(SocketAddr, Duration)>,
}

/// Runtime state of one NAT box.
#[derive(Debug)]
pub(crate) struct Nat {
    pub(crate) cfg: NatConfig,
    by_key: BTreeMap<MapKey, u16>,
    by_port: BTreeMap<u16, Mapping>,
    next_port: u16,
    rng: Rng,
}

fn expired(last: Duration, now: Duration, timeout: Duration) -> bool {
    now.saturating_sub(last) > timeout
}

impl Nat {
    pub(crate) fn new(mut cfg: NatConfig, seed: u64) -> Self {
        let (mut lo, mut hi) = cfg.port_range;
        if lo > hi {
            std::mem::swap(&mut lo, &mut hi);
        }
        let lo = lo.max(1);
        let hi = hi.max(1);
        cfg.port_range = (lo, hi);
        let rng = Rng::new(derive_seed(
            seed,
            &[b"nat", cfg.public_ip.to_string().as_bytes()],
        ));
        Nat {
            cfg,
            by_key: BTreeMap::new(),
            by_port: BTreeMap::new(),
            next_port: lo,
            rng,
        }
    }

    pub(crate) fn is_inside(&self, ip: IpAddr) -> bool {
        self.cfg.inside.iter().any(|s| s.contains(ip))
    }

    fn key(&self, inside: SocketAddr, remote: SocketAddr) -> MapKey {
        match self.cfg.kind {
            NatKind::Symmetric => (inside, Some(remote)),
            _ => (inside, None),
        }
    }

    fn remove_port(&mut self, port: u16) {
        if let Some(m) = self.by_port.remove(&port) {
            self.by_key.remove(&m.key);
        }
    }

    fn purge_expired(&mut self, now: Duration) {
        let timeout = self.cfg.mapping_timeout;
        let dead: Vec<u16> = self
            .by_port
            .iter()
            .filter(|(_, m)| expired(m.last_active, now, timeout))
            .map(|(p, _)| *p)
            .collect();
        for p in dead {
            self.remove_port(p);
        }
    }

    fn allocate_port(&mut self, inside_port: u16) -> Option<u16> {
        let (lo, hi) = self.cfg.port_range;
        if self.cfg.port_allocation == PortAllocation::Preserve
            && inside_port != 0
            && !self.by_port.contains_key(&inside_port)
        {
            return Some(inside_port);
        }
        let span = u32::from(hi) - u32::from(lo) + 1;
        if self.cfg.port_allocation == PortAllocation::Random {
            for _ in 0..16 {
                let off = u16::try_from(self.rng.below(u64::from(span))).unwrap_or(0);
                let p = lo.saturating_add(off);
                if !self.by_port.contains_key(&p) {
                    return Some(p);
                }
            }
        }
        let mut p = self.next_port.clamp(lo, hi);
        for _ in 0..span {
            let candidate = p;
            p = if p >= hi { lo } else { p + 1 };
            if !self.by_port.contains_key(&candidate) {
                self.next_port = p;
                return Some(candidate);
            }
        }
        None
    }

    /// Translates an outbound datagram from `inside` to `remote` at `now`: finds or creates
    /// the mapping, refreshes it and its filter entry. `None` when the table is full.
    pub(crate) fn outbound(
        &mut self,
        now: Duration,
        inside: SocketAddr,
        remote: SocketAddr,
    ) -> Option<SocketAddr> {
        let key = self.key(inside, remote);
        let timeout = self.cfg.mapping_timeout;
        let mut port = self.by_key.get(&key).copied();
        if let Some(p) = port {
            let stale = self
                .by_port
                .get(&p)
                .is_none_or(|m| expired(m.last_active, now, timeout));
            if stale {
                self.remove_port(p);
                port = None;
            }
        }
        let port = match port {
            Some(p) => p,
            None => {
                if self.by_port.len() >= self.cfg.max_mappings {
                    self.purge_expired(now);
                    if self.by_port.len() >= self.cfg.max_mappings {
                        return None;
                    }
                }
                let p = match self.allocate_port(inside.port()) {
                    Some(p) => p,
                    None => {
                        // Expired mappings may still hold every port of the range.
                        self.purge_expired(now);
                        self.allocate_port(inside.port())?
                    }
                };
                self.by_key.insert(key, p);
                self.by_port.insert(
                    p,
                    Mapping {
                        key,
                        last_active: now,
                        filters: Vec::new(),
                    },
                );
                p
            }
        };
        let max_filters = self.cfg.max_filters_per_mapping;
        let m = self.by_port.get_mut(&port)?;
        m.last_active = now;
        if let Some(f) = m.filters.iter_mut().find(|(r, _)| *r == remote) {
            f.1 = now;
        } else if max_filters > 0 {
            if m.filters.len() >= max_filters {
                // Forget the least recently used remote.
                if let Some(oldest) = m
                    .filters
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (_, t))| *t)
                    .map(|(i, _)| i)
                {
                    m.filters.swap_remove(oldest);
                }
            }
            m.filters.push((remote, now));
        }
        Some(SocketAddr::new(self.cfg.public_ip, port))
    }

    /// Filters an inbound datagram from `remote` to public port `port` at `now`; returns
    /// the inside endpoint to deliver to, or `None` to drop.
    pub(crate) fn inbound(
        &mut self,
        now: Duration,
        remote: SocketAddr,
        port: u16,
    ) -> Option<SocketAddr> {
        let timeout = self.cfg.mapping_timeout;
        let kind = self.cfg.kind;
        let refresh = self.cfg.inbound_refresh;
        let m = self.by_port.get_mut(&port)?;
        if expired(m.last_active, now, timeout) {
            self.remove_port(port);
            return None;
        }
        let fresh = |t: Duration| !expired(t, now, timeout);
        let allowed = match kind {
            NatKind::FullCone => true,
            NatKind::AddressRestricted => m
                .filters
                .iter()
                .any(|(r, t)| r.ip() == remote.ip() && fresh(*t)),
            NatKind::PortRestricted => m.filters.iter().any(|(r, t)| *r == remote && fresh(*t)),
            NatKind::Symmetric => m.key.1 == Some(remote),
        };
        if !allowed {
            return None;
        }
        if refresh {
            m.last_active = now;
        }
        Some(m.key.0)
    }

    /// The current mapping of `inside` towards `remote`, without creating or refreshing it.
    pub(crate) fn lookup(
        &self,
        now: Duration,
        inside: SocketAddr,
        remote: SocketAddr,
    ) -> Option<SocketAddr> {
        let port = *self.by_key.get(&self.key(inside, remote))?;
        let m = self.by_port.get(&port)?;
        if expired(m.last_active, now, self.cfg.mapping_timeout) {
            return None;
        }
        Some(SocketAddr::new(self.cfg.public_ip, port))
    }

    pub(crate) fn mappings(&self, now: Duration) -> Vec<NatMapping> {
        let timeout = self.cfg.mapping_timeout;
        self.by_port
            .iter()
            .filter(|(_, m)| !expired(m.last_active, now, timeout))
            .map(|(p, m)| NatMapping {
                inside: m.key.0,
                public: SocketAddr::new(self.cfg.public_ip, *p),
                remote: m.key.1,
                allowed: m
                    .filters
                    .iter()
                    .filter(|(_, t)| !expired(*t, now, timeout))
                    .map(|(r, _)| *r)
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_parse_and_contains() {
        let s: Subnet = "10.1.2.3/8".parse().unwrap();
        assert_eq!(s.to_string(), "10.0.0.0/8");
        assert!(s.contains("10.200.0.1".parse().unwrap()));
        assert!(!s.contains("11.0.0.1".parse().unwrap()));
        assert!(!s.contains("::1".parse().unwrap()));
        let all: Subnet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("1.2.3.4".parse().unwrap()));
        let host: Subnet = "192.168.1.7".parse().unwrap();
        assert_eq!(host.prefix(), 32);
        assert!(host.contains("192.168.1.7".parse().unwrap()));
        assert!(!host.contains("192.168.1.8".parse().unwrap()));
        let v6: Subnet = "fd00::/8".parse().unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(!v6.contains("fe80::1".parse().unwrap()));
        assert!(matches!(
            "10.0.0.0/33".parse::<Subnet>(),
            Err(Error::InvalidSubnet { .. })
        ));
        assert!("nope/8".parse::<Subnet>().is_err());
        assert!("10.0.0.0/x".parse::<Subnet>().is_err());
    }

    #[test]
    fn port_range_exhaustion_and_wrap() {
        let cfg = NatConfig::new(
            NatKind::Symmetric,
            "1.1.1.1".parse().unwrap(),
            ["10.0.0.0/8".parse::<Subnet>().unwrap()],
        )
        .port_range(1001, 1000); // reversed on purpose
        let mut nat = Nat::new(cfg, 1);
        let inside: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let r1: SocketAddr = "2.2.2.2:1".parse().unwrap();
        let r2: SocketAddr = "2.2.2.2:2".parse().unwrap();
        let r3: SocketAddr = "2.2.2.2:3".parse().unwrap();
        let p1 = nat.outbound(Duration::ZERO, inside, r1).unwrap();
        let p2 = nat.outbound(Duration::ZERO, inside, r2).unwrap();
        assert_ne!(p1, p2);
        assert!((1000..=1001).contains(&p1.port()));
        assert!((1000..=1001).contains(&p2.port()));
        assert_eq!(nat.outbound(Duration::ZERO, inside, r3), None);
        // After the timeout the ports are recycled.
        let later = Duration::from_secs(121);
        assert!(nat.outbound(later, inside, r3).is_some());
    }
}
