//! Offer/answer (RFC 8829 JSEP): our offers, our answers to Chromium/aiortc offers and to
//! our own, checked field by field and against the answers Chromium gave to the same offer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sansrtc_sdp::jsep::{
    AnswerSpec, CodecSpec, MediaCapabilities, MediaKind, MediaSpec, OfferSpec, ReofferSpec,
    TransportSpec, create_answer, create_offer, create_reoffer, negotiate_codecs,
};
use sansrtc_sdp::{Direction, Fingerprint, HashFunction, RidDirection, SessionDescription, Setup};

const TWCC: &str = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
const MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
const RID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
const RRID: &str = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
const LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

fn load(name: &str) -> SessionDescription {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    SessionDescription::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn transport() -> TransportSpec {
    TransportSpec {
        ice_ufrag: "sRtC".into(),
        ice_pwd: "sansrtcsansrtcsansrtc01".into(),
        ice_options: vec!["trickle".into()],
        ice_lite: false,
        fingerprints: vec![Fingerprint {
            hash: HashFunction::Sha256,
            digest: (0..32).collect(),
        }],
    }
}

fn audio_caps() -> MediaCapabilities {
    MediaCapabilities {
        codecs: vec![
            CodecSpec::opus(111),
            CodecSpec::new(63, "red", 48000, Some(2)),
        ],
        extensions: vec![LEVEL.into(), TWCC.into(), MID.into()],
        direction: Direction::SendRecv,
        msid: Some(("s".into(), "a".into())),
        receive_simulcast: false,
    }
}

fn video_caps() -> MediaCapabilities {
    MediaCapabilities {
        codecs: vec![
            CodecSpec::video(96, "VP8", None, Some(97)),
            CodecSpec::video(
                102,
                "H264",
                Some("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
                Some(103),
            ),
        ],
        extensions: vec![TWCC.into(), MID.into(), RID.into(), RRID.into()],
        direction: Direction::RecvOnly,
        msid: None,
        receive_simulcast: true,
    }
}

fn answer_spec() -> AnswerSpec {
    AnswerSpec {
        session_id: 77,
        session_version: 1,
        transport: transport(),
        audio: Some(audio_caps()),
        video: Some(video_caps()),
        data_channel: true,
        sctp_port: 5000,
        max_message_size: 262_144,
    }
}

fn offer_spec() -> OfferSpec {
    let mut audio = MediaSpec::media(
        MediaKind::Audio,
        "0",
        Direction::SendRecv,
        audio_caps().codecs,
    );
    audio.extensions = audio_caps().extensions;
    audio.msid = Some(("s".into(), "a".into()));
    let mut video = MediaSpec::media(
        MediaKind::Video,
        "1",
        Direction::SendRecv,
        video_caps().codecs,
    );
    video.extensions = video_caps().extensions;
    OfferSpec {
        session_id: 4_611_731_400_430_051_336,
        session_version: 2,
        transport: transport(),
        media: vec![audio, video, MediaSpec::data_channel("2")],
        sctp_port: 5000,
        max_message_size: 262_144,
        extmap_allow_mixed: true,
    }
}

#[test]
fn offer_has_jsep_shape() {
    let offer = create_offer(&offer_spec()).unwrap();
    let text = offer.serialize();
    assert_eq!(SessionDescription::parse(&text).unwrap().serialize(), text);
    assert_eq!(offer.bundle_group().unwrap().mids, vec!["0", "1", "2"]);
    assert!(offer.session.extmap_allow_mixed());
    assert_eq!(offer.media.len(), 3);
    let v = &offer.media[1];
    let ml = v.media_line().unwrap();
    assert_eq!(
        (ml.media, ml.port, ml.proto, ml.formats),
        ("video", 9, "UDP/TLS/RTP/SAVPF", "96 97 102 103")
    );
    assert_eq!(v.setup(), Some(Setup::Actpass));
    assert_eq!(v.ice_ufrag(), Some("sRtC"));
    assert_eq!(v.fingerprints()[0].digest.len(), 32);
    let codecs = v.codecs();
    assert_eq!(codecs[1].name(), "rtx");
    assert_eq!(codecs[1].fmtp.unwrap().apt(), Some(96));
    assert_eq!(codecs[3].fmtp.unwrap().apt(), Some(102));
    assert_eq!(codecs[2].fmtp.unwrap().profile_level_id(), Some(0x42e01f));
    assert!(v.rtcp_mux() && v.rtcp_rsize());
    // Ids are shared with the audio section (one BUNDLE id space): level 1, TWCC 2, mid 3.
    assert_eq!(
        v.extmaps()
            .iter()
            .map(|e| (e.id, e.uri))
            .collect::<Vec<_>>(),
        [(2, TWCC), (3, MID), (4, RID), (5, RRID)]
    );
    let dc = &offer.media[2];
    assert_eq!(dc.media_line().unwrap().formats, "webrtc-datachannel");
    assert_eq!(dc.sctp_port(), Some(5000));
    assert_eq!(dc.max_message_size(), Some(262_144));
}

#[test]
fn offer_rejects_bad_specs() {
    let mut s = offer_spec();
    s.media[1].mid = "0".into();
    assert!(create_offer(&s).is_err());
    let mut s = offer_spec();
    s.media[0].codecs[0].payload_type = 200;
    assert!(create_offer(&s).is_err());
    let mut s = offer_spec();
    s.transport.ice_ufrag = "bad\r\nufrag".into();
    assert!(create_offer(&s).is_err());
}

#[test]
fn answer_to_chrome_offer_maps_payload_types_and_rtx() {
    let offer = load("chrome_av_data_offer.sdp");
    let answer = create_answer(&offer, &answer_spec()).unwrap();
    assert_eq!(answer.media.len(), 3);
    assert_eq!(answer.bundle_group().unwrap().mids, vec!["0", "1", "2"]);
    assert!(answer.session.extmap_allow_mixed());
    // Audio: opus keeps 111, RED 63 (lists 111/111, kept since 111 is kept).
    let a = &answer.media[0];
    assert_eq!(a.media_line().unwrap().formats, "111 63");
    assert_eq!(a.codecs()[0].fmtp.unwrap().useinbandfec(), Some(true));
    assert_eq!(
        a.codecs()[1].fmtp.unwrap().red_payload_types(),
        Some(vec![111, 111])
    );
    assert_eq!(a.direction(), Some(Direction::SendRecv));
    assert_eq!(a.msids()[0].stream, "s");
    assert_eq!(
        a.extmaps().iter().map(|e| e.id).collect::<Vec<_>>(),
        [1, 3, 4]
    );
    // Video: Chrome offers VP8 at 96 (rtx 97) and H.264 42e01f pm=1 at 109 (rtx 114); our
    // local payload type for H.264 is 102, the answer must use Chrome's 109 and RTX 114 apt=109.
    let v = &answer.media[1];
    assert_eq!(v.media_line().unwrap().formats, "96 97 109 114");
    let c = v.codecs();
    assert_eq!(c[1].fmtp.unwrap().apt(), Some(96));
    assert_eq!(c[3].fmtp.unwrap().apt(), Some(109));
    assert_eq!(c[2].fmtp.unwrap().packetization_mode(), Some(1));
    assert!(
        c[0].rtcp_fb
            .iter()
            .any(|f| f.kind == "nack" && f.param == Some("pli"))
    );
    // Chrome offers sendrecv; we only receive video.
    assert_eq!(v.direction(), Some(Direction::RecvOnly));
    assert!(v.msids().is_empty());
    // Extmaps intersected by URI, offered ids kept (Chrome's mid is 4, TWCC 3, rid 10).
    assert_eq!(
        v.extmaps()
            .iter()
            .map(|e| (e.id, e.uri))
            .collect::<Vec<_>>(),
        [(3, TWCC), (4, MID), (10, RID), (11, RRID)]
    );
    // DTLS: Chrome offered actpass, we answer active.
    for i in 0..3 {
        assert_eq!(answer.setup_for(i), Some(Setup::Active));
        assert_eq!(
            answer.ice_credentials(i),
            Some(("sRtC", "sansrtcsansrtcsansrtc01"))
        );
    }
    assert_eq!(answer.media[2].sctp_port(), Some(5000));
}

#[test]
fn our_answer_agrees_with_chromium_on_our_offer() {
    let offer = load("ours_av_data_offer.sdp");
    let chrome = load("chrome_answer_to_ours_av_data.sdp");
    let ours = create_answer(&offer, &answer_spec()).unwrap();
    for i in 0..3 {
        let (c, o) = (&chrome.media[i], &ours.media[i]);
        assert_eq!(o.mid(), c.mid());
        assert_eq!(
            o.media_line().unwrap().formats,
            c.media_line().unwrap().formats,
            "m-section {i}"
        );
        let ids = |s: &sansrtc_sdp::Section| {
            s.extmaps()
                .iter()
                .map(|e| (e.id, e.uri.to_owned()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(o), ids(c), "extmaps of m-section {i}");
        assert_eq!(ours.setup_for(i), chrome.setup_for(i));
    }
    assert_eq!(
        ours.bundle_group().unwrap().mids,
        chrome.bundle_group().unwrap().mids
    );
}

#[test]
fn answer_to_aiortc_offer() {
    let offer = load("aiortc_av_data_offer.sdp");
    let answer = create_answer(&offer, &answer_spec()).unwrap();
    // aiortc: opus 96, VP8 97 rtx 98, H.264 42001f 99/100, H.264 42e01f 101/102. Our H.264 is
    // constrained baseline 42e0xx pm=1: Baseline 42001f is another profile (RFC 6184 §8.2.2).
    assert_eq!(answer.media[0].media_line().unwrap().formats, "96");
    assert_eq!(
        answer.media[1].media_line().unwrap().formats,
        "97 98 101 102"
    );
    assert_eq!(answer.media[2].media_line().unwrap().proto, "UDP/DTLS/SCTP");
}

#[test]
fn simulcast_offer_is_answered_with_recv_rids() {
    let offer = load("chrome_simulcast_offer.sdp");
    let answer = create_answer(&offer, &answer_spec()).unwrap();
    let v = &answer.media[1];
    let rids = v.rids();
    assert_eq!(
        rids.iter().map(|r| r.id).collect::<Vec<_>>(),
        ["q", "h", "f"]
    );
    assert!(rids.iter().all(|r| r.direction == RidDirection::Recv));
    assert_eq!(v.attribute("simulcast"), Some("recv q;h;f"));
    // Without receive_simulcast, no rids.
    let mut spec = answer_spec();
    spec.video.as_mut().unwrap().receive_simulcast = false;
    assert!(
        create_answer(&offer, &spec).unwrap().media[1]
            .rids()
            .is_empty()
    );
}

/// RFC 8851 §4/§6.2: the answer's `recv` rids keep the offered restrictions it supports,
/// with `pt=` narrowed to the answer's payload types; a rid whose payload types are all gone
/// is left out of the rids and of the simulcast list; unknown restrictions are dropped.
#[test]
fn simulcast_answer_keeps_rid_restrictions() {
    let path = format!(
        "{}/tests/data/chrome_simulcast_offer.sdp",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    // Chromium's simulcast offer (VP8 96, its RTX 97), with restrictions added to its rids:
    // 98 is not offered at all, 97 is RTX (kept in our answer since VP8 is kept with RTX).
    let text = text
        .replace(
            "a=rid:q send\r\n",
            "a=rid:q send pt=96,98;max-width=320;max-height=180;max-fps=15;x-unknown=1\r\n",
        )
        .replace("a=rid:h send\r\n", "a=rid:h send pt=98\r\n")
        .replace(
            "a=rid:f send\r\n",
            "a=rid:f send max-br=2500000;max-fs=3600;depend=q\r\n",
        );
    let offer = SessionDescription::parse(&text).unwrap();
    assert_eq!(offer.media[1].rids()[0].payload_types(), [96, 98]);
    let answer = create_answer(&offer, &answer_spec()).unwrap();
    let v = &answer.media[1];
    assert_eq!(v.media_line().unwrap().formats, "96 97");
    let rids: Vec<String> = v.rids().iter().map(ToString::to_string).collect();
    assert_eq!(
        rids,
        [
            "q recv pt=96;max-width=320;max-height=180;max-fps=15",
            "f recv max-br=2500000;max-fs=3600;depend=q",
        ]
    );
    assert_eq!(v.attribute("simulcast"), Some("recv q;f"));
    assert_eq!(v.rids()[0].payload_types(), [96]);
    // The answer parses back and keeps the restrictions as text.
    let again = SessionDescription::parse(&answer.serialize()).unwrap();
    assert_eq!(again, answer);
    // Every rid dropped: no rid and no simulcast attribute at all.
    let none = text
        .replace("pt=96,98;", "pt=98;")
        .replace("a=rid:f send max-br", "a=rid:f send pt=98;max-br");
    let answer = create_answer(&SessionDescription::parse(&none).unwrap(), &answer_spec()).unwrap();
    assert!(answer.media[1].rids().is_empty());
    assert_eq!(answer.media[1].simulcast(), None);
}

#[test]
fn rejected_sections_get_port_zero_and_leave_the_bundle() {
    let offer = load("chrome_av_data_offer.sdp");
    let mut spec = answer_spec();
    spec.video = None;
    spec.data_channel = false;
    let answer = create_answer(&offer, &spec).unwrap();
    let v = answer.media[1].media_line().unwrap();
    assert_eq!(
        (v.media, v.port, v.proto),
        ("video", 0, "UDP/TLS/RTP/SAVPF")
    );
    assert_eq!(answer.media[1].mid(), Some("1"));
    assert_eq!(answer.media[2].media_line().unwrap().port, 0);
    assert_eq!(answer.bundle_group().unwrap().mids, vec!["0"]);
    // No common codec also rejects.
    let mut spec = answer_spec();
    spec.audio.as_mut().unwrap().codecs = vec![CodecSpec::new(0, "G729", 8000, None)];
    let answer = create_answer(&offer, &spec).unwrap();
    assert_eq!(answer.media[0].media_line().unwrap().port, 0);
    assert_eq!(answer.bundle_group().unwrap().mids, vec!["1", "2"]);
}

#[test]
fn bundle_only_sections_are_accepted_and_port_zero_elsewhere_is_rejected() {
    let mut spec = offer_spec();
    spec.media[1].bundle_only = true;
    let offer = create_offer(&spec).unwrap();
    assert_eq!(offer.media[1].media_line().unwrap().port, 0);
    assert!(offer.media[1].bundle_only());
    let answer = create_answer(&offer, &answer_spec()).unwrap();
    assert_eq!(answer.media[1].media_line().unwrap().port, 9);
    assert_eq!(answer.bundle_group().unwrap().mids, vec!["0", "1", "2"]);
    // The same port 0 without bundle-only is a rejected section (RFC 3264 §6).
    let text = offer.serialize().replace("a=bundle-only\r\n", "");
    let answer = create_answer(&SessionDescription::parse(&text).unwrap(), &answer_spec()).unwrap();
    assert_eq!(answer.media[1].media_line().unwrap().port, 0);
    assert_eq!(answer.bundle_group().unwrap().mids, vec!["0", "2"]);
}

#[test]
fn direction_negotiation_table() {
    use Direction::*;
    for (offered, local, want) in [
        (SendRecv, SendRecv, SendRecv),
        (SendRecv, RecvOnly, RecvOnly),
        (SendRecv, SendOnly, SendOnly),
        (SendOnly, SendRecv, RecvOnly),
        (SendOnly, SendOnly, Inactive),
        (RecvOnly, SendRecv, SendOnly),
        (RecvOnly, RecvOnly, Inactive),
        (Inactive, SendRecv, Inactive),
    ] {
        assert_eq!(
            Direction::answer(offered, local),
            want,
            "{offered:?} x {local:?}"
        );
    }
    assert_eq!(Setup::Actpass.answer(), Setup::Active);
    assert_eq!(Setup::Active.answer(), Setup::Passive);
    assert_eq!(Setup::Passive.answer(), Setup::Active);
}

#[test]
fn rtx_is_dropped_when_its_codec_is() {
    let offer = load("chrome_av_data_offer.sdp");
    let codecs = offer.media[1].codecs();
    // Only VP9 profile 2 locally: keep 100 and its RTX 101, nothing else.
    let local = vec![CodecSpec::video(50, "VP9", Some("profile-id=2"), Some(51))];
    let n = negotiate_codecs(&codecs, &local);
    assert_eq!(
        n.iter().map(|c| c.payload_type).collect::<Vec<_>>(),
        [100, 101]
    );
    assert_eq!(n[1].fmtp.as_deref(), Some("apt=100"));
    // Without RTX wanted, the RTX codec goes.
    let local = vec![CodecSpec::video(50, "VP9", Some("profile-id=2"), None)];
    assert_eq!(negotiate_codecs(&codecs, &local).len(), 1);
    // AV1 profile 0 matches Chrome's 45, with RTX 46.
    let local = vec![CodecSpec::video(35, "av1", Some("profile=0"), Some(36))];
    let n = negotiate_codecs(&codecs, &local);
    assert_eq!(
        n.iter().map(|c| c.payload_type).collect::<Vec<_>>(),
        [45, 46]
    );
    // H.264 packetization-mode and profile must match: constrained baseline pm=0 is only
    // Chrome's 115 (107 is Baseline 42001f pm=0, 109 is 42e01f pm=1).
    let local = vec![CodecSpec::video(
        1,
        "H264",
        Some("profile-level-id=42e01f;packetization-mode=0"),
        None,
    )];
    let n = negotiate_codecs(&codecs, &local);
    assert_eq!(n.iter().map(|c| c.payload_type).collect::<Vec<_>>(), [115]);
    // The level may differ (RFC 6184 §8.2.2): 42e034 matches 42e01f.
    let local = vec![CodecSpec::video(
        1,
        "H264",
        Some("profile-level-id=42e034;packetization-mode=0"),
        None,
    )];
    assert_eq!(negotiate_codecs(&codecs, &local).len(), 1);
}

fn extmap_ids(sdp: &SessionDescription, i: usize) -> Vec<(u16, String)> {
    sdp.media[i]
        .extmaps()
        .iter()
        .map(|e| (e.id, e.uri.to_owned()))
        .collect()
}

/// JSEP §5.2.2: a re-offer after an answer keeps mids and order, ICE credentials,
/// fingerprints, payload types and extmap ids; the rejected section stays port 0; the
/// session version goes up; every section says actpass. Our answerer answers it and the
/// answer parses back.
#[test]
fn reoffer_after_answer_keeps_negotiated_state() {
    let offer = create_offer(&offer_spec()).unwrap();
    let mut spec = answer_spec();
    spec.video = None; // video rejected
    let answer = create_answer(&offer, &spec).unwrap();
    assert_eq!(answer.media[1].media_line().unwrap().port, 0);

    let re = create_reoffer(&offer, &answer, &ReofferSpec::default()).unwrap();
    let text = re.serialize();
    assert_eq!(SessionDescription::parse(&text).unwrap(), re);
    let (o0, o1) = (offer.origin().unwrap(), re.origin().unwrap());
    assert_eq!(o1.session_id, o0.session_id);
    assert_eq!(o1.version(), o0.version() + 1);
    let mids: Vec<_> = re.media.iter().map(|m| m.mid().unwrap()).collect();
    assert_eq!(mids, ["0", "1", "2"]);
    assert_eq!(re.bundle_group().unwrap().mids, ["0", "2"]);
    // Rejected video: port 0, same media and formats, only its mid.
    let v = re.media[1].media_line().unwrap();
    assert_eq!((v.media, v.port), ("video", 0));
    assert_eq!(re.media[1].ice_ufrag(), None);
    for i in [0, 2] {
        let (m, o) = (&re.media[i], &offer.media[i]);
        assert_eq!(re.ice_credentials(i), offer.ice_credentials(i));
        assert_eq!(re.fingerprints_for(i), offer.fingerprints_for(i));
        assert_eq!(m.setup(), Some(Setup::Actpass));
        assert_eq!(
            m.media_line().unwrap().formats,
            o.media_line().unwrap().formats
        );
        assert_eq!(m.codecs(), o.codecs());
        assert_eq!(extmap_ids(&re, i), extmap_ids(&offer, i));
    }
    assert_eq!(re.media[2].sctp_port(), Some(5000));

    // Answered by our own answerer: audio and data accepted, video still rejected.
    let re_answer = create_answer(&re, &spec).unwrap();
    let again = SessionDescription::parse(&re_answer.serialize()).unwrap();
    assert_eq!(again.bundle_group().unwrap().mids, ["0", "2"]);
    assert_eq!(again.media[0].media_line().unwrap().formats, "111 63");
    assert_eq!(again.media[1].media_line().unwrap().port, 0);
}

/// JSEP §5.2.2: a new section recycles the rejected one (same index, new mid); a second one
/// is appended; new extmap URIs get free ids, known URIs keep theirs.
#[test]
fn reoffer_recycles_rejected_sections_and_appends_new_ones() {
    let offer = create_offer(&offer_spec()).unwrap();
    let mut spec = answer_spec();
    spec.video = None;
    let answer = create_answer(&offer, &spec).unwrap();
    let mut a2 = MediaSpec::media(
        MediaKind::Audio,
        "a2",
        Direction::SendOnly,
        audio_caps().codecs,
    );
    a2.extensions = vec![MID.into(), "urn:example:new-ext".into()];
    let v2 = MediaSpec::media(
        MediaKind::Video,
        "v2",
        Direction::RecvOnly,
        video_caps().codecs,
    );
    let re = create_reoffer(
        &offer,
        &answer,
        &ReofferSpec {
            add_media: vec![a2, v2],
            ..ReofferSpec::default()
        },
    )
    .unwrap();
    let mids: Vec<_> = re.media.iter().map(|m| m.mid().unwrap()).collect();
    assert_eq!(mids, ["0", "a2", "2", "v2"]);
    assert_eq!(re.bundle_group().unwrap().mids, ["0", "a2", "2", "v2"]);
    assert_eq!(re.media[1].media_line().unwrap().port, 9);
    assert_eq!(re.ice_credentials(1), offer.ice_credentials(0));
    // mid keeps id 3 (shared with audio section 0); the new URI gets the first free id.
    let ids = extmap_ids(&re, 1);
    assert_eq!(ids[0], (3, MID.to_owned()));
    let used: Vec<u16> = (0..4)
        .flat_map(|i| extmap_ids(&offer, i.min(2)))
        .map(|(id, _)| id)
        .collect();
    assert!(!used.contains(&ids[1].0), "{ids:?} vs {used:?}");
    // Mids in use are refused.
    let dup = MediaSpec::data_channel("0");
    assert!(
        create_reoffer(
            &offer,
            &answer,
            &ReofferSpec {
                add_media: vec![dup],
                ..ReofferSpec::default()
            }
        )
        .is_err()
    );
    // The answer to it accepts the new sections.
    let re_answer = create_answer(&re, &answer_spec()).unwrap();
    assert_eq!(
        re_answer.bundle_group().unwrap().mids,
        ["0", "a2", "2", "v2"]
    );
    assert_eq!(re_answer.media[1].direction(), Some(Direction::RecvOnly));
}

/// ICE restart: new ufrag/pwd everywhere, fingerprints unchanged.
#[test]
fn reoffer_with_ice_restart() {
    let offer = create_offer(&offer_spec()).unwrap();
    let answer = create_answer(&offer, &answer_spec()).unwrap();
    let re = create_reoffer(
        &offer,
        &answer,
        &ReofferSpec {
            ice_restart: Some(("nEwU".into(), "newpasswordnewpassword".into())),
            ..ReofferSpec::default()
        },
    )
    .unwrap();
    for i in 0..3 {
        assert_eq!(
            re.ice_credentials(i),
            Some(("nEwU", "newpasswordnewpassword"))
        );
        assert_eq!(re.fingerprints_for(i), offer.fingerprints_for(i));
    }
}

/// The answering side re-offers from its answer to Chromium's offer: Chromium's payload types
/// (kept in our answer), our credentials, actpass, and Chromium's mids in order.
#[test]
fn reoffer_from_the_answerer_side() {
    let chrome = load("chrome_av_data_offer.sdp");
    let ours = create_answer(&chrome, &answer_spec()).unwrap();
    let re = create_reoffer(&ours, &chrome, &ReofferSpec::default()).unwrap();
    assert_eq!(re.media.len(), chrome.media.len());
    for (i, m) in re.media.iter().enumerate() {
        assert_eq!(m.mid(), chrome.media[i].mid());
        assert_eq!(
            m.media_line().unwrap().formats,
            ours.media[i].media_line().unwrap().formats
        );
        assert_eq!(m.setup(), Some(Setup::Actpass));
        assert_eq!(re.ice_credentials(i), ours.ice_credentials(i));
    }
    assert_eq!(
        re.origin().unwrap().version(),
        ours.origin().unwrap().version() + 1
    );
    // Chromium's side of it, played by our answerer, accepts it.
    let back = create_answer(&re, &answer_spec()).unwrap();
    assert_eq!(back.bundle_group(), re.bundle_group());
}
