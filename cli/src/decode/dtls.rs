//! DTLS records (RFC 6347 §4.1) and plaintext handshake messages, with reassembly of
//! fragmented handshake messages across datagrams (RFC 6347 §4.2.3). Encrypted records
//! (epoch > 0) are shown as such.

use std::collections::BTreeMap;

use sansrtc_dtls::wire::Reader;
use sansrtc_dtls::wire::handshake::{
    self as hs, CertificateRequest, ClientHello, Extension, Fragment, HandshakeType,
    HelloVerifyRequest, ServerHello, ServerKeyExchange, ext,
};
use sansrtc_dtls::wire::record::{ContentType, Record};
use sansrtc_dtls::{AlertDescription, Fingerprint};
use serde_json::{Map, Value, json};

/// Caps: a handshake message above this is not reassembled.
const MAX_MESSAGE: usize = 256 * 1024;
/// At most this many partial messages are kept (oldest dropped).
const MAX_PARTIALS: usize = 64;

struct Partial {
    body: Vec<u8>,
    have: Vec<bool>,
}

/// Stateful DTLS decoder: keeps partial handshake messages between datagrams.
pub struct DtlsDecoder {
    partials: BTreeMap<(u8, u16, u32, u32), Partial>,
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn version_name(v: u16) -> String {
    let n = match v {
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        _ => "unknown",
    };
    format!("{n} (0x{v:04x})")
}

fn suite_name(c: u16) -> String {
    let n = match c {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0xc02b => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xc02c => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc02f => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xc030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xcca9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xcca8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xc009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xc00a => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xc013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xc014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0x009c => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009d => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0x002f => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0x00ff => "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
        _ => "unknown",
    };
    format!("{n} (0x{c:04x})")
}

fn group_name(g: u16) -> String {
    let n = match g {
        23 => "secp256r1",
        24 => "secp384r1",
        25 => "secp521r1",
        29 => "x25519",
        30 => "x448",
        0x11ec => "X25519MLKEM768",
        0x11eb => "SecP256r1MLKEM768",
        0x6399 => "X25519Kyber768Draft00",
        _ => "unknown",
    };
    format!("{n} (0x{g:04x})")
}

fn scheme_name(s: u16) -> String {
    let n = match s {
        0x0403 => "ecdsa_secp256r1_sha256",
        0x0503 => "ecdsa_secp384r1_sha384",
        0x0603 => "ecdsa_secp521r1_sha512",
        0x0804 => "rsa_pss_rsae_sha256",
        0x0805 => "rsa_pss_rsae_sha384",
        0x0806 => "rsa_pss_rsae_sha512",
        0x0401 => "rsa_pkcs1_sha256",
        0x0501 => "rsa_pkcs1_sha384",
        0x0601 => "rsa_pkcs1_sha512",
        0x0807 => "ed25519",
        0x0808 => "ed448",
        0x0201 => "rsa_pkcs1_sha1",
        0x0203 => "ecdsa_sha1",
        _ => "unknown",
    };
    format!("{n} (0x{s:04x})")
}

fn profile_name(p: u16) -> String {
    let n = match p {
        1 => "SRTP_AES128_CM_HMAC_SHA1_80",
        2 => "SRTP_AES128_CM_HMAC_SHA1_32",
        5 => "SRTP_NULL_HMAC_SHA1_80",
        6 => "SRTP_NULL_HMAC_SHA1_32",
        7 => "SRTP_AEAD_AES_128_GCM",
        8 => "SRTP_AEAD_AES_256_GCM",
        _ => "unknown",
    };
    format!("{n} (0x{p:04x})")
}

fn ext_name(t: u16) -> String {
    let n = match t {
        0 => "server_name",
        5 => "status_request",
        10 => "supported_groups",
        11 => "ec_point_formats",
        13 => "signature_algorithms",
        14 => "use_srtp",
        16 => "application_layer_protocol_negotiation",
        18 => "signed_certificate_timestamp",
        21 => "padding",
        22 => "encrypt_then_mac",
        23 => "extended_master_secret",
        35 => "session_ticket",
        41 => "pre_shared_key",
        42 => "early_data",
        43 => "supported_versions",
        44 => "cookie",
        45 => "psk_key_exchange_modes",
        51 => "key_share",
        0xff01 => "renegotiation_info",
        _ => "unknown",
    };
    format!("{n} ({t})")
}

fn u16_list(d: &[u8], what: &'static str, name: fn(u16) -> String) -> Value {
    match hs::parse_u16_list(d, what) {
        Ok(l) => Value::from(l.into_iter().map(name).collect::<Vec<_>>()),
        Err(e) => Value::from(format!("error: {e}")),
    }
}

fn extension(e: &Extension, client: bool) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), Value::from(ext_name(e.typ)));
    m.insert("length".into(), Value::from(e.data.len()));
    let d = e.data.as_slice();
    match e.typ {
        ext::SUPPORTED_GROUPS => {
            m.insert("groups".into(), u16_list(d, "supported_groups", group_name));
        }
        ext::SIGNATURE_ALGORITHMS => {
            m.insert(
                "schemes".into(),
                u16_list(d, "signature_algorithms", scheme_name),
            );
        }
        ext::EC_POINT_FORMATS => {
            let mut r = Reader::new(d, "ec_point_formats");
            if let Ok(f) = r.vec8() {
                m.insert("formats".into(), Value::from(f.to_vec()));
            }
        }
        ext::USE_SRTP => match hs::parse_use_srtp(d) {
            Ok((p, mki)) => {
                m.insert(
                    "profiles".into(),
                    Value::from(p.into_iter().map(profile_name).collect::<Vec<_>>()),
                );
                m.insert("mki".into(), Value::from(hexs(&mki)));
            }
            Err(e) => {
                m.insert("error".into(), Value::from(e.to_string()));
            }
        },
        ext::SUPPORTED_VERSIONS => {
            let v = if client {
                hs::parse_client_supported_versions(d)
                    .map(|l| l.into_iter().map(version_name).collect::<Vec<_>>())
            } else {
                Reader::new(d, "supported_versions")
                    .u16()
                    .map(|v| vec![version_name(v)])
            };
            match v {
                Ok(v) => m.insert("versions".into(), Value::from(v)),
                Err(e) => m.insert("error".into(), Value::from(e.to_string())),
            };
        }
        ext::KEY_SHARE if client => match hs::parse_client_key_share(d) {
            Ok(l) => {
                let shares: Vec<Value> = l
                    .into_iter()
                    .map(|(g, n)| json!({ "group": group_name(g), "key_exchange_length": n }))
                    .collect();
                m.insert("shares".into(), Value::from(shares));
            }
            Err(e) => {
                m.insert("error".into(), Value::from(e.to_string()));
            }
        },
        ext::RENEGOTIATION_INFO => {
            m.insert(
                "renegotiated_connection".into(),
                Value::from(hexs(d.get(1..).unwrap_or_default())),
            );
        }
        _ => {
            if !d.is_empty() && d.len() <= 64 {
                m.insert("data".into(), Value::from(hexs(d)));
            }
        }
    }
    Value::Object(m)
}

