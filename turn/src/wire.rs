//! TURN wire formats: ChannelData (RFC 8656 section 12.4), stream framing (section 12.5),
//! and the TURN attributes (section 18) encoded on top of the STUN crate's raw attributes.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sansrtc_stun::{MAGIC_COOKIE, TransactionId};

use crate::Error;

/// The lowest channel number a client may bind (RFC 8656 section 12).
pub const MIN_CHANNEL: u16 = 0x4000;
/// The highest channel number a client may bind (RFC 8656 section 12).
pub const MAX_CHANNEL: u16 = 0x4FFF;
/// The highest channel number of RFC 5766 (0x4000..=0x7FFF), still used by deployed
/// clients such as coturn's `turnutils_uclient`; RFC 8656 reserves 0x5000..=0x7FFF.
pub const MAX_CHANNEL_RFC5766: u16 = 0x7FFF;
/// Size of the ChannelData header.
pub const CHANNEL_DATA_HEADER: usize = 4;

/// True for a channel number a client may bind.
pub const fn is_valid_channel(number: u16) -> bool {
    number >= MIN_CHANNEL && number <= MAX_CHANNEL
}

/// A ChannelData message view (RFC 8656 section 12.4): channel number, length, data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// The channel number, 0x4000..=0x4FFF.
    pub channel: u16,
    /// The application data (without padding).
    pub data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses one ChannelData message from a datagram. Over UDP the datagram may be longer
    /// than 4 + length (padding, section 12.5); a length field larger than what follows is
    /// an error ("ChannelData with a bad length" is dropped).
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        Self::parse_in(buf, MAX_CHANNEL)
    }

    /// Like [`parse`](Self::parse), accepting channel numbers up to `max_channel`
    /// ([`MAX_CHANNEL_RFC5766`] for RFC 5766 clients).
    pub fn parse_in(buf: &'a [u8], max_channel: u16) -> Result<Self, Error> {
        let (&[c0, c1, l0, l1], rest) = split_header(buf)?;
        let channel = u16::from_be_bytes([c0, c1]);
        if channel < MIN_CHANNEL || channel > max_channel {
            return Err(Error::InvalidChannelNumber { number: channel });
        }
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let data = rest.get(..len).ok_or(Error::Truncated {
            what: "ChannelData data",
            need: len,
            have: rest.len(),
        })?;
        Ok(Self { channel, data })
    }

    /// Bytes [`emit`](Self::emit) writes: header, data, and over streams the padding to a
    /// multiple of 4 (RFC 8656 section 12.5).
    pub fn buffer_len(&self, stream: bool) -> usize {
        let n = CHANNEL_DATA_HEADER + self.data.len();
        if stream { (n + 3) & !3 } else { n }
    }

    /// Writes the message into `buf`; returns the bytes written.
    pub fn emit(&self, buf: &mut [u8], stream: bool) -> Result<usize, Error> {
        let len = u16::try_from(self.data.len()).map_err(|_| Error::InvalidField {
            field: "ChannelData length",
            reason: "data longer than 65535 bytes",
        })?;
        if self.channel < MIN_CHANNEL || self.channel > MAX_CHANNEL_RFC5766 {
            return Err(Error::InvalidChannelNumber {
                number: self.channel,
            });
        }
        let total = self.buffer_len(stream);
        let have = buf.len();
        let out = buf
            .get_mut(..total)
            .ok_or(Error::BufferTooSmall { need: total, have })?;
        let (head, rest) = out.split_at_mut(CHANNEL_DATA_HEADER);
        let [c0, c1] = self.channel.to_be_bytes();
        let [l0, l1] = len.to_be_bytes();
        head.copy_from_slice(&[c0, c1, l0, l1]);
        let (data, pad) = rest.split_at_mut(self.data.len());
        data.copy_from_slice(self.data);
        pad.fill(0);
        Ok(total)
    }
}

fn split_header(buf: &[u8]) -> Result<(&[u8; 4], &[u8]), Error> {
    match buf.split_first_chunk::<4>() {
        Some((h, rest)) => Ok((h, rest)),
        None => Err(Error::Truncated {
            what: "ChannelData header",
            need: CHANNEL_DATA_HEADER,
            have: buf.len(),
        }),
    }
}

