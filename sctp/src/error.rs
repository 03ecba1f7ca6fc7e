//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in this crate: malformed input from the peer (the packet is
/// dropped and counted) and misuse of the API (returned to the caller).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A structure was shorter than its format requires.
    Truncated {
        /// What was being decoded.
        what: &'static str,
        /// Octets needed.
        need: usize,
        /// Octets available.
        have: usize,
    },
    /// A field held a value the protocol does not allow.
    InvalidField {
        /// Which field.
        field: &'static str,
        /// The value seen.
        value: u64,
    },
    /// The CRC32c of a packet did not match (RFC 9260 section 6.8).
    BadChecksum {
        /// Value carried in the packet.
        received: u32,
        /// Value computed over the packet.
        computed: u32,
    },
    /// The verification tag did not match the association (RFC 9260 section 8.5).
    BadVerificationTag {
        /// Tag carried in the packet.
        received: u32,
        /// Tag expected.
        expected: u32,
    },
    /// The output buffer is too small for what is being encoded.
    BufferTooSmall {
        /// Octets needed.
        need: usize,
        /// Octets available.
        have: usize,
    },
    /// A message is larger than `Config::max_message_size`.
    MessageTooLarge {
        /// Size of the message.
        size: usize,
        /// Configured maximum.
        max: usize,
    },
    /// The send buffer is full (`Config::max_send_buffer`); retry after `BufferedAmountLow`.
    SendBufferFull {
        /// Octets currently buffered.
        buffered: usize,
        /// Configured cap.
        cap: usize,
    },
    /// The association is not in a state that allows the operation.
    InvalidState {
        /// The operation attempted.
        op: &'static str,
    },
    /// A stream id outside the negotiated range or otherwise unusable.
    InvalidStream {
        /// The stream id.
        stream: u16,
    },
    /// Data channel error (DCEP, RFC 8832).
    DataChannel {
        /// What was wrong.
        what: &'static str,
    },
    /// Empty user message with a PPID that cannot carry an empty payload.
    EmptyMessage,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} octets, have {have}")
            }
            Error::InvalidField { field, value } => write!(f, "invalid {field}: {value}"),
            Error::BadChecksum { received, computed } => write!(
                f,
                "bad CRC32c checksum: packet carries {received:#010x}, computed {computed:#010x}"
            ),
            Error::BadVerificationTag { received, expected } => write!(
                f,
                "wrong verification tag {received:#010x}, expected {expected:#010x}"
            ),
            Error::BufferTooSmall { need, have } => {
                write!(
                    f,
                    "output buffer too small: need {need} octets, have {have}"
                )
            }
            Error::MessageTooLarge { size, max } => {
                write!(f, "message of {size} octets exceeds the maximum of {max}")
            }
            Error::SendBufferFull { buffered, cap } => {
                write!(f, "send buffer full: {buffered} octets buffered, cap {cap}")
            }
            Error::InvalidState { op } => write!(f, "{op} is not allowed in the current state"),
            Error::InvalidStream { stream } => write!(f, "invalid stream id {stream}"),
            Error::DataChannel { what } => write!(f, "data channel: {what}"),
            Error::EmptyMessage => write!(f, "empty message"),
        }
    }
}

impl std::error::Error for Error {}
