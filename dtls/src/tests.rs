//! Negative tests that need the endpoint's internals (to seal forged records with real keys).
//! Each asserts a precise error and that nothing panics.

use std::time::{Duration, Instant};

use crate::wire::Reader;
use crate::wire::handshake::{ClientHello, Fragment, HandshakeType};
use crate::wire::record::{ContentType, DTLS_1_2, Record};
use crate::{
    Certificate, Config, CryptoBackend, Endpoint, Error, Event, Fingerprint, PeerVerification, Role,
};

fn cert(w: &str) -> Certificate {
    match w {
        "c" => crate::fuzzing_certs::client(),
        _ => crate::fuzzing_certs::server(),
    }
}

fn configs() -> (Config, Config) {
    let (cc, sc) = (cert("c"), cert("s"));
    let mut c = Config::new(
        Role::Client,
        cc.clone(),
        PeerVerification::Fingerprints(vec![sc.fingerprint()]),
    );
    let mut s = Config::new(
        Role::Server,
        sc,
        PeerVerification::Fingerprints(vec![cc.fingerprint()]),
    );
    c.crypto = CryptoBackend::InsecureDeterministic;
    s.crypto = CryptoBackend::InsecureDeterministic;
    c.seed = Some(11);
    s.seed = Some(22);
    (c, s)
}

fn drain(ep: &mut Endpoint) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        v.push(t.payload.to_vec());
    }
    v
}

fn events(ep: &mut Endpoint) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(e) = ep.poll_event() {
        v.push(e);
    }
    v
}

fn closed_reason(ev: &[Event]) -> Option<Error> {
    ev.iter().find_map(|e| {
        if let Event::Closed { reason } = e {
            Some(reason.clone())
        } else {
            None
        }
    })
}

/// Deliver every datagram in `ds` to `ep`, collecting errors.
fn deliver(ep: &mut Endpoint, now: Instant, ds: &[Vec<u8>]) -> Vec<Error> {
    ds.iter()
        .filter_map(|d| ep.handle_receive(now, d).err())
        .collect()
}

fn connect(c: Config, s: Config) -> (Endpoint, Endpoint, Instant) {
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    for _ in 0..10 {
        let a = drain(&mut client);
        assert!(deliver(&mut server, now, &a).is_empty());
        let b = drain(&mut server);
        assert!(deliver(&mut client, now, &b).is_empty());
    }
    assert!(client.is_connected() && server.is_connected());
    events(&mut client);
    events(&mut server);
    (client, server, now)
}

/// A plaintext handshake record holding one fragment.
fn hs_record(epoch: u16, seq: u64, f: &Fragment<'_>) -> Vec<u8> {
    let mut p = Vec::new();
    f.emit(&mut p);
    let mut r = Record::header(ContentType::Handshake, DTLS_1_2, epoch, seq, p.len());
    r.extend_from_slice(&p);
    r
}

fn client_hello_body() -> Vec<u8> {
    let (c, _) = configs();
    let mut client = Endpoint::new(c, Instant::now()).unwrap();
    let d = drain(&mut client);
    let (recs, _) = Record::parse_datagram(&d[0]);
    let f = Fragment::parse_all(recs[0].fragment).unwrap();
    f[0].body.to_vec()
}

#[test]
fn wrong_fingerprint_client_side() {
    let (mut c, s) = configs();
    c.peer_verification = PeerVerification::Fingerprints(vec![Fingerprint([0xab; 32])]);
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    let a = drain(&mut client);
    deliver(&mut server, now, &a);
    let b = drain(&mut server);
    let errs = deliver(&mut client, now, &b);
    assert!(errs.contains(&Error::FingerprintMismatch), "{errs:?}");
    assert_eq!(
        closed_reason(&events(&mut client)),
        Some(Error::FingerprintMismatch)
    );
    // The client told the server: bad_certificate.
    let alert = drain(&mut client);
    deliver(&mut server, now, &alert);
    assert_eq!(
        closed_reason(&events(&mut server)),
        Some(Error::PeerAlert(crate::AlertDescription::BadCertificate))
    );
}

#[test]
fn wrong_fingerprint_server_side() {
    let (c, mut s) = configs();
    s.peer_verification = PeerVerification::Fingerprints(vec![Fingerprint([0xcd; 32])]);
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    let mut errs = Vec::new();
    for _ in 0..4 {
        let a = drain(&mut client);
        errs.extend(deliver(&mut server, now, &a));
        let b = drain(&mut server);
        deliver(&mut client, now, &b);
    }
    assert!(errs.contains(&Error::FingerprintMismatch), "{errs:?}");
    assert_eq!(
        closed_reason(&events(&mut server)),
        Some(Error::FingerprintMismatch)
    );
    assert!(!client.is_connected());
}

