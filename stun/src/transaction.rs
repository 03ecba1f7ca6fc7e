//! Sans-IO STUN client transaction (RFC 8489 section 6.2).
//!
//! Over an unreliable transport the request is sent at `t0`, then retransmitted after RTO,
//! 2*RTO, 4*RTO, ... until Rc transmissions have been made; after the last one the client
//! waits Rm*RTO before giving up. With the defaults (RTO 500 ms, Rc 7, Rm 16) transmissions
//! happen at 0, 500, 1500, 3500, 7500, 15500 and 31500 ms and the transaction times out at
//! 39500 ms. Over a reliable transport (TCP, TLS) the request is sent once and the
//! transaction times out after Ti = 39.5 s (RFC 8489 section 6.2.2).
//!
//! Drive it like every sansrtc state machine: after creating it, and after every
//! `handle_*` call, drain [`poll_transmit`](ClientTransaction::poll_transmit) and
//! [`poll_event`](ClientTransaction::poll_event), then arm a timer for
//! [`poll_timeout`](ClientTransaction::poll_timeout).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sansrtc_stun::transaction::{ClientTransaction, TransactionConfig, TransactionEvent};
//! use sansrtc_stun::{MessageBuilder, MessageType, TransactionId};
//!
//! let mut buf = [0u8; 64];
//! let len = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId([9; 12]))?
//!     .finish_with_fingerprint()?;
//! let t0 = Instant::now();
//! let mut tx = ClientTransaction::new(TransactionConfig::default(), t0, buf[..len].to_vec())?;
//! assert!(tx.poll_transmit().is_some()); // first transmission
//! assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(500)));
//! tx.handle_timeout(t0 + Duration::from_millis(500));
//! assert!(tx.poll_transmit().is_some()); // first retransmission
//! # Ok::<(), sansrtc_stun::Error>(())
//! ```

use crate::Error;
use crate::integrity::IntegrityKey;
use crate::wire::{Message, Method, TransactionId};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// Configuration of a [`ClientTransaction`] (RFC 8489 section 6.2.1 parameters).
#[derive(Clone, Debug)]
pub struct TransactionConfig {
    /// Initial retransmission timeout. RFC 8489 section 6.2.1: SHOULD be greater than 500 ms
    /// unless the RTT is known; default 500 ms.
    pub rto: Duration,
    /// Rc: the total number of transmissions over an unreliable transport; default 7.
    /// Values below 1 are treated as 1.
    pub max_transmissions: u32,
    /// Rm: after the last transmission, wait `rm * rto` for a response; default 16.
    pub last_wait_multiplier: u32,
    /// The transport is reliable (TCP/TLS): send once, no retransmissions.
    pub reliable: bool,
    /// Ti: the transaction timeout over a reliable transport; default 39.5 s.
    pub reliable_timeout: Duration,
    /// If set, responses must carry a MESSAGE-INTEGRITY(-SHA256) that verifies with this
    /// key; others are discarded as if never received, and retransmissions continue
    /// (RFC 8489 section 9.1.4). Leave `None` for unauthenticated requests, or when the
    /// first response is expected to be a 401 challenge (long-term credentials).
    pub integrity_key: Option<IntegrityKey>,
}

impl Default for TransactionConfig {
    fn default() -> Self {
        Self {
            rto: Duration::from_millis(500),
            max_transmissions: 7,
            last_wait_multiplier: 16,
            reliable: false,
            reliable_timeout: Duration::from_millis(39_500),
            integrity_key: None,
        }
    }
}

/// Bytes to send to the server (the request; the caller knows the destination).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The STUN request.
    pub payload: Bytes,
}

/// What a transaction reports, once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A success or error response matching the transaction ID and method (and integrity, if
    /// configured). Parse it with [`Message::new_checked`].
    Response(Bytes),
    /// No response after the last retransmission plus Rm*RTO (or Ti over a reliable transport).
    Timeout,
}

