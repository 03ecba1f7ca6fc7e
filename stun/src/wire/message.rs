//! The zero-copy message view (RFC 8489 sections 5, 6.3 and 14).

use super::attribute::{
    Attribute, ErrorCode, MAX_USERNAME, attr, is_comprehension_required, is_known,
};
use super::{
    Class, HEADER_LEN, MAGIC_COOKIE, MessageType, Method, TransactionId, be16, be32, padded,
};
use crate::Error;
use crate::integrity::{self, IntegrityKey};
use core::net::SocketAddr;

/// Validates the fixed header of a STUN message at the start of `b` and returns the body
/// length from the header. Only the first 8 bytes are needed (RFC 8489 section 5).
pub(crate) fn check_header_prefix(b: &[u8]) -> Result<usize, Error> {
    let first = *b.first().ok_or(Error::Truncated {
        what: "STUN header",
        need: HEADER_LEN,
        have: 0,
    })?;
    if first & 0xC0 != 0 {
        return Err(Error::NotStun { first_byte: first });
    }
    let len = be16(b, 2).ok_or(Error::Truncated {
        what: "STUN header",
        need: HEADER_LEN,
        have: b.len(),
    })?;
    let cookie = be32(b, 4).ok_or(Error::Truncated {
        what: "STUN header",
        need: HEADER_LEN,
        have: b.len(),
    })?;
    if cookie != MAGIC_COOKIE {
        return Err(Error::BadMagicCookie { found: cookie });
    }
    let len = usize::from(len);
    if len % 4 != 0 {
        return Err(Error::UnalignedLength { length: len });
    }
    Ok(len)
}

/// A validated, borrowed (or owned) STUN message.
///
/// [`Message::new_checked`] validates everything the framing depends on: header bits, magic
/// cookie, that the length field matches the bytes given, that every attribute's TLV (with
/// padding) fits, and the order rule (only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow
/// MESSAGE-INTEGRITY, only FINGERPRINT may follow MESSAGE-INTEGRITY-SHA256, and nothing
/// follows FINGERPRINT). After that no getter can panic or fail on framing; typed attribute
/// values are decoded lazily and may still report [`Error::InvalidAttribute`].
#[derive(Clone, Debug)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
    integrity: Option<usize>,
    integrity_sha256: Option<usize>,
    fingerprint: Option<usize>,
    /// Where the attributes every ICE check reads start, found in the validating walk so
    /// that their getters do not walk again (offset of the attribute header; 0 = absent).
    hot: HotOffsets,
}

