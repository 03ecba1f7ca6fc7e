//! The crate's one error type, and the TLS alert codes it maps to (RFC 5246 §7.2).

use core::fmt;

/// TLS alert descriptions used by this crate (RFC 5246 §7.2, RFC 5746 §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlertDescription {
    /// close_notify (0).
    CloseNotify,
    /// unexpected_message (10).
    UnexpectedMessage,
    /// bad_record_mac (20).
    BadRecordMac,
    /// record_overflow (22).
    RecordOverflow,
    /// handshake_failure (40).
    HandshakeFailure,
    /// bad_certificate (42).
    BadCertificate,
    /// unsupported_certificate (43).
    UnsupportedCertificate,
    /// certificate_unknown (46).
    CertificateUnknown,
    /// illegal_parameter (47).
    IllegalParameter,
    /// decode_error (50).
    DecodeError,
    /// decrypt_error (51).
    DecryptError,
    /// protocol_version (70).
    ProtocolVersion,
    /// insufficient_security (71).
    InsufficientSecurity,
    /// internal_error (80).
    InternalError,
    /// no_renegotiation (100).
    NoRenegotiation,
    /// unsupported_extension (110).
    UnsupportedExtension,
    /// Any other code.
    Other(u8),
}

impl AlertDescription {
    /// The wire code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::CloseNotify => 0,
            Self::UnexpectedMessage => 10,
            Self::BadRecordMac => 20,
            Self::RecordOverflow => 22,
            Self::HandshakeFailure => 40,
            Self::BadCertificate => 42,
            Self::UnsupportedCertificate => 43,
            Self::CertificateUnknown => 46,
            Self::IllegalParameter => 47,
            Self::DecodeError => 50,
            Self::DecryptError => 51,
            Self::ProtocolVersion => 70,
            Self::InsufficientSecurity => 71,
            Self::InternalError => 80,
            Self::NoRenegotiation => 100,
            Self::UnsupportedExtension => 110,
            Self::Other(c) => c,
        }
    }

    /// From the wire code.
    #[must_use]
    pub fn from_code(c: u8) -> Self {
        match c {
            0 => Self::CloseNotify,
            10 => Self::UnexpectedMessage,
            20 => Self::BadRecordMac,
            22 => Self::RecordOverflow,
            40 => Self::HandshakeFailure,
            42 => Self::BadCertificate,
            43 => Self::UnsupportedCertificate,
            46 => Self::CertificateUnknown,
            47 => Self::IllegalParameter,
            50 => Self::DecodeError,
            51 => Self::DecryptError,
            70 => Self::ProtocolVersion,
            71 => Self::InsufficientSecurity,
            80 => Self::InternalError,
            100 => Self::NoRenegotiation,
            110 => Self::UnsupportedExtension,
            c => Self::Other(c),
        }
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::CloseNotify => "close_notify",
            Self::UnexpectedMessage => "unexpected_message",
            Self::BadRecordMac => "bad_record_mac",
            Self::RecordOverflow => "record_overflow",
            Self::HandshakeFailure => "handshake_failure",
            Self::BadCertificate => "bad_certificate",
            Self::UnsupportedCertificate => "unsupported_certificate",
            Self::CertificateUnknown => "certificate_unknown",
            Self::IllegalParameter => "illegal_parameter",
            Self::DecodeError => "decode_error",
            Self::DecryptError => "decrypt_error",
            Self::ProtocolVersion => "protocol_version",
            Self::InsufficientSecurity => "insufficient_security",
            Self::InternalError => "internal_error",
            Self::NoRenegotiation => "no_renegotiation",
            Self::UnsupportedExtension => "unsupported_extension",
            Self::Other(c) => return write!(f, "alert({c})"),
        };
        f.write_str(name)
    }
}

