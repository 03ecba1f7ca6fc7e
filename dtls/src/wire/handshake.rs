//! Handshake messages (RFC 5246 §7.4 with the DTLS header of RFC 6347 §4.2.2) and hello
//! extensions.

use super::{Put, Reader};
use crate::Error;

/// Handshake header length in DTLS: type, length(3), message_seq(2), offset(3), frag_len(3).
pub const HANDSHAKE_HEADER_LEN: usize = 12;

/// Extension code points used here.
pub mod ext {
    /// supported_groups (RFC 8422 §5.1.1).
    pub const SUPPORTED_GROUPS: u16 = 10;
    /// ec_point_formats (RFC 8422 §5.1.2).
    pub const EC_POINT_FORMATS: u16 = 11;
    /// signature_algorithms (RFC 5246 §7.4.1.4.1).
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    /// use_srtp (RFC 5764 §4.1.1).
    pub const USE_SRTP: u16 = 14;
    /// extended_master_secret (RFC 7627 §5.1).
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    /// supported_versions (RFC 8446 §4.2.1), DTLS 1.3 only: ignored by a 1.2 server.
    pub const SUPPORTED_VERSIONS: u16 = 43;
    /// key_share (RFC 8446 §4.2.8), DTLS 1.3 only: ignored by a 1.2 server.
    pub const KEY_SHARE: u16 = 51;
    /// renegotiation_info (RFC 5746 §3.2).
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// The signalling cipher suite value for secure renegotiation (RFC 5746 §3.3).
pub const TLS_EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;

/// Handshake message types (RFC 5246 §7.4, RFC 6347 §4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HandshakeType {
    /// hello_request (0).
    HelloRequest,
    /// client_hello (1).
    ClientHello,
    /// server_hello (2).
    ServerHello,
    /// hello_verify_request (3).
    HelloVerifyRequest,
    /// certificate (11).
    Certificate,
    /// server_key_exchange (12).
    ServerKeyExchange,
    /// certificate_request (13).
    CertificateRequest,
    /// server_hello_done (14).
    ServerHelloDone,
    /// certificate_verify (15).
    CertificateVerify,
    /// client_key_exchange (16).
    ClientKeyExchange,
    /// finished (20).
    Finished,
    /// Anything else.
    Unknown(u8),
}

impl HandshakeType {
    /// From the wire.
    #[must_use]
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::HelloRequest,
            1 => Self::ClientHello,
            2 => Self::ServerHello,
            3 => Self::HelloVerifyRequest,
            11 => Self::Certificate,
            12 => Self::ServerKeyExchange,
            13 => Self::CertificateRequest,
            14 => Self::ServerHelloDone,
            15 => Self::CertificateVerify,
            16 => Self::ClientKeyExchange,
            20 => Self::Finished,
            v => Self::Unknown(v),
        }
    }

    /// To the wire.
    #[must_use]
    pub fn as_u8(self) -> u8 {
        match self {
            Self::HelloRequest => 0,
            Self::ClientHello => 1,
            Self::ServerHello => 2,
            Self::HelloVerifyRequest => 3,
            Self::Certificate => 11,
            Self::ServerKeyExchange => 12,
            Self::CertificateRequest => 13,
            Self::ServerHelloDone => 14,
            Self::CertificateVerify => 15,
            Self::ClientKeyExchange => 16,
            Self::Finished => 20,
            Self::Unknown(v) => v,
        }
    }

    /// The RFC name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::HelloRequest => "HelloRequest",
            Self::ClientHello => "ClientHello",
            Self::ServerHello => "ServerHello",
            Self::HelloVerifyRequest => "HelloVerifyRequest",
            Self::Certificate => "Certificate",
            Self::ServerKeyExchange => "ServerKeyExchange",
            Self::CertificateRequest => "CertificateRequest",
            Self::ServerHelloDone => "ServerHelloDone",
            Self::CertificateVerify => "CertificateVerify",
            Self::ClientKeyExchange => "ClientKeyExchange",
            Self::Finished => "Finished",
            Self::Unknown(_) => "unknown handshake message",
        }
    }
}

/// One handshake fragment as carried in a record (RFC 6347 §4.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Message type.
    pub msg_type: HandshakeType,
    /// Length of the whole message body.
    pub length: u32,
    /// Message sequence number.
    pub message_seq: u16,
    /// Offset of this fragment in the body.
    pub offset: u32,
    /// The fragment bytes.
    pub body: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// Parse one fragment from the front of `r`.
    pub fn parse(r: &mut Reader<'a>) -> Result<Self, Error> {
        let msg_type = HandshakeType::from_u8(r.u8()?);
        let length = r.u24()?;
        let message_seq = r.u16()?;
        let offset = r.u24()?;
        let body = r.vec24()?;
        Ok(Self {
            msg_type,
            length,
            message_seq,
            offset,
            body,
        })
    }

    /// All fragments of a handshake record's plaintext.
    pub fn parse_all(plaintext: &'a [u8]) -> Result<Vec<Self>, Error> {
        let mut r = Reader::new(plaintext, "handshake fragment");
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(Self::parse(&mut r)?);
        }
        Ok(out)
    }

    /// Emit header and body.
    pub(crate) fn emit(&self, out: &mut Vec<u8>) {
        out.put_u8(self.msg_type.as_u8());
        out.put_u24(self.length);
        out.put_u16(self.message_seq);
        out.put_u24(self.offset);
        out.put_vec24(self.body);
    }
}

