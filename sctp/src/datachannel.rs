//! WebRTC data channels: DCEP (RFC 8832) over an SCTP association, with the PPIDs and the
//! closing procedure of RFC 8831.
//!
//! [`DataChannels`] owns an [`Association`] and speaks the same sans-IO vocabulary: feed
//! DTLS application data to `handle_receive`, send what `poll_transmit` returns through DTLS.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::association::{Association, CloseReason, Event, SendOptions, Transmit};
use crate::config::Config;
use crate::error::Error;
use crate::wire::{be16, be32};

/// Payload protocol identifiers (RFC 8831 section 8, RFC 8832 section 8.1).
pub mod ppid {
    /// DCEP.
    pub const DCEP: u32 = 50;
    /// WebRTC String.
    pub const STRING: u32 = 51;
    /// WebRTC Binary Partial (deprecated).
    pub const BINARY_PARTIAL: u32 = 52;
    /// WebRTC Binary.
    pub const BINARY: u32 = 53;
    /// WebRTC String Partial (deprecated).
    pub const STRING_PARTIAL: u32 = 54;
    /// WebRTC String Empty.
    pub const STRING_EMPTY: u32 = 56;
    /// WebRTC Binary Empty.
    pub const BINARY_EMPTY: u32 = 57;
}

const MSG_OPEN: u8 = 0x03;
const MSG_ACK: u8 = 0x02;

/// Reliability of a channel (RFC 8832 section 5.1 channel types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reliability {
    /// Fully reliable.
    #[default]
    Reliable,
    /// Partially reliable: at most this many retransmissions.
    MaxRetransmits(u32),
    /// Partially reliable: abandoned after this many milliseconds.
    MaxLifetimeMs(u32),
}

/// Parameters of a data channel (the DATA_CHANNEL_OPEN fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Label.
    pub label: String,
    /// Sub-protocol.
    pub protocol: String,
    /// Ordered delivery.
    pub ordered: bool,
    /// Reliability.
    pub reliability: Reliability,
    /// Priority (RFC 8832 section 5.1).
    pub priority: u16,
    /// Pre-negotiated stream id: no DCEP is exchanged (RFC 8832 section 6).
    pub negotiated: Option<u16>,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        ChannelConfig {
            label: String::new(),
            protocol: String::new(),
            ordered: true,
            reliability: Reliability::Reliable,
            priority: 256,
            negotiated: None,
        }
    }
}

impl ChannelConfig {
    fn channel_type(&self) -> u8 {
        let base = match self.reliability {
            Reliability::Reliable => 0x00,
            Reliability::MaxRetransmits(_) => 0x01,
            Reliability::MaxLifetimeMs(_) => 0x02,
        };
        if self.ordered { base } else { base | 0x80 }
    }
    fn reliability_param(&self) -> u32 {
        match self.reliability {
            Reliability::Reliable => 0,
            Reliability::MaxRetransmits(n) | Reliability::MaxLifetimeMs(n) => n,
        }
    }
    fn send_options(&self, acked: bool) -> SendOptions {
        SendOptions {
            // RFC 8832 section 6: ordered until the DATA_CHANNEL_ACK arrives.
            unordered: !self.ordered && acked,
            max_retransmits: match self.reliability {
                Reliability::MaxRetransmits(n) => Some(n),
                _ => None,
            },
            lifetime: match self.reliability {
                Reliability::MaxLifetimeMs(ms) => Some(Duration::from_millis(u64::from(ms))),
                _ => None,
            },
        }
    }
}

/// A decoded DATA_CHANNEL_OPEN (RFC 8832 section 5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenMessage {
    /// Channel parameters (`negotiated` is `None`).
    pub config: ChannelConfig,
}

