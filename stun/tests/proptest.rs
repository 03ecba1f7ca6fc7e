//! Property tests: Repr -> emit -> parse is identity, parse never panics, and any single bit
//! flip of a signed, fingerprinted message is detected.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use sansrtc_stun::wire::{PasswordAlgorithmParams, PasswordAlgorithmsIter, UnknownAttributesIter};
use sansrtc_stun::{
    Attribute, Class, ErrorCode, IntegrityKey, Message, MessageBuilder, MessageRepr, MessageType,
    Method, TransactionId, attr,
};
use std::net::SocketAddr;

/// Owned attribute data that an [`Attribute`] can borrow.
#[derive(Clone, Debug)]
enum Owned {
    Mapped(SocketAddr),
    XorMapped(SocketAddr),
    AltServer(SocketAddr),
    Username(String),
    Realm(String),
    Nonce(String),
    Software(String),
    AltDomain(String),
    UserHash([u8; 32]),
    Error(u16, String),
    Priority(u32),
    UseCandidate,
    Controlled(u64),
    Controlling(u64),
    Unknown(Vec<u8>),
    PwAlgs(Vec<u8>),
    PwAlg(u16, Vec<u8>),
    Other(u16, Vec<u8>),
}

impl Owned {
    fn attribute(&self) -> Attribute<'_> {
        match self {
            Owned::Mapped(a) => Attribute::MappedAddress(*a),
            Owned::XorMapped(a) => Attribute::XorMappedAddress(*a),
            Owned::AltServer(a) => Attribute::AlternateServer(*a),
            Owned::Username(s) => Attribute::Username(s),
            Owned::Realm(s) => Attribute::Realm(s),
            Owned::Nonce(s) => Attribute::Nonce(s),
            Owned::Software(s) => Attribute::Software(s),
            Owned::AltDomain(s) => Attribute::AlternateDomain(s),
            Owned::UserHash(h) => Attribute::UserHash(h),
            Owned::Error(code, reason) => Attribute::ErrorCode(ErrorCode {
                code: *code,
                reason,
            }),
            Owned::Priority(p) => Attribute::Priority(*p),
            Owned::UseCandidate => Attribute::UseCandidate,
            Owned::Controlled(t) => Attribute::IceControlled(*t),
            Owned::Controlling(t) => Attribute::IceControlling(*t),
            Owned::Unknown(v) => {
                Attribute::UnknownAttributes(UnknownAttributesIter::from_wire(v).unwrap())
            }
            Owned::PwAlgs(v) => {
                Attribute::PasswordAlgorithms(PasswordAlgorithmsIter::from_wire(v).unwrap())
            }
            Owned::PwAlg(algorithm, params) => {
                Attribute::PasswordAlgorithm(PasswordAlgorithmParams {
                    algorithm: *algorithm,
                    params,
                })
            }
            Owned::Other(t, v) => Attribute::Other {
                attr_type: *t,
                value: v,
            },
        }
    }
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, p)| SocketAddr::from((ip, p))),
    ]
}

fn pw_algs() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..7)),
        0..4,
    )
    .prop_map(|list| {
        let mut v = Vec::new();
        for (alg, params) in list {
            v.extend_from_slice(&alg.to_be_bytes());
            v.extend_from_slice(&(params.len() as u16).to_be_bytes());
            v.extend_from_slice(&params);
            while v.len() % 4 != 0 {
                v.push(0);
            }
        }
        v
    })
}

fn owned() -> impl Strategy<Value = Owned> {
    let text = "\\PC{0,40}";
    prop_oneof![
        addr().prop_map(Owned::Mapped),
        addr().prop_map(Owned::XorMapped),
        addr().prop_map(Owned::AltServer),
        text.prop_map(Owned::Username),
        text.prop_map(Owned::Realm),
        text.prop_map(Owned::Nonce),
        text.prop_map(Owned::Software),
        "[a-z0-9.-]{0,60}".prop_map(Owned::AltDomain),
        any::<[u8; 32]>().prop_map(Owned::UserHash),
        (300u16..700, text).prop_map(|(c, r)| Owned::Error(c, r)),
        any::<u32>().prop_map(Owned::Priority),
        Just(Owned::UseCandidate),
        any::<u64>().prop_map(Owned::Controlled),
        any::<u64>().prop_map(Owned::Controlling),
        prop::collection::vec(any::<u16>(), 0..6)
            .prop_map(|t| Owned::Unknown(t.iter().flat_map(|x| x.to_be_bytes()).collect())),
        pw_algs().prop_map(Owned::PwAlgs),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..9))
            .prop_map(|(a, p)| Owned::PwAlg(a, p)),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_filter("not a type with a typed decoding", |(t, _)| {
                !sansrtc_stun::wire::is_known(*t)
            })
            .prop_map(|(t, v)| Owned::Other(t, v)),
    ]
}