fn message(t: HandshakeType, body: &[u8]) -> Result<Value, String> {
    let e = |e: sansrtc_dtls::Error| e.to_string();
    Ok(match t {
        HandshakeType::ClientHello => {
            let ch = ClientHello::parse(body).map_err(e)?;
            json!({
                "client_version": version_name(ch.version),
                "random": hexs(&ch.random),
                "session_id": hexs(&ch.session_id),
                "cookie": hexs(&ch.cookie),
                "cipher_suites": ch.cipher_suites.iter().map(|c| suite_name(*c)).collect::<Vec<_>>(),
                "compression_methods": ch.compression_methods,
                "extensions": ch.extensions.iter().map(|x| extension(x, true)).collect::<Vec<_>>(),
            })
        }
        HandshakeType::ServerHello => {
            let sh = ServerHello::parse(body).map_err(e)?;
            json!({
                "server_version": version_name(sh.version),
                "random": hexs(&sh.random),
                "session_id": hexs(&sh.session_id),
                "cipher_suite": suite_name(sh.cipher_suite),
                "compression_method": sh.compression_method,
                "extensions": sh.extensions.iter().map(|x| extension(x, false)).collect::<Vec<_>>(),
            })
        }
        HandshakeType::HelloVerifyRequest => {
            let h = HelloVerifyRequest::parse(body).map_err(e)?;
            json!({ "server_version": version_name(h.version), "cookie": hexs(&h.cookie) })
        }
        HandshakeType::Certificate => {
            let chain = hs::parse_certificate(body).map_err(e)?;
            let certs: Vec<Value> = chain
                .iter()
                .map(|c| json!({ "length": c.len(), "sha256_fingerprint": Fingerprint::of(c).to_string() }))
                .collect();
            json!({ "certificates": certs })
        }
        HandshakeType::ServerKeyExchange => {
            let s = ServerKeyExchange::parse(body).map_err(e)?;
            json!({
                "named_group": group_name(s.group),
                "public_key_length": s.public.len(),
                "signature_scheme": scheme_name(s.scheme),
                "signature_length": s.signature.len(),
            })
        }
        HandshakeType::CertificateRequest => {
            let c = CertificateRequest::parse(body).map_err(e)?;
            json!({
                "certificate_types": c.cert_types,
                "signature_schemes": c.schemes.iter().map(|s| scheme_name(*s)).collect::<Vec<_>>(),
                "authorities_length": c.authorities.len(),
            })
        }
        HandshakeType::ServerHelloDone => json!({}),
        HandshakeType::ClientKeyExchange => {
            let p = hs::parse_client_key_exchange(body).map_err(e)?;
            json!({ "public_key_length": p.len() })
        }
        HandshakeType::CertificateVerify => {
            let (s, sig) = hs::parse_digitally_signed(body, "CertificateVerify").map_err(e)?;
            json!({ "signature_scheme": scheme_name(s), "signature_length": sig.len() })
        }
        _ => json!({ "body": hexs(body.get(..body.len().min(64)).unwrap_or_default()) }),
    })
}

