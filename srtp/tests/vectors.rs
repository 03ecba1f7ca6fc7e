//! Every SRTP vector of ../shared/vectors (copied into tests/data).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::{h, hex, load};
use sansrtc_srtp::{
    Config, Error, ProtectionProfile, Role, Session, SessionKeys, aes_cm_apply_keystream, kdf,
    split_keying_material,
};

#[test]
fn aes_cm_keystream_rfc3711_b2_rfc6188_7_1_7_3() {
    let data = load("srtp_aes_cm_kdf.json");
    let mut n = 0;
    for v in data["vectors"].as_array().unwrap() {
        if v.get("keystream_blocks").is_none() {
            continue;
        }
        let key = h(v, "session_key");
        let icb: [u8; 16] = h(v, "initial_counter_block").try_into().unwrap();
        let len = v["keystream_segment_length_octets"].as_u64().unwrap() as usize;
        let mut ks = vec![0u8; len];
        aes_cm_apply_keystream(&key, &icb, &mut ks).unwrap();
        let base = u128::from_be_bytes(icb);
        for b in v["keystream_blocks"].as_array().unwrap() {
            let ctr = u128::from_be_bytes(h(b, "counter").try_into().unwrap());
            let off = ((ctr - base) * 16) as usize;
            assert_eq!(&ks[off..off + 16], &h(b, "keystream")[..], "{}", v["id"]);
            n += 1;
        }
    }
    assert_eq!(n, 18);
}

#[test]
fn kdf_rfc3711_b3_rfc6188_7_2_7_4() {
    let data = load("srtp_aes_cm_kdf.json");
    let mut n = 0;
    for v in data["vectors"].as_array().unwrap() {
        if v.get("master_key").is_none() {
            continue;
        }
        let mk = h(v, "master_key");
        let ms = h(v, "master_salt");
        let check = |label: u8, expected: Vec<u8>| {
            let mut out = vec![0u8; expected.len()];
            kdf(&mk, &ms, label, &mut out).unwrap();
            assert_eq!(out, expected, "{} label {label}", v["id"]);
        };
        check(0, h(v, "srtp_cipher_key_label0"));
        check(1, h(v, "srtp_auth_key_label1_first_20_octets"));
        check(2, h(v, "srtp_cipher_salt_label2"));
        if let Some(full) = v.get("srtp_auth_key_label1_94_octets") {
            check(1, hex(full.as_str().unwrap()));
        }
        let c = &v["computed_srtcp_keys_not_in_rfc"];
        check(3, h(c, "srtcp_cipher_key_label3"));
        check(4, h(c, "srtcp_auth_key_label4_20_octets"));
        check(5, h(c, "srtcp_cipher_salt_label5"));
        n += 1;
    }
    assert_eq!(n, 3);
}

#[test]
fn session_keys_from_config_match_libsrtp() {
    let data = load("srtp_protect_libsrtp.json");
    let v = &data["vectors"][0];
    let cfg = Config::new(
        ProtectionProfile::Aes128CmHmacSha1_80,
        &h(v, "master_key"),
        &h(v, "master_salt"),
    )
    .unwrap();
    let k = SessionKeys::derive(&cfg).unwrap();
    let d = &data["derived_session_keys"];
    assert_eq!(k.rtp_cipher_key, h(d, "srtp_cipher_key"));
    assert_eq!(k.rtp_auth_key, h(d, "srtp_auth_key"));
    assert_eq!(k.rtp_salt, h(d, "srtp_salt"));
    assert_eq!(k.rtcp_cipher_key, h(d, "srtcp_cipher_key"));
    assert_eq!(k.rtcp_auth_key, h(d, "srtcp_auth_key"));
    assert_eq!(k.rtcp_salt, h(d, "srtcp_salt"));
}

fn profile_of(name: &str) -> ProtectionProfile {
    name.parse().unwrap()
}

