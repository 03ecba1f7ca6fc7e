//! The encoder: writes a message into a caller-provided buffer (RFC 8489 sections 5, 14).

use super::attribute::{Attribute, ErrorCode, MAX_USERNAME, PasswordAlgorithmParams, attr};
use super::{HEADER_LEN, MAGIC_COOKIE, MessageType, TransactionId, padded};
use crate::Error;
use crate::integrity::{self, IntegrityKey};
use core::net::SocketAddr;

/// Writes a STUN message into a caller buffer, attribute by attribute, keeping the header's
/// length field current. Nothing is allocated.
///
/// Integrity and FINGERPRINT come last, in the order RFC 8489 section 14 requires:
/// [`message_integrity`](Self::message_integrity), then optionally
/// [`message_integrity_sha256`](Self::message_integrity_sha256), then
/// [`fingerprint`](Self::fingerprint); adding anything else after them is refused with
/// [`Error::EncodeAfterIntegrity`].
///
/// ```
/// use sansrtc_stun::{IntegrityKey, MessageBuilder, MessageType, TransactionId, Message};
/// let key = IntegrityKey::short_term("pass");
/// let mut buf = [0u8; 128];
/// let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId([1; 12]))?;
/// b.username("a:b")?;
/// b.priority(0x6e00_01ff)?;
/// let len = b.finish_with_integrity(&key)?;
/// let m = Message::new_checked(&buf[..len])?;
/// m.verify_integrity(&key)?;
/// # Ok::<(), sansrtc_stun::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut [u8],
    len: usize,
    txid: TransactionId,
    padding: u8,
    sealed_by: Option<u16>,
}

