//! The `sansrtc` binary.
fn main() {}