#[test]
fn libsrtp_generated_packets_both_directions() {
    let data = load("srtp_protect_libsrtp.json");
    let vectors = data["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 8);
    // rtp-1 and rtp-3 share a session; rtp-2 and rtcp-1 are first packets of fresh sessions.
    let mut sessions: std::collections::HashMap<String, (Session, Session)> = Default::default();
    for v in vectors {
        let profile = profile_of(v["profile"].as_str().unwrap());
        let id = v["id"].as_str().unwrap();
        let mut cfg = Config::new(profile, &h(v, "master_key"), &h(v, "master_salt")).unwrap();
        cfg.initial_srtcp_index = 1;
        let fresh = id.ends_with("rtp-2") || id.ends_with("rtcp-1");
        let key = if fresh {
            id.to_string()
        } else {
            v["profile"].as_str().unwrap().to_string()
        };
        let (tx, rx) = sessions.entry(key).or_insert_with(|| {
            (
                Session::new(cfg.clone()).unwrap(),
                Session::new(cfg.clone()).unwrap(),
            )
        });
        if v["kind"] == "SRTP" {
            let plain = h(v, "plaintext_rtp_packet");
            let protected = h(v, "protected_srtp_packet");
            let mut p = plain.clone();
            tx.protect_rtp(&mut p).unwrap();
            assert_eq!(p, protected, "{id} protect");
            rx.unprotect_rtp(&mut p).unwrap();
            assert_eq!(p, plain, "{id} unprotect");
        } else {
            let plain = h(v, "plaintext_rtcp_packet");
            let protected = h(v, "protected_srtcp_packet");
            let mut p = plain.clone();
            tx.protect_rtcp(&mut p).unwrap();
            assert_eq!(p, protected, "{id} protect");
            rx.unprotect_rtcp(&mut p).unwrap();
            assert_eq!(p, plain, "{id} unprotect");
        }
    }
}

fn gcm_session(profile: ProtectionProfile, key: &[u8], salt: &[u8], srtcp_index: u32) -> Session {
    let mut cfg = Config::new(
        profile,
        &vec![0u8; profile.master_key_len()],
        &vec![0u8; profile.master_salt_len()],
    )
    .unwrap();
    cfg.initial_srtcp_index = srtcp_index;
    let keys = SessionKeys {
        rtp_cipher_key: key.to_vec(),
        rtp_auth_key: vec![],
        rtp_salt: salt.to_vec(),
        rtcp_cipher_key: key.to_vec(),
        rtcp_auth_key: vec![],
        rtcp_salt: salt.to_vec(),
    };
    Session::with_session_keys(cfg, &keys).unwrap()
}

#[test]
fn rfc7714_srtp_and_srtcp_vectors() {
    let data = load("srtp_aes_gcm_rfc7714.json");
    let mut n = 0;
    for v in data["vectors"].as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        let profile = profile_of(v["profile"].as_str().unwrap());
        let key = h(v, "session_key");
        let salt = h(v, "session_salt");
        if id.contains("-srtp-") {
            if id.ends_with("auth-only") {
                // SRTP with GCM authentication only has no signalling in SRTP itself (RFC 7714
                // 16.x.3 is the null-cipher variant); not a profile this crate offers.
                continue;
            }
            let plain = h(v, "plaintext_rtp_packet");
            let protected = h(v, "protected_srtp_packet");
            let mut tx = gcm_session(profile, &key, &salt, 0);
            let mut p = plain.clone();
            tx.protect_rtp(&mut p).unwrap();
            assert_eq!(p, protected, "{id}");
            let mut rx = gcm_session(profile, &key, &salt, 0);
            rx.unprotect_rtp(&mut p).unwrap();
            assert_eq!(p, plain, "{id}");
            n += 1;
        } else {
            let plain = h(v, "plaintext_rtcp_packet");
            let protected = h(v, "protected_srtcp_packet");
            let index = v["srtcp_index"].as_u64().unwrap() as u32;
            if v["mode"].as_str().unwrap().starts_with("encrypt") {
                let mut tx = gcm_session(profile, &key, &salt, index);
                let mut p = plain.clone();
                tx.protect_rtcp(&mut p).unwrap();
                assert_eq!(p, protected, "{id}");
            }
            // Receive (E = 1 and E = 0).
            let mut rx = gcm_session(profile, &key, &salt, 0);
            let mut p = protected.clone();
            rx.unprotect_rtcp(&mut p).unwrap();
            assert_eq!(p, plain, "{id}");
            let mut again = protected.clone();
            assert_eq!(
                rx.unprotect_rtcp(&mut again),
                Err(Error::Replayed {
                    index: u64::from(index)
                })
            );
            // Any bit flip fails.
            for bit in [
                0usize,
                9 * 8 + 3,
                protected.len() * 8 - 1,
                protected.len() * 8 - 40,
            ] {
                let mut rx = gcm_session(profile, &key, &salt, 0);
                let mut bad = protected.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(rx.unprotect_rtcp(&mut bad).is_err(), "{id} bit {bit}");
            }
            n += 1;
        }
    }
    assert_eq!(n, 6);
}

