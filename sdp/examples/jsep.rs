//! Offer/answer from the command line, for the interop case (interop/cases/sdp_jsep_peers.sh):
//!
//! - `jsep offer`: prints our offer (Opus, VP8 + RTX, H.264 + RTX, data channel).
//! - `jsep answer OFFER_FILE`: prints our answer to an offer.
//! - `jsep check OFFER_FILE ANSWER_FILE`: checks a peer's answer against our offer (parses,
//!   round-trips byte-identical, same mids, payload types and extmap ids taken from the offer).
//! - `jsep reoffer LOCAL_FILE REMOTE_FILE [restart]`: prints a subsequent offer (JSEP §5.2.2)
//!   from our current local description and the peer's, adding an audio m-section (mid
//!   `new-a`) unless it is there already; `restart` also restarts ICE (interop/cases/sdp_reoffer.sh).
#![allow(clippy::print_stdout)]

use std::process::ExitCode;

use sansrtc_sdp::jsep::{
    AnswerSpec, CodecSpec, MediaCapabilities, MediaKind, MediaSpec, OfferSpec, ReofferSpec,
    TransportSpec, create_answer, create_offer, create_reoffer,
};
use sansrtc_sdp::{Direction, Fingerprint, HashFunction, SessionDescription};

const EXTS: [&str; 4] = [
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
];

fn transport() -> TransportSpec {
    TransportSpec {
        ice_ufrag: "sRtC".into(),
        ice_pwd: "sansrtcsansrtcsansrtc01".into(),
        ice_options: vec!["trickle".into()],
        ice_lite: false,
        // Any well-formed digest: the peers only check it against the DTLS certificate later.
        fingerprints: vec![Fingerprint {
            hash: HashFunction::Sha256,
            digest: (1..=32).collect(),
        }],
    }
}

fn audio() -> Vec<CodecSpec> {
    vec![CodecSpec::opus(111)]
}

fn video() -> Vec<CodecSpec> {
    vec![
        CodecSpec::video(96, "VP8", None, Some(97)),
        CodecSpec::video(
            102,
            "H264",
            Some("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
            Some(103),
        ),
    ]
}

fn read(path: &str) -> Result<SessionDescription, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let sdp = SessionDescription::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    if sdp.serialize() != text {
        return Err(format!("{path}: round trip differs"));
    }
    Ok(sdp)
}

fn check(offer: &SessionDescription, answer: &SessionDescription) -> Result<String, String> {
    if offer.media.len() != answer.media.len() {
        return Err("answer has a different number of m-sections".into());
    }
    let mut accepted = 0;
    for (i, (o, a)) in offer.media.iter().zip(&answer.media).enumerate() {
        if o.mid() != a.mid() {
            return Err(format!(
                "m-section {i}: mid {:?} != offered {:?}",
                a.mid(),
                o.mid()
            ));
        }
        let (om, am) = (
            o.media_line().ok_or("no m=")?,
            a.media_line().ok_or("no m=")?,
        );
        if am.port == 0 {
            continue;
        }
        accepted += 1;
        let offered: Vec<u8> = om.payload_types().collect();
        for pt in am.payload_types() {
            if !offered.contains(&pt) {
                return Err(format!(
                    "m-section {i}: answer payload type {pt} was not offered"
                ));
            }
        }
        let oext = offer.extmaps_for(i);
        for e in a.extmaps() {
            if !oext.iter().any(|x| x.id == e.id && x.uri == e.uri) {
                return Err(format!(
                    "m-section {i}: extmap {} {} not as offered",
                    e.id, e.uri
                ));
            }
        }
        if answer.ice_credentials(i).is_none() || answer.fingerprints_for(i).is_empty() {
            return Err(format!("m-section {i}: no ICE credentials or fingerprint"));
        }
        if !matches!(
            answer.setup_for(i).map(|s| s.as_str()),
            Some("active" | "passive")
        ) {
            return Err(format!("m-section {i}: answer setup is not active/passive"));
        }
    }
    Ok(format!("{accepted} m-sections accepted"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["offer"] => {
            let mut a = MediaSpec::media(MediaKind::Audio, "0", Direction::SendRecv, audio());
            a.extensions = EXTS.iter().take(3).map(|s| s.to_string()).collect();
            let mut v = MediaSpec::media(MediaKind::Video, "1", Direction::SendRecv, video());
            v.extensions = EXTS.iter().map(|s| s.to_string()).collect();
            create_offer(&OfferSpec {
                session_id: 4_611_731_400_430_051_336,
                session_version: 2,
                transport: transport(),
                media: vec![a, v, MediaSpec::data_channel("2")],
                sctp_port: 5000,
                max_message_size: 262_144,
                extmap_allow_mixed: true,
            })
            .map(|s| s.serialize())
            .map_err(|e| e.to_string())
        }
        ["answer", offer] => read(offer).and_then(|o| {
            let caps = |codecs| MediaCapabilities {
                codecs,
                extensions: EXTS.iter().map(|s| s.to_string()).collect(),
                direction: Direction::RecvOnly,
                msid: None,
                receive_simulcast: true,
            };
            let spec = AnswerSpec {
                session_id: 77,
                session_version: 1,
                transport: transport(),
                audio: Some(caps(audio())),
                video: Some(caps(video())),
                data_channel: true,
                sctp_port: 5000,
                max_message_size: 262_144,
            };
            create_answer(&o, &spec)
                .map(|s| s.serialize())
                .map_err(|e| e.to_string())
        }),
        ["check", offer, answer] => {
            read(offer).and_then(|o| read(answer).and_then(|a| check(&o, &a)))
        }
        ["reoffer", local, remote, rest @ ..] => read(local).and_then(|l| {
            read(remote).and_then(|r| {
                let restart = matches!(rest, ["restart"]);
                let spec = ReofferSpec {
                    ice_restart: restart
                        .then(|| ("ReSt".to_owned(), "sansrtcrestartrestart01".to_owned())),
                    // Added once: a later re-offer keeps it like any other section.
                    add_media: l
                        .media_by_mid("new-a")
                        .is_none()
                        .then(|| {
                            MediaSpec::media(
                                MediaKind::Audio,
                                "new-a",
                                Direction::SendRecv,
                                audio(),
                            )
                        })
                        .into_iter()
                        .collect(),
                    sctp_port: 5000,
                    max_message_size: 262_144,
                };
                create_reoffer(&l, &r, &spec)
                    .map(|s| s.serialize())
                    .map_err(|e| e.to_string())
            })
        }),
        _ => Err(
            "usage: jsep offer | jsep answer OFFER | jsep check OFFER ANSWER | \
             jsep reoffer LOCAL REMOTE [restart]"
                .into(),
        ),
    };
    match out {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
