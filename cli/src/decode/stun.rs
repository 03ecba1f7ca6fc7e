//! STUN for `sansrtc decode`: the header, every attribute decoded (RFC 8489 section 14, the ICE
//! attributes of RFC 8445 section 16.1, the address/number attributes of TURN, Chromium's
//! GOOG-NETWORK-INFO), whether FINGERPRINT is valid and whether MESSAGE-INTEGRITY is present
//! (it cannot be verified without the key).

use serde_json::{Map, Value, json};

use sansrtc_stun::wire::{attr_name, is_comprehension_required, is_known};
use sansrtc_stun::{
    Attribute, HEADER_LEN, MAGIC_COOKIE, Message, MessageType, PasswordAlgorithm, RawAttribute,
    TransactionId, attr,
};

/// Values longer than this are shown cut (the length is always given).
const MAX_HEX: usize = 64;

fn hex(b: &[u8]) -> String {
    let shown = b.get(..MAX_HEX).unwrap_or(b);
    let mut s: String = shown.iter().map(|x| format!("{x:02x}")).collect();
    if shown.len() < b.len() {
        s.push_str("...");
    }
    s
}

fn be_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

fn algorithm_name(n: u16) -> Value {
    match PasswordAlgorithm::from_number(n) {
        Some(PasswordAlgorithm::Md5) => Value::from("MD5"),
        Some(PasswordAlgorithm::Sha256) => Value::from("SHA-256"),
        None => Value::from(format!("0x{n:04x}")),
    }
}

fn address(a: std::net::SocketAddr) -> Value {
    json!({
        "family": if a.is_ipv4() { "IPv4" } else { "IPv6" },
        "address": a.to_string(),
    })
}

/// Decodes one STUN datagram into an object (keys in display order).
pub fn decode(datagram: &[u8]) -> Value {
    let mut out = Map::new();
    if datagram.len() < HEADER_LEN {
        out.insert(
            "error".into(),
            Value::from(format!(
                "truncated STUN header: need {HEADER_LEN} bytes, have {}",
                datagram.len()
            )),
        );
        out.insert("hex".into(), Value::from(hex(datagram)));
        return Value::Object(out);
    }
    // The header fields, even when the rest turns out to be malformed.
    let raw_type = u16::from_be_bytes([datagram[0], datagram[1]]);
    let length = u16::from_be_bytes([datagram[2], datagram[3]]);
    let cookie = u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]);
    let mut id = [0u8; 12];
    id.copy_from_slice(&datagram[8..HEADER_LEN]);
    let txid = TransactionId(id);
    match MessageType::from_u16(raw_type) {
        Ok(t) => {
            out.insert("class".into(), Value::from(t.class.to_string()));
            out.insert(
                "method".into(),
                Value::from(
                    t.method
                        .name()
                        .map_or_else(|| format!("0x{:03x}", t.method.value()), str::to_string),
                ),
            );
        }
        Err(e) => {
            out.insert("error".into(), Value::from(e.to_string()));
        }
    }
    out.insert(
        "message_type".into(),
        Value::from(format!("0x{raw_type:04x}")),
    );
    out.insert("message_length".into(), Value::from(length));
    out.insert(
        "magic_cookie".into(),
        Value::from(if cookie == MAGIC_COOKIE {
            format!("0x{cookie:08x}")
        } else {
            format!("0x{cookie:08x} (wrong: not RFC 5389/8489 STUN)")
        }),
    );
    out.insert("transaction_id".into(), Value::from(txid.to_string()));

    let m = match Message::new_checked_structure(datagram) {
        Ok(m) => m,
        Err(e) => {
            out.entry("error")
                .or_insert_with(|| Value::from(format!("malformed: {e}")));
            out.insert(
                "body_hex".into(),
                Value::from(hex(datagram.get(HEADER_LEN..).unwrap_or_default())),
            );
            return Value::Object(out);
        }
    };

    let attrs: Vec<Value> = m.attributes().map(|a| attribute(&m, &a, &txid)).collect();
    out.insert("attributes".into(), Value::Array(attrs));

    let fingerprint = if !m.has_fingerprint() {
        Value::from("absent")
    } else {
        match m.verify_fingerprint() {
            Ok(()) => Value::from("valid"),
            Err(e) => Value::from(format!("INVALID ({e})")),
        }
    };
    out.insert("fingerprint".into(), fingerprint);
    let integrity = match (m.has_message_integrity(), m.has_message_integrity_sha256()) {
        (false, false) => "absent",
        (true, false) => "MESSAGE-INTEGRITY present (not verified: needs the key)",
        (false, true) => "MESSAGE-INTEGRITY-SHA256 present (not verified: needs the key)",
        (true, true) => {
            "MESSAGE-INTEGRITY and MESSAGE-INTEGRITY-SHA256 present (not verified: needs the key)"
        }
    };
    out.insert("message_integrity".into(), Value::from(integrity));
    let unknown: Vec<Value> = m
        .unknown_comprehension_required_except(&TURN_KNOWN)
        .map(|t| Value::from(format!("0x{t:04x}")))
        .collect();
    if !unknown.is_empty() {
        out.insert(
            "unknown_comprehension_required".into(),
            Value::Array(unknown),
        );
    }
    Value::Object(out)
}