/// Everything that can go wrong in this crate.
///
/// Errors about one datagram are returned by `handle_receive` and counted in
/// [`crate::Stats`]; the connection goes on. Fatal ones also close the connection
/// (see [`crate::Event::Closed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A structure was shorter than its header or length prefix says.
    Truncated {
        /// What was being decoded.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// A field held a value that is not allowed there.
    InvalidField {
        /// The field.
        field: &'static str,
        /// The offending value.
        value: u64,
    },
    /// Trailing bytes after a structure that must be consumed exactly.
    TrailingBytes {
        /// What was being decoded.
        what: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
    /// An extension appeared twice in one hello (RFC 5246 §7.4.1.4).
    DuplicateExtension(u16),
    /// A handshake fragment is inconsistent: zero length, out of the message's bounds,
    /// a different total length than earlier fragments, or overlapping data that differs.
    BadFragment(&'static str),
    /// A handshake message claims a length above the configured cap.
    MessageTooLarge {
        /// Claimed length.
        len: usize,
        /// Configured cap ([`crate::Config::max_handshake_message_len`]).
        cap: usize,
    },
    /// Reassembly buffers are full (caps in [`crate::Config`]).
    ReassemblyFull,
    /// A record came from an epoch we do not expect now.
    UnexpectedEpoch {
        /// The record's epoch.
        got: u16,
        /// The epoch we read now.
        expected: u16,
    },
    /// A handshake message arrived that is not allowed in the current state.
    UnexpectedMessage {
        /// The handshake type or content type received.
        got: &'static str,
        /// The state we were in.
        state: &'static str,
    },
    /// A record failed authentication (AEAD open failed).
    BadRecordMac,
    /// A record was replayed (RFC 6347 §4.1.2.6).
    Replay,
    /// The peer's Finished verify_data did not match.
    BadFinished,
    /// A signature (ServerKeyExchange or CertificateVerify) did not verify.
    BadSignature(&'static str),
    /// The peer's certificate does not match any expected fingerprint.
    FingerprintMismatch,
    /// The peer's certificate could not be parsed or uses an unsupported key.
    BadCertificate(&'static str),
    /// The peer sent no certificate although one is required.
    NoCertificate,
    /// No cipher suite, group, signature scheme or version in common.
    NoCommonParameters(&'static str),
    /// The peer does not support extended master secret and it is required (RFC 7627).
    ExtendedMasterSecretRequired,
    /// The peer tried to renegotiate, which this implementation refuses (RFC 5746).
    Renegotiation,
    /// The peer sent a fatal alert.
    PeerAlert(AlertDescription),
    /// The peer closed with close_notify.
    PeerClosed,
    /// The handshake did not finish within the retransmission budget.
    HandshakeTimeout,
    /// A crypto primitive failed (bad key, unsupported by the backend, ...).
    Crypto(&'static str),
    /// The API was used wrongly (e.g. sending before connected).
    InvalidState(&'static str),
    /// The connection is closed.
    Closed,
    /// Our own configuration is unusable.
    Config(&'static str),
}

impl Error {
    /// The alert this error is reported to the peer with, when it is fatal.
    #[must_use]
    pub fn alert(&self) -> AlertDescription {
        match self {
            Self::Truncated { .. } | Self::TrailingBytes { .. } | Self::BadFragment(_) => {
                AlertDescription::DecodeError
            }
            Self::InvalidField { .. } | Self::DuplicateExtension(_) => {
                AlertDescription::IllegalParameter
            }
            Self::MessageTooLarge { .. } | Self::ReassemblyFull => AlertDescription::RecordOverflow,
            Self::UnexpectedEpoch { .. } | Self::UnexpectedMessage { .. } => {
                AlertDescription::UnexpectedMessage
            }
            Self::BadRecordMac | Self::Replay => AlertDescription::BadRecordMac,
            Self::BadFinished | Self::BadSignature(_) => AlertDescription::DecryptError,
            Self::FingerprintMismatch | Self::BadCertificate(_) | Self::NoCertificate => {
                AlertDescription::BadCertificate
            }
            Self::NoCommonParameters(_) | Self::ExtendedMasterSecretRequired => {
                AlertDescription::HandshakeFailure
            }
            Self::Renegotiation => AlertDescription::NoRenegotiation,
            Self::PeerAlert(a) => *a,
            Self::PeerClosed => AlertDescription::CloseNotify,
            _ => AlertDescription::InternalError,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { what, need, have } => {
                write!(f, "truncated {what}: need {need} bytes, have {have}")
            }
            Self::InvalidField { field, value } => write!(f, "invalid {field}: {value:#x}"),
            Self::TrailingBytes { what, extra } => {
                write!(f, "{extra} unexpected trailing bytes after {what}")
            }
            Self::DuplicateExtension(t) => write!(f, "extension {t:#06x} appears twice"),
            Self::BadFragment(why) => write!(f, "bad handshake fragment: {why}"),
            Self::MessageTooLarge { len, cap } => {
                write!(
                    f,
                    "handshake message of {len} bytes exceeds the cap of {cap}"
                )
            }
            Self::ReassemblyFull => f.write_str("handshake reassembly buffers are full"),
            Self::UnexpectedEpoch { got, expected } => {
                write!(f, "record from epoch {got}, expected epoch {expected}")
            }
            Self::UnexpectedMessage { got, state } => {
                write!(f, "unexpected {got} in state {state}")
            }
            Self::BadRecordMac => f.write_str("record failed authentication"),
            Self::Replay => f.write_str("replayed record"),
            Self::BadFinished => f.write_str("peer Finished verify_data does not match"),
            Self::BadSignature(what) => write!(f, "{what} signature does not verify"),
            Self::FingerprintMismatch => {
                f.write_str("peer certificate does not match the expected fingerprint")
            }
            Self::BadCertificate(why) => write!(f, "bad peer certificate: {why}"),
            Self::NoCertificate => f.write_str("peer sent no certificate"),
            Self::NoCommonParameters(what) => write!(f, "no {what} in common with the peer"),
            Self::ExtendedMasterSecretRequired => {
                f.write_str("peer does not support extended_master_secret (RFC 7627)")
            }
            Self::Renegotiation => f.write_str("renegotiation refused"),
            Self::PeerAlert(a) => write!(f, "peer sent fatal alert {a}"),
            Self::PeerClosed => f.write_str("peer closed the connection (close_notify)"),
            Self::HandshakeTimeout => {
                f.write_str("handshake did not complete within the retransmission budget")
            }
            Self::Crypto(what) => write!(f, "crypto failure: {what}"),
            Self::InvalidState(what) => write!(f, "invalid state: {what}"),
            Self::Closed => f.write_str("connection closed"),
            Self::Config(what) => write!(f, "bad configuration: {what}"),
        }
    }
}

impl std::error::Error for Error {}
