//! Replays the `ice_agent` fuzz corpus (../fuzz/corpus/ice_agent) in a plain `cargo test`.

#[test]
fn replay_ice_agent_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/ice_agent");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        sansrtc_ice::fuzzing::agent(&data);
        n += 1;
    }
    assert!(n > 0, "empty corpus in {dir}");
}
