//! Property tests: parse(serialize(model)) == model for generated documents, typed
//! attributes survive Display -> parse, and the parser never panics on arbitrary input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use sansrtc_sdp::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, HashFunction, LineEnding, MediaLine, Rid,
    RidDirection, RtcpFb, Rtpmap, Section, SessionDescription, Setup, Simulcast, SimulcastRid,
    Ssrc, SsrcGroup,
};

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9+/_.-]{1,12}"
}

fn text() -> impl Strategy<Value = String> {
    // Any text without CR/LF, including non-ASCII and spaces.
    "[^\r\n]{0,40}"
}

fn hash() -> impl Strategy<Value = HashFunction> {
    prop_oneof![
        Just(HashFunction::Sha1),
        Just(HashFunction::Sha224),
        Just(HashFunction::Sha256),
        Just(HashFunction::Sha384),
        Just(HashFunction::Sha512),
    ]
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive),
    ]
}

fn rid_id() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{1,6}"
}

/// One attribute as text, built from a typed value (`ext_id` and `rid` keep ids unique).
fn typed_attr(ext_id: u16, rid: String) -> impl Strategy<Value = String> {
    let tok = token;
    prop_oneof![
        (
            0u8..=127,
            "[a-zA-Z0-9_.+-]{1,12}",
            1u32..200_000,
            proptest::option::of(1u16..9)
        )
            .prop_map(|(pt, e, c, ch)| {
                Attribute::Rtpmap(Rtpmap {
                    payload_type: pt,
                    encoding: &e,
                    clock_rate: c,
                    channels: ch,
                })
                .to_string()
            }),
        (
            0u8..=127,
            "[a-z-]{1,10}=[0-9a-f]{1,6}(;[a-z-]{1,10}=[0-9]{1,3}){0,3}"
        )
            .prop_map(|(pt, p)| {
                Attribute::Fmtp(Fmtp {
                    payload_type: pt,
                    params: &p,
                })
                .to_string()
            }),
        (
            proptest::option::of(0u8..=127),
            "[a-z-]{1,10}",
            proptest::option::of("[a-z]{1,5}")
        )
            .prop_map(|(pt, k, p)| Attribute::RtcpFb(RtcpFb {
                payload_type: pt,
                kind: &k,
                param: p.as_deref()
            })
            .to_string()),
        (
            proptest::option::of(direction()),
            "[a-z]{1,8}:[a-z0-9:/.-]{1,30}",
            proptest::option::of(tok())
        )
            .prop_map(move |(d, u, a)| {
                Attribute::Extmap(Extmap {
                    id: ext_id,
                    direction: d,
                    uri: &u,
                    attributes: a.as_deref(),
                })
                .to_string()
            }),
        (hash(), any::<u64>()).prop_map(|(h, seed)| {
            let digest = (0..h.digest_len())
                .map(|i| (seed >> (i % 8 * 8)) as u8 ^ i as u8)
                .collect();
            Attribute::Fingerprint(Fingerprint { hash: h, digest }).to_string()
        }),
        prop_oneof![
            Just(Setup::Actpass),
            Just(Setup::Active),
            Just(Setup::Passive),
            Just(Setup::Holdconn)
        ]
        .prop_map(|s| Attribute::Setup(s).to_string()),
        direction().prop_map(|d| Attribute::Direction(d).to_string()),
        (
            any::<u32>(),
            "[a-z]{1,8}",
            proptest::option::of("[a-zA-Z0-9 -]{0,12}")
        )
            .prop_map(|(s, a, v)| {
                Attribute::Ssrc(Ssrc {
                    ssrc: s,
                    attribute: &a,
                    value: v.as_deref(),
                })
                .to_string()
            }),
        (
            "(FID|SIM|FEC-FR)",
            proptest::collection::vec(any::<u32>(), 0..4)
        )
            .prop_map(|(s, v)| Attribute::SsrcGroup(SsrcGroup {
                semantics: &s,
                ssrcs: v
            })
            .to_string()),
        (
            prop_oneof![Just(RidDirection::Send), Just(RidDirection::Recv)],
            proptest::option::of("pt=(1|96|127)(,9[0-9]){0,2}(;max-width=[0-9]{1,4})?")
        )
            .prop_map(move |(d, r)| Attribute::Rid(Rid {
                id: &rid,
                direction: d,
                restrictions: r.as_deref()
            })
            .to_string()),
        (
            proptest::collection::vec(
                proptest::collection::vec((rid_id(), any::<bool>()), 1..3),
                1..4
            ),
            any::<bool>()
        )
            .prop_map(|(l, recv)| {
                let list: Vec<Vec<SimulcastRid<'_>>> = l
                    .iter()
                    .map(|s| {
                        s.iter()
                            .map(|(r, p)| SimulcastRid { rid: r, paused: *p })
                            .collect()
                    })
                    .collect();
                let sc = if recv {
                    Simulcast {
                        send: vec![],
                        recv: list,
                        recv_first: true,
                    }
                } else {
                    Simulcast {
                        send: list,
                        recv: vec![],
                        recv_first: false,
                    }
                };
                Attribute::Simulcast(sc).to_string()
            }),
        (1u16..=65535).prop_map(|p| Attribute::SctpPort(p).to_string()),
        any::<u64>().prop_map(|p| Attribute::MaxMessageSize(p).to_string()),
        text().prop_map(|t| format!("candidate:1 1 udp 1 127.0.0.1 9 typ host{t}")),
        Just("rtcp-mux".to_owned()),
        Just("end-of-candidates".to_owned()),
        ("x-[a-z-]{1,10}", proptest::option::of(text())).prop_map(|(n, v)| match v {
            Some(v) => format!("{n}:{v}"),
            None => n,
        }),
    ]
}

