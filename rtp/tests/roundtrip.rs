//! Property tests: Repr -> emit -> parse is identity; parse never panics; hostile inputs give
//! errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use sansrtc_rtp::Error;
use sansrtc_rtp::wire::rtcp::*;
use sansrtc_rtp::wire::rtp::*;

fn ext_strategy() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec((1u8..=255, prop::collection::vec(any::<u8>(), 0..40)), 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rtp_roundtrip(
        marker: bool,
        pt in 0u8..128,
        seq: u16,
        ts: u32,
        ssrc: u32,
        csrcs in prop::collection::vec(any::<u32>(), 0..=15),
        exts in ext_strategy(),
        payload in prop::collection::vec(any::<u8>(), 0..300),
        padding: u8,
    ) {
        let exts: Vec<Extension<'_>> = exts.iter().map(|(id, d)| Extension { id: *id, data: d }).collect();
        let extension = if exts.is_empty() { HeaderExtension::None } else { HeaderExtension::Auto(&exts) };
        let repr = RtpRepr { marker, payload_type: pt, sequence_number: seq, timestamp: ts, ssrc,
            csrcs: &csrcs, extension, payload: &payload, padding };
        let bytes = repr.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), repr.buffer_len().unwrap());
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type(), pt);
        prop_assert_eq!(p.sequence_number(), seq);
        prop_assert_eq!(p.timestamp(), ts);
        prop_assert_eq!(p.ssrc(), ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs.clone());
        prop_assert_eq!(p.payload(), &payload[..]);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        prop_assert_eq!(p.extensions().collect::<Vec<_>>(), exts.clone());
        for e in &exts {
            let first = exts.iter().find(|x| x.id == e.id).unwrap();
            prop_assert_eq!(p.extension(e.id), Some(first.data));
        }
    }

    #[test]
    fn rtp_in_place_rewrite(seq: u16, ts: u32, ssrc: u32, pt in 0u8..128, v in prop::collection::vec(any::<u8>(), 3)) {
        let exts = [Extension { id: 3, data: &[1, 2, 3] }];
        let repr = RtpRepr { payload_type: 96, sequence_number: 1, timestamp: 2, ssrc: 3,
            extension: HeaderExtension::Auto(&exts), payload: b"abc", ..Default::default() };
        let mut bytes = repr.to_vec().unwrap();
        let mut p = RtpPacket::new_checked(&mut bytes[..]).unwrap();
        p.set_sequence_number(seq);
        p.set_timestamp(ts);
        p.set_ssrc(ssrc);
        p.set_payload_type(pt);
        p.set_marker(true);
        p.extension_mut(3).unwrap().copy_from_slice(&v);
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!((p.sequence_number(), p.timestamp(), p.ssrc(), p.payload_type(), p.marker()), (seq, ts, ssrc, pt, true));
        prop_assert_eq!(p.extension(3), Some(&v[..]));
        prop_assert_eq!(p.payload(), b"abc");
    }

    #[test]
    fn rtp_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = RtpPacket::new_checked(&data[..]) {
            let _ = (p.payload(), p.csrcs().count(), p.extensions().count(), p.extension(1));
        }
    }

    #[test]
    fn rtcp_parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..300)) {
        for p in parse_compound(&data).flatten() {
            if let Ok(bytes) = p.to_vec() {
                prop_assert_eq!(RtcpPacket::parse_bytes(&bytes).unwrap(), p);
            }
        }
    }

    #[test]
    fn twcc_roundtrip(
        base: u16, rt in -0x80_0000i32..0x80_0000, fbc: u8,
        statuses in prop::collection::vec(prop_oneof![
            Just(PacketStatus::NotReceived),
            (0i16..=255).prop_map(PacketStatus::Received),
            any::<i16>().prop_map(PacketStatus::Received),
        ], 1..300),
    ) {
        let p = RtcpPacket::TransportFeedback(TransportFeedback { sender_ssrc: 1, media_ssrc: 2,
            base_sequence: base, reference_time: rt, feedback_count: fbc, statuses });
        let bytes = p.to_vec().unwrap();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(RtcpPacket::parse_bytes(&bytes).unwrap(), p);
    }

    #[test]
    fn nack_from_seqs(mut seqs in prop::collection::btree_set(any::<u16>(), 1..100)) {
        let seqs: Vec<u16> = std::mem::take(&mut seqs).into_iter().collect();
        let n = Nack::from_sequence_numbers(1, 2, &seqs);
        let mut lost: Vec<u16> = n.lost().collect();
        lost.sort_unstable();
        prop_assert_eq!(lost, seqs);
        let p = RtcpPacket::Nack(n);
        prop_assert_eq!(RtcpPacket::parse_bytes(&p.to_vec().unwrap()).unwrap(), p);
    }
}

