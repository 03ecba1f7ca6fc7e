//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in this crate.
///
/// Malformed datagrams from the network are never errors: they are counted in
/// [`Stats`](crate::Stats) and dropped. Errors are for bad signaling input (candidate lines,
/// credentials) and for commands the agent cannot carry out.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A candidate line field does not follow RFC 8839 section 5.1.
    InvalidCandidate {
        /// The grammar element that was wrong.
        field: &'static str,
        /// The offending text (cut to 64 characters).
        value: String,
    },
    /// Input longer than the cap.
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// ICE credentials outside RFC 8839 section 5.4 (ufrag 4-256, pwd 22-256 `ice-char`s;
    /// this agent accepts 1-256 characters without `:` or whitespace for compatibility).
    InvalidCredentials {
        /// `"ufrag"` or `"pwd"`.
        what: &'static str,
    },
    /// The remote candidate's address is a host name (an mDNS `.local` name from a browser):
    /// resolve it and add the candidate again with [`Candidate::with_ip`](crate::Candidate::with_ip).
    UnresolvedAddress {
        /// The name to resolve.
        hostname: String,
    },
    /// The candidate is for another component or transport than this agent handles.
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// A table is full (the cap is in [`Config`](crate::Config)).
    CapacityExceeded {
        /// Which table.
        what: &'static str,
        /// Its cap.
        cap: usize,
    },
    /// No candidate pair is selected yet, so there is no path to send on.
    NoSelectedPair,
    /// Consent expired (RFC 7675 section 5.1): sending is forbidden until an ICE restart.
    ConsentExpired,
    /// The agent was closed.
    Closed,
    /// Encoding a STUN message failed (a bug or an oversized credential).
    Stun(sansrtc_stun::Error),
    /// The TURN client refused a command.
    Turn(sansrtc_turn::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidCandidate { field, value } => {
                write!(f, "invalid candidate {field}: {value:?}")
            }
            Self::TooLong { what, len, max } => write!(f, "{what} too long: {len} > {max}"),
            Self::InvalidCredentials { what } => write!(f, "invalid ICE {what}"),
            Self::UnresolvedAddress { hostname } => {
                write!(
                    f,
                    "candidate address {hostname:?} must be resolved by the caller"
                )
            }
            Self::Unsupported { what } => write!(f, "unsupported: {what}"),
            Self::CapacityExceeded { what, cap } => write!(f, "too many {what} (cap {cap})"),
            Self::NoSelectedPair => f.write_str("no selected candidate pair"),
            Self::ConsentExpired => f.write_str("consent expired (RFC 7675)"),
            Self::Closed => f.write_str("agent closed"),
            Self::Stun(e) => write!(f, "STUN: {e}"),
            Self::Turn(e) => write!(f, "TURN: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<sansrtc_stun::Error> for Error {
    fn from(e: sansrtc_stun::Error) -> Self {
        Self::Stun(e)
    }
}

impl From<sansrtc_turn::Error> for Error {
    fn from(e: sansrtc_turn::Error) -> Self {
        Self::Turn(e)
    }
}
