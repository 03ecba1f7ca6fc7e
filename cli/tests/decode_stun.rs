//! `sansrtc decode` on STUN: the RFC 5769 section 2.1 sample request, as text and as JSON,
//! and a tampered copy whose FINGERPRINT no longer matches.

use std::process::Command;

const RFC5769_REQUEST: &str = "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf";
const RFC5769_IPV6_RESPONSE: &str = "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c";

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .arg("decode")
        .args(args)
        .output()
        .expect("run sansrtc");
    assert!(
        out.status.success(),
        "sansrtc decode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn text_output_of_the_rfc5769_sample_request() {
    let text = run(&[RFC5769_REQUEST]);
    for needle in [
        "STUN",
        "request",
        "Binding",
        "b7e7a701bc34d686fa87dfae",
        "SOFTWARE",
        "STUN test client",
        "PRIORITY",
        "1845494271",
        "ICE-CONTROLLED",
        "0x932ff9b151263b36",
        "USERNAME",
        "evtj:h6vY",
        "padding: 202020",
        "MESSAGE-INTEGRITY present (not verified",
        "fingerprint: valid",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn json_output_has_every_attribute() {
    let json = run(&["--json", RFC5769_REQUEST, RFC5769_IPV6_RESPONSE]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let req = &v[0]["stun"];
    assert_eq!(req["class"], "request");
    assert_eq!(req["method"], "Binding");
    assert_eq!(req["message_length"], 88);
    assert_eq!(req["transaction_id"], "b7e7a701bc34d686fa87dfae");
    let attrs = req["attributes"].as_array().unwrap();
    let names: Vec<&str> = attrs.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "SOFTWARE",
            "PRIORITY",
            "ICE-CONTROLLED",
            "USERNAME",
            "MESSAGE-INTEGRITY",
            "FINGERPRINT"
        ]
    );
    assert_eq!(attrs[1]["priority"], 1_845_494_271u64);
    assert_eq!(attrs[3]["value"], "evtj:h6vY");
    assert_eq!(attrs[5]["valid"], true);
    assert_eq!(req["fingerprint"], "valid");

    let resp = &v[1]["stun"];
    assert_eq!(resp["class"], "success response");
    let xma = &resp["attributes"][1];
    assert_eq!(xma["name"], "XOR-MAPPED-ADDRESS");
    assert_eq!(xma["family"], "IPv6");
    assert_eq!(
        xma["address"],
        "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
    );
}

#[test]
fn tampered_fingerprint_is_reported() {
    // Flip one bit of SOFTWARE: the structure is intact but FINGERPRINT no longer matches.
    let mut tampered = RFC5769_REQUEST.to_string();
    tampered.replace_range(48..50, "52");
    let json = run(&["--json", &tampered]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let fp = v[0]["stun"]["fingerprint"].as_str().unwrap();
    assert!(fp.starts_with("INVALID"), "{fp}");
    assert_eq!(v[0]["stun"]["attributes"][5]["valid"], false);
    // Truncated: the header is shown and the error named, no crash.
    let json = run(&["--json", &RFC5769_REQUEST[..120]]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["stun"]["transaction_id"], "b7e7a701bc34d686fa87dfae");
    assert!(
        v[0]["stun"]["error"]
            .as_str()
            .unwrap()
            .contains("malformed")
    );
}
