//! Entry points for the cargo-fuzz targets in `../fuzz` (hidden; behind the `fuzzing`
//! feature). Each asserts an oracle, so a violation is a crash the fuzzer reports.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::{Config, ProtectionProfile, Session};

/// The fixed master key and salt the fuzz target (and its seed corpus) use: the RFC 3711
/// B.3 master key, and for the 256-bit profiles that key twice. AEAD profiles use the first
/// 12 octets of the salt.
pub const MASTER_KEY: [u8; 32] = [
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
];
/// See [`MASTER_KEY`].
pub const MASTER_SALT: [u8; 14] = [
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
];

/// The configuration for a profile with the fuzz keys.
pub fn config(profile: ProtectionProfile) -> Config {
    Config::new(
        profile,
        &MASTER_KEY[..profile.master_key_len()],
        &MASTER_SALT[..profile.master_salt_len()],
    )
    .unwrap()
}

/// Input layout: byte 0 selects the profile (`b & 7`, modulo 6), SRTCP (`b & 8`) and the
/// mode (`b & 16`); the rest is the packet.
///
/// - unprotect mode: the packet is unprotected by a fresh receiver. It must never panic, and
///   it may only succeed if it is exactly what a sender with the same keys produces for the
///   recovered plaintext (so random and mutated packets never pass); a second copy must then
///   be refused as a replay.
/// - round-trip mode: the packet is a plaintext RTP/RTCP packet; if protect accepts it,
///   unprotect must return it unchanged, and the protected packet with one bit flipped (bit
///   chosen by the input) must be refused.
pub fn unprotect(data: &[u8]) {
    let Some((&sel, pkt)) = data.split_first() else {
        return;
    };
    let profile = ProtectionProfile::ALL[usize::from(sel & 7) % ProtectionProfile::ALL.len()];
    let rtcp = sel & 8 != 0;
    if sel & 16 == 0 {
        unprotect_mode(profile, rtcp, pkt);
    } else {
        roundtrip_mode(profile, rtcp, pkt);
    }
}

fn unprotect_mode(profile: ProtectionProfile, rtcp: bool, pkt: &[u8]) {
    let mut rx = Session::new(config(profile)).unwrap();
    let mut buf = pkt.to_vec();
    let res = if rtcp {
        rx.unprotect_rtcp(&mut buf)
    } else {
        rx.unprotect_rtp(&mut buf)
    };
    if res.is_err() {
        assert_eq!(rx.stream_count(), 0, "a failed packet created a context");
        return;
    }
    // It authenticated: it must be genuine.
    let mut again = pkt.to_vec();
    let replay = if rtcp {
        rx.unprotect_rtcp(&mut again)
    } else {
        rx.unprotect_rtp(&mut again)
    };
    assert!(replay.is_err(), "replayed packet accepted");
    let mut cfg = config(profile);
    if rtcp {
        let tag = profile.rtcp_tag_len();
        let pos = if profile.is_aead() {
            pkt.len() - 4
        } else {
            pkt.len() - tag - 4
        };
        let word = u32::from_be_bytes(pkt[pos..pos + 4].try_into().unwrap());
        if word & 0x8000_0000 == 0 {
            // Authenticated-only SRTCP: our sender always encrypts, so no byte comparison.
            return;
        }
        cfg.initial_srtcp_index = word & 0x7fff_ffff;
    }
    let mut tx = Session::new(cfg).unwrap();
    let mut re = buf.clone();
    if rtcp {
        tx.protect_rtcp(&mut re).unwrap();
    } else {
        tx.protect_rtp(&mut re).unwrap();
    }
    assert_eq!(
        re, pkt,
        "a packet that is not the sender's output authenticated"
    );
}

fn roundtrip_mode(profile: ProtectionProfile, rtcp: bool, pkt: &[u8]) {
    let mut tx = Session::new(config(profile)).unwrap();
    let mut rx = Session::new(config(profile)).unwrap();
    let mut buf = pkt.to_vec();
    let ok = if rtcp {
        tx.protect_rtcp(&mut buf).is_ok()
    } else {
        tx.protect_rtp(&mut buf).is_ok()
    };
    if !ok {
        assert_eq!(buf, pkt, "a failed protect changed the packet");
        return;
    }
    let bit = pkt.iter().fold(0usize, |a, b| {
        a.wrapping_mul(31).wrapping_add(usize::from(*b))
    }) % (buf.len() * 8);
    let mut flipped = buf.clone();
    flipped[bit / 8] ^= 1 << (bit % 8);
    let res = if rtcp {
        rx.unprotect_rtcp(&mut flipped)
    } else {
        rx.unprotect_rtp(&mut flipped)
    };
    assert!(res.is_err(), "a packet with one bit flipped authenticated");
    let res = if rtcp {
        rx.unprotect_rtcp(&mut buf)
    } else {
        rx.unprotect_rtp(&mut buf)
    };
    res.unwrap();
    assert_eq!(buf, pkt, "round trip changed the packet");
}
