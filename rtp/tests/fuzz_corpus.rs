//! Replays the cargo-fuzz seed corpora (../fuzz/corpus/<target>) through the same entry
//! points the fuzz targets call, so a plain `cargo test --all-features` catches regressions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            f(&std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "corpus {target} is empty");
}

#[test]
fn rtp_parse_corpus() {
    replay("rtp_parse", sansrtc_rtp::fuzzing::rtp_parse);
}

#[test]
fn rtcp_parse_corpus() {
    replay("rtcp_parse", sansrtc_rtp::fuzzing::rtcp_parse);
}

#[test]
fn rtp_depacketize_corpus() {
    replay("rtp_depacketize", sansrtc_rtp::fuzzing::rtp_depacketize);
}