fn every_packet() -> Vec<RtcpPacket> {
    let rb = ReportBlock {
        ssrc: 9,
        fraction_lost: 3,
        cumulative_lost: -5,
        extended_highest_seq: 70000,
        jitter: 12,
        last_sr: 0xdead,
        delay_since_last_sr: 77,
    };
    vec![
        RtcpPacket::SenderReport(SenderReport {
            ssrc: 1,
            ntp_time: 0x0102030405060708,
            rtp_time: 3,
            packet_count: 4,
            octet_count: 5,
            reports: vec![rb, rb],
            profile_extension: vec![],
        }),
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: 1,
            reports: vec![rb],
            profile_extension: vec![1, 2, 3, 4],
        }),
        RtcpPacket::SourceDescription(vec![
            SdesChunk {
                ssrc: 1,
                items: vec![
                    SdesItem {
                        kind: sdes_type::CNAME,
                        value: b"abc".to_vec(),
                    },
                    SdesItem {
                        kind: sdes_type::TOOL,
                        value: b"sansrtc".to_vec(),
                    },
                ],
            },
            SdesChunk {
                ssrc: 2,
                items: vec![],
            },
        ]),
        RtcpPacket::Goodbye(Goodbye {
            sources: vec![1, 2],
            reason: Some(b"done".to_vec()),
        }),
        RtcpPacket::Goodbye(Goodbye {
            sources: vec![1],
            reason: None,
        }),
        RtcpPacket::App(App {
            subtype: 3,
            ssrc: 1,
            name: *b"TEST",
            data: vec![9; 8],
        }),
        RtcpPacket::Nack(Nack::from_sequence_numbers(1, 2, &[10, 11, 13, 40])),
        RtcpPacket::TransportFeedback(TransportFeedback {
            sender_ssrc: 1,
            media_ssrc: 2,
            base_sequence: 65530,
            reference_time: -3,
            feedback_count: 7,
            statuses: vec![
                PacketStatus::Received(4),
                PacketStatus::NotReceived,
                PacketStatus::Received(-400),
                PacketStatus::Received(1000),
            ],
        }),
        RtcpPacket::CcFeedback(CcFeedback {
            sender_ssrc: 1,
            streams: vec![CcfbStream {
                ssrc: 5,
                begin_seq: 100,
                metrics: vec![
                    CcfbMetric {
                        received: true,
                        ecn: 1,
                        arrival_time_offset: 100,
                    },
                    CcfbMetric {
                        received: false,
                        ecn: 0,
                        arrival_time_offset: 0,
                    },
                    CcfbMetric {
                        received: true,
                        ecn: 3,
                        arrival_time_offset: 8191,
                    },
                ],
            }],
            report_timestamp: 0x12345678,
        }),
        RtcpPacket::Pli(Pli {
            sender_ssrc: 1,
            media_ssrc: 2,
        }),
        RtcpPacket::Sli(Sli {
            sender_ssrc: 1,
            media_ssrc: 2,
            entries: vec![SliEntry {
                first: 8191,
                number: 17,
                picture_id: 63,
            }],
        }),
        RtcpPacket::Fir(Fir {
            sender_ssrc: 1,
            entries: vec![FirEntry { ssrc: 3, seq: 9 }, FirEntry { ssrc: 4, seq: 255 }],
        }),
        RtcpPacket::Remb(Remb {
            sender_ssrc: 1,
            bitrate: 2_500_000 & !0xFF,
            ssrcs: vec![7, 8],
        }),
        RtcpPacket::ExtendedReport(ExtendedReport {
            ssrc: 1,
            blocks: vec![
                XrBlock::ReceiverReferenceTime { ntp_time: 42 },
                XrBlock::Dlrr(vec![DlrrItem {
                    ssrc: 2,
                    last_rr: 3,
                    delay_since_last_rr: 4,
                }]),
                XrBlock::Unknown {
                    block_type: 42,
                    type_specific: 1,
                    data: vec![0; 4],
                },
            ],
        }),
        RtcpPacket::GenericFeedback(GenericFeedback {
            packet_type: 205,
            fmt: 3,
            sender_ssrc: 1,
            media_ssrc: 2,
            fci: vec![1, 2, 3, 4],
        }),
        RtcpPacket::Unknown(UnknownPacket {
            packet_type: 210,
            count: 2,
            body: vec![5; 8],
        }),
    ]
}