#[test]
fn rfc7714_kdf_computed_matches_libsrtp_output() {
    let data = load("srtp_aes_gcm_rfc7714.json");
    let mut n = 0;
    for v in data["derived_session_keys_computed"].as_array().unwrap() {
        let profile = profile_of(v["profile"].as_str().unwrap());
        let mut cfg = Config::new(profile, &h(v, "master_key"), &h(v, "master_salt_96")).unwrap();
        cfg.initial_srtcp_index = v["srtcp_index_used"].as_u64().unwrap() as u32;
        let k = SessionKeys::derive(&cfg).unwrap();
        assert_eq!(k.rtp_cipher_key, h(v, "srtp_session_key_label0"));
        assert_eq!(k.rtp_salt, h(v, "srtp_session_salt_label2"));
        assert_eq!(k.rtcp_cipher_key, h(v, "srtcp_session_key_label3"));
        assert_eq!(k.rtcp_salt, h(v, "srtcp_session_salt_label5"));
        let mut tx = Session::new(cfg.clone()).unwrap();
        let mut rx = Session::new(cfg).unwrap();
        let mut p = h(v, "rtp_packet");
        tx.protect_rtp(&mut p).unwrap();
        assert_eq!(p, h(v, "protected_srtp_packet"));
        rx.unprotect_rtp(&mut p).unwrap();
        assert_eq!(p, h(v, "rtp_packet"));
        let mut p = h(v, "rtcp_packet");
        tx.protect_rtcp(&mut p).unwrap();
        assert_eq!(p, h(v, "protected_srtcp_packet"));
        rx.unprotect_rtcp(&mut p).unwrap();
        assert_eq!(p, h(v, "rtcp_packet"));
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn dtls_srtp_keying_material_split() {
    let data = load("tls12_prf_dtls_srtp_exporter.json");
    let mut n = 0;
    for v in data["dtls_srtp_exporter_examples"].as_array().unwrap() {
        let id = u16::from_str_radix(
            v["srtp_protection_profile"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap();
        let profile = ProtectionProfile::from_id(id).unwrap();
        assert_eq!(profile.name(), v["profile_name"].as_str().unwrap());
        let km = h(v, "keying_material");
        assert_eq!(km.len(), profile.keying_material_len());
        let (client_out, client_in) = split_keying_material(profile, &km, Role::Client).unwrap();
        let (server_out, server_in) = split_keying_material(profile, &km, Role::Server).unwrap();
        // The client's outbound keys are the client-write keys, and the server's inbound.
        let d = &v["derived_srtp_session_keys_client_write"];
        for cfg in [&client_out, &server_in] {
            let k = SessionKeys::derive(cfg).unwrap();
            assert_eq!(k.rtp_cipher_key, h(d, "cipher_key_label0"));
            assert_eq!(k.rtp_salt, h(d, "salt_label2"));
            assert_eq!(k.rtcp_cipher_key, h(d, "srtcp_cipher_key_label3"));
            assert_eq!(k.rtcp_salt, h(d, "srtcp_salt_label5"));
            if !profile.is_aead() {
                assert_eq!(k.rtp_auth_key, h(d, "auth_key_label1"));
                assert_eq!(k.rtcp_auth_key, h(d, "srtcp_auth_key_label4"));
            }
        }
        // And the two directions really interoperate.
        let mut tx = Session::new(server_out).unwrap();
        let mut rx = Session::new(client_in).unwrap();
        let mut p = hex("800f1234decafbadcafebabeabababababababababababababababab");
        tx.protect_rtp(&mut p).unwrap();
        rx.unprotect_rtp(&mut p).unwrap();
        assert_eq!(
            p,
            hex("800f1234decafbadcafebabeabababababababababababababababab")
        );
        assert!(split_keying_material(profile, &km[1..], Role::Client).is_err());
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn hmac_sha1_rfc2202() {
    let data = load("hmac_rfc2202_rfc4231.json");
    let mut n = 0;
    for v in data["vectors"].as_array().unwrap() {
        if v["hash"] != "SHA1" {
            continue;
        }
        let tag = sansrtc_srtp::hmac_sha1(&h(v, "key"), &h(v, "data"));
        assert_eq!(tag.to_vec(), h(v, "expected_hmac"), "{}", v["id"]);
        n += 1;
    }
    assert_eq!(n, 3);
    // A key longer than the block is hashed first (RFC 2104 2).
    assert_ne!(
        sansrtc_srtp::hmac_sha1(&[0xaa; 80], b"x"),
        sansrtc_srtp::hmac_sha1(&[0xaa; 64], b"x")
    );
}
