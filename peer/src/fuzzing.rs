//! Fuzzing entry points (not a public API).
