//! Real SDPs captured from headless Chromium 156 and aiortc 1.16 (see data/capture.sh): each
//! parses, round-trips byte-identical (CRLF as captured, and converted to bare LF), and exposes
//! the right typed values.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sansrtc_sdp::{Direction, HashFunction, RidDirection, SessionDescription, Setup};

fn load(name: &str) -> (String, SessionDescription) {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let sdp = SessionDescription::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    (text, sdp)
}

#[test]
fn every_fixture_parses_and_round_trips_byte_identical() {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sdp") {
            continue;
        }
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let (text, sdp) = load(&name);
        assert!(text.contains("\r\n"), "{name} was captured with CRLF");
        assert_eq!(sdp.serialize(), text, "{name}: serialize(parse(x)) != x");
        assert_eq!(sdp.to_string(), text, "{name}: Display != serialize");
        // The same document with bare LF endings round-trips too.
        let lf = text.replace("\r\n", "\n");
        let sdp_lf = SessionDescription::parse(&lf).unwrap();
        assert_eq!(sdp_lf.serialize(), lf, "{name} (LF)");
        assert_eq!(sdp_lf.media.len(), sdp.media.len());
        // And without the final newline.
        let trimmed = text.trim_end_matches("\r\n");
        assert_eq!(
            SessionDescription::parse(trimmed).unwrap().serialize(),
            trimmed
        );
        // Re-parse of the output is the same model.
        assert_eq!(SessionDescription::parse(&sdp.serialize()).unwrap(), sdp);
        n += 1;
    }
    assert!(n >= 14, "expected at least 14 fixtures, found {n}");
}

#[test]
fn chrome_datachannel_offer() {
    let (_, sdp) = load("chrome_datachannel_offer.sdp");
    assert_eq!(sdp.media.len(), 1);
    let m = &sdp.media[0];
    let ml = m.media_line().unwrap();
    assert_eq!(
        (ml.media, ml.proto, ml.formats),
        ("application", "UDP/DTLS/SCTP", "webrtc-datachannel")
    );
    assert_eq!(m.ice_ufrag(), Some("KK4U"));
    assert_eq!(m.ice_options(), vec!["trickle"]);
    let fp = m.fingerprints();
    assert_eq!(fp.len(), 1);
    assert_eq!(fp[0].hash, HashFunction::Sha256);
    assert_eq!(&fp[0].digest[..4], &[0x0F, 0x60, 0x79, 0xF3]);
    assert_eq!(fp[0].to_string(), m.attribute("fingerprint").unwrap());
    assert_eq!(m.setup(), Some(Setup::Actpass));
    assert_eq!(m.sctp_port(), Some(5000));
    assert_eq!(m.max_message_size(), Some(262_144));
    assert_eq!(m.mid(), Some("0"));
    assert_eq!(sdp.bundle_group().unwrap().mids, vec!["0"]);
    assert!(m.candidates().count() >= 1);
}

