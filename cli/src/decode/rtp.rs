//! RTP and RTCP for `sansrtc decode`: the RTP header, CSRCs, every RFC 8285 header extension
//! (by id, and by name when an `--extmap ID=URI` maps it), and every packet of an RTCP
//! compound (RFC 3550 §6, RFC 4585, RFC 5104, RFC 3611, RFC 8888, TWCC, REMB).

use serde_json::{Map, Value, json};

use sansrtc_rtp::wire::ext::{ExtensionKind, TypedExtension};
use sansrtc_rtp::wire::rtcp::{
    PacketStatus, RawRtcp, ReportBlock, RtcpCompound, RtcpPacket, XrBlock, sdes_type,
};
use sansrtc_rtp::{ExtensionForm, RtpPacket};

/// Payload octets shown in full; longer payloads are cut (the length is always given).
const MAX_PAYLOAD_HEX: usize = 64;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn ssrc(v: u32) -> Value {
    Value::from(format!("0x{v:08x}"))
}

fn typed(kind: ExtensionKind, data: &[u8]) -> Value {
    match TypedExtension::parse(kind, data) {
        Err(e) => json!({ "error": e.to_string() }),
        Ok(TypedExtension::AbsSendTime(t)) => json!({ "raw": t.0, "seconds": t.seconds() }),
        Ok(TypedExtension::TransportCc(t)) => json!({ "transport_sequence_number": t.0 }),
        Ok(TypedExtension::SdesMid(s)) => json!({ "mid": s }),
        Ok(TypedExtension::RtpStreamId(s)) => json!({ "rid": s }),
        Ok(TypedExtension::RepairedRtpStreamId(s)) => json!({ "repaired_rid": s }),
        Ok(TypedExtension::AudioLevel(a)) => {
            json!({ "voice_activity": a.voice, "level_dbov": -i32::from(a.level) })
        }
        Ok(TypedExtension::VideoOrientation(v)) => json!({
            "back_camera": v.back_camera, "flip": v.flip, "rotation_degrees": v.degrees()
        }),
        Ok(TypedExtension::PlayoutDelay(p)) => json!({
            "min_ms": u32::from(p.min) * 10, "max_ms": u32::from(p.max) * 10
        }),
        Ok(TypedExtension::AbsCaptureTime(a)) => {
            let mut m = Map::new();
            m.insert(
                "ntp_timestamp".into(),
                Value::from(format!("0x{:016x}", a.timestamp)),
            );
            if let Some(o) = a.clock_offset {
                m.insert("clock_offset_q32".into(), Value::from(o));
            }
            Value::Object(m)
        }
        Ok(other) => Value::from(format!("{other:?}")),
    }
}

/// Decodes one RTP packet. `extmap` maps local extension ids to URIs (from `a=extmap`).
pub fn decode_rtp(packet: &[u8], extmap: &[(u8, String)]) -> Value {
    let p = match RtpPacket::new_checked(packet) {
        Ok(p) => p,
        Err(e) => return json!({ "error": e.to_string(), "hex": hex(packet) }),
    };
    let mut m = Map::new();
    m.insert("version".into(), Value::from(p.version()));
    m.insert("padding".into(), Value::from(p.has_padding()));
    m.insert("extension".into(), Value::from(p.has_extension()));
    m.insert("csrc_count".into(), Value::from(p.csrc_count()));
    m.insert("marker".into(), Value::from(p.marker()));
    m.insert("payload_type".into(), Value::from(p.payload_type()));
    m.insert("sequence_number".into(), Value::from(p.sequence_number()));
    m.insert("timestamp".into(), Value::from(p.timestamp()));
    m.insert("ssrc".into(), ssrc(p.ssrc()));
    if p.csrc_count() > 0 {
        m.insert("csrcs".into(), Value::Array(p.csrcs().map(ssrc).collect()));
    }
    if let (Some(profile), Some(data)) = (p.extension_profile(), p.extension_data()) {
        let mut x = Map::new();
        x.insert("profile".into(), Value::from(format!("0x{profile:04x}")));
        let form = match ExtensionForm::from_profile(profile) {
            ExtensionForm::OneByte => "one-byte (RFC 8285 4.2)".to_string(),
            ExtensionForm::TwoByte(a) => format!("two-byte (RFC 8285 4.3), appbits {a}"),
            ExtensionForm::Other(_) => "not RFC 8285".to_string(),
        };
        x.insert("form".into(), Value::from(form));
        x.insert("length".into(), Value::from(data.len()));
        if matches!(
            ExtensionForm::from_profile(profile),
            ExtensionForm::Other(_)
        ) {
            x.insert("data".into(), Value::from(hex(data)));
        } else {
            let elems: Vec<Value> = p
                .extensions()
                .map(|e| {
                    let mut em = Map::new();
                    em.insert("id".into(), Value::from(e.id));
                    let uri = extmap.iter().find(|(id, _)| *id == e.id).map(|(_, u)| u);
                    let kind = uri.and_then(|u| ExtensionKind::from_uri(u));
                    if let Some(k) = kind {
                        em.insert("name".into(), Value::from(k.name()));
                    } else if let Some(u) = uri {
                        em.insert("uri".into(), Value::from(u.clone()));
                    }
                    em.insert("length".into(), Value::from(e.data.len()));
                    em.insert("value".into(), Value::from(hex(e.data)));
                    if let Some(k) = kind {
                        em.insert("decoded".into(), typed(k, e.data));
                    }
                    Value::Object(em)
                })
                .collect();
            x.insert("elements".into(), Value::Array(elems));
        }
        m.insert("header_extension".into(), Value::Object(x));
    }
    m.insert("header_length".into(), Value::from(p.header_len()));
    let payload = p.payload();
    m.insert("payload_length".into(), Value::from(payload.len()));
    if p.has_padding() {
        m.insert("padding_length".into(), Value::from(p.padding_len()));
    }
    let shown = payload.get(..MAX_PAYLOAD_HEX).unwrap_or(payload);
    let mut ph = hex(shown);
    if shown.len() < payload.len() {
        ph.push_str("...");
    }
    m.insert("payload".into(), Value::from(ph));
    Value::Object(m)
}

