//! SCTP wire formats (RFC 9260 section 3): the common header, chunks, parameters and error
//! causes, plus the extension chunks WebRTC uses (RFC 3758 FORWARD-TSN, RFC 6525 RE-CONFIG,
//! RFC 8260 I-DATA / I-FORWARD-TSN, RFC 9653 zero checksum parameter).
//!
//! Decoding is zero-copy over borrowed bytes and never panics; every length is checked.
//! Encoding appends to a caller-provided `Vec<u8>`.

use crate::error::Error;

/// Length of the SCTP common header (RFC 9260 section 3.1).
pub const COMMON_HEADER_LEN: usize = 12;
/// Length of a DATA chunk header including the chunk header (RFC 9260 section 3.3.1).
pub const DATA_HEADER_LEN: usize = 16;
/// Length of an I-DATA chunk header including the chunk header (RFC 8260 section 2.1).
pub const IDATA_HEADER_LEN: usize = 20;

/// Chunk type codes (RFC 9260 section 3.2 and extensions).
pub mod ct {
    /// DATA.
    pub const DATA: u8 = 0;
    /// INIT.
    pub const INIT: u8 = 1;
    /// INIT ACK.
    pub const INIT_ACK: u8 = 2;
    /// SACK.
    pub const SACK: u8 = 3;
    /// HEARTBEAT.
    pub const HEARTBEAT: u8 = 4;
    /// HEARTBEAT ACK.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// ABORT.
    pub const ABORT: u8 = 6;
    /// SHUTDOWN.
    pub const SHUTDOWN: u8 = 7;
    /// SHUTDOWN ACK.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// ERROR.
    pub const ERROR: u8 = 9;
    /// COOKIE ECHO.
    pub const COOKIE_ECHO: u8 = 10;
    /// COOKIE ACK.
    pub const COOKIE_ACK: u8 = 11;
    /// SHUTDOWN COMPLETE.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
    /// AUTH (RFC 4895) -- not supported, rejected.
    pub const AUTH: u8 = 15;
    /// I-DATA (RFC 8260).
    pub const IDATA: u8 = 64;
    /// ASCONF-ACK (RFC 5061) -- not supported, rejected.
    pub const ASCONF_ACK: u8 = 0x80;
    /// RE-CONFIG (RFC 6525).
    pub const RECONFIG: u8 = 130;
    /// PAD (RFC 4820).
    pub const PAD: u8 = 132;
    /// FORWARD-TSN (RFC 3758).
    pub const FORWARD_TSN: u8 = 192;
    /// ASCONF (RFC 5061) -- not supported, rejected.
    pub const ASCONF: u8 = 0xC1;
    /// I-FORWARD-TSN (RFC 8260).
    pub const IFORWARD_TSN: u8 = 194;
}

/// Parameter type codes used in INIT / INIT ACK / HEARTBEAT / RE-CONFIG.
pub mod pt {
    /// Heartbeat Info (RFC 9260 section 3.3.5).
    pub const HEARTBEAT_INFO: u16 = 1;
    /// State Cookie (RFC 9260 section 3.3.3).
    pub const STATE_COOKIE: u16 = 7;
    /// Unrecognized Parameter.
    pub const UNRECOGNIZED: u16 = 8;
    /// Outgoing SSN Reset Request (RFC 6525 section 4.1).
    pub const OUTGOING_RESET: u16 = 13;
    /// Incoming SSN Reset Request (RFC 6525 section 4.2).
    pub const INCOMING_RESET: u16 = 14;
    /// Re-configuration Response (RFC 6525 section 4.4).
    pub const RECONFIG_RESPONSE: u16 = 16;
    /// ECN capable (ignored).
    pub const ECN: u16 = 0x8000;
    /// Zero Checksum Acceptable (RFC 9653 section 4).
    pub const ZERO_CHECKSUM: u16 = 0x8001;
    /// Supported Extensions (RFC 5061 section 4.2.7).
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    /// Forward-TSN-Supported (RFC 3758 section 3.1).
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xC000;
}

/// Error cause codes (RFC 9260 section 3.3.10).
pub mod cause {
    /// Invalid Stream Identifier.
    pub const INVALID_STREAM: u16 = 1;
    /// Missing Mandatory Parameter.
    pub const MISSING_PARAM: u16 = 2;
    /// Stale Cookie Error.
    pub const STALE_COOKIE: u16 = 3;
    /// Out of Resource.
    pub const OUT_OF_RESOURCE: u16 = 4;
    /// Unrecognized Chunk Type.
    pub const UNRECOGNIZED_CHUNK: u16 = 6;
    /// Invalid Mandatory Parameter.
    pub const INVALID_MANDATORY_PARAM: u16 = 7;
    /// No User Data.
    pub const NO_USER_DATA: u16 = 9;
    /// Cookie Received While Shutting Down (RFC 9260 section 3.3.10.10).
    pub const COOKIE_WHILE_SHUTTING_DOWN: u16 = 10;
    /// User-Initiated Abort.
    pub const USER_ABORT: u16 = 12;
    /// Protocol Violation.
    pub const PROTOCOL_VIOLATION: u16 = 13;
}

