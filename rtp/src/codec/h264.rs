//! H.264 (RFC 6184), packetization-mode 1: single NAL unit packets, STAP-A aggregation,
//! FU-A fragmentation; SPS/PPS handling. Frames are Annex B byte streams (start codes).

use super::{Depacketizer, Packetizer, codec_err};
use crate::error::Result;

/// NAL unit types used here (ITU-T H.264 Table 7-1, RFC 6184 §5.2).
pub mod nal_type {
    /// Coded slice of an IDR picture.
    pub const IDR: u8 = 5;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
    /// Single-time aggregation packet A.
    pub const STAP_A: u8 = 24;
    /// Fragmentation unit A.
    pub const FU_A: u8 = 28;
}

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// Splits an Annex B byte stream into NAL units (start codes of 3 or 4 octets).
pub fn split_annex_b(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    // A start code 00 00 01 cannot begin at i, i+1 or i+2 when the octet at i+2 is above 1,
    // so most of the stream is skipped three octets at a time.
    while let Some(&c) = stream.get(i + 2) {
        if c > 1 {
            i += 3;
        } else if c == 1 && stream.get(i) == Some(&0) && stream.get(i + 1) == Some(&0) {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&n| n - 3);
        // Trailing zeros belong to the next 4-octet start code (or are trailing_zero_8bits).
        while end > s && stream.get(end - 1) == Some(&0) {
            end -= 1;
        }
        if let Some(nal) = stream.get(s..end) {
            if !nal.is_empty() {
                nals.push(nal);
            }
        }
    }
    nals
}

fn nal_kind(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1F)
}

/// H.264 packetizer (packetization-mode 1). Remembers the last SPS/PPS and inserts them in
/// front of an IDR that comes without them, so that every keyframe is decodable.
#[derive(Debug, Clone, Default)]
pub struct H264Packetizer {
    sps: Option<Vec<u8>>,
    pps: Option<Vec<u8>>,
    /// Do not aggregate NAL units into STAP-A (send each alone or fragmented).
    pub disable_stap_a: bool,
}