fn report_block(b: &ReportBlock) -> Value {
    json!({
        "ssrc": ssrc(b.ssrc),
        "fraction_lost": b.fraction_lost,
        "cumulative_lost": b.cumulative_lost,
        "extended_highest_seq": b.extended_highest_seq,
        "jitter": b.jitter,
        "last_sr": ssrc(b.last_sr),
        "delay_since_last_sr": b.delay_since_last_sr,
    })
}

fn sdes_name(kind: u8) -> &'static str {
    match kind {
        sdes_type::CNAME => "CNAME",
        sdes_type::NAME => "NAME",
        sdes_type::EMAIL => "EMAIL",
        sdes_type::PHONE => "PHONE",
        sdes_type::LOC => "LOC",
        sdes_type::TOOL => "TOOL",
        sdes_type::NOTE => "NOTE",
        sdes_type::PRIV => "PRIV",
        sdes_type::MID => "MID",
        _ => "unknown",
    }
}

fn packet_fields(p: &RtcpPacket, m: &mut Map<String, Value>) {
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match p {
        RtcpPacket::SenderReport(sr) => {
            put("ssrc", ssrc(sr.ssrc));
            put("ntp_time", Value::from(format!("0x{:016x}", sr.ntp_time)));
            put("rtp_time", Value::from(sr.rtp_time));
            put("packet_count", Value::from(sr.packet_count));
            put("octet_count", Value::from(sr.octet_count));
            put("reports", sr.reports.iter().map(report_block).collect());
        }
        RtcpPacket::ReceiverReport(rr) => {
            put("ssrc", ssrc(rr.ssrc));
            put("reports", rr.reports.iter().map(report_block).collect());
        }
        RtcpPacket::SourceDescription(chunks) => {
            let c: Vec<Value> = chunks
                .iter()
                .map(|c| {
                    let items: Vec<Value> = c
                        .items
                        .iter()
                        .map(|i| {
                            json!({
                                "type": sdes_name(i.kind),
                                "value": String::from_utf8_lossy(&i.value),
                            })
                        })
                        .collect();
                    json!({ "ssrc": ssrc(c.ssrc), "items": items })
                })
                .collect();
            put("chunks", Value::Array(c));
        }
        RtcpPacket::Goodbye(b) => {
            put("sources", b.sources.iter().copied().map(ssrc).collect());
            if let Some(r) = &b.reason {
                put("reason", Value::from(String::from_utf8_lossy(r)));
            }
        }
        RtcpPacket::App(a) => {
            put("subtype", Value::from(a.subtype));
            put("ssrc", ssrc(a.ssrc));
            put("name", Value::from(String::from_utf8_lossy(&a.name)));
            put("data", Value::from(hex(&a.data)));
        }
        RtcpPacket::Nack(n) => {
            put("sender_ssrc", ssrc(n.sender_ssrc));
            put("media_ssrc", ssrc(n.media_ssrc));
            put(
                "pairs",
                n.pairs
                    .iter()
                    .map(|p| json!({ "pid": p.pid, "blp": format!("0x{:04x}", p.blp) }))
                    .collect(),
            );
            put("lost", n.lost().map(Value::from).collect());
        }
        RtcpPacket::TransportFeedback(t) => {
            put("sender_ssrc", ssrc(t.sender_ssrc));
            put("media_ssrc", ssrc(t.media_ssrc));
            put("base_sequence", Value::from(t.base_sequence));
            put("status_count", Value::from(t.statuses.len()));
            put(
                "reference_time_ms",
                Value::from(i64::from(t.reference_time) * 64),
            );
            put("feedback_count", Value::from(t.feedback_count));
            let st: Vec<Value> = t
                .statuses
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let seq = t.base_sequence.wrapping_add(i as u16);
                    match s {
                        PacketStatus::NotReceived => json!({ "seq": seq, "received": false }),
                        PacketStatus::Received(d) => json!({
                            "seq": seq, "received": true, "delta_us": i64::from(*d) * 250
                        }),
                    }
                })
                .collect();
            put("packets", Value::Array(st));
        }
        RtcpPacket::CcFeedback(c) => {
            put("sender_ssrc", ssrc(c.sender_ssrc));
            let s: Vec<Value> = c
                .streams
                .iter()
                .map(|s| {
                    let metrics: Vec<Value> = s
                        .metrics
                        .iter()
                        .enumerate()
                        .map(|(i, x)| {
                            json!({
                                "seq": s.begin_seq.wrapping_add(i as u16),
                                "received": x.received,
                                "ecn": x.ecn,
                                "arrival_time_offset": x.arrival_time_offset,
                            })
                        })
                        .collect();
                    json!({ "ssrc": ssrc(s.ssrc), "begin_seq": s.begin_seq, "reports": metrics })
                })
                .collect();
            put("streams", Value::Array(s));
            put("report_timestamp", ssrc(c.report_timestamp));
        }
        RtcpPacket::Pli(p) => {
            put("sender_ssrc", ssrc(p.sender_ssrc));
            put("media_ssrc", ssrc(p.media_ssrc));
        }
        RtcpPacket::Sli(s) => {
            put("sender_ssrc", ssrc(s.sender_ssrc));
            put("media_ssrc", ssrc(s.media_ssrc));
            put(
                "entries",
                s.entries
                    .iter()
                    .map(|e| json!({ "first": e.first, "number": e.number, "picture_id": e.picture_id }))
                    .collect(),
            );
        }
        RtcpPacket::Fir(f) => {
            put("sender_ssrc", ssrc(f.sender_ssrc));
            put(
                "entries",
                f.entries
                    .iter()
                    .map(|e| json!({ "ssrc": ssrc(e.ssrc), "seq": e.seq }))
                    .collect(),
            );
        }
        RtcpPacket::Remb(r) => {
            put("sender_ssrc", ssrc(r.sender_ssrc));
            put("bitrate_bps", Value::from(r.bitrate));
            put("ssrcs", r.ssrcs.iter().copied().map(ssrc).collect());
        }
        RtcpPacket::ExtendedReport(x) => {
            put("ssrc", ssrc(x.ssrc));
            let blocks: Vec<Value> = x
                .blocks
                .iter()
                .map(|b| match b {
                    XrBlock::ReceiverReferenceTime { ntp_time } => json!({
                        "block": "RRTR", "ntp_time": format!("0x{ntp_time:016x}")
                    }),
                    XrBlock::Dlrr(items) => json!({
                        "block": "DLRR",
                        "items": items.iter().map(|i| json!({
                            "ssrc": ssrc(i.ssrc), "last_rr": ssrc(i.last_rr),
                            "delay_since_last_rr": i.delay_since_last_rr,
                        })).collect::<Vec<_>>(),
                    }),
                    XrBlock::Unknown {
                        block_type, data, ..
                    } => json!({
                        "block": "unknown", "block_type": block_type, "data": hex(data)
                    }),
                })
                .collect();
            put("blocks", Value::Array(blocks));
        }
        RtcpPacket::GenericFeedback(g) => {
            put("sender_ssrc", ssrc(g.sender_ssrc));
            put("media_ssrc", ssrc(g.media_ssrc));
            put("fci", Value::from(hex(&g.fci)));
        }
        RtcpPacket::Unknown(u) => {
            put("body", Value::from(hex(&u.body)));
        }
        _ => {}
    }
}