/// The Error Detection Method Identifier for "SCTP over DTLS" (RFC 9653 section 7).
pub const EDMID_DTLS: u32 = 1;

static CRC32C: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// Slice-by-16 tables for the reflected Castagnoli polynomial 0x82f63b78, built at compile
/// time. `CRC_TABLES[0]` is the classic byte-wise table; `CRC_TABLES[k][b]` is the CRC of
/// byte `b` followed by `k` zero bytes.
static CRC_TABLES: [[u32; 256]; 16] = build_crc_tables();

// Evaluated at compile time only: an out-of-range index would be a build error.
#[allow(clippy::indexing_slicing)]
const fn build_crc_tables() -> [[u32; 256]; 16] {
    let mut t = [[0u32; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut j = 1;
        while j < 16 {
            let prev = t[j - 1][i];
            t[j][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            j += 1;
        }
        i += 1;
    }
    t
}

/// Continues a CRC32c register (pre-inverted) over `data`: slice-by-16, then byte-wise.
// Indexing a [u32; 256] table with a u8 and a [_; 16] array with constants cannot go out of
// range; clippy cannot see that through `as usize`.
#[allow(clippy::indexing_slicing)]
#[inline]
fn crc32c_update(mut crc: u32, data: &[u8]) -> u32 {
    let t = &CRC_TABLES;
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let w: [u8; 16] = match c.try_into() {
            Ok(w) => w,
            Err(_) => continue,
        };
        let a = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) ^ crc;
        crc = t[15][(a & 0xff) as usize]
            ^ t[14][((a >> 8) & 0xff) as usize]
            ^ t[13][((a >> 16) & 0xff) as usize]
            ^ t[12][(a >> 24) as usize]
            ^ t[11][w[4] as usize]
            ^ t[10][w[5] as usize]
            ^ t[9][w[6] as usize]
            ^ t[8][w[7] as usize]
            ^ t[7][w[8] as usize]
            ^ t[6][w[9] as usize]
            ^ t[5][w[10] as usize]
            ^ t[4][w[11] as usize]
            ^ t[3][w[12] as usize]
            ^ t[2][w[13] as usize]
            ^ t[1][w[14] as usize]
            ^ t[0][w[15] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
    }
    crc
}

/// CRC32c (Castagnoli) of `data` (RFC 9260 appendix A): our table-driven slice-by-16,
/// checked against the `crc` crate's `CRC_32_ISCSI` in the tests.
pub fn crc32c(data: &[u8]) -> u32 {
    !crc32c_update(!0, data)
}

/// The `crc` crate's CRC-32/ISCSI, kept as the reference implementation for tests.
#[doc(hidden)]
pub fn crc32c_reference(data: &[u8]) -> u32 {
    CRC32C.checksum(data)
}

/// The checksum of an SCTP packet as it should appear in octets 8..12 read little-endian:
/// CRC32c over the packet with the checksum field taken as zero (RFC 9260 section 6.8).
pub fn packet_checksum(packet: &[u8]) -> u32 {
    // crc-fast folds with carry-less multiplication (PCLMULQDQ / VPCLMULQDQ, ARMv8 PMULL)
    // next to the crc32 instruction, also for packet-sized buffers, with runtime detection
    // and a table fallback. The input is borrowed and read-only: the common header goes
    // through a 12-octet copy with the checksum field zeroed, then the chunks in one call.
    let mut head = [0u8; COMMON_HEADER_LEN];
    let n = packet.len().min(8);
    if let (Some(dst), Some(src)) = (head.get_mut(..n), packet.get(..n)) {
        dst.copy_from_slice(src);
    }
    let mut d = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi);
    d.update(head.get(..n + 4).unwrap_or(&head));
    d.update(packet.get(COMMON_HEADER_LEN..).unwrap_or(&[]));
    d.finalize() as u32
}

/// [`packet_checksum`] with the table-driven slice-by-16 CRC only (cross-check in tests).
#[doc(hidden)]
pub fn packet_checksum_tables(packet: &[u8]) -> u32 {
    let mut c = crc32c_update(!0, packet.get(..8).unwrap_or(packet));
    c = crc32c_update(c, &[0u8; 4]);
    c = crc32c_update(c, packet.get(COMMON_HEADER_LEN..).unwrap_or(&[]));
    !c
}

/// Writes the checksum field (octets 8..12) of a finished packet: the CRC32c, or zero when
/// `zero` (RFC 9653 alternate error detection method in use).
pub fn finish_packet(packet: &mut [u8], zero: bool) {
    let Some(f) = packet.get_mut(8..12) else {
        return;
    };
    f.fill(0);
    if !zero {
        // The field is zero now: one pass over the whole packet.
        let sum = crc_fast::crc32_iscsi(packet);
        if let Some(f) = packet.get_mut(8..12) {
            f.copy_from_slice(&sum.to_le_bytes());
        }
    }
}