/// Run to the point where the client's flight 5 is queued; returns it.
fn up_to_flight5() -> (Endpoint, Endpoint, Instant, Vec<Vec<u8>>) {
    let (c, s) = configs();
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    let a = drain(&mut client);
    deliver(&mut server, now, &a);
    let b = drain(&mut server);
    deliver(&mut client, now, &b);
    let f5 = drain(&mut client);
    (client, server, now, f5)
}

/// Rewrite flight 5: `f` may change each record (content type, epoch, plaintext).
fn rewrite(
    client: &Endpoint,
    f5: &[Vec<u8>],
    f: &dyn Fn(ContentType, u16, Vec<u8>) -> Vec<u8>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in f5 {
        let (recs, _) = Record::parse_datagram(d);
        let mut nd = Vec::new();
        for r in recs {
            if r.epoch == 0 {
                let p = f(r.content_type, 0, r.fragment.to_vec());
                nd.extend(Record::header(r.content_type, r.version, 0, r.seq, p.len()));
                nd.extend(p);
            } else {
                let c = client.write_cipher.as_ref().unwrap();
                let pt = c
                    .open(
                        r.epoch,
                        r.seq,
                        r.content_type.as_u8(),
                        r.version,
                        r.fragment,
                    )
                    .unwrap();
                let p = f(r.content_type, r.epoch, pt);
                let ct = c
                    .seal(r.epoch, r.seq, r.content_type.as_u8(), r.version, &p)
                    .unwrap();
                nd.extend(Record::header(
                    r.content_type,
                    r.version,
                    r.epoch,
                    r.seq,
                    ct.len(),
                ));
                nd.extend(ct);
            }
        }
        out.push(nd);
    }
    out
}

#[test]
fn bad_finished() {
    let (client, mut server, now, f5) = up_to_flight5();
    let forged = rewrite(&client, &f5, &|ct, epoch, mut p| {
        if ct == ContentType::Handshake && epoch == 1 {
            let n = p.len();
            p[n - 1] ^= 1; // last byte of verify_data
        }
        p
    });
    let errs = deliver(&mut server, now, &forged);
    assert_eq!(errs, vec![Error::BadFinished]);
    assert_eq!(
        closed_reason(&events(&mut server)),
        Some(Error::BadFinished)
    );
}

#[test]
fn certificate_verify_must_verify() {
    let (client, mut server, now, f5) = up_to_flight5();
    let forged = rewrite(&client, &f5, &|ct, epoch, p| {
        if ct == ContentType::Handshake && epoch == 0 {
            let frags = Fragment::parse_all(&p).unwrap();
            let mut out = Vec::new();
            for f in frags {
                let mut body = f.body.to_vec();
                if f.msg_type == HandshakeType::CertificateVerify {
                    let n = body.len();
                    body[n - 3] ^= 0x40;
                }
                Fragment { body: &body, ..f }.emit(&mut out);
            }
            out
        } else {
            p
        }
    });
    let errs = deliver(&mut server, now, &forged);
    assert_eq!(
        errs.first(),
        Some(&Error::BadSignature("CertificateVerify"))
    );
    assert!(server.is_closed());
}

#[test]
fn certificate_without_certificate_verify_fails() {
    let (client, mut server, now, f5) = up_to_flight5();
    // Drop the CertificateVerify fragment: Finished then arrives in its place.
    let forged = rewrite(&client, &f5, &|ct, epoch, p| {
        if ct == ContentType::Handshake && epoch == 0 {
            let frags = Fragment::parse_all(&p).unwrap();
            let mut out = Vec::new();
            for f in frags
                .iter()
                .filter(|f| f.msg_type != HandshakeType::CertificateVerify)
            {
                f.emit(&mut out);
            }
            out
        } else {
            p
        }
    });
    let _ = deliver(&mut server, now, &forged);
    let reason = closed_reason(&events(&mut server));
    // The Finished holds the CertificateVerify's message_seq slot's successor; the server
    // waits for the missing message and never connects. Whatever arrives, it never accepts.
    assert!(!server.is_connected());
    if let Some(r) = reason {
        assert!(matches!(r, Error::UnexpectedMessage { .. }), "{r:?}");
    }
}

