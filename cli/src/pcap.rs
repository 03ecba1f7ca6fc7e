//! A small, bounded reader for classic pcap and pcapng files that yields the UDP payloads
//! (with their addresses) of IPv4 and IPv6 packets. Anything else is counted and skipped.
//! Malformed files give an error naming the offset; nothing here can panic on bad input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One UDP datagram found in a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// 1-based number of the packet in the capture (as Wireshark counts).
    pub frame: usize,
    /// Capture time in microseconds since the epoch, when the file says.
    pub time_us: Option<u64>,
    /// UDP source.
    pub src: SocketAddr,
    /// UDP destination.
    pub dst: SocketAddr,
    /// UDP payload.
    pub payload: Vec<u8>,
}

/// What a capture held.
#[derive(Debug, Default)]
pub struct Capture {
    /// The UDP datagrams, in file order.
    pub datagrams: Vec<Datagram>,
    /// Packets that were not UDP over IPv4/IPv6 (or were IP fragments).
    pub skipped: usize,
}

/// Upper bound on packets read, so a hostile file cannot exhaust memory.
const MAX_PACKETS: usize = 10_000_000;

/// True when `data` starts like a pcap or pcapng file.
pub fn is_capture(data: &[u8]) -> bool {
    matches!(
        data.get(..4),
        Some([0xd4, 0xc3, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0xc3, 0xd4])
            | Some([0x4d, 0x3c, 0xb2, 0xa1])
            | Some([0xa1, 0xb2, 0x3c, 0x4d])
            | Some([0x0a, 0x0d, 0x0d, 0x0a])
    )
}

/// Parses a pcap or pcapng file.
pub fn parse(data: &[u8]) -> Result<Capture, String> {
    match data.get(..4) {
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => parse_pcapng(data),
        Some(_) if is_capture(data) => parse_pcap(data),
        _ => Err("not a pcap or pcapng file (unknown magic number)".into()),
    }
}

#[derive(Clone, Copy)]
struct Endian(bool); // true = big endian