#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    let a: [u8; 4] = s.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

fn need(what: &'static str, b: &[u8], n: usize) -> Result<(), Error> {
    if b.len() < n {
        Err(Error::Truncated {
            what,
            need: n,
            have: b.len(),
        })
    } else {
        Ok(())
    }
}

/// The SCTP common header (RFC 9260 section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommonHeader {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub vtag: u32,
    /// Checksum field as a little-endian u32 (the CRC32c value, or 0).
    pub checksum: u32,
}

/// A decoded packet: the header plus a view of the chunk area.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// The common header.
    pub header: CommonHeader,
    /// All octets after the common header.
    pub chunk_bytes: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Parses the common header. Does not verify the checksum (see [`Packet::verify_checksum`]).
    pub fn parse(buf: &'a [u8]) -> Result<Self, Error> {
        need("SCTP common header", buf, COMMON_HEADER_LEN)?;
        let header = CommonHeader {
            src_port: be16(buf, 0).unwrap_or(0),
            dst_port: be16(buf, 2).unwrap_or(0),
            vtag: be32(buf, 4).unwrap_or(0),
            checksum: be32(buf, 8).unwrap_or(0).swap_bytes(),
        };
        Ok(Packet {
            header,
            chunk_bytes: buf.get(COMMON_HEADER_LEN..).unwrap_or(&[]),
        })
    }

    /// Verifies the CRC32c over `buf` (the same bytes given to `parse`). When `allow_zero`
    /// (RFC 9653 negotiated), a zero checksum field is also accepted.
    pub fn verify_checksum(&self, buf: &[u8], allow_zero: bool) -> Result<(), Error> {
        if allow_zero && self.header.checksum == 0 {
            return Ok(());
        }
        let computed = packet_checksum(buf);
        if computed == self.header.checksum {
            Ok(())
        } else {
            Err(Error::BadChecksum {
                received: self.header.checksum,
                computed,
            })
        }
    }

    /// Iterates the chunks; yields an error (and then stops) on a malformed chunk header.
    pub fn chunks(&self) -> ChunkIter<'a> {
        ChunkIter {
            rest: self.chunk_bytes,
        }
    }
}

/// A chunk as framed on the wire: type, flags and value (the octets after the 4-octet chunk
/// header, excluding padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawChunk<'a> {
    /// Chunk type.
    pub typ: u8,
    /// Chunk flags.
    pub flags: u8,
    /// Chunk value.
    pub value: &'a [u8],
}

/// Iterator over the chunks of a packet (RFC 9260 section 3.2).
#[derive(Debug, Clone)]
pub struct ChunkIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ChunkIter<'a> {
    type Item = Result<RawChunk<'a>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        if b.len() < 4 {
            self.rest = &[];
            return Some(Err(Error::Truncated {
                what: "chunk header",
                need: 4,
                have: b.len(),
            }));
        }
        let typ = *b.first()?;
        let flags = *b.get(1)?;
        let len = usize::from(be16(b, 2)?);
        if len < 4 {
            self.rest = &[];
            return Some(Err(Error::InvalidField {
                field: "chunk length",
                value: len as u64,
            }));
        }
        let Some(value) = b.get(4..len) else {
            self.rest = &[];
            return Some(Err(Error::Truncated {
                what: "chunk",
                need: len,
                have: b.len(),
            }));
        };
        let padded = (len + 3) & !3;
        self.rest = b.get(padded..).unwrap_or(&[]);
        Some(Ok(RawChunk { typ, flags, value }))
    }
}

/// A DATA (RFC 9260 section 3.3.1) or I-DATA (RFC 8260 section 2.1) chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataChunk<'a> {
    /// True for I-DATA.
    pub idata: bool,
    /// Transmission sequence number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// Stream sequence number (DATA) or message identifier (I-DATA).
    pub mid: u32,
    /// Fragment sequence number (I-DATA only; 0 for the first fragment and for DATA).
    pub fsn: u32,
    /// Payload protocol identifier (for I-DATA only present on the first fragment).
    pub ppid: u32,
    /// U bit: unordered.
    pub unordered: bool,
    /// B bit: first fragment.
    pub begin: bool,
    /// E bit: last fragment.
    pub end: bool,
    /// I bit: SACK immediately (RFC 7053).
    pub immediate: bool,
    /// User data.
    pub payload: &'a [u8],
}

/// Flag bits of DATA / I-DATA.
pub mod data_flags {
    /// Last fragment.
    pub const E: u8 = 1;
    /// First fragment.
    pub const B: u8 = 2;
    /// Unordered.
    pub const U: u8 = 4;
    /// Immediate SACK (RFC 7053).
    pub const I: u8 = 8;
}

