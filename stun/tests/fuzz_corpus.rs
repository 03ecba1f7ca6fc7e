//! Replays the seed corpus of the `stun_decode` fuzz target (../fuzz/corpus/stun_decode)
//! through the same oracle cargo-fuzz runs, on stable.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[test]
fn replay_stun_decode_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/stun_decode");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("corpus directory") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        sansrtc_stun::fuzzing::decode(&data);
        n += 1;
    }
    assert!(n >= 8, "corpus has only {n} files");
}