/// The length of the next complete frame (a STUN message, or a ChannelData message with
/// its padding) at the start of a stream buffer (RFC 8656 section 12.5), `Ok(None)` if more
/// bytes are needed, or an error if the stream is not TURN (close the connection).
pub fn stream_frame_len(buf: &[u8]) -> Result<Option<usize>, Error> {
    let Some((&[b0, _, l0, l1], _)) = buf.split_first_chunk::<4>() else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    match b0 {
        0x00..=0x03 => Ok(Some(sansrtc_stun::HEADER_LEN + len)),
        0x40..=0x7F => Ok(Some((CHANNEL_DATA_HEADER + len + 3) & !3)),
        _ => Err(Error::InvalidField {
            field: "stream frame",
            reason: "first byte is neither STUN (0-3) nor ChannelData (0x40-0x7F)",
        }),
    }
}

// ---- TURN attributes (RFC 8656 section 18) ----

/// REQUESTED-TRANSPORT protocol number for UDP (RFC 8656 section 18.6).
pub const PROTO_UDP: u8 = 17;
/// Address family value for IPv4 in REQUESTED-ADDRESS-FAMILY (RFC 8656 section 18.8).
pub const FAMILY_V4: u8 = 0x01;
/// Address family value for IPv6.
pub const FAMILY_V6: u8 = 0x02;

/// Decodes an XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS value (RFC 8656 sections 18.3, 18.5;
/// the same encoding as XOR-MAPPED-ADDRESS, RFC 8489 section 14.2).
pub fn decode_xor_address(value: &[u8], txid: &TransactionId) -> Option<SocketAddr> {
    let (&[_, family, p0, p1], rest) = value.split_first_chunk::<4>()?;
    let port = u16::from_be_bytes([p0, p1]) ^ (MAGIC_COOKIE >> 16) as u16;
    let mask = xor_mask(txid);
    match family {
        FAMILY_V4 if rest.len() == 4 => {
            let mut a = [0u8; 4];
            for ((o, v), m) in a.iter_mut().zip(rest).zip(mask.iter()) {
                *o = v ^ m;
            }
            Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), port))
        }
        FAMILY_V6 if rest.len() == 16 => {
            let mut a = [0u8; 16];
            for ((o, v), m) in a.iter_mut().zip(rest).zip(mask.iter()) {
                *o = v ^ m;
            }
            Some(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a)), port))
        }
        _ => None,
    }
}

fn xor_mask(txid: &TransactionId) -> [u8; 16] {
    let mut mask = [0u8; 16];
    let (c, t) = mask.split_at_mut(4);
    c.copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    t.copy_from_slice(&txid.0);
    mask
}

/// Encodes an XOR address value; returns the buffer and the used length (8 or 20).
pub fn encode_xor_address(addr: SocketAddr, txid: &TransactionId) -> ([u8; 20], usize) {
    let mut out = [0u8; 20];
    let mask = xor_mask(txid);
    let [p0, p1] = (addr.port() ^ (MAGIC_COOKIE >> 16) as u16).to_be_bytes();
    let mut octets = [0u8; 16];
    let (family, n) = match addr.ip() {
        IpAddr::V4(ip) => {
            for (o, v) in octets.iter_mut().zip(ip.octets()) {
                *o = v;
            }
            (FAMILY_V4, 4)
        }
        IpAddr::V6(ip) => {
            octets = ip.octets();
            (FAMILY_V6, 16)
        }
    };
    let (head, rest) = out.split_at_mut(4);
    head.copy_from_slice(&[0, family, p0, p1]);
    for ((o, v), m) in rest.iter_mut().zip(octets).zip(mask).take(n) {
        *o = v ^ m;
    }
    (out, 4 + n)
}

