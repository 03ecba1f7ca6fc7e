//! Attribute types and their typed values (RFC 8489 section 14, RFC 8445 section 16.1).

use super::{MAGIC_COOKIE, TransactionId, be16, be32, padded};
use crate::Error;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Attribute type numbers (RFC 8489 section 18.3, RFC 8445 section 16.1, RFC 8656 section 18).
pub mod attr {
    /// MAPPED-ADDRESS (RFC 8489 section 14.1).
    pub const MAPPED_ADDRESS: u16 = 0x0001;
    /// USERNAME (RFC 8489 section 14.3).
    pub const USERNAME: u16 = 0x0006;
    /// MESSAGE-INTEGRITY (RFC 8489 section 14.5).
    pub const MESSAGE_INTEGRITY: u16 = 0x0008;
    /// ERROR-CODE (RFC 8489 section 14.8).
    pub const ERROR_CODE: u16 = 0x0009;
    /// UNKNOWN-ATTRIBUTES (RFC 8489 section 14.13).
    pub const UNKNOWN_ATTRIBUTES: u16 = 0x000A;
    /// CHANNEL-NUMBER (RFC 8656).
    pub const CHANNEL_NUMBER: u16 = 0x000C;
    /// LIFETIME (RFC 8656).
    pub const LIFETIME: u16 = 0x000D;
    /// XOR-PEER-ADDRESS (RFC 8656).
    pub const XOR_PEER_ADDRESS: u16 = 0x0012;
    /// DATA (RFC 8656).
    pub const DATA: u16 = 0x0013;
    /// REALM (RFC 8489 section 14.9).
    pub const REALM: u16 = 0x0014;
    /// NONCE (RFC 8489 section 14.10).
    pub const NONCE: u16 = 0x0015;
    /// XOR-RELAYED-ADDRESS (RFC 8656).
    pub const XOR_RELAYED_ADDRESS: u16 = 0x0016;
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656).
    pub const REQUESTED_ADDRESS_FAMILY: u16 = 0x0017;
    /// EVEN-PORT (RFC 8656).
    pub const EVEN_PORT: u16 = 0x0018;
    /// REQUESTED-TRANSPORT (RFC 8656).
    pub const REQUESTED_TRANSPORT: u16 = 0x0019;
    /// DONT-FRAGMENT (RFC 8656).
    pub const DONT_FRAGMENT: u16 = 0x001A;
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 section 14.6).
    pub const MESSAGE_INTEGRITY_SHA256: u16 = 0x001C;
    /// PASSWORD-ALGORITHM (RFC 8489 section 14.12).
    pub const PASSWORD_ALGORITHM: u16 = 0x001D;
    /// USERHASH (RFC 8489 section 14.4).
    pub const USERHASH: u16 = 0x001E;
    /// XOR-MAPPED-ADDRESS (RFC 8489 section 14.2).
    pub const XOR_MAPPED_ADDRESS: u16 = 0x0020;
    /// RESERVATION-TOKEN (RFC 8656).
    pub const RESERVATION_TOKEN: u16 = 0x0022;
    /// PRIORITY (RFC 8445 section 16.1).
    pub const PRIORITY: u16 = 0x0024;
    /// USE-CANDIDATE (RFC 8445 section 16.1).
    pub const USE_CANDIDATE: u16 = 0x0025;
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656).
    pub const ADDITIONAL_ADDRESS_FAMILY: u16 = 0x8000;
    /// ADDRESS-ERROR-CODE (RFC 8656).
    pub const ADDRESS_ERROR_CODE: u16 = 0x8001;
    /// PASSWORD-ALGORITHMS (RFC 8489 section 14.11).
    pub const PASSWORD_ALGORITHMS: u16 = 0x8002;
    /// ALTERNATE-DOMAIN (RFC 8489 section 14.16).
    pub const ALTERNATE_DOMAIN: u16 = 0x8003;
    /// ICMP (RFC 8656).
    pub const ICMP: u16 = 0x8004;
    /// SOFTWARE (RFC 8489 section 14.14).
    pub const SOFTWARE: u16 = 0x8022;
    /// ALTERNATE-SERVER (RFC 8489 section 14.15).
    pub const ALTERNATE_SERVER: u16 = 0x8023;
    /// FINGERPRINT (RFC 8489 section 14.7).
    pub const FINGERPRINT: u16 = 0x8028;
    /// ICE-CONTROLLED (RFC 8445 section 16.1).
    pub const ICE_CONTROLLED: u16 = 0x8029;
    /// ICE-CONTROLLING (RFC 8445 section 16.1).
    pub const ICE_CONTROLLING: u16 = 0x802A;
    /// RESPONSE-ORIGIN (RFC 5780).
    pub const RESPONSE_ORIGIN: u16 = 0x802B;
    /// OTHER-ADDRESS (RFC 5780).
    pub const OTHER_ADDRESS: u16 = 0x802C;
    /// GOOG-NETWORK-INFO (Chromium, not registered with IANA): network id and cost.
    pub const GOOG_NETWORK_INFO: u16 = 0xC057;
}