#[test]
fn certificate_verify_skipped_with_renumbering_fails() {
    let (client, mut server, now, f5) = up_to_flight5();
    // Remove CertificateVerify and renumber Finished into its slot: the server must refuse.
    let forged = rewrite(&client, &f5, &|ct, _epoch, p| {
        if ct != ContentType::Handshake {
            return p;
        }
        let frags = Fragment::parse_all(&p).unwrap();
        let mut out = Vec::new();
        for f in frags {
            match f.msg_type {
                HandshakeType::CertificateVerify => {}
                HandshakeType::Finished => Fragment {
                    message_seq: f.message_seq - 1,
                    ..f
                }
                .emit(&mut out),
                _ => f.emit(&mut out),
            }
        }
        out
    });
    let errs = deliver(&mut server, now, &forged);
    assert!(
        errs.iter().any(|e| matches!(
            e,
            Error::UnexpectedMessage {
                got: "Finished",
                ..
            }
        )),
        "{errs:?}"
    );
    assert!(server.is_closed() && !server.is_connected());
}

#[test]
fn tampered_record_is_dropped_and_connection_survives() {
    let (mut client, mut server, now) = connect(configs().0, configs().1);
    client.send(b"payload").unwrap();
    let mut d = drain(&mut client);
    let n = d[0].len();
    d[0][n - 5] ^= 0x80;
    assert_eq!(server.handle_receive(now, &d[0]), Err(Error::BadRecordMac));
    assert_eq!(server.stats().bad_mac, 1);
    assert!(server.is_connected());
    client.send(b"again").unwrap();
    let d = drain(&mut client);
    assert_eq!(server.handle_receive(now, &d[0]), Ok(()));
    // Replaying the same record is refused.
    assert_eq!(server.handle_receive(now, &d[0]), Err(Error::Replay));
    assert_eq!(
        events(&mut server),
        vec![Event::ApplicationData(b"again".to_vec().into())]
    );
}

#[test]
fn out_of_order_handshake_message_is_fatal() {
    let (_, s) = configs();
    let now = Instant::now();
    let mut server = Endpoint::new(s, now).unwrap();
    let body = [1u8, 4, 0, 0, 0, 0];
    let f = Fragment {
        msg_type: HandshakeType::ClientKeyExchange,
        length: 6,
        message_seq: 0,
        offset: 0,
        body: &body,
    };
    let err = server
        .handle_receive(now, &hs_record(0, 0, &f))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedMessage {
                got: "ClientKeyExchange",
                ..
            }
        ),
        "{err}"
    );
    assert!(server.is_closed());
    // It answered with an unexpected_message alert.
    let alert = drain(&mut server);
    assert_eq!(&alert[0][13..], &[2, 10]);
}

#[test]
fn finished_in_epoch_zero_is_fatal() {
    let (c, _) = configs();
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    drain(&mut client);
    let body = [0u8; 12];
    let f = Fragment {
        msg_type: HandshakeType::Finished,
        length: 12,
        message_seq: 0,
        offset: 0,
        body: &body,
    };
    let err = client
        .handle_receive(now, &hs_record(0, 0, &f))
        .unwrap_err();
    assert_eq!(
        err,
        Error::UnexpectedEpoch {
            got: 0,
            expected: 1
        }
    );
    assert!(client.is_closed());
}

#[test]
fn hello_verify_request_after_server_hello_is_fatal() {
    let (mut client, mut server, now, _f5) = {
        let (c, s) = configs();
        let now = Instant::now();
        let mut client = Endpoint::new(c, now).unwrap();
        let mut server = Endpoint::new(s, now).unwrap();
        let a = drain(&mut client);
        deliver(&mut server, now, &a);
        // Only the ServerHello: cut the first datagram after its first record.
        let b = drain(&mut server);
        let (recs, _) = Record::parse_datagram(&b[0]);
        let sh = recs[0].to_vec();
        assert!(client.handle_receive(now, &sh).is_ok());
        (client, server, now, ())
    };
    let hvr = [0xfe, 0xff, 2, 0xaa, 0xbb];
    // Next expected message_seq is 1.
    let f = Fragment {
        msg_type: HandshakeType::HelloVerifyRequest,
        length: 5,
        message_seq: 1,
        offset: 0,
        body: &hvr,
    };
    let err = client
        .handle_receive(now, &hs_record(0, 1, &f))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedMessage {
                got: "HelloVerifyRequest",
                ..
            }
        ),
        "{err}"
    );
    assert!(client.is_closed());
    drop(server.poll_transmit());
}