/// Decodes a 4-byte big-endian value (LIFETIME, RFC 8656 section 18.2).
pub fn decode_u32(value: &[u8]) -> Option<u32> {
    let a: [u8; 4] = value.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

/// Decodes CHANNEL-NUMBER (RFC 8656 section 18.1): 16 bits of number, 16 bits RFFU.
pub fn decode_channel_number(value: &[u8]) -> Option<u16> {
    match value {
        [a, b, _, _] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// Encodes CHANNEL-NUMBER.
pub fn encode_channel_number(n: u16) -> [u8; 4] {
    let [a, b] = n.to_be_bytes();
    [a, b, 0, 0]
}

/// Decodes the first byte of a 4-byte value (REQUESTED-TRANSPORT protocol,
/// REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY family, RFC 8656 sections 18.6,
/// 18.8, 18.11).
pub fn decode_first_byte(value: &[u8]) -> Option<u8> {
    match value {
        [a, _, _, _] => Some(*a),
        _ => None,
    }
}

/// ADDRESS-ERROR-CODE (RFC 8656 section 18.12): family, reserved, class/number, reason.
pub fn encode_address_error_code(family: u8, code: u16, reason: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + reason.len());
    v.extend_from_slice(&[family, 0]);
    let class = u8::try_from(code / 100).unwrap_or(0) & 0x07;
    let number = u8::try_from(code % 100).unwrap_or(0);
    v.extend_from_slice(&[class, number]);
    v.extend_from_slice(reason.as_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_data_roundtrip_and_padding() {
        let cd = ChannelData {
            channel: 0x4001,
            data: b"hello",
        };
        let mut buf = [0xAAu8; 16];
        let n = cd.emit(&mut buf, false).unwrap();
        assert_eq!(&buf[..n], b"\x40\x01\x00\x05hello");
        let n = cd.emit(&mut buf, true).unwrap();
        assert_eq!(n, 12);
        assert_eq!(&buf[..n], b"\x40\x01\x00\x05hello\0\0\0");
        assert_eq!(ChannelData::parse(&buf[..n]).unwrap(), cd);
        assert_eq!(stream_frame_len(&buf[..n]).unwrap(), Some(12));
        assert_eq!(stream_frame_len(&buf[..3]).unwrap(), None);
    }

    #[test]
    fn channel_data_bad_length_and_number() {
        assert!(matches!(
            ChannelData::parse(b"\x40\x00\x00\x09short"),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            ChannelData::parse(b"\x50\x00\x00\x00"),
            Err(Error::InvalidChannelNumber { number: 0x5000 })
        ));
        assert!(matches!(
            ChannelData::parse(b"\x3f\xff\x00\x00"),
            Err(Error::InvalidChannelNumber { .. })
        ));
        assert!(ChannelData::parse(b"\x40\x00\x00").is_err());
        let mut small = [0u8; 6];
        let cd = ChannelData {
            channel: 0x4000,
            data: b"abc",
        };
        assert!(matches!(
            cd.emit(&mut small, true),
            Err(Error::BufferTooSmall { need: 8, have: 6 })
        ));
        assert!(stream_frame_len(b"\x80\x00\x00\x00").is_err());
        let legacy = ChannelData::parse_in(b"\x6a\xe4\x00\x01x", MAX_CHANNEL_RFC5766).unwrap();
        assert_eq!(legacy.channel, 0x6ae4);
        assert!(ChannelData::parse(b"\x6a\xe4\x00\x01x").is_err());
    }

    #[test]
    fn xor_address_roundtrip() {
        let txid = TransactionId([9; 12]);
        for a in ["192.0.2.1:32853", "[2001:db8::1]:9", "0.0.0.0:0"] {
            let a: SocketAddr = a.parse().unwrap();
            let (buf, n) = encode_xor_address(a, &txid);
            assert_eq!(decode_xor_address(&buf[..n], &txid), Some(a));
        }
        // RFC 5769 section 2.2 XOR-MAPPED-ADDRESS value, 192.0.2.1:32853
        let txid = TransactionId([
            0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        ]);
        let v = [0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43];
        assert_eq!(
            decode_xor_address(&v, &txid),
            Some("192.0.2.1:32853".parse().unwrap())
        );
        assert_eq!(decode_xor_address(&v[..7], &txid), None);
        assert_eq!(decode_xor_address(&[0, 3, 0, 0, 1, 2, 3, 4], &txid), None);
    }

    proptest::proptest! {
        #[test]
        fn channel_data_prop(ch in MIN_CHANNEL..=MAX_CHANNEL, data in proptest::collection::vec(proptest::num::u8::ANY, 0..300), stream: bool) {
            let cd = ChannelData { channel: ch, data: &data };
            let mut buf = vec![0u8; cd.buffer_len(stream)];
            let n = cd.emit(&mut buf, stream).unwrap();
            proptest::prop_assert_eq!(n, buf.len());
            proptest::prop_assert_eq!(ChannelData::parse(&buf).unwrap(), cd);
            if stream {
                proptest::prop_assert_eq!(stream_frame_len(&buf).unwrap(), Some(n));
            }
        }

        #[test]
        fn channel_data_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = ChannelData::parse(&bytes);
            let _ = stream_frame_len(&bytes);
        }
    }
}
