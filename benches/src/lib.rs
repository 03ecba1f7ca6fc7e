//! Cross-stack benchmarks live in `benches/benches/`: each compares a sansrtc crate with
//! another stack on the same input in the same `cargo bench` run. Their heavy dependencies
//! stay here so that the protocol crates do not carry them.
//!
//! Run one with `cargo bench -p sansrtc-benches --bench NAME`.
