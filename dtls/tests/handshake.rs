//! Our client with our server, in memory: every suite, group and SRTP profile, HVR,
//! application data, close_notify, both crypto backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Outcome, configs, handshake, run};
use sansrtc_dtls::{CipherSuite, Error, Event, NamedGroup, Role, SrtpProfile};

#[test]
fn default_handshake_ring() {
    let (c, s) = configs(false);
    let cfp = c.certificate.fingerprint();
    let sfp = s.certificate.fingerprint();
    let (mut client, mut server, out, mut now) = handshake(c, s);
    let cc = out.connected(Role::Client).expect("client connected");
    let sc = out.connected(Role::Server).expect("server connected");
    assert_eq!(cc.cipher_suite, CipherSuite::EcdheEcdsaAes128GcmSha256);
    assert_eq!(cc.group, NamedGroup::X25519);
    assert_eq!(cc.srtp_profile, Some(SrtpProfile::AeadAes128Gcm));
    assert_eq!(cc.keying_material.len(), 56);
    assert_eq!(cc.keying_material, sc.keying_material);
    assert_eq!(cc.peer_fingerprint, sfp);
    assert_eq!(sc.peer_fingerprint, cfp);
    assert_eq!(
        client
            .export_keying_material(b"EXTRACTOR-dtls_srtp", 56)
            .unwrap(),
        server
            .export_keying_material(b"EXTRACTOR-dtls_srtp", 56)
            .unwrap()
    );
    // Application data both ways.
    client.send(b"hello server").unwrap();
    server.send(b"hello client").unwrap();
    let mut o = Outcome::default();
    run(
        &mut client,
        &mut server,
        &mut now,
        100,
        &mut |_, d| Some(d),
        &mut o,
    );
    assert_eq!(
        o.server_events,
        vec![Event::ApplicationData(b"hello server".to_vec().into())]
    );
    assert_eq!(
        o.client_events,
        vec![Event::ApplicationData(b"hello client".to_vec().into())]
    );
    // close_notify.
    client.close();
    let mut o = Outcome::default();
    run(
        &mut client,
        &mut server,
        &mut now,
        100,
        &mut |_, d| Some(d),
        &mut o,
    );
    assert_eq!(o.closed(Role::Server), Some(&Error::PeerClosed));
    assert_eq!(o.closed(Role::Client), Some(&Error::Closed));
    assert!(server.is_closed() && client.is_closed());
    assert!(server.send(b"x").is_err());
}

#[test]
fn every_suite_group_and_profile() {
    for suite in [
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
    ] {
        for group in [NamedGroup::X25519, NamedGroup::P256] {
            for profile in SrtpProfile::ALL {
                let (mut c, mut s) = configs(false);
                c.cipher_suites = vec![suite];
                s.groups = vec![group];
                s.srtp_profiles = vec![profile];
                let (mut client, mut server, out, mut now) = handshake(c, s);
                let cc = out
                    .connected(Role::Client)
                    .unwrap_or_else(|| panic!("{suite:?} {group:?} {profile:?}: {out:?}"));
                let sc = out.connected(Role::Server).unwrap();
                assert_eq!(
                    (cc.cipher_suite, cc.group, cc.srtp_profile),
                    (suite, group, Some(profile))
                );
                assert_eq!(cc.keying_material.len(), profile.keying_material_len());
                assert_eq!(cc.keying_material, sc.keying_material);
                client.send(&[7u8; 1200]).unwrap();
                let mut o = Outcome::default();
                run(
                    &mut client,
                    &mut server,
                    &mut now,
                    10,
                    &mut |_, d| Some(d),
                    &mut o,
                );
                assert_eq!(
                    o.server_events,
                    vec![Event::ApplicationData(vec![7u8; 1200].into())]
                );
            }
        }
    }
}

#[test]
fn hello_verify_request_and_small_mtu() {
    let (mut c, mut s) = configs(false);
    s.hello_verify = true;
    c.mtu = 300;
    s.mtu = 300;
    let (_, _, out, _) = handshake(c, s);
    assert!(out.connected(Role::Client).is_some(), "{out:?}");
    assert!(out.connected(Role::Server).is_some());
    // Every datagram respects the MTU, so certificates were fragmented.
    assert!(out.datagrams.iter().all(|(_, d)| d.len() <= 300));
    // HelloVerifyRequest: second server datagram is the HVR (handshake type 3 at offset 13).
    let first_server = out
        .datagrams
        .iter()
        .find(|(r, _)| *r == Role::Server)
        .unwrap();
    assert_eq!(first_server.1[13], 3);
}

#[test]
fn deterministic_backend_is_reproducible() {
    let run_once = || {
        let (mut c, mut s) = configs(true);
        // Same certificates in both runs, so the bytes can match.
        let cc = sansrtc_dtls::Certificate::from_der(
            include_bytes!("data/client_cert.der").to_vec(),
            include_bytes!("data/client_key.pk8").to_vec(),
        );
        let sc = sansrtc_dtls::Certificate::from_der(
            include_bytes!("data/server_cert.der").to_vec(),
            include_bytes!("data/server_key.pk8").to_vec(),
        );
        c.certificate = cc;
        s.certificate = sc;
        c.peer_verification = sansrtc_dtls::PeerVerification::AcceptAny;
        s.peer_verification = sansrtc_dtls::PeerVerification::AcceptAny;
        let (_, _, out, _) = handshake(c, s);
        assert!(out.connected(Role::Client).is_some(), "{out:?}");
        out.datagrams
    };
    assert_eq!(run_once(), run_once());
}

#[test]
fn no_common_srtp_profile_fails_cleanly() {
    let (mut c, mut s) = configs(false);
    c.srtp_profiles = vec![SrtpProfile::Aes128CmHmacSha1_32];
    s.srtp_profiles = vec![SrtpProfile::AeadAes256Gcm];
    let (_, _, out, _) = handshake(c, s);
    assert_eq!(
        out.closed(Role::Server),
        Some(&Error::NoCommonParameters("SRTP protection profile"))
    );
    assert_eq!(
        out.closed(Role::Client),
        Some(&Error::PeerAlert(
            sansrtc_dtls::AlertDescription::HandshakeFailure
        ))
    );
}