impl Default for DtlsDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl DtlsDecoder {
    /// A decoder with no partial messages.
    pub fn new() -> Self {
        Self {
            partials: BTreeMap::new(),
        }
    }

    /// Decode every record of one datagram.
    pub fn decode(&mut self, datagram: &[u8]) -> Value {
        let (records, err) = Record::parse_datagram(datagram);
        let mut out = Map::new();
        let recs: Vec<Value> = records.iter().map(|r| self.record(r)).collect();
        out.insert("records".into(), Value::from(recs));
        if let Some(e) = err {
            out.insert("error".into(), Value::from(e.to_string()));
        }
        Value::Object(out)
    }

    fn record(&mut self, r: &Record<'_>) -> Value {
        let mut m = Map::new();
        m.insert("content_type".into(), Value::from(r.content_type.name()));
        m.insert("version".into(), Value::from(version_name(r.version)));
        m.insert("epoch".into(), Value::from(r.epoch));
        m.insert("sequence_number".into(), Value::from(r.seq));
        m.insert("length".into(), Value::from(r.fragment.len()));
        if r.epoch > 0 {
            m.insert("encrypted".into(), Value::from(true));
            return Value::Object(m);
        }
        match r.content_type {
            ContentType::Handshake => match Fragment::parse_all(r.fragment) {
                Ok(frags) => {
                    let v: Vec<Value> = frags.iter().map(|f| self.fragment(f)).collect();
                    m.insert("handshake".into(), Value::from(v));
                }
                Err(e) => {
                    m.insert("error".into(), Value::from(e.to_string()));
                }
            },
            ContentType::Alert => {
                if let [level, desc] = r.fragment {
                    let lvl = match level {
                        1 => "warning",
                        2 => "fatal",
                        _ => "unknown",
                    };
                    m.insert("level".into(), Value::from(lvl));
                    m.insert(
                        "description".into(),
                        Value::from(AlertDescription::from_code(*desc).to_string()),
                    );
                } else {
                    m.insert("error".into(), Value::from("alert is not 2 bytes"));
                }
            }
            ContentType::ChangeCipherSpec => {
                m.insert("value".into(), Value::from(r.fragment.to_vec()));
            }
            ContentType::ApplicationData => {
                m.insert("error".into(), Value::from("application data in epoch 0"));
            }
        }
        Value::Object(m)
    }

    fn fragment(&mut self, f: &Fragment<'_>) -> Value {
        let mut m = Map::new();
        m.insert(
            "type".into(),
            Value::from(format!("{} ({})", f.msg_type.name(), f.msg_type.as_u8())),
        );
        m.insert("length".into(), Value::from(f.length));
        m.insert("message_seq".into(), Value::from(f.message_seq));
        m.insert("fragment_offset".into(), Value::from(f.offset));
        m.insert("fragment_length".into(), Value::from(f.body.len()));
        let len = f.length as usize;
        let start = f.offset as usize;
        let end = start + f.body.len();
        if end > len {
            m.insert(
                "error".into(),
                Value::from("fragment extends past the message length"),
            );
            return Value::Object(m);
        }
        let body = if start == 0 && end == len {
            Some(f.body.to_vec())
        } else if len > MAX_MESSAGE {
            m.insert(
                "error".into(),
                Value::from(format!(
                    "message of {len} bytes is above the {MAX_MESSAGE}-byte cap"
                )),
            );
            None
        } else {
            let key = (f.msg_type.as_u8(), f.message_seq, f.length, 0);
            if !self.partials.contains_key(&key)
                && self.partials.len() >= MAX_PARTIALS
                && let Some(k) = self.partials.keys().next().copied()
            {
                self.partials.remove(&k);
            }
            let p = self.partials.entry(key).or_insert_with(|| Partial {
                body: vec![0; len],
                have: vec![false; len],
            });
            if let Some(dst) = p.body.get_mut(start..end) {
                dst.copy_from_slice(f.body);
            }
            if let Some(h) = p.have.get_mut(start..end) {
                h.iter_mut().for_each(|x| *x = true);
            }
            let got = p.have.iter().filter(|x| **x).count();
            if got == len {
                let done = self.partials.remove(&key).map(|p| p.body);
                m.insert(
                    "reassembled".into(),
                    Value::from(format!("complete, {len} bytes")),
                );
                done
            } else {
                m.insert(
                    "reassembled".into(),
                    Value::from(format!("incomplete, {got} of {len} bytes so far")),
                );
                None
            }
        };
        if let Some(b) = body {
            match message(f.msg_type, &b) {
                Ok(v) => m.insert("message".into(), v),
                Err(e) => m.insert("error".into(), Value::from(e)),
            };
        }
        Value::Object(m)
    }
}
