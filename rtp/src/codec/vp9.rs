//! VP9 (RFC 9628): payload descriptor in flexible and non-flexible mode, scalability
//! structure, keyframe detection.

use super::{Depacketizer, Packetizer, codec_err};
use crate::error::Result;

/// A parsed VP9 payload descriptor (RFC 9628 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vp9Descriptor {
    /// P: inter-picture predicted frame.
    pub inter_predicted: bool,
    /// F: flexible mode.
    pub flexible: bool,
    /// B: start of a frame.
    pub begin: bool,
    /// E: end of a frame.
    pub end: bool,
    /// Z: not used for inter-layer prediction of a higher layer.
    pub not_reference_for_upper: bool,
    /// Picture ID (7 or 15 bits), if I is set.
    pub picture_id: Option<u16>,
    /// (TID, U, SID, D) if L is set.
    pub layer: Option<(u8, bool, u8, bool)>,
    /// TL0PICIDX (non-flexible mode with L).
    pub tl0_pic_idx: Option<u8>,
    /// Reference index differences (flexible mode with P), up to 3.
    pub p_diffs: Vec<u8>,
    /// Scalability structure, if V is set: (width, height) per spatial layer when Y is
    /// set, and the picture group (TID, U, P_DIFFs) when G is set.
    pub ss: Option<ScalabilityStructure>,
    /// Descriptor length in octets.
    pub len: usize,
}

/// The scalability structure (RFC 9628 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScalabilityStructure {
    /// Number of spatial layers (N_S + 1).
    pub spatial_layers: u8,
    /// Resolutions, if Y is set.
    pub resolutions: Vec<(u16, u16)>,
    /// Picture group descriptions (TID, U, P_DIFFs), if G is set.
    pub pictures: Vec<(u8, bool, Vec<u8>)>,
}

struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Cur<'_> {
    fn u8(&mut self) -> Result<u8> {
        let v = self
            .b
            .get(self.pos)
            .copied()
            .ok_or(codec_err("VP9", "truncated payload descriptor"))?;
        self.pos += 1;
        Ok(v)
    }
    fn u16(&mut self) -> Result<u16> {
        Ok((u16::from(self.u8()?) << 8) | u16::from(self.u8()?))
    }
}

impl Vp9Descriptor {
    /// Parses the descriptor at the start of `payload`.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let mut c = Cur { b: payload, pos: 0 };
        let b0 = c.u8()?;
        let (i, p, l, f, v) = (
            b0 & 0x80 != 0,
            b0 & 0x40 != 0,
            b0 & 0x20 != 0,
            b0 & 0x10 != 0,
            b0 & 0x02 != 0,
        );
        let mut d = Vp9Descriptor {
            inter_predicted: p,
            flexible: f,
            begin: b0 & 0x08 != 0,
            end: b0 & 0x04 != 0,
            not_reference_for_upper: b0 & 0x01 != 0,
            ..Default::default()
        };
        if i {
            let a = c.u8()?;
            d.picture_id = Some(if a & 0x80 != 0 {
                (u16::from(a & 0x7F) << 8) | u16::from(c.u8()?)
            } else {
                u16::from(a)
            });
        }
        if l {
            let x = c.u8()?;
            d.layer = Some((x >> 5, x & 0x10 != 0, (x >> 1) & 0x07, x & 0x01 != 0));
            if !f {
                d.tl0_pic_idx = Some(c.u8()?);
            }
        }
        if f && p {
            loop {
                let x = c.u8()?;
                d.p_diffs.push(x >> 1);
                if x & 0x01 == 0 {
                    break;
                }
                if d.p_diffs.len() == 3 {
                    return Err(codec_err("VP9", "more than 3 reference indices"));
                }
            }
        }
        if v {
            let x = c.u8()?;
            let n_s = (x >> 5) + 1;
            let mut ss = ScalabilityStructure {
                spatial_layers: n_s,
                ..Default::default()
            };
            if x & 0x10 != 0 {
                for _ in 0..n_s {
                    ss.resolutions.push((c.u16()?, c.u16()?));
                }
            }
            if x & 0x08 != 0 {
                let n_g = c.u8()?;
                for _ in 0..n_g {
                    let y = c.u8()?;
                    let r = (y >> 2) & 0x03;
                    let mut diffs = Vec::with_capacity(usize::from(r));
                    for _ in 0..r {
                        diffs.push(c.u8()?);
                    }
                    ss.pictures.push((y >> 5, y & 0x10 != 0, diffs));
                }
            }
            d.ss = Some(ss);
        }
        d.len = c.pos;
        Ok(d)
    }
}