impl<'a> DataChunk<'a> {
    /// Decodes from a raw chunk of type DATA or I-DATA.
    pub fn parse(raw: &RawChunk<'a>) -> Result<Self, Error> {
        let idata = raw.typ == ct::IDATA;
        let v = raw.value;
        let hl = if idata { 16 } else { 12 };
        need(if idata { "I-DATA chunk" } else { "DATA chunk" }, v, hl)?;
        let payload = v.get(hl..).unwrap_or(&[]);
        if payload.is_empty() {
            return Err(Error::InvalidField {
                field: "DATA payload length",
                value: 0,
            });
        }
        let f = raw.flags;
        let begin = f & data_flags::B != 0;
        let tsn = be32(v, 0).unwrap_or(0);
        let stream = be16(v, 4).unwrap_or(0);
        let (mid, fsn, ppid) = if idata {
            let mid = be32(v, 8).unwrap_or(0);
            let x = be32(v, 12).unwrap_or(0);
            if begin { (mid, 0, x) } else { (mid, x, 0) }
        } else {
            (
                u32::from(be16(v, 6).unwrap_or(0)),
                0,
                be32(v, 8).unwrap_or(0),
            )
        };
        Ok(DataChunk {
            idata,
            tsn,
            stream,
            mid,
            fsn,
            ppid,
            unordered: f & data_flags::U != 0,
            begin,
            end: f & data_flags::E != 0,
            immediate: f & data_flags::I != 0,
            payload,
        })
    }

    /// Encoded length including padding.
    pub fn buffer_len(&self) -> usize {
        let h = if self.idata {
            IDATA_HEADER_LEN
        } else {
            DATA_HEADER_LEN
        };
        (h + self.payload.len() + 3) & !3
    }

    /// Appends the encoded chunk (with padding) to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let mut flags = 0;
        if self.unordered {
            flags |= data_flags::U;
        }
        if self.begin {
            flags |= data_flags::B;
        }
        if self.end {
            flags |= data_flags::E;
        }
        if self.immediate {
            flags |= data_flags::I;
        }
        emit_data_header(
            out,
            self.idata,
            flags,
            self.tsn,
            self.stream,
            self.mid,
            self.fsn,
            self.ppid,
            self.payload.len(),
        );
        out.extend_from_slice(self.payload);
        pad4(out);
    }
}

/// Appends a DATA / I-DATA chunk header (the payload and padding follow, written by the caller).
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn emit_data_header(
    out: &mut impl Out,
    idata: bool,
    flags: u8,
    tsn: u32,
    stream: u16,
    mid: u32,
    fsn: u32,
    ppid: u32,
    payload_len: usize,
) {
    if idata {
        let len = (IDATA_HEADER_LEN + payload_len) as u16;
        let mut h = [0u8; IDATA_HEADER_LEN];
        h[0] = ct::IDATA;
        h[1] = flags;
        h[2..4].copy_from_slice(&len.to_be_bytes());
        h[4..8].copy_from_slice(&tsn.to_be_bytes());
        h[8..10].copy_from_slice(&stream.to_be_bytes());
        h[12..16].copy_from_slice(&mid.to_be_bytes());
        let x = if flags & data_flags::B != 0 {
            ppid
        } else {
            fsn
        };
        h[16..20].copy_from_slice(&x.to_be_bytes());
        out.append(&h);
    } else {
        let len = (DATA_HEADER_LEN + payload_len) as u16;
        let mut h = [0u8; DATA_HEADER_LEN];
        h[0] = ct::DATA;
        h[1] = flags;
        h[2..4].copy_from_slice(&len.to_be_bytes());
        h[4..8].copy_from_slice(&tsn.to_be_bytes());
        h[8..10].copy_from_slice(&stream.to_be_bytes());
        h[10..12].copy_from_slice(&(mid as u16).to_be_bytes());
        h[12..16].copy_from_slice(&ppid.to_be_bytes());
        out.append(&h);
    }
}

/// Pads `out` with zeros to a multiple of 4.
#[inline]
pub fn pad4(out: &mut impl Out) {
    let n = (4 - out.written() % 4) % 4;
    out.append([0u8; 3].get(..n).unwrap_or(&[]));
}

/// A buffer the encoders append to: `Vec<u8>`, or `BytesMut` so that packets can be cut
/// from one allocation without another copy.
pub trait Out {
    /// Appends `data`.
    fn append(&mut self, data: &[u8]);
    /// Octets written so far.
    fn written(&self) -> usize;
}