/// Offsets of the first USERNAME, PRIORITY and USE-CANDIDATE (0 when absent: no attribute
/// starts inside the header).
#[derive(Clone, Copy, Debug, Default)]
struct HotOffsets {
    username: u32,
    priority: u32,
    use_candidate: u32,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Validates `buffer` as exactly one STUN message, including the FINGERPRINT value if the
    /// message carries one (a wrong FINGERPRINT means "not STUN", RFC 8489 section 7.3).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let m = Self::new_checked_structure(buffer)?;
        if m.fingerprint.is_some() {
            m.verify_fingerprint()?;
        }
        Ok(m)
    }

    /// Like [`new_checked`](Self::new_checked) but leaves a present FINGERPRINT unchecked
    /// (for dissectors that want to report it; call [`verify_fingerprint`](Self::verify_fingerprint)).
    pub fn new_checked_structure(buffer: T) -> Result<Self, Error> {
        let b = buffer.as_ref();
        let body = check_header_prefix(b)?;
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated {
                what: "STUN header",
                need: HEADER_LEN,
                have: b.len(),
            });
        }
        let end = HEADER_LEN + body;
        if end != b.len() {
            return Err(Error::LengthMismatch {
                header: end,
                actual: b.len(),
            });
        }
        let mut integrity = None;
        let mut integrity_sha256 = None;
        let mut fingerprint = None;
        let mut last_special: Option<u16> = None;
        let mut hot = HotOffsets::default();
        let mut off = HEADER_LEN;
        while off < end {
            // One bounds check for the whole type-length header.
            let Some(tl) = be32(b, off) else {
                return Err(Error::Truncated {
                    what: "attribute header",
                    need: 4,
                    have: end - off,
                });
            };
            let attr_type = (tl >> 16) as u16;
            let len = (tl & 0xFFFF) as usize;
            let need = 4 + padded(len);
            if need > end - off {
                return Err(Error::AttributeOverrun {
                    attr_type,
                    offset: off,
                    need,
                    have: end - off,
                });
            }
            if let Some(after) = last_special {
                let allowed = match after {
                    attr::MESSAGE_INTEGRITY => {
                        attr_type == attr::FINGERPRINT
                            || attr_type == attr::MESSAGE_INTEGRITY_SHA256
                    }
                    attr::MESSAGE_INTEGRITY_SHA256 => attr_type == attr::FINGERPRINT,
                    _ => false,
                };
                if !allowed {
                    return Err(Error::AttributeAfterIntegrity { attr_type, after });
                }
            }
            match attr_type {
                attr::MESSAGE_INTEGRITY => {
                    if len != 20 {
                        return Err(Error::InvalidAttribute {
                            attr_type,
                            reason: "MESSAGE-INTEGRITY must be 20 bytes",
                        });
                    }
                    integrity = Some(off);
                    last_special = Some(attr_type);
                }
                attr::MESSAGE_INTEGRITY_SHA256 => {
                    if !(16..=32).contains(&len) || len % 4 != 0 {
                        return Err(Error::InvalidAttribute {
                            attr_type,
                            reason: "MESSAGE-INTEGRITY-SHA256 must be 16..=32 bytes in steps of 4",
                        });
                    }
                    integrity_sha256 = Some(off);
                    last_special = Some(attr_type);
                }
                attr::FINGERPRINT => {
                    if len != 4 {
                        return Err(Error::InvalidAttribute {
                            attr_type,
                            reason: "FINGERPRINT must be 4 bytes",
                        });
                    }
                    fingerprint = Some(off);
                    last_special = Some(attr_type);
                }
                // `off` < 20 + 65536 fits in u32; a first occurrence wins, as in `get`.
                attr::USERNAME if hot.username == 0 => hot.username = off as u32,
                attr::PRIORITY if hot.priority == 0 => hot.priority = off as u32,
                attr::USE_CANDIDATE if hot.use_candidate == 0 => hot.use_candidate = off as u32,
                _ => {}
            }
            off += need;
        }
        Ok(Self {
            buffer,
            integrity,
            integrity_sha256,
            fingerprint,
            hot,
        })
    }

    /// The value of the attribute whose header is at `off` (a validated offset, or 0).
    #[inline]
    fn value_at(&self, off: u32) -> Option<&[u8]> {
        if off == 0 {
            return None;
        }
        let off = off as usize;
        let len = usize::from(be16(self.as_bytes(), off + 2)?);
        self.as_bytes().get(off + 4..off + 4 + len)
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The raw 16-bit message type.
    pub fn raw_type(&self) -> u16 {
        be16(self.as_bytes(), 0).unwrap_or_default()
    }

    /// Class and method.
    pub fn message_type(&self) -> MessageType {
        // The top bits were checked in new_checked, so this cannot fail.
        MessageType::from_u16(self.raw_type()).unwrap_or(MessageType::BINDING_REQUEST)
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.message_type().class
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.message_type().method
    }

    /// The header's length field (bytes after the header).
    pub fn length(&self) -> usize {
        self.as_bytes().len() - HEADER_LEN
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> TransactionId {
        let mut id = [0u8; 12];
        if let Some(src) = self.as_bytes().get(8..HEADER_LEN) {
            id.copy_from_slice(src);
        }
        TransactionId(id)
    }

    /// Iterates over every attribute in order, raw.
    pub fn attributes(&self) -> AttributeIter<'_> {
        AttributeIter {
            buf: self.as_bytes(),
            off: HEADER_LEN,
        }
    }

    /// The first attribute of type `attr_type`, raw.
    pub fn get(&self, attr_type: u16) -> Option<RawAttribute<'_>> {
        self.attributes().find(|a| a.attr_type == attr_type)
    }

    /// The first attribute of type `attr_type`, decoded.
    pub fn attribute(&self, attr_type: u16) -> Option<Result<Attribute<'_>, Error>> {
        let txid = self.transaction_id();
        self.get(attr_type).map(|a| a.decode(&txid))
    }

    /// Iterates over every attribute decoded (an error for values that do not decode).
    pub fn decoded_attributes(&self) -> impl Iterator<Item = Result<Attribute<'_>, Error>> + '_ {
        let txid = self.transaction_id();
        self.attributes().map(move |a| a.decode(&txid))
    }

    /// USERNAME, if present and valid.
    pub fn username(&self) -> Option<&str> {
        let v = self.value_at(self.hot.username)?;
        if v.len() > MAX_USERNAME {
            return None;
        }
        core::str::from_utf8(v).ok()
    }

    /// SOFTWARE, if present and valid.
    pub fn software(&self) -> Option<&str> {
        match self.attribute(attr::SOFTWARE)? {
            Ok(Attribute::Software(s)) => Some(s),
            _ => None,
        }
    }

    /// XOR-MAPPED-ADDRESS, if present and valid.
    pub fn xor_mapped_address(&self) -> Option<SocketAddr> {
        match self.attribute(attr::XOR_MAPPED_ADDRESS)? {
            Ok(Attribute::XorMappedAddress(a)) => Some(a),
            _ => None,
        }
    }

    /// ERROR-CODE, if present and valid.
    pub fn error_code(&self) -> Option<ErrorCode<'_>> {
        match self.attribute(attr::ERROR_CODE)? {
            Ok(Attribute::ErrorCode(e)) => Some(e),
            _ => None,
        }
    }

    /// PRIORITY, if present and valid.
    pub fn priority(&self) -> Option<u32> {
        let v = self.value_at(self.hot.priority)?;
        Some(u32::from_be_bytes(<[u8; 4]>::try_from(v).ok()?))
    }

    /// Whether USE-CANDIDATE is present.
    pub fn use_candidate(&self) -> bool {
        self.hot.use_candidate != 0
    }

    /// Comprehension-required attribute types (0x0000..=0x7FFF) this crate does not know, in
    /// order of appearance: a request with any must be answered with 420 and
    /// UNKNOWN-ATTRIBUTES listing them (RFC 8489 section 6.3.1).
    pub fn unknown_comprehension_required(&self) -> UnknownRequiredIter<'_, 'static> {
        self.unknown_comprehension_required_except(&[])
    }

    /// Like [`unknown_comprehension_required`](Self::unknown_comprehension_required), for a
    /// user of this crate (TURN, ICE) that understands the extra types in `known`.
    pub fn unknown_comprehension_required_except<'k>(
        &self,
        known: &'k [u16],
    ) -> UnknownRequiredIter<'_, 'k> {
        UnknownRequiredIter {
            inner: self.attributes(),
            known,
        }
    }

    /// Whether MESSAGE-INTEGRITY is present.
    pub fn has_message_integrity(&self) -> bool {
        self.integrity.is_some()
    }

    /// Whether MESSAGE-INTEGRITY-SHA256 is present.
    pub fn has_message_integrity_sha256(&self) -> bool {
        self.integrity_sha256.is_some()
    }

    /// Whether FINGERPRINT is present.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// Checks FINGERPRINT (RFC 8489 section 14.7): CRC-32 of the message up to the attribute,
    /// XOR 0x5354554e. As FINGERPRINT is last, the header length already covers it.
    pub fn verify_fingerprint(&self) -> Result<(), Error> {
        let off = self.fingerprint.ok_or(Error::MissingFingerprint)?;
        let b = self.as_bytes();
        let carried = be32(b, off + 4).ok_or(Error::MissingFingerprint)?;
        let computed = integrity::fingerprint(b.get(..off).unwrap_or_default());
        if carried == computed {
            Ok(())
        } else {
            Err(Error::FingerprintMismatch { carried, computed })
        }
    }

    /// The header with its length rewritten to end after the attribute at `off` whose value
    /// is `value_len` bytes, and the attributes before it: the HMAC input of RFC 8489
    /// section 14.5 in two parts.
    fn hmac_input(&self, off: usize, value_len: usize) -> Option<([u8; HEADER_LEN], &[u8])> {
        let b = self.as_bytes();
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(b.get(..HEADER_LEN)?);
        let len = u16::try_from(off + 4 + value_len - HEADER_LEN).ok()?;
        let [hi, lo] = len.to_be_bytes();
        header[2] = hi;
        header[3] = lo;
        Some((header, b.get(HEADER_LEN..off)?))
    }

    /// Verifies MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 section 14.5) in constant time.
    pub fn verify_message_integrity(&self, key: &IntegrityKey) -> Result<(), Error> {
        let off = self.integrity.ok_or(Error::MissingIntegrity)?;
        let mismatch = Error::IntegrityMismatch {
            attr_type: attr::MESSAGE_INTEGRITY,
        };
        let (header, body) = self.hmac_input(off, 20).ok_or(mismatch.clone())?;
        let tag = self
            .as_bytes()
            .get(off + 4..off + 24)
            .ok_or(mismatch.clone())?;
        if key.verify_sha1(&header[..], body, tag) {
            Ok(())
        } else {
            Err(mismatch)
        }
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, possibly truncated to 16..=32 bytes,
    /// RFC 8489 section 14.6) in constant time.
    pub fn verify_message_integrity_sha256(&self, key: &IntegrityKey) -> Result<(), Error> {
        let off = self.integrity_sha256.ok_or(Error::MissingIntegrity)?;
        let mismatch = Error::IntegrityMismatch {
            attr_type: attr::MESSAGE_INTEGRITY_SHA256,
        };
        let len = usize::from(be16(self.as_bytes(), off + 2).ok_or(mismatch.clone())?);
        let (header, body) = self.hmac_input(off, len).ok_or(mismatch.clone())?;
        let tag = self
            .as_bytes()
            .get(off + 4..off + 4 + len)
            .ok_or(mismatch.clone())?;
        if key.verify_sha256(&header[..], body, tag) {
            Ok(())
        } else {
            Err(mismatch)
        }
    }

    /// Verifies the strongest integrity attribute present: MESSAGE-INTEGRITY-SHA256 if the
    /// message has it (RFC 8489 section 9.1.4: an agent that understands it uses it), else
    /// MESSAGE-INTEGRITY.
    pub fn verify_integrity(&self, key: &IntegrityKey) -> Result<(), Error> {
        if self.integrity_sha256.is_some() {
            self.verify_message_integrity_sha256(key)
        } else {
            self.verify_message_integrity(key)
        }
    }
}