#[test]
fn every_rtcp_type_roundtrips_in_one_compound() {
    let pkts = every_packet();
    let mut buf = vec![0u8; compound_len(&pkts).unwrap()];
    let n = emit_compound(&pkts, &mut buf).unwrap();
    assert_eq!(n, buf.len());
    let back: Vec<RtcpPacket> = parse_compound(&buf).map(|r| r.unwrap()).collect();
    assert_eq!(back, pkts);
    let names: Vec<&str> = back.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "SR", "RR", "SDES", "BYE", "BYE", "APP", "NACK", "TWCC", "CCFB", "PLI", "SLI", "FIR",
            "REMB", "XR", "FB", "UNKNOWN"
        ]
    );
}

#[test]
fn remb_mantissa_exponent() {
    // 18-bit mantissa: large values lose low bits but keep the order of magnitude.
    let p = RtcpPacket::Remb(Remb {
        sender_ssrc: 1,
        bitrate: 123_456_789,
        ssrcs: vec![],
    });
    let RtcpPacket::Remb(r) = RtcpPacket::parse_bytes(&p.to_vec().unwrap()).unwrap() else {
        panic!()
    };
    assert!(
        r.bitrate <= 123_456_789 && r.bitrate > 123_456_789 - 1024,
        "{}",
        r.bitrate
    );
}

#[test]
fn malformed_packet_does_not_stop_the_compound() {
    // RR claiming 2 report blocks but carrying none, then a valid PLI.
    let mut buf = vec![0x82, 201, 0x00, 0x01, 0, 0, 0, 1];
    buf.extend(
        RtcpPacket::Pli(Pli {
            sender_ssrc: 1,
            media_ssrc: 2,
        })
        .to_vec()
        .unwrap(),
    );
    let r: Vec<_> = parse_compound(&buf).collect();
    assert_eq!(r.len(), 2);
    assert!(
        matches!(
            r[0],
            Err(Error::BadLength {
                what: "report blocks (RC)",
                ..
            })
        ),
        "{:?}",
        r[0]
    );
    assert!(matches!(r[1], Ok(RtcpPacket::Pli(_))));
}

#[test]
fn hostile_rtcp_lengths() {
    // Length field claims far more than is there.
    let buf = [0x80, 200, 0xff, 0xff, 0, 0, 0, 0];
    let r: Vec<_> = parse_compound(&buf).collect();
    assert_eq!(r.len(), 1);
    assert!(matches!(
        r[0],
        Err(Error::BadLength {
            what: "RTCP length field",
            claimed: 262144,
            available: 8
        })
    ));
    // Padding larger than the packet.
    let buf = [0xA0, 201, 0, 1, 0, 0, 0, 9];
    assert!(matches!(
        RawRtcp::parse(&buf),
        Err(Error::BadLength {
            what: "RTCP padding",
            ..
        })
    ));
    // Version 1.
    assert!(matches!(
        RawRtcp::parse(&[0x40, 200, 0, 0]),
        Err(Error::InvalidField {
            field: "RTCP version",
            value: 1
        })
    ));
    // Truncated header.
    assert!(matches!(
        RawRtcp::parse(&[0x80, 200]),
        Err(Error::Truncated { .. })
    ));
    // TWCC claiming 65535 statuses with one run-length chunk of 1: chunks run out.
    let buf = [
        0x8f, 205, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0x20, 0x01,
    ];
    let e = RtcpPacket::parse_bytes(&buf[..20]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Truncated {
                what: "TWCC packet chunk",
                ..
            }
        ),
        "{e}"
    );
    // TWCC with a reserved status symbol 3.
    let buf = [
        0x8f, 205, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0,
    ];
    assert!(matches!(
        RtcpPacket::parse_bytes(&buf),
        Err(Error::InvalidField {
            field: "TWCC packet status symbol",
            ..
        })
    ));
    // SDES chunk with no END item.
    let buf = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, b'a', b'b'];
    assert!(matches!(
        RtcpPacket::parse_bytes(&buf),
        Err(Error::Truncated {
            what: "SDES item (missing END)",
            ..
        })
    ));
    // NACK list with 5000 entries is refused.
    let mut buf = vec![0x81, 205];
    buf.extend(((2 + 5000) as u16).to_be_bytes());
    buf.extend([0u8; 8]);
    buf.extend(vec![0u8; 4 * 5000]);
    assert!(matches!(
        RtcpPacket::parse_bytes(&buf),
        Err(Error::LimitExceeded {
            what: "NACK FCI entries",
            ..
        })
    ));
}

