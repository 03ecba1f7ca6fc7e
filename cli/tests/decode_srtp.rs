//! `sansrtc decode --srtp`: SRTP/SRTCP unprotected with ROC and replay state across packets,
//! per-packet errors, on the libsrtp-generated and RFC 7714 packets of ../shared/vectors.

use std::process::Command;

use serde_json::Value;

/// srtp_protect_libsrtp.json: RFC 3711 B.3 master key + salt.
const KEY_SALT: &str = "e1f97a0d3e018be0d64fa32c06de41390ec675ad498afeebb6960b3aabe6";
/// "libsrtp-aes_cm_128_hmac_sha1_80-rtp-1" (seq 0x1234) and "-rtp-3" (seq 0x1235).
const RTP1: &str = "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";
const RTP3: &str =
    "800f1235decafc8dcafebabe775ff99f37a586509eb8418fa4188586d2037bf9971aea68904e6a4decfb";
/// "libsrtp-aes_cm_128_hmac_sha1_80-rtcp-1" (SR + SDES, SRTCP index 1).
const RTCP1: &str = "80c80006cafebabe5928ab51a42eaa16cb99c04752dc0e677e440c6a40de2d22555b419714bf4e12a504da5f89457ca253e66dca800000013b67c4bb9c19ffd29259";
/// srtp_aes_gcm_rfc7714.json "computed-aead_aes_128_gcm-kdf-from-rfc7714-key-as-master".
const GCM_KEY_SALT: &str = "000102030405060708090a0b0c0d0e0f517569642070726f2071756f";
const GCM_RTP: &str = "8040f17b8041f8d35501a0b292cb0ecff0a0db188f7bff6b523933aacef8ae9585ed378a627836cb2d6a731d6c3490d925387db18c0661762d59e50ad553d241535a";

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .arg("decode")
        .args(args)
        .output()
        .expect("run sansrtc");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let (ok, out, err) = run(&a);
    assert!(ok, "{out}{err}");
    serde_json::from_str(&out).expect("valid JSON")
}

#[test]
fn unprotects_srtp_and_srtcp_with_replay_state() {
    let spec = format!("SRTP_AES128_CM_HMAC_SHA1_80:{KEY_SALT}");
    let mut tampered = RTP3.to_string();
    tampered.replace_range(30..32, "00");
    let v = json(&[
        "--srtp", &spec, RTP1, &tampered, RTP3, RTP1, RTCP1, "800f12",
    ]);
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 6);

    assert_eq!(v[0]["srtp"], "authenticated");
    assert_eq!(v[0]["rtp"]["sequence_number"], 0x1234);
    assert_eq!(v[0]["rtp"]["ssrc"], "0xcafebabe");
    assert_eq!(v[0]["rtp"]["payload"], "ab".repeat(16));
    // A failed packet changes nothing: the genuine one with the same index follows.
    assert_eq!(v[1]["srtp_error"], "authentication failed");
    assert!(v[1].get("rtp").is_none());
    assert_eq!(v[2]["rtp"]["sequence_number"], 0x1235);
    assert_eq!(v[2]["rtp"]["payload"], "cd".repeat(20));
    let replay = v[3]["srtp_error"].as_str().unwrap();
    assert!(replay.contains("replayed"), "{replay}");

    assert_eq!(v[4]["rtp_or_rtcp"], "RTCP");
    assert_eq!(v[4]["srtp"], "authenticated");
    let p = v[4]["rtcp"]["packets"].as_array().unwrap();
    assert_eq!(p[0]["type"], "SR");
    assert_eq!(p[1]["type"], "SDES");
    assert_eq!(p[1]["chunks"][0]["items"][0]["value"], "user@ahost");

    let short = v[5]["srtp_error"].as_str().unwrap();
    assert!(short.contains("too short"), "{short}");
}

#[test]
fn aead_profile_and_text_output() {
    let spec = format!("SRTP_AEAD_AES_128_GCM:{GCM_KEY_SALT}");
    let v = json(&["--srtp", &spec, GCM_RTP]);
    assert_eq!(v[0]["srtp"], "authenticated");
    // "Gallia est omnis divisa in partes tres"
    assert_eq!(
        v[0]["rtp"]["payload"],
        "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573"
    );
    let (ok, text, _) = run(&["--srtp", &spec, GCM_RTP, GCM_RTP]);
    assert!(ok);
    assert!(text.contains("authenticated"), "{text}");
    assert!(text.contains("replayed"), "{text}");
}

#[test]
fn bad_specs_are_refused() {
    for (spec, what) in [
        ("SRTP_NULL:00", "unknown SRTP profile"),
        ("SRTP_AES128_CM_HMAC_SHA1_80:0011", "needs 30 octets"),
        ("SRTP_AES128_CM_HMAC_SHA1_80", "PROFILE:KEY_SALT_HEX"),
        ("SRTP_AES128_CM_HMAC_SHA1_80:zz", "bad key hex"),
    ] {
        let (ok, _, err) = run(&["--srtp", spec, RTP1]);
        assert!(!ok, "{spec}");
        assert!(err.contains(what), "{spec}: {err}");
    }
}
