//! `sansrtc decode`: a WebRTC-aware packet dissector.
//!
//! Each datagram is classified by its first byte (RFC 7983 section 7) and handed to the
//! decoder of its protocol. A decoder returns a `serde_json::Value` object (keys keep their
//! insertion order); this module prints it as indented text, or as JSON with `--json`.
//!
//! Adding a protocol: one file `decode/<proto>.rs` with the contract's function, a `mod` line
//! below, and an arm in [`Decoder::decode_payload`].

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

use crate::{hex, pcap};

// Protocol decoders: one `mod` line each.
mod dtls;
mod rtp;
mod srtp;
mod stun;

/// Arguments of `sansrtc decode`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Each datagram is classified by its first byte (RFC 7983): 0-3 STUN, 16-19 ZRTP, 20-63 DTLS, \
64-79 TURN ChannelData (its payload is classified again), 128-191 RTP/RTCP.

Examples:
  sansrtc decode 000100002112a442b7e7a701bc34d686fa87dfae
  sansrtc decode --file packets.hex --json
  sansrtc decode --pcap call.pcapng")]
pub struct Args {
    /// Datagrams as hex (whitespace, ':' and '-' separators and a 0x prefix are accepted).
    #[arg(value_name = "HEX")]
    hex: Vec<String>,
    /// A file with one hex datagram per line ('#' starts a comment); '-' reads standard input.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// A pcap or pcapng capture: every UDP payload in it is decoded (IPv4/IPv6; Ethernet,
    /// raw IP, Linux cooked and loopback link types).
    #[arg(long, value_name = "PATH")]
    pcap: Option<PathBuf>,
    /// Print one JSON document (an array with an object per datagram) instead of text.
    #[arg(long)]
    json: bool,
    /// Name RTP header extension ID as URI (as in `a=extmap:ID URI`); repeatable.
    #[arg(long, value_name = "ID=URI", value_parser = parse_extmap)]
    extmap: Vec<(u8, String)>,
    /// Unprotect SRTP/SRTCP with this master key and salt before decoding, tracking ROC and
    /// replay across packets as a receiver would: PROFILE:KEY_SALT_HEX, PROFILE an RFC 5764
    /// name such as SRTP_AES128_CM_HMAC_SHA1_80 or SRTP_AEAD_AES_128_GCM.
    #[arg(long, value_name = "PROFILE:KEY_SALT_HEX")]
    srtp: Option<String>,
}

/// Parses `--extmap ID=URI` (also accepts `ID URI`, as written in SDP).
fn parse_extmap(s: &str) -> Result<(u8, String), String> {
    let (id, uri) = s
        .split_once('=')
        .or_else(|| s.split_once(' '))
        .ok_or_else(|| format!("expected ID=URI, got {s:?}"))?;
    let id: u8 = id
        .trim()
        .split('/')
        .next()
        .unwrap_or("")
        .parse()
        .map_err(|_| format!("bad extension id in {s:?}"))?;
    Ok((id, uri.trim().to_string()))
}

/// One input datagram with whatever the input told about it.
struct Input {
    /// Where it came from: `arg N`, `line N`, or `frame N`.
    origin: String,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    time_us: Option<u64>,
    bytes: Vec<u8>,
}

/// The RFC 7983 class of a datagram, by its first byte.
pub fn classify(first: Option<u8>) -> &'static str {
    match first {
        None => "empty",
        Some(0..=3) => "STUN",
        Some(16..=19) => "ZRTP",
        Some(20..=63) => "DTLS",
        Some(64..=79) => "TURN ChannelData",
        Some(128..=191) => "RTP/RTCP",
        Some(_) => "unknown",
    }
}

/// Stateful decoders (DTLS reassembly, SRTP ROC/replay) live here across datagrams.
#[derive(Default)]
struct Decoder {
    /// DTLS handshake reassembly across datagrams.
    dtls: dtls::DtlsDecoder,
    /// `--extmap` id -> URI, for naming RTP header extensions.
    extmap: Vec<(u8, String)>,
    /// `--srtp`: the receiver session that unprotects RTP/RTCP-range datagrams first.
    srtp: Option<srtp::SrtpDecoder>,
}

