//! Replays the seed corpus of the `srtp_unprotect` fuzz target through the same function.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[test]
fn replay_srtp_unprotect_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/srtp_unprotect");
    let mut n = 0;
    let mut genuine = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        sansrtc_srtp::fuzzing::unprotect(&data);
        n += 1;
        if data.len() > 1 && data[0] & 16 == 0 {
            genuine += 1;
        }
    }
    assert!(n >= 30, "corpus has {n} files");
    assert!(genuine >= 18, "protected seeds: {genuine}");
}