/// A whole handshake message; its transcript form is the unfragmented DTLS encoding
/// (RFC 6347 §4.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeMessage {
    /// Message type.
    pub msg_type: HandshakeType,
    /// Message sequence number.
    pub message_seq: u16,
    /// Body.
    pub body: Vec<u8>,
}

impl HandshakeMessage {
    /// The bytes hashed into the transcript: the 12-byte header with offset 0 and
    /// fragment_length = length, then the body.
    #[must_use]
    pub fn transcript_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HANDSHAKE_HEADER_LEN + self.body.len());
        self.as_fragment().emit(&mut v);
        v
    }

    /// The message as one fragment.
    #[must_use]
    pub fn as_fragment(&self) -> Fragment<'_> {
        Fragment {
            msg_type: self.msg_type,
            length: u32::try_from(self.body.len()).unwrap_or(0),
            message_seq: self.message_seq,
            offset: 0,
            body: &self.body,
        }
    }
}

/// One hello extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Extension type.
    pub typ: u16,
    /// Extension data.
    pub data: Vec<u8>,
}

fn parse_extensions(r: &mut Reader<'_>) -> Result<Vec<Extension>, Error> {
    if r.is_empty() {
        return Ok(Vec::new());
    }
    let mut er = Reader::new(r.vec16()?, "extensions");
    let mut out: Vec<Extension> = Vec::new();
    while !er.is_empty() {
        let typ = er.u16()?;
        let data = er.vec16()?.to_vec();
        if out.iter().any(|e| e.typ == typ) {
            return Err(Error::DuplicateExtension(typ));
        }
        out.push(Extension { typ, data });
    }
    Ok(out)
}

fn emit_extensions(exts: &[Extension], out: &mut Vec<u8>) {
    if exts.is_empty() {
        return;
    }
    let mut e = Vec::new();
    for x in exts {
        e.put_u16(x.typ);
        e.put_vec16(&x.data);
    }
    out.put_vec16(&e);
}

/// Find an extension by type.
#[must_use]
pub fn find_ext(exts: &[Extension], typ: u16) -> Option<&[u8]> {
    exts.iter()
        .find(|e| e.typ == typ)
        .map(|e| e.data.as_slice())
}

/// Parse a list of u16 with a 2-byte length prefix (supported_groups, signature_algorithms).
pub fn parse_u16_list(data: &[u8], what: &'static str) -> Result<Vec<u16>, Error> {
    let mut r = Reader::new(data, what);
    let list = r.vec16()?;
    r.finish()?;
    if list.len() % 2 != 0 {
        return Err(Error::InvalidField {
            field: what,
            value: list.len() as u64,
        });
    }
    let mut lr = Reader::new(list, what);
    let mut out = Vec::with_capacity(list.len() / 2);
    while !lr.is_empty() {
        out.push(lr.u16()?);
    }
    Ok(out)
}

/// Encode a u16 list with a 2-byte length prefix.
#[must_use]
pub fn encode_u16_list(list: &[u16]) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + 2 * list.len());
    v.put_u16(u16::try_from(2 * list.len()).unwrap_or(u16::MAX));
    for x in list {
        v.put_u16(*x);
    }
    v
}

/// The use_srtp extension body (RFC 5764 §4.1.1): profiles and MKI.
pub fn parse_use_srtp(data: &[u8]) -> Result<(Vec<u16>, Vec<u8>), Error> {
    let mut r = Reader::new(data, "use_srtp");
    let list = r.vec16()?;
    let mki = r.vec8()?.to_vec();
    r.finish()?;
    if list.len() % 2 != 0 {
        return Err(Error::InvalidField {
            field: "use_srtp profile list",
            value: list.len() as u64,
        });
    }
    let mut lr = Reader::new(list, "use_srtp");
    let mut out = Vec::new();
    while !lr.is_empty() {
        out.push(lr.u16()?);
    }
    Ok((out, mki))
}

/// Encode the use_srtp extension body with an empty MKI.
#[must_use]
pub fn encode_use_srtp(profiles: &[u16]) -> Vec<u8> {
    let mut v = encode_u16_list(profiles);
    v.put_u8(0);
    v
}

