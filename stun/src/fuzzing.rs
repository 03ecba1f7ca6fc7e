//! Entry points for the cargo-fuzz targets in `../fuzz` (and the corpus replay test).
//! Not a stable API.

// A fuzz oracle reports a broken invariant by panicking; that is its whole job.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::server::{BindingServer, ServerConfig};
use crate::transaction::{ClientTransaction, TransactionConfig};
use crate::{IntegrityKey, Message, MessageBuilder, MessageRepr, MessageType, framing};
use std::time::Instant;

/// Target `stun_decode`: decodes arbitrary bytes with every entry point; when they parse,
/// re-encodes the attributes and checks that the re-encoded message parses to the same
/// value; checks that the server's answers are valid STUN; verifies integrity with a fixed
/// key (which must fail, as no input is signed with it). None of it may panic.
pub fn decode(data: &[u8]) {
    if let Ok(Some(n)) = framing::message_len(data) {
        assert!(n >= 20 && n % 4 == 0);
    }

    let mut server = BindingServer::new(ServerConfig {
        software: Some("sansrtc fuzz".into()),
        ..ServerConfig::default()
    });
    let mut out = [0u8; 1500];
    let source = "192.0.2.1:3478".parse().unwrap();
    if let Some(n) = server.handle(data, source, &mut out) {
        let resp = Message::new_checked(&out[..n]).expect("server wrote an invalid message");
        assert!(resp.class().is_response());
        assert_eq!(resp.as_bytes()[8..20], data[8..20]);
    }

    let Ok(m) = Message::new_checked_structure(data) else {
        assert!(Message::new_checked(data).is_err());
        return;
    };
    let key = IntegrityKey::short_term("sansrtc-fuzz-key-never-used");
    if m.has_message_integrity() || m.has_message_integrity_sha256() {
        assert!(m.verify_integrity(&key).is_err(), "forged integrity");
    }
    let _ = m.verify_fingerprint();
    let _ = (
        m.username(),
        m.software(),
        m.xor_mapped_address(),
        m.error_code(),
    );
    let _ = (
        m.priority(),
        m.use_candidate(),
        m.message_type(),
        m.length(),
    );
    for a in m.decoded_attributes() {
        let _ = a;
    }
    let _ = m.unknown_comprehension_required().count();

    // Round trip through the owned representation.
    let repr = MessageRepr::parse(data).expect("structure was valid");
    assert_eq!(repr.buffer_len(), data.len());
    let mut buf = vec![0u8; repr.buffer_len()];
    let n = repr.emit(&mut buf).expect("re-encode");
    assert_eq!(n, data.len());
    let again = MessageRepr::parse(&buf[..n]).expect("re-encoded message parses");
    assert_eq!(again, repr);
    // The encoding is canonical: re-encoding the re-parsed value gives the same bytes
    // (the first encoding may differ from the input in padding and reserved bits only).
    let mut buf2 = vec![0u8; again.buffer_len()];
    let n2 = again.emit(&mut buf2).expect("re-encode again");
    assert_eq!(&buf2[..n2], &buf[..n]);
    // Values that are kept raw come back byte for byte.
    for (a, b) in m.attributes().zip(
        Message::new_checked_structure(&buf[..n])
            .unwrap()
            .attributes(),
    ) {
        assert_eq!(
            (a.attr_type, a.offset, a.value.len()),
            (b.attr_type, b.offset, b.value.len())
        );
        if !crate::wire::is_known(a.attr_type) {
            assert_eq!(a.value, b.value);
        }
    }

    // A transaction whose ID matches the input's must accept or discard it without panicking.
    let mut req = [0u8; 28];
    let len = MessageBuilder::new(&mut req, MessageType::BINDING_REQUEST, m.transaction_id())
        .and_then(|b| b.finish_with_fingerprint())
        .expect("request");
    let now = Instant::now();
    let mut tx = ClientTransaction::new(TransactionConfig::default(), now, req[..len].to_vec())
        .expect("transaction");
    let _ = tx.handle_receive(now, data);
    let _ = tx.poll_transmit();
    let _ = tx.poll_event();
}