fn raw_header(raw: &RawRtcp<'_>, m: &mut Map<String, Value>) {
    m.insert("packet_type".into(), Value::from(raw.packet_type));
    m.insert("count_or_fmt".into(), Value::from(raw.count));
    m.insert("padding".into(), Value::from(raw.padding));
    m.insert("length".into(), Value::from(raw.bytes.len()));
}

/// Decodes every packet of an RTCP compound; a malformed packet is reported and the walk
/// goes on while the length fields allow.
pub fn decode_rtcp(packet: &[u8]) -> Value {
    let mut packets = Vec::new();
    for raw in RtcpCompound::new(packet) {
        let mut m = Map::new();
        match raw {
            Err(e) => {
                m.insert("error".into(), Value::from(e.to_string()));
            }
            Ok(raw) => match RtcpPacket::parse(&raw) {
                Ok(p) => {
                    m.insert("type".into(), Value::from(p.name()));
                    raw_header(&raw, &mut m);
                    packet_fields(&p, &mut m);
                }
                Err(e) => {
                    m.insert("type".into(), Value::from("malformed"));
                    raw_header(&raw, &mut m);
                    m.insert("error".into(), Value::from(e.to_string()));
                }
            },
        }
        packets.push(Value::Object(m));
    }
    json!({ "packets": packets })
}
