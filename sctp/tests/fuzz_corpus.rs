//! Replays the cargo-fuzz seed corpora in a plain `cargo test`.
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
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_file() {
            f(&std::fs::read(&p).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "empty corpus {}", dir.display());
}

#[test]
fn sctp_packet_corpus() {
    replay("sctp_packet", sansrtc_sctp::fuzzing::packet);
}

#[test]
fn sctp_association_corpus() {
    replay("sctp_association", sansrtc_sctp::fuzzing::association);
}
