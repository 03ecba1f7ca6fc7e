//! Interop harness for sansrtc.
//!
//! The tests against real peers (an independent STUN client, coturn, OpenSSL's DTLS,
//! libsrtp, aiortc, headless Chromium) are driven by `interop/run.sh`, which installs the
//! peers, builds the `sansrtc` binary and the examples, and runs every scenario inside a
//! loopback-only network namespace. Helpers shared by the Rust-side drivers live here.
#![forbid(unsafe_code)]