impl Decoder {
    /// Decodes one datagram's payload into `out` (an object that already has the header keys).
    fn decode_payload(&mut self, bytes: &[u8], out: &mut Map<String, Value>, depth: u8) {
        let kind = classify(bytes.first().copied());
        out.insert("kind".into(), Value::from(kind));
        out.insert("length".into(), Value::from(bytes.len()));
        match kind {
            "STUN" => {
                out.insert("stun".into(), stun::decode(bytes));
            }
            "DTLS" => {
                out.insert("dtls".into(), self.dtls.decode(bytes));
            }
            "TURN ChannelData" => {
                out.insert("channel_data".into(), self.channel_data(bytes, depth));
            }
            "RTP/RTCP" => {
                // RFC 5761 section 4: RTCP packet types are 192-223 in the second octet (RTP
                // payload types 64-95 with the marker bit set). Without the marker bit, e.g.
                // RFC 7714's test packet with payload type 64 (0x40), it is RTP.
                let is_rtcp = matches!(bytes.get(1), Some(192..=223));
                out.insert(
                    "rtp_or_rtcp".into(),
                    Value::from(if is_rtcp { "RTCP" } else { "RTP" }),
                );
                let plain;
                let bytes = match self.srtp.as_mut().map(|s| s.unprotect(bytes)) {
                    None => bytes,
                    Some(Ok(p)) => {
                        out.insert("srtp".into(), Value::from("authenticated"));
                        out.insert("plaintext_length".into(), Value::from(p.len()));
                        plain = p;
                        &plain[..]
                    }
                    Some(Err(e)) => {
                        out.insert("srtp_error".into(), Value::from(e));
                        return;
                    }
                };
                if is_rtcp {
                    out.insert("rtcp".into(), rtp::decode_rtcp(bytes));
                } else {
                    out.insert("rtp".into(), rtp::decode_rtp(bytes, &self.extmap));
                }
            }
            _ => {
                out.insert("hex".into(), Value::from(hex::encode(bytes)));
            }
        }
    }

    /// RFC 8656 section 12.4: channel number (0x4000-0x4fff), length, data (padded on streams).
    fn channel_data(&mut self, bytes: &[u8], depth: u8) -> Value {
        let (Some(ch), Some(len)) = (bytes.get(0..2), bytes.get(2..4)) else {
            return json!({ "error": format!("truncated: need a 4-byte header, have {} bytes", bytes.len()) });
        };
        let channel = u16::from_be_bytes([ch[0], ch[1]]);
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let mut m = Map::new();
        m.insert("channel".into(), Value::from(format!("0x{channel:04x}")));
        m.insert("data_length".into(), Value::from(len));
        let rest = bytes.get(4..).unwrap_or_default();
        if channel > 0x4fff {
            m.insert(
                "error".into(),
                Value::from(format!(
                    "channel number 0x{channel:04x} is outside 0x4000-0x4fff"
                )),
            );
        }
        match rest.get(..len) {
            Some(inner) if depth < 4 => {
                let padding = rest.len() - len;
                if padding > 0 {
                    m.insert("padding".into(), Value::from(padding));
                }
                let mut inner_out = Map::new();
                self.decode_payload(inner, &mut inner_out, depth + 1);
                m.insert("data".into(), Value::Object(inner_out));
            }
            Some(_) => {
                m.insert("error".into(), Value::from("ChannelData nested too deeply"));
            }
            None => {
                m.insert(
                    "error".into(),
                    Value::from(format!(
                        "truncated: length field says {len} bytes, {} present",
                        rest.len()
                    )),
                );
            }
        }
        Value::Object(m)
    }
}

fn read_inputs(args: &Args) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    for (i, h) in args.hex.iter().enumerate() {
        let bytes = hex::decode(h).map_err(|e| format!("argument {}: {e}", i + 1))?;
        inputs.push(Input {
            origin: format!("arg {}", i + 1),
            src: None,
            dst: None,
            time_us: None,
            bytes,
        });
    }
    if let Some(path) = &args.file {
        let text = if path.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("reading standard input: {e}"))?;
            s
        } else {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let bytes =
                hex::decode(line).map_err(|e| format!("{} line {}: {e}", path.display(), n + 1))?;
            inputs.push(Input {
                origin: format!("line {}", n + 1),
                src: None,
                dst: None,
                time_us: None,
                bytes,
            });
        }
    }
    if let Some(path) = &args.pcap {
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let capture = pcap::parse(&data).map_err(|e| format!("{}: {e}", path.display()))?;
        if capture.skipped > 0 {
            eprintln!(
                "{}: skipped {} packet(s) that are not UDP over IPv4/IPv6",
                path.display(),
                capture.skipped
            );
        }
        for d in capture.datagrams {
            inputs.push(Input {
                origin: format!("frame {}", d.frame),
                src: Some(d.src),
                dst: Some(d.dst),
                time_us: d.time_us,
                bytes: d.payload,
            });
        }
    }
    if args.hex.is_empty() && args.file.is_none() && args.pcap.is_none() {
        return Err(
            "nothing to decode: give hex datagrams, --file PATH or --pcap PATH (see --help)".into(),
        );
    }
    Ok(inputs)
}