impl Packetizer for H264Packetizer {
    fn packetize(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>> {
        if mtu < 3 {
            return Err(codec_err("H.264", "MTU too small for FU-A"));
        }
        let nals = split_annex_b(frame);
        if nals.is_empty() {
            return Err(codec_err(
                "H.264",
                "no NAL unit in frame (Annex B start codes expected)",
            ));
        }
        let has = |t: u8| nals.iter().any(|n| nal_kind(n) == t);
        let mut list: Vec<&[u8]> = Vec::with_capacity(nals.len() + 2);
        let (sps_here, pps_here) = (has(nal_type::SPS), has(nal_type::PPS));
        let sps_saved = self.sps.clone();
        let pps_saved = self.pps.clone();
        if has(nal_type::IDR) {
            if !sps_here {
                if let Some(s) = &sps_saved {
                    list.push(s);
                }
            }
            if !pps_here {
                if let Some(p) = &pps_saved {
                    list.push(p);
                }
            }
        }
        for n in &nals {
            match nal_kind(n) {
                nal_type::SPS => self.sps = Some(n.to_vec()),
                nal_type::PPS => self.pps = Some(n.to_vec()),
                nal_type::AUD => continue, // RFC 6184 §5.3: not needed on RTP
                _ => {}
            }
            list.push(n);
        }
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut stap: Vec<&[u8]> = Vec::new();
        let flush = |stap: &mut Vec<&[u8]>, out: &mut Vec<Vec<u8>>| {
            match stap.len() {
                0 => {}
                1 => out.push(stap.first().map(|n| n.to_vec()).unwrap_or_default()),
                _ => {
                    let nri = stap.iter().map(|n| n.first().map_or(0, |b| b & 0x60)).max();
                    let f = stap.iter().map(|n| n.first().map_or(0, |b| b & 0x80)).max();
                    let mut p = vec![f.unwrap_or(0) | nri.unwrap_or(0) | nal_type::STAP_A];
                    for n in stap.iter() {
                        p.extend_from_slice(&(n.len() as u16).to_be_bytes());
                        p.extend_from_slice(n);
                    }
                    out.push(p);
                }
            }
            stap.clear();
        };
        let mut stap_len = 1usize;
        for nal in list {
            if nal.len() > mtu {
                flush(&mut stap, &mut out);
                stap_len = 1;
                // FU-A (RFC 6184 §5.8).
                let (&hdr, body) = nal
                    .split_first()
                    .ok_or(codec_err("H.264", "empty NAL unit"))?;
                let room = mtu - 2;
                let n = body.len().div_ceil(room);
                for (i, chunk) in body.chunks(room).enumerate() {
                    let mut p = Vec::with_capacity(2 + chunk.len());
                    p.push((hdr & 0xE0) | nal_type::FU_A);
                    let mut fu = hdr & 0x1F;
                    if i == 0 {
                        fu |= 0x80;
                    }
                    if i + 1 == n {
                        fu |= 0x40;
                    }
                    p.push(fu);
                    p.extend_from_slice(chunk);
                    out.push(p);
                }
                continue;
            }
            if self.disable_stap_a {
                out.push(nal.to_vec());
                continue;
            }
            let add = 2 + nal.len();
            let single = stap.is_empty();
            if !single && stap_len + add > mtu {
                flush(&mut stap, &mut out);
                stap_len = 1;
            }
            stap.push(nal);
            stap_len += add;
        }
        flush(&mut stap, &mut out);
        Ok(out)
    }
}

/// H.264 depacketizer: outputs an Annex B byte stream with 4-octet start codes.
#[derive(Debug, Clone, Default)]
pub struct H264Depacketizer {
    in_fu: bool,
    seen_sps: bool,
    seen_pps: bool,
    /// Cap on a single reassembled FU-A NAL unit (default 4 MiB when 0).
    pub max_nal_size: usize,
    fu_len: usize,
}

impl H264Depacketizer {
    fn note(&mut self, t: u8) {
        match t {
            nal_type::SPS => self.seen_sps = true,
            nal_type::PPS => self.seen_pps = true,
            _ => {}
        }
    }
    fn cap(&self) -> usize {
        if self.max_nal_size == 0 {
            4 << 20
        } else {
            self.max_nal_size
        }
    }
}

/// Whether `payload` contains an IDR slice (single NAL, STAP-A or FU-A).
fn payload_has_idr(payload: &[u8]) -> bool {
    let Some(&b0) = payload.first() else {
        return false;
    };
    match b0 & 0x1F {
        nal_type::STAP_A => {
            let mut i = 1;
            while let (Some(&a), Some(&b)) = (payload.get(i), payload.get(i + 1)) {
                let len = usize::from(u16::from_be_bytes([a, b]));
                if payload
                    .get(i + 2)
                    .is_some_and(|h| h & 0x1F == nal_type::IDR)
                {
                    return true;
                }
                i += 2 + len;
            }
            false
        }
        nal_type::FU_A => payload.get(1).is_some_and(|h| h & 0x1F == nal_type::IDR),
        t => t == nal_type::IDR,
    }
}

impl Depacketizer for H264Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let (&b0, rest) = payload
            .split_first()
            .ok_or(codec_err("H.264", "empty payload"))?;
        if b0 & 0x80 != 0 {
            return Err(codec_err("H.264", "forbidden_zero_bit set"));
        }
        match b0 & 0x1F {
            0 | 30 | 31 => Err(codec_err("H.264", "reserved NAL unit type")),
            nal_type::STAP_A => {
                self.in_fu = false;
                let mut i = 0;
                let mut any = false;
                while i < rest.len() {
                    let (Some(&a), Some(&b)) = (rest.get(i), rest.get(i + 1)) else {
                        return Err(codec_err("H.264", "truncated STAP-A NAL size"));
                    };
                    let len = usize::from(u16::from_be_bytes([a, b]));
                    let nal = rest
                        .get(i + 2..i + 2 + len)
                        .filter(|n| !n.is_empty())
                        .ok_or(codec_err("H.264", "STAP-A NAL size beyond payload"))?;
                    self.note(nal_kind(nal));
                    out.extend_from_slice(&START_CODE);
                    out.extend_from_slice(nal);
                    any = true;
                    i += 2 + len;
                }
                if any {
                    Ok(())
                } else {
                    Err(codec_err("H.264", "empty STAP-A"))
                }
            }
            nal_type::FU_A => {
                let (&fu, data) = rest
                    .split_first()
                    .ok_or(codec_err("H.264", "truncated FU header"))?;
                let (start, end) = (fu & 0x80 != 0, fu & 0x40 != 0);
                if start {
                    if start && end {
                        return Err(codec_err("H.264", "FU-A with both S and E set"));
                    }
                    self.in_fu = true;
                    self.fu_len = 1;
                    self.note(fu & 0x1F);
                    out.extend_from_slice(&START_CODE);
                    out.push((b0 & 0xE0) | (fu & 0x1F));
                } else if !self.in_fu {
                    return Err(codec_err("H.264", "FU-A continuation without a start"));
                }
                self.fu_len += data.len();
                if self.fu_len > self.cap() {
                    self.in_fu = false;
                    return Err(codec_err("H.264", "FU-A NAL unit larger than max_nal_size"));
                }
                out.extend_from_slice(data);
                if end {
                    self.in_fu = false;
                }
                Ok(())
            }
            25..=29 => Err(codec_err(
                "H.264",
                "STAP-B/MTAP/FU-B need packetization-mode 2",
            )),
            t => {
                self.in_fu = false;
                self.note(t);
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(payload);
                Ok(())
            }
        }
    }
    fn is_frame_start(&self, payload: &[u8]) -> Option<bool> {
        let b0 = payload.first()?;
        if b0 & 0x1F == nal_type::FU_A && payload.get(1).is_some_and(|h| h & 0x80 == 0) {
            return Some(false);
        }
        None
    }
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        payload_has_idr(payload)
    }
    fn reset(&mut self) {
        self.in_fu = false;
        self.fu_len = 0;
    }
    fn keyframe_ready(&self) -> bool {
        self.seen_sps && self.seen_pps
    }
}
