//! The crate's error type.

use core::fmt;

/// What went wrong in a [`PeerConnection`](crate::PeerConnection) call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A JSEP call came in the wrong signaling state (RFC 8829 section 3.2).
    WrongState {
        /// The call.
        call: &'static str,
        /// The state it needs.
        need: &'static str,
    },
    /// The remote description lacks something WebRTC requires.
    MissingField {
        /// What is missing (`a=ice-ufrag`, `a=fingerprint sha-256`, ...).
        what: &'static str,
    },
    /// The remote description has an unusable value.
    InvalidField {
        /// The field.
        field: &'static str,
        /// The offending value (truncated).
        value: String,
    },
    /// The SDP crate refused the text.
    Sdp(String),
    /// The ICE agent refused a call.
    Ice(String),
    /// DTLS setup failed (certificate, configuration).
    Dtls(String),
    /// The SCTP / data channel layer refused a call.
    Sctp(String),
    /// The data channel transport (SCTP over DTLS) is not up yet.
    NotConnected,
    /// A queue reached its cap from [`Config`](crate::Config).
    QueueFull {
        /// The queue.
        what: &'static str,
        /// Its cap.
        cap: usize,
    },
    /// The connection was closed.
    Closed,
    /// No transceiver has this mid.
    UnknownMid,
    /// SRTP keying or protection failed.
    Srtp(String),
    /// An RTP/RTCP packet could not be written.
    Rtp(String),
    /// A data channel message is larger than the peer's `a=max-message-size` (RFC 8841
    /// section 6): the peer could not receive it.
    MessageTooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The peer's limit.
        max: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::WrongState { call, need } => write!(f, "{call} needs signaling state {need}"),
            Error::MissingField { what } => write!(f, "remote description has no {what}"),
            Error::InvalidField { field, value } => write!(f, "invalid {field}: {value:?}"),
            Error::Sdp(e) => write!(f, "SDP: {e}"),
            Error::Ice(e) => write!(f, "ICE: {e}"),
            Error::Dtls(e) => write!(f, "DTLS: {e}"),
            Error::Sctp(e) => write!(f, "SCTP: {e}"),
            Error::NotConnected => f.write_str("the SCTP association is not established"),
            Error::QueueFull { what, cap } => write!(f, "{what} is full (cap {cap})"),
            Error::Closed => f.write_str("the peer connection is closed"),
            Error::UnknownMid => f.write_str("no transceiver has this mid"),
            Error::MessageTooLarge { size, max } => write!(
                f,
                "message of {size} bytes exceeds the peer's max-message-size {max}"
            ),
            Error::Srtp(e) => write!(f, "SRTP: {e}"),
            Error::Rtp(e) => write!(f, "RTP: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<sansrtc_sdp::Error> for Error {
    fn from(e: sansrtc_sdp::Error) -> Self {
        Error::Sdp(e.to_string())
    }
}

impl From<sansrtc_ice::Error> for Error {
    fn from(e: sansrtc_ice::Error) -> Self {
        Error::Ice(e.to_string())
    }
}

impl From<sansrtc_dtls::Error> for Error {
    fn from(e: sansrtc_dtls::Error) -> Self {
        Error::Dtls(e.to_string())
    }
}

impl From<sansrtc_sctp::Error> for Error {
    fn from(e: sansrtc_sctp::Error) -> Self {
        Error::Sctp(e.to_string())
    }
}
