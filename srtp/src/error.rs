//! The crate's single error type.

use core::fmt;

/// Everything that can go wrong when protecting or unprotecting a packet, or when building a
/// [`Session`](crate::Session).
///
/// Peer faults (a packet that is too short, fails authentication, or is a replay) are kept
/// apart from API misuse (bad key length, buffer too small).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The packet is shorter than its headers, MKI and authentication tag require.
    Truncated {
        /// Which part did not fit.
        what: &'static str,
        /// Octets needed.
        need: usize,
        /// Octets present.
        have: usize,
    },
    /// A header field has a value this crate cannot process (e.g. RTP version not 2).
    InvalidHeader {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u32,
    },
    /// The authentication tag (HMAC-SHA1 or the GCM tag) did not verify (RFC 3711 3.3 step 5,
    /// RFC 7714 8.2).
    AuthenticationFailed,
    /// The packet index was already received (RFC 3711 3.3.2).
    Replayed {
        /// The packet index (SRTP: ROC * 65536 + SEQ; SRTCP: the 31-bit index).
        index: u64,
    },
    /// The packet index is older than the replay window allows (RFC 3711 3.3.2).
    TooOld {
        /// The packet index.
        index: u64,
        /// The highest index received so far.
        highest: u64,
        /// The configured window size.
        window: usize,
    },
    /// The MKI carried by the packet is not the configured one (RFC 3711 3.1).
    UnknownMki,
    /// The protection profile name or id is not one this crate implements.
    UnknownProfile {
        /// The RFC 5764 profile id, if the profile was given by id.
        id: Option<u16>,
    },
    /// A new SSRC arrived while `Config::max_streams` contexts already exist.
    TooManyStreams {
        /// The configured cap.
        cap: usize,
    },
    /// A key, salt or keying-material input has the wrong length for the profile.
    InvalidKeyLength {
        /// Which input.
        what: &'static str,
        /// Octets the profile needs.
        need: usize,
        /// Octets given.
        have: usize,
    },
    /// The caller's buffer has no room for the trailer (tag, SRTCP index, MKI).
    BufferTooSmall {
        /// Octets needed in total.
        need: usize,
        /// Octets available.
        have: usize,
    },
    /// The 48-bit SRTP index or the 31-bit SRTCP index is exhausted: the session must be
    /// re-keyed (RFC 3711 9.2).
    IndexExhausted,
    /// A configuration value is out of range.
    InvalidConfig {
        /// The field.
        field: &'static str,
        /// Why it was refused.
        reason: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, need, have } => {
                write!(
                    f,
                    "packet too short: {what} needs {need} octets, have {have}"
                )
            }
            Error::InvalidHeader { field, value } => {
                write!(f, "invalid header field {field} = {value}")
            }
            Error::AuthenticationFailed => f.write_str("authentication failed"),
            Error::Replayed { index } => write!(f, "replayed packet (index {index})"),
            Error::TooOld {
                index,
                highest,
                window,
            } => write!(
                f,
                "packet too old for the replay window (index {index}, highest {highest}, window {window})"
            ),
            Error::UnknownMki => f.write_str("unknown MKI"),
            Error::UnknownProfile { id: Some(id) } => {
                write!(f, "unknown SRTP protection profile 0x{id:04x}")
            }
            Error::UnknownProfile { id: None } => f.write_str("unknown SRTP protection profile"),
            Error::TooManyStreams { cap } => {
                write!(f, "SSRC context cap reached ({cap} streams)")
            }
            Error::InvalidKeyLength { what, need, have } => {
                write!(f, "{what} must be {need} octets, got {have}")
            }
            Error::BufferTooSmall { need, have } => {
                write!(f, "buffer too small: need {need} octets, have {have}")
            }
            Error::IndexExhausted => {
                f.write_str("SRTP/SRTCP packet index exhausted: the session must be re-keyed")
            }
            Error::InvalidConfig { field, reason } => {
                write!(f, "invalid config {field}: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for `Result<T, Error>`.
pub type Result<T> = core::result::Result<T, Error>;