#[test]
fn hostile_rtp() {
    assert!(matches!(
        RtpPacket::new_checked(&[0x80u8; 11][..]),
        Err(Error::Truncated {
            need: 12,
            have: 11,
            ..
        })
    ));
    // CC = 15 but no CSRCs.
    let mut b = vec![0x8f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        RtpPacket::new_checked(&b[..]),
        Err(Error::Truncated {
            what: "RTP CSRC list",
            need: 72,
            ..
        })
    ));
    // Extension length beyond packet.
    b = vec![
        0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x00, 0x10, 0x10, 0, 0, 0,
    ];
    assert!(matches!(
        RtpPacket::new_checked(&b[..]),
        Err(Error::BadLength {
            what: "RTP header extension length",
            ..
        })
    ));
    // One-byte element longer than the block.
    b = vec![
        0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x00, 0x01, 0x1f, 0, 0, 0,
    ];
    assert!(matches!(
        RtpPacket::new_checked(&b[..]),
        Err(Error::BadLength {
            what: "one-byte header extension element",
            ..
        })
    ));
    // Padding larger than the payload.
    b = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 20];
    assert!(matches!(
        RtpPacket::new_checked(&b[..]),
        Err(Error::BadLength {
            what: "RTP padding",
            claimed: 20,
            available: 4
        })
    ));
    // Padding count zero.
    b = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(matches!(
        RtpPacket::new_checked(&b[..]),
        Err(Error::InvalidField {
            field: "RTP padding count",
            ..
        })
    ));
    // Version 0.
    assert!(matches!(
        RtpPacket::new_checked(&[0u8; 12][..]),
        Err(Error::InvalidField {
            field: "RTP version",
            ..
        })
    ));
    // Id 15 stops processing; elements after it are not reported.
    b = vec![
        0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xAA, 0xF0, 0x20,
    ];
    let p = RtpPacket::new_checked(&b[..]).unwrap();
    assert_eq!(p.extensions().count(), 1);
    assert_eq!(p.extension(2), None);
    // Builder refuses 16 CSRCs and bad one-byte elements.
    let cs = [0u32; 16];
    assert!(matches!(
        RtpRepr {
            csrcs: &cs,
            ..Default::default()
        }
        .buffer_len(),
        Err(Error::LimitExceeded { .. })
    ));
    let e = [Extension { id: 15, data: &[1] }];
    assert!(
        RtpRepr {
            extension: HeaderExtension::Form(ExtensionForm::OneByte, &e),
            ..Default::default()
        }
        .buffer_len()
        .is_err()
    );
    let big = [0u8; 17];
    let e = [Extension { id: 1, data: &big }];
    // Auto picks the two-byte form for a 17-octet element.
    let v = RtpRepr {
        extension: HeaderExtension::Auto(&e),
        ..Default::default()
    }
    .to_vec()
    .unwrap();
    assert_eq!(
        RtpPacket::new_checked(&v[..]).unwrap().extension_form(),
        Some(ExtensionForm::TwoByte(0))
    );
    // Too small output buffer.
    let mut out = [0u8; 5];
    assert!(matches!(
        RtpRepr::default().emit(&mut out),
        Err(Error::BufferTooSmall { need: 12, have: 5 })
    ));
}