impl Out for Vec<u8> {
    #[inline]
    fn append(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
    #[inline]
    fn written(&self) -> usize {
        self.len()
    }
}

impl Out for bytes::BytesMut {
    #[inline]
    fn append(&mut self, data: &[u8]) {
        self.extend_from_slice(data);
    }
    #[inline]
    fn written(&self) -> usize {
        self.len()
    }
}

/// Appends a common header with a zero checksum (filled by [`finish_packet`]).
pub fn emit_common_header(out: &mut impl Out, src_port: u16, dst_port: u16, vtag: u32) {
    let mut h = [0u8; COMMON_HEADER_LEN];
    h[0..2].copy_from_slice(&src_port.to_be_bytes());
    h[2..4].copy_from_slice(&dst_port.to_be_bytes());
    h[4..8].copy_from_slice(&vtag.to_be_bytes());
    out.append(&h);
}

/// Appends a chunk with the given value (and padding). The value must be < 65532 octets.
pub fn emit_chunk(out: &mut impl Out, typ: u8, flags: u8, value: &[u8]) {
    let len = (4 + value.len()).min(usize::from(u16::MAX)) as u16;
    let [a, b] = len.to_be_bytes();
    out.append(&[typ, flags, a, b]);
    out.append(value);
    pad4(out);
}

/// Appends a TLV parameter (or error cause; same framing) with padding.
pub fn emit_param(out: &mut Vec<u8>, typ: u16, value: &[u8]) {
    let len = (4 + value.len()).min(usize::from(u16::MAX)) as u16;
    out.extend_from_slice(&typ.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    pad4(out);
}

/// A TLV parameter or error cause (RFC 9260 section 3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter type (or cause code).
    pub typ: u16,
    /// Value, excluding the 4-octet header and padding.
    pub value: &'a [u8],
}

/// Iterator over TLV parameters; yields an error and stops on a malformed one.
#[derive(Debug, Clone)]
pub struct ParamIter<'a> {
    rest: &'a [u8],
}

impl<'a> ParamIter<'a> {
    /// Iterates the parameters in `b`.
    pub fn new(b: &'a [u8]) -> Self {
        ParamIter { rest: b }
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Result<Param<'a>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest;
        let (Some(typ), Some(len)) = (be16(b, 0), be16(b, 2)) else {
            self.rest = &[];
            return Some(Err(Error::Truncated {
                what: "parameter header",
                need: 4,
                have: b.len(),
            }));
        };
        let len = usize::from(len);
        if len < 4 {
            self.rest = &[];
            return Some(Err(Error::InvalidField {
                field: "parameter length",
                value: len as u64,
            }));
        }
        let Some(value) = b.get(4..len) else {
            self.rest = &[];
            return Some(Err(Error::Truncated {
                what: "parameter",
                need: len,
                have: b.len(),
            }));
        };
        self.rest = b.get((len + 3) & !3..).unwrap_or(&[]);
        Some(Ok(Param { typ, value }))
    }
}

/// INIT or INIT ACK (RFC 9260 sections 3.3.2, 3.3.3), with the parameters WebRTC uses decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init<'a> {
    /// Initiate tag (never 0).
    pub init_tag: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Number of outbound streams (never 0).
    pub os: u16,
    /// Number of inbound streams (never 0).
    pub mis: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// Forward-TSN-Supported parameter present (RFC 3758).
    pub forward_tsn: bool,
    /// RE-CONFIG listed in Supported Extensions (RFC 6525).
    pub reconfig: bool,
    /// I-DATA listed in Supported Extensions (RFC 8260).
    pub idata: bool,
    /// Zero Checksum Acceptable with this EDMID (RFC 9653).
    pub zero_checksum: Option<u32>,
    /// State cookie (INIT ACK only).
    pub cookie: Option<&'a [u8]>,
}

impl<'a> Init<'a> {
    /// Decodes the value of an INIT or INIT ACK chunk.
    pub fn parse(v: &'a [u8]) -> Result<Self, Error> {
        need("INIT chunk", v, 16)?;
        let init_tag = be32(v, 0).unwrap_or(0);
        let a_rwnd = be32(v, 4).unwrap_or(0);
        let os = be16(v, 8).unwrap_or(0);
        let mis = be16(v, 10).unwrap_or(0);
        let initial_tsn = be32(v, 12).unwrap_or(0);
        if init_tag == 0 {
            return Err(Error::InvalidField {
                field: "initiate tag",
                value: 0,
            });
        }
        if os == 0 || mis == 0 {
            return Err(Error::InvalidField {
                field: "stream count",
                value: 0,
            });
        }
        let mut init = Init {
            init_tag,
            a_rwnd,
            os,
            mis,
            initial_tsn,
            forward_tsn: false,
            reconfig: false,
            idata: false,
            zero_checksum: None,
            cookie: None,
        };
        for p in ParamIter::new(v.get(16..).unwrap_or(&[])) {
            let p = p?;
            match p.typ {
                pt::FORWARD_TSN_SUPPORTED => init.forward_tsn = true,
                pt::SUPPORTED_EXTENSIONS => {
                    for &c in p.value {
                        match c {
                            ct::RECONFIG => init.reconfig = true,
                            ct::IDATA => init.idata = true,
                            ct::FORWARD_TSN => init.forward_tsn = true,
                            _ => {}
                        }
                    }
                }
                pt::ZERO_CHECKSUM => {
                    let e = be32(p.value, 0).ok_or(Error::Truncated {
                        what: "Zero Checksum Acceptable parameter",
                        need: 4,
                        have: p.value.len(),
                    })?;
                    init.zero_checksum = Some(e);
                }
                pt::STATE_COOKIE => init.cookie = Some(p.value),
                _ => {}
            }
        }
        Ok(init)
    }

