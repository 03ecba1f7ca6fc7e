//! DTLS record layer framing (RFC 6347 §4.1).

use super::{Put, Reader};
use crate::Error;

/// Record header length: type, version, epoch, 48-bit sequence number, length.
pub const RECORD_HEADER_LEN: usize = 13;

/// DTLS 1.2 on the wire (RFC 6347 §4.1: `{254, 253}`).
pub const DTLS_1_2: u16 = 0xfefd;
/// DTLS 1.0 on the wire, allowed in the record version of a first ClientHello.
pub const DTLS_1_0: u16 = 0xfeff;
/// DTLS 1.3 in `supported_versions` (RFC 9147).
pub const DTLS_1_3: u16 = 0xfefc;

/// Record content types (RFC 5246 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// change_cipher_spec (20).
    ChangeCipherSpec,
    /// alert (21).
    Alert,
    /// handshake (22).
    Handshake,
    /// application_data (23).
    ApplicationData,
}

impl ContentType {
    /// From the wire.
    pub fn from_u8(v: u8) -> Result<Self, Error> {
        Ok(match v {
            20 => Self::ChangeCipherSpec,
            21 => Self::Alert,
            22 => Self::Handshake,
            23 => Self::ApplicationData,
            v => {
                return Err(Error::InvalidField {
                    field: "record content type",
                    value: v.into(),
                });
            }
        })
    }

    /// To the wire.
    #[must_use]
    pub fn as_u8(self) -> u8 {
        match self {
            Self::ChangeCipherSpec => 20,
            Self::Alert => 21,
            Self::Handshake => 22,
            Self::ApplicationData => 23,
        }
    }

    /// A name for errors and decoders.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::ChangeCipherSpec => "change_cipher_spec",
            Self::Alert => "alert",
            Self::Handshake => "handshake",
            Self::ApplicationData => "application_data",
        }
    }
}

/// One record, borrowed from a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Content type.
    pub content_type: ContentType,
    /// Protocol version field.
    pub version: u16,
    /// Epoch.
    pub epoch: u16,
    /// 48-bit sequence number.
    pub seq: u64,
    /// The fragment (ciphertext if the epoch is protected).
    pub fragment: &'a [u8],
}

impl<'a> Record<'a> {
    /// Parse one record from the front of `r`.
    pub fn parse(r: &mut Reader<'a>) -> Result<Self, Error> {
        let content_type = ContentType::from_u8(r.u8()?)?;
        let version = r.u16()?;
        if version >> 8 != 0xfe {
            return Err(Error::InvalidField {
                field: "record version",
                value: version.into(),
            });
        }
        let epoch = r.u16()?;
        let seq = r.u48()?;
        let fragment = r.vec16()?;
        Ok(Self {
            content_type,
            version,
            epoch,
            seq,
            fragment,
        })
    }

    /// Split a datagram into records. Stops at the first malformed record and returns the
    /// records before it together with the error (RFC 6347 §4.1.2.7: invalid records are
    /// discarded).
    #[must_use]
    pub fn parse_datagram(datagram: &'a [u8]) -> (Vec<Self>, Option<Error>) {
        let mut r = Reader::new(datagram, "DTLS record");
        let mut out = Vec::new();
        while !r.is_empty() {
            match Self::parse(&mut r) {
                Ok(rec) => out.push(rec),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    /// The 13-byte header of a record with this content and `len` bytes of fragment.
    #[must_use]
    pub fn header(
        content_type: ContentType,
        version: u16,
        epoch: u16,
        seq: u64,
        len: usize,
    ) -> Vec<u8> {
        let mut h = Vec::with_capacity(RECORD_HEADER_LEN);
        h.put_u8(content_type.as_u8());
        h.put_u16(version);
        h.put_u16(epoch);
        h.put_u48(seq);
        h.put_u16(u16::try_from(len).unwrap_or(u16::MAX));
        h
    }

    /// Emit this record.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Self::header(
            self.content_type,
            self.version,
            self.epoch,
            self.seq,
            self.fragment.len(),
        );
        v.extend_from_slice(self.fragment);
        v
    }
}
