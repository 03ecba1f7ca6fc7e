//! The RTP/RTCP vectors of ../shared/vectors (copied to tests/data), field by field.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sansrtc_rtp::wire::rtcp::{RtcpCompound, RtcpPacket, parse_compound};
use sansrtc_rtp::wire::rtp::{ExtensionForm, RtpPacket};
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
fn hexstr(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
fn hex32(v: &Value) -> u32 {
    u32::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}
fn vectors() -> Value {
    serde_json::from_str(include_str!("data/rtp_rtcp_parsing.json")).unwrap()
}

#[test]
fn rtp_vectors() {
    let v = vectors();
    let pkts = v["rtp_packets"].as_array().unwrap();
    assert_eq!(pkts.len(), 3);
    for p in pkts {
        let id = p["id"].as_str().unwrap();
        let bytes = hex(p["packet"].as_str().unwrap());
        let e = &p["expected"];
        let pkt = RtpPacket::new_checked(&bytes[..]).unwrap_or_else(|err| panic!("{id}: {err}"));
        assert_eq!(
            u64::from(pkt.version()),
            e["version"].as_u64().unwrap(),
            "{id}"
        );
        assert_eq!(pkt.has_padding(), e["padding"].as_bool().unwrap(), "{id}");
        assert_eq!(
            pkt.has_extension(),
            e["extension"].as_bool().unwrap(),
            "{id}"
        );
        assert_eq!(
            u64::from(pkt.csrc_count()),
            e["csrc_count"].as_u64().unwrap()
        );
        assert_eq!(pkt.marker(), e["marker"].as_bool().unwrap(), "{id}");
        assert_eq!(
            u64::from(pkt.payload_type()),
            e["payload_type"].as_u64().unwrap()
        );
        assert_eq!(
            u64::from(pkt.sequence_number()),
            e["sequence_number"].as_u64().unwrap()
        );
        assert_eq!(u64::from(pkt.timestamp()), e["timestamp"].as_u64().unwrap());
        assert_eq!(pkt.ssrc(), hex32(&e["ssrc"]), "{id}");
        let csrcs: Vec<u32> = pkt.csrcs().collect();
        let want: Vec<u32> = e["csrcs"].as_array().unwrap().iter().map(hex32).collect();
        assert_eq!(csrcs, want, "{id}");
        assert_eq!(
            pkt.header_len() as u64,
            e["header_length_octets"].as_u64().unwrap()
        );
        assert_eq!(
            hexstr(pkt.payload()),
            e["payload"].as_str().unwrap(),
            "{id}"
        );
        assert_eq!(
            pkt.padding_len() as u64,
            e["padding_length"].as_u64().unwrap()
        );
        let he = &e["header_extension"];
        if he.is_null() {
            assert!(pkt.extension_profile().is_none());
            assert_eq!(pkt.extensions().count(), 0);
            continue;
        }
        assert_eq!(
            u32::from(pkt.extension_profile().unwrap()),
            hex32(&he["profile"])
        );
        let form = pkt.extension_form().unwrap();
        if he["form"].as_str().unwrap().starts_with("one-byte") {
            assert_eq!(form, ExtensionForm::OneByte);
        } else {
            assert_eq!(form, ExtensionForm::TwoByte(0));
        }
        assert_eq!(
            hexstr(pkt.extension_data().unwrap()),
            he["data"].as_str().unwrap()
        );
        assert_eq!(
            pkt.extension_data().unwrap().len() as u64,
            4 * he["length_words"].as_u64().unwrap()
        );
        let got: Vec<(u8, String)> = pkt.extensions().map(|x| (x.id, hexstr(x.data))).collect();
        let want: Vec<(u8, String)> = he["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                assert_eq!(
                    x["length"].as_u64().unwrap() as usize * 2,
                    x["value"].as_str().unwrap().len()
                );
                (
                    x["id"].as_u64().unwrap() as u8,
                    x["value"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "{id}");
        for (eid, val) in &want {
            assert_eq!(
                hexstr(pkt.extension(*eid).unwrap()),
                *val,
                "{id} lookup {eid}"
            );
        }
        assert!(pkt.extension(13).is_none());
    }
}

#[test]
fn rtcp_vector() {
    let v = vectors();
    let c = &v["rtcp_packets"][0];
    let bytes = hex(c["packet"].as_str().unwrap());
    assert_eq!(
        bytes.len() as u64,
        c["packet_length_octets"].as_u64().unwrap()
    );
    // The compound walk finds the sub-packets at the given offsets.
    let mut off = 0usize;
    let mut offsets = vec![];
    for raw in RtcpCompound::new(&bytes) {
        let raw = raw.unwrap();
        offsets.push(off as u64);
        off += raw.bytes.len();
    }
    let want: Vec<u64> = c["sub_packet_offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(offsets, want);
    let exp = c["expected"].as_array().unwrap();
    let raws: Vec<_> = RtcpCompound::new(&bytes).map(|r| r.unwrap()).collect();
    for (raw, e) in raws.iter().zip(exp) {
        assert_eq!(
            u64::from(raw.packet_type),
            e["packet_type"].as_u64().unwrap()
        );
        assert_eq!(raw.bytes.len() as u64, e["length_octets"].as_u64().unwrap());
        assert_eq!(raw.padding, e["padding"].as_bool().unwrap());
    }
    let pkts: Vec<RtcpPacket> = parse_compound(&bytes).map(|p| p.unwrap()).collect();
    assert_eq!(pkts.len(), 4);
    let RtcpPacket::SenderReport(sr) = &pkts[0] else {
        panic!("not SR: {:?}", pkts[0])
    };
    let e = &exp[0];
    assert_eq!(sr.ssrc, hex32(&e["sender_ssrc"]));
    assert_eq!((sr.ntp_time >> 32) as u32, hex32(&e["ntp_timestamp_msw"]));
    assert_eq!(sr.ntp_time as u32, hex32(&e["ntp_timestamp_lsw"]));
    assert_eq!(u64::from(sr.rtp_time), e["rtp_timestamp"].as_u64().unwrap());
    assert_eq!(
        u64::from(sr.packet_count),
        e["sender_packet_count"].as_u64().unwrap()
    );
    assert_eq!(
        u64::from(sr.octet_count),
        e["sender_octet_count"].as_u64().unwrap()
    );
    assert_eq!(sr.reports.len(), 1);
    let rb = &sr.reports[0];
    let eb = &e["report_blocks"][0];
    assert_eq!(rb.ssrc, hex32(&eb["ssrc"]));
    assert_eq!(
        u64::from(rb.fraction_lost),
        eb["fraction_lost"].as_u64().unwrap()
    );
    assert_eq!(
        i64::from(rb.cumulative_lost),
        eb["cumulative_lost"].as_i64().unwrap()
    );
    assert_eq!(
        u64::from(rb.extended_highest_seq),
        eb["extended_highest_seq"].as_u64().unwrap()
    );
    assert_eq!(
        u64::from(rb.extended_highest_seq >> 16),
        eb["ext_seq_cycles"].as_u64().unwrap()
    );
    assert_eq!(
        u64::from(rb.extended_highest_seq & 0xFFFF),
        eb["ext_seq_number"].as_u64().unwrap()
    );
    assert_eq!(
        u64::from(rb.jitter),
        eb["interarrival_jitter"].as_u64().unwrap()
    );
    assert_eq!(rb.last_sr, hex32(&eb["last_sr"]));
    assert_eq!(
        u64::from(rb.delay_since_last_sr),
        eb["delay_since_last_sr"].as_u64().unwrap()
    );

    let RtcpPacket::SourceDescription(chunks) = &pkts[1] else {
        panic!()
    };
    let ec = &exp[1]["chunks"][0];
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].ssrc, hex32(&ec["ssrc"]));
    assert_eq!(
        u64::from(chunks[0].items[0].kind),
        ec["items"][0]["type"].as_u64().unwrap()
    );
    assert_eq!(
        chunks[0].items[0].value,
        ec["items"][0]["text"].as_str().unwrap().as_bytes()
    );

    let RtcpPacket::Nack(nack) = &pkts[2] else {
        panic!()
    };
    let en = &exp[2];
    assert_eq!(nack.sender_ssrc, hex32(&en["sender_ssrc"]));
    assert_eq!(nack.media_ssrc, hex32(&en["media_ssrc"]));
    assert_eq!(
        u64::from(nack.pairs[0].pid),
        en["nack_items"][0]["pid"].as_u64().unwrap()
    );
    assert_eq!(
        u32::from(nack.pairs[0].blp),
        hex32(&en["nack_items"][0]["blp"])
    );
    let lost: Vec<u64> = nack.lost().map(u64::from).collect();
    let want: Vec<u64> = en["lost_sequence_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(lost, want);

    let RtcpPacket::Pli(pli) = &pkts[3] else {
        panic!()
    };
    assert_eq!(pli.sender_ssrc, hex32(&exp[3]["sender_ssrc"]));
    assert_eq!(pli.media_ssrc, hex32(&exp[3]["media_ssrc"]));

    // Re-emitting the parsed packets reproduces the compound byte for byte.
    let mut out = vec![0u8; 200];
    let n = sansrtc_rtp::wire::rtcp::emit_compound(&pkts, &mut out).unwrap();
    assert_eq!(&out[..n], &bytes[..]);
}

#[test]
fn rtp_vectors_reemit_identically() {
    use sansrtc_rtp::wire::rtp::{Extension, HeaderExtension, RtpRepr};
    let v = vectors();
    // The padding-only vector re-emits byte for byte (padding is written as zeros + count).
    let p = &v["rtp_packets"][2];
    let bytes = hex(p["packet"].as_str().unwrap());
    let pkt = RtpPacket::new_checked(&bytes[..]).unwrap();
    let csrcs: Vec<u32> = pkt.csrcs().collect();
    let mut padded = bytes.clone();
    // The vector's padding octets are 00 00 00 04.
    padded.truncate(bytes.len());
    let repr = RtpRepr {
        marker: pkt.marker(),
        payload_type: pkt.payload_type(),
        sequence_number: pkt.sequence_number(),
        timestamp: pkt.timestamp(),
        ssrc: pkt.ssrc(),
        csrcs: &csrcs,
        extension: HeaderExtension::None,
        payload: pkt.payload(),
        padding: pkt.padding_len() as u8,
    };
    assert_eq!(repr.to_vec().unwrap(), padded);
    // The two-byte vector: elements re-emitted in two-byte form give the same elements.
    let p = &v["rtp_packets"][1];
    let bytes = hex(p["packet"].as_str().unwrap());
    let pkt = RtpPacket::new_checked(&bytes[..]).unwrap();
    let exts: Vec<Extension<'_>> = pkt.extensions().collect();
    let csrcs: Vec<u32> = pkt.csrcs().collect();
    let repr = RtpRepr {
        marker: pkt.marker(),
        payload_type: pkt.payload_type(),
        sequence_number: pkt.sequence_number(),
        timestamp: pkt.timestamp(),
        ssrc: pkt.ssrc(),
        csrcs: &csrcs,
        extension: HeaderExtension::Auto(&exts),
        payload: pkt.payload(),
        padding: 0,
    };
    let out = repr.to_vec().unwrap();
    let back = RtpPacket::new_checked(&out[..]).unwrap();
    assert_eq!(back.extension_form(), Some(ExtensionForm::TwoByte(0)));
    assert_eq!(back.extensions().collect::<Vec<_>>(), exts);
    assert_eq!(back.payload(), pkt.payload());
}