/// One attribute as it is on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The type.
    pub attr_type: u16,
    /// The value, without padding.
    pub value: &'a [u8],
    /// The padding bytes after the value (0 to 3; normally zeros, but any value is allowed).
    pub padding: &'a [u8],
    /// Offset of the attribute header in the message.
    pub offset: usize,
}

impl<'a> RawAttribute<'a> {
    /// Decodes the value (`txid` is needed by XOR-MAPPED-ADDRESS).
    pub fn decode(&self, txid: &TransactionId) -> Result<Attribute<'a>, Error> {
        Attribute::decode(self.attr_type, self.value, txid)
    }
}

/// Iterator over the attributes of a [`Message`].
#[derive(Clone, Debug)]
pub struct AttributeIter<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> AttributeIter<'a> {
    /// Iterates over the attributes of a message already validated by `new_checked_structure`.
    pub(crate) fn over(message: &'a [u8]) -> Self {
        Self {
            buf: message,
            off: HEADER_LEN,
        }
    }
}

impl<'a> Iterator for AttributeIter<'a> {
    type Item = RawAttribute<'a>;
    fn next(&mut self) -> Option<RawAttribute<'a>> {
        let off = self.off;
        let attr_type = be16(self.buf, off)?;
        let len = usize::from(be16(self.buf, off + 2)?);
        let value = self.buf.get(off + 4..off + 4 + len)?;
        let padding = self
            .buf
            .get(off + 4 + len..off + 4 + padded(len))
            .unwrap_or_default();
        self.off = off + 4 + padded(len);
        Some(RawAttribute {
            attr_type,
            value,
            padding,
            offset: off,
        })
    }
}

/// Iterator over unknown comprehension-required attribute types; see
/// [`Message::unknown_comprehension_required`].
#[derive(Clone, Debug)]
pub struct UnknownRequiredIter<'a, 'k> {
    inner: AttributeIter<'a>,
    known: &'k [u16],
}

impl Iterator for UnknownRequiredIter<'_, '_> {
    type Item = u16;
    fn next(&mut self) -> Option<u16> {
        self.inner
            .by_ref()
            .map(|a| a.attr_type)
            .find(|&t| is_comprehension_required(t) && !is_known(t) && !self.known.contains(&t))
    }
}
