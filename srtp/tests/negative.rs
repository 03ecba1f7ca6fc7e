//! Negative and state tests: every error kind, and failures never changing state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::hex;
use sansrtc_srtp::{Config, Error, MAX_REPLAY_WINDOW, ProtectionProfile, Session, is_rtcp};

const KEY: &str = "e1f97a0d3e018be0d64fa32c06de4139";
const SALT: &str = "0ec675ad498afeebb6960b3aabe6";

fn cfg() -> Config {
    Config::new(
        ProtectionProfile::Aes128CmHmacSha1_80,
        &hex(KEY),
        &hex(SALT),
    )
    .unwrap()
}

fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0x0f];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0xde, 0xca, 0xfb, 0xad]);
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0xab; 16]);
    p
}

fn protected(tx: &mut Session, seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = rtp(seq, ssrc);
    tx.protect_rtp(&mut p).unwrap();
    p
}

#[test]
fn too_short_packets() {
    let mut rx = Session::new(cfg()).unwrap();
    for len in 0..12 {
        let mut p = vec![0x80; len];
        assert!(
            matches!(rx.unprotect_rtp(&mut p), Err(Error::Truncated { .. })),
            "len {len}"
        );
    }
    // Header complete but no room for the 10-octet tag.
    let mut p = rtp(1, 1)[..12 + 9].to_vec();
    assert_eq!(
        rx.unprotect_rtp(&mut p),
        Err(Error::Truncated {
            what: "SRTP packet",
            need: 22,
            have: 21
        })
    );
    // CSRC count says 15 CSRCs.
    let mut p = rtp(1, 1);
    p[0] |= 0x0f;
    assert!(matches!(
        rx.unprotect_rtp(&mut p),
        Err(Error::Truncated {
            what: "RTP header",
            ..
        })
    ));
    // Extension header announced but missing.
    let mut p = rtp(1, 1)[..12].to_vec();
    p[0] |= 0x10;
    assert!(matches!(
        rx.unprotect_rtp(&mut p),
        Err(Error::Truncated { .. })
    ));
    // SRTCP shorter than header + index + tag.
    let mut p = hex("80c80006cafebabe80000001");
    assert!(matches!(
        rx.unprotect_rtcp(&mut p),
        Err(Error::Truncated { .. })
    ));
    assert_eq!(rx.stats().other_errors, 16);
}

#[test]
fn bad_version() {
    let mut rx = Session::new(cfg()).unwrap();
    let mut p = rtp(1, 1);
    p[0] = 0x40;
    p.extend_from_slice(&[0; 10]);
    assert_eq!(
        rx.unprotect_rtp(&mut p),
        Err(Error::InvalidHeader {
            field: "RTP version",
            value: 1
        })
    );
    let mut tx = Session::new(cfg()).unwrap();
    let mut p = rtp(1, 1);
    p[0] = 0x00;
    let before = p.clone();
    assert!(tx.protect_rtp(&mut p).is_err());
    assert_eq!(p, before, "failed protect leaves the packet as it was");
}

