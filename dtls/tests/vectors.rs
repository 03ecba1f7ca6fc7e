//! TLS 1.2 PRF (IETF TLS WG list) and RFC 5764 exporter vectors from ../shared/vectors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use sansrtc_dtls::SrtpProfile;
use sansrtc_dtls::crypto::{export, prf};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn data() -> serde_json::Value {
    serde_json::from_str(include_str!("data/tls12_prf_dtls_srtp_exporter.json")).unwrap()
}

#[test]
fn prf_vectors() {
    let d = data();
    let v = d["prf_vectors"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    for t in v {
        let sha384 = t["prf_hash"].as_str().unwrap() == "SHA384";
        let out = prf(
            sha384,
            &hex(t["secret"].as_str().unwrap()),
            &hex(t["label"].as_str().unwrap()),
            &hex(t["seed"].as_str().unwrap()),
            t["output_length_octets"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            out,
            hex(t["expected_output"].as_str().unwrap()),
            "{}",
            t["id"]
        );
    }
}

#[test]
fn exporter_vectors() {
    let d = data();
    let v = d["dtls_srtp_exporter_examples"].as_array().unwrap();
    assert_eq!(v.len(), 4);
    for t in v {
        let code = u16::from_str_radix(
            t["srtp_protection_profile"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap();
        let profile = SrtpProfile::from_code(code).unwrap();
        assert_eq!(profile.name(), t["profile_name"].as_str().unwrap());
        let len = t["keying_material_length_octets"].as_u64().unwrap() as usize;
        assert_eq!(profile.keying_material_len(), len);
        let cr: [u8; 32] = hex(t["client_random"].as_str().unwrap())
            .try_into()
            .unwrap();
        let sr: [u8; 32] = hex(t["server_random"].as_str().unwrap())
            .try_into()
            .unwrap();
        let km = export(
            false,
            &hex(t["master_secret"].as_str().unwrap()),
            b"EXTRACTOR-dtls_srtp",
            &cr,
            &sr,
            len,
        );
        assert_eq!(
            km,
            hex(t["keying_material"].as_str().unwrap()),
            "{}",
            t["id"]
        );
    }
}