/// Attribute types this crate decodes into a typed [`Attribute`]. A request carrying any
/// other comprehension-required type (0x0000..=0x7FFF) is answered with 420 by a server that
/// knows no more than this crate (RFC 8489 section 6.3.1).
pub const fn is_known(attr_type: u16) -> bool {
    matches!(
        attr_type,
        attr::MAPPED_ADDRESS
            | attr::USERNAME
            | attr::MESSAGE_INTEGRITY
            | attr::ERROR_CODE
            | attr::UNKNOWN_ATTRIBUTES
            | attr::REALM
            | attr::NONCE
            | attr::MESSAGE_INTEGRITY_SHA256
            | attr::PASSWORD_ALGORITHM
            | attr::USERHASH
            | attr::XOR_MAPPED_ADDRESS
            | attr::PRIORITY
            | attr::USE_CANDIDATE
            | attr::PASSWORD_ALGORITHMS
            | attr::ALTERNATE_DOMAIN
            | attr::SOFTWARE
            | attr::ALTERNATE_SERVER
            | attr::FINGERPRINT
            | attr::ICE_CONTROLLED
            | attr::ICE_CONTROLLING
    )
}

/// Types 0x0000..=0x7FFF are comprehension-required (RFC 8489 section 14).
pub const fn is_comprehension_required(attr_type: u16) -> bool {
    attr_type < 0x8000
}

/// The registered name of an attribute type, for display (includes TURN, RFC 5780 and
/// Chromium's GOOG-NETWORK-INFO).
pub const fn attr_name(attr_type: u16) -> Option<&'static str> {
    Some(match attr_type {
        attr::MAPPED_ADDRESS => "MAPPED-ADDRESS",
        attr::USERNAME => "USERNAME",
        attr::MESSAGE_INTEGRITY => "MESSAGE-INTEGRITY",
        attr::ERROR_CODE => "ERROR-CODE",
        attr::UNKNOWN_ATTRIBUTES => "UNKNOWN-ATTRIBUTES",
        attr::CHANNEL_NUMBER => "CHANNEL-NUMBER",
        attr::LIFETIME => "LIFETIME",
        attr::XOR_PEER_ADDRESS => "XOR-PEER-ADDRESS",
        attr::DATA => "DATA",
        attr::REALM => "REALM",
        attr::NONCE => "NONCE",
        attr::XOR_RELAYED_ADDRESS => "XOR-RELAYED-ADDRESS",
        attr::REQUESTED_ADDRESS_FAMILY => "REQUESTED-ADDRESS-FAMILY",
        attr::EVEN_PORT => "EVEN-PORT",
        attr::REQUESTED_TRANSPORT => "REQUESTED-TRANSPORT",
        attr::DONT_FRAGMENT => "DONT-FRAGMENT",
        attr::MESSAGE_INTEGRITY_SHA256 => "MESSAGE-INTEGRITY-SHA256",
        attr::PASSWORD_ALGORITHM => "PASSWORD-ALGORITHM",
        attr::USERHASH => "USERHASH",
        attr::XOR_MAPPED_ADDRESS => "XOR-MAPPED-ADDRESS",
        attr::RESERVATION_TOKEN => "RESERVATION-TOKEN",
        attr::PRIORITY => "PRIORITY",
        attr::USE_CANDIDATE => "USE-CANDIDATE",
        attr::ADDITIONAL_ADDRESS_FAMILY => "ADDITIONAL-ADDRESS-FAMILY",
        attr::ADDRESS_ERROR_CODE => "ADDRESS-ERROR-CODE",
        attr::PASSWORD_ALGORITHMS => "PASSWORD-ALGORITHMS",
        attr::ALTERNATE_DOMAIN => "ALTERNATE-DOMAIN",
        attr::ICMP => "ICMP",
        attr::SOFTWARE => "SOFTWARE",
        attr::ALTERNATE_SERVER => "ALTERNATE-SERVER",
        attr::FINGERPRINT => "FINGERPRINT",
        attr::ICE_CONTROLLED => "ICE-CONTROLLED",
        attr::ICE_CONTROLLING => "ICE-CONTROLLING",
        attr::RESPONSE_ORIGIN => "RESPONSE-ORIGIN",
        attr::OTHER_ADDRESS => "OTHER-ADDRESS",
        attr::GOOG_NETWORK_INFO => "GOOG-NETWORK-INFO",
        _ => return None,
    })
}

