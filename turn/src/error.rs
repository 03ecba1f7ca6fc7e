//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in this crate.
///
/// Peer faults (malformed bytes from the network) are kept apart from caller mistakes
/// (buffer too small, invalid configuration).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Fewer bytes than a field needs.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A ChannelData channel number outside 0x4000..=0x4FFF (RFC 8656 section 12).
    InvalidChannelNumber {
        /// The number found.
        number: u16,
    },
    /// A field holds a value that is not allowed.
    InvalidField {
        /// The field.
        field: &'static str,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A caller-provided buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The STUN layer rejected a message.
    Stun(sansrtc_stun::Error),
    /// A configuration value is invalid.
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A command was issued in a state that does not allow it (e.g. `send` before the
    /// allocation exists).
    InvalidState {
        /// What was attempted.
        what: &'static str,
    },
    /// A bounded table or queue is full.
    CapacityExceeded {
        /// Which one.
        what: &'static str,
        /// Its cap.
        cap: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} bytes, have {have}")
            }
            Self::InvalidChannelNumber { number } => write!(
                f,
                "channel number {number:#06x} is outside 0x4000..=0x4FFF (RFC 8656 section 12)"
            ),
            Self::InvalidField { field, reason } => write!(f, "invalid {field}: {reason}"),
            Self::BufferTooSmall { need, have } => {
                write!(f, "buffer too small: need {need} bytes, have {have}")
            }
            Self::Stun(e) => write!(f, "STUN: {e}"),
            Self::InvalidConfig { field, reason } => {
                write!(f, "invalid configuration {field}: {reason}")
            }
            Self::InvalidState { what } => write!(f, "not allowed in the current state: {what}"),
            Self::CapacityExceeded { what, cap } => write!(f, "{what} is full (cap {cap})"),
        }
    }
}

impl std::error::Error for Error {}

impl From<sansrtc_stun::Error> for Error {
    fn from(e: sansrtc_stun::Error) -> Self {
        Self::Stun(e)
    }
}