impl<'b> MessageBuilder<'b> {
    /// Writes the header of a message of type `message_type` into `buf`.
    pub fn new(
        buf: &'b mut [u8],
        message_type: MessageType,
        txid: TransactionId,
    ) -> Result<Self, Error> {
        let have = buf.len();
        let header = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall {
            need: HEADER_LEN,
            have,
        })?;
        let t = message_type.to_u16().to_be_bytes();
        let c = MAGIC_COOKIE.to_be_bytes();
        let head = [t[0], t[1], 0, 0, c[0], c[1], c[2], c[3]];
        let (h, id) = header.split_at_mut(8);
        h.copy_from_slice(&head);
        id.copy_from_slice(&txid.0);
        Ok(Self {
            buf,
            len: HEADER_LEN,
            txid,
            padding: 0,
            sealed_by: None,
        })
    }

    /// Sets the byte used to pad the attributes added from now on (0 by default; RFC 8489
    /// section 14 lets senders use any value; RFC 5769 section 2.1 uses 0x20).
    pub fn set_padding_byte(&mut self, byte: u8) {
        self.padding = byte;
    }

    /// The transaction ID being written.
    pub fn transaction_id(&self) -> TransactionId {
        self.txid
    }

    /// Bytes written so far (a complete message at every step).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Never true: the header is always there.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Appends an attribute header and padding; returns the value slice to fill.
    fn reserve(&mut self, attr_type: u16, value_len: usize) -> Result<&mut [u8], Error> {
        let allowed = match self.sealed_by {
            None => true,
            Some(attr::MESSAGE_INTEGRITY) => {
                attr_type == attr::MESSAGE_INTEGRITY_SHA256 || attr_type == attr::FINGERPRINT
            }
            Some(attr::MESSAGE_INTEGRITY_SHA256) => attr_type == attr::FINGERPRINT,
            Some(_) => false,
        };
        if !allowed {
            return Err(Error::EncodeAfterIntegrity { attr_type });
        }
        let vlen = u16::try_from(value_len).map_err(|_| Error::ValueTooLong {
            attr_type,
            len: value_len,
            max: usize::from(u16::MAX),
        })?;
        let start = self.len;
        let end = start + 4 + padded(value_len);
        let body = u16::try_from(end - HEADER_LEN).map_err(|_| Error::ValueTooLong {
            attr_type,
            len: value_len,
            max: (usize::from(u16::MAX) + HEADER_LEN).saturating_sub(start + 4),
        })?;
        let have = self.buf.len();
        let region = self
            .buf
            .get_mut(start..end)
            .ok_or(Error::BufferTooSmall { need: end, have })?;
        let (tl, rest) = region.split_at_mut(4);
        let t = attr_type.to_be_bytes();
        let l = vlen.to_be_bytes();
        tl.copy_from_slice(&[t[0], t[1], l[0], l[1]]);
        let (_, pad) = rest.split_at_mut(value_len);
        pad.fill(self.padding);
        if let Some(h) = self.buf.get_mut(2..4) {
            h.copy_from_slice(&body.to_be_bytes());
        }
        self.len = end;
        Ok(self
            .buf
            .get_mut(start + 4..start + 4 + value_len)
            .unwrap_or_default())
    }

    /// Appends any typed attribute (values are checked against RFC 8489's limits first).
    pub fn add(&mut self, attribute: &Attribute<'_>) -> Result<(), Error> {
        attribute.validate()?;
        let txid = self.txid;
        let attr_type = attribute.attr_type();
        let value = self.reserve(attr_type, attribute.value_len())?;
        attribute
            .emit_value(value, &txid)
            .ok_or(Error::InvalidValue {
                field: "attribute value",
                value: u64::from(attr_type),
            })
    }

    /// Appends an attribute with a raw value.
    pub fn add_raw(&mut self, attr_type: u16, value: &[u8]) -> Result<(), Error> {
        self.reserve(attr_type, value.len())?.copy_from_slice(value);
        Ok(())
    }

    /// USERNAME (RFC 8489 section 14.3).
    pub fn username(&mut self, username: &str) -> Result<(), Error> {
        // Same check as `Attribute::validate`, without the generic dispatch (hot in ICE).
        if username.len() > MAX_USERNAME {
            return Err(Error::ValueTooLong {
                attr_type: attr::USERNAME,
                len: username.len(),
                max: MAX_USERNAME,
            });
        }
        self.add_raw(attr::USERNAME, username.as_bytes())
    }

    /// SOFTWARE (RFC 8489 section 14.14).
    pub fn software(&mut self, software: &str) -> Result<(), Error> {
        self.add(&Attribute::Software(software))
    }

    /// REALM (RFC 8489 section 14.9).
    pub fn realm(&mut self, realm: &str) -> Result<(), Error> {
        self.add(&Attribute::Realm(realm))
    }

    /// NONCE (RFC 8489 section 14.10).
    pub fn nonce(&mut self, nonce: &str) -> Result<(), Error> {
        self.add(&Attribute::Nonce(nonce))
    }

    /// XOR-MAPPED-ADDRESS (RFC 8489 section 14.2).
    pub fn xor_mapped_address(&mut self, address: SocketAddr) -> Result<(), Error> {
        self.add(&Attribute::XorMappedAddress(address))
    }

    /// ERROR-CODE (RFC 8489 section 14.8); `reason` defaults to the RFC's phrase when `None`.
    pub fn error_code(&mut self, code: u16, reason: Option<&str>) -> Result<(), Error> {
        let reason = reason.unwrap_or(ErrorCode::default_reason(code));
        self.add(&Attribute::ErrorCode(ErrorCode { code, reason }))
    }

    /// UNKNOWN-ATTRIBUTES (RFC 8489 section 14.13).
    pub fn unknown_attributes(&mut self, types: &[u16]) -> Result<(), Error> {
        let value = self.reserve(attr::UNKNOWN_ATTRIBUTES, types.len() * 2)?;
        for (dst, t) in value.chunks_exact_mut(2).zip(types) {
            dst.copy_from_slice(&t.to_be_bytes());
        }
        Ok(())
    }

    /// PASSWORD-ALGORITHMS (RFC 8489 section 14.11).
    pub fn password_algorithms(
        &mut self,
        algorithms: &[PasswordAlgorithmParams<'_>],
    ) -> Result<(), Error> {
        let total = algorithms.iter().map(|a| a.wire_len()).sum();
        let value = self.reserve(attr::PASSWORD_ALGORITHMS, total)?;
        let mut off = 0;
        for a in algorithms {
            let dst = value.get_mut(off..).unwrap_or_default();
            a.emit(dst).ok_or(Error::InvalidValue {
                field: "password algorithm parameters length",
                value: a.params.len() as u64,
            })?;
            off += a.wire_len();
        }
        Ok(())
    }

    /// PRIORITY (RFC 8445 section 16.1).
    pub fn priority(&mut self, priority: u32) -> Result<(), Error> {
        self.add_raw(attr::PRIORITY, &priority.to_be_bytes())
    }

    /// USE-CANDIDATE (RFC 8445 section 16.1).
    pub fn use_candidate(&mut self) -> Result<(), Error> {
        self.add_raw(attr::USE_CANDIDATE, &[])
    }

    /// ICE-CONTROLLING with its tie-breaker (RFC 8445 section 16.1).
    pub fn ice_controlling(&mut self, tie_breaker: u64) -> Result<(), Error> {
        self.add_raw(attr::ICE_CONTROLLING, &tie_breaker.to_be_bytes())
    }

    /// ICE-CONTROLLED with its tie-breaker (RFC 8445 section 16.1).
    pub fn ice_controlled(&mut self, tie_breaker: u64) -> Result<(), Error> {
        self.add_raw(attr::ICE_CONTROLLED, &tie_breaker.to_be_bytes())
    }

    /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 over the message so far, with the header length
    /// covering the attribute (RFC 8489 section 14.5).
    pub fn message_integrity(&mut self, key: &IntegrityKey) -> Result<(), Error> {
        let off = self.len;
        self.reserve(attr::MESSAGE_INTEGRITY, 20)?;
        let tag = {
            let (header, body) = self.signed_parts(off);
            key.sign_sha1(header, body)
        };
        self.write_value(off, tag.as_ref());
        self.sealed_by = Some(attr::MESSAGE_INTEGRITY);
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY-SHA256, truncated to `len` bytes (16..=32, a multiple of 4;
    /// 32 is the full HMAC), RFC 8489 section 14.6.
    pub fn message_integrity_sha256(
        &mut self,
        key: &IntegrityKey,
        len: usize,
    ) -> Result<(), Error> {
        if !(16..=32).contains(&len) || len % 4 != 0 {
            return Err(Error::InvalidValue {
                field: "MESSAGE-INTEGRITY-SHA256 length",
                value: len as u64,
            });
        }
        let off = self.len;
        self.reserve(attr::MESSAGE_INTEGRITY_SHA256, len)?;
        let tag = {
            let (header, body) = self.signed_parts(off);
            key.sign_sha256(header, body)
        };
        self.write_value(off, tag.as_ref().get(..len).unwrap_or_default());
        self.sealed_by = Some(attr::MESSAGE_INTEGRITY_SHA256);
        Ok(())
    }

    /// Appends FINGERPRINT (RFC 8489 section 14.7). Must be the last attribute.
    pub fn fingerprint(&mut self) -> Result<(), Error> {
        let off = self.len;
        self.reserve(attr::FINGERPRINT, 4)?;
        let crc = integrity::fingerprint(self.buf.get(..off).unwrap_or_default());
        self.write_value(off, &crc.to_be_bytes());
        self.sealed_by = Some(attr::FINGERPRINT);
        Ok(())
    }

    /// The header and the attributes before offset `off` (the header length is current).
    fn signed_parts(&self, off: usize) -> (&[u8], &[u8]) {
        let head = self.buf.get(..off).unwrap_or_default();
        head.split_at(HEADER_LEN.min(head.len()))
    }

    fn write_value(&mut self, off: usize, value: &[u8]) {
        if let Some(dst) = self.buf.get_mut(off + 4..off + 4 + value.len()) {
            dst.copy_from_slice(value);
        }
    }

    /// Ends the message; returns its length.
    pub fn finish(self) -> usize {
        self.len
    }

    /// Appends MESSAGE-INTEGRITY and FINGERPRINT and ends the message (what ICE connectivity
    /// checks carry, RFC 8445 section 7.2.2).
    pub fn finish_with_integrity(mut self, key: &IntegrityKey) -> Result<usize, Error> {
        // Fast path: both trailing attributes have a fixed size, so they are laid out in one
        // go (one bounds check, constant-size writes); anything unusual (already sealed, no
        // room, message too long) takes the general path, which reports the error.
        let off = self.len;
        let end = off + 24 + 8;
        if self.sealed_by.is_none() {
            if let (Ok(mi_len), Ok(fp_len)) = (
                u16::try_from(off + 24 - HEADER_LEN),
                u16::try_from(end - HEADER_LEN),
            ) {
                if let Some(buf) = self.buf.get_mut(..end) {
                    let (msg, tail) = buf.split_at_mut(off);
                    if let (Some(len_field), Ok(tail)) =
                        (msg.get_mut(2..4), <&mut [u8; 32]>::try_from(tail))
                    {
                        len_field.copy_from_slice(&mi_len.to_be_bytes());
                        let (mi, fp) = tail.split_at_mut(24);
                        let (mi_tl, mi_value) = mi.split_at_mut(4);
                        mi_tl.copy_from_slice(&[0x00, 0x08, 0x00, 0x14]);
                        let (header, body) = msg.split_at(HEADER_LEN.min(msg.len()));
                        mi_value.copy_from_slice(&key.sign_sha1(header, body));
                        if let Some(len_field) = msg.get_mut(2..4) {
                            len_field.copy_from_slice(&fp_len.to_be_bytes());
                        }
                        fp.copy_from_slice(&[0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0]);
                        // The CRC covers the message and MESSAGE-INTEGRITY in one piece.
                        let (covered, fp) = buf.split_at_mut(off + 24);
                        let crc = crate::crc32::checksum(covered) ^ integrity::FINGERPRINT_XOR;
                        if let Some(fp_value) = fp.get_mut(4..8) {
                            fp_value.copy_from_slice(&crc.to_be_bytes());
                        }
                        self.len = end;
                        self.sealed_by = Some(attr::FINGERPRINT);
                        return Ok(end);
                    }
                }
            }
        }
        self.message_integrity(key)?;
        self.fingerprint()?;
        Ok(self.len)
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (truncated to `len` bytes) and FINGERPRINT, and ends
    /// the message.
    pub fn finish_with_integrity_sha256(
        mut self,
        key: &IntegrityKey,
        len: usize,
    ) -> Result<usize, Error> {
        self.message_integrity_sha256(key, len)?;
        self.fingerprint()?;
        Ok(self.len)
    }

    /// Appends FINGERPRINT and ends the message.
    pub fn finish_with_fingerprint(mut self) -> Result<usize, Error> {
        self.fingerprint()?;
        Ok(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Message;

    #[test]
    fn finish_with_integrity_fast_path_matches_general_path() {
        let key = IntegrityKey::short_term("pw");
        fn start(buf: &mut [u8]) -> MessageBuilder<'_> {
            let mut b =
                MessageBuilder::new(buf, MessageType::BINDING_REQUEST, TransactionId([5; 12]))
                    .unwrap();
            b.username("ab:cd").unwrap();
            b.priority(7).unwrap();
            b
        }
        let mut fast = [0u8; 100];
        let n = start(&mut fast).finish_with_integrity(&key).unwrap();
        let mut slow = [0u8; 100];
        let mut b = start(&mut slow);
        b.message_integrity(&key).unwrap();
        b.fingerprint().unwrap();
        assert_eq!(b.finish(), n);
        assert_eq!(fast[..n], slow[..n]);
        Message::new_checked(&fast[..n])
            .unwrap()
            .verify_message_integrity(&key)
            .unwrap();
        // Every buffer too small for the two attributes: the general path's errors.
        for size in 40..n {
            let mut buf = vec![0u8; size];
            let got = start(&mut buf).finish_with_integrity(&key);
            let need = if size < n - 8 { n - 8 } else { n };
            assert_eq!(got, Err(Error::BufferTooSmall { need, have: size }));
        }
        // Already sealed: refused.
        let mut buf = [0u8; 100];
        let mut b = start(&mut buf);
        b.fingerprint().unwrap();
        assert_eq!(
            b.finish_with_integrity(&key),
            Err(Error::EncodeAfterIntegrity {
                attr_type: attr::MESSAGE_INTEGRITY
            })
        );
    }

    #[test]
    fn order_is_enforced_and_buffer_checked() {
        let key = IntegrityKey::short_term("k");
        let mut buf = [0u8; 200];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId([3; 12]),
        )
        .unwrap();
        b.message_integrity(&key).unwrap();
        assert_eq!(
            b.username("x"),
            Err(Error::EncodeAfterIntegrity {
                attr_type: attr::USERNAME
            })
        );
        b.message_integrity_sha256(&key, 32).unwrap();
        assert!(b.message_integrity(&key).is_err());
        b.fingerprint().unwrap();
        assert!(b.fingerprint().is_err());
        let len = b.finish();
        let m = Message::new_checked(&buf[..len]).unwrap();
        m.verify_message_integrity(&key).unwrap();
        m.verify_message_integrity_sha256(&key).unwrap();

        let mut small = [0u8; 23];
        let mut b = MessageBuilder::new(
            &mut small,
            MessageType::BINDING_REQUEST,
            TransactionId::default(),
        )
        .unwrap();
        assert_eq!(
            b.priority(1),
            Err(Error::BufferTooSmall { need: 28, have: 23 })
        );
        assert!(
            MessageBuilder::new(
                &mut [0u8; 19],
                MessageType::BINDING_REQUEST,
                TransactionId::default()
            )
            .is_err()
        );
    }

    #[test]
    fn message_length_field_cannot_overflow() {
        let mut buf = vec![0u8; 70_000];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId::default(),
        )
        .unwrap();
        assert!(matches!(
            b.add_raw(0x7FFF, &vec![0u8; 65_535]),
            Err(Error::ValueTooLong { .. })
        ));
        b.add_raw(0x7FFF, &vec![0u8; 65_528]).unwrap();
        assert_eq!(b.len(), 20 + 65_532);
        assert!(matches!(
            b.fingerprint(),
            Err(Error::ValueTooLong { max: 0, .. })
        ));
        let n = b.finish();
        Message::new_checked(&buf[..n]).unwrap();
    }

    #[test]
    fn limits_checked() {
        let mut buf = [0u8; 2000];
        let mut b = MessageBuilder::new(
            &mut buf,
            MessageType::BINDING_REQUEST,
            TransactionId::default(),
        )
        .unwrap();
        assert!(b.username(&"u".repeat(509)).is_err());
        assert!(b.username(&"u".repeat(508)).is_ok());
        assert!(b.error_code(700, None).is_err());
        assert!(b.error_code(299, None).is_err());
        let key = IntegrityKey::short_term("k");
        assert!(b.message_integrity_sha256(&key, 12).is_err());
        assert!(b.message_integrity_sha256(&key, 18).is_err());
    }
}
