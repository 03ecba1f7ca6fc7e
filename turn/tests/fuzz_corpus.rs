//! Replays the seed corpus of the `turn_server` fuzz target in a plain `cargo test`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

#[test]
fn replay_turn_server_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/turn_server");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        sansrtc_turn::fuzzing::turn_server(&data);
        n += 1;
    }
    assert!(n > 0, "the corpus in {dir} is empty");
}