fn message_type() -> impl Strategy<Value = MessageType> {
    (0u16..0x1000, 0u8..4).prop_map(|(m, c)| {
        let class = [
            Class::Request,
            Class::Indication,
            Class::SuccessResponse,
            Class::ErrorResponse,
        ][c as usize];
        MessageType::new(class, Method::new(m).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn repr_emit_parse_roundtrip(
        t in message_type(),
        id in any::<[u8; 12]>(),
        attrs in prop::collection::vec(owned(), 0..12),
    ) {
        let repr = MessageRepr {
            message_type: t,
            transaction_id: TransactionId(id),
            attributes: attrs.iter().map(Owned::attribute).collect(),
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        let n = repr.emit(&mut buf).unwrap();
        prop_assert_eq!(n, repr.buffer_len());
        let parsed = MessageRepr::parse(&buf[..n]).unwrap();
        prop_assert_eq!(&parsed, &repr);
        // The zero-copy view agrees.
        let m = Message::new_checked(&buf[..n]).unwrap();
        prop_assert_eq!(m.message_type(), t);
        prop_assert_eq!(m.attributes().count(), attrs.len());
        // A buffer one byte short is refused, not overrun.
        if n > 20 {
            let mut short = vec![0u8; n - 1];
            prop_assert!(repr.emit(&mut short).is_err());
        }
    }

    #[test]
    fn any_single_bit_flip_is_detected(
        attrs in prop::collection::vec(owned(), 0..6),
        id in any::<[u8; 12]>(),
        sha256 in any::<bool>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let key = IntegrityKey::short_term("flip-test-password");
        let mut buf = vec![0u8; 2048];
        let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId(id)).unwrap();
        for a in &attrs {
            b.add(&a.attribute()).unwrap();
        }
        let n = if sha256 {
            b.finish_with_integrity_sha256(&key, 32).unwrap()
        } else {
            b.finish_with_integrity(&key).unwrap()
        };
        let m = Message::new_checked(&buf[..n]).unwrap();
        m.verify_integrity(&key).unwrap();
        let bit = bit.index(n * 8);
        buf[bit / 8] ^= 1 << (bit % 8);
        let broken = match Message::new_checked_structure(&buf[..n]) {
            Err(_) => true,
            Ok(m) => m.verify_fingerprint().is_err() || m.verify_integrity(&key).is_err(),
        };
        prop_assert!(broken, "flip of bit {} went unnoticed", bit);
    }

    #[test]
    fn parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Message::new_checked(&data[..]);
        let _ = MessageRepr::parse(&data);
        let _ = sansrtc_stun::framing::message_len(&data);
    }

    #[test]
    fn parse_never_panics_behind_a_valid_header(
        t in 0u16..0x4000,
        body in prop::collection::vec(any::<u8>(), 0..40).prop_map(|mut v| { v.truncate(v.len() / 4 * 4); v }),
        tweak in prop::collection::vec((0usize..64, any::<u8>()), 0..4),
    ) {
        // Plausible attribute headers inside a correct STUN header reach the TLV walker.
        let mut m = vec![0u8; 20];
        m[0..2].copy_from_slice(&t.to_be_bytes());
        m[2..4].copy_from_slice(&(body.len() as u16).to_be_bytes());
        m[4..8].copy_from_slice(&0x2112_A442u32.to_be_bytes());
        m.extend_from_slice(&body);
        for (at, v) in tweak {
            if 20 + at < m.len() {
                m[20 + at] = v;
            }
        }
        if let Ok(msg) = Message::new_checked_structure(&m[..]) {
            for a in msg.decoded_attributes() {
                let _ = a;
            }
            let _ = msg.verify_integrity(&IntegrityKey::short_term("x"));
            let _ = msg.unknown_comprehension_required().count();
            prop_assert!(MessageRepr::parse(&m).is_ok());
        }
    }
}

#[test]
fn attribute_numbers_are_consistent() {
    // Every typed variant reports the type number it was decoded from.
    let t = TransactionId::default();
    for (ty, v) in [
        (attr::PRIORITY, vec![0, 0, 0, 1]),
        (attr::USE_CANDIDATE, vec![]),
        (attr::ICE_CONTROLLING, vec![0; 8]),
        (attr::ICE_CONTROLLED, vec![0; 8]),
        (attr::SOFTWARE, b"x".to_vec()),
        (attr::ALTERNATE_DOMAIN, b"example.org".to_vec()),
        (attr::ALTERNATE_SERVER, vec![0, 1, 0, 80, 1, 2, 3, 4]),
    ] {
        assert_eq!(Attribute::decode(ty, &v, &t).unwrap().attr_type(), ty);
    }
}