    /// Appends the chunk value (fixed part + parameters) to `out`.
    pub fn emit_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.init_tag.to_be_bytes());
        out.extend_from_slice(&self.a_rwnd.to_be_bytes());
        out.extend_from_slice(&self.os.to_be_bytes());
        out.extend_from_slice(&self.mis.to_be_bytes());
        out.extend_from_slice(&self.initial_tsn.to_be_bytes());
        if let Some(c) = self.cookie {
            emit_param(out, pt::STATE_COOKIE, c);
        }
        if self.forward_tsn {
            emit_param(out, pt::FORWARD_TSN_SUPPORTED, &[]);
        }
        let mut ext = Vec::with_capacity(3);
        if self.forward_tsn {
            ext.push(ct::FORWARD_TSN);
        }
        if self.reconfig {
            ext.push(ct::RECONFIG);
        }
        if self.idata {
            ext.push(ct::IDATA);
            ext.push(ct::IFORWARD_TSN);
        }
        if !ext.is_empty() {
            emit_param(out, pt::SUPPORTED_EXTENSIONS, &ext);
        }
        if let Some(e) = self.zero_checksum {
            emit_param(out, pt::ZERO_CHECKSUM, &e.to_be_bytes());
        }
    }
}

/// SACK (RFC 9260 section 3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sack<'a> {
    /// Cumulative TSN ack.
    pub cum_tsn: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    gaps: &'a [u8],
    dups: &'a [u8],
}

impl<'a> Sack<'a> {
    /// Decodes a SACK chunk value.
    pub fn parse(v: &'a [u8]) -> Result<Self, Error> {
        need("SACK chunk", v, 12)?;
        let ng = usize::from(be16(v, 8).unwrap_or(0));
        let nd = usize::from(be16(v, 10).unwrap_or(0));
        let total = 12 + 4 * ng + 4 * nd;
        need("SACK gap/dup blocks", v, total)?;
        Ok(Sack {
            cum_tsn: be32(v, 0).unwrap_or(0),
            a_rwnd: be32(v, 4).unwrap_or(0),
            gaps: v.get(12..12 + 4 * ng).unwrap_or(&[]),
            dups: v.get(12 + 4 * ng..total).unwrap_or(&[]),
        })
    }

    /// Gap ack blocks as (start, end) offsets from the cumulative TSN.
    pub fn gap_blocks(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.gaps
            .chunks_exact(4)
            .map(|c| (be16(c, 0).unwrap_or(0), be16(c, 2).unwrap_or(0)))
    }

    /// Number of gap blocks.
    pub fn num_gap_blocks(&self) -> usize {
        self.gaps.len() / 4
    }

    /// Duplicate TSNs reported.
    pub fn dup_tsns(&self) -> impl Iterator<Item = u32> + 'a {
        self.dups.chunks_exact(4).map(|c| be32(c, 0).unwrap_or(0))
    }
}

/// Appends a complete SACK chunk.
pub fn emit_sack(out: &mut impl Out, cum_tsn: u32, a_rwnd: u32, gaps: &[(u16, u16)], dups: &[u32]) {
    let len = 16 + 4 * gaps.len() + 4 * dups.len();
    let mut h = [0u8; 16];
    h[0] = ct::SACK;
    h[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    h[4..8].copy_from_slice(&cum_tsn.to_be_bytes());
    h[8..12].copy_from_slice(&a_rwnd.to_be_bytes());
    h[12..14].copy_from_slice(&(gaps.len() as u16).to_be_bytes());
    h[14..16].copy_from_slice(&(dups.len() as u16).to_be_bytes());
    out.append(&h);
    for (s, e) in gaps {
        let [a, b] = s.to_be_bytes();
        let [c, d] = e.to_be_bytes();
        out.append(&[a, b, c, d]);
    }
    for d in dups {
        out.append(&d.to_be_bytes());
    }
}

/// FORWARD-TSN (RFC 3758 section 3.2) or I-FORWARD-TSN (RFC 8260 section 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardTsn<'a> {
    /// True for I-FORWARD-TSN.
    pub idata: bool,
    /// New cumulative TSN.
    pub new_cum_tsn: u32,
    entries: &'a [u8],
}

/// One skipped-stream entry of a (I-)FORWARD-TSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkipEntry {
    /// Stream id.
    pub stream: u16,
    /// Unordered (I-FORWARD-TSN only).
    pub unordered: bool,
    /// SSN (FORWARD-TSN) or MID (I-FORWARD-TSN).
    pub mid: u32,
}

impl<'a> ForwardTsn<'a> {
    /// Decodes a chunk value.
    pub fn parse(v: &'a [u8], idata: bool) -> Result<Self, Error> {
        need("FORWARD-TSN chunk", v, 4)?;
        let es = if idata { 8 } else { 4 };
        let entries = v.get(4..).unwrap_or(&[]);
        if entries.len() % es != 0 {
            return Err(Error::InvalidField {
                field: "FORWARD-TSN length",
                value: v.len() as u64,
            });
        }
        Ok(ForwardTsn {
            idata,
            new_cum_tsn: be32(v, 0).unwrap_or(0),
            entries,
        })
    }