impl OpenMessage {
    /// Decodes a DATA_CHANNEL_OPEN; lengths past the payload are an error.
    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        if b.len() < 12 {
            return Err(Error::Truncated {
                what: "DATA_CHANNEL_OPEN",
                need: 12,
                have: b.len(),
            });
        }
        if b.first() != Some(&MSG_OPEN) {
            return Err(Error::InvalidField {
                field: "DCEP message type",
                value: u64::from(*b.first().unwrap_or(&0)),
            });
        }
        let ctype = b.get(1).copied().unwrap_or(0);
        let priority = be16(b, 2).unwrap_or(0);
        let rel = be32(b, 4).unwrap_or(0);
        let ll = usize::from(be16(b, 8).unwrap_or(0));
        let pl = usize::from(be16(b, 10).unwrap_or(0));
        let (Some(label), Some(protocol)) = (b.get(12..12 + ll), b.get(12 + ll..12 + ll + pl))
        else {
            return Err(Error::Truncated {
                what: "DATA_CHANNEL_OPEN label/protocol",
                need: 12 + ll + pl,
                have: b.len(),
            });
        };
        let reliability = match ctype & 0x7f {
            0x00 => Reliability::Reliable,
            0x01 => Reliability::MaxRetransmits(rel),
            0x02 => Reliability::MaxLifetimeMs(rel),
            other => {
                return Err(Error::InvalidField {
                    field: "DCEP channel type",
                    value: u64::from(other),
                });
            }
        };
        Ok(OpenMessage {
            config: ChannelConfig {
                label: String::from_utf8_lossy(label).into_owned(),
                protocol: String::from_utf8_lossy(protocol).into_owned(),
                ordered: ctype & 0x80 == 0,
                reliability,
                priority,
                negotiated: None,
            },
        })
    }

    /// Encodes.
    pub fn emit(&self) -> Vec<u8> {
        let c = &self.config;
        let label = c.label.as_bytes();
        let proto = c.protocol.as_bytes();
        let ll = label.len().min(usize::from(u16::MAX));
        let pl = proto.len().min(usize::from(u16::MAX));
        let mut v = Vec::with_capacity(12 + ll + pl);
        v.push(MSG_OPEN);
        v.push(c.channel_type());
        v.extend_from_slice(&c.priority.to_be_bytes());
        v.extend_from_slice(&c.reliability_param().to_be_bytes());
        v.extend_from_slice(&(ll as u16).to_be_bytes());
        v.extend_from_slice(&(pl as u16).to_be_bytes());
        v.extend_from_slice(label.get(..ll).unwrap_or(&[]));
        v.extend_from_slice(proto.get(..pl).unwrap_or(&[]));
        v
    }
}

/// Our DTLS role, which decides stream id parity (RFC 8832 section 6: the DTLS client uses
/// even stream ids, the server odd ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// DTLS client: even ids.
    Client,
    /// DTLS server: odd ids.
    Server,
}

/// A data channel event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataChannelEvent {
    /// The SCTP association is up.
    Connected,
    /// A channel is open (the peer opened it, or our OPEN was acknowledged, or negotiated).
    ChannelOpen {
        /// Stream id.
        id: u16,
        /// Label.
        label: String,
        /// Sub-protocol.
        protocol: String,
    },
    /// A message.
    Message {
        /// Stream id.
        id: u16,
        /// Binary (false: string).
        binary: bool,
        /// Payload (empty for PPIDs 56/57).
        data: Bytes,
    },
    /// The channel's buffered amount fell to its low threshold.
    BufferedAmountLow {
        /// Stream id.
        id: u16,
    },
    /// The channel is closed in both directions; its id may be reused.
    ChannelClosed {
        /// Stream id.
        id: u16,
    },
    /// A DCEP message was malformed or broke the rules; the stream was reset.
    ChannelError {
        /// Stream id.
        id: u16,
        /// What was wrong.
        error: Error,
    },
    /// The association closed.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

#[derive(Debug)]
struct Channel {
    config: ChannelConfig,
    acked: bool,
    closing: bool,
    out_reset: bool,
    in_reset: bool,
}

/// Data channels over one SCTP association.
#[derive(Debug)]
pub struct DataChannels {
    assoc: Association,
    role: DtlsRole,
    channels: BTreeMap<u16, Channel>,
    events: VecDeque<DataChannelEvent>,
}

impl DataChannels {
    /// Creates the association (see [`Association::new`]).
    pub fn new(config: Config, role: DtlsRole, now: Instant) -> Self {
        DataChannels {
            assoc: Association::new(config, now),
            role,
            channels: BTreeMap::new(),
            events: VecDeque::new(),
        }
    }

    /// The association.
    pub fn association(&self) -> &Association {
        &self.assoc
    }

    /// The association, mutable (for tests and advanced use).
    pub fn association_mut(&mut self) -> &mut Association {
        &mut self.assoc
    }

    /// Sends INIT (both WebRTC peers may do so).
    pub fn connect(&mut self, now: Instant) -> Result<(), Error> {
        self.assoc.connect(now)
    }

    /// Feeds one SCTP packet (DTLS application data).
    pub fn handle_receive(&mut self, now: Instant, packet: &[u8]) {
        self.assoc.handle_receive(now, packet);
        self.pump(now);
    }

