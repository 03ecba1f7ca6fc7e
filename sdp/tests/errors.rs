//! Invalid and hostile input: every rejection names the line, the text and the reason.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sansrtc_sdp::{Error, Limits, ParseErrorKind as K, SessionDescription};

const HEAD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn err(text: &str) -> Error {
    SessionDescription::parse(text).expect_err("must be rejected")
}

fn kind_at(text: &str) -> (usize, String, K) {
    match err(text) {
        Error::Parse { line, text, kind } => (line, text, kind),
        e => panic!("expected a line error, got {e}"),
    }
}

#[test]
fn minimal_document_parses() {
    let sdp = SessionDescription::parse(HEAD).unwrap();
    assert_eq!(sdp.origin().unwrap().session_version, "2");
    assert_eq!(sdp.session_name(), Some("-"));
    assert!(sdp.media.is_empty());
}

#[test]
fn error_names_line_number_text_and_reason() {
    let text = format!("{HEAD}m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus\r\n");
    let e = err(&text);
    assert_eq!(e.line(), Some(6));
    let (line, t, kind) = kind_at(&text);
    assert_eq!((line, t.as_str()), (6, "a=rtpmap:111 opus"));
    assert_eq!(
        kind,
        K::MissingField {
            field: "rtpmap clock rate"
        }
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("line 6: missing rtpmap clock rate"),
        "{msg}"
    );
    assert!(msg.contains("a=rtpmap:111 opus"), "{msg}");
}

#[test]
fn first_line_must_be_v0() {
    assert_eq!(kind_at("v=1\r\n").2, K::BadVersion);
    assert_eq!(
        kind_at("o=- 1 2 IN IP4 1.2.3.4\r\nv=0\r\n").2,
        K::BadVersion
    );
    assert_eq!(kind_at(&format!("{HEAD}v=0\r\n")).2, K::WrongLevel);
}

#[test]
fn mandatory_lines() {
    assert!(matches!(err(""), Error::Document { .. }));
    assert!(
        matches!(err("v=0\r\ns=-\r\nt=0 0\r\n"), Error::Document { reason } if reason.contains("o="))
    );
    assert!(
        matches!(err("v=0\r\no=- 1 2 IN IP4 x\r\nt=0 0\r\n"), Error::Document { reason } if reason.contains("s="))
    );
    assert!(
        matches!(err("v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\n"), Error::Document { reason } if reason.contains("t="))
    );
}

#[test]
fn malformed_lines() {
    assert_eq!(
        kind_at(&format!("{HEAD}\r\n")),
        (5, String::new(), K::EmptyLine)
    );
    assert_eq!(
        kind_at(&format!("{HEAD}A=foo\r\n")).2,
        K::NotTypeEqualsValue
    );
    assert_eq!(
        kind_at(&format!("{HEAD}a foo\r\n")).2,
        K::NotTypeEqualsValue
    );
    assert_eq!(kind_at(&format!("{HEAD}a\r\n")).2, K::NotTypeEqualsValue);
    assert!(matches!(
        kind_at(&format!("{HEAD}a=x\ry\r\n")).2,
        K::InvalidField { .. }
    ));
    assert!(matches!(
        kind_at("v=0\r\no=- x 2 IN IP4 1.2.3.4\r\n").2,
        K::InvalidField {
            field: "origin session id",
            ..
        }
    ));
    assert!(matches!(
        kind_at("v=0\r\no=- 1 2 IN IP4\r\n").2,
        K::MissingField { .. }
    ));
    assert!(matches!(
        kind_at(&format!("{HEAD}m=audio 70000 RTP/AVP 0\r\n")).2,
        K::InvalidField {
            field: "media port",
            ..
        }
    ));
    assert!(matches!(
        kind_at(&format!("{HEAD}c=IN IP4\r\n")).2,
        K::InvalidField { .. }
    ));
    assert!(matches!(
        kind_at(&format!("{HEAD}b=AS\r\n")).2,
        K::InvalidField { .. }
    ));
    assert_eq!(
        kind_at(&format!("{HEAD}m=audio 9 RTP/AVP 0\r\ns=x\r\n")).2,
        K::WrongLevel
    );
    assert_eq!(kind_at(&format!("{HEAD}a=mid:0\r\n")).2, K::WrongLevel);
}

