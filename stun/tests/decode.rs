//! Negative decode tests (RFC 8489 sections 5, 14) and the Binding server's answers.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use sansrtc_stun::server::{BindingServer, ServerConfig};
use sansrtc_stun::{
    Attribute, Class, Error, IntegrityKey, Message, MessageBuilder, MessageType, Method,
    TransactionId, attr, framing,
};
use std::net::SocketAddr;

const TXID: TransactionId = TransactionId([0xAB; 12]);

fn request(f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TXID).unwrap();
    f(&mut b);
    let n = b.finish();
    buf.truncate(n);
    buf
}

/// A header followed by raw attribute bytes, with the length field set to match.
fn raw_message(body: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42];
    m.extend_from_slice(&TXID.0);
    m.extend_from_slice(body);
    let len = (body.len() as u16).to_be_bytes();
    m[2] = len[0];
    m[3] = len[1];
    m
}

#[test]
fn header_errors() {
    assert!(matches!(
        Message::new_checked(&[][..]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        Message::new_checked(&[0u8; 19][..]),
        Err(Error::BadMagicCookie { .. }) | Err(Error::Truncated { .. })
    ));
    let mut m = raw_message(&[]);
    m[0] = 0x80; // RTP-looking first byte
    assert_eq!(
        Message::new_checked(&m[..]).unwrap_err(),
        Error::NotStun { first_byte: 0x80 }
    );
    let mut m = raw_message(&[]);
    m[7] = 0x43;
    assert_eq!(
        Message::new_checked(&m[..]).unwrap_err(),
        Error::BadMagicCookie { found: 0x2112_A443 }
    );
    let mut m = raw_message(&[0, 0x24, 0, 4, 1, 2, 3, 4]);
    m.push(0); // one byte more than the header says
    assert_eq!(
        Message::new_checked(&m[..]).unwrap_err(),
        Error::LengthMismatch {
            header: 28,
            actual: 29
        }
    );
    let mut m = raw_message(&[0, 0x24, 0, 4, 1, 2, 3, 4]);
    m[3] = 6;
    m.truncate(26);
    assert_eq!(
        Message::new_checked(&m[..]).unwrap_err(),
        Error::UnalignedLength { length: 6 }
    );
}

#[test]
fn attribute_framing_errors() {
    // Value length runs past the end.
    let m = raw_message(&[0, 0x24, 0, 8, 1, 2, 3, 4]);
    assert_eq!(
        Message::new_checked(&m[..]).unwrap_err(),
        Error::AttributeOverrun {
            attr_type: 0x24,
            offset: 20,
            need: 12,
            have: 8
        }
    );
    // Missing padding: a 5-byte value occupies 8 bytes.
    let m = raw_message(&[0, 6, 0, 5, b'a', b'b', b'c', b'd']);
    assert!(matches!(
        Message::new_checked(&m[..]),
        Err(Error::AttributeOverrun { need: 12, .. })
    ));
    // Bad MESSAGE-INTEGRITY length.
    let m = raw_message(&[0, 8, 0, 4, 1, 2, 3, 4]);
    assert!(matches!(
        Message::new_checked(&m[..]),
        Err(Error::InvalidAttribute { attr_type: 8, .. })
    ));
}

#[test]
fn order_rules() {
    let key = IntegrityKey::short_term("pw");
    let signed = request(|b| {
        b.username("u").unwrap();
        b.message_integrity(&key).unwrap();
    });
    // Append a PRIORITY after MESSAGE-INTEGRITY by hand.
    let mut body = signed[20..].to_vec();
    body.extend_from_slice(&[0, 0x24, 0, 4, 0, 0, 0, 1]);
    assert_eq!(
        Message::new_checked(&raw_message(&body)[..]).unwrap_err(),
        Error::AttributeAfterIntegrity {
            attr_type: attr::PRIORITY,
            after: attr::MESSAGE_INTEGRITY
        }
    );
    // MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256 is refused...
    let mut body = vec![0, 0x1C, 0, 16];
    body.extend_from_slice(&[0; 16]);
    body.extend_from_slice(&[0, 8, 0, 20]);
    body.extend_from_slice(&[0; 20]);
    assert_eq!(
        Message::new_checked(&raw_message(&body)[..]).unwrap_err(),
        Error::AttributeAfterIntegrity {
            attr_type: attr::MESSAGE_INTEGRITY,
            after: attr::MESSAGE_INTEGRITY_SHA256
        }
    );
    // ... while the reverse order is allowed (RFC 8489 section 14.5).
    let both = request(|b| {
        b.message_integrity(&key).unwrap();
        b.message_integrity_sha256(&key, 32).unwrap();
    });
    let m = Message::new_checked(&both[..]).unwrap();
    m.verify_message_integrity(&key).unwrap();
    m.verify_message_integrity_sha256(&key).unwrap();
    // Something after FINGERPRINT.
    let fp = request(|b| b.fingerprint().unwrap());
    let mut body = fp[20..].to_vec();
    body.extend_from_slice(&[0x80, 0x22, 0, 0]);
    assert_eq!(
        Message::new_checked_structure(&raw_message(&body)[..]).unwrap_err(),
        Error::AttributeAfterIntegrity {
            attr_type: attr::SOFTWARE,
            after: attr::FINGERPRINT
        }
    );
}

#[test]
fn unknown_attributes_preserved_and_reported() {
    let m = request(|b| {
        b.add_raw(0x7FF0, b"abc").unwrap();
        b.add_raw(attr::GOOG_NETWORK_INFO, &[0, 1, 0, 10]).unwrap();
        b.add_raw(0x0003, &[]).unwrap();
        b.priority(5).unwrap();
    });
    let m = Message::new_checked(&m[..]).unwrap();
    assert_eq!(
        m.unknown_comprehension_required().collect::<Vec<_>>(),
        vec![0x7FF0, 0x0003]
    );
    assert_eq!(
        m.unknown_comprehension_required_except(&[0x0003])
            .collect::<Vec<_>>(),
        vec![0x7FF0]
    );
    assert_eq!(
        m.attribute(0x7FF0).unwrap().unwrap(),
        Attribute::Other {
            attr_type: 0x7FF0,
            value: b"abc"
        }
    );
    assert_eq!(m.get(0x7FF0).unwrap().padding, &[0]);
    assert_eq!(m.priority(), Some(5));
}

#[test]
fn framing_splits_a_stream() {
    let a = request(|b| b.username("alice").unwrap());
    let b = request(|b| b.fingerprint().unwrap());
    let mut stream = a.clone();
    stream.extend_from_slice(&b);
    let n = framing::message_len(&stream).unwrap().unwrap();
    assert_eq!(&stream[..n], &a[..]);
    let rest = &stream[n..];
    let m = framing::message_len(rest).unwrap().unwrap();
    assert_eq!(m, rest.len());
    Message::new_checked(rest).unwrap();
    assert_eq!(framing::message_len(&rest[..5]).unwrap(), None);
    assert!(framing::message_len(b"GET / HTTP/1.1\r\n").is_err());
}

fn from() -> SocketAddr {
    "203.0.113.9:51000".parse().unwrap()
}

#[test]
fn server_answers_binding() {
    let mut s = BindingServer::new(ServerConfig {
        software: Some("sansrtc".into()),
        ..ServerConfig::default()
    });
    let req = request(|b| b.fingerprint().unwrap());
    let mut out = [0u8; 548];
    let n = s.handle(&req, from(), &mut out).unwrap();
    let r = Message::new_checked(&out[..n]).unwrap();
    assert_eq!(r.message_type(), MessageType::BINDING_SUCCESS);
    assert_eq!(r.transaction_id(), TXID);
    assert_eq!(r.xor_mapped_address(), Some(from()));
    assert_eq!(r.software(), Some("sansrtc"));
    r.verify_fingerprint().unwrap();

    let v6: SocketAddr = "[2001:db8::5]:7".parse().unwrap();
    let n = s.handle(&req, v6, &mut out).unwrap();
    assert_eq!(
        Message::new_checked(&out[..n])
            .unwrap()
            .xor_mapped_address(),
        Some(v6)
    );
    assert_eq!(s.stats().responses, 2);
}

#[test]
fn server_420_400_and_drops() {
    let mut s = BindingServer::new(ServerConfig::default());
    let mut out = [0u8; 548];

    let req = request(|b| {
        b.add_raw(0x7ABC, &[1]).unwrap();
        b.add_raw(0xC057, &[0, 1, 0, 1]).unwrap(); // optional: ignored
        b.add_raw(0x0031, &[]).unwrap();
    });
    let n = s.handle(&req, from(), &mut out).unwrap();
    let r = Message::new_checked(&out[..n]).unwrap();
    assert_eq!(r.class(), Class::ErrorResponse);
    assert_eq!(r.error_code().unwrap().code, 420);
    let Some(Ok(Attribute::UnknownAttributes(u))) = r.attribute(attr::UNKNOWN_ATTRIBUTES) else {
        panic!()
    };
    assert_eq!(u.collect::<Vec<_>>(), vec![0x7ABC, 0x0031]);

    // Malformed known attribute (PRIORITY of 2 bytes) -> 400.
    let req = request(|b| b.add_raw(attr::PRIORITY, &[1, 2]).unwrap());
    let n = s.handle(&req, from(), &mut out).unwrap();
    assert_eq!(
        Message::new_checked(&out[..n])
            .unwrap()
            .error_code()
            .unwrap()
            .code,
        400
    );
    // Broken TLV framing with a valid header -> 400.
    let n = s
        .handle(&raw_message(&[0, 0x24, 0, 8, 1, 2, 3, 4]), from(), &mut out)
        .unwrap();
    assert_eq!(
        Message::new_checked(&out[..n])
            .unwrap()
            .error_code()
            .unwrap()
            .code,
        400
    );
    // Unsupported method -> 400 with the same method.
    let mut buf = [0u8; 20];
    MessageBuilder::new(
        &mut buf,
        MessageType::new(Class::Request, Method::ALLOCATE),
        TXID,
    )
    .unwrap();
    let n = s.handle(&buf, from(), &mut out).unwrap();
    let r = Message::new_checked(&out[..n]).unwrap();
    assert_eq!(r.method(), Method::ALLOCATE);
    assert_eq!(r.error_code().unwrap().code, 400);
    assert_eq!(s.stats().errors_420, 1);
    assert_eq!(s.stats().errors_400, 3);

    // Silently dropped: indication, response, bad fingerprint, garbage, truncated, tiny out.
    let mut ind = [0u8; 20];
    MessageBuilder::new(&mut ind, MessageType::BINDING_INDICATION, TXID).unwrap();
    assert_eq!(s.handle(&ind, from(), &mut out), None);
    let mut resp = [0u8; 20];
    MessageBuilder::new(&mut resp, MessageType::BINDING_SUCCESS, TXID).unwrap();
    assert_eq!(s.handle(&resp, from(), &mut out), None);
    let mut bad_fp = request(|b| b.fingerprint().unwrap());
    let last = bad_fp.len() - 1;
    bad_fp[last] ^= 0xFF;
    assert_eq!(s.handle(&bad_fp, from(), &mut out), None);
    assert_eq!(s.handle(&[0x80; 100], from(), &mut out), None);
    let ok = request(|b| b.username("someone").unwrap());
    assert_eq!(s.handle(&ok[..ok.len() - 4], from(), &mut out), None);
    assert_eq!(s.handle(&ok, from(), &mut [0u8; 24]), None);
    assert_eq!(s.stats().dropped, 6);
    assert_eq!(s.stats().responses, 0);
}