/// USERNAME: "fewer than 509 bytes" (RFC 8489 section 14.3).
pub(crate) const MAX_USERNAME: usize = 508;
/// REALM, NONCE, SOFTWARE, reason phrase: fewer than 128 characters, "as long as 763 bytes"
/// (RFC 8489 sections 14.8-14.10, 14.14). Only the byte limit is enforced.
pub(crate) const MAX_TEXT: usize = 763;
/// ALTERNATE-DOMAIN: at most 255 bytes (RFC 8489 section 14.16).
pub(crate) const MAX_DOMAIN: usize = 255;

/// Address family of (XOR-)MAPPED-ADDRESS (RFC 8489 section 14.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFamily {
    /// 0x01.
    V4,
    /// 0x02.
    V6,
}

/// ERROR-CODE (RFC 8489 section 14.8): a code in 300..=699 and a UTF-8 reason phrase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// Class * 100 + number, 300..=699.
    pub code: u16,
    /// Reason phrase (at most 763 bytes).
    pub reason: &'a str,
}

impl<'a> ErrorCode<'a> {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: u16 = 300;
    /// 400 Bad Request.
    pub const BAD_REQUEST: u16 = 400;
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: u16 = 401;
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: u16 = 420;
    /// 438 Stale Nonce.
    pub const STALE_NONCE: u16 = 438;
    /// 487 Role Conflict (RFC 8445).
    pub const ROLE_CONFLICT: u16 = 487;
    /// 500 Server Error.
    pub const SERVER_ERROR: u16 = 500;

    /// The default reason phrase of the RFC 8489 section 14.8 / RFC 8445 codes.
    pub const fn default_reason(code: u16) -> &'static str {
        match code {
            300 => "Try Alternate",
            400 => "Bad Request",
            401 => "Unauthenticated",
            403 => "Forbidden",
            420 => "Unknown Attribute",
            437 => "Allocation Mismatch",
            438 => "Stale Nonce",
            441 => "Wrong Credentials",
            442 => "Unsupported Transport Protocol",
            486 => "Allocation Quota Reached",
            487 => "Role Conflict",
            500 => "Server Error",
            508 => "Insufficient Capacity",
            _ => "",
        }
    }
}

/// One entry of PASSWORD-ALGORITHMS, or the value of PASSWORD-ALGORITHM
/// (RFC 8489 sections 14.11, 14.12). Algorithm 0x0001 is MD5, 0x0002 SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordAlgorithmParams<'a> {
    /// The algorithm number.
    pub algorithm: u16,
    /// Its parameters (empty for MD5 and SHA-256).
    pub params: &'a [u8],
}

impl PasswordAlgorithmParams<'_> {
    pub(crate) const fn wire_len(&self) -> usize {
        4 + padded(self.params.len())
    }

    pub(crate) fn emit(&self, out: &mut [u8]) -> Option<()> {
        let plen = u16::try_from(self.params.len()).ok()?;
        let total = self.wire_len();
        let out = out.get_mut(..total)?;
        out.get_mut(0..2)?
            .copy_from_slice(&self.algorithm.to_be_bytes());
        out.get_mut(2..4)?.copy_from_slice(&plen.to_be_bytes());
        let (p, pad) = out.get_mut(4..)?.split_at_mut(self.params.len());
        p.copy_from_slice(self.params);
        pad.fill(0);
        Some(())
    }
}