#[test]
fn zero_length_fragment() {
    let (_, s) = configs();
    let now = Instant::now();
    let mut server = Endpoint::new(s, now).unwrap();
    let f = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: 100,
        message_seq: 0,
        offset: 10,
        body: &[],
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 0, &f)),
        Err(Error::BadFragment("zero-length fragment"))
    );
    // Not fatal: the real ClientHello still works.
    assert!(!server.is_closed());
    let body = client_hello_body();
    let f = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: body.len() as u32,
        message_seq: 0,
        offset: 0,
        body: &body,
    };
    assert_eq!(server.handle_receive(now, &hs_record(0, 1, &f)), Ok(()));
    assert!(!drain(&mut server).is_empty());
}

#[test]
fn overlapping_fragments() {
    let body = client_hello_body();
    let len = body.len() as u32;
    let (_, s) = configs();
    let now = Instant::now();
    // Consistent overlap is fine (a retransmission fragmented differently).
    let mut server = Endpoint::new(s.clone(), now).unwrap();
    let a = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: len,
        message_seq: 0,
        offset: 0,
        body: &body[..60],
    };
    let b = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: len,
        message_seq: 0,
        offset: 40,
        body: &body[40..],
    };
    assert_eq!(server.handle_receive(now, &hs_record(0, 0, &a)), Ok(()));
    assert_eq!(server.handle_receive(now, &hs_record(0, 1, &b)), Ok(()));
    assert!(
        !drain(&mut server).is_empty(),
        "server answered the reassembled ClientHello"
    );
    // Overlap with different bytes is refused.
    let mut server = Endpoint::new(s, now).unwrap();
    let mut evil = body[40..].to_vec();
    evil[5] ^= 0xff;
    let b = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: len,
        message_seq: 0,
        offset: 40,
        body: &evil,
    };
    assert_eq!(server.handle_receive(now, &hs_record(0, 0, &a)), Ok(()));
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 1, &b)),
        Err(Error::BadFragment(
            "overlapping fragment with different bytes"
        ))
    );
    assert!(drain(&mut server).is_empty());
    // Inconsistent total length.
    let c = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: len + 1,
        message_seq: 0,
        offset: 70,
        body: &body[70..],
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 2, &c)),
        Err(Error::BadFragment(
            "fragment disagrees with earlier fragments of its message"
        ))
    );
    // Past the end.
    let d = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: len,
        message_seq: 0,
        offset: len - 2,
        body: &body[..10],
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 3, &d)),
        Err(Error::BadFragment(
            "fragment extends past the message length"
        ))
    );
}

#[test]
fn fragment_claiming_16_mb() {
    let (_, s) = configs();
    let now = Instant::now();
    let mut server = Endpoint::new(s, now).unwrap();
    let f = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: 0xff_ffff,
        message_seq: 0,
        offset: 0,
        body: &[1; 100],
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 0, &f)),
        Err(Error::MessageTooLarge {
            len: 0xff_ffff,
            cap: 32 * 1024
        })
    );
    assert!(!server.is_closed());
}

#[test]
fn reassembly_total_cap() {
    let (_, mut s) = configs();
    s.max_reassembly_bytes = 1000;
    let now = Instant::now();
    let mut server = Endpoint::new(s, now).unwrap();
    let f = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: 900,
        message_seq: 0,
        offset: 0,
        body: &[1; 10],
    };
    assert_eq!(server.handle_receive(now, &hs_record(0, 0, &f)), Ok(()));
    let g = Fragment {
        msg_type: HandshakeType::Certificate,
        length: 900,
        message_seq: 1,
        offset: 0,
        body: &[1; 10],
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 1, &g)),
        Err(Error::ReassemblyFull)
    );
    let h = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: 9,
        message_seq: 200,
        offset: 0,
        body: &[1; 9],
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 2, &h)),
        Err(Error::BadFragment("message_seq too far ahead"))
    );
}

