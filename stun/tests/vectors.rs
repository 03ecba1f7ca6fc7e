//! Every vector of RFC 5769 / RFC 8489 B.1 in ../shared/vectors/stun_rfc5769.json (copied to
//! tests/data): decoded fields, integrity (SHA1, SHA256, truncated SHA256), FINGERPRINT, key
//! derivation, and re-encoding with the builder reproducing the exact bytes.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use sansrtc_stun::integrity::{self, PasswordAlgorithm};
use sansrtc_stun::{
    Attribute, Class, IntegrityKey, Message, MessageBuilder, MessageRepr, MessageType, Method,
    TransactionId, attr,
};
use serde_json::Value;
use std::net::SocketAddr;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vectors() -> Vec<Value> {
    let v: Value =
        serde_json::from_str(include_str!("data/stun_rfc5769.json")).expect("vector json");
    v["vectors"].as_array().unwrap().clone()
}

fn vector(id: &str) -> Value {
    vectors().into_iter().find(|v| v["id"] == id).unwrap()
}

fn num(v: &Value) -> u64 {
    let s = v.as_str().unwrap();
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn all_six_vectors_present() {
    assert_eq!(vectors().len(), 6);
}

#[test]
fn every_vector_decodes_field_by_field() {
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let bytes = hex(v["message"].as_str().unwrap());
        let m = Message::new_checked(&bytes[..]).unwrap_or_else(|e| panic!("{id}: {e}"));
        let p = &v["parsed"];
        assert_eq!(u64::from(m.raw_type()), num(&p["message_type"]), "{id}");
        assert_eq!(
            m.length() as u64,
            p["message_length"].as_u64().unwrap(),
            "{id}"
        );
        assert_eq!(m.transaction_id().to_string(), p["transaction_id"], "{id}");
        let expected = p["attributes"].as_array().unwrap();
        let got: Vec<_> = m.attributes().collect();
        assert_eq!(got.len(), expected.len(), "{id}");
        let txid = m.transaction_id();
        for (a, e) in got.iter().zip(expected) {
            assert_eq!(u64::from(a.attr_type), num(&e["type"]), "{id}");
            assert_eq!(a.offset as u64, e["offset"].as_u64().unwrap(), "{id}");
            assert_eq!(a.value.len() as u64, e["length"].as_u64().unwrap(), "{id}");
            assert_eq!(a.value, &hex(e["value"].as_str().unwrap())[..], "{id}");
            if let Some(pad) = e.get("padding") {
                assert_eq!(a.padding, &hex(pad.as_str().unwrap())[..], "{id}");
            }
            assert_eq!(
                sansrtc_stun::wire::attr_name(a.attr_type).unwrap(),
                e["name"],
                "{id}"
            );
            let typed = a.decode(&txid).unwrap_or_else(|err| panic!("{id}: {err}"));
            let d = &e["decoded"];
            match typed {
                Attribute::Software(s)
                | Attribute::Username(s)
                | Attribute::Realm(s)
                | Attribute::Nonce(s) => assert_eq!(s, d.as_str().unwrap(), "{id}"),
                Attribute::Priority(p) => assert_eq!(u64::from(p), d.as_u64().unwrap()),
                Attribute::IceControlled(t) => assert_eq!(t, num(d)),
                Attribute::XorMappedAddress(addr) => {
                    let want: std::net::IpAddr = d["address"].as_str().unwrap().parse().unwrap();
                    assert_eq!(addr.ip(), want, "{id}");
                    assert_eq!(u64::from(addr.port()), d["port"].as_u64().unwrap());
                    assert_eq!(addr.is_ipv4(), d["family"] == "IPv4", "{id}: family");
                }
                Attribute::MessageIntegrity(_)
                | Attribute::MessageIntegritySha256(_)
                | Attribute::Fingerprint(_)
                | Attribute::UserHash(_)
                | Attribute::PasswordAlgorithm(_) => {}
                other => panic!("{id}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn integrity_and_fingerprint_of_every_vector() {
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let bytes = hex(v["message"].as_str().unwrap());
        let m = Message::new_checked(&bytes[..]).unwrap();
        let key = IntegrityKey::new(&hex(v["hmac_key"].as_str().unwrap()));
        let wrong = IntegrityKey::new(b"wrong");
        if let Some(mi) = v.get("expected_message_integrity") {
            assert_eq!(
                m.get(attr::MESSAGE_INTEGRITY).unwrap().value,
                &hex(mi.as_str().unwrap())[..]
            );
            m.verify_message_integrity(&key)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(m.verify_message_integrity(&wrong).is_err(), "{id}");
        }
        if let Some(mi) = v.get("expected_message_integrity_sha256") {
            assert_eq!(
                m.get(attr::MESSAGE_INTEGRITY_SHA256).unwrap().value,
                &hex(mi.as_str().unwrap())[..]
            );
            m.verify_message_integrity_sha256(&key)
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(m.verify_message_integrity_sha256(&wrong).is_err(), "{id}");
        }
        m.verify_integrity(&key).unwrap();
        match v["expected_fingerprint"].as_str() {
            Some(fp) => {
                m.verify_fingerprint().unwrap();
                let want = u32::from_str_radix(fp, 16).unwrap();
                let input = hex(v["fingerprint_crc_input"].as_str().unwrap());
                assert_eq!(integrity::fingerprint(&input), want, "{id}");
                assert_eq!(
                    m.attribute(attr::FINGERPRINT).unwrap().unwrap(),
                    Attribute::Fingerprint(want)
                );
            }
            None => {
                assert!(!m.has_fingerprint());
                assert_eq!(
                    m.verify_fingerprint(),
                    Err(sansrtc_stun::Error::MissingFingerprint)
                );
            }
        }
    }
}

#[test]
fn key_derivation() {
    // Short-term: the password itself.
    let v = vector("rfc5769-2.1-sample-request");
    let (k, _) = (hex(v["hmac_key"].as_str().unwrap()), ());
    assert_eq!(k, v["password"].as_str().unwrap().as_bytes());

    // Long-term MD5 (RFC 5769 2.4), with the SASLprep'd password.
    let v = vector("rfc5769-2.4-sample-request-long-term-auth");
    let (key, len) = integrity::long_term_key(
        PasswordAlgorithm::Md5,
        v["username"].as_str().unwrap(),
        v["realm"].as_str().unwrap(),
        v["password_after_saslprep"].as_str().unwrap(),
    );
    assert_eq!(&key[..len], &hex(v["hmac_key"].as_str().unwrap())[..]);
    let bytes = hex(v["message"].as_str().unwrap());
    let m = Message::new_checked(&bytes[..]).unwrap();
    let ik = IntegrityKey::long_term(
        PasswordAlgorithm::Md5,
        m.username().unwrap(),
        v["realm"].as_str().unwrap(),
        "TheMatrIX",
    );
    m.verify_integrity(&ik).unwrap();

    // Long-term SHA-256 and USERHASH (RFC 8489 B.1).
    let v = vector("rfc8489-B.1-long-term-sha256-userhash");
    let user = v["username"].as_str().unwrap();
    let realm = v["realm"].as_str().unwrap();
    let pass = v["password_after_processing"].as_str().unwrap();
    let (key, len) = integrity::long_term_key(PasswordAlgorithm::Sha256, user, realm, pass);
    assert_eq!(&key[..len], &hex(v["hmac_key"].as_str().unwrap())[..]);
    assert_eq!(
        integrity::userhash(user, realm).to_vec(),
        hex(v["expected_userhash"].as_str().unwrap())
    );
    let bytes = hex(v["message"].as_str().unwrap());
    let m = Message::new_checked(&bytes[..]).unwrap();
    let Some(Ok(Attribute::UserHash(h))) = m.attribute(attr::USERHASH) else {
        panic!()
    };
    assert_eq!(*h, integrity::userhash(user, realm));
    let Some(Ok(Attribute::PasswordAlgorithm(p))) = m.attribute(attr::PASSWORD_ALGORITHM) else {
        panic!()
    };
    assert_eq!(
        PasswordAlgorithm::from_number(p.algorithm),
        Some(PasswordAlgorithm::Sha256)
    );
    m.verify_integrity(&IntegrityKey::long_term(
        PasswordAlgorithm::Sha256,
        user,
        realm,
        pass,
    ))
    .unwrap();
}

/// Rebuilds a message attribute by attribute from its parsed form with the builder,
/// recomputing integrity and FINGERPRINT with the vector's key.
fn reencode(bytes: &[u8], key: &IntegrityKey) -> Vec<u8> {
    let m = Message::new_checked(bytes).unwrap();
    let mut out = vec![0u8; 1024];
    let mut b = MessageBuilder::new(&mut out, m.message_type(), m.transaction_id()).unwrap();
    for a in m.attributes() {
        match a.attr_type {
            attr::MESSAGE_INTEGRITY => b.message_integrity(key).unwrap(),
            attr::MESSAGE_INTEGRITY_SHA256 => {
                b.message_integrity_sha256(key, a.value.len()).unwrap()
            }
            attr::FINGERPRINT => b.fingerprint().unwrap(),
            _ => {
                b.set_padding_byte(a.padding.first().copied().unwrap_or(0));
                b.add_raw(a.attr_type, a.value).unwrap();
            }
        }
    }
    let n = b.finish();
    out.truncate(n);
    out
}

#[test]
fn reencoding_every_vector_gives_identical_bytes() {
    for v in vectors() {
        let id = v["id"].as_str().unwrap();
        let bytes = hex(v["message"].as_str().unwrap());
        let key = IntegrityKey::new(&hex(v["hmac_key"].as_str().unwrap()));
        assert_eq!(reencode(&bytes, &key), bytes, "{id}");
        // And through the typed representation (padding aside, all these vectors use
        // padding bytes that MessageRepr normalises, so compare after re-parsing).
        let repr = MessageRepr::parse(&bytes).unwrap();
        let mut out = vec![0u8; repr.buffer_len()];
        let n = repr.emit(&mut out).unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!(MessageRepr::parse(&out).unwrap(), repr, "{id}");
    }
}

#[test]
fn typed_builder_reproduces_rfc5769_request_and_responses() {
    let key = IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt");
    let txid = TransactionId(hex("b7e7a701bc34d686fa87dfae").try_into().unwrap());

    let mut buf = [0u8; 256];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid).unwrap();
    b.set_padding_byte(0x20);
    b.software("STUN test client").unwrap();
    b.priority(0x6e00_01ff).unwrap();
    b.ice_controlled(0x932f_f9b1_5126_3b36).unwrap();
    b.username("evtj:h6vY").unwrap();
    let n = b.finish_with_integrity(&key).unwrap();
    assert_eq!(
        &buf[..n],
        &hex(vector("rfc5769-2.1-sample-request")["message"]
            .as_str()
            .unwrap())[..]
    );

    for (id, addr) in [
        ("rfc5769-2.2-sample-ipv4-response", "192.0.2.1:32853"),
        (
            "rfc5769-2.3-sample-ipv6-response",
            "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
        ),
    ] {
        let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, txid).unwrap();
        b.set_padding_byte(0x20);
        b.software("test vector").unwrap();
        b.xor_mapped_address(addr.parse::<SocketAddr>().unwrap())
            .unwrap();
        let n = b.finish_with_integrity(&key).unwrap();
        assert_eq!(
            &buf[..n],
            &hex(vector(id)["message"].as_str().unwrap())[..],
            "{id}"
        );
        let m = Message::new_checked(&buf[..n]).unwrap();
        assert_eq!(m.class(), Class::SuccessResponse);
        assert_eq!(m.method(), Method::BINDING);
        assert_eq!(m.xor_mapped_address(), Some(addr.parse().unwrap()));
    }

    // The computed SHA-256 vector, full and truncated to 16 bytes.
    let v = vector("computed-rfc5769-2.1-request-with-message-integrity-sha256");
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid).unwrap();
    b.set_padding_byte(0x20);
    b.software("STUN test client").unwrap();
    b.priority(0x6e00_01ff).unwrap();
    b.ice_controlled(0x932f_f9b1_5126_3b36).unwrap();
    b.username("evtj:h6vY").unwrap();
    let n = b.finish_with_integrity_sha256(&key, 32).unwrap();
    assert_eq!(&buf[..n], &hex(v["message"].as_str().unwrap())[..]);

    let t = &v["truncated_16_octet_variant"];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid).unwrap();
    b.set_padding_byte(0x20);
    b.software("STUN test client").unwrap();
    b.priority(0x6e00_01ff).unwrap();
    b.ice_controlled(0x932f_f9b1_5126_3b36).unwrap();
    b.username("evtj:h6vY").unwrap();
    b.message_integrity_sha256(&key, 16).unwrap();
    let n = b.finish();
    assert_eq!(&buf[..20], &hex(t["hmac_input"].as_str().unwrap())[..20]);
    let m = Message::new_checked(&buf[..n]).unwrap();
    assert_eq!(
        m.get(attr::MESSAGE_INTEGRITY_SHA256).unwrap().value,
        &hex(t["expected_message_integrity_sha256_16"].as_str().unwrap())[..]
    );
    m.verify_message_integrity_sha256(&key).unwrap();
    assert!(
        m.verify_message_integrity_sha256(&IntegrityKey::short_term("x"))
            .is_err()
    );

    // Long-term (RFC 5769 2.4), typed.
    let v = vector("rfc5769-2.4-sample-request-long-term-auth");
    let txid = TransactionId(hex("78ad3433c6ad72c029da412e").try_into().unwrap());
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, txid).unwrap();
    b.username(v["username"].as_str().unwrap()).unwrap();
    b.nonce(v["nonce"].as_str().unwrap()).unwrap();
    b.realm(v["realm"].as_str().unwrap()).unwrap();
    b.message_integrity(&IntegrityKey::long_term(
        PasswordAlgorithm::Md5,
        v["username"].as_str().unwrap(),
        v["realm"].as_str().unwrap(),
        "TheMatrIX",
    ))
    .unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], &hex(v["message"].as_str().unwrap())[..]);
}

#[test]
fn tampering_with_a_vector_is_detected() {
    let v = vector("rfc5769-2.1-sample-request");
    let bytes = hex(v["message"].as_str().unwrap());
    // Flip a padding byte of USERNAME: FINGERPRINT catches it first.
    let mut t = bytes.clone();
    t[72] ^= 1;
    assert!(matches!(
        Message::new_checked(&t[..]),
        Err(sansrtc_stun::Error::FingerprintMismatch { .. })
    ));
    // Without the FINGERPRINT check, integrity catches it.
    let m = Message::new_checked_structure(&t[..]).unwrap();
    assert!(
        m.verify_integrity(&IntegrityKey::short_term("VOkJxbRl1RmTxUk/WvJxBt"))
            .is_err()
    );
}