#[test]
fn invalid_webrtc_attributes() {
    let m = format!("{HEAD}m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    for (line, want) in [
        ("a=setup:maybe", "setup role"),
        ("a=fingerprint:sha-256 AB:CD", "fingerprint digest"),
        ("a=fingerprint:md5 AB:CD", "fingerprint hash function"),
        ("a=extmap:0 urn:x", "extmap id"),
        ("a=extmap:1/sideways urn:x", "extmap direction"),
        ("a=rid:q sideways", "rid direction"),
        ("a=rid:q! send", "rid id"),
        ("a=simulcast:send q;h$", "simulcast rid"),
        ("a=sctp-port:65536", "sctp-port"),
        ("a=ssrc:abc cname:x", "ssrc"),
        ("a=rtcp-mux:yes", "value of a property attribute"),
    ] {
        let (n, text, kind) = kind_at(&format!("{m}{line}\r\n"));
        assert_eq!(n, 6, "{line}");
        assert_eq!(text, line);
        match kind {
            K::InvalidField { field, .. } => assert_eq!(field, want, "{line}"),
            k => panic!("{line}: {k}"),
        }
    }
}

#[test]
fn payload_types_over_127_are_rejected() {
    let (n, _, k) = kind_at(&format!("{HEAD}m=video 9 UDP/TLS/RTP/SAVPF 96 128\r\n"));
    assert_eq!((n, k), (5, K::PayloadTypeOutOfRange { value: 128 }));
    let m = format!("{HEAD}m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
    for line in [
        "a=rtpmap:200 VP8/90000",
        "a=fmtp:999 x=1",
        "a=fmtp:96 apt=300",
        "a=rtcp-fb:130 nack",
        "a=rid:q send pt=300",
    ] {
        let (n, _, k) = kind_at(&format!("{m}{line}\r\n"));
        assert_eq!(n, 6, "{line}");
        assert!(matches!(k, K::PayloadTypeOutOfRange { .. }), "{line}: {k}");
    }
    // Non-RTP formats are not payload types.
    SessionDescription::parse(&format!(
        "{HEAD}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    ))
    .unwrap();
}

#[test]
fn duplicate_mids_are_rejected() {
    let text =
        format!("{HEAD}m=audio 9 RTP/AVP 0\r\na=mid:a\r\nm=video 9 RTP/AVP 96\r\na=mid:a\r\n");
    let (n, t, k) = kind_at(&text);
    assert_eq!((n, t.as_str()), (8, "a=mid:a"));
    assert_eq!(k, K::DuplicateMid { mid: "a".into() });
    assert!(err(&text).to_string().contains("line 8"));
}

#[test]
fn duplicate_rids_are_rejected() {
    let text = format!("{HEAD}m=video 9 RTP/AVP 96\r\na=rid:q send\r\na=rid:q send\r\n");
    assert_eq!(kind_at(&text).2, K::DuplicateRid { rid: "q".into() });
}

#[test]
fn extmap_id_collisions_are_rejected() {
    // Same section.
    let text = format!("{HEAD}m=audio 9 RTP/AVP 0\r\na=extmap:1 urn:a\r\na=extmap:1 urn:b\r\n");
    assert_eq!(
        kind_at(&text),
        (7, "a=extmap:1 urn:b".into(), K::ExtmapIdCollision { id: 1 })
    );
    // Across one BUNDLE group: line numbers still point at the offending line.
    let text = "v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n\
         m=audio 9 RTP/AVP 0\r\na=mid:0\r\na=extmap:1 urn:a\r\n\
         m=video 9 RTP/AVP 96\r\na=mid:1\r\na=extmap:2 urn:c\r\na=extmap:1 urn:b\r\n";
    assert_eq!(
        kind_at(text),
        (
            12,
            "a=extmap:1 urn:b".into(),
            K::ExtmapIdCollision { id: 1 }
        )
    );
    // Not bundled: each section has its own id space.
    let ok = text.replace("a=group:BUNDLE 0 1", "a=group:LS 0 1");
    SessionDescription::parse(&ok).unwrap();
    // Bundled with the same URI: fine.
    SessionDescription::parse(&text.replace("1 urn:b", "1 urn:a")).unwrap();
}

#[test]
fn invalid_utf8_names_its_line() {
    let mut bytes = HEAD.as_bytes().to_vec();
    bytes.extend_from_slice(b"a=tool:ok\r\na=x:\xff\xfe\r\n");
    let e = SessionDescription::parse_bytes(&bytes, &Limits::default()).unwrap_err();
    match e {
        Error::Parse {
            line,
            kind: K::NotUtf8,
            text,
        } => {
            assert_eq!(line, 6);
            assert!(text.starts_with("a=x:"));
        }
        e => panic!("{e}"),
    }
    SessionDescription::parse_bytes(HEAD.as_bytes(), &Limits::default()).unwrap();
}

#[test]
fn limits() {
    let limits = Limits {
        max_line_len: 64,
        max_media_sections: 2,
        max_lines_per_section: 8,
        max_total_len: 4096,
    };
    let long = format!("{HEAD}a=x:{}\r\n", "y".repeat(100));
    match SessionDescription::parse_with(&long, &limits).unwrap_err() {
        Error::Parse {
            line: 5,
            kind: K::LineTooLong { len: 104, max: 64 },
            text,
        } => {
            assert!(text.len() <= sansrtc_sdp::MAX_EXCERPT + 3);
        }
        e => panic!("{e}"),
    }
    let many_m = format!("{HEAD}{}", "m=audio 9 RTP/AVP 0\r\n".repeat(3));
    assert!(matches!(
        SessionDescription::parse_with(&many_m, &limits).unwrap_err(),
        Error::Parse {
            line: 7,
            kind: K::TooManyMediaSections { max: 2 },
            ..
        }
    ));
    let many_a = format!("{HEAD}{}", "a=x\r\n".repeat(5));
    assert!(matches!(
        SessionDescription::parse_with(&many_a, &limits).unwrap_err(),
        Error::Parse {
            line: 9,
            kind: K::TooManyLines { max: 8 },
            ..
        }
    ));
    let huge = format!("{HEAD}{}", "a=x\r\n".repeat(1000));
    assert!(matches!(
        SessionDescription::parse_with(&huge, &limits).unwrap_err(),
        Error::InvalidValue {
            reason: K::DocumentTooLong { max: 4096 },
            ..
        }
    ));
    // A 1 MB single line under default limits: rejected quickly with a short excerpt.
    let e = SessionDescription::parse(&format!("{HEAD}a={}", "z".repeat(1 << 20))).unwrap_err();
    assert!(e.to_string().len() < 400);
}

#[test]
fn unknown_lines_and_attributes_are_kept() {
    let text = format!(
        "{HEAD}x=unknown type\r\na=weird-thing:  spaced  value \r\ni=info\r\nm=audio 9 RTP/AVP 0\r\na=foo\r\nk=prompt\r\n"
    );
    let sdp = SessionDescription::parse(&text).unwrap();
    assert_eq!(sdp.serialize(), text);
    assert_eq!(
        sdp.session.attribute("weird-thing"),
        Some("  spaced  value ")
    );
    assert!(sdp.media[0].has_attribute("foo"));
}

#[test]
fn mixed_line_endings_round_trip() {
    let text = "v=0\no=- 1 2 IN IP4 x\r\ns=-\nt=0 0\r\na=x";
    assert_eq!(SessionDescription::parse(text).unwrap().serialize(), text);
}