/// Client key_share entries (RFC 8446 §4.2.8): `(group, key_exchange length)` pairs. Only
/// used for display; a DTLS 1.2 server ignores it.
pub fn parse_client_key_share(data: &[u8]) -> Result<Vec<(u16, usize)>, Error> {
    let mut r = Reader::new(data, "key_share");
    let list = r.vec16()?;
    r.finish()?;
    let mut lr = Reader::new(list, "key_share");
    let mut out = Vec::new();
    while !lr.is_empty() {
        let g = lr.u16()?;
        let k = lr.vec16()?;
        out.push((g, k.len()));
    }
    Ok(out)
}

/// supported_versions as sent by a client (RFC 8446 §4.2.1).
pub fn parse_client_supported_versions(data: &[u8]) -> Result<Vec<u16>, Error> {
    let mut r = Reader::new(data, "supported_versions");
    let list = r.vec8()?;
    r.finish()?;
    if list.len() % 2 != 0 {
        return Err(Error::InvalidField {
            field: "supported_versions",
            value: list.len() as u64,
        });
    }
    let mut lr = Reader::new(list, "supported_versions");
    let mut out = Vec::new();
    while !lr.is_empty() {
        out.push(lr.u16()?);
    }
    Ok(out)
}

/// ClientHello (RFC 6347 §4.2.1 adds the cookie).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello {
    /// client_version.
    pub version: u16,
    /// Client random.
    pub random: [u8; 32],
    /// Session id (we never resume; kept for echo).
    pub session_id: Vec<u8>,
    /// Cookie from a HelloVerifyRequest, or empty.
    pub cookie: Vec<u8>,
    /// Offered cipher suites.
    pub cipher_suites: Vec<u16>,
    /// Compression methods (must contain null = 0).
    pub compression_methods: Vec<u8>,
    /// Extensions, in order, no duplicates.
    pub extensions: Vec<Extension>,
}

fn random32(b: &[u8]) -> [u8; 32] {
    let mut r = [0u8; 32];
    for (d, s) in r.iter_mut().zip(b) {
        *d = *s;
    }
    r
}

impl ClientHello {
    /// Parse a ClientHello body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "ClientHello");
        let version = r.u16()?;
        let random = random32(r.take(32)?);
        let session_id = r.vec8()?;
        if session_id.len() > 32 {
            return Err(Error::InvalidField {
                field: "session_id length",
                value: session_id.len() as u64,
            });
        }
        let cookie = r.vec8()?.to_vec();
        let suites = r.vec16()?;
        if suites.len() % 2 != 0 || suites.is_empty() {
            return Err(Error::InvalidField {
                field: "cipher_suites length",
                value: suites.len() as u64,
            });
        }
        let mut sr = Reader::new(suites, "cipher_suites");
        let mut cipher_suites = Vec::with_capacity(suites.len() / 2);
        while !sr.is_empty() {
            cipher_suites.push(sr.u16()?);
        }
        let compression_methods = r.vec8()?.to_vec();
        let extensions = parse_extensions(&mut r)?;
        r.finish()?;
        Ok(Self {
            version,
            random,
            session_id: session_id.to_vec(),
            cookie,
            cipher_suites,
            compression_methods,
            extensions,
        })
    }

    /// Encode the body.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(256);
        v.put_u16(self.version);
        v.extend_from_slice(&self.random);
        v.put_vec8(&self.session_id);
        v.put_vec8(&self.cookie);
        v.extend_from_slice(&encode_u16_list(&self.cipher_suites));
        v.put_vec8(&self.compression_methods);
        emit_extensions(&self.extensions, &mut v);
        v
    }
}

/// ServerHello (RFC 5246 §7.4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// server_version.
    pub version: u16,
    /// Server random.
    pub random: [u8; 32],
    /// Session id.
    pub session_id: Vec<u8>,
    /// Chosen cipher suite.
    pub cipher_suite: u16,
    /// Chosen compression method.
    pub compression_method: u8,
    /// Extensions.
    pub extensions: Vec<Extension>,
}

impl ServerHello {
    /// Parse a ServerHello body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "ServerHello");
        let version = r.u16()?;
        let random = random32(r.take(32)?);
        let session_id = r.vec8()?.to_vec();
        if session_id.len() > 32 {
            return Err(Error::InvalidField {
                field: "session_id length",
                value: session_id.len() as u64,
            });
        }
        let cipher_suite = r.u16()?;
        let compression_method = r.u8()?;
        let extensions = parse_extensions(&mut r)?;
        r.finish()?;
        Ok(Self {
            version,
            random,
            session_id,
            cipher_suite,
            compression_method,
            extensions,
        })
    }

    /// Encode the body.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(128);
        v.put_u16(self.version);
        v.extend_from_slice(&self.random);
        v.put_vec8(&self.session_id);
        v.put_u16(self.cipher_suite);
        v.put_u8(self.compression_method);
        emit_extensions(&self.extensions, &mut v);
        v
    }
}

