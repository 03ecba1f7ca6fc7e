//! Replays the cargo-fuzz seed corpus of `sdp_parse` (../fuzz/corpus/sdp_parse) through the
//! same oracle the fuzzer runs, in a plain `cargo test --all-features`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[test]
fn replay_sdp_parse_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/sdp_parse");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        sansrtc_sdp::fuzzing::sdp_parse(&data);
        n += 1;
    }
    assert!(n >= 10, "corpus has only {n} files");
}