/// Reads one algorithm entry at the start of `buf`: (entry, bytes consumed).
fn read_algorithm(buf: &[u8]) -> Option<(PasswordAlgorithmParams<'_>, usize)> {
    let algorithm = be16(buf, 0)?;
    let plen = usize::from(be16(buf, 2)?);
    let params = buf.get(4..4 + plen)?;
    let used = 4 + padded(plen);
    if used > buf.len() {
        return None;
    }
    Some((PasswordAlgorithmParams { algorithm, params }, used))
}

/// The validated value of PASSWORD-ALGORITHMS (RFC 8489 section 14.11): iterate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordAlgorithmsIter<'a> {
    rest: &'a [u8],
}

impl<'a> PasswordAlgorithmsIter<'a> {
    /// Validates a wire value: a sequence of (algorithm, length, padded parameters).
    pub fn from_wire(value: &'a [u8]) -> Result<Self, Error> {
        let mut rest = value;
        while !rest.is_empty() {
            let (_, used) = read_algorithm(rest).ok_or(Error::InvalidAttribute {
                attr_type: attr::PASSWORD_ALGORITHMS,
                reason: "algorithm entry runs past the value",
            })?;
            rest = rest.get(used..).unwrap_or_default();
        }
        Ok(Self { rest: value })
    }

    /// The raw value.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for PasswordAlgorithmsIter<'a> {
    type Item = PasswordAlgorithmParams<'a>;
    fn next(&mut self) -> Option<Self::Item> {
        let (entry, used) = read_algorithm(self.rest)?;
        self.rest = self.rest.get(used..).unwrap_or_default();
        Some(entry)
    }
}

/// The validated value of UNKNOWN-ATTRIBUTES (RFC 8489 section 14.13): iterate the types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownAttributesIter<'a> {
    rest: &'a [u8],
}

impl<'a> UnknownAttributesIter<'a> {
    /// Validates a wire value (an even number of bytes).
    pub fn from_wire(value: &'a [u8]) -> Result<Self, Error> {
        if value.len() % 2 != 0 {
            return Err(Error::InvalidAttribute {
                attr_type: attr::UNKNOWN_ATTRIBUTES,
                reason: "odd length",
            });
        }
        Ok(Self { rest: value })
    }

    /// The raw value.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.rest
    }
}

impl Iterator for UnknownAttributesIter<'_> {
    type Item = u16;
    fn next(&mut self) -> Option<u16> {
        let v = be16(self.rest, 0)?;
        self.rest = self.rest.get(2..).unwrap_or_default();
        Some(v)
    }
}