impl Endian {
    fn u16(self, d: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = d.get(at..at + 2)?.try_into().ok()?;
        Some(if self.0 {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
    fn u32(self, d: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = d.get(at..at + 4)?.try_into().ok()?;
        Some(if self.0 {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

fn parse_pcap(data: &[u8]) -> Result<Capture, String> {
    let (endian, nanos) = match data.get(..4) {
        Some([0xa1, 0xb2, 0xc3, 0xd4]) => (Endian(true), false),
        Some([0xd4, 0xc3, 0xb2, 0xa1]) => (Endian(false), false),
        Some([0xa1, 0xb2, 0x3c, 0x4d]) => (Endian(true), true),
        _ => (Endian(false), true),
    };
    let linktype = endian
        .u32(data, 20)
        .ok_or("pcap: file header truncated (need 24 bytes)")?;
    let mut capture = Capture::default();
    let mut at = 24usize;
    let mut frame = 0usize;
    while at < data.len() {
        frame += 1;
        if frame > MAX_PACKETS {
            return Err(format!("pcap: more than {MAX_PACKETS} packets"));
        }
        let (Some(sec), Some(frac), Some(incl)) = (
            endian.u32(data, at),
            endian.u32(data, at + 4),
            endian.u32(data, at + 8),
        ) else {
            return Err(format!("pcap: record header truncated at offset {at}"));
        };
        let start = at + 16;
        let end = start
            .checked_add(incl as usize)
            .filter(|e| *e <= data.len())
            .ok_or_else(|| {
                format!("pcap: record {frame} at offset {at} claims {incl} bytes past the end of the file")
            })?;
        let micros = if nanos {
            u64::from(frac) / 1000
        } else {
            u64::from(frac)
        };
        let time_us = u64::from(sec) * 1_000_000 + micros;
        push_frame(
            &mut capture,
            frame,
            Some(time_us),
            linktype,
            data.get(start..end).unwrap_or_default(),
        );
        at = end;
    }
    Ok(capture)
}

fn parse_pcapng(data: &[u8]) -> Result<Capture, String> {
    let mut capture = Capture::default();
    let mut endian = Endian(false);
    // (linktype, ticks per second) of each interface of the current section.
    let mut interfaces: Vec<(u32, u64)> = Vec::new();
    let mut at = 0usize;
    let mut frame = 0usize;
    while at < data.len() {
        let block_type = data
            .get(at..at + 4)
            .ok_or_else(|| format!("pcapng: block header truncated at offset {at}"))?;
        if block_type == [0x0a, 0x0d, 0x0d, 0x0a] {
            endian = match data.get(at + 8..at + 12) {
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => Endian(true),
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => Endian(false),
                _ => return Err(format!("pcapng: bad byte-order magic at offset {}", at + 8)),
            };
            interfaces.clear();
        }
        let (Some(kind), Some(len)) = (endian.u32(data, at), endian.u32(data, at + 4)) else {
            return Err(format!("pcapng: block header truncated at offset {at}"));
        };
        let len = len as usize;
        if len < 12 || !len.is_multiple_of(4) {
            return Err(format!(
                "pcapng: block at offset {at} has invalid length {len}"
            ));
        }
        let end = at
            .checked_add(len)
            .filter(|e| *e <= data.len())
            .ok_or_else(|| {
                format!("pcapng: block at offset {at} claims {len} bytes past the end of the file")
            })?;
        let body = data.get(at + 8..end - 4).unwrap_or_default();
        match kind {
            // Interface Description Block: linktype, then options (if_tsresol = 9).
            1 => {
                let linktype = u32::from(endian.u16(body, 0).unwrap_or(0));
                let mut ticks = 1_000_000u64;
                let mut o = 8usize;
                while let (Some(code), Some(olen)) = (endian.u16(body, o), endian.u16(body, o + 2))
                {
                    if code == 0 {
                        break;
                    }
                    if code == 9
                        && let Some(&res) = body.get(o + 4)
                    {
                        let exp = u32::from(res & 0x7f);
                        ticks = if res & 0x80 == 0 {
                            10u64.checked_pow(exp).unwrap_or(u64::MAX)
                        } else {
                            2u64.checked_pow(exp).unwrap_or(u64::MAX)
                        };
                    }
                    o += 4 + usize::from(olen).div_ceil(4) * 4;
                }
                if interfaces.len() < 4096 {
                    interfaces.push((linktype, ticks.max(1)));
                }
            }
            // Enhanced Packet Block.
            6 => {
                frame += 1;
                let (Some(iface), Some(hi), Some(lo), Some(caplen)) = (
                    endian.u32(body, 0),
                    endian.u32(body, 4),
                    endian.u32(body, 8),
                    endian.u32(body, 12),
                ) else {
                    return Err(format!("pcapng: packet block at offset {at} truncated"));
                };
                let Some(&(linktype, ticks)) = interfaces.get(iface as usize) else {
                    return Err(format!(
                        "pcapng: packet block at offset {at} names unknown interface {iface}"
                    ));
                };
                let pkt = body
                    .get(20..20usize.saturating_add(caplen as usize))
                    .ok_or_else(|| {
                        format!("pcapng: packet block at offset {at} claims {caplen} bytes")
                    })?;
                let ts = (u64::from(hi) << 32) | u64::from(lo);
                let time_us = u64::try_from(u128::from(ts) * 1_000_000 / u128::from(ticks)).ok();
                push_frame(&mut capture, frame, time_us, linktype, pkt);
            }
            // Simple Packet Block: interface 0.
            3 => {
                frame += 1;
                let linktype = interfaces.first().map(|i| i.0).unwrap_or(1);
                let caplen = endian.u32(body, 0).unwrap_or(0) as usize;
                let pkt = body
                    .get(4..4usize.saturating_add(caplen))
                    .unwrap_or_default();
                push_frame(&mut capture, frame, None, linktype, pkt);
            }
            _ => {}
        }
        if frame > MAX_PACKETS {
            return Err(format!("pcapng: more than {MAX_PACKETS} packets"));
        }
        at = end;
    }
    Ok(capture)
}

fn push_frame(
    capture: &mut Capture,
    frame: usize,
    time_us: Option<u64>,
    linktype: u32,
    pkt: &[u8],
) {
    match link_to_udp(linktype, pkt) {
        Some((src, dst, payload)) => capture.datagrams.push(Datagram {
            frame,
            time_us,
            src,
            dst,
            payload: payload.to_vec(),
        }),
        None => capture.skipped += 1,
    }
}

/// Strips the link layer and returns the IP packet it carries.
fn link_to_ip(linktype: u32, pkt: &[u8]) -> Option<&[u8]> {
    match linktype {
        // BSD loopback / NULL: 4-byte address family in host order.
        0 => pkt.get(4..),
        // Ethernet, possibly with 802.1Q tags.
        1 => {
            let mut at = 12usize;
            loop {
                let ethertype = u16::from_be_bytes(pkt.get(at..at + 2)?.try_into().ok()?);
                match ethertype {
                    0x8100 | 0x88a8 => at += 4,
                    0x0800 | 0x86dd => return pkt.get(at + 2..),
                    _ => return None,
                }
            }
        }
        // Raw IP.
        12 | 14 | 101 | 228 | 229 => Some(pkt),
        // Linux cooked capture v1 (16-byte header) and v2 (20-byte header).
        113 => pkt.get(16..),
        276 => pkt.get(20..),
        _ => None,
    }
}

fn link_to_udp(linktype: u32, pkt: &[u8]) -> Option<(SocketAddr, SocketAddr, &[u8])> {
    let ip = link_to_ip(linktype, pkt)?;
    match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
            let frag = u16::from_be_bytes(ip.get(6..8)?.try_into().ok()?);
            // Only whole datagrams: no fragments (MF set or a non-zero offset).
            if ip.get(9)? != &17 || frag & 0x3fff != 0 || ihl < 20 {
                return None;
            }
            let src: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            let ip = ip.get(..total.min(ip.len()))?;
            udp(
                IpAddr::V4(Ipv4Addr::from(src)),
                IpAddr::V4(Ipv4Addr::from(dst)),
                ip.get(ihl..)?,
            )
        }
        6 => {
            // Only UDP directly after the fixed header (no extension headers).
            if ip.get(6)? != &17 {
                return None;
            }
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            udp(
                IpAddr::V6(Ipv6Addr::from(src)),
                IpAddr::V6(Ipv6Addr::from(dst)),
                ip.get(40..)?,
            )
        }
        _ => None,
    }
}

fn udp(src: IpAddr, dst: IpAddr, seg: &[u8]) -> Option<(SocketAddr, SocketAddr, &[u8])> {
    let sport = u16::from_be_bytes(seg.get(0..2)?.try_into().ok()?);
    let dport = u16::from_be_bytes(seg.get(2..4)?.try_into().ok()?);
    let len = usize::from(u16::from_be_bytes(seg.get(4..6)?.try_into().ok()?));
    // A truncated capture (snaplen) keeps what it has.
    let payload = seg.get(8..len.max(8).min(seg.len()))?;
    Some((
        SocketAddr::new(src, sport),
        SocketAddr::new(dst, dport),
        payload,
    ))
}

/// Builds a classic little-endian pcap (LINKTYPE_RAW) from datagrams: used by tests.
#[cfg(test)]
pub fn write_pcap_raw(datagrams: &[(SocketAddr, SocketAddr, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&101u32.to_le_bytes());
    for (i, (src, dst, payload)) in datagrams.iter().enumerate() {
        let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
            panic!("test helper is IPv4 only")
        };
        let total = 28 + payload.len();
        let mut pkt = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ];
        pkt.extend_from_slice(&s.octets());
        pkt.extend_from_slice(&d.octets());
        pkt.extend_from_slice(&src.port().to_be_bytes());
        pkt.extend_from_slice(&dst.port().to_be_bytes());
        pkt.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        pkt.extend_from_slice(&[0, 0]);
        pkt.extend_from_slice(payload);
        out.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        out.extend_from_slice(&pkt);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn pcap_raw_round_trip() {
        let dgrams = vec![
            (
                addr("127.0.0.1:5000"),
                addr("127.0.0.1:3478"),
                vec![0, 1, 0, 0],
            ),
            (addr("10.0.0.2:1"), addr("10.0.0.3:2"), vec![0x80; 30]),
        ];
        let cap = parse(&write_pcap_raw(&dgrams)).unwrap();
        assert_eq!(cap.skipped, 0);
        assert_eq!(cap.datagrams.len(), 2);
        assert_eq!(cap.datagrams[0].src, dgrams[0].0);
        assert_eq!(cap.datagrams[0].dst, dgrams[0].1);
        assert_eq!(cap.datagrams[1].payload, dgrams[1].2);
        assert_eq!(cap.datagrams[1].frame, 2);
        assert_eq!(cap.datagrams[1].time_us, Some(1_700_000_001_000_000));
    }

    #[test]
    fn pcapng_ethernet() {
        // SHB, IDB (Ethernet), one EPB with an Ethernet/IPv4/UDP frame.
        let mut ip = vec![
            0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        ip.extend_from_slice(&[0x13, 0x88, 0x0d, 0x96, 0, 12, 0, 0, 0xde, 0xad, 0xbe, 0xef]);
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x08, 0x00]);
        eth.extend_from_slice(&ip);
        let mut f = Vec::new();
        let block = |f: &mut Vec<u8>, kind: u32, body: &[u8]| {
            let len = 12 + body.len().div_ceil(4) * 4;
            f.extend_from_slice(&kind.to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(body);
            f.resize(f.len() + (len - 12 - body.len()), 0);
            f.extend_from_slice(&(len as u32).to_le_bytes());
        };
        let mut shb = vec![0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0];
        shb.extend_from_slice(&[0xff; 8]);
        block(&mut f, 0x0a0d0d0a, &shb);
        block(&mut f, 1, &[1, 0, 0, 0, 0xff, 0xff, 0, 0]);
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&5_000_000u32.to_le_bytes());
        epb.extend_from_slice(&(eth.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(eth.len() as u32).to_le_bytes());
        epb.extend_from_slice(&eth);
        block(&mut f, 6, &epb);
        let cap = parse(&f).unwrap();
        assert_eq!(cap.datagrams.len(), 1);
        let d = &cap.datagrams[0];
        assert_eq!(d.src, addr("1.2.3.4:5000"));
        assert_eq!(d.dst, addr("5.6.7.8:3478"));
        assert_eq!(d.payload, vec![0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(d.time_us, Some(5_000_000));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"hello").is_err());
        let mut f = write_pcap_raw(&[(addr("1.1.1.1:1"), addr("2.2.2.2:2"), vec![1, 2, 3])]);
        f.truncate(f.len() - 2);
        assert!(parse(&f).unwrap_err().contains("past the end"));
        for cut in 0..f.len() {
            let _ = parse(&f[..cut]);
        }
    }
}
