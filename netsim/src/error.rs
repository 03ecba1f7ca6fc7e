//! The crate's error type.

use std::fmt;

/// Everything that can go wrong in sansrtc-netsim. The simulator itself never fails on a
/// datagram (it drops and counts); errors come from configuration and the seed harness.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The `SANSRTC_SEED` environment variable is not a decimal or `0x` hex u64.
    InvalidSeed {
        /// The offending value.
        value: String,
    },
    /// A seeded run returned an error.
    SeedFailed {
        /// The seed that failed; replay it with `SANSRTC_SEED=<seed>`.
        seed: u64,
        /// What the run reported.
        message: String,
    },
    /// A subnet (`a.b.c.d/len`) could not be parsed or has a prefix too long for its family.
    InvalidSubnet {
        /// The offending text.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// [`Driver::run_until`](crate::Driver::run_until) hit its step bound.
    StepLimit {
        /// The bound.
        steps: u64,
        /// The network seed, to replay with `SANSRTC_SEED`.
        seed: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSeed { value } => write!(
                f,
                "invalid {}={value:?}: expected a decimal or 0x-prefixed hex u64",
                crate::seed::SEED_ENV
            ),
            Error::SeedFailed { seed, message } => write!(
                f,
                "seed={seed} failed: {message} (replay with {}={seed})",
                crate::seed::SEED_ENV
            ),
            Error::InvalidSubnet { value, reason } => {
                write!(f, "invalid subnet {value:?}: {reason}")
            }
            Error::StepLimit { steps, seed } => write!(
                f,
                "not done after {steps} steps (seed={seed}; replay with {}={seed})",
                crate::seed::SEED_ENV
            ),
        }
    }
}

impl std::error::Error for Error {}