/// TURN attributes this decoder shows (so they are not listed as unknown).
const TURN_KNOWN: [u16; 9] = [
    attr::CHANNEL_NUMBER,
    attr::LIFETIME,
    attr::XOR_PEER_ADDRESS,
    attr::DATA,
    attr::XOR_RELAYED_ADDRESS,
    attr::REQUESTED_ADDRESS_FAMILY,
    attr::EVEN_PORT,
    attr::REQUESTED_TRANSPORT,
    attr::DONT_FRAGMENT,
];

fn attribute<T: AsRef<[u8]>>(m: &Message<T>, a: &RawAttribute<'_>, txid: &TransactionId) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), Value::from(format!("0x{:04x}", a.attr_type)));
    o.insert(
        "name".into(),
        Value::from(
            attr_name(a.attr_type).unwrap_or(if is_comprehension_required(a.attr_type) {
                "unknown (comprehension-required)"
            } else {
                "unknown (comprehension-optional)"
            }),
        ),
    );
    o.insert("length".into(), Value::from(a.value.len()));
    if a.padding.iter().any(|&b| b != 0) {
        o.insert("padding".into(), Value::from(hex(a.padding)));
    }
    let mut put = |k: &str, v: Value| {
        o.insert(k.into(), v);
    };
    if is_known(a.attr_type) {
        match a.decode(txid) {
            Err(e) => {
                put("error", Value::from(e.to_string()));
                put("hex", Value::from(hex(a.value)));
            }
            Ok(v) => match v {
                Attribute::MappedAddress(x)
                | Attribute::XorMappedAddress(x)
                | Attribute::AlternateServer(x) => {
                    if let Value::Object(addr) = address(x) {
                        for (k, v) in addr {
                            put(&k, v);
                        }
                    }
                }
                Attribute::Username(s)
                | Attribute::Realm(s)
                | Attribute::Nonce(s)
                | Attribute::Software(s)
                | Attribute::AlternateDomain(s) => put("value", Value::from(s)),
                Attribute::ErrorCode(e) => {
                    put("code", Value::from(e.code));
                    put("reason", Value::from(e.reason));
                }
                Attribute::Priority(p) => put("priority", Value::from(p)),
                Attribute::IceControlled(t) | Attribute::IceControlling(t) => {
                    put("tie_breaker", Value::from(format!("0x{t:016x}")))
                }
                Attribute::UseCandidate => {}
                Attribute::Fingerprint(f) => {
                    put("value", Value::from(format!("0x{f:08x}")));
                    put("valid", Value::from(m.verify_fingerprint().is_ok()));
                }
                Attribute::MessageIntegrity(h) => put("hmac_sha1", Value::from(hex(h))),
                Attribute::MessageIntegritySha256(h) => put("hmac_sha256", Value::from(hex(h))),
                Attribute::UserHash(h) => put("hex", Value::from(hex(h))),
                Attribute::UnknownAttributes(types) => put(
                    "types",
                    types
                        .map(|t| {
                            Value::from(match attr_name(t) {
                                Some(n) => format!("0x{t:04x} {n}"),
                                None => format!("0x{t:04x}"),
                            })
                        })
                        .collect(),
                ),
                Attribute::PasswordAlgorithms(list) => put(
                    "algorithms",
                    list.map(|p| json!({ "algorithm": algorithm_name(p.algorithm), "params": hex(p.params) }))
                        .collect(),
                ),
                Attribute::PasswordAlgorithm(p) => {
                    put("algorithm", algorithm_name(p.algorithm));
                    if !p.params.is_empty() {
                        put("params", Value::from(hex(p.params)));
                    }
                }
                _ => put("hex", Value::from(hex(a.value))),
            },
        }
        return Value::Object(o);
    }
    // TURN (RFC 8656 section 18) and Chromium extras, by their simple layouts.
    match a.attr_type {
        attr::XOR_PEER_ADDRESS | attr::XOR_RELAYED_ADDRESS => {
            match Attribute::decode(attr::XOR_MAPPED_ADDRESS, a.value, txid) {
                Ok(Attribute::XorMappedAddress(x)) => {
                    if let Value::Object(addr) = address(x) {
                        for (k, v) in addr {
                            put(&k, v);
                        }
                    }
                }
                _ => put("hex", Value::from(hex(a.value))),
            }
        }
        attr::LIFETIME if a.value.len() == 4 => {
            put("seconds", Value::from(be_u32(a.value).unwrap_or_default()))
        }
        attr::CHANNEL_NUMBER if a.value.len() == 4 => put(
            "channel",
            Value::from(format!(
                "0x{:04x}",
                be_u32(a.value).unwrap_or_default() >> 16
            )),
        ),
        attr::REQUESTED_TRANSPORT if a.value.len() == 4 => {
            let proto = a.value.first().copied().unwrap_or_default();
            put(
                "protocol",
                Value::from(match proto {
                    17 => "UDP (17)".to_string(),
                    6 => "TCP (6)".to_string(),
                    p => p.to_string(),
                }),
            )
        }
        attr::GOOG_NETWORK_INFO if a.value.len() == 4 => {
            let v = be_u32(a.value).unwrap_or_default();
            put("network_id", Value::from(v >> 16));
            put("network_cost", Value::from(v & 0xFFFF));
        }
        _ if a.value.is_empty() => {}
        _ => put("hex", Value::from(hex(a.value))),
    }
    Value::Object(o)
}
