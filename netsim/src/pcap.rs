//! Classic libpcap writer (LINKTYPE_RAW = 101) with synthesised IPv4/IPv6 + UDP headers,
//! so a failed run can be opened in Wireshark.
//!
//! File format: <https://www.tcpdump.org/manpages/pcap-savefile.5.html>; IPv4 header RFC 791,
//! IPv6 header RFC 8200, UDP header and checksum RFC 768 (RFC 8200 section 8.1 for IPv6).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// pcap magic for microsecond timestamps, written little-endian.
pub const PCAP_MAGIC: u32 = 0xA1B2_C3D4;
/// LINKTYPE_RAW: each record starts with an IPv4 or IPv6 header.
pub const LINKTYPE_RAW: u32 = 101;
/// Snapshot length written in the file header (the largest IP packet).
pub const SNAPLEN: u32 = 65535;
/// IP TTL / hop limit of records captured when a datagram is sent.
pub const TTL_SENT: u8 = 64;
/// IP TTL / hop limit of records captured when a datagram is delivered (one hop later), so
/// `ip.ttl == 63` in Wireshark shows what the receivers got.
pub const TTL_DELIVERED: u8 = 63;

/// One captured datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureRecord {
    /// Virtual time since the network started.
    pub at: Duration,
    /// Source as on the wire at this capture point.
    pub src: SocketAddr,
    /// Destination as on the wire at this capture point.
    pub dst: SocketAddr,
    /// TTL written in the IP header: [`TTL_SENT`] or [`TTL_DELIVERED`].
    pub ttl: u8,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

fn sum16(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        if let [a, b] = c {
            acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*a, *b])));
        }
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

fn fold(mut acc: u32) -> u16 {
    while acc > 0xFFFF {
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// Appends the IP + UDP packet of `rec` (payload cut so the packet fits 65535 bytes) and
/// returns the original (uncut) packet length.
pub(crate) fn synthesize(rec: &CaptureRecord, ident: u16, out: &mut Vec<u8>) -> usize {
    let sport = rec.src.port().to_be_bytes();
    let dport = rec.dst.port().to_be_bytes();
    match (rec.src.ip(), rec.dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let orig = 28 + rec.payload.len();
            let keep = rec.payload.len().min(65535 - 28);
            let payload = rec.payload.get(..keep).unwrap_or_default();
            let total = (28 + keep) as u16;
            let udp_len = (8 + keep) as u16;
            let mut ip = [0u8; 20];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip[4..6].copy_from_slice(&ident.to_be_bytes());
            ip[6] = 0x40; // Don't Fragment
            ip[8] = rec.ttl;
            ip[9] = 17;
            ip[12..16].copy_from_slice(&s.octets());
            ip[16..20].copy_from_slice(&d.octets());
            let csum = fold(sum16(&ip, 0));
            ip[10..12].copy_from_slice(&csum.to_be_bytes());
            out.extend_from_slice(&ip);
            // Pseudo-header: src, dst, zero, protocol, UDP length.
            let mut acc = sum16(&s.octets(), 0);
            acc = sum16(&d.octets(), acc);
            acc = acc.wrapping_add(17).wrapping_add(u32::from(udp_len));
            let udp = udp_header(sport, dport, udp_len, payload, acc);
            out.extend_from_slice(&udp);
            out.extend_from_slice(payload);
            orig
        }
        (s, d) => {
            let (s, d) = (to_v6(s), to_v6(d));
            let orig = 48 + rec.payload.len();
            let keep = rec.payload.len().min(65535 - 48);
            let payload = rec.payload.get(..keep).unwrap_or_default();
            let udp_len = (8 + keep) as u16;
            let mut ip = [0u8; 40];
            ip[0] = 0x60;
            ip[4..6].copy_from_slice(&udp_len.to_be_bytes());
            ip[6] = 17;
            ip[7] = rec.ttl;
            ip[8..24].copy_from_slice(&s.octets());
            ip[24..40].copy_from_slice(&d.octets());
            out.extend_from_slice(&ip);
            let mut acc = sum16(&s.octets(), 0);
            acc = sum16(&d.octets(), acc);
            acc = acc.wrapping_add(u32::from(udp_len)).wrapping_add(17);
            let udp = udp_header(sport, dport, udp_len, payload, acc);
            out.extend_from_slice(&udp);
            out.extend_from_slice(payload);
            orig
        }
    }
}

fn udp_header(sport: [u8; 2], dport: [u8; 2], len: u16, payload: &[u8], pseudo: u32) -> [u8; 8] {
    let l = len.to_be_bytes();
    let mut udp = [sport[0], sport[1], dport[0], dport[1], l[0], l[1], 0, 0];
    let mut csum = fold(sum16(payload, sum16(&udp, pseudo)));
    if csum == 0 {
        csum = 0xFFFF; // RFC 768: a computed zero is sent as all ones.
    }
    let c = csum.to_be_bytes();
    udp[6] = c[0];
    udp[7] = c[1];
    udp
}

/// Encodes `records` as a complete classic pcap file, in time order.
pub fn encode(records: &[CaptureRecord]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        24 + records
            .iter()
            .map(|r| 16 + 48 + r.payload.len())
            .sum::<usize>(),
    );
    out.extend_from_slice(&PCAP_MAGIC.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes()); // thiszone
    out.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
    out.extend_from_slice(&SNAPLEN.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    // Records are appended in event order; a delivery polled late may precede a later send
    // in virtual time. A stable sort keeps Wireshark's time deltas non-negative.
    let mut sorted: Vec<&CaptureRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.at);
    let mut packet = Vec::new();
    for (i, rec) in sorted.into_iter().enumerate() {
        packet.clear();
        let orig = synthesize(rec, i as u16, &mut packet);
        let secs = u32::try_from(rec.at.as_secs()).unwrap_or(u32::MAX);
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&rec.at.subsec_micros().to_le_bytes());
        out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        out.extend_from_slice(&u32::try_from(orig).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&packet);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_known_ipv4_header() {
        // The worked example from Wikipedia's "IPv4 header checksum" article.
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(fold(sum16(&hdr, 0)), 0xB861);
    }

    #[test]
    fn udp_checksum_verifies_to_zero() {
        let rec = CaptureRecord {
            at: Duration::ZERO,
            src: "10.0.0.1:1234".parse().unwrap(),
            dst: "10.0.0.2:5678".parse().unwrap(),
            ttl: 64,
            payload: b"hello".to_vec(),
        };
        let mut p = Vec::new();
        synthesize(&rec, 0, &mut p);
        // Re-summing the UDP segment with the pseudo header gives 0xFFFF (folded ~0).
        let udp = &p[20..];
        let mut acc = sum16(&p[12..20], 0);
        acc = acc.wrapping_add(17).wrapping_add(udp.len() as u32);
        assert_eq!(fold(sum16(udp, acc)), 0);
        assert_eq!(fold(sum16(&p[..20], 0)), 0);
    }
}