    /// The stream entries.
    pub fn entries(&self) -> impl Iterator<Item = SkipEntry> + 'a {
        let idata = self.idata;
        self.entries
            .chunks_exact(if idata { 8 } else { 4 })
            .map(move |c| {
                if idata {
                    SkipEntry {
                        stream: be16(c, 0).unwrap_or(0),
                        unordered: be16(c, 2).unwrap_or(0) & 1 != 0,
                        mid: be32(c, 4).unwrap_or(0),
                    }
                } else {
                    SkipEntry {
                        stream: be16(c, 0).unwrap_or(0),
                        unordered: false,
                        mid: u32::from(be16(c, 2).unwrap_or(0)),
                    }
                }
            })
    }
}

/// Appends a complete (I-)FORWARD-TSN chunk.
pub fn emit_forward_tsn(out: &mut impl Out, idata: bool, new_cum: u32, entries: &[SkipEntry]) {
    let mut v = Vec::with_capacity(4 + entries.len() * 8);
    v.extend_from_slice(&new_cum.to_be_bytes());
    for e in entries {
        v.extend_from_slice(&e.stream.to_be_bytes());
        if idata {
            v.extend_from_slice(&u16::from(e.unordered).to_be_bytes());
            v.extend_from_slice(&e.mid.to_be_bytes());
        } else {
            v.extend_from_slice(&(e.mid as u16).to_be_bytes());
        }
    }
    emit_chunk(
        out,
        if idata {
            ct::IFORWARD_TSN
        } else {
            ct::FORWARD_TSN
        },
        0,
        &v,
    );
}

/// A RE-CONFIG parameter (RFC 6525 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconfigParam<'a> {
    /// Outgoing SSN Reset Request (section 4.1).
    OutgoingReset {
        /// Request sequence number.
        req_seq: u32,
        /// Response sequence number.
        resp_seq: u32,
        /// Sender's last assigned TSN.
        last_tsn: u32,
        /// Stream ids, 2 octets each (empty = all).
        streams: &'a [u8],
    },
    /// Incoming SSN Reset Request (section 4.2).
    IncomingReset {
        /// Request sequence number.
        req_seq: u32,
        /// Stream ids.
        streams: &'a [u8],
    },
    /// Re-configuration Response (section 4.4).
    Response {
        /// Response sequence number.
        resp_seq: u32,
        /// Result code.
        result: u32,
    },
    /// Any other parameter (SSN/TSN reset, add streams): answered as denied.
    Other {
        /// Parameter type.
        typ: u16,
        /// Request sequence number if the value has one.
        req_seq: Option<u32>,
    },
}

/// Result codes of a Re-configuration Response (RFC 6525 section 4.4).
pub mod reconfig_result {
    /// Success - Nothing to do.
    pub const NOTHING_TO_DO: u32 = 0;
    /// Success - Performed.
    pub const PERFORMED: u32 = 1;
    /// Denied.
    pub const DENIED: u32 = 2;
    /// Error - Wrong SSN.
    pub const WRONG_SSN: u32 = 3;
    /// Error - Request already in progress.
    pub const ALREADY_IN_PROGRESS: u32 = 4;
    /// Error - Bad Sequence Number.
    pub const BAD_SEQ: u32 = 5;
    /// In progress.
    pub const IN_PROGRESS: u32 = 6;
}

/// Decodes the parameters of a RE-CONFIG chunk value.
pub fn reconfig_params(v: &[u8]) -> impl Iterator<Item = Result<ReconfigParam<'_>, Error>> {
    ParamIter::new(v).map(|p| {
        let p = p?;
        let t = |n| Error::Truncated {
            what: "RE-CONFIG parameter",
            need: n,
            have: p.value.len(),
        };
        Ok(match p.typ {
            pt::OUTGOING_RESET => {
                need("Outgoing SSN Reset Request", p.value, 12)?;
                let streams = p.value.get(12..).unwrap_or(&[]);
                if streams.len() % 2 != 0 {
                    return Err(t(12 + streams.len() + 1));
                }
                ReconfigParam::OutgoingReset {
                    req_seq: be32(p.value, 0).unwrap_or(0),
                    resp_seq: be32(p.value, 4).unwrap_or(0),
                    last_tsn: be32(p.value, 8).unwrap_or(0),
                    streams,
                }
            }
            pt::INCOMING_RESET => {
                need("Incoming SSN Reset Request", p.value, 4)?;
                ReconfigParam::IncomingReset {
                    req_seq: be32(p.value, 0).unwrap_or(0),
                    streams: p.value.get(4..).unwrap_or(&[]),
                }
            }
            pt::RECONFIG_RESPONSE => {
                need("Re-configuration Response", p.value, 8)?;
                ReconfigParam::Response {
                    resp_seq: be32(p.value, 0).unwrap_or(0),
                    result: be32(p.value, 4).unwrap_or(0),
                }
            }
            typ => ReconfigParam::Other {
                typ,
                req_seq: be32(p.value, 0),
            },
        })
    })
}

