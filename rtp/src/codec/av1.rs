//! AV1 (the AV1 RTP payload format, AOMedia): aggregation header (Z, Y, W, N), OBU
//! elements with LEB128 lengths, fragmentation across packets. Frames are temporal units in
//! the low-overhead bitstream format (OBUs with `obu_has_size_field`).

use super::{Depacketizer, Packetizer, codec_err};
use crate::error::Result;

/// OBU types used here (AV1 spec §6.2.2).
pub mod obu_type {
    /// Sequence header.
    pub const SEQUENCE_HEADER: u8 = 1;
    /// Temporal delimiter.
    pub const TEMPORAL_DELIMITER: u8 = 2;
    /// Frame header.
    pub const FRAME_HEADER: u8 = 3;
    /// Frame.
    pub const FRAME: u8 = 6;
    /// Tile list.
    pub const TILE_LIST: u8 = 8;
}

/// Reads a LEB128 value (at most 8 octets, AV1 spec §4.10.5); returns (value, octets).
pub fn read_leb128(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..8 {
        let byte = *b.get(i)?;
        v |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Appends `v` as LEB128.
pub fn write_leb128(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn leb128_len(v: usize) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

/// Splits a temporal unit (low-overhead format) into OBUs, each re-encoded without its
/// size field (as RTP carries them). Temporal delimiters and tile lists are dropped.
fn obus_for_rtp(tu: &[u8]) -> Result<(Vec<Vec<u8>>, bool)> {
    let mut out = Vec::new();
    let mut has_seq = false;
    let mut i = 0;
    while i < tu.len() {
        let h = *tu.get(i).ok_or(codec_err("AV1", "truncated OBU header"))?;
        let ext = h & 0x04 != 0;
        let has_size = h & 0x02 != 0;
        let hdr_len = if ext { 2 } else { 1 };
        let hdr = tu
            .get(i..i + hdr_len)
            .ok_or(codec_err("AV1", "truncated OBU extension header"))?;
        let (size, size_len) = if has_size {
            let (s, n) = read_leb128(tu.get(i + hdr_len..).unwrap_or(&[]))
                .ok_or(codec_err("AV1", "bad OBU size"))?;
            (
                usize::try_from(s).map_err(|_| codec_err("AV1", "bad OBU size"))?,
                n,
            )
        } else {
            (tu.len() - i - hdr_len, 0)
        };
        let start = i + hdr_len + size_len;
        let payload = tu
            .get(start..start.saturating_add(size))
            .ok_or(codec_err("AV1", "OBU size beyond the temporal unit"))?;
        let t = (h >> 3) & 0x0F;
        if t == obu_type::SEQUENCE_HEADER {
            has_seq = true;
        }
        if t != obu_type::TEMPORAL_DELIMITER && t != obu_type::TILE_LIST {
            let mut o = Vec::with_capacity(hdr_len + payload.len());
            o.push(h & !0x02);
            o.extend_from_slice(hdr.get(1..).unwrap_or(&[]));
            o.extend_from_slice(payload);
            out.push(o);
        }
        i = start + size;
    }
    Ok((out, has_seq))
}

/// AV1 packetizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Av1Packetizer;

impl Packetizer for Av1Packetizer {
    fn packetize(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>> {
        if mtu < 3 {
            return Err(codec_err("AV1", "MTU too small"));
        }
        let (obus, has_seq) = obus_for_rtp(frame)?;
        if obus.is_empty() {
            return Err(codec_err("AV1", "no OBU to send"));
        }
        // Each packet: a list of elements (bytes, whether it continues in the next packet).
        let mut packets: Vec<(bool, Vec<&[u8]>, bool)> = Vec::new(); // (Z, elements, Y)
        let mut cur: Vec<&[u8]> = Vec::new();
        let mut budget = mtu - 1;
        let mut z = false;
        for obu in &obus {
            let mut rest: &[u8] = obu;
            while !rest.is_empty() {
                let need = leb128_len(rest.len()) + rest.len();
                if need <= budget {
                    cur.push(rest);
                    budget -= need;
                    rest = &[];
                } else if budget >= 2 {
                    // Fragment: the largest n with leb128_len(n) + n <= budget.
                    let mut n = budget - 1;
                    while n > 0 && leb128_len(n) + n > budget {
                        n -= 1;
                    }
                    let (a, b) = rest.split_at(n.min(rest.len()));
                    cur.push(a);
                    packets.push((z, std::mem::take(&mut cur), true));
                    z = true;
                    budget = mtu - 1;
                    rest = b;
                } else {
                    packets.push((z, std::mem::take(&mut cur), false));
                    z = false;
                    budget = mtu - 1;
                }
            }
            // A whole OBU ended here: the next element does not continue it.
            if cur.is_empty() {
                z = false;
            }
        }
        if !cur.is_empty() {
            packets.push((z, cur, false));
        }
        let mut out = Vec::with_capacity(packets.len());
        for (k, (z, elems, y)) in packets.into_iter().enumerate() {
            let w = if elems.len() <= 3 {
                elems.len() as u8
            } else {
                0
            };
            let mut agg = (u8::from(z) << 7) | (u8::from(y) << 6) | (w << 4);
            if k == 0 && has_seq {
                agg |= 0x08; // N: first packet of a coded video sequence
            }
            let mut p = vec![agg];
            let last = elems.len().saturating_sub(1);
            for (i, e) in elems.iter().enumerate() {
                if !(w != 0 && i == last) {
                    write_leb128(e.len() as u64, &mut p);
                }
                p.extend_from_slice(e);
            }
            out.push(p);
        }
        Ok(out)
    }
}

/// AV1 depacketizer: outputs OBUs in the low-overhead format (with size fields).
#[derive(Debug, Clone, Default)]
pub struct Av1Depacketizer {
    partial: Vec<u8>,
    in_fragment: bool,
    /// Cap on one reassembled OBU (default 4 MiB when 0).
    pub max_obu_size: usize,
}

fn emit_obu(obu: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let (&h, _) = obu
        .split_first()
        .ok_or(codec_err("AV1", "empty OBU element"))?;
    if h & 0x80 != 0 {
        return Err(codec_err("AV1", "OBU forbidden bit set"));
    }
    if h & 0x02 != 0 {
        // Already has a size field: pass through.
        out.extend_from_slice(obu);
        return Ok(());
    }
    let hdr_len = if h & 0x04 != 0 { 2 } else { 1 };
    let hdr = obu
        .get(..hdr_len)
        .ok_or(codec_err("AV1", "truncated OBU extension header"))?;
    let payload = obu.get(hdr_len..).unwrap_or(&[]);
    out.push(h | 0x02);
    out.extend_from_slice(hdr.get(1..).unwrap_or(&[]));
    write_leb128(payload.len() as u64, out);
    out.extend_from_slice(payload);
    Ok(())
}

impl Depacketizer for Av1Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let (&agg, mut rest) = payload
            .split_first()
            .ok_or(codec_err("AV1", "empty payload"))?;
        let (z, y, w) = (agg & 0x80 != 0, agg & 0x40 != 0, (agg >> 4) & 0x03);
        if z && !self.in_fragment {
            self.partial.clear();
            return Err(codec_err(
                "AV1",
                "continuation (Z) without the start of the OBU",
            ));
        }
        if !z && self.in_fragment {
            // The rest of the previous OBU was lost.
            self.partial.clear();
            self.in_fragment = false;
            return Err(codec_err("AV1", "OBU fragment not continued (Z = 0)"));
        }
        let mut idx = 0usize;
        let cap = if self.max_obu_size == 0 {
            4 << 20
        } else {
            self.max_obu_size
        };
        while !rest.is_empty() {
            idx += 1;
            let elem: &[u8] = if w != 0 && idx == usize::from(w) {
                std::mem::take(&mut rest)
            } else {
                let (len, n) =
                    read_leb128(rest).ok_or(codec_err("AV1", "bad OBU element length"))?;
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                let e = rest
                    .get(n..n.saturating_add(len))
                    .ok_or(codec_err("AV1", "OBU element length beyond payload"))?;
                rest = rest.get(n + len..).unwrap_or(&[]);
                e
            };
            let first = idx == 1;
            let last = rest.is_empty();
            if first && z {
                if self.partial.len() + elem.len() > cap {
                    self.partial.clear();
                    self.in_fragment = false;
                    return Err(codec_err("AV1", "OBU larger than max_obu_size"));
                }
                self.partial.extend_from_slice(elem);
                if last && y {
                    return Ok(());
                }
                self.in_fragment = false;
                let obu = std::mem::take(&mut self.partial);
                emit_obu(&obu, out)?;
                continue;
            }
            if last && y {
                self.partial.clear();
                self.partial.extend_from_slice(elem);
                self.in_fragment = true;
                return Ok(());
            }
            emit_obu(elem, out)?;
        }
        if y {
            // Y set but no element to continue.
            return Err(codec_err("AV1", "Y set on a packet without elements"));
        }
        Ok(())
    }
    fn is_frame_start(&self, payload: &[u8]) -> Option<bool> {
        let b0 = payload.first()?;
        if b0 & 0x80 != 0 { Some(false) } else { None }
    }
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        payload.first().is_some_and(|b| b & 0x08 != 0)
    }
    fn reset(&mut self) {
        self.partial.clear();
        self.in_fragment = false;
    }
}