#[test]
fn chrome_av_data_offer_codecs_and_extmaps() {
    let (text, sdp) = load("chrome_av_data_offer.sdp");
    assert_eq!(text.lines().count(), 171);
    assert_eq!(sdp.media.len(), 3);
    assert_eq!(sdp.bundle_group().unwrap().mids, vec!["0", "1", "2"]);
    assert!(sdp.session.extmap_allow_mixed());
    let ms = sdp.session.msid_semantic().unwrap();
    assert_eq!(ms.semantics, "WMS");
    assert_eq!(
        sdp.ice_credentials(1),
        Some(("JNuK", "CKualxxrQGEnaBVPHbsXBXQW"))
    );

    let audio = &sdp.media[0];
    assert_eq!(audio.direction(), Some(Direction::SendRecv));
    assert!(audio.rtcp_mux() && audio.rtcp_rsize());
    let codecs = audio.codecs();
    assert_eq!(
        codecs.iter().map(|c| c.payload_type).collect::<Vec<_>>(),
        [111, 63, 9, 0, 8, 13, 110, 126]
    );
    let opus = &codecs[0];
    assert_eq!(opus.name(), "opus");
    let r = opus.rtpmap.unwrap();
    assert_eq!((r.clock_rate, r.channels), (48000, Some(2)));
    let f = opus.fmtp.unwrap();
    assert_eq!(f.minptime(), Some(10));
    assert_eq!(f.useinbandfec(), Some(true));
    assert_eq!(
        opus.rtcp_fb.iter().map(|f| f.kind).collect::<Vec<_>>(),
        ["transport-cc"]
    );
    assert_eq!(
        codecs[1].fmtp.unwrap().red_payload_types(),
        Some(vec![111, 111])
    );
    let ext: Vec<_> = audio.extmaps().iter().map(|e| (e.id, e.uri)).collect();
    assert_eq!(ext[0], (1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"));
    assert_eq!(ext[3], (4, "urn:ietf:params:rtp-hdrext:sdes:mid"));

    let video = &sdp.media[1];
    let codecs = video.codecs();
    assert_eq!(codecs.len(), 23);
    let by_pt = |pt: u8| codecs.iter().find(|c| c.payload_type == pt).unwrap();
    assert_eq!(by_pt(96).name(), "VP8");
    assert_eq!(by_pt(97).fmtp.unwrap().apt(), Some(96));
    let h264 = by_pt(109).fmtp.unwrap();
    assert_eq!(h264.profile_level_id(), Some(0x42e01f));
    assert_eq!(h264.packetization_mode(), Some(1));
    assert_eq!(h264.level_asymmetry_allowed(), Some(true));
    assert_eq!(by_pt(107).fmtp.unwrap().packetization_mode(), Some(0));
    assert_eq!(by_pt(45).name(), "AV1");
    assert_eq!(by_pt(45).fmtp.unwrap().av1_profile(), Some(0));
    assert_eq!(by_pt(100).fmtp.unwrap().vp9_profile_id(), Some(2));
    assert_eq!(by_pt(119).name(), "red");
    assert_eq!(by_pt(121).name(), "ulpfec");
    assert!(
        by_pt(96)
            .rtcp_fb
            .iter()
            .any(|f| f.kind == "nack" && f.param == Some("pli"))
    );
    let ext = video.extmaps();
    assert_eq!(
        ext.iter()
            .find(|e| e.uri.ends_with("rtp-stream-id") && !e.uri.contains("repaired"))
            .unwrap()
            .id,
        10
    );
    assert_eq!(ext[0].id, 14);
    let groups = video.ssrc_groups();
    assert_eq!(groups[0].semantics, "FID");
    assert_eq!(groups[0].ssrcs, vec![3_360_498_131, 2_796_227_082]);
    assert!(
        video
            .ssrcs()
            .iter()
            .any(|s| s.ssrc == 3_360_498_131 && s.attribute == "cname")
    );
    assert_eq!(sdp.media[2].sctp_port(), Some(5000));
}

#[test]
fn chrome_simulcast_offer_rids() {
    let (_, sdp) = load("chrome_simulcast_offer.sdp");
    let video = &sdp.media[1];
    let rids = video.rids();
    assert_eq!(
        rids.iter().map(|r| r.id).collect::<Vec<_>>(),
        ["q", "h", "f"]
    );
    assert!(rids.iter().all(|r| r.direction == RidDirection::Send));
    let sc = video.simulcast().unwrap();
    assert_eq!(
        sansrtc_sdp::Simulcast::rids(&sc.send).collect::<Vec<_>>(),
        ["q", "h", "f"]
    );
    assert!(sc.recv.is_empty());
    assert_eq!(sc.to_string(), video.attribute("simulcast").unwrap());
}

#[test]
fn aiortc_offer_has_three_fingerprints() {
    let (_, sdp) = load("aiortc_av_data_offer.sdp");
    assert_eq!(sdp.media.len(), 3);
    let fp = sdp.fingerprints_for(0);
    assert_eq!(
        fp.iter().map(|f| f.hash).collect::<Vec<_>>(),
        [
            HashFunction::Sha256,
            HashFunction::Sha384,
            HashFunction::Sha512
        ]
    );
    assert_eq!(fp[2].digest.len(), 64);
    assert_eq!(sdp.ice_credentials(0).unwrap().0, "ngdR");
    let video = &sdp.media[1];
    let codecs = video.codecs();
    assert_eq!(
        codecs.iter().map(|c| c.payload_type).collect::<Vec<_>>(),
        [97, 98, 99, 100, 101, 102]
    );
    assert_eq!(codecs[2].fmtp.unwrap().profile_level_id(), Some(0x42001f));
    assert_eq!(codecs[5].fmtp.unwrap().apt(), Some(101));
    assert_eq!(
        video.extmaps()[0].uri,
        "urn:ietf:params:rtp-hdrext:sdes:mid"
    );
}

#[test]
fn chrome_answer_to_our_offer() {
    let (_, offer) = load("ours_av_data_offer.sdp");
    let (_, answer) = load("chrome_answer_to_ours_av_data.sdp");
    assert_eq!(answer.media.len(), offer.media.len());
    for (i, m) in answer.media.iter().enumerate() {
        assert_eq!(m.mid(), offer.media[i].mid());
        assert_eq!(answer.setup_for(i), Some(Setup::Active));
    }
    // Chromium kept our payload types (RFC 8829 §5.3.1) and our extmap ids.
    let pts: Vec<_> = answer.media[1]
        .codecs()
        .iter()
        .map(|c| c.payload_type)
        .collect();
    assert_eq!(pts, [96, 97, 102, 103]);
    let ids: Vec<_> = answer.media[1].extmaps().iter().map(|e| e.id).collect();
    assert_eq!(ids, [3, 4, 10, 11]);
}

#[test]
fn aiortc_answer_to_chrome_simulcast() {
    let (_, sdp) = load("aiortc_answer_to_chrome_simulcast.sdp");
    assert_eq!(sdp.setup_for(1), Some(Setup::Active));
    assert_eq!(
        sdp.media[1]
            .codecs()
            .iter()
            .map(|c| c.payload_type)
            .collect::<Vec<_>>(),
        [96, 97]
    );
}

/// Chromium's audio+video offer with H.264 preferred (`setCodecPreferences`): 114 lines,
/// the size of the reference offer, used by the benches.
#[test]
fn chrome_av_h264_offer() {
    let (text, sdp) = load("chrome_av_h264_offer.sdp");
    assert_eq!(text.lines().count(), 114);
    assert_eq!(sdp.media.len(), 2);
    assert_eq!(sdp.ice_credentials(1).unwrap().0, "zXDJ");
    assert_eq!(sdp.fingerprints_for(1)[0].hash, HashFunction::Sha256);
    assert_eq!(sdp.fingerprints_for(1)[0].digest[..3], [0xD2, 0xFD, 0x33]);
    let video = &sdp.media[1];
    let codecs = video.codecs();
    assert_eq!(
        codecs.iter().map(|c| c.payload_type).collect::<Vec<_>>(),
        [103, 104, 107, 108, 109, 114, 115, 116, 117, 118, 39, 40]
    );
    assert_eq!(codecs[0].name(), "H264");
    let f = codecs[0].fmtp.unwrap();
    assert_eq!(f.profile_level_id(), Some(0x42001f));
    assert_eq!(f.packetization_mode(), Some(1));
    assert_eq!(codecs[1].fmtp.unwrap().apt(), Some(103));
    let ext: Vec<_> = video.extmaps().iter().map(|e| (e.id, e.uri)).collect();
    assert_eq!(ext[0], (14, "urn:ietf:params:rtp-hdrext:toffset"));
    assert_eq!(
        ext[10],
        (11, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id")
    );
}