#[test]
fn typed_extensions() {
    use sansrtc_rtp::wire::ext::*;
    assert_eq!(
        AbsSendTime::parse(&[0x12, 0x34, 0x56]).unwrap(),
        AbsSendTime(0x123456)
    );
    assert_eq!(AbsSendTime(0x123456).to_bytes(), [0x12, 0x34, 0x56]);
    assert_eq!(AbsSendTime::from_ntp(1u64 << 32).0, 1 << 18);
    assert!((AbsSendTime(3 << 17).seconds() - 1.5).abs() < 1e-9);
    assert!(AbsSendTime::parse(&[1, 2]).is_err());
    assert_eq!(
        TransportCc::parse(&[0x01, 0x02]).unwrap(),
        TransportCc(0x0102)
    );
    assert_eq!(
        AudioLevel::parse(&[0x9a]).unwrap(),
        AudioLevel {
            voice: true,
            level: 26
        }
    );
    assert_eq!(
        AudioLevel {
            voice: true,
            level: 26
        }
        .to_bytes(),
        [0x9a]
    );
    let vo = VideoOrientation::parse(&[0x0b]).unwrap();
    assert_eq!(
        vo,
        VideoOrientation {
            back_camera: true,
            flip: false,
            rotation: 3
        }
    );
    assert_eq!(vo.degrees(), 270);
    assert_eq!(
        PlayoutDelay::parse(&[0x00, 0x10, 0x64]).unwrap(),
        PlayoutDelay { min: 1, max: 100 }
    );
    assert_eq!(
        PlayoutDelay { min: 1, max: 100 }.to_bytes(),
        [0x00, 0x10, 0x64]
    );
    let act = AbsCaptureTime::parse(&[0, 0, 0, 1, 0x80, 0, 0, 0]).unwrap();
    assert_eq!(
        act,
        AbsCaptureTime {
            timestamp: (1 << 32) | 0x8000_0000,
            clock_offset: None
        }
    );
    let mut b = [0u8; 16];
    let with = AbsCaptureTime {
        timestamp: 5,
        clock_offset: Some(-1),
    };
    assert_eq!(with.write(&mut b), 16);
    assert_eq!(AbsCaptureTime::parse(&b).unwrap(), with);
    assert!(AbsCaptureTime::parse(&b[..9]).is_err());
    assert_eq!(parse_sdes_string(b"0").unwrap(), "0");
    assert_eq!(parse_sdes_string(b"hi\0\0").unwrap(), "hi");
    assert!(parse_sdes_string(&[0xff]).is_err());
    assert_eq!(
        ExtensionKind::from_uri(AUDIO_LEVEL_URI),
        Some(ExtensionKind::AudioLevel)
    );
    for k in ExtensionKind::ALL {
        assert_eq!(ExtensionKind::from_uri(k.uri()), Some(k));
    }
    let mut m = ExtensionMap::new();
    m.insert(3, ExtensionKind::AbsSendTime);
    assert_eq!(m.get(3), Some(ExtensionKind::AbsSendTime));
    assert_eq!(m.id_of(ExtensionKind::AbsSendTime), Some(3));
    assert_eq!(m.get(4), None);
    assert!(matches!(
        TypedExtension::parse(ExtensionKind::SdesMid, b"a1").unwrap(),
        TypedExtension::SdesMid("a1")
    ));
}

