//! `sansrtc decode` on RTP and RTCP: header fields, extensions by id and by `--extmap` name,
//! every packet of a compound, text and JSON output.

use std::process::Command;

use serde_json::Value;

/// rtp_rtcp_parsing.json "rtp-one-byte-extension": ids 1, 3, 5.
const RTP_ONE_BYTE: &str =
    "906f5ba00001e2401a2b3c4dbede0003109a003212345651002a00004f70757300010203";
/// "rtp-two-byte-extension-csrcs".
const RTP_TWO_BYTE: &str = "92e0fffffffffff0cafef00d111111112222222210000007010002013014127274702d73747265616d2d69642d3132333400000000112233";
/// "rtcp-compound-sr-sdes-nack-pli".
const RTCP: &str = "81c8000c1a2b3c4de5f3b2a1800000000001e2400000006400003e80cafef00d190000070001000500000020b2a180000000800081ca00061a2b3c4d0111616c696365406578616d706c652e636f6d0081cd00031a2b3c4dcafef00d03e8000581ce00021a2b3c4dcafef00d";

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .arg("decode")
        .args(args)
        .output()
        .expect("run sansrtc");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let (ok, out) = run(&a);
    assert!(ok, "{out}");
    serde_json::from_str(&out).expect("valid JSON")
}

#[test]
fn rtp_header_and_extensions_by_name() {
    let v = json(&[
        RTP_ONE_BYTE,
        "--extmap",
        "1=urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "--extmap",
        "3=http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "--extmap",
        "5=http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    ]);
    let d = &v[0];
    assert_eq!(d["kind"], "RTP/RTCP");
    assert_eq!(d["rtp_or_rtcp"], "RTP");
    let r = &d["rtp"];
    assert_eq!(r["payload_type"], 111);
    assert_eq!(r["sequence_number"], 23456);
    assert_eq!(r["timestamp"], 123456);
    assert_eq!(r["ssrc"], "0x1a2b3c4d");
    assert_eq!(r["payload"], "4f70757300010203");
    let e = &r["header_extension"]["elements"];
    assert_eq!(e.as_array().unwrap().len(), 3);
    assert_eq!(e[0]["id"], 1);
    assert_eq!(e[0]["name"], "ssrc-audio-level");
    assert_eq!(e[0]["decoded"]["voice_activity"], true);
    assert_eq!(e[0]["decoded"]["level_dbov"], -26);
    assert_eq!(e[1]["name"], "abs-send-time");
    assert_eq!(e[1]["value"], "123456");
    assert_eq!(e[2]["name"], "transport-wide-cc");
    assert_eq!(e[2]["decoded"]["transport_sequence_number"], 42);
}

#[test]
fn rtp_two_byte_csrcs_without_extmap() {
    let v = json(&[RTP_TWO_BYTE]);
    let r = &v[0]["rtp"];
    assert_eq!(r["marker"], true);
    assert_eq!(r["sequence_number"], 65535);
    assert_eq!(r["csrcs"][1], "0x22222222");
    let x = &r["header_extension"];
    assert_eq!(x["profile"], "0x1000");
    let e = &x["elements"];
    assert_eq!(e[0]["length"], 0);
    assert_eq!(e[2]["id"], 20);
    assert_eq!(e[2]["value"], "7274702d73747265616d2d69642d31323334");
    assert!(e[2].get("name").is_none(), "no extmap: no name");
}

#[test]
fn rtcp_every_packet_of_the_compound() {
    let v = json(&[RTCP]);
    let d = &v[0];
    assert_eq!(d["rtp_or_rtcp"], "RTCP");
    let p = d["rtcp"]["packets"].as_array().unwrap();
    let types: Vec<&str> = p.iter().map(|x| x["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["SR", "SDES", "NACK", "PLI"]);
    assert_eq!(p[0]["ssrc"], "0x1a2b3c4d");
    assert_eq!(p[0]["reports"][0]["fraction_lost"], 25);
    assert_eq!(p[0]["reports"][0]["last_sr"], "0xb2a18000");
    assert_eq!(p[1]["chunks"][0]["items"][0]["type"], "CNAME");
    assert_eq!(p[1]["chunks"][0]["items"][0]["value"], "alice@example.com");
    assert_eq!(p[2]["lost"], serde_json::json!([1000, 1001, 1003]));
    assert_eq!(p[3]["media_ssrc"], "0xcafef00d");
}

#[test]
fn text_output_and_errors() {
    let (ok, out) = run(&[
        RTCP,
        "--extmap",
        "3=http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        RTP_ONE_BYTE,
    ]);
    assert!(ok);
    assert!(out.contains("alice@example.com"), "{out}");
    assert!(out.contains("NACK"), "{out}");
    assert!(out.contains("abs-send-time"), "{out}");
    // A truncated RTP packet and an RTCP length overrun are reported, not fatal.
    let v = json(&["80600001000000", "81c8ffff00000000"]);
    assert!(v[0]["rtp"]["error"].as_str().unwrap().contains("truncated"));
    assert!(
        v[1]["rtcp"]["packets"][0]["error"]
            .as_str()
            .unwrap()
            .contains("length")
    );
    // A bad --extmap is a usage error.
    let (ok, _) = run(&[RTP_ONE_BYTE, "--extmap", "x"]);
    assert!(!ok);
}
