//! A sans-IO Binding responder (RFC 8489 sections 6.3 and 7.3): what `sansrtc stun-server`
//! runs for every datagram or framed TCP message.
//!
//! ```
//! use sansrtc_stun::server::{BindingServer, ServerConfig};
//! use sansrtc_stun::{Message, MessageBuilder, MessageType, TransactionId};
//!
//! let mut server = BindingServer::new(ServerConfig::default());
//! let mut req = [0u8; 20];
//! MessageBuilder::new(&mut req, MessageType::BINDING_REQUEST, TransactionId([5; 12]))?;
//! let from = "198.51.100.7:40000".parse().unwrap();
//! let mut out = [0u8; 548];
//! let n = server.handle(&req, from, &mut out).unwrap();
//! let resp = Message::new_checked(&out[..n])?;
//! assert_eq!(resp.xor_mapped_address(), Some(from));
//! assert_eq!(server.stats().responses, 1);
//! # Ok::<(), sansrtc_stun::Error>(())
//! ```

use crate::wire::{
    Class, ErrorCode, HEADER_LEN, MAX_MESSAGE_LEN, Message, MessageBuilder, MessageType, Method,
    TransactionId, be16, check_header_prefix,
};
use std::net::SocketAddr;

/// Configuration of a [`BindingServer`].
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// SOFTWARE to put in every response (RFC 8489 section 14.14), at most 763 bytes; `None`
    /// sends none.
    pub software: Option<String>,
    /// Add FINGERPRINT to responses (RFC 8489 section 7: useful when STUN is multiplexed);
    /// default true.
    pub fingerprint: bool,
    /// Requests longer than this are dropped; default 65555 (no cap beyond the header's).
    pub max_message_len: usize,
    /// At most this many types are listed in the UNKNOWN-ATTRIBUTES of a 420 response (the
    /// rest are still refused); default 16.
    pub max_unknown_attributes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            software: None,
            fingerprint: true,
            max_message_len: MAX_MESSAGE_LEN,
            max_unknown_attributes: 16,
        }
    }
}

/// Counters of a [`BindingServer`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Inputs that had a valid STUN header with the request class.
    pub requests: u64,
    /// Binding success responses written.
    pub responses: u64,
    /// 400 Bad Request responses written (malformed attributes, unsupported method).
    pub errors_400: u64,
    /// 420 Unknown Attribute responses written.
    pub errors_420: u64,
    /// Inputs dropped silently: not STUN, not a request, bad FINGERPRINT, wrong length,
    /// too long, or an output buffer too small.
    pub dropped: u64,
}

/// The Binding responder. Holds no per-client state, so a flood cannot grow it.
#[derive(Debug)]
pub struct BindingServer {
    config: ServerConfig,
    stats: ServerStats,
}

enum Answer {
    Success,
    Error(u16),
}

impl BindingServer {
    /// A responder with `config`.
    pub fn new(config: ServerConfig) -> Self {
        Self {
            config,
            stats: ServerStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// One datagram (or one framed TCP message) from `source`. Returns the length of the
    /// response written into `out` (Binding success with XOR-MAPPED-ADDRESS, SOFTWARE and
    /// FINGERPRINT; 400 Bad Request for malformed requests that can still be answered; 420
    /// with UNKNOWN-ATTRIBUTES for unknown comprehension-required attributes), or `None`
    /// when it must be dropped silently (not STUN, indications, responses, garbage, a
    /// FINGERPRINT that does not match).
    pub fn handle(&mut self, message: &[u8], source: SocketAddr, out: &mut [u8]) -> Option<usize> {
        let n = self.respond(message, source, out);
        if n.is_none() {
            self.stats.dropped += 1;
        }
        n
    }

    fn respond(&mut self, message: &[u8], source: SocketAddr, out: &mut [u8]) -> Option<usize> {
        if message.len() > self.config.max_message_len || message.len() < HEADER_LEN {
            return None;
        }
        check_header_prefix(message).ok()?;
        let request_type = MessageType::from_u16(be16(message, 0)?).ok()?;
        if request_type.class != Class::Request {
            return None;
        }
        self.stats.requests += 1;
        let mut id = [0u8; 12];
        id.copy_from_slice(message.get(8..HEADER_LEN)?);
        let txid = TransactionId(id);

        let mut unknown = [0u16; 64];
        let mut n_unknown = 0;
        let answer = match Message::new_checked_structure(message) {
            Err(crate::Error::LengthMismatch { .. }) => return None,
            Err(_) => Answer::Error(ErrorCode::BAD_REQUEST),
            Ok(m) => {
                if m.has_fingerprint() && m.verify_fingerprint().is_err() {
                    return None;
                }
                let cap = self.config.max_unknown_attributes.min(unknown.len());
                for (slot, t) in unknown
                    .iter_mut()
                    .zip(m.unknown_comprehension_required().take(cap))
                {
                    *slot = t;
                    n_unknown += 1;
                }
                if request_type.method != Method::BINDING {
                    Answer::Error(ErrorCode::BAD_REQUEST)
                } else if n_unknown > 0 {
                    Answer::Error(ErrorCode::UNKNOWN_ATTRIBUTE)
                } else if m.decoded_attributes().any(|a| a.is_err()) {
                    Answer::Error(ErrorCode::BAD_REQUEST)
                } else {
                    Answer::Success
                }
            }
        };

        let class = match answer {
            Answer::Success => Class::SuccessResponse,
            Answer::Error(_) => Class::ErrorResponse,
        };
        let mut b =
            MessageBuilder::new(out, MessageType::new(class, request_type.method), txid).ok()?;
        match answer {
            Answer::Success => b.xor_mapped_address(source).ok()?,
            Answer::Error(code) => {
                b.error_code(code, None).ok()?;
                if code == ErrorCode::UNKNOWN_ATTRIBUTE {
                    b.unknown_attributes(unknown.get(..n_unknown)?).ok()?;
                }
            }
        }
        if let Some(s) = &self.config.software {
            b.software(s).ok()?;
        }
        let len = if self.config.fingerprint {
            b.finish_with_fingerprint().ok()?
        } else {
            b.finish()
        };
        match answer {
            Answer::Success => self.stats.responses += 1,
            Answer::Error(ErrorCode::UNKNOWN_ATTRIBUTE) => self.stats.errors_420 += 1,
            Answer::Error(_) => self.stats.errors_400 += 1,
        }
        Some(len)
    }
}