#[test]
fn hand_built_seed_compound_parses_fully() {
    // The fuzz seed written by hand (RR, REMB, TWCC, XR, BYE, FIR, CCFB) parses without error.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/rtcp_parse/rr-remb-twcc-xr-bye-fir-ccfb"
    );
    let bytes = std::fs::read(path).unwrap();
    let pkts: Vec<RtcpPacket> = parse_compound(&bytes).map(|r| r.unwrap()).collect();
    let names: Vec<&str> = pkts.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["RR", "REMB", "TWCC", "XR", "BYE", "FIR", "CCFB"]);
    let RtcpPacket::Remb(r) = &pkts[1] else {
        panic!()
    };
    assert_eq!((r.bitrate, r.ssrcs.clone()), (500_000, vec![2]));
    let RtcpPacket::TransportFeedback(t) = &pkts[2] else {
        panic!()
    };
    assert_eq!(t.base_sequence, 1);
    assert_eq!(t.statuses.len(), 5);
    assert_eq!(t.reference_time, 16);
    let RtcpPacket::Goodbye(b) = &pkts[4] else {
        panic!()
    };
    assert_eq!(b.reason.as_deref(), Some(&b"bye"[..]));
    let RtcpPacket::CcFeedback(c) = &pkts[6] else {
        panic!()
    };
    assert_eq!(c.streams[0].metrics.len(), 3);
    assert_eq!(c.report_timestamp, 0x12345678);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// `extension(id)` (served from the index built by `new_checked`, or by a walk for
    /// elements beyond octet 255) always equals the first element with that id in
    /// `extensions()`, for every id, in both forms and with blocks longer than 255 octets.
    #[test]
    fn extension_lookup_matches_iteration(
        exts in prop::collection::vec((1u8..=16, prop::collection::vec(any::<u8>(), 1..=16)), 0..40),
        two_byte: bool,
    ) {
        let exts: Vec<Extension<'_>> = exts.iter().map(|(id, d)| Extension { id: *id, data: d }).collect();
        let form = if two_byte || exts.iter().any(|e| e.id > 14) {
            ExtensionForm::TwoByte(0)
        } else {
            ExtensionForm::OneByte
        };
        let repr = RtpRepr { payload_type: 96, extension: HeaderExtension::Form(form, &exts),
            payload: b"xyz", ..Default::default() };
        let mut bytes = repr.to_vec().unwrap();
        let p = RtpPacket::new_checked(&bytes[..]).unwrap();
        for id in 0..=255u8 {
            let want = p.extensions().find(|e| e.id == id).map(|e| e.data);
            prop_assert_eq!(p.extension(id), want, "id {}", id);
        }
        let mut p = RtpPacket::new_checked(&mut bytes[..]).unwrap();
        for e in &exts {
            let first = exts.iter().find(|x| x.id == e.id).unwrap();
            prop_assert_eq!(p.extension_mut(e.id).map(|v| v.to_vec()), Some(first.data.to_vec()));
        }
    }

    /// Arbitrary extension blocks: when the packet validates, lookup and iteration agree.
    #[test]
    fn extension_lookup_matches_iteration_raw(
        profile in prop::sample::select(vec![0xBEDEu16, 0x1000, 0x1003, 0x1234]),
        words in prop::collection::vec(any::<[u8; 4]>(), 0..80),
    ) {
        let mut bytes = vec![0x90, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        bytes.extend_from_slice(&profile.to_be_bytes());
        bytes.extend_from_slice(&(words.len() as u16).to_be_bytes());
        for w in &words {
            bytes.extend_from_slice(w);
        }
        if let Ok(p) = RtpPacket::new_checked(&bytes[..]) {
            for id in 0..=255u8 {
                let want = p.extensions().find(|e| e.id == id).map(|e| e.data);
                prop_assert_eq!(p.extension(id), want, "id {}", id);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// `new_checked_lazy` accepts every packet `new_checked` accepts, with the same fields;
    /// on blocks with a malformed element it still never reads past the block, and a
    /// lookup finds exactly the elements before the malformed one.
    #[test]
    fn lazy_view_agrees_with_full_view(
        profile in prop::sample::select(vec![0xBEDEu16, 0x1000, 0x1234]),
        words in prop::collection::vec(any::<[u8; 4]>(), 0..12),
        payload in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = vec![0x90, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        bytes.extend_from_slice(&profile.to_be_bytes());
        bytes.extend_from_slice(&(words.len() as u16).to_be_bytes());
        for w in &words {
            bytes.extend_from_slice(w);
        }
        bytes.extend_from_slice(&payload);
        let lazy = RtpPacket::new_checked_lazy(&bytes[..]).unwrap();
        prop_assert_eq!(lazy.payload(), &payload[..]);
        for id in 0..=255u8 {
            let want = lazy.extensions().find(|e| e.id == id).map(|e| e.data);
            prop_assert_eq!(lazy.extension(id), want);
        }
        if let Ok(full) = RtpPacket::new_checked(&bytes[..]) {
            prop_assert_eq!(full.extensions().collect::<Vec<_>>(), lazy.extensions().collect::<Vec<_>>());
            for id in 0..=255u8 {
                prop_assert_eq!(full.extension(id), lazy.extension(id));
            }
        }
    }
}

#[test]
fn lazy_view_rejects_what_is_outside_the_elements() {
    // Same header errors as new_checked: version, CSRC list, extension block bounds.
    assert!(RtpPacket::new_checked_lazy(&[0x40u8; 12][..]).is_err());
    assert!(RtpPacket::new_checked_lazy(&[0x81u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..]).is_err());
    let too_long = [
        0x90u8, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 2, 0x10, 1, 0, 0,
    ];
    assert!(RtpPacket::new_checked_lazy(&too_long[..]).is_err());
    // A malformed element (id 2 claims 16 octets in a 4-octet block): new_checked refuses
    // the packet, the lazy view finds the element before it and nothing after it.
    let bad = [
        0x90u8, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0x2F, 0,
    ];
    assert!(RtpPacket::new_checked(&bad[..]).is_err());
    let p = RtpPacket::new_checked_lazy(&bad[..]).unwrap();
    assert_eq!(p.extension(1), Some(&[0xAA][..]));
    assert_eq!(p.extension(2), None);
    assert_eq!(p.extensions().count(), 1);
    assert_eq!(p.payload(), &[] as &[u8]);
}
