//! JSEP against real browser descriptions (captured from Chromium 156, copied from the sdp
//! crate's fixtures).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use sansrtc::{Config, PeerConnection, SignalingState};

const CHROME_OFFER: &str = include_str!("data/chrome_datachannel_offer.sdp");
const CHROME_ANSWER: &str = include_str!("data/chrome_answer_to_ours_datachannel.sdp");

#[test]
fn answers_a_chromium_offer() {
    let now = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), now).unwrap();
    pc.add_local_address(now, "127.0.0.1:40000".parse().unwrap())
        .unwrap();
    let answer = pc.create_answer(now, CHROME_OFFER).unwrap();
    assert!(answer.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
    assert!(answer.contains("a=setup:active"));
    assert!(answer.contains("a=group:BUNDLE 0"));
    assert!(answer.contains(" 127.0.0.1 40000 typ host"), "{answer}");
    assert!(answer.contains("a=end-of-candidates"));
    assert!(answer.contains(&format!("a=fingerprint:sha-256 {}", pc.fingerprint())));
    assert_eq!(pc.signaling_state(), SignalingState::Connected);
    // A second description is refused.
    assert!(pc.create_answer(now, CHROME_OFFER).is_err());
}

#[test]
fn applies_a_chromium_answer() {
    let now = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), now).unwrap();
    pc.add_local_address(now, "127.0.0.1:40000".parse().unwrap())
        .unwrap();
    assert!(
        pc.set_remote_answer(now, CHROME_ANSWER).is_err(),
        "answer before offer"
    );
    let _ = pc.create_offer(now).unwrap();
    assert_eq!(pc.signaling_state(), SignalingState::HaveLocalOffer);
    pc.set_remote_answer(now, CHROME_ANSWER).unwrap();
    assert_eq!(pc.signaling_state(), SignalingState::Connected);
    // ICE starts checking Chromium's candidate at once.
    pc.handle_timeout(now);
    let t = pc.poll_transmit().expect("a connectivity check");
    assert_eq!(t.payload[0], 0, "STUN Binding request");
}

#[test]
fn an_answer_with_actpass_is_refused() {
    let now = Instant::now();
    let mut pc = PeerConnection::new(Config::default(), now).unwrap();
    let _ = pc.create_offer(now).unwrap();
    let bad = CHROME_ANSWER.replace("a=setup:active", "a=setup:actpass");
    assert!(matches!(
        pc.set_remote_answer(now, &bad),
        Err(sansrtc::Error::InvalidField { .. })
    ));
}
