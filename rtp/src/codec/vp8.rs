//! VP8 (RFC 7741): payload descriptor with picture ID, partition start, keyframe detection.

use super::{Depacketizer, Packetizer, Payloads, codec_err};
use crate::error::Result;

/// A parsed VP8 payload descriptor (RFC 7741 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Vp8Descriptor {
    /// N: non-reference frame.
    pub non_reference: bool,
    /// S: start of a VP8 partition.
    pub start_of_partition: bool,
    /// PID: partition index.
    pub partition_id: u8,
    /// Picture ID (7 or 15 bits), if present.
    pub picture_id: Option<u16>,
    /// TL0PICIDX, if present.
    pub tl0_pic_idx: Option<u8>,
    /// TID, if present.
    pub tid: Option<u8>,
    /// Y (layer sync), meaningful with TID.
    pub layer_sync: bool,
    /// KEYIDX, if present.
    pub key_idx: Option<u8>,
    /// Descriptor length in octets.
    pub len: usize,
}

impl Vp8Descriptor {
    /// Parses the descriptor at the start of `payload`.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        let e = || codec_err("VP8", "truncated payload descriptor");
        let mut it = payload.iter().copied();
        let b0 = it.next().ok_or_else(e)?;
        let mut d = Vp8Descriptor {
            non_reference: b0 & 0x20 != 0,
            start_of_partition: b0 & 0x10 != 0,
            partition_id: b0 & 0x07,
            len: 1,
            ..Default::default()
        };
        if b0 & 0x80 != 0 {
            let x = it.next().ok_or_else(e)?;
            d.len += 1;
            if x & 0x80 != 0 {
                let p = it.next().ok_or_else(e)?;
                d.len += 1;
                if p & 0x80 != 0 {
                    let p2 = it.next().ok_or_else(e)?;
                    d.len += 1;
                    d.picture_id = Some((u16::from(p & 0x7F) << 8) | u16::from(p2));
                } else {
                    d.picture_id = Some(u16::from(p));
                }
            }
            if x & 0x40 != 0 {
                d.tl0_pic_idx = Some(it.next().ok_or_else(e)?);
                d.len += 1;
            }
            if x & 0x30 != 0 {
                let t = it.next().ok_or_else(e)?;
                d.len += 1;
                if x & 0x20 != 0 {
                    d.tid = Some(t >> 6);
                    d.layer_sync = t & 0x20 != 0;
                }
                if x & 0x10 != 0 {
                    d.key_idx = Some(t & 0x1F);
                }
            }
        }
        Ok(d)
    }
}

/// VP8 packetizer; writes a 15-bit picture ID when `picture_id` is `Some`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vp8Packetizer {
    /// Next picture ID (incremented per frame), or `None` for the 1-octet descriptor.
    pub picture_id: Option<u16>,
}

impl Vp8Packetizer {
    /// The payload descriptor (RFC 7741 section 4.2) and its length: X=1 with I=1 and a
    /// 15-bit picture ID when `picture_id` is set; S=1 on the first packet of the frame.
    #[inline]
    fn descriptor(&self, first: bool) -> ([u8; 4], usize) {
        let s = if first { 0x10 } else { 0 };
        match self.picture_id {
            Some(pid) => (
                [0x80 | s, 0x80, 0x80 | ((pid >> 8) as u8 & 0x7F), pid as u8],
                4,
            ),
            None => ([s, 0, 0, 0], 1),
        }
    }

    /// Payload data octets per packet for `mtu`.
    fn room(&self, frame: &[u8], mtu: usize) -> Result<usize> {
        if frame.is_empty() {
            return Err(codec_err("VP8", "empty frame"));
        }
        let hdr = if self.picture_id.is_some() { 4 } else { 1 };
        match mtu.saturating_sub(hdr) {
            0 => Err(codec_err("VP8", "MTU too small for the payload descriptor")),
            room => Ok(room),
        }
    }

    fn next_picture(&mut self) {
        if let Some(pid) = &mut self.picture_id {
            *pid = pid.wrapping_add(1) & 0x7FFF;
        }
    }

    /// Like [`Packetizer::packetize`], but writes the payloads into `out` (cleared first),
    /// one buffer reused across frames instead of one `Vec` per packet. Same payloads, same
    /// picture ID sequence.
    pub fn packetize_into(&mut self, frame: &[u8], mtu: usize, out: &mut Payloads) -> Result<()> {
        out.clear();
        let room = self.room(frame, mtu)?;
        let packets = frame.len().div_ceil(room);
        let (first, hdr) = self.descriptor(true);
        let (rest, _) = self.descriptor(false);
        out.reserve(packets, frame.len() + packets * hdr);
        for (i, chunk) in frame.chunks(room).enumerate() {
            let d = if i == 0 { &first } else { &rest };
            out.push(d.get(..hdr).unwrap_or_default(), chunk);
        }
        self.next_picture();
        Ok(())
    }
}

impl Packetizer for Vp8Packetizer {
    fn packetize(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>> {
        let room = self.room(frame, mtu)?;
        let (first, hdr) = self.descriptor(true);
        let (rest, _) = self.descriptor(false);
        let mut out = Vec::with_capacity(frame.len().div_ceil(room));
        for (i, chunk) in frame.chunks(room).enumerate() {
            let d = if i == 0 { &first } else { &rest };
            let mut p = Vec::with_capacity(hdr + chunk.len());
            p.extend_from_slice(d.get(..hdr).unwrap_or_default());
            p.extend_from_slice(chunk);
            out.push(p);
        }
        self.next_picture();
        Ok(out)
    }
}

/// VP8 depacketizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vp8Depacketizer;

impl Depacketizer for Vp8Depacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let d = Vp8Descriptor::parse(payload)?;
        let data = payload.get(d.len..).unwrap_or(&[]);
        if data.is_empty() {
            return Err(codec_err("VP8", "no data after the payload descriptor"));
        }
        out.extend_from_slice(data);
        Ok(())
    }
    fn is_frame_start(&self, payload: &[u8]) -> Option<bool> {
        let d = Vp8Descriptor::parse(payload).ok()?;
        Some(d.start_of_partition && d.partition_id == 0)
    }
    fn is_keyframe(&self, payload: &[u8]) -> bool {
        // RFC 7741 §4.3: the P bit of the VP8 payload header (first octet of partition 0)
        // is 0 for a key frame.
        match Vp8Descriptor::parse(payload) {
            Ok(d) if d.start_of_partition && d.partition_id == 0 => {
                payload.get(d.len).is_some_and(|b| b & 0x01 == 0)
            }
            _ => false,
        }
    }
}
