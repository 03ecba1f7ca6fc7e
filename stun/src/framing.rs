//! Finding STUN messages in a byte stream (TCP/TLS, RFC 8489 section 6.2.2).
//!
//! Over a stream STUN messages are sent back to back with no extra framing: the header's
//! length field says where each message ends. (RFC 4571 framing is for ICE-TCP media
//! streams and is not used for plain STUN.)

use crate::Error;
use crate::wire::{HEADER_LEN, MAX_MESSAGE_LEN};

/// Total length of the STUN message at the start of `buf`, once its first 8 bytes are there.
///
/// Returns `Ok(None)` when more bytes are needed to tell, `Ok(Some(n))` when the next message
/// is `n` bytes long (the caller waits until it has `n` bytes, then hands `&buf[..n]` to
/// [`Message::new_checked`](crate::Message::new_checked)), and an error when the bytes cannot
/// be STUN (non-zero top bits, wrong magic cookie, unaligned length): the stream is then out
/// of sync and should be closed. The cap is [`MAX_MESSAGE_LEN`], the largest length the
/// header can express; use [`message_len_capped`] for a smaller one.
pub fn message_len(buf: &[u8]) -> Result<Option<usize>, Error> {
    message_len_capped(buf, MAX_MESSAGE_LEN)
}

/// [`message_len`] with a cap on the total message length (header included): longer
/// messages give [`Error::MessageTooLong`].
pub fn message_len_capped(buf: &[u8], max: usize) -> Result<Option<usize>, Error> {
    if let Some(&first) = buf.first() {
        if first & 0xC0 != 0 {
            return Err(Error::NotStun { first_byte: first });
        }
    }
    if buf.len() < 8 {
        return Ok(None);
    }
    let body = crate::wire::check_header_prefix(buf)?;
    let total = HEADER_LEN + body;
    if total > max {
        return Err(Error::MessageTooLong { length: total, max });
    }
    Ok(Some(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing() {
        assert_eq!(message_len(&[]), Ok(None));
        assert_eq!(message_len(&[0, 1, 0, 8]), Ok(None));
        let h = [0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42];
        assert_eq!(message_len(&h), Ok(Some(28)));
        assert_eq!(
            message_len_capped(&h, 27),
            Err(Error::MessageTooLong {
                length: 28,
                max: 27
            })
        );
        assert!(matches!(message_len(&[0x80]), Err(Error::NotStun { .. })));
        assert!(matches!(
            message_len(&[0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x43]),
            Err(Error::BadMagicCookie { .. })
        ));
        assert!(matches!(
            message_len(&[0, 1, 0, 7, 0x21, 0x12, 0xa4, 0x42]),
            Err(Error::UnalignedLength { length: 7 })
        ));
    }
}
