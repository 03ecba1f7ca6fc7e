//! Which peer addresses a TURN server agrees to relay to (RFC 8656 section 21.3: a TURN
//! server must not become a way into the networks it can reach).
//!
//! [`PeerPolicy::default`] denies every address that is not ordinary public unicast:
//! unspecified, loopback, "this network" (0/8), RFC 1918 private, shared/CGNAT (100.64/10),
//! link-local (169.254/16, including the cloud metadata address 169.254.169.254, and
//! fe80::/10), site-local (fec0::/10), unique-local (fc00::/7), multicast, broadcast and
//! reserved (240/4), the deprecated IPv4-compatible ::/96 block, documentation ranges, and
//! every IPv6 form that embeds an IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64
//! 64:ff9b::/96, 6to4 2002::/16) when the embedded address is denied. The server's own
//! addresses ([`PeerPolicy::deny_own`]) are denied too. An explicit allow list
//! ([`PeerPolicy::allow`]) overrides every deny rule; it is meant for test setups.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::str::FromStr;

use crate::Error;

/// An address block `addr/prefix`, e.g. `10.0.0.0/8` or `fc00::/7`; a bare address is a /32
/// or /128.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// A block; fails if the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, Error> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(Error::InvalidField {
                field: "CIDR prefix",
                reason: "longer than the address",
            });
        }
        Ok(Self { addr, prefix })
    }

    /// A single address.
    pub const fn host(addr: IpAddr) -> Self {
        let prefix = if addr.is_ipv4() { 32 } else { 128 };
        Self { addr, prefix }
    }

    /// True if `ip` is inside the block (an IPv4-mapped IPv6 address matches an IPv4 block).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V4(ip)) => prefix_eq(
                u128::from(net),
                u128::from(ip.to_ipv6_mapped()),
                self.prefix,
            ),
            (IpAddr::V4(_), IpAddr::V6(_)) => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8) -> bool {
    if prefix == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(prefix.min(128)));
    a & mask == b & mask
}

/// `::ffff:a.b.c.d` becomes `a.b.c.d`; everything else is unchanged.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

impl FromStr for Cidr {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = Error::InvalidField {
            field: "CIDR",
            reason: "expected ADDRESS or ADDRESS/PREFIX",
        };
        match s.split_once('/') {
            None => s.parse::<IpAddr>().map(Self::host).map_err(|_| bad),
            Some((a, p)) => {
                let addr = a.parse::<IpAddr>().map_err(|_| bad.clone())?;
                let prefix = p.parse::<u8>().map_err(|_| bad)?;
                Self::new(addr, prefix)
            }
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why a peer address was refused (answered with 403 Forbidden, RFC 8656 section 9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// 0.0.0.0, ::, or 0.0.0.0/8.
    Unspecified,
    /// 127/8 or ::1.
    Loopback,
    /// RFC 1918 (10/8, 172.16/12, 192.168/16) or shared address space 100.64/10.
    Private,
    /// fc00::/7 (RFC 4193) or the deprecated site-local fec0::/10.
    UniqueLocal,
    /// 169.254/16 (including 169.254.169.254) or fe80::/10.
    LinkLocal,
    /// 224/4 or ff00::/8.
    Multicast,
    /// 255.255.255.255, 240/4, documentation and benchmarking ranges, IPv4-compatible
    /// ::/96, the discard prefix 100::/64.
    Reserved,
    /// One of the server's own addresses.
    OwnAddress,
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "unspecified address",
            Self::Loopback => "loopback address",
            Self::Private => "private address",
            Self::UniqueLocal => "unique-local address",
            Self::LinkLocal => "link-local address",
            Self::Multicast => "multicast address",
            Self::Reserved => "reserved address",
            Self::OwnAddress => "the server's own address",
        })
    }
}

/// Peer-address policy of a TURN server; see the module docs for the default deny list.
#[derive(Clone, Debug, Default)]
pub struct PeerPolicy {
    allow: Vec<Cidr>,
    own: Vec<IpAddr>,
}

impl PeerPolicy {
    /// The default: deny everything but public unicast, allow nothing extra.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows a block explicitly, overriding every deny rule (for tests: `127.0.0.0/8`).
    pub fn allow(mut self, block: Cidr) -> Self {
        self.allow.push(block);
        self
    }

    /// Denies one of the server's own addresses (listening and relay addresses).
    pub fn deny_own(mut self, ip: IpAddr) -> Self {
        self.own.push(canonical(ip));
        self
    }

    /// The explicit allow list.
    pub fn allowed(&self) -> &[Cidr] {
        &self.allow
    }