#[test]
fn auth_failure_changes_nothing() {
    let mut tx = Session::new(cfg()).unwrap();
    let mut rx = Session::new(cfg()).unwrap();
    let mut p = protected(&mut tx, 100, 5);
    rx.unprotect_rtp(&mut p).unwrap();
    // A forged packet far ahead (would bump the ROC if it were accepted).
    let mut forged = rtp(30_000, 5);
    forged.extend_from_slice(&[0u8; 10]);
    let copy = forged.clone();
    assert_eq!(
        rx.unprotect_rtp(&mut forged),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(forged, copy, "AES-CM verifies before decrypting");
    assert_eq!(rx.rx_roc(5), Some(0));
    // A genuine packet with the same index as the forged one is still accepted later,
    // and so is the next packet in order.
    let mut p = protected(&mut tx, 101, 5);
    rx.unprotect_rtp(&mut p).unwrap();
    assert_eq!(rx.stats().auth_failures, 1);
    assert_eq!(rx.stats().rtp_unprotected, 2);
}

#[test]
fn failed_packet_from_new_ssrc_creates_no_context() {
    let mut rx = Session::new(cfg()).unwrap();
    let mut forged = rtp(1, 77);
    forged.extend_from_slice(&[0u8; 10]);
    assert!(rx.unprotect_rtp(&mut forged).is_err());
    assert_eq!(rx.stream_count(), 0);
}

#[test]
fn replayed_and_too_old() {
    let mut tx = Session::new(cfg()).unwrap();
    let mut rx = Session::new(cfg()).unwrap();
    let first = protected(&mut tx, 1000, 5);
    let mut p = first.clone();
    rx.unprotect_rtp(&mut p).unwrap();
    let mut p = first.clone();
    assert_eq!(
        rx.unprotect_rtp(&mut p),
        Err(Error::Replayed { index: 1000 })
    );
    let mut ahead = protected(&mut tx, 1064, 5);
    rx.unprotect_rtp(&mut ahead).unwrap();
    let mut old = protected(&mut tx, 1000, 5);
    assert_eq!(
        rx.unprotect_rtp(&mut old),
        Err(Error::TooOld {
            index: 1000,
            highest: 1064,
            window: 64
        })
    );
    let mut inside = protected(&mut tx, 1001, 5);
    rx.unprotect_rtp(&mut inside).unwrap();
    assert_eq!(rx.stats().replays, 2);
}

#[test]
fn large_replay_window_for_video() {
    let mut c = cfg();
    c.replay_window = 1024;
    let mut tx = Session::new(c.clone()).unwrap();
    let mut rx = Session::new(c).unwrap();
    let pkts: Vec<_> = (0..1100u16).map(|s| protected(&mut tx, s, 5)).collect();
    // Deliver 1023 .. 1099 first, then the late ones down to the window edge.
    for p in &pkts[1023..] {
        rx.unprotect_rtp(&mut p.clone()).unwrap();
    }
    for (i, p) in pkts.iter().enumerate().take(1023).skip(76) {
        assert!(rx.unprotect_rtp(&mut p.clone()).is_ok(), "{i}");
    }
    assert!(matches!(
        rx.unprotect_rtp(&mut pkts[75].clone()),
        Err(Error::TooOld { .. })
    ));
    let mut c = cfg();
    c.replay_window = MAX_REPLAY_WINDOW + 1;
    assert!(matches!(Session::new(c), Err(Error::InvalidConfig { .. })));
    let mut c = cfg();
    c.replay_window = 0;
    assert!(Session::new(c).is_err());
}

#[test]
fn ssrc_context_cap() {
    let mut c = cfg();
    c.max_streams = 2;
    let mut tx = Session::new(cfg()).unwrap();
    let mut rx = Session::new(c.clone()).unwrap();
    for ssrc in 1..=2 {
        rx.unprotect_rtp(&mut protected(&mut tx, 1, ssrc)).unwrap();
    }
    assert_eq!(
        rx.unprotect_rtp(&mut protected(&mut tx, 1, 3)),
        Err(Error::TooManyStreams { cap: 2 })
    );
    // Known SSRCs keep working.
    rx.unprotect_rtp(&mut protected(&mut tx, 2, 1)).unwrap();
    let mut small_tx = Session::new(c).unwrap();
    small_tx.protect_rtp(&mut rtp(1, 1)).unwrap();
    small_tx.protect_rtp(&mut rtp(1, 2)).unwrap();
    assert_eq!(
        small_tx.protect_rtp(&mut rtp(1, 3)),
        Err(Error::TooManyStreams { cap: 2 })
    );
}

#[test]
fn wrong_mki_and_wrong_key() {
    let mut c = cfg();
    c.mki = Some(vec![1, 2, 3, 4]);
    let mut tx = Session::new(c.clone()).unwrap();
    let mut p = protected(&mut tx, 1, 1);
    assert_eq!(&p[28..32], &[1, 2, 3, 4]);
    let mut other = c.clone();
    other.mki = Some(vec![1, 2, 3, 5]);
    let mut rx = Session::new(other).unwrap();
    assert_eq!(rx.unprotect_rtp(&mut p.clone()), Err(Error::UnknownMki));
    let mut rx = Session::new(c).unwrap();
    rx.unprotect_rtp(&mut p).unwrap();
    assert_eq!(p, rtp(1, 1));

    let other_key = Config::new(
        ProtectionProfile::Aes128CmHmacSha1_80,
        &[0u8; 16],
        &hex(SALT),
    )
    .unwrap();
    let mut tx = Session::new(cfg()).unwrap();
    let mut rx = Session::new(other_key).unwrap();
    assert_eq!(
        rx.unprotect_rtp(&mut protected(&mut tx, 1, 1)),
        Err(Error::AuthenticationFailed)
    );
}

#[test]
fn profiles_and_keys() {
    for p in ProtectionProfile::ALL {
        assert_eq!(p.name().parse::<ProtectionProfile>().unwrap(), p);
        if let Some(id) = p.id() {
            assert_eq!(ProtectionProfile::from_id(id).unwrap(), p);
        }
    }
    assert_eq!(
        "aes_cm_128_hmac_sha1_32"
            .parse::<ProtectionProfile>()
            .unwrap(),
        ProtectionProfile::Aes128CmHmacSha1_32
    );
    assert_eq!(
        "SRTP_NULL_HMAC_SHA1_80".parse::<ProtectionProfile>(),
        Err(Error::UnknownProfile { id: None })
    );
    assert_eq!(
        ProtectionProfile::from_id(0x0003),
        Err(Error::UnknownProfile { id: Some(3) })
    );
    assert_eq!(
        Config::new(ProtectionProfile::AeadAes128Gcm, &[0; 16], &[0; 14]).err(),
        Some(Error::InvalidKeyLength {
            what: "master salt",
            need: 12,
            have: 14
        })
    );
    assert!(Config::new(ProtectionProfile::Aes256CmHmacSha1_80, &[0; 16], &[0; 14]).is_err());
    assert!(Config::from_key_salt(ProtectionProfile::Aes128CmHmacSha1_80, &[0; 30]).is_ok());
    assert!(Config::from_key_salt(ProtectionProfile::Aes128CmHmacSha1_80, &[0; 29]).is_err());
    // Key material never shows in Debug.
    let dbg = format!("{:?}", cfg());
    assert!(!dbg.contains("e1") && !dbg.contains("225"), "{dbg}");
}

#[test]
fn error_display_names_the_problem() {
    let e = Error::Truncated {
        what: "SRTP packet",
        need: 22,
        have: 21,
    };
    assert_eq!(
        e.to_string(),
        "packet too short: SRTP packet needs 22 octets, have 21"
    );
    assert_eq!(
        Error::AuthenticationFailed.to_string(),
        "authentication failed"
    );
    assert_eq!(
        Error::Replayed { index: 7 }.to_string(),
        "replayed packet (index 7)"
    );
    assert!(Error::TooManyStreams { cap: 3 }.to_string().contains("cap"));
}

#[test]
fn buffer_too_small_for_in_place() {
    let mut tx = Session::new(cfg()).unwrap();
    let mut buf = rtp(1, 1);
    let len = buf.len();
    assert_eq!(
        tx.protect_rtp_in_place(&mut buf, len),
        Err(Error::BufferTooSmall {
            need: len + 10,
            have: len
        })
    );
    buf.resize(len + 10, 0);
    assert_eq!(tx.protect_rtp_in_place(&mut buf, len), Ok(len + 10));
}

#[test]
fn protect_does_not_reallocate_with_spare_capacity() {
    let mut tx = Session::new(cfg()).unwrap();
    let mut rx = Session::new(cfg()).unwrap();
    let mut buf = Vec::with_capacity(1500);
    buf.extend_from_slice(&rtp(1, 1));
    let ptr = buf.as_ptr();
    tx.protect_rtp(&mut buf).unwrap();
    rx.unprotect_rtp(&mut buf).unwrap();
    assert_eq!(buf.as_ptr(), ptr);
}

#[test]
fn srtcp_sequence_and_sender_roc() {
    let mut tx = Session::new(cfg()).unwrap();
    let mut rx = Session::new(cfg()).unwrap();
    let plain = hex("80c80006cafebabe83ab03a1eb02b800decafbad0000006400001f40");
    for expected in 0u32..3 {
        let mut p = plain.clone();
        tx.protect_rtcp(&mut p).unwrap();
        let word = u32::from_be_bytes(p[p.len() - 14..p.len() - 10].try_into().unwrap());
        assert_eq!(word, 0x8000_0000 | expected, "RFC 3711 default starts at 0");
        rx.unprotect_rtcp(&mut p).unwrap();
        assert_eq!(p, plain);
    }
    // Sender ROC: 65535 -> 0 increments it, a retransmission of 65535 keeps the old ROC.
    tx.protect_rtp(&mut rtp(65535, 9)).unwrap();
    tx.protect_rtp(&mut rtp(0, 9)).unwrap();
    assert_eq!(tx.tx_roc(9), Some(1));
    tx.protect_rtp(&mut rtp(65535, 9)).unwrap();
    assert_eq!(tx.tx_roc(9), Some(1));
}

#[test]
fn rfc5761_demux() {
    assert!(is_rtcp(&hex("80c8")));
    assert!(is_rtcp(&hex("81cd")));
    assert!(!is_rtcp(&hex("8060")));
    assert!(!is_rtcp(&hex("80e0")));
    assert!(!is_rtcp(&[]));
}
