//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in this crate.
///
/// Faults of the peer (bytes from the network) are kept apart from misuse of the API by the
/// caller (buffer too small, attributes in the wrong order while encoding): the first group
/// maps to "drop the datagram" or to a STUN error response (RFC 8489 section 6.3), the second
/// is a bug in the calling code.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    // ---- peer faults: the bytes are not a valid STUN message (RFC 8489 section 5) ----
    /// Fewer bytes than a field needs.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The two most significant bits of the message are not zero (RFC 8489 section 5): the
    /// datagram is not STUN (RFC 7983 demultiplexing).
    NotStun {
        /// The first byte seen.
        first_byte: u8,
    },
    /// The magic cookie is not 0x2112A442 (RFC 8489 section 5; RFC 3489 messages are not
    /// supported).
    BadMagicCookie {
        /// The value found.
        found: u32,
    },
    /// The header's message length is not a multiple of 4 (RFC 8489 section 5).
    UnalignedLength {
        /// The header's length field.
        length: usize,
    },
    /// The header's message length disagrees with the number of bytes given.
    LengthMismatch {
        /// 20 + the header's length field.
        header: usize,
        /// The bytes actually given.
        actual: usize,
    },
    /// A message longer than the configured cap (stream framing, servers).
    MessageTooLong {
        /// The length announced or given.
        length: usize,
        /// The cap.
        max: usize,
    },
    /// An attribute's TLV runs past the end of the message (RFC 8489 section 14).
    AttributeOverrun {
        /// The attribute type.
        attr_type: u16,
        /// Offset of the attribute header in the message.
        offset: usize,
        /// Bytes the attribute (value and padding) needs.
        need: usize,
        /// Bytes left in the message.
        have: usize,
    },
    /// An attribute other than MESSAGE-INTEGRITY-SHA256 or FINGERPRINT follows
    /// MESSAGE-INTEGRITY, anything but FINGERPRINT follows MESSAGE-INTEGRITY-SHA256, or
    /// something follows FINGERPRINT (RFC 8489 sections 14.5, 14.6, 14.7).
    AttributeAfterIntegrity {
        /// The attribute type that is out of place.
        attr_type: u16,
        /// The attribute it follows (MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 or FINGERPRINT).
        after: u16,
    },
    /// An attribute value is malformed for its type.
    InvalidAttribute {
        /// The attribute type.
        attr_type: u16,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The message type field is invalid.
    InvalidMessageType {
        /// The raw 16-bit message type.
        value: u16,
    },
    /// FINGERPRINT does not match the CRC-32 of the message (RFC 8489 section 14.7).
    FingerprintMismatch {
        /// The value carried by the message.
        carried: u32,
        /// The value computed over the message.
        computed: u32,
    },
    /// The message has no FINGERPRINT attribute but one was required.
    MissingFingerprint,
    /// MESSAGE-INTEGRITY(-SHA256) does not match the key (RFC 8489 sections 14.5, 14.6).
    IntegrityMismatch {
        /// Which attribute failed (0x0008 or 0x001C).
        attr_type: u16,
    },
    /// The message carries neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256.
    MissingIntegrity,

    // ---- caller misuse (encoding) ----
    /// The output buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A value to encode is longer than its attribute allows.
    ValueTooLong {
        /// The attribute type.
        attr_type: u16,
        /// The length given.
        len: usize,
        /// The maximum length allowed.
        max: usize,
    },
    /// A value to encode is outside what its field can carry (for example an error code
    /// outside 300..=699, or a truncated SHA-256 length that is not 16..=32 in steps of 4).
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value given.
        value: u64,
    },
    /// The encoder was asked to add an attribute after MESSAGE-INTEGRITY(-SHA256) or
    /// FINGERPRINT, which would break the order rule of RFC 8489 section 14.
    EncodeAfterIntegrity {
        /// The attribute type the caller tried to add.
        attr_type: u16,
    },
    /// A transaction was started with bytes that are not a STUN request.
    NotARequest,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} bytes, have {have}")
            }
            Self::NotStun { first_byte } => write!(
                f,
                "not STUN: first byte {first_byte:#04x} has a non-zero top two bits"
            ),
            Self::BadMagicCookie { found } => {
                write!(f, "bad magic cookie {found:#010x} (expected 0x2112a442)")
            }
            Self::UnalignedLength { length } => {
                write!(f, "message length {length} is not a multiple of 4")
            }
            Self::LengthMismatch { header, actual } => write!(
                f,
                "header announces a {header}-byte message but {actual} bytes were given"
            ),
            Self::MessageTooLong { length, max } => {
                write!(f, "message of {length} bytes exceeds the cap of {max}")
            }
            Self::AttributeOverrun {
                attr_type,
                offset,
                need,
                have,
            } => write!(
                f,
                "attribute {attr_type:#06x} at offset {offset} needs {need} bytes, only {have} left"
            ),
            Self::AttributeAfterIntegrity { attr_type, after } => write!(
                f,
                "attribute {attr_type:#06x} is not allowed after attribute {after:#06x}"
            ),
            Self::InvalidAttribute { attr_type, reason } => {
                write!(f, "invalid attribute {attr_type:#06x}: {reason}")
            }
            Self::InvalidMessageType { value } => write!(f, "invalid message type {value:#06x}"),
            Self::FingerprintMismatch { carried, computed } => write!(
                f,
                "FINGERPRINT mismatch: message carries {carried:#010x}, computed {computed:#010x}"
            ),
            Self::MissingFingerprint => write!(f, "FINGERPRINT attribute missing"),
            Self::IntegrityMismatch { attr_type } => write!(
                f,
                "message integrity check failed ({})",
                if *attr_type == 0x001C {
                    "MESSAGE-INTEGRITY-SHA256"
                } else {
                    "MESSAGE-INTEGRITY"
                }
            ),
            Self::MissingIntegrity => write!(
                f,
                "neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256 present"
            ),
            Self::BufferTooSmall { need, have } => {
                write!(f, "output buffer too small: need {need} bytes, have {have}")
            }
            Self::ValueTooLong {
                attr_type,
                len,
                max,
            } => write!(
                f,
                "value of {len} bytes too long for attribute {attr_type:#06x} (max {max})"
            ),
            Self::InvalidValue { field, value } => write!(f, "invalid {field}: {value}"),
            Self::EncodeAfterIntegrity { attr_type } => write!(
                f,
                "cannot add attribute {attr_type:#06x} after MESSAGE-INTEGRITY or FINGERPRINT"
            ),
            Self::NotARequest => write!(f, "a client transaction needs a STUN request"),
        }
    }
}

impl std::error::Error for Error {}
