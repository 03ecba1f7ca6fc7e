//! The crate's single error type.

use core::fmt;

/// Everything that can go wrong while parsing or building RTP/RTCP, or (de)packetizing media.
///
/// Peer faults (malformed input) and API misuse (a buffer too small, a value out of range)
/// are kept apart so that callers can count the former and fix the latter.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The input ended before a field that must be there.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Octets needed.
        need: usize,
        /// Octets available.
        have: usize,
    },
    /// A field holds a value the protocol does not allow.
    InvalidField {
        /// Which field.
        field: &'static str,
        /// The value found (widened).
        value: u64,
    },
    /// A length field points beyond the data that contains it.
    BadLength {
        /// Which length field.
        what: &'static str,
        /// The length it claims, in octets.
        claimed: usize,
        /// The octets that are really there.
        available: usize,
    },
    /// A hostile-input limit was hit (e.g. too many items in a list).
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// The output buffer given to an `emit` is too small.
    BufferTooSmall {
        /// Octets needed.
        need: usize,
        /// Octets available.
        have: usize,
    },
    /// A value given to a builder cannot be encoded.
    Unencodable {
        /// What cannot be encoded, and why.
        what: &'static str,
    },
    /// A codec payload is malformed.
    Codec {
        /// Which codec.
        codec: &'static str,
        /// What was wrong.
        what: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} octets, have {have}")
            }
            Error::InvalidField { field, value } => write!(f, "invalid {field}: {value}"),
            Error::BadLength {
                what,
                claimed,
                available,
            } => write!(
                f,
                "bad {what}: claims {claimed} octets but only {available} are available"
            ),
            Error::LimitExceeded { what, limit } => {
                write!(f, "limit exceeded: {what} (limit {limit})")
            }
            Error::BufferTooSmall { need, have } => {
                write!(
                    f,
                    "output buffer too small: need {need} octets, have {have}"
                )
            }
            Error::Unencodable { what } => write!(f, "cannot encode: {what}"),
            Error::Codec { codec, what } => write!(f, "malformed {codec} payload: {what}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for `Result<T, Error>`.
pub type Result<T> = core::result::Result<T, Error>;

pub(crate) fn truncated(what: &'static str, need: usize, have: usize) -> Error {
    Error::Truncated { what, need, have }
}

pub(crate) fn check_out(out: &[u8], need: usize) -> Result<()> {
    if out.len() < need {
        Err(Error::BufferTooSmall {
            need,
            have: out.len(),
        })
    } else {
        Ok(())
    }
}
