//! `sansrtc decode` on DTLS: a real fragmented Chromium ClientHello (reassembled across two
//! datagrams) and a full handshake of our own stack (ServerHello, Certificate, encrypted records).

use std::process::Command;
use std::time::Instant;

use serde_json::Value;

fn decode(args: &[String]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .arg("decode")
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn chromium_client_hello_is_reassembled_and_decoded() {
    let lines: Vec<String> = include_str!("data/dtls_chromium156_client_hello.hex")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2);
    let v = decode(&lines);
    let first = &v[0]["dtls"]["records"][0];
    assert_eq!(v[0]["kind"], "DTLS");
    assert_eq!(first["content_type"], "handshake");
    assert_eq!(first["version"], "DTLS 1.0 (0xfeff)");
    let f0 = &first["handshake"][0];
    assert_eq!(f0["type"], "ClientHello (1)");
    assert_eq!(f0["length"], 1413);
    assert_eq!(f0["fragment_length"], 1175);
    assert_eq!(f0["reassembled"], "incomplete, 1175 of 1413 bytes so far");
    assert!(f0.get("message").is_none());
    let f1 = &v[1]["dtls"]["records"][0]["handshake"][0];
    assert_eq!(f1["fragment_offset"], 1175);
    assert_eq!(f1["reassembled"], "complete, 1413 bytes");
    let ch = &f1["message"];
    assert_eq!(ch["client_version"], "DTLS 1.2 (0xfefd)");
    let suites: Vec<&str> = ch["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(suites.contains(&"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xc02b)"));
    let exts = ch["extensions"].as_array().unwrap();
    let find = |t: &str| {
        exts.iter()
            .find(|e| e["type"] == t)
            .unwrap_or_else(|| panic!("{t} missing"))
    };
    let versions = find("supported_versions (43)")["versions"]
        .as_array()
        .unwrap();
    assert!(versions.contains(&Value::from("DTLS 1.3 (0xfefc)")));
    let shares = find("key_share (51)")["shares"].as_array().unwrap();
    assert!(
        shares
            .iter()
            .any(|s| s["group"] == "X25519MLKEM768 (0x11ec)" && s["key_exchange_length"] == 1216)
    );
    let groups = find("supported_groups (10)")["groups"].as_array().unwrap();
    assert!(groups.contains(&Value::from("x25519 (0x001d)")));
    let srtp = find("use_srtp (14)")["profiles"].as_array().unwrap();
    assert!(srtp.contains(&Value::from("SRTP_AEAD_AES_128_GCM (0x0007)")));
    assert!(
        exts.iter()
            .any(|e| e["type"] == "extended_master_secret (23)")
    );
}

#[test]
fn our_handshake_decodes() {
    use sansrtc_dtls::{Certificate, Config, Endpoint, PeerVerification, Role};
    let cc = Certificate::generate_self_signed().unwrap();
    let sc = Certificate::generate_self_signed().unwrap();
    let mut c = Config::new(Role::Client, cc, PeerVerification::AcceptAny);
    let mut s = Config::new(Role::Server, sc.clone(), PeerVerification::AcceptAny);
    c.mtu = 300;
    s.mtu = 300;
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    let mut datagrams = Vec::new();
    for _ in 0..4 {
        while let Some(t) = client.poll_transmit() {
            datagrams.push(hex(&t.payload));
            let _ = server.handle_receive(now, &t.payload);
        }
        while let Some(t) = server.poll_transmit() {
            datagrams.push(hex(&t.payload));
            let _ = client.handle_receive(now, &t.payload);
        }
    }
    assert!(client.is_connected());
    let v = decode(&datagrams);
    let all: Vec<&Value> = v
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["dtls"]["records"].as_array().unwrap())
        .collect();
    let msgs: Vec<&Value> = all
        .iter()
        .filter_map(|r| r["handshake"].as_array())
        .flatten()
        .filter_map(|f| f.get("message").map(|m| (f, m)))
        .map(|(_, m)| m)
        .collect();
    let sh = msgs
        .iter()
        .find(|m| m.get("server_version").is_some())
        .unwrap();
    assert_eq!(
        sh["cipher_suite"],
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xc02b)"
    );
    // The certificate was fragmented at MTU 300 and reassembled; its fingerprint is right.
    let certs: Vec<&Value> = msgs.iter().filter_map(|m| m.get("certificates")).collect();
    assert_eq!(certs.len(), 2);
    assert!(
        certs
            .iter()
            .any(|c| c[0]["sha256_fingerprint"] == sc.fingerprint().to_string())
    );
    assert!(msgs.iter().any(|m| m["named_group"] == "x25519 (0x001d)"));
    // Finished records are encrypted (epoch 1).
    assert!(
        all.iter()
            .any(|r| r["epoch"] == 1 && r["encrypted"] == true)
    );
    assert!(
        all.iter()
            .any(|r| r["content_type"] == "change_cipher_spec")
    );
}