/// Whether a VP9 frame (the uncompressed header, VP9 bitstream spec §6.2) is a key frame.
pub fn is_vp9_keyframe(frame: &[u8]) -> bool {
    let Some(&b) = frame.first() else {
        return false;
    };
    if b >> 6 != 0b10 {
        return false;
    }
    let profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
    // Bits after the 4 marker/profile bits; profile 3 has one reserved zero bit more.
    let shift = if profile == 3 { 2 } else { 3 };
    let show_existing = (b >> shift) & 1;
    let frame_type = (b >> (shift - 1)) & 1;
    show_existing == 0 && frame_type == 0
}

/// VP9 packetizer: one spatial layer, 15-bit picture ID, flexible or non-flexible mode.
#[derive(Debug, Clone, Copy)]
pub struct Vp9Packetizer {
    /// Next picture ID (15 bits).
    pub picture_id: u16,
    /// Flexible mode (F = 1, P_DIFF = 1 on inter frames) instead of non-flexible.
    pub flexible: bool,
}

impl Default for Vp9Packetizer {
    fn default() -> Self {
        Vp9Packetizer {
            picture_id: 0,
            flexible: true,
        }
    }
}

impl Packetizer for Vp9Packetizer {
    fn packetize(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>> {
        if frame.is_empty() {
            return Err(codec_err("VP9", "empty frame"));
        }
        let key = is_vp9_keyframe(frame);
        let pid = self.picture_id;
        self.picture_id = pid.wrapping_add(1) & 0x7FFF;
        let build = |begin: bool, end: bool| -> Vec<u8> {
            let mut h = Vec::with_capacity(5);
            let mut b0 = 0x80u8; // I
            if !key {
                b0 |= 0x40; // P
            }
            if self.flexible {
                b0 |= 0x10;
            }
            if begin {
                b0 |= 0x08;
            }
            if end {
                b0 |= 0x04;
            }
            if begin && key {
                b0 |= 0x02; // V: scalability structure with the keyframe
            }
            h.push(b0);
            h.push(0x80 | ((pid >> 8) as u8 & 0x7F));
            h.push(pid as u8);
            if self.flexible && !key {
                h.push(1 << 1); // P_DIFF = 1, N = 0
            }
            if begin && key {
                h.push(0x00); // N_S = 0 (one layer), Y = 0, G = 0
            }
            h
        };
        let max_hdr = build(true, true).len();
        let room = mtu.saturating_sub(max_hdr);
        if room == 0 {
            return Err(codec_err("VP9", "MTU too small for the payload descriptor"));
        }
        let n = frame.len().div_ceil(room);
        let mut out = Vec::with_capacity(n);
        for (i, chunk) in frame.chunks(room).enumerate() {
            let mut p = build(i == 0, i + 1 == n);
            p.extend_from_slice(chunk);
            out.push(p);
        }
        Ok(out)
    }
}

/// VP9 depacketizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vp9Depacketizer;

impl Depacketizer for Vp9Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let d = Vp9Descriptor::parse(payload)?;
        let data = payload.get(d.len..).unwrap_or(&[]);
        if data.is_empty() {
            return Err(codec_err("VP9", "no data after the payload descriptor"));
        }
        out.extend_from_slice(data);
        Ok(())
    }
    fn is_frame_start(&self, payload: &[u8]) -> Option<bool> {
        let b0 = payload.first()?;
        Some(b0 & 0x08 != 0)
    }
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        // RFC 9628 §4.2: P = 0 on the first packet of the base spatial layer.
        match Vp9Descriptor::parse(payload) {
            Ok(d) => d.begin && !d.inter_predicted && d.layer.is_none_or(|(_, _, sid, _)| sid == 0),
            Err(_) => false,
        }
    }
}