/// Runs `sansrtc decode`.
pub fn run(args: Args) -> ExitCode {
    let inputs = match read_inputs(&args) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("sansrtc decode: {e}");
            return ExitCode::from(2);
        }
    };
    let mut decoder = Decoder::default();
    decoder.extmap.extend(args.extmap.iter().cloned());
    if let Some(spec) = &args.srtp {
        match srtp::SrtpDecoder::new(spec) {
            Ok(d) => decoder.srtp = Some(d),
            Err(e) => {
                eprintln!("sansrtc decode: --srtp: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut all = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let mut m = Map::new();
        m.insert("index".into(), Value::from(i + 1));
        m.insert("origin".into(), Value::from(input.origin.clone()));
        if let Some(t) = input.time_us {
            m.insert(
                "time".into(),
                Value::from(format!("{}.{:06}", t / 1_000_000, t % 1_000_000)),
            );
        }
        if let (Some(s), Some(d)) = (input.src, input.dst) {
            m.insert("src".into(), Value::from(s.to_string()));
            m.insert("dst".into(), Value::from(d.to_string()));
        }
        decoder.decode_payload(&input.bytes, &mut m, 0);
        if args.json {
            all.push(Value::Object(m));
        } else {
            print!("{}", render_datagram(&m));
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&Value::Array(all)) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("sansrtc decode: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// `#1 STUN 20 bytes (arg 1) 1.2.3.4:5 -> 6.7.8.9:10` then the decoded fields, indented.
fn render_datagram(m: &Map<String, Value>) -> String {
    let s = |k: &str| {
        m.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut line = format!(
        "#{} {} {} bytes ({})",
        m.get("index").and_then(Value::as_u64).unwrap_or(0),
        s("kind"),
        m.get("length").and_then(Value::as_u64).unwrap_or(0),
        s("origin")
    );
    if m.contains_key("time") {
        line.push_str(&format!(" t={}", s("time")));
    }
    if m.contains_key("src") {
        line.push_str(&format!(" {} -> {}", s("src"), s("dst")));
    }
    line.push('\n');
    for (k, v) in m {
        if matches!(
            k.as_str(),
            "index" | "origin" | "time" | "src" | "dst" | "kind" | "length"
        ) {
            continue;
        }
        render_value(&mut line, k, v, 1);
    }
    line
}

/// Generic indented rendering of a JSON value: objects nest, arrays of objects become `-` items.
pub fn render_value(out: &mut String, key: &str, v: &Value, indent: usize) {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(o) => {
            out.push_str(&format!("{pad}{key}:\n"));
            for (k, v) in o {
                render_value(out, k, v, indent + 1);
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object() || x.is_array()) => {
            out.push_str(&format!("{pad}{key}:\n"));
            for item in a {
                match item {
                    Value::Object(o) => {
                        out.push_str(&format!("{pad}  -\n"));
                        for (k, v) in o {
                            render_value(out, k, v, indent + 2);
                        }
                    }
                    other => render_value(out, "-", other, indent + 1),
                }
            }
        }
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(scalar).collect();
            out.push_str(&format!("{pad}{key}: [{}]\n", items.join(", ")));
        }
        other => out.push_str(&format!("{pad}{key}: {}\n", scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7983_classes() {
        assert_eq!(classify(Some(0)), "STUN");
        assert_eq!(classify(Some(3)), "STUN");
        assert_eq!(classify(Some(4)), "unknown");
        assert_eq!(classify(Some(22)), "DTLS");
        assert_eq!(classify(Some(64)), "TURN ChannelData");
        assert_eq!(classify(Some(79)), "TURN ChannelData");
        assert_eq!(classify(Some(0x80)), "RTP/RTCP");
        assert_eq!(classify(Some(191)), "RTP/RTCP");
        assert_eq!(classify(Some(192)), "unknown");
        assert_eq!(classify(None), "empty");
    }

    #[test]
    fn channel_data_is_demuxed_again() {
        let mut d = Decoder::default();
        let mut m = Map::new();
        // Channel 0x4001 carrying a 4-byte RTP-looking payload, padded to 8 as on TCP.
        d.decode_payload(&[0x40, 0x01, 0, 4, 0x80, 0x60, 0, 1, 0, 0, 0, 0], &mut m, 0);
        let cd = &m["channel_data"];
        assert_eq!(cd["channel"], "0x4001");
        assert_eq!(cd["padding"], 4);
        assert_eq!(cd["data"]["kind"], "RTP/RTCP");
        assert_eq!(cd["data"]["rtp_or_rtcp"], "RTP");

        let mut m = Map::new();
        d.decode_payload(&[0x40, 0x01, 0, 9, 1], &mut m, 0);
        assert!(
            m["channel_data"]["error"]
                .as_str()
                .unwrap()
                .contains("length field says 9")
        );
    }

    #[test]
    fn nested_channel_data_is_bounded() {
        let mut bytes = Vec::new();
        for _ in 0..10 {
            bytes.extend_from_slice(&[0x40, 0x00, 0x00, 0x00]);
        }
        // Fix each length so every layer nests the next.
        let n = bytes.len();
        for i in 0..10 {
            let len = (n - 4 * (i + 1)) as u16;
            bytes[4 * i + 2..4 * i + 4].copy_from_slice(&len.to_be_bytes());
        }
        let mut m = Map::new();
        Decoder::default().decode_payload(&bytes, &mut m, 0);
        let text = serde_json::to_string(&m).unwrap();
        assert!(text.contains("nested too deeply"));
    }
}
