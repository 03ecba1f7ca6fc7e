//! The crate's error type.

use core::fmt;

/// Longest excerpt of an offending line kept in an [`Error::Parse`] (in bytes, cut at a char
/// boundary), so a hostile 1 MB line does not turn into a 1 MB error message.
pub const MAX_EXCERPT: usize = 120;

/// Everything that can go wrong in this crate.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A line of an SDP document is invalid (RFC 8866 §5 grammar, or a WebRTC attribute's).
    Parse {
        /// 1-based line number.
        line: usize,
        /// The offending line (without its line ending), cut to [`MAX_EXCERPT`] bytes.
        text: String,
        /// What was wrong.
        kind: ParseErrorKind,
    },
    /// The document as a whole is invalid (a mandatory line is missing, or it is empty).
    Document {
        /// What was wrong.
        reason: &'static str,
    },
    /// A typed value (an attribute value, a media line) handed to a parser or builder is invalid.
    InvalidValue {
        /// Which value (`"rtpmap"`, `"fingerprint"`, …).
        what: &'static str,
        /// Why it was rejected.
        reason: ParseErrorKind,
    },
    /// Offer/answer (RFC 8829 JSEP) could not proceed.
    Negotiation {
        /// What was wrong.
        reason: String,
    },
}

/// What was wrong with a line or value.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The line is not `<type>=<value>` with a lowercase letter as type (RFC 8866 §5).
    NotTypeEqualsValue,
    /// The line is empty (RFC 8866 §5 allows no blank lines).
    EmptyLine,
    /// The input is not UTF-8 (RFC 8866 §5: SDP text is UTF-8 here).
    NotUtf8,
    /// The line is longer than [`crate::Limits::max_line_len`].
    LineTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The document is longer than [`crate::Limits::max_total_len`].
    DocumentTooLong {
        /// The limit in bytes.
        max: usize,
    },
    /// More `m=` sections than [`crate::Limits::max_media_sections`].
    TooManyMediaSections {
        /// The limit.
        max: usize,
    },
    /// More lines in one section than [`crate::Limits::max_lines_per_section`].
    TooManyLines {
        /// The limit.
        max: usize,
    },
    /// The first line is not `v=0` (RFC 8866 §5.1).
    BadVersion,
    /// A line that only belongs at session level appears in a media section, or the reverse.
    WrongLevel,
    /// A field is missing.
    MissingField {
        /// Which field.
        field: &'static str,
    },
    /// A field has an invalid value.
    InvalidField {
        /// Which field.
        field: &'static str,
        /// The value found (cut to [`MAX_EXCERPT`] bytes).
        value: String,
    },
    /// An RTP payload type above 127 (RFC 3550 §5.1: 7 bits).
    PayloadTypeOutOfRange {
        /// The value found.
        value: u64,
    },
    /// The same `a=mid` value is used by two media sections (RFC 8843 §9.1, RFC 5888 §4).
    DuplicateMid {
        /// The mid.
        mid: String,
    },
    /// One extmap id maps to two URIs in one section or in one BUNDLE group (RFC 8285 §6).
    ExtmapIdCollision {
        /// The id.
        id: u16,
    },
    /// The same rid appears twice in one media section (RFC 8851 §4).
    DuplicateRid {
        /// The rid.
        rid: String,
    },
}

fn excerpt(s: &str) -> String {
    if s.len() <= MAX_EXCERPT {
        return s.to_owned();
    }
    let mut end = MAX_EXCERPT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 3);
    out.push_str(s.get(..end).unwrap_or_default());
    out.push('…');
    out
}

impl ParseErrorKind {
    pub(crate) fn invalid(field: &'static str, value: &str) -> Self {
        ParseErrorKind::InvalidField {
            field,
            value: excerpt(value),
        }
    }
}

impl Error {
    pub(crate) fn at(line: usize, text: &str, kind: ParseErrorKind) -> Self {
        Error::Parse {
            line,
            text: excerpt(text),
            kind,
        }
    }

    /// The 1-based line number, if the error is about one line.
    pub fn line(&self) -> Option<usize> {
        match self {
            Error::Parse { line, .. } => Some(*line),
            _ => None,
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::NotTypeEqualsValue => {
                f.write_str("not a `<type>=<value>` line with a lowercase letter as type")
            }
            ParseErrorKind::EmptyLine => f.write_str("empty line"),
            ParseErrorKind::NotUtf8 => f.write_str("invalid UTF-8"),
            ParseErrorKind::LineTooLong { len, max } => {
                write!(f, "line is {len} bytes long, the limit is {max}")
            }
            ParseErrorKind::DocumentTooLong { max } => {
                write!(f, "document is longer than the limit of {max} bytes")
            }
            ParseErrorKind::TooManyMediaSections { max } => {
                write!(f, "more than {max} media sections")
            }
            ParseErrorKind::TooManyLines { max } => {
                write!(f, "more than {max} lines in one section")
            }
            ParseErrorKind::BadVersion => f.write_str("the first line must be `v=0`"),
            ParseErrorKind::WrongLevel => {
                f.write_str("this line is not allowed at this level (session vs media)")
            }
            ParseErrorKind::MissingField { field } => write!(f, "missing {field}"),
            ParseErrorKind::InvalidField { field, value } => {
                write!(f, "invalid {field}: {value:?}")
            }
            ParseErrorKind::PayloadTypeOutOfRange { value } => {
                write!(f, "payload type {value} is out of range (0..=127)")
            }
            ParseErrorKind::DuplicateMid { mid } => {
                write!(f, "mid {mid:?} is already used by another media section")
            }
            ParseErrorKind::ExtmapIdCollision { id } => {
                write!(f, "extmap id {id} is already mapped to another URI")
            }
            ParseErrorKind::DuplicateRid { rid } => {
                write!(f, "rid {rid:?} appears twice in this media section")
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse { line, text, kind } => write!(f, "line {line}: {kind}: {text:?}"),
            Error::Document { reason } => write!(f, "invalid SDP document: {reason}"),
            Error::InvalidValue { what, reason } => write!(f, "invalid {what}: {reason}"),
            Error::Negotiation { reason } => write!(f, "offer/answer failed: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