fn other_line() -> impl Strategy<Value = (char, String)> {
    (
        prop::sample::select(vec!['i', 'u', 'e', 'p', 'k', 'z', 'r', 'x', 'y']),
        text(),
    )
}

fn section_lines(max: usize) -> impl Strategy<Value = Vec<(char, String)>> {
    proptest::collection::vec((0u16..256, rid_id(), any::<bool>()), 0..max).prop_flat_map(|seeds| {
        seeds
            .into_iter()
            .enumerate()
            .map(|(i, (_, rid, other))| {
                // Unique extmap ids and rids per section.
                let id = u16::try_from(i + 1).unwrap();
                let rid = format!("{rid}{i}");
                if other {
                    other_line().boxed()
                } else {
                    typed_attr(id, rid).prop_map(|a| ('a', a)).boxed()
                }
            })
            .collect::<Vec<_>>()
    })
}

fn media_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(vec!["audio", "video"]),
            0u16..=65535,
            proptest::collection::vec(0u8..=127, 1..6)
        )
            .prop_map(|(m, p, pts)| {
                let f: Vec<String> = pts.iter().map(u8::to_string).collect();
                MediaLine {
                    media: m,
                    port: p,
                    port_count: None,
                    proto: "UDP/TLS/RTP/SAVPF",
                    formats: &f.join(" "),
                }
                .to_string()
            }),
        (0u16..=65535).prop_map(|p| format!("application {p} UDP/DTLS/SCTP webrtc-datachannel")),
    ]
}

prop_compose! {
    fn document()(
        session in section_lines(8),
        media in proptest::collection::vec((media_line(), section_lines(12)), 0..4),
        lf in any::<bool>(),
        last_newline in any::<bool>(),
    ) -> (SessionDescription, bool) {
        let mut s = Section::new();
        s.push_line('v', "0").unwrap();
        s.push_line('o', "- 123 4 IN IP4 127.0.0.1").unwrap();
        s.push_line('s', "-").unwrap();
        s.push_line('t', "0 0").unwrap();
        for (k, v) in &session {
            s.push_line(*k, v).unwrap();
        }
        let mut sections = Vec::new();
        for (i, (m, lines)) in media.iter().enumerate() {
            let mut sec = Section::new();
            sec.push_line('m', m).unwrap();
            sec.push_line('a', &format!("mid:{i}")).unwrap();
            for (k, v) in lines {
                sec.push_line(*k, v).unwrap();
            }
            sections.push(sec);
        }
        let mut sdp = SessionDescription { session: s, media: sections };
        if lf {
            sdp.session.set_line_endings(LineEnding::Lf);
            for m in &mut sdp.media {
                m.set_line_endings(LineEnding::Lf);
            }
        }
        (sdp, last_newline)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_serialize_is_identity_on_models((sdp, _) in document()) {
        let text = sdp.serialize();
        let parsed = SessionDescription::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed, &sdp);
        prop_assert_eq!(parsed.serialize(), text);
    }

    #[test]
    fn typed_attributes_round_trip(a in typed_attr(7, "r".into())) {
        let parsed = Attribute::parse(&a).map_err(|e| TestCaseError::fail(format!("{e}: {a}")))?;
        prop_assert_eq!(parsed.to_string(), a);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(sdp) = SessionDescription::parse_bytes(&bytes, &Default::default()) {
            prop_assert_eq!(sdp.serialize().into_bytes(), bytes);
        }
    }

    #[test]
    fn mutated_documents_never_panic_and_round_trip((sdp, _) in document(), pos in any::<prop::sample::Index>(), b in any::<u8>()) {
        let mut bytes = sdp.serialize().into_bytes();
        if !bytes.is_empty() {
            let i = pos.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(sdp) = SessionDescription::parse_bytes(&bytes, &Default::default()) {
            prop_assert_eq!(sdp.serialize().into_bytes(), bytes);
            // Typed access on whatever parsed never panics.
            for (i, m) in sdp.media.iter().enumerate() {
                let _ = (m.codecs(), m.extmaps(), m.rids(), m.simulcast(), sdp.ice_credentials(i));
            }
        }
    }
}