/// Appends an Outgoing SSN Reset Request parameter.
pub fn emit_outgoing_reset(
    out: &mut Vec<u8>,
    req_seq: u32,
    resp_seq: u32,
    last_tsn: u32,
    streams: &[u16],
) {
    let mut v = Vec::with_capacity(12 + 2 * streams.len());
    v.extend_from_slice(&req_seq.to_be_bytes());
    v.extend_from_slice(&resp_seq.to_be_bytes());
    v.extend_from_slice(&last_tsn.to_be_bytes());
    for s in streams {
        v.extend_from_slice(&s.to_be_bytes());
    }
    emit_param(out, pt::OUTGOING_RESET, &v);
}

/// Appends a Re-configuration Response parameter.
pub fn emit_reconfig_response(out: &mut Vec<u8>, resp_seq: u32, result: u32) {
    let mut v = [0u8; 8];
    v[..4].copy_from_slice(&resp_seq.to_be_bytes());
    v[4..].copy_from_slice(&result.to_be_bytes());
    emit_param(out, pt::RECONFIG_RESPONSE, &v);
}

/// Serial number arithmetic for 32-bit TSNs (RFC 1982 as used by RFC 9260 section 1.6):
/// true when `a` is before `b`.
#[inline]
pub fn tsn_lt(a: u32, b: u32) -> bool {
    a != b && b.wrapping_sub(a) < 1 << 31
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_iter_rejects_short_length() {
        let pkt = [0u8, 0, 0, 3];
        let mut it = ChunkIter { rest: &pkt };
        assert!(matches!(it.next(), Some(Err(Error::InvalidField { .. }))));
        assert!(it.next().is_none());
    }

    #[test]
    fn chunk_iter_rejects_length_past_end() {
        let pkt = [0u8, 0, 0, 40, 1, 2, 3, 4];
        let mut it = ChunkIter { rest: &pkt };
        assert!(matches!(
            it.next(),
            Some(Err(Error::Truncated {
                need: 40,
                have: 8,
                ..
            }))
        ));
    }

    #[test]
    fn own_crc_matches_crc_crate() {
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for start in 0..20 {
            for len in [0, 1, 7, 15, 16, 17, 31, 64, 100, 1191, 2900] {
                let d = &data[start..start + len];
                assert_eq!(crc32c(d), crc32c_reference(d), "start {start} len {len}");
                if len >= COMMON_HEADER_LEN {
                    assert_eq!(
                        packet_checksum(d),
                        packet_checksum_tables(d),
                        "start {start} len {len}"
                    );
                }
            }
        }
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    /// crc-fast switches code paths by length (folding widths, tails); every packet length
    /// up to past a jumbo MTU and three alignments, both the read-only receive path and the
    /// in-place send path, against our table CRC.
    #[test]
    fn packet_checksum_every_length_matches_tables() {
        let data: Vec<u8> = (0..9100u32)
            .map(|i| (i.wrapping_mul(2246822519) >> 11) as u8)
            .collect();
        for start in [0, 1, 5] {
            for len in (0..2100).chain([4096, 8999]) {
                let d = &data[start..start + len];
                let want = packet_checksum_tables(d);
                assert_eq!(packet_checksum(d), want, "start {start} len {len}");
                if len >= COMMON_HEADER_LEN {
                    let mut p = d.to_vec();
                    finish_packet(&mut p, false);
                    assert_eq!(&p[8..12], &want.to_le_bytes(), "start {start} len {len}");
                    assert_eq!(&p[..8], &d[..8]);
                    assert_eq!(&p[12..], &d[12..]);
                    finish_packet(&mut p, true);
                    assert_eq!(&p[8..12], &[0; 4]);
                }
            }
        }
    }

    #[test]
    fn serial_arithmetic_wraps() {
        assert!(tsn_lt(u32::MAX, 0));
        assert!(tsn_lt(u32::MAX - 5, 3));
        assert!(!tsn_lt(3, u32::MAX - 5));
        assert!(!tsn_lt(7, 7));
    }

    #[test]
    fn truncated_init_params_rejected() {
        let mut v = Vec::new();
        Init {
            init_tag: 1,
            a_rwnd: 1000,
            os: 1,
            mis: 1,
            initial_tsn: 5,
            forward_tsn: true,
            reconfig: true,
            idata: false,
            zero_checksum: Some(1),
            cookie: None,
        }
        .emit_value(&mut v);
        assert!(Init::parse(&v).is_ok());
        for cut in 17..v.len() {
            // Cutting inside a parameter must fail, cutting on a boundary must parse.
            let r = Init::parse(&v[..cut]);
            let boundary = [16usize, 20, 26, 27, 28, 36].contains(&cut);
            assert_eq!(r.is_ok(), boundary, "cut at {cut}: {r:?}");
        }
    }
}
