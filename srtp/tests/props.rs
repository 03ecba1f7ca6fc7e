//! Property tests: round trips, bit flips, replay, ROC tracking across 65535 -> 0 with
//! reordering.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use sansrtc_srtp::{Config, Error, ProtectionProfile, Session};

fn profile() -> impl Strategy<Value = ProtectionProfile> {
    prop::sample::select(ProtectionProfile::ALL.to_vec())
}

fn config(p: ProtectionProfile, seed: u8) -> Config {
    let key: Vec<u8> = (0..p.master_key_len() as u8).map(|i| i ^ seed).collect();
    let salt: Vec<u8> = (0..p.master_salt_len() as u8)
        .map(|i| i.wrapping_mul(7) ^ seed)
        .collect();
    Config::new(p, &key, &salt).unwrap()
}

/// An RTP packet: CSRC count, optional extension of `ext` words, payload.
fn rtp_packet(seq: u16, ssrc: u32, csrcs: u8, ext: Option<u8>, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![
        0x80 | (csrcs & 0x0f) | if ext.is_some() { 0x10 } else { 0 },
        96,
    ];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for i in 0..(csrcs & 0x0f) {
        p.extend_from_slice(&u32::from(i).to_be_bytes());
    }
    if let Some(words) = ext {
        p.extend_from_slice(&[0xbe, 0xde, 0, words]);
        p.extend(std::iter::repeat_n(0x11, usize::from(words) * 4));
    }
    p.extend_from_slice(payload);
    p
}

