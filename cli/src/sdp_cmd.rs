//! `sansrtc sdp FILE|- [--json] [--roundtrip]`: checks an SDP the way a person debugging a
//! negotiation wants it. Invalid SDP: the line number, the line and the reason, exit 1.
//! Valid SDP: a summary per media section (codecs with fmtp, extmaps, ICE/DTLS, rids and
//! simulcast) plus consistency warnings; `--json` prints the typed model; `--roundtrip` prints
//! the serialized text, byte-identical to the input.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use sansrtc_sdp::{
    Error, Fingerprint, Limits, Section, SessionDescription, Simulcast, SimulcastRid,
};
use serde_json::{Map, Value, json};

fn read_input(input: &str) -> Result<Vec<u8>, String> {
    if input == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("reading standard input: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(input).map_err(|e| format!("reading {input}: {e}"))
    }
}

/// Runs `sansrtc sdp`. `input` is a path or `-` for standard input.
pub fn run(input: &str, json: bool, roundtrip: bool) -> ExitCode {
    let bytes = match read_input(input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let name = if input == "-" { "<stdin>" } else { input };
    let sdp = match SessionDescription::parse_bytes(&bytes, &Limits::default()) {
        Ok(s) => s,
        Err(e) => {
            if json {
                println!("{}", pretty(&error_json(&e)));
            }
            eprintln!("error: {name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = sdp.serialize();
    let identical = text.as_bytes() == bytes.as_slice();
    if roundtrip && !json {
        let mut out = std::io::stdout().lock();
        if out
            .write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
        return if identical {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let warnings = warnings(&sdp);
    if json {
        let mut v = model_json(&sdp);
        if let Value::Object(m) = &mut v {
            m.insert("roundtrip_identical".into(), Value::from(identical));
            m.insert("warnings".into(), Value::from(warnings));
            if roundtrip {
                m.insert("serialized".into(), Value::from(text));
            }
        }
        println!("{}", pretty(&v));
    } else {
        print_summary(name, &sdp, bytes.len(), identical, &warnings);
    }
    ExitCode::SUCCESS
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn error_json(e: &Error) -> Value {
    let err = match e {
        Error::Parse { line, text, kind } => {
            json!({ "line": line, "text": text, "reason": kind.to_string() })
        }
        other => json!({ "reason": other.to_string() }),
    };
    json!({ "valid": false, "error": err })
}

fn fingerprint_json(f: &Fingerprint) -> Value {
    let s = f.to_string();
    let value = s.split_once(' ').map(|(_, v)| v).unwrap_or_default();
    json!({ "hash": f.hash.as_str(), "value": value })
}

fn sc_list(l: &[Vec<SimulcastRid<'_>>]) -> Value {
    l.iter()
        .map(|s| {
            s.iter()
                .map(|r| {
                    if r.paused {
                        format!("~{}", r.rid)
                    } else {
                        r.rid.to_owned()
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .into()
}

fn simulcast_json(s: &Simulcast<'_>) -> Value {
    json!({ "send": sc_list(&s.send), "recv": sc_list(&s.recv) })
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

fn section_common(s: &Section, m: &mut Map<String, Value>) {
    let groups: Vec<Value> = s
        .groups()
        .iter()
        .map(|g| json!({ "semantics": g.semantics, "mids": g.mids }))
        .collect();
    if !groups.is_empty() {
        m.insert("groups".into(), groups.into());
    }
}

fn model_json(sdp: &SessionDescription) -> Value {
    let mut session = Map::new();
    if let Some(o) = sdp.origin() {
        session.insert(
            "origin".into(),
            json!({
                "username": o.username, "session_id": o.session_id,
                "session_version": o.session_version, "nettype": o.nettype,
                "addrtype": o.addrtype, "address": o.address,
            }),
        );
    }
    session.insert("name".into(), opt(sdp.session_name()));
    section_common(&sdp.session, &mut session);
    if let Some(ms) = sdp.session.msid_semantic() {
        session.insert(
            "msid_semantic".into(),
            json!({ "semantics": ms.semantics, "ids": ms.ids }),
        );
    }
    session.insert("ice_lite".into(), sdp.session.ice_lite().into());
    session.insert(
        "extmap_allow_mixed".into(),
        sdp.session.extmap_allow_mixed().into(),
    );
    if let Some(u) = sdp.session.ice_ufrag() {
        session.insert("ice_ufrag".into(), u.into());
    }
    let fps: Vec<Value> = sdp
        .session
        .fingerprints()
        .iter()
        .map(fingerprint_json)
        .collect();
    if !fps.is_empty() {
        session.insert("fingerprints".into(), fps.into());
    }
    let media: Vec<Value> = (0..sdp.media.len()).map(|i| media_json(sdp, i)).collect();
    json!({
        "valid": true,
        "lines": sdp.session.len() + sdp.media.iter().map(Section::len).sum::<usize>(),
        "session": session,
        "media": media,
    })
}

fn media_json(sdp: &SessionDescription, i: usize) -> Value {
    let Some(s) = sdp.media.get(i) else {
        return Value::Null;
    };
    let mut m = Map::new();
    m.insert("index".into(), i.into());
    m.insert("mid".into(), opt(s.mid()));
    if let Some(ml) = s.media_line() {
        m.insert("media".into(), ml.media.into());
        m.insert("port".into(), ml.port.into());
        m.insert("proto".into(), ml.proto.into());
        m.insert(
            "formats".into(),
            ml.format_list().collect::<Vec<_>>().into(),
        );
    }
    m.insert("direction".into(), sdp.direction_for(i).as_str().into());
    m.insert("bundle_only".into(), s.bundle_only().into());
    m.insert("rtcp_mux".into(), s.rtcp_mux().into());
    m.insert("rtcp_mux_only".into(), s.rtcp_mux_only().into());
    m.insert("rtcp_rsize".into(), s.rtcp_rsize().into());
    let (ufrag, pwd) = sdp.ice_credentials(i).unzip();
    let mut opts = s.ice_options();
    if opts.is_empty() {
        opts = sdp.session.ice_options();
    }
    m.insert(
        "ice".into(),
        json!({ "ufrag": ufrag, "pwd": pwd, "options": opts }),
    );
    m.insert(
        "dtls".into(),
        json!({
            "setup": sdp.setup_for(i).map(|x| x.as_str()),
            "fingerprints": sdp.fingerprints_for(i).iter().map(fingerprint_json).collect::<Vec<_>>(),
        }),
    );
    let codecs: Vec<Value> = s
        .codecs()
        .iter()
        .map(|c| {
            let mut o = Map::new();
            o.insert("payload_type".into(), c.payload_type.into());
            if let Some(r) = c.rtpmap {
                o.insert("name".into(), r.encoding.into());
                o.insert("clock_rate".into(), r.clock_rate.into());
                o.insert("channels".into(), opt(r.channels));
            }
            if let Some(f) = c.fmtp {
                let mut params = Map::new();
                for (k, v) in f.params() {
                    params.insert(k.to_owned(), opt(v));
                }
                o.insert("fmtp".into(), json!({ "raw": f.params, "params": params }));
                if let Some(apt) = f.apt() {
                    o.insert("apt".into(), apt.into());
                }
            }
            let fb: Vec<String> = c
                .rtcp_fb
                .iter()
                .map(|f| match f.param {
                    Some(p) => format!("{} {p}", f.kind),
                    None => f.kind.to_owned(),
                })
                .collect();
            o.insert("rtcp_fb".into(), fb.into());
            Value::Object(o)
        })
        .collect();
    m.insert("codecs".into(), codecs.into());
    let ext: Vec<Value> = s
        .extmaps()
        .iter()
        .map(|e| json!({ "id": e.id, "uri": e.uri, "direction": e.direction.map(|d| d.as_str()) }))
        .collect();
    m.insert("extmaps".into(), ext.into());
    let msid: Vec<Value> = s
        .msids()
        .iter()
        .map(|x| json!({ "stream": x.stream, "track": x.track }))
        .collect();
    m.insert("msid".into(), msid.into());
    let ssrcs: Vec<Value> = s
        .ssrcs()
        .iter()
        .map(|x| json!({ "ssrc": x.ssrc, "attribute": x.attribute, "value": x.value }))
        .collect();
    m.insert("ssrcs".into(), ssrcs.into());
    let groups: Vec<Value> = s
        .ssrc_groups()
        .iter()
        .map(|g| json!({ "semantics": g.semantics, "ssrcs": g.ssrcs }))
        .collect();
    m.insert("ssrc_groups".into(), groups.into());
    let rids: Vec<Value> = s
        .rids()
        .iter()
        .map(|r| {
            json!({ "id": r.id, "direction": r.direction.as_str(), "restrictions": r.restrictions })
        })
        .collect();
    m.insert("rids".into(), rids.into());
    m.insert(
        "simulcast".into(),
        opt(s.simulcast().as_ref().map(simulcast_json)),
    );
    m.insert("sctp_port".into(), opt(s.sctp_port()));
    m.insert("max_message_size".into(), opt(s.max_message_size()));
    m.insert(
        "candidates".into(),
        s.candidates().collect::<Vec<_>>().into(),
    );
    m.insert("end_of_candidates".into(), s.end_of_candidates().into());
    Value::Object(m)
}

/// Things that parse but would break a negotiation.
fn warnings(sdp: &SessionDescription) -> Vec<String> {
    let mut w = Vec::new();
    let bundle = sdp.bundle_group();
    for (i, s) in sdp.media.iter().enumerate() {
        let Some(ml) = s.media_line() else { continue };
        let at = match s.mid() {
            Some(m) => format!("m-section {i} (mid {m})"),
            None => format!("m-section {i}"),
        };
        if ml.port == 0 && !s.bundle_only() {
            continue; // rejected: nothing else matters
        }
        if s.mid().is_none() {
            w.push(format!("{at}: no a=mid (RFC 8829 §5.2.1 requires one)"));
        }
        let unbundled = match (&bundle, s.mid()) {
            (Some(g), Some(mid)) => !g.mids.contains(&mid),
            _ => false,
        };
        if unbundled {
            w.push(format!("{at}: not in the BUNDLE group"));
        }
        if sdp.ice_credentials(i).is_none() {
            w.push(format!(
                "{at}: no ice-ufrag/ice-pwd (here or at session level)"
            ));
        }
        if sdp.fingerprints_for(i).is_empty() && ml.proto.contains("TLS") {
            w.push(format!("{at}: no a=fingerprint for a DTLS transport"));
        }
        if !ml.is_rtp() {
            continue;
        }
        let rtpmaps = s.rtpmaps();
        for pt in ml.payload_types() {
            if pt >= 96 && !rtpmaps.iter().any(|r| r.payload_type == pt) {
                w.push(format!("{at}: dynamic payload type {pt} has no a=rtpmap"));
            }
        }
        let pts: Vec<u8> = ml.payload_types().collect();
        for r in &rtpmaps {
            if !pts.contains(&r.payload_type) {
                w.push(format!(
                    "{at}: a=rtpmap for payload type {} not in the m= line",
                    r.payload_type
                ));
            }
        }
        for f in s.fmtps() {
            if let Some(apt) = f.apt().filter(|apt| !pts.contains(apt)) {
                w.push(format!(
                    "{at}: RTX payload type {} has apt={apt}, which is not in the m= line",
                    f.payload_type
                ));
            }
        }
        if !s.rtcp_mux() && !s.rtcp_mux_only() {
            w.push(format!(
                "{at}: no a=rtcp-mux (WebRTC requires RTCP multiplexing, RFC 8829 §5.1.3)"
            ));
        }
        let rids: Vec<&str> = s.rids().iter().map(|r| r.id).collect();
        if let Some(sc) = s.simulcast() {
            for rid in Simulcast::rids(&sc.send).chain(Simulcast::rids(&sc.recv)) {
                if !rids.contains(&rid) {
                    w.push(format!(
                        "{at}: simulcast names rid {rid:?} with no a=rid line"
                    ));
                }
            }
        }
    }
    w
}

fn print_summary(
    name: &str,
    sdp: &SessionDescription,
    len: usize,
    identical: bool,
    warnings: &[String],
) {
    let lines = sdp.session.len() + sdp.media.iter().map(Section::len).sum::<usize>();
    println!(
        "{name}: valid SDP, {lines} lines, {len} bytes, {} media section(s); round trip {}",
        sdp.media.len(),
        if identical {
            "byte-identical"
        } else {
            "DIFFERS"
        }
    );
    if let Some(o) = sdp.origin() {
        println!(
            "  origin: {} {} {} {}",
            o.username, o.session_id, o.session_version, o.address
        );
    }
    for g in sdp.session.groups() {
        println!("  group: {} {}", g.semantics, g.mids.join(" "));
    }
    if sdp.session.ice_lite() {
        println!("  ice-lite");
    }
    if sdp.session.extmap_allow_mixed() {
        println!("  extmap-allow-mixed");
    }
    for (i, s) in sdp.media.iter().enumerate() {
        let Some(ml) = s.media_line() else { continue };
        println!(
            "  m-section {i}: {} port {} {} mid={} {}{}",
            ml.media,
            ml.port,
            ml.proto,
            s.mid().unwrap_or("-"),
            sdp.direction_for(i).as_str(),
            if s.bundle_only() { " bundle-only" } else { "" }
        );
        if let Some((u, p)) = sdp.ice_credentials(i) {
            let opts = s.ice_options();
            println!("    ice: ufrag={u} pwd={p} options=[{}]", opts.join(" "));
        }
        for f in sdp.fingerprints_for(i) {
            println!("    dtls: fingerprint {f}");
        }
        if let Some(setup) = sdp.setup_for(i) {
            println!("    dtls: setup {}", setup.as_str());
        }
        for c in s.codecs() {
            let mut line = format!("    codec {}", c.payload_type);
            if let Some(r) = c.rtpmap {
                line.push_str(&format!(" {}/{}", r.encoding, r.clock_rate));
                if let Some(ch) = r.channels {
                    line.push_str(&format!("/{ch}"));
                }
            }
            if let Some(f) = c.fmtp {
                line.push_str(&format!(" fmtp[{}]", f.params));
            }
            if !c.rtcp_fb.is_empty() {
                let fb: Vec<String> = c
                    .rtcp_fb
                    .iter()
                    .map(|f| {
                        f.param
                            .map_or(f.kind.to_owned(), |p| format!("{} {p}", f.kind))
                    })
                    .collect();
                line.push_str(&format!(" fb[{}]", fb.join(", ")));
            }
            println!("{line}");
        }
        for e in s.extmaps() {
            let d = e
                .direction
                .map(|d| format!("/{}", d.as_str()))
                .unwrap_or_default();
            println!("    extmap {}{d} {}", e.id, e.uri);
        }
        for r in s.rids() {
            println!(
                "    rid {} {} {}",
                r.id,
                r.direction.as_str(),
                r.restrictions.unwrap_or("")
            );
        }
        if let Some(sc) = s.simulcast() {
            println!("    simulcast {sc}");
        }
        for g in s.ssrc_groups() {
            let ssrcs: Vec<String> = g.ssrcs.iter().map(u32::to_string).collect();
            println!("    ssrc-group {} {}", g.semantics, ssrcs.join(" "));
        }
        if let Some(p) = s.sctp_port() {
            println!(
                "    sctp-port {p} max-message-size {}",
                s.max_message_size().map_or("-".into(), |m| m.to_string())
            );
        }
        let n = s.candidates().count();
        if n > 0 || s.end_of_candidates() {
            println!(
                "    candidates: {n}{}",
                if s.end_of_candidates() {
                    " (end-of-candidates)"
                } else {
                    ""
                }
            );
        }
    }
    if warnings.is_empty() {
        println!("no warnings");
    } else {
        for w in warnings {
            println!("warning: {w}");
        }
    }
}