    /// `Ok` if the server may relay to `ip`, or the reason it may not.
    pub fn check(&self, ip: IpAddr) -> Result<(), DenyReason> {
        if self.allow.iter().any(|c| c.contains(ip)) {
            return Ok(());
        }
        let c = canonical(ip);
        if self.own.contains(&c) {
            return Err(DenyReason::OwnAddress);
        }
        classify(ip)
    }
}

/// The default classification of an address, without allow list or own addresses.
pub fn classify(ip: IpAddr) -> Result<(), DenyReason> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Result<(), DenyReason> {
    let [a, b, c, _] = ip.octets();
    if a == 0 {
        return Err(DenyReason::Unspecified);
    }
    if a == 127 {
        return Err(DenyReason::Loopback);
    }
    if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        return Err(DenyReason::Private);
    }
    if a == 100 && (64..=127).contains(&b) {
        return Err(DenyReason::Private);
    }
    if a == 169 && b == 254 {
        return Err(DenyReason::LinkLocal);
    }
    if (224..=239).contains(&a) {
        return Err(DenyReason::Multicast);
    }
    let reserved = a >= 240 // includes 255.255.255.255
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 192 && b == 88 && c == 99); // 6to4 relay anycast
    if reserved {
        return Err(DenyReason::Reserved);
    }
    Ok(())
}

