//! Replays the cargo-fuzz seed corpus of `peer_connection` in a plain `cargo test`, and checks
//! that the recorded transcript seed reaches a data channel message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/peer_connection")
}

#[test]
fn peer_connection_corpus() {
    let dir = corpus_dir();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_file() {
            sansrtc::fuzzing::peer_connection(&std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "empty corpus {}", dir.display());
}

#[test]
fn recorded_transcript_reaches_a_message() {
    let (input, got) = sansrtc::fuzzing::record_transcript();
    assert!(
        got,
        "the in-memory exchange did not deliver the peer's message"
    );
    assert!(input.len() > 1000, "transcript of {} bytes", input.len());
    // Set SANSRTC_WRITE_CORPUS=1 to refresh the seed file.
    if std::env::var_os("SANSRTC_WRITE_CORPUS").is_some() {
        std::fs::create_dir_all(corpus_dir()).unwrap();
        std::fs::write(corpus_dir().join("handshake_and_message"), &input).unwrap();
    }
    assert!(
        sansrtc::fuzzing::replay_reaches_message(&input),
        "replaying the transcript does not reach the message"
    );
    // The stored seed is the same recording (refresh it when the handshake changes).
    let stored = std::fs::read(corpus_dir().join("handshake_and_message")).unwrap();
    assert!(sansrtc::fuzzing::replay_reaches_message(&stored));
    // Truncated anywhere, it must still not panic.
    for cut in (0..input.len()).step_by(97) {
        sansrtc::fuzzing::peer_connection(&input[..cut]);
    }
}

#[test]
fn recorded_media_transcript_reaches_rtp() {
    let (input, got) = sansrtc::fuzzing::record_media_transcript();
    assert!(got, "the in-memory exchange did not deliver RTP and RTCP");
    assert_eq!(input[0], 2);
    if std::env::var_os("SANSRTC_WRITE_CORPUS").is_some() {
        std::fs::create_dir_all(corpus_dir()).unwrap();
        std::fs::write(corpus_dir().join("handshake_and_rtp"), &input).unwrap();
    }
    assert!(
        sansrtc::fuzzing::replay_reaches_message(&input),
        "replaying the media transcript does not reach RTP"
    );
    // The stored seed is the same recording.
    let stored = std::fs::read(corpus_dir().join("handshake_and_rtp")).unwrap();
    assert!(sansrtc::fuzzing::replay_reaches_message(&stored));
    for cut in (0..input.len()).step_by(97) {
        sansrtc::fuzzing::peer_connection(&input[..cut]);
    }
}