#[test]
fn duplicate_extension_is_refused() {
    let body = client_hello_body();
    let mut ch = ClientHello::parse(&body).unwrap();
    let dup = ch.extensions[0].clone();
    ch.extensions.push(dup.clone());
    let bad = ch.to_vec();
    assert_eq!(
        ClientHello::parse(&bad),
        Err(Error::DuplicateExtension(dup.typ))
    );
    let (_, s) = configs();
    let now = Instant::now();
    let mut server = Endpoint::new(s, now).unwrap();
    let f = Fragment {
        msg_type: HandshakeType::ClientHello,
        length: bad.len() as u32,
        message_seq: 0,
        offset: 0,
        body: &bad,
    };
    assert_eq!(
        server.handle_receive(now, &hs_record(0, 0, &f)),
        Err(Error::DuplicateExtension(dup.typ))
    );
    assert_eq!(
        closed_reason(&events(&mut server)),
        Some(Error::DuplicateExtension(dup.typ))
    );
    // illegal_parameter alert.
    assert_eq!(&drain(&mut server)[0][13..], &[2, 47]);
}

#[test]
fn renegotiation_is_refused() {
    let (mut client, mut server, now) = connect(configs().0, configs().1);
    let body = client_hello_body();
    let mut p = Vec::new();
    Fragment {
        msg_type: HandshakeType::ClientHello,
        length: body.len() as u32,
        message_seq: 0,
        offset: 0,
        body: &body,
    }
    .emit(&mut p);
    let rec = client.seal_record(ContentType::Handshake, 1, &p).unwrap();
    assert_eq!(server.handle_receive(now, &rec), Err(Error::Renegotiation));
    // A no_renegotiation warning went out; the connection stays up.
    let alert = drain(&mut server);
    assert_eq!(alert.len(), 1);
    client.handle_receive(now, &alert[0]).unwrap();
    assert!(server.is_connected() && client.is_connected());
    // And the client refuses a HelloRequest.
    let mut p = Vec::new();
    Fragment {
        msg_type: HandshakeType::HelloRequest,
        length: 0,
        message_seq: 5,
        offset: 0,
        body: &[],
    }
    .emit(&mut p);
    let rec = server.seal_record(ContentType::Handshake, 1, &p).unwrap();
    assert_eq!(client.handle_receive(now, &rec), Err(Error::Renegotiation));
    assert!(client.is_connected());
}

#[test]
fn unexpected_epoch_after_handshake() {
    let (mut client, mut server, now) = connect(configs().0, configs().1);
    client.send(b"x").unwrap();
    let d = drain(&mut client);
    let (recs, _) = Record::parse_datagram(&d[0]);
    let r = Record {
        epoch: 2,
        ..recs[0].clone()
    };
    assert_eq!(
        server.handle_receive(now, &r.to_vec()),
        Err(Error::UnexpectedEpoch {
            got: 2,
            expected: 1
        })
    );
    // Epoch 0 application data is refused too.
    let r0 = Record {
        epoch: 0,
        seq: 1000,
        ..recs[0].clone()
    };
    assert!(matches!(
        server.handle_receive(now, &r0.to_vec()),
        Err(Error::UnexpectedMessage { .. })
    ));
    assert!(server.is_connected());
    assert_eq!(server.handle_receive(now, &d[0]), Ok(()));
}

#[test]
fn garbage_never_panics_and_is_counted() {
    let (_, s) = configs();
    let now = Instant::now();
    let mut server = Endpoint::new(s, now).unwrap();
    for d in [
        &[][..],
        &[22],
        &[22, 0xfe, 0xfd, 0, 0],
        &[23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        &[0xff; 40],
    ] {
        let _ = server.handle_receive(now, d);
    }
    assert!(server.stats().records_dropped >= 3);
    let mut r = Reader::new(&[1, 2], "x");
    assert!(r.u24().is_err());
}

#[test]
fn retransmission_timer_doubles_and_gives_up() {
    let (c, _) = configs();
    let mut now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let first = drain(&mut client);
    let mut gaps = Vec::new();
    let mut last = now;
    while let Some(t) = client.poll_timeout() {
        gaps.push(t - last);
        last = t;
        now = t;
        client.handle_timeout(now);
        let again = drain(&mut client);
        if !again.is_empty() {
            // Same ClientHello, new record sequence number.
            assert_eq!(again[0][13..], first[0][13..]);
            assert_ne!(again[0][5..11], first[0][5..11]);
        }
    }
    let s = Duration::from_secs;
    assert_eq!(
        gaps,
        vec![s(1), s(2), s(4), s(8), s(16), s(32), s(60), s(60)]
    );
    assert_eq!(
        closed_reason(&events(&mut client)),
        Some(Error::HandshakeTimeout)
    );
}
