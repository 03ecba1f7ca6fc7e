//! A real Chromium 156 DTLS ClientHello, captured on loopback (tests/data/capture_chromium_hello.py,
//! Chromium answering aiortc's offer as DTLS client): 1413 bytes with DTLS 1.3 extensions and
//! an X25519MLKEM768 key share, fragmented over two datagrams (offsets 0-1175, 1175-1413).
//! Our server must reassemble it, ignore what it does not speak, and answer DTLS 1.2.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Instant;

use sansrtc_dtls::wire::handshake::{
    self as hs, ClientHello, Fragment, HandshakeType, ServerHello, ServerKeyExchange, ext,
};
use sansrtc_dtls::wire::record::{ContentType, DTLS_1_2, DTLS_1_3, Record};
use sansrtc_dtls::{Certificate, Config, Endpoint, PeerVerification, Role};

fn hex_lines(s: &str) -> Vec<Vec<u8>> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                .collect()
        })
        .collect()
}

fn mlkem() -> Vec<Vec<u8>> {
    hex_lines(include_str!("data/chromium156_client_hello_mlkem.hex"))
}

/// Reassemble the ClientHello body from datagrams by hand (independently of the crate's
/// reassembler), checking the fragment layout.
fn body(datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for d in datagrams {
        let (recs, err) = Record::parse_datagram(d);
        assert!(err.is_none());
        for r in recs {
            for f in Fragment::parse_all(r.fragment).unwrap() {
                assert_eq!(f.msg_type, HandshakeType::ClientHello);
                body.resize(f.length as usize, 0);
                body[f.offset as usize..f.offset as usize + f.body.len()].copy_from_slice(f.body);
            }
        }
    }
    body
}

#[test]
fn captured_hello_is_what_the_readme_says() {
    let d = mlkem();
    assert_eq!(d.len(), 2);
    let b = body(&d);
    assert_eq!(b.len(), 1413);
    let ch = ClientHello::parse(&b).unwrap();
    assert_eq!(ch.version, DTLS_1_2);
    let versions = hs::parse_client_supported_versions(
        hs::find_ext(&ch.extensions, ext::SUPPORTED_VERSIONS).unwrap(),
    )
    .unwrap();
    assert!(versions.contains(&DTLS_1_3) && versions.contains(&DTLS_1_2));
    let shares =
        hs::parse_client_key_share(hs::find_ext(&ch.extensions, ext::KEY_SHARE).unwrap()).unwrap();
    assert!(shares.contains(&(0x11ec, 1216)), "{shares:?}");
    assert!(ch.cipher_suites.contains(&0xc02b));
}

fn server() -> Endpoint {
    let cfg = Config::new(
        Role::Server,
        Certificate::generate_self_signed().unwrap(),
        PeerVerification::AcceptAny,
    );
    Endpoint::new(cfg, Instant::now()).unwrap()
}

/// Check the server's flight 4: a DTLS 1.2 ServerHello with our choices, an X25519 SKE.
fn check_answer(ep: &mut Endpoint) {
    let mut msgs = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        assert!(t.payload.len() <= 1200);
        let (recs, err) = Record::parse_datagram(&t.payload);
        assert!(err.is_none());
        for r in recs {
            assert_eq!(r.content_type, ContentType::Handshake);
            assert_eq!(r.version, DTLS_1_2);
            for f in Fragment::parse_all(r.fragment).unwrap() {
                assert_eq!(f.offset, 0, "our flight fits unfragmented at MTU 1200");
                msgs.push((f.msg_type, f.body.to_vec()));
            }
        }
    }
    let types: Vec<_> = msgs.iter().map(|m| m.0).collect();
    assert_eq!(
        types,
        [
            HandshakeType::ServerHello,
            HandshakeType::Certificate,
            HandshakeType::ServerKeyExchange,
            HandshakeType::CertificateRequest,
            HandshakeType::ServerHelloDone
        ]
    );
    let sh = ServerHello::parse(&msgs[0].1).unwrap();
    assert_eq!(sh.version, DTLS_1_2);
    assert_eq!(sh.cipher_suite, 0xc02b);
    assert!(hs::find_ext(&sh.extensions, ext::EXTENDED_MASTER_SECRET).is_some());
    assert!(hs::find_ext(&sh.extensions, ext::SUPPORTED_VERSIONS).is_none());
    assert!(hs::find_ext(&sh.extensions, ext::KEY_SHARE).is_none());
    let (profiles, mki) =
        hs::parse_use_srtp(hs::find_ext(&sh.extensions, ext::USE_SRTP).unwrap()).unwrap();
    assert_eq!(profiles, vec![0x0007]);
    assert!(mki.is_empty());
    let ske = ServerKeyExchange::parse(&msgs[2].1).unwrap();
    assert_eq!(ske.group, 29);
    assert_eq!(ske.public.len(), 32);
}

#[test]
fn server_accepts_fragmented_pq_hello_and_answers_dtls12() {
    let mut ep = server();
    let d = mlkem();
    // The first fragment alone produces nothing.
    assert_eq!(ep.handle_receive(Instant::now(), &d[0]), Ok(()));
    assert!(ep.poll_transmit().is_none());
    assert_eq!(ep.handle_receive(Instant::now(), &d[1]), Ok(()));
    check_answer(&mut ep);
}

#[test]
fn server_accepts_fragments_in_reverse_order_and_duplicated() {
    let mut ep = server();
    let d = mlkem();
    assert_eq!(ep.handle_receive(Instant::now(), &d[1]), Ok(()));
    assert_eq!(
        ep.handle_receive(Instant::now(), &d[1]),
        Err(sansrtc_dtls::Error::Replay)
    );
    assert_eq!(ep.handle_receive(Instant::now(), &d[0]), Ok(()));
    check_answer(&mut ep);
}

#[test]
fn server_accepts_x25519_only_hello() {
    let mut ep = server();
    let d = hex_lines(include_str!("data/chromium156_client_hello_x25519.hex"));
    assert_eq!(ep.handle_receive(Instant::now(), &d[0]), Ok(()));
    check_answer(&mut ep);
}