    /// Handles expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.assoc.handle_timeout(now);
        self.pump(now);
    }

    /// Next SCTP packet to send through DTLS.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.assoc.poll_transmit()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<DataChannelEvent> {
        self.events.pop_front()
    }

    /// Earliest timer.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.assoc.poll_timeout()
    }

    /// Opens a channel; returns its stream id. With `negotiated: Some(id)` no DCEP is sent.
    pub fn open(&mut self, now: Instant, config: ChannelConfig) -> Result<u16, Error> {
        let id = match config.negotiated {
            Some(id) => {
                if self.channels.contains_key(&id) {
                    return Err(Error::DataChannel {
                        what: "stream id already in use",
                    });
                }
                id
            }
            None => self.free_id()?,
        };
        if let Some(n) = config.negotiated {
            self.channels.insert(
                n,
                Channel {
                    config: config.clone(),
                    acked: true,
                    closing: false,
                    out_reset: false,
                    in_reset: false,
                },
            );
            self.events.push_back(DataChannelEvent::ChannelOpen {
                id,
                label: config.label,
                protocol: config.protocol,
            });
            return Ok(id);
        }
        let open = OpenMessage {
            config: config.clone(),
        }
        .emit();
        self.assoc.send(
            now,
            id,
            ppid::DCEP,
            Bytes::from(open),
            SendOptions::default(),
        )?;
        self.channels.insert(
            id,
            Channel {
                config,
                acked: false,
                closing: false,
                out_reset: false,
                in_reset: false,
            },
        );
        Ok(id)
    }

    fn free_id(&self) -> Result<u16, Error> {
        let max = match self.assoc.outbound_streams() {
            0 => self.assoc.config().num_streams,
            n => n,
        };
        let mut id: u16 = if self.role == DtlsRole::Client { 0 } else { 1 };
        while id < max {
            if !self.channels.contains_key(&id) {
                return Ok(id);
            }
            id = id.checked_add(2).ok_or(Error::DataChannel {
                what: "no free stream id",
            })?;
        }
        Err(Error::DataChannel {
            what: "no free stream id",
        })
    }

    /// Sends a string message (PPID 51, or 56 when empty).
    pub fn send_text(&mut self, now: Instant, id: u16, text: &str) -> Result<(), Error> {
        self.send_with(now, id, false, Bytes::copy_from_slice(text.as_bytes()))
    }

    /// Sends a binary message (PPID 53, or 57 when empty).
    pub fn send_binary(&mut self, now: Instant, id: u16, data: Bytes) -> Result<(), Error> {
        self.send_with(now, id, true, data)
    }

    fn send_with(&mut self, now: Instant, id: u16, binary: bool, data: Bytes) -> Result<(), Error> {
        let ch = self.channels.get(&id).ok_or(Error::DataChannel {
            what: "no such channel",
        })?;
        if ch.closing {
            return Err(Error::DataChannel {
                what: "channel is closing",
            });
        }
        let opts = ch.config.send_options(ch.acked);
        let (p, data) = match (binary, data.is_empty()) {
            // RFC 8831 section 6.6: an empty message is sent as one zero octet.
            (false, true) => (ppid::STRING_EMPTY, Bytes::from_static(&[0])),
            (true, true) => (ppid::BINARY_EMPTY, Bytes::from_static(&[0])),
            (false, false) => (ppid::STRING, data),
            (true, false) => (ppid::BINARY, data),
        };
        self.assoc.send(now, id, p, data, opts)
    }

    /// Closes a channel by resetting its outgoing stream (RFC 8831 section 6.7).
    pub fn close(&mut self, now: Instant, id: u16) -> Result<(), Error> {
        let ch = self.channels.get_mut(&id).ok_or(Error::DataChannel {
            what: "no such channel",
        })?;
        if ch.closing {
            return Ok(());
        }
        ch.closing = true;
        self.assoc.reset_streams(now, &[id])
    }

    /// Octets queued and not yet sent on channel `id` (bufferedAmount).
    pub fn buffered_amount(&self, id: u16) -> usize {
        self.assoc.buffered_amount(id)
    }

    /// Sets the bufferedAmountLowThreshold of channel `id`.
    pub fn set_buffered_amount_low_threshold(&mut self, id: u16, threshold: usize) {
        self.assoc.set_buffered_amount_low_threshold(id, threshold);
    }

    /// Whether channel `id` exists and is not closing.
    pub fn is_open(&self, id: u16) -> bool {
        self.channels.get(&id).is_some_and(|c| !c.closing)
    }

    fn peer_parity_ok(&self, id: u16) -> bool {
        // The peer opens ids of the other parity.
        match self.role {
            DtlsRole::Client => id % 2 == 1,
            DtlsRole::Server => id.is_multiple_of(2),
        }
    }

    fn pump(&mut self, now: Instant) {
        while let Some(e) = self.assoc.poll_event() {
            match e {
                Event::Connected => self.events.push_back(DataChannelEvent::Connected),
                Event::Message {
                    stream, ppid, data, ..
                } => self.on_message(now, stream, ppid, data),
                Event::BufferedAmountLow { stream } if self.channels.contains_key(&stream) => {
                    self.events
                        .push_back(DataChannelEvent::BufferedAmountLow { id: stream });
                }
                Event::BufferedAmountLow { .. } => {}
                Event::IncomingStreamsReset { streams } => {
                    for id in streams {
                        let Some(ch) = self.channels.get_mut(&id) else {
                            continue;
                        };
                        ch.in_reset = true;
                        if !ch.closing {
                            // The peer closed: reset our side too (RFC 8831 section 6.7).
                            ch.closing = true;
                            let _ = self.assoc.reset_streams(now, &[id]);
                        }
                        self.maybe_closed(id);
                    }
                }
                Event::OutgoingStreamsReset { streams } => {
                    for id in streams {
                        if let Some(ch) = self.channels.get_mut(&id) {
                            ch.out_reset = true;
                            self.maybe_closed(id);
                        }
                    }
                }
                Event::Restarted => {
                    // The peer's association is new: none of its channels exist any more.
                    let mut ids: Vec<u16> = self.channels.keys().copied().collect();
                    ids.sort_unstable();
                    self.channels.clear();
                    for id in ids {
                        self.events
                            .push_back(DataChannelEvent::ChannelClosed { id });
                    }
                }
                Event::Closed { reason } => {
                    self.channels.clear();
                    self.events.push_back(DataChannelEvent::Closed { reason });
                }
            }
        }
    }

    fn maybe_closed(&mut self, id: u16) {
        if self
            .channels
            .get(&id)
            .is_some_and(|c| c.in_reset && c.out_reset)
        {
            self.channels.remove(&id);
            self.events
                .push_back(DataChannelEvent::ChannelClosed { id });
        }
    }

    fn on_message(&mut self, now: Instant, id: u16, p: u32, data: Bytes) {
        match p {
            ppid::DCEP => self.on_dcep(now, id, &data),
            ppid::STRING | ppid::STRING_PARTIAL | ppid::BINARY | ppid::BINARY_PARTIAL => {
                if let Some(ch) = self.channels.get_mut(&id) {
                    // Receiving data implies the peer got our OPEN (RFC 8832 section 6).
                    ch.acked = true;
                    let binary = p == ppid::BINARY || p == ppid::BINARY_PARTIAL;
                    self.events
                        .push_back(DataChannelEvent::Message { id, binary, data });
                }
            }
            ppid::STRING_EMPTY | ppid::BINARY_EMPTY if self.channels.contains_key(&id) => {
                self.events.push_back(DataChannelEvent::Message {
                    id,
                    binary: p == ppid::BINARY_EMPTY,
                    data: Bytes::new(),
                });
            }
            _ => {}
        }
    }

    fn on_dcep(&mut self, now: Instant, id: u16, data: &[u8]) {
        match data.first() {
            Some(&MSG_OPEN) => {
                if !self.peer_parity_ok(id) {
                    self.reject(
                        now,
                        id,
                        Error::DataChannel {
                            what: "DATA_CHANNEL_OPEN on a stream id of our parity",
                        },
                    );
                    return;
                }
                if self.channels.contains_key(&id) {
                    self.events.push_back(DataChannelEvent::ChannelError {
                        id,
                        error: Error::DataChannel {
                            what: "DATA_CHANNEL_OPEN for an open stream",
                        },
                    });
                    return;
                }
                match OpenMessage::parse(data) {
                    Ok(m) => {
                        let ack = Bytes::from_static(&[MSG_ACK]);
                        if self
                            .assoc
                            .send(now, id, ppid::DCEP, ack, SendOptions::default())
                            .is_err()
                        {
                            return;
                        }
                        let c = m.config;
                        self.events.push_back(DataChannelEvent::ChannelOpen {
                            id,
                            label: c.label.clone(),
                            protocol: c.protocol.clone(),
                        });
                        self.channels.insert(
                            id,
                            Channel {
                                config: c,
                                acked: true,
                                closing: false,
                                out_reset: false,
                                in_reset: false,
                            },
                        );
                    }
                    Err(e) => self.reject(now, id, e),
                }
            }
            Some(&MSG_ACK) => {
                if let Some(ch) = self.channels.get_mut(&id)
                    && !ch.acked
                {
                    ch.acked = true;
                    let (label, protocol) = (ch.config.label.clone(), ch.config.protocol.clone());
                    self.events.push_back(DataChannelEvent::ChannelOpen {
                        id,
                        label,
                        protocol,
                    });
                }
            }
            _ => {}
        }
    }

    fn reject(&mut self, now: Instant, id: u16, error: Error) {
        self.events
            .push_back(DataChannelEvent::ChannelError { id, error });
        if id < self.assoc.outbound_streams() {
            let _ = self.assoc.reset_streams(now, &[id]);
        }
    }
}
