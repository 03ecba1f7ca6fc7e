//! Entry points for the cargo-fuzz targets in `../fuzz` (feature `fuzzing`). Each panics
//! when an oracle fails, which is what the fuzzer looks for.
#![allow(clippy::panic, reason = "a failed oracle must crash the fuzzer")]

use crate::jsep::{AnswerSpec, CodecSpec, MediaCapabilities, TransportSpec, create_answer};
use crate::{Direction, Fingerprint, HashFunction, Limits, SessionDescription};

/// `sdp_parse`: parse arbitrary bytes; if they parse, serializing must give the same bytes,
/// and re-parsing the output must give the same model. Typed getters and the answerer run on
/// whatever parsed and must not panic.
pub fn sdp_parse(data: &[u8]) {
    let Ok(sdp) = SessionDescription::parse_bytes(data, &Limits::default()) else {
        return;
    };
    let text = sdp.serialize();
    assert!(text.as_bytes() == data, "serialize(parse(x)) != x");
    match SessionDescription::parse(&text) {
        Ok(again) => assert!(again == sdp, "parse(serialize(m)) != m"),
        Err(e) => panic!("serialized output does not re-parse: {e}"),
    }
    for (i, m) in sdp.media.iter().enumerate() {
        let _ = (
            m.codecs(),
            m.extmaps(),
            m.rids(),
            m.simulcast(),
            m.ssrc_groups(),
        );
        let _ = (
            sdp.ice_credentials(i),
            sdp.fingerprints_for(i),
            sdp.direction_for(i),
        );
    }
    let caps = MediaCapabilities {
        codecs: vec![
            CodecSpec::opus(111),
            CodecSpec::video(96, "VP8", None, Some(97)),
        ],
        extensions: vec!["urn:ietf:params:rtp-hdrext:sdes:mid".into()],
        direction: Direction::SendRecv,
        msid: None,
        receive_simulcast: true,
    };
    let spec = AnswerSpec {
        session_id: 1,
        session_version: 1,
        transport: TransportSpec {
            ice_ufrag: "fuzz".into(),
            ice_pwd: "fuzzfuzzfuzzfuzzfuzzfuzz".into(),
            ice_options: vec![],
            ice_lite: false,
            fingerprints: vec![Fingerprint {
                hash: HashFunction::Sha256,
                digest: vec![0; 32],
            }],
        },
        audio: Some(caps.clone()),
        video: Some(caps),
        data_channel: true,
        sctp_port: 5000,
        max_message_size: 65536,
    };
    // An answer may be refused (Err), never panic; one that is produced must re-parse.
    if let Ok(answer) = create_answer(&sdp, &spec) {
        assert!(
            SessionDescription::parse(&answer.serialize()).is_ok(),
            "answer does not re-parse"
        );
    }
}
