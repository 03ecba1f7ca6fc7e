//! Opus (RFC 7587): one Opus packet per RTP payload, no payload header.

use super::{Depacketizer, Packetizer, codec_err};
use crate::error::Result;

/// Opus packetizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpusPacketizer;

impl Packetizer for OpusPacketizer {
    fn packetize(&mut self, frame: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>> {
        if frame.is_empty() {
            return Err(codec_err("Opus", "empty frame"));
        }
        if frame.len() > mtu {
            // RFC 7587 §4.2: an Opus packet is never fragmented.
            return Err(codec_err(
                "Opus",
                "frame larger than the MTU (Opus is not fragmented)",
            ));
        }
        Ok(vec![frame.to_vec()])
    }
}

/// Opus depacketizer.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpusDepacketizer;

impl Depacketizer for OpusDepacketizer {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if payload.is_empty() {
            return Err(codec_err("Opus", "empty payload"));
        }
        out.extend_from_slice(payload);
        Ok(())
    }
    fn is_frame_start(&self, _payload: &[u8]) -> Option<bool> {
        Some(true)
    }
    fn is_keyframe(&self, _payload: &[u8]) -> bool {
        true
    }
}