/// HelloVerifyRequest (RFC 6347 §4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelloVerifyRequest {
    /// server_version.
    pub version: u16,
    /// The cookie (at most 255 bytes).
    pub cookie: Vec<u8>,
}

impl HelloVerifyRequest {
    /// Parse.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "HelloVerifyRequest");
        let version = r.u16()?;
        let cookie = r.vec8()?.to_vec();
        r.finish()?;
        Ok(Self { version, cookie })
    }

    /// Encode.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.put_u16(self.version);
        v.put_vec8(&self.cookie);
        v
    }
}

/// Certificate (RFC 5246 §7.4.2): the DER chain, leaf first.
pub fn parse_certificate(body: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut r = Reader::new(body, "Certificate");
    let list = r.vec24()?;
    r.finish()?;
    let mut lr = Reader::new(list, "Certificate");
    let mut out = Vec::new();
    while !lr.is_empty() {
        out.push(lr.vec24()?.to_vec());
    }
    Ok(out)
}

/// Encode a Certificate body.
#[must_use]
pub fn encode_certificate(chain: &[&[u8]]) -> Vec<u8> {
    let mut inner = Vec::new();
    for c in chain {
        inner.put_vec24(c);
    }
    let mut v = Vec::new();
    v.put_vec24(&inner);
    v
}

/// ServerKeyExchange for ECDHE (RFC 8422 §5.4) with a TLS 1.2 digitally-signed struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// Named group.
    pub group: u16,
    /// Server's ephemeral public key.
    pub public: Vec<u8>,
    /// Signature scheme.
    pub scheme: u16,
    /// Signature.
    pub signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// The signed ServerECDHParams bytes (curve_type, group, public).
    #[must_use]
    pub fn params(group: u16, public: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(4 + public.len());
        v.put_u8(3); // named_curve
        v.put_u16(group);
        v.put_vec8(public);
        v
    }

    /// Parse.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "ServerKeyExchange");
        let curve_type = r.u8()?;
        if curve_type != 3 {
            return Err(Error::InvalidField {
                field: "ECCurveType",
                value: curve_type.into(),
            });
        }
        let group = r.u16()?;
        let public = r.vec8()?.to_vec();
        let scheme = r.u16()?;
        let signature = r.vec16()?.to_vec();
        r.finish()?;
        Ok(Self {
            group,
            public,
            scheme,
            signature,
        })
    }

    /// Encode.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Self::params(self.group, &self.public);
        v.put_u16(self.scheme);
        v.put_vec16(&self.signature);
        v
    }
}

/// CertificateRequest (RFC 5246 §7.4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    /// ClientCertificateType list.
    pub cert_types: Vec<u8>,
    /// Accepted signature schemes.
    pub schemes: Vec<u16>,
    /// Raw certificate_authorities list (we send none).
    pub authorities: Vec<u8>,
}

impl CertificateRequest {
    /// Parse.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(body, "CertificateRequest");
        let cert_types = r.vec8()?.to_vec();
        let schemes_raw = r.vec16()?;
        let mut sr = Reader::new(schemes_raw, "CertificateRequest");
        let mut schemes = Vec::new();
        while sr.remaining() >= 2 {
            schemes.push(sr.u16()?);
        }
        sr.finish()?;
        let authorities = r.vec16()?.to_vec();
        r.finish()?;
        Ok(Self {
            cert_types,
            schemes,
            authorities,
        })
    }

    /// Encode.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        v.put_vec8(&self.cert_types);
        v.extend_from_slice(&encode_u16_list(&self.schemes));
        v.put_vec16(&self.authorities);
        v
    }
}

/// ClientKeyExchange for ECDHE (RFC 8422 §5.7): the client's public point.
pub fn parse_client_key_exchange(body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Reader::new(body, "ClientKeyExchange");
    let p = r.vec8()?.to_vec();
    r.finish()?;
    if p.is_empty() {
        return Err(Error::InvalidField {
            field: "ClientKeyExchange public length",
            value: 0,
        });
    }
    Ok(p)
}

/// A TLS 1.2 digitally-signed struct (scheme, signature): CertificateVerify body.
pub fn parse_digitally_signed(body: &[u8], what: &'static str) -> Result<(u16, Vec<u8>), Error> {
    let mut r = Reader::new(body, what);
    let scheme = r.u16()?;
    let sig = r.vec16()?.to_vec();
    r.finish()?;
    Ok((scheme, sig))
}

/// Encode a digitally-signed struct.
#[must_use]
pub fn encode_digitally_signed(scheme: u16, sig: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.put_u16(scheme);
    v.put_vec16(sig);
    v
}