fn classify_v6(ip: Ipv6Addr) -> Result<(), DenyReason> {
    if ip.is_unspecified() {
        return Err(DenyReason::Unspecified);
    }
    if ip.is_loopback() {
        return Err(DenyReason::Loopback);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let seg = ip.segments();
    let bits = u128::from(ip);
    // NAT64 well-known prefix 64:ff9b::/96 and local-use 64:ff9b:1::/48: check what they embed.
    if bits >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return classify_v4(Ipv4Addr::from(bits as u32));
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1 {
        return Err(DenyReason::Private);
    }
    // 6to4 (2002::/16) embeds an IPv4 address in bits 16..48.
    if seg[0] == 0x2002 {
        return classify_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    // IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 section 2.5.5.1) and ::/8 generally.
    if seg[0] == 0 {
        return Err(DenyReason::Reserved);
    }
    if seg[0] & 0xfe00 == 0xfc00 || seg[0] & 0xffc0 == 0xfec0 {
        return Err(DenyReason::UniqueLocal);
    }
    if seg[0] & 0xffc0 == 0xfe80 {
        return Err(DenyReason::LinkLocal);
    }
    if seg[0] & 0xff00 == 0xff00 {
        return Err(DenyReason::Multicast);
    }
    // discard-only 100::/64, documentation 2001:db8::/32, ORCHID and benchmarking 2001:2::/48
    let reserved = (seg[0] == 0x100 && seg[1] == 0 && seg[2] == 0 && seg[3] == 0)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8)
        || (seg[0] == 0x2001 && seg[1] == 0x0002 && seg[2] == 0)
        || (seg[0] == 0x3fff && seg[1] & 0xf000 == 0);
    if reserved {
        return Err(DenyReason::Reserved);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn denies_every_special_form() {
        let cases: &[(&str, DenyReason)] = &[
            ("0.0.0.0", DenyReason::Unspecified),
            ("0.1.2.3", DenyReason::Unspecified),
            ("::", DenyReason::Unspecified),
            ("127.0.0.1", DenyReason::Loopback),
            ("127.255.255.254", DenyReason::Loopback),
            ("::1", DenyReason::Loopback),
            ("::ffff:127.0.0.1", DenyReason::Loopback),
            ("::ffff:0.0.0.0", DenyReason::Unspecified),
            ("10.0.0.1", DenyReason::Private),
            ("10.255.255.255", DenyReason::Private),
            ("::ffff:10.1.2.3", DenyReason::Private),
            ("172.16.0.1", DenyReason::Private),
            ("172.31.255.255", DenyReason::Private),
            ("::ffff:172.20.0.1", DenyReason::Private),
            ("192.168.1.1", DenyReason::Private),
            ("::ffff:192.168.0.1", DenyReason::Private),
            ("100.64.0.1", DenyReason::Private),
            ("100.127.255.255", DenyReason::Private),
            ("169.254.169.254", DenyReason::LinkLocal),
            ("169.254.0.1", DenyReason::LinkLocal),
            ("::ffff:169.254.169.254", DenyReason::LinkLocal),
            ("64:ff9b::169.254.169.254", DenyReason::LinkLocal),
            ("64:ff9b::127.0.0.1", DenyReason::Loopback),
            ("64:ff9b::10.0.0.1", DenyReason::Private),
            ("2002:a9fe:a9fe::1", DenyReason::LinkLocal),
            ("2002:7f00:1::1", DenyReason::Loopback),
            ("2002:c0a8:0101::1", DenyReason::Private),
            ("fe80::1", DenyReason::LinkLocal),
            ("febf::1", DenyReason::LinkLocal),
            ("fc00::1", DenyReason::UniqueLocal),
            ("fd12:3456::1", DenyReason::UniqueLocal),
            ("fec0::1", DenyReason::UniqueLocal),
            ("224.0.0.1", DenyReason::Multicast),
            ("239.255.255.250", DenyReason::Multicast),
            ("::ffff:224.0.0.251", DenyReason::Multicast),
            ("ff02::1", DenyReason::Multicast),
            ("ff0e::fb", DenyReason::Multicast),
            ("255.255.255.255", DenyReason::Reserved),
            ("240.0.0.1", DenyReason::Reserved),
            ("192.0.2.1", DenyReason::Reserved),
            ("198.51.100.7", DenyReason::Reserved),
            ("203.0.113.9", DenyReason::Reserved),
            ("198.18.0.1", DenyReason::Reserved),
            ("::7f00:1", DenyReason::Reserved),
            ("::a00:1", DenyReason::Reserved),
            ("::1.2.3.4", DenyReason::Reserved),
            ("2001:db8::1", DenyReason::Reserved),
            ("100::1", DenyReason::Reserved),
        ];
        let p = PeerPolicy::default();
        for (s, why) in cases {
            assert_eq!(p.check(ip(s)), Err(*why), "{s}");
        }
    }

    #[test]
    fn allows_public_unicast() {
        let p = PeerPolicy::default();
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.167.1.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "223.255.255.255",
            "2001:4860:4860::8888",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ] {
            assert_eq!(p.check(ip(s)), Ok(()), "{s}");
        }
    }

    #[test]
    fn own_addresses_and_allow_list() {
        let p = PeerPolicy::default().deny_own(ip("203.0.114.5"));
        assert_eq!(p.check(ip("203.0.114.5")), Err(DenyReason::OwnAddress));
        assert_eq!(
            p.check(ip("::ffff:203.0.114.5")),
            Err(DenyReason::OwnAddress)
        );
        assert_eq!(p.check(ip("203.0.114.6")), Ok(()));
        let p = p
            .allow("127.0.0.0/8".parse().unwrap())
            .allow("203.0.114.5".parse().unwrap());
        assert_eq!(p.check(ip("127.0.0.1")), Ok(()));
        assert_eq!(p.check(ip("::ffff:127.0.0.2")), Ok(()));
        assert_eq!(p.check(ip("203.0.114.5")), Ok(()));
        assert_eq!(p.check(ip("::1")), Err(DenyReason::Loopback));
        assert_eq!(p.check(ip("10.0.0.1")), Err(DenyReason::Private));
    }

    #[test]
    fn cidr_parsing_and_matching() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(ip("10.200.0.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")));
        let c: Cidr = "fc00::/7".parse().unwrap();
        assert!(c.contains(ip("fdff::1")));
        assert!(!c.contains(ip("fe00::1")));
        assert!(!c.contains(ip("10.0.0.1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("1.2.3.4")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("::/129".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        assert!("1.2.3.4/x".parse::<Cidr>().is_err());
        assert_eq!(
            "10.0.0.0/8".parse::<Cidr>().unwrap().to_string(),
            "10.0.0.0/8"
        );
    }

    /// Exhaustive over the first octet and every second octet of the interesting ones: the
    /// classification agrees with an independent table, and the IPv4-mapped form always
    /// gets the same answer as the IPv4 form.
    #[test]
    fn exhaustive_v4_octets_and_mapped_forms() {
        let p = PeerPolicy::default();
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let v4 = Ipv4Addr::new(a, b, 7, 9);
                let expected_denied = a == 0
                    || a == 10
                    || a == 127
                    || (a == 172 && (16..32).contains(&b))
                    || (a == 192 && b == 168)
                    || (a == 100 && (64..128).contains(&b))
                    || (a == 169 && b == 254)
                    || a >= 224
                    || (a == 198 && (b == 18 || b == 19));
                let r = p.check(IpAddr::V4(v4));
                assert_eq!(r.is_err(), expected_denied, "{v4}");
                assert_eq!(p.check(IpAddr::V6(v4.to_ipv6_mapped())), r, "mapped {v4}");
                let nat64 = Ipv6Addr::from(0x0064_ff9b_u128 << 96 | u128::from(u32::from(v4)));
                assert_eq!(p.check(IpAddr::V6(nat64)), r, "nat64 {v4}");
                let compat = Ipv6Addr::from(u128::from(u32::from(v4)));
                assert!(p.check(IpAddr::V6(compat)).is_err(), "compat {v4}");
            }
        }
    }
}