/// A decoded attribute, borrowing from the message (RFC 8489 section 14).
///
/// Types this crate does not know, and known types whose value it cannot decode in a
/// [`MessageRepr`](super::MessageRepr), are kept as [`Attribute::Other`] with their raw value.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS (section 14.1).
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS (section 14.2), already un-XORed.
    XorMappedAddress(SocketAddr),
    /// USERNAME (section 14.3).
    Username(&'a str),
    /// USERHASH (section 14.4): SHA-256(username ":" realm).
    UserHash(&'a [u8; 32]),
    /// MESSAGE-INTEGRITY (section 14.5): HMAC-SHA1.
    MessageIntegrity(&'a [u8; 20]),
    /// MESSAGE-INTEGRITY-SHA256 (section 14.6): HMAC-SHA256, 16 to 32 bytes.
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT (section 14.7).
    Fingerprint(u32),
    /// ERROR-CODE (section 14.8).
    ErrorCode(ErrorCode<'a>),
    /// REALM (section 14.9).
    Realm(&'a str),
    /// NONCE (section 14.10).
    Nonce(&'a str),
    /// PASSWORD-ALGORITHMS (section 14.11).
    PasswordAlgorithms(PasswordAlgorithmsIter<'a>),
    /// PASSWORD-ALGORITHM (section 14.12).
    PasswordAlgorithm(PasswordAlgorithmParams<'a>),
    /// UNKNOWN-ATTRIBUTES (section 14.13).
    UnknownAttributes(UnknownAttributesIter<'a>),
    /// SOFTWARE (section 14.14).
    Software(&'a str),
    /// ALTERNATE-SERVER (section 14.15).
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN (section 14.16).
    AlternateDomain(&'a str),
    /// PRIORITY (RFC 8445 section 16.1).
    Priority(u32),
    /// USE-CANDIDATE (RFC 8445 section 16.1), empty.
    UseCandidate,
    /// ICE-CONTROLLED tie-breaker (RFC 8445 section 16.1).
    IceControlled(u64),
    /// ICE-CONTROLLING tie-breaker (RFC 8445 section 16.1).
    IceControlling(u64),
    /// Any other attribute, raw.
    Other {
        /// The type.
        attr_type: u16,
        /// The value, without padding.
        value: &'a [u8],
    },
}

fn invalid(attr_type: u16, reason: &'static str) -> Error {
    Error::InvalidAttribute { attr_type, reason }
}

fn text(attr_type: u16, value: &[u8], max: usize) -> Result<&str, Error> {
    if value.len() > max {
        return Err(invalid(attr_type, "text longer than allowed"));
    }
    core::str::from_utf8(value).map_err(|_| invalid(attr_type, "not UTF-8"))
}

fn fixed<const N: usize>(attr_type: u16, value: &[u8]) -> Result<[u8; N], Error> {
    <[u8; N]>::try_from(value).map_err(|_| invalid(attr_type, "wrong length"))
}

/// XOR mask of the address: cookie || transaction id (RFC 8489 section 14.2).
fn xor_mask(txid: &TransactionId) -> [u8; 16] {
    let mut m = [0u8; 16];
    let (c, t) = m.split_at_mut(4);
    c.copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    t.copy_from_slice(&txid.0);
    m
}

fn decode_address(
    attr_type: u16,
    value: &[u8],
    xor: Option<&TransactionId>,
) -> Result<SocketAddr, Error> {
    // Byte 0 is reserved and ignored on receipt.
    let family = value
        .get(1)
        .copied()
        .ok_or(invalid(attr_type, "too short"))?;
    let mut port = be16(value, 2).ok_or(invalid(attr_type, "too short"))?;
    let mask = xor.map(xor_mask);
    if mask.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    let ip = match (family, value.get(4..)) {
        (0x01, Some(a)) => {
            let mut b: [u8; 4] = fixed(attr_type, a)?;
            if let Some(m) = &mask {
                b.iter_mut().zip(m).for_each(|(x, k)| *x ^= k);
            }
            IpAddr::V4(Ipv4Addr::from(b))
        }
        (0x02, Some(a)) => {
            let mut b: [u8; 16] = fixed(attr_type, a)?;
            if let Some(m) = &mask {
                b.iter_mut().zip(m).for_each(|(x, k)| *x ^= k);
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return Err(invalid(attr_type, "unknown address family")),
    };
    Ok(SocketAddr::new(ip, port))
}

fn address_len(a: &SocketAddr) -> usize {
    if a.is_ipv4() { 8 } else { 20 }
}

fn emit_address(out: &mut [u8], a: &SocketAddr, xor: Option<&TransactionId>) -> Option<()> {
    let mask = xor.map(xor_mask);
    let mut port = a.port();
    if mask.is_some() {
        port ^= (MAGIC_COOKIE >> 16) as u16;
    }
    out.get_mut(0..2)?
        .copy_from_slice(&[0, if a.is_ipv4() { 0x01 } else { 0x02 }]);
    out.get_mut(2..4)?.copy_from_slice(&port.to_be_bytes());
    let dst = out.get_mut(4..)?;
    match a.ip() {
        IpAddr::V4(ip) => dst.get_mut(..4)?.copy_from_slice(&ip.octets()),
        IpAddr::V6(ip) => dst.get_mut(..16)?.copy_from_slice(&ip.octets()),
    }
    if let Some(m) = mask {
        dst.iter_mut().zip(m).for_each(|(x, k)| *x ^= k);
    }
    Some(())
}

impl<'a> Attribute<'a> {
    /// Decodes the value of an attribute of type `attr_type`. `txid` is the message's
    /// transaction ID, needed by XOR-MAPPED-ADDRESS.
    pub fn decode(attr_type: u16, value: &'a [u8], txid: &TransactionId) -> Result<Self, Error> {
        Ok(match attr_type {
            attr::MAPPED_ADDRESS => Self::MappedAddress(decode_address(attr_type, value, None)?),
            attr::XOR_MAPPED_ADDRESS => {
                Self::XorMappedAddress(decode_address(attr_type, value, Some(txid))?)
            }
            attr::ALTERNATE_SERVER => {
                Self::AlternateServer(decode_address(attr_type, value, None)?)
            }
            attr::USERNAME => Self::Username(text(attr_type, value, MAX_USERNAME)?),
            attr::REALM => Self::Realm(text(attr_type, value, MAX_TEXT)?),
            attr::NONCE => Self::Nonce(text(attr_type, value, MAX_TEXT)?),
            attr::SOFTWARE => Self::Software(text(attr_type, value, MAX_TEXT)?),
            attr::ALTERNATE_DOMAIN => Self::AlternateDomain(text(attr_type, value, MAX_DOMAIN)?),
            attr::USERHASH => Self::UserHash(
                <&[u8; 32]>::try_from(value).map_err(|_| invalid(attr_type, "wrong length"))?,
            ),
            attr::MESSAGE_INTEGRITY => Self::MessageIntegrity(
                <&[u8; 20]>::try_from(value).map_err(|_| invalid(attr_type, "wrong length"))?,
            ),
            attr::MESSAGE_INTEGRITY_SHA256 => {
                if !(16..=32).contains(&value.len()) || value.len() % 4 != 0 {
                    return Err(invalid(attr_type, "length not 16..=32 in steps of 4"));
                }
                Self::MessageIntegritySha256(value)
            }
            attr::FINGERPRINT => Self::Fingerprint(u32::from_be_bytes(fixed(attr_type, value)?)),
            attr::PRIORITY => Self::Priority(u32::from_be_bytes(fixed(attr_type, value)?)),
            attr::ICE_CONTROLLED => {
                Self::IceControlled(u64::from_be_bytes(fixed(attr_type, value)?))
            }
            attr::ICE_CONTROLLING => {
                Self::IceControlling(u64::from_be_bytes(fixed(attr_type, value)?))
            }
            attr::USE_CANDIDATE => {
                if !value.is_empty() {
                    return Err(invalid(attr_type, "USE-CANDIDATE must be empty"));
                }
                Self::UseCandidate
            }
            attr::ERROR_CODE => {
                let head = be32(value, 0).ok_or(invalid(attr_type, "too short"))?;
                // The 21 reserved bits are ignored on receipt.
                let class = ((head >> 8) & 0x7) as u16;
                let number = (head & 0xFF) as u16;
                if !(3..=6).contains(&class) || number > 99 {
                    return Err(invalid(attr_type, "code outside 300..=699"));
                }
                let reason = text(attr_type, value.get(4..).unwrap_or_default(), MAX_TEXT)?;
                Self::ErrorCode(ErrorCode {
                    code: class * 100 + number,
                    reason,
                })
            }
            attr::UNKNOWN_ATTRIBUTES => {
                Self::UnknownAttributes(UnknownAttributesIter::from_wire(value)?)
            }
            attr::PASSWORD_ALGORITHMS => {
                Self::PasswordAlgorithms(PasswordAlgorithmsIter::from_wire(value)?)
            }
            attr::PASSWORD_ALGORITHM => {
                let (p, used) =
                    read_algorithm(value).ok_or(invalid(attr_type, "runs past the value"))?;
                if used != value.len() {
                    return Err(invalid(attr_type, "trailing bytes"));
                }
                Self::PasswordAlgorithm(p)
            }
            _ => Self::Other { attr_type, value },
        })
    }

    /// The attribute type number.
    pub const fn attr_type(&self) -> u16 {
        match self {
            Self::MappedAddress(_) => attr::MAPPED_ADDRESS,
            Self::XorMappedAddress(_) => attr::XOR_MAPPED_ADDRESS,
            Self::Username(_) => attr::USERNAME,
            Self::UserHash(_) => attr::USERHASH,
            Self::MessageIntegrity(_) => attr::MESSAGE_INTEGRITY,
            Self::MessageIntegritySha256(_) => attr::MESSAGE_INTEGRITY_SHA256,
            Self::Fingerprint(_) => attr::FINGERPRINT,
            Self::ErrorCode(_) => attr::ERROR_CODE,
            Self::Realm(_) => attr::REALM,
            Self::Nonce(_) => attr::NONCE,
            Self::PasswordAlgorithms(_) => attr::PASSWORD_ALGORITHMS,
            Self::PasswordAlgorithm(_) => attr::PASSWORD_ALGORITHM,
            Self::UnknownAttributes(_) => attr::UNKNOWN_ATTRIBUTES,
            Self::Software(_) => attr::SOFTWARE,
            Self::AlternateServer(_) => attr::ALTERNATE_SERVER,
            Self::AlternateDomain(_) => attr::ALTERNATE_DOMAIN,
            Self::Priority(_) => attr::PRIORITY,
            Self::UseCandidate => attr::USE_CANDIDATE,
            Self::IceControlled(_) => attr::ICE_CONTROLLED,
            Self::IceControlling(_) => attr::ICE_CONTROLLING,
            Self::Other { attr_type, .. } => *attr_type,
        }
    }

    /// Length of the encoded value, without padding.
    pub fn value_len(&self) -> usize {
        match self {
            Self::MappedAddress(a) | Self::XorMappedAddress(a) | Self::AlternateServer(a) => {
                address_len(a)
            }
            Self::Username(s)
            | Self::Realm(s)
            | Self::Nonce(s)
            | Self::Software(s)
            | Self::AlternateDomain(s) => s.len(),
            Self::UserHash(_) => 32,
            Self::MessageIntegrity(_) => 20,
            Self::MessageIntegritySha256(v) => v.len(),
            Self::Fingerprint(_) | Self::Priority(_) => 4,
            Self::ErrorCode(e) => 4 + e.reason.len(),
            Self::PasswordAlgorithms(p) => p.as_bytes().len(),
            Self::PasswordAlgorithm(p) => p.wire_len(),
            Self::UnknownAttributes(u) => u.as_bytes().len(),
            Self::UseCandidate => 0,
            Self::IceControlled(_) | Self::IceControlling(_) => 8,
            Self::Other { value, .. } => value.len(),
        }
    }

    /// Checks that the value can be encoded (the length limits of RFC 8489 section 14).
    pub fn validate(&self) -> Result<(), Error> {
        let attr_type = self.attr_type();
        let too_long = |len: usize, max: usize| {
            if len > max {
                Err(Error::ValueTooLong {
                    attr_type,
                    len,
                    max,
                })
            } else {
                Ok(())
            }
        };
        match self {
            Self::Username(s) => too_long(s.len(), MAX_USERNAME),
            Self::Realm(s) | Self::Nonce(s) | Self::Software(s) => too_long(s.len(), MAX_TEXT),
            Self::AlternateDomain(s) => too_long(s.len(), MAX_DOMAIN),
            Self::ErrorCode(e) => {
                if !(300..=699).contains(&e.code) {
                    return Err(Error::InvalidValue {
                        field: "error code",
                        value: e.code.into(),
                    });
                }
                too_long(e.reason.len(), MAX_TEXT)
            }
            Self::MessageIntegritySha256(v) => {
                if !(16..=32).contains(&v.len()) || v.len() % 4 != 0 {
                    return Err(Error::InvalidValue {
                        field: "MESSAGE-INTEGRITY-SHA256 length",
                        value: v.len() as u64,
                    });
                }
                Ok(())
            }
            Self::PasswordAlgorithm(p) => too_long(p.params.len(), usize::from(u16::MAX)),
            _ => too_long(self.value_len(), usize::from(u16::MAX)),
        }
    }

    /// Writes the value (without padding) into `out`, which must be exactly
    /// [`value_len`](Self::value_len) bytes. Call [`validate`](Self::validate) first.
    pub(crate) fn emit_value(&self, out: &mut [u8], txid: &TransactionId) -> Option<()> {
        match self {
            Self::MappedAddress(a) | Self::AlternateServer(a) => emit_address(out, a, None),
            Self::XorMappedAddress(a) => emit_address(out, a, Some(txid)),
            Self::Username(s)
            | Self::Realm(s)
            | Self::Nonce(s)
            | Self::Software(s)
            | Self::AlternateDomain(s) => {
                out.copy_from_slice(s.as_bytes());
                Some(())
            }
            Self::UserHash(h) => {
                out.copy_from_slice(h.as_slice());
                Some(())
            }
            Self::MessageIntegrity(h) => {
                out.copy_from_slice(h.as_slice());
                Some(())
            }
            Self::MessageIntegritySha256(v) | Self::Other { value: v, .. } => {
                out.copy_from_slice(v);
                Some(())
            }
            Self::PasswordAlgorithms(p) => {
                out.copy_from_slice(p.as_bytes());
                Some(())
            }
            Self::UnknownAttributes(u) => {
                out.copy_from_slice(u.as_bytes());
                Some(())
            }
            Self::Fingerprint(v) | Self::Priority(v) => {
                out.copy_from_slice(&v.to_be_bytes());
                Some(())
            }
            Self::IceControlled(v) | Self::IceControlling(v) => {
                out.copy_from_slice(&v.to_be_bytes());
                Some(())
            }
            Self::UseCandidate => Some(()),
            Self::ErrorCode(e) => {
                let class = u8::try_from(e.code / 100).ok()?;
                let number = u8::try_from(e.code % 100).ok()?;
                out.get_mut(0..4)?.copy_from_slice(&[0, 0, class, number]);
                out.get_mut(4..)?.copy_from_slice(e.reason.as_bytes());
                Some(())
            }
            Self::PasswordAlgorithm(p) => p.emit(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_address_roundtrip_v6() {
        let txid = TransactionId([7; 12]);
        let a: SocketAddr = "[2001:db8::1]:3478".parse().unwrap();
        let attr = Attribute::XorMappedAddress(a);
        let mut buf = [0u8; 20];
        attr.emit_value(&mut buf, &txid).unwrap();
        assert_eq!(
            Attribute::decode(attr::XOR_MAPPED_ADDRESS, &buf, &txid).unwrap(),
            attr
        );
        // Without the XOR the bytes decode to another address.
        assert_ne!(
            Attribute::decode(attr::MAPPED_ADDRESS, &buf, &txid).unwrap(),
            Attribute::MappedAddress(a)
        );
    }

    #[test]
    fn malformed_values_are_errors() {
        let t = TransactionId::default();
        assert!(Attribute::decode(attr::PRIORITY, &[1, 2, 3], &t).is_err());
        assert!(Attribute::decode(attr::USE_CANDIDATE, &[0], &t).is_err());
        assert!(Attribute::decode(attr::ERROR_CODE, &[0, 0, 7, 0], &t).is_err());
        assert!(Attribute::decode(attr::ERROR_CODE, &[0, 0, 4, 100], &t).is_err());
        assert!(Attribute::decode(attr::USERNAME, &[0xff, 0xfe], &t).is_err());
        assert!(
            Attribute::decode(attr::XOR_MAPPED_ADDRESS, &[0, 3, 0, 0, 1, 2, 3, 4], &t).is_err()
        );
        assert!(Attribute::decode(attr::MAPPED_ADDRESS, &[0, 1, 0, 0, 1, 2, 3], &t).is_err());
        assert!(Attribute::decode(attr::UNKNOWN_ATTRIBUTES, &[0, 1, 0], &t).is_err());
        assert!(Attribute::decode(attr::MESSAGE_INTEGRITY_SHA256, &[0; 12], &t).is_err());
        assert!(Attribute::decode(attr::MESSAGE_INTEGRITY_SHA256, &[0; 18], &t).is_err());
        assert!(Attribute::decode(attr::PASSWORD_ALGORITHMS, &[0, 1, 0, 4], &t).is_err());
        assert!(Attribute::decode(attr::PASSWORD_ALGORITHM, &[0, 2, 0, 0, 0], &t).is_err());
        let long = [b'a'; 509];
        assert!(Attribute::decode(attr::USERNAME, &long, &t).is_err());
    }

    #[test]
    fn error_code_and_lists() {
        let t = TransactionId::default();
        let v = [0, 0, 4, 20, b'U', b'n'];
        assert_eq!(
            Attribute::decode(attr::ERROR_CODE, &v, &t).unwrap(),
            Attribute::ErrorCode(ErrorCode {
                code: 420,
                reason: "Un"
            })
        );
        let Attribute::UnknownAttributes(u) =
            Attribute::decode(attr::UNKNOWN_ATTRIBUTES, &[0, 0x2f, 0x7f, 0xff], &t).unwrap()
        else {
            panic!()
        };
        assert_eq!(u.collect::<Vec<_>>(), vec![0x002f, 0x7fff]);
        let Attribute::PasswordAlgorithms(p) = Attribute::decode(
            attr::PASSWORD_ALGORITHMS,
            &[0, 2, 0, 0, 0, 1, 0, 1, 9, 0, 0, 0],
            &t,
        )
        .unwrap() else {
            panic!()
        };
        let list: Vec<_> = p.collect();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].algorithm, 2);
        assert_eq!(list[1].params, &[9]);
    }
}