fn rtcp_packet(ssrc: u32, body: &[u8]) -> Vec<u8> {
    let words = (4 + body.len()) / 4;
    let mut p = vec![0x80, 200];
    p.extend_from_slice(&(words as u16).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(body);
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rtp_roundtrip(p in profile(), seq: u16, ssrc: u32, csrcs in 0u8..16,
                     ext in prop::option::of(0u8..4),
                     payload in prop::collection::vec(any::<u8>(), 0..1400),
                     mki in prop::option::of(prop::collection::vec(any::<u8>(), 1..8))) {
        let mut cfg = config(p, 1);
        cfg.mki = mki;
        let mut tx = Session::new(cfg.clone()).unwrap();
        let mut rx = Session::new(cfg).unwrap();
        let plain = rtp_packet(seq, ssrc, csrcs, ext, &payload);
        let mut buf = plain.clone();
        tx.protect_rtp(&mut buf).unwrap();
        prop_assert_eq!(buf.len(), plain.len() + tx.rtp_overhead());
        // Header stays in the clear; payload is encrypted unless empty.
        let hl = plain.len() - payload.len();
        prop_assert_eq!(&buf[..hl], &plain[..hl]);
        rx.unprotect_rtp(&mut buf).unwrap();
        prop_assert_eq!(buf, plain);
    }

    #[test]
    fn rtcp_roundtrip(p in profile(), ssrc: u32,
                      body in prop::collection::vec(any::<u8>(), 0..600),
                      first_index in 0u32..0x7fff_0000,
                      mki in prop::option::of(prop::collection::vec(any::<u8>(), 1..8))) {
        let mut cfg = config(p, 2);
        cfg.mki = mki;
        cfg.initial_srtcp_index = first_index;
        let mut tx = Session::new(cfg.clone()).unwrap();
        let mut rx = Session::new(cfg).unwrap();
        for _ in 0..3 {
            let plain = rtcp_packet(ssrc, &body);
            let mut buf = plain.clone();
            tx.protect_rtcp(&mut buf).unwrap();
            prop_assert_eq!(buf.len(), plain.len() + tx.rtcp_overhead());
            let mut copy = buf.clone();
            rx.unprotect_rtcp(&mut buf).unwrap();
            prop_assert_eq!(buf, plain);
            // The same SRTCP packet again is a replay.
            let is_replay = matches!(rx.unprotect_rtcp(&mut copy), Err(Error::Replayed { .. }));
            prop_assert!(is_replay);
        }
    }

    #[test]
    fn any_single_bit_flip_fails(p in profile(), seq: u16, ssrc: u32,
                                 payload in prop::collection::vec(any::<u8>(), 0..1300),
                                 rtcp: bool, bit_seed: usize) {
        let cfg = config(p, 3);
        let mut tx = Session::new(cfg.clone()).unwrap();
        let mut rx = Session::new(cfg).unwrap();
        let mut buf = if rtcp { rtcp_packet(ssrc, &payload) } else { rtp_packet(seq, ssrc, 0, None, &payload) };
        if rtcp { tx.protect_rtcp(&mut buf).unwrap() } else { tx.protect_rtp(&mut buf).unwrap() }
        let bit = bit_seed % (buf.len() * 8);
        let mut bad = buf.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        let given = bad.clone();
        let r = if rtcp { rx.unprotect_rtcp(&mut bad) } else { rx.unprotect_rtp(&mut bad) };
        prop_assert!(r.is_err(), "bit {} of {} accepted", bit, buf.len());
        // AES-CM decrypts while it verifies, and must then put the ciphertext back: a failed
        // packet is left exactly as given.
        if !p.is_aead() {
            prop_assert_eq!(&bad, &given);
        }
        // The failure changed nothing: the genuine packet still goes through.
        prop_assert_eq!(rx.stream_count(), 0);
        let r = if rtcp { rx.unprotect_rtcp(&mut buf) } else { rx.unprotect_rtp(&mut buf) };
        prop_assert!(r.is_ok());
    }

    #[test]
    fn replays_are_rejected(p in profile(), start: u16, n in 1usize..40,
                            picks in prop::collection::vec(any::<prop::sample::Index>(), 1..10)) {
        let cfg = config(p, 4);
        let mut tx = Session::new(cfg.clone()).unwrap();
        let mut rx = Session::new(cfg).unwrap();
        let mut sent = Vec::new();
        for i in 0..n {
            let mut b = rtp_packet(start.wrapping_add(i as u16), 7, 0, None, b"payload");
            tx.protect_rtp(&mut b).unwrap();
            sent.push(b);
        }
        for b in &sent {
            let mut c = b.clone();
            rx.unprotect_rtp(&mut c).unwrap();
        }
        for pick in picks {
            let mut c = pick.get(&sent).clone();
            let r = rx.unprotect_rtp(&mut c);
            let refused = matches!(r, Err(Error::Replayed { .. }) | Err(Error::TooOld { .. }));
            prop_assert!(refused, "{:?}", r);
        }
    }

    /// Packets sent across 65535 -> 0 arrive shuffled within the window: every one is
    /// accepted exactly once with the right plaintext and the receiver's ROC follows.
    #[test]
    fn roc_survives_reordering_around_wrap(p in profile(), before in 1u16..200, n in 2usize..400,
                                           window in prop::sample::select(vec![64usize, 128, 1024]),
                                           swaps in prop::collection::vec((any::<prop::sample::Index>(), 0usize..32), 0..200),
                                           start_roc in 0u32..3) {
        let mut cfg = config(p, 5);
        cfg.replay_window = window;
        let mut tx = Session::new(cfg.clone()).unwrap();
        let mut rx = Session::new(cfg).unwrap();
        tx.set_roc(9, start_roc).unwrap();
        rx.set_roc(9, start_roc).unwrap();
        let start = 0u16.wrapping_sub(before);
        let mut sent = Vec::new();
        for i in 0..n {
            let seq = start.wrapping_add(i as u16);
            let plain = rtp_packet(seq, 9, 0, None, &(i as u32).to_be_bytes());
            let mut b = plain.clone();
            tx.protect_rtp(&mut b).unwrap();
            sent.push((plain, b));
        }
        // Local reordering: swap each picked packet with one at most 31 positions later,
        // but keep the first packet first (it anchors the receiver's ROC).
        for (idx, dist) in swaps {
            let i = idx.index(n - 1) + 1;
            let j = (i + dist).min(n - 1);
            sent.swap(i, j);
        }
        let mut highest_seen = 0usize;
        for (plain, b) in &sent {
            let mut c = b.clone();
            let r = rx.unprotect_rtp(&mut c);
            let i = u32::from_be_bytes(plain[12..16].try_into().unwrap()) as usize;
            if highest_seen > i && highest_seen - i >= window {
                prop_assert!(r.is_err());
            } else {
                prop_assert!(r.is_ok(), "packet {} (highest {}): {:?}", i, highest_seen, r);
                prop_assert_eq!(&c, plain);
            }
            highest_seen = highest_seen.max(i);
        }
        let wrapped = usize::from(before) < n;
        prop_assert_eq!(rx.rx_roc(9), Some(start_roc + u32::from(wrapped)));
        prop_assert_eq!(tx.tx_roc(9), rx.rx_roc(9));
    }

    #[test]
    fn unprotect_never_panics_and_random_never_passes(p in profile(), rtcp: bool,
                                                      data in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut rx = Session::new(config(p, 6)).unwrap();
        let mut d = data.clone();
        let r = if rtcp { rx.unprotect_rtcp(&mut d) } else { rx.unprotect_rtp(&mut d) };
        prop_assert!(r.is_err());
        prop_assert_eq!(rx.stream_count(), 0);
    }
}