/// A STUN client transaction: one request, its retransmissions, one outcome.
#[derive(Debug)]
pub struct ClientTransaction {
    config: TransactionConfig,
    request: Bytes,
    id: TransactionId,
    method: Method,
    /// Transmissions made so far (queued or sent).
    sent: u32,
    pending_transmit: bool,
    next_timeout: Option<Instant>,
    event: Option<TransactionEvent>,
    discarded: u64,
}

impl ClientTransaction {
    /// Starts a transaction for `request`, which must be a valid STUN request; the first
    /// transmission is queued immediately.
    pub fn new(
        config: TransactionConfig,
        now: Instant,
        request: impl Into<Bytes>,
    ) -> Result<Self, Error> {
        let request: Bytes = request.into();
        let (id, method) = {
            let m = Message::new_checked(request.as_ref())?;
            if m.class() != crate::wire::Class::Request {
                return Err(Error::NotARequest);
            }
            (m.transaction_id(), m.method())
        };
        let mut t = Self {
            config,
            request,
            id,
            method,
            sent: 0,
            pending_transmit: false,
            next_timeout: None,
            event: None,
            discarded: 0,
        };
        t.transmit(now);
        Ok(t)
    }

    fn rc(&self) -> u32 {
        self.config.max_transmissions.max(1)
    }

    /// Queues one transmission at `now` and arms the timer that follows it.
    fn transmit(&mut self, now: Instant) {
        self.pending_transmit = true;
        self.sent += 1;
        let wait = if self.config.reliable {
            self.config.reliable_timeout
        } else if self.sent >= self.rc() {
            self.config
                .rto
                .saturating_mul(self.config.last_wait_multiplier)
        } else {
            // RTO doubles after each transmission: RTO, 2 RTO, 4 RTO, ...
            let factor = 1u32 << (self.sent - 1).min(31);
            self.config.rto.saturating_mul(factor)
        };
        self.next_timeout = now.checked_add(wait);
    }

    /// The transaction ID.
    pub fn transaction_id(&self) -> TransactionId {
        self.id
    }

    /// Transmissions made so far.
    pub fn transmissions(&self) -> u32 {
        self.sent
    }

    /// Responses with this transaction's ID that were discarded (wrong method, failed
    /// integrity).
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// True once a response was accepted or the transaction timed out.
    pub fn is_done(&self) -> bool {
        self.next_timeout.is_none()
    }

    /// Offers a datagram (or a framed TCP message). Returns `true` if it carries this
    /// transaction's ID (whether it was accepted or discarded), `false` if it is for someone
    /// else or not STUN. A matching response ends the transaction with
    /// [`TransactionEvent::Response`].
    pub fn handle_receive(&mut self, _now: Instant, datagram: &[u8]) -> bool {
        let Ok(m) = Message::new_checked(datagram) else {
            return false;
        };
        if m.transaction_id() != self.id || !m.class().is_response() {
            return false;
        }
        if self.is_done() {
            // A late duplicate of the answer: ours, nothing to do.
            return true;
        }
        let authentic = match &self.config.integrity_key {
            Some(key) => m.verify_integrity(key).is_ok(),
            None => true,
        };
        if m.method() != self.method || !authentic {
            self.discarded += 1;
            return true;
        }
        self.event = Some(TransactionEvent::Response(Bytes::copy_from_slice(datagram)));
        self.pending_transmit = false;
        self.next_timeout = None;
        true
    }

    /// Advances timers: queues a retransmission, or ends the transaction with
    /// [`TransactionEvent::Timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.next_timeout else {
            return;
        };
        if now < deadline {
            return;
        }
        if !self.config.reliable && self.sent < self.rc() {
            self.transmit(now);
        } else {
            self.next_timeout = None;
            self.pending_transmit = false;
            self.event = Some(TransactionEvent::Timeout);
        }
    }

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if std::mem::take(&mut self.pending_transmit) {
            Some(Transmit {
                payload: self.request.clone(),
            })
        } else {
            None
        }
    }

    /// The outcome, once.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.event.take()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next; `None` when done.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_timeout
    }
}
