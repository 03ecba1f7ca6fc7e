//! `sansrtc sdp`: errors with line numbers, `--json` typed model, `--roundtrip` identity.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> String {
    format!("{}/../sdp/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn sansrtc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .arg("sdp")
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn summary_of_a_chrome_offer() {
    let o = sansrtc(&[&data("chrome_av_data_offer.sdp")]);
    assert!(o.status.success(), "{o:?}");
    let s = stdout(&o);
    assert!(s.contains("valid SDP, 171 lines"), "{s}");
    assert!(
        s.contains("3 media section(s); round trip byte-identical"),
        "{s}"
    );
    assert!(s.contains("group: BUNDLE 0 1 2"), "{s}");
    assert!(
        s.contains("codec 111 opus/48000/2 fmtp[minptime=10;useinbandfec=1] fb[transport-cc]"),
        "{s}"
    );
    assert!(s.contains("codec 109 H264/90000 fmtp[level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f]"), "{s}");
    assert!(
        s.contains("extmap 4 urn:ietf:params:rtp-hdrext:sdes:mid"),
        "{s}"
    );
    assert!(s.contains("ice: ufrag=JNuK"), "{s}");
    assert!(s.contains("dtls: setup actpass"), "{s}");
    assert!(s.contains("sctp-port 5000 max-message-size 262144"), "{s}");
    assert!(s.contains("no warnings"), "{s}");
}

#[test]
fn roundtrip_prints_the_input_byte_for_byte() {
    for f in [
        "chrome_av_data_offer.sdp",
        "aiortc_av_data_offer.sdp",
        "chrome_simulcast_offer.sdp",
    ] {
        let o = sansrtc(&[&data(f), "--roundtrip"]);
        assert!(o.status.success());
        assert_eq!(o.stdout, std::fs::read(data(f)).unwrap(), "{f}");
    }
}

#[test]
fn json_model() {
    let o = sansrtc(&[&data("chrome_av_data_offer.sdp"), "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["roundtrip_identical"], true);
    assert_eq!(v["lines"], 171);
    assert_eq!(
        v["session"]["groups"][0]["mids"],
        serde_json::json!(["0", "1", "2"])
    );
    let video = &v["media"][1];
    assert_eq!(video["media"], "video");
    assert_eq!(video["ice"]["ufrag"], "JNuK");
    assert_eq!(video["dtls"]["setup"], "actpass");
    assert_eq!(video["dtls"]["fingerprints"][0]["hash"], "sha-256");
    let h264 = video["codecs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["payload_type"] == 109)
        .unwrap();
    assert_eq!(h264["name"], "H264");
    assert_eq!(h264["fmtp"]["params"]["profile-level-id"], "42e01f");
    assert_eq!(h264["fmtp"]["params"]["packetization-mode"], "1");
    let rtx = video["codecs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["payload_type"] == 114)
        .unwrap();
    assert_eq!(rtx["apt"], 109);
    assert_eq!(video["extmaps"][0]["id"], 14);
    assert_eq!(
        video["extmaps"][0]["uri"],
        "urn:ietf:params:rtp-hdrext:toffset"
    );
    assert_eq!(v["media"][2]["sctp_port"], 5000);
    assert!(v["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn json_rids_and_simulcast() {
    let o = sansrtc(&[&data("chrome_simulcast_offer.sdp"), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let video = &v["media"][1];
    let rids: Vec<&str> = video["rids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rids, ["q", "h", "f"]);
    assert_eq!(video["rids"][0]["direction"], "send");
    assert_eq!(
        video["simulcast"]["send"],
        serde_json::json!([["q"], ["h"], ["f"]])
    );
}

#[test]
fn invalid_sdp_names_the_line_and_the_reason() {
    let dir = std::env::temp_dir().join(format!("sansrtc-sdp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.sdp");
    std::fs::write(
        &path,
        "v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 200\r\n",
    )
    .unwrap();
    let o = sansrtc(&[path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8(o.stderr).unwrap();
    assert!(e.contains("line 5"), "{e}");
    assert!(e.contains("payload type 200 is out of range"), "{e}");
    assert!(e.contains("m=video 9 UDP/TLS/RTP/SAVPF 96 200"), "{e}");
    let o = sansrtc(&[path.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["error"]["line"], 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reads_standard_input_and_warns() {
    // Parses, but the dynamic PT 97 has no rtpmap and there is no rtcp-mux.
    let text = "v=0\no=- 1 2 IN IP4 x\ns=-\nt=0 0\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\na=mid:0\na=ice-ufrag:abcd\na=ice-pwd:abcdabcdabcdabcdabcdabcd\na=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\na=rtpmap:96 VP8/90000\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .args(["sdp", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let s = stdout(&o);
    assert!(s.contains("<stdin>: valid SDP, 10 lines"), "{s}");
    assert!(
        s.contains("warning: m-section 0 (mid 0): dynamic payload type 97 has no a=rtpmap"),
        "{s}"
    );
    assert!(s.contains("no a=rtcp-mux"), "{s}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let o = sansrtc(&["/nonexistent/x.sdp"]);
    assert_eq!(o.status.code(), Some(2));
}
