//! The DTLS 1.2 endpoint: one state machine for both roles (RFC 6347 §4.2, RFC 5246 §7).
//!
//! Call order, as everywhere in sansrtc: feed `handle_receive` / `handle_timeout` and
//! commands, then drain `poll_transmit`, `poll_event`, and finally read `poll_timeout`.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::cert::{Fingerprint, PublicKey, parse_public_key};
use crate::config::{
    CipherSuite, Config, NamedGroup, PeerVerification, Role, SignatureScheme, SrtpProfile,
};
use crate::crypto::{self, Backend, KeyShareSecret, RecordCipher};
use crate::reassembly::Reassembler;
use crate::wire::handshake::{
    self as hs, CertificateRequest, ClientHello, Extension, Fragment, HANDSHAKE_HEADER_LEN,
    HandshakeMessage, HandshakeType, HelloVerifyRequest, ServerHello, ServerKeyExchange, ext,
};
use crate::wire::record::{ContentType, DTLS_1_0, DTLS_1_2, RECORD_HEADER_LEN, Record};
use crate::{AlertDescription, Error};

/// Largest record plaintext (RFC 5246 §6.2.1).
pub const MAX_PLAINTEXT: usize = 1 << 14;

/// The RFC 5764 §4.2 exporter label.
pub const SRTP_EXPORTER_LABEL: &[u8] = b"EXTRACTOR-dtls_srtp";

/// A datagram to send to the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The datagram.
    pub payload: Bytes,
}

/// What the handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The SRTP profile, if use_srtp was negotiated.
    pub srtp_profile: Option<SrtpProfile>,
    /// RFC 5764 §4.2 keying material for that profile (empty without use_srtp):
    /// client key | server key | client salt | server salt.
    pub keying_material: Vec<u8>,
    /// SHA-256 fingerprint of the peer's certificate.
    pub peer_fingerprint: Fingerprint,
    /// The cipher suite.
    pub cipher_suite: CipherSuite,
    /// The ECDHE group.
    pub group: NamedGroup,
}

/// Something the application must know.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake finished.
    Connected(Connected),
    /// Application data from the peer.
    ApplicationData(Bytes),
    /// The connection is over; no more events follow.
    Closed {
        /// Why. `Error::Closed` when we closed it ourselves.
        reason: Error,
    },
}

/// Counters, for diagnostics; bad datagrams are counted here and dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams given to `handle_receive`.
    pub datagrams_received: u64,
    /// Records accepted.
    pub records_received: u64,
    /// Records dropped (malformed, bad MAC, replay, wrong epoch, ...).
    pub records_dropped: u64,
    /// Records that failed authentication.
    pub bad_mac: u64,
    /// Replayed records.
    pub replays: u64,
    /// Flights retransmitted (timer or peer retransmission).
    pub retransmissions: u64,
    /// Datagrams produced.
    pub datagrams_sent: u64,
    /// Application data dropped because the event queue was full.
    pub events_dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Client: sent ClientHello, waiting for HelloVerifyRequest or ServerHello.
    ClientHello,
    /// Client: got ServerHello, waiting for Certificate.
    ClientCertificate,
    /// Client: waiting for ServerKeyExchange.
    ClientKeyExchange,
    /// Client: waiting for CertificateRequest or ServerHelloDone.
    ClientHelloDone,
    /// Client: sent flight 5, waiting for ChangeCipherSpec + Finished.
    ClientFinished,
    /// Server: waiting for ClientHello.
    ServerHello,
    /// Server: sent flight 4, waiting for the client's Certificate.
    ServerCertificate,
    /// Server: waiting for ClientKeyExchange.
    ServerKeyExchange,
    /// Server: waiting for CertificateVerify.
    ServerVerify,
    /// Server: waiting for ChangeCipherSpec + Finished.
    ServerFinished,
    Connected,
    Closed,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            Self::ClientHello => "client waiting for ServerHello",
            Self::ClientCertificate => "client waiting for Certificate",
            Self::ClientKeyExchange => "client waiting for ServerKeyExchange",
            Self::ClientHelloDone => "client waiting for ServerHelloDone",
            Self::ClientFinished => "client waiting for Finished",
            Self::ServerHello => "server waiting for ClientHello",
            Self::ServerCertificate => "server waiting for Certificate",
            Self::ServerKeyExchange => "server waiting for ClientKeyExchange",
            Self::ServerVerify => "server waiting for CertificateVerify",
            Self::ServerFinished => "server waiting for Finished",
            Self::Connected => "connected",
            Self::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone)]
enum FlightItem {
    Handshake { msg: HandshakeMessage, epoch: u16 },
    ChangeCipherSpec,
}

/// A 64-record sliding replay window (RFC 6347 §4.1.2.6).
#[derive(Debug, Clone, Copy, Default)]
struct ReplayWindow {
    max: Option<u64>,
    bits: u64,
}

impl ReplayWindow {
    fn check(&self, seq: u64) -> bool {
        match self.max {
            None => true,
            Some(max) if seq > max => true,
            Some(max) => {
                let d = max - seq;
                d < 64 && self.bits & (1u64 << d) == 0
            }
        }
    }
    fn mark(&mut self, seq: u64) {
        match self.max {
            None => {
                self.max = Some(seq);
                self.bits = 1;
            }
            Some(max) if seq > max => {
                let shift = seq - max;
                self.bits = if shift >= 64 {
                    1
                } else {
                    (self.bits << shift) | 1
                };
                self.max = Some(seq);
            }
            Some(max) => {
                let d = max - seq;
                if d < 64 {
                    self.bits |= 1u64 << d;
                }
            }
        }
    }
}

/// A DTLS 1.2 endpoint, client or server. One per peer.
pub struct Endpoint {
    cfg: Config,
    backend: Box<dyn Backend>,
    state: State,
    stats: Stats,

    write_epoch: u16,
    write_seq: [u64; 2],
    pub(crate) write_cipher: Option<RecordCipher>,
    read_epoch: u16,
    read_cipher: Option<RecordCipher>,
    replay: [ReplayWindow; 2],
    ccs_received: bool,

    next_send_seq: u16,
    next_recv_seq: u16,
    reasm: Reassembler,
    transcript: Vec<u8>,
    peer_flight_start: Option<u16>,

    client_random: [u8; 32],
    server_random: [u8; 32],
    cookie_secret: [u8; 32],
    suite: Option<CipherSuite>,
    group: Option<NamedGroup>,
    srtp_profile: Option<SrtpProfile>,
    ems: bool,
    secure_renegotiation: bool,
    key_share: Option<KeyShareSecret>,
    pms: Vec<u8>,
    our_public: Vec<u8>,
    master: Vec<u8>,
    peer_cert: Option<Vec<u8>>,
    peer_key: Option<PublicKey>,
    cert_requested: bool,
    client_hello: Option<ClientHello>,
    expected_finished: Vec<u8>,

    last_flight: Vec<FlightItem>,
    retransmit_at: Option<Instant>,
    rto: Duration,
    retries: u32,

    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("role", &self.cfg.role)
            .field("state", &self.state)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

fn ext_list(exts: &[(u16, Vec<u8>)]) -> Vec<Extension> {
    exts.iter()
        .map(|(t, d)| Extension {
            typ: *t,
            data: d.clone(),
        })
        .collect()
}

impl Endpoint {
    /// A new endpoint. A client queues its ClientHello at once.
    pub fn new(config: Config, now: Instant) -> Result<Self, Error> {
        if config.mtu < 256 {
            return Err(Error::Config("mtu below 256"));
        }
        if config.cipher_suites.is_empty() || config.groups.is_empty() {
            return Err(Error::Config("no cipher suite or group"));
        }
        let mut backend = crypto::backend(config.crypto, config.seed);
        let mut client_random = [0u8; 32];
        let mut cookie_secret = [0u8; 32];
        backend.fill(&mut client_random);
        backend.fill(&mut cookie_secret);
        let reasm = Reassembler::new(
            config.max_handshake_message_len,
            config.max_reassembly_bytes,
            config.max_buffered_messages.max(1),
        );
        let role = config.role;
        let rto = config.initial_rto;
        let mut ep = Self {
            cfg: config,
            backend,
            state: if role == Role::Client {
                State::ClientHello
            } else {
                State::ServerHello
            },
            stats: Stats::default(),
            write_epoch: 0,
            write_seq: [0; 2],
            write_cipher: None,
            read_epoch: 0,
            read_cipher: None,
            replay: [ReplayWindow::default(); 2],
            ccs_received: false,
            next_send_seq: 0,
            next_recv_seq: 0,
            reasm,
            transcript: Vec::new(),
            peer_flight_start: None,
            client_random,
            server_random: [0; 32],
            cookie_secret,
            suite: None,
            group: None,
            srtp_profile: None,
            ems: false,
            secure_renegotiation: false,
            key_share: None,
            pms: Vec::new(),
            our_public: Vec::new(),
            master: Vec::new(),
            peer_cert: None,
            peer_key: None,
            cert_requested: false,
            client_hello: None,
            expected_finished: Vec::new(),
            last_flight: Vec::new(),
            retransmit_at: None,
            rto,
            retries: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        if role == Role::Client {
            let ch = ep.build_client_hello(Vec::new());
            ep.send_client_hello(ch, now)?;
        }
        Ok(ep)
    }

    // ---- getters ----

    /// Our role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.cfg.role
    }

    /// Whether the handshake finished and the connection is open.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether the connection is closed.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The negotiated cipher suite, once known.
    #[must_use]
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.suite
    }

    /// RFC 5705 exporter (no context) once connected.
    pub fn export_keying_material(&self, label: &[u8], len: usize) -> Result<Vec<u8>, Error> {
        let suite = self
            .suite
            .ok_or(Error::InvalidState("exporter before the handshake"))?;
        if self.state != State::Connected {
            return Err(Error::InvalidState("exporter before the handshake"));
        }
        Ok(crypto::export(
            suite.sha384(),
            &self.master,
            label,
            &self.client_random,
            &self.server_random,
            len,
        ))
    }

    // ---- inputs ----

    /// Feed one datagram from the peer. Bad records are dropped and counted, and the first
    /// error is returned; a fatal error also closes the connection with an alert.
    pub fn handle_receive(&mut self, now: Instant, datagram: &[u8]) -> Result<(), Error> {
        self.stats.datagrams_received += 1;
        if self.state == State::Closed {
            return Err(Error::Closed);
        }
        let (records, parse_err) = Record::parse_datagram(datagram);
        let mut first_err = None;
        for rec in records {
            if self.state == State::Closed {
                break;
            }
            if let Err(e) = self.handle_record(now, &rec) {
                self.stats.records_dropped += 1;
                if first_err.is_none() {
                    first_err = Some(e);
                }
            } else {
                self.stats.records_received += 1;
            }
        }
        if let Some(e) = parse_err {
            self.stats.records_dropped += 1;
            first_err.get_or_insert(e);
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Time passed: retransmit the last flight or give up (RFC 6347 §4.2.4).
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(at) = self.retransmit_at else { return };
        if now < at {
            return;
        }
        self.retries += 1;
        if self.retries > self.cfg.max_retransmissions {
            self.fail(Error::HandshakeTimeout);
            return;
        }
        self.rto = (self.rto * 2).min(self.cfg.max_rto);
        self.stats.retransmissions += 1;
        self.emit_flight();
        self.retransmit_at = Some(now + self.rto);
    }

    // ---- commands ----

    /// Queue application data as one record (at most 16 KiB).
    pub fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.state != State::Connected {
            return Err(Error::InvalidState("send before the handshake finished"));
        }
        if data.len() > MAX_PLAINTEXT {
            return Err(Error::MessageTooLarge {
                len: data.len(),
                cap: MAX_PLAINTEXT,
            });
        }
        if self.transmits.len() >= self.cfg.max_queued_transmits {
            return Err(Error::InvalidState("transmit queue full"));
        }
        let rec = self.seal_record(ContentType::ApplicationData, 1, data)?;
        self.push_datagram(rec);
        Ok(())
    }

    /// Close with close_notify (RFC 5246 §7.2.1).
    pub fn close(&mut self) {
        if self.state == State::Closed {
            return;
        }
        self.send_alert(false, AlertDescription::CloseNotify);
        self.state = State::Closed;
        self.retransmit_at = None;
        self.events.push_back(Event::Closed {
            reason: Error::Closed,
        });
    }

    // ---- outputs ----

    /// Next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` wants to be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.retransmit_at
    }

    // ---- record layer ----

    fn handle_record(&mut self, now: Instant, rec: &Record<'_>) -> Result<(), Error> {
        let idx = match rec.epoch {
            0 => 0usize,
            1 if self.read_cipher.is_some() => 1,
            e => {
                return Err(Error::UnexpectedEpoch {
                    got: e,
                    expected: self.read_epoch,
                });
            }
        };
        if !self.replay.get(idx).is_some_and(|w| w.check(rec.seq)) {
            self.stats.replays += 1;
            return Err(Error::Replay);
        }
        let plaintext = if idx == 0 {
            rec.fragment.to_vec()
        } else {
            let c = self.read_cipher.as_ref().ok_or(Error::UnexpectedEpoch {
                got: 1,
                expected: 0,
            })?;
            match c.open(
                rec.epoch,
                rec.seq,
                rec.content_type.as_u8(),
                rec.version,
                rec.fragment,
            ) {
                Ok(p) => p,
                Err(e) => {
                    self.stats.bad_mac += 1;
                    return Err(e);
                }
            }
        };
        if plaintext.len() > MAX_PLAINTEXT {
            return Err(Error::MessageTooLarge {
                len: plaintext.len(),
                cap: MAX_PLAINTEXT,
            });
        }
        if let Some(w) = self.replay.get_mut(idx) {
            w.mark(rec.seq);
        }
        match rec.content_type {
            ContentType::Handshake => self.handle_handshake_record(now, rec.epoch, &plaintext),
            ContentType::ChangeCipherSpec => self.handle_ccs(now, rec.epoch, &plaintext),
            ContentType::Alert => self.handle_alert(&plaintext),
            ContentType::ApplicationData => {
                if rec.epoch == 0 || self.state != State::Connected {
                    return Err(Error::UnexpectedMessage {
                        got: "application_data",
                        state: self.state.name(),
                    });
                }
                if self.events.len() >= self.cfg.max_queued_events {
                    self.stats.events_dropped += 1;
                    return Ok(());
                }
                self.events
                    .push_back(Event::ApplicationData(Bytes::from(plaintext)));
                Ok(())
            }
        }
    }

    fn handle_alert(&mut self, p: &[u8]) -> Result<(), Error> {
        let [level, desc] = p else {
            return Err(Error::Truncated {
                what: "alert",
                need: 2,
                have: p.len(),
            });
        };
        let desc = AlertDescription::from_code(*desc);
        if desc == AlertDescription::CloseNotify {
            self.send_alert(false, AlertDescription::CloseNotify);
            self.close_with(Error::PeerClosed);
        } else if *level == 2 {
            self.close_with(Error::PeerAlert(desc));
        }
        Ok(())
    }

    fn handle_ccs(&mut self, now: Instant, epoch: u16, p: &[u8]) -> Result<(), Error> {
        if p != [1] {
            return Err(Error::InvalidField {
                field: "change_cipher_spec",
                value: p.first().copied().unwrap_or(0).into(),
            });
        }
        if epoch != 0 {
            return Err(Error::UnexpectedEpoch {
                got: epoch,
                expected: 0,
            });
        }
        let handshaking = !matches!(self.state, State::Connected | State::Closed);
        if handshaking && self.read_cipher.is_some() && !self.ccs_received {
            self.ccs_received = true;
            self.read_epoch = 1;
            return self.process_messages(now);
        }
        // A retransmitted CCS (our last flight was lost) or one before the keys: ignore.
        Ok(())
    }

    fn handle_handshake_record(&mut self, now: Instant, epoch: u16, p: &[u8]) -> Result<(), Error> {
        let frags = Fragment::parse_all(p)?;
        let mut first_err = None;
        for f in &frags {
            if let Err(e) = self.handle_fragment(now, epoch, f) {
                first_err.get_or_insert(e);
            }
        }
        let r = self.process_messages(now);
        match (first_err, r) {
            (Some(e), _) | (None, Err(e)) => Err(e),
            (None, Ok(())) => Ok(()),
        }
    }

    fn handle_fragment(
        &mut self,
        _now: Instant,
        epoch: u16,
        f: &Fragment<'_>,
    ) -> Result<(), Error> {
        if self.state == State::Connected && epoch == 1 {
            // Renegotiation attempts (RFC 5746 §4.2/§4.4): refuse with a warning alert.
            let reneg = match self.cfg.role {
                Role::Server => f.msg_type == HandshakeType::ClientHello,
                Role::Client => f.msg_type == HandshakeType::HelloRequest,
            };
            if reneg {
                self.send_alert(false, AlertDescription::NoRenegotiation);
                return Err(Error::Renegotiation);
            }
        }
        // A new ClientHello may restart numbering: the server follows the client's
        // message_seq (RFC 6347 §4.2.2, after a HelloVerifyRequest).
        if self.state == State::ServerHello
            && f.msg_type == HandshakeType::ClientHello
            && f.message_seq > self.next_recv_seq
            && f.message_seq - self.next_recv_seq < self.cfg.max_buffered_messages
            && self.reasm.peek_complete(self.next_recv_seq).is_none()
        {
            self.reasm.clear();
            self.next_recv_seq = f.message_seq;
        }
        if f.message_seq < self.next_recv_seq {
            // The peer retransmitted a flight we already processed: our answer was lost.
            if Some(f.message_seq) == self.peer_flight_start
                && f.offset == 0
                && !self.last_flight.is_empty()
            {
                self.stats.retransmissions += 1;
                self.emit_flight();
            }
            return Ok(());
        }
        if self.state == State::Connected || self.state == State::Closed {
            return Err(Error::UnexpectedMessage {
                got: f.msg_type.name(),
                state: self.state.name(),
            });
        }
        self.reasm.insert(f, epoch, self.next_recv_seq)
    }

    /// Hand complete in-order messages to the state machine.
    fn process_messages(&mut self, now: Instant) -> Result<(), Error> {
        loop {
            if matches!(self.state, State::Connected | State::Closed) {
                return Ok(());
            }
            let Some((typ, epoch)) = self.reasm.peek_complete(self.next_recv_seq) else {
                return Ok(());
            };
            let expected_epoch = u16::from(typ == HandshakeType::Finished);
            // Finished must follow the peer's ChangeCipherSpec; wait for it.
            if epoch == expected_epoch && typ == HandshakeType::Finished && !self.ccs_received {
                return Ok(());
            }
            let Some((msg, _)) = self.reasm.take(self.next_recv_seq) else {
                return Ok(());
            };
            self.next_recv_seq = self.next_recv_seq.wrapping_add(1);
            let r = if epoch != expected_epoch {
                Err(Error::UnexpectedEpoch {
                    got: epoch,
                    expected: expected_epoch,
                })
            } else {
                self.handle_message(now, &msg)
            };
            if let Err(e) = r {
                self.fail(e.clone());
                return Err(e);
            }
        }
    }

    fn unexpected(&self, msg: &HandshakeMessage) -> Error {
        Error::UnexpectedMessage {
            got: msg.msg_type.name(),
            state: self.state.name(),
        }
    }

    fn handle_message(&mut self, now: Instant, msg: &HandshakeMessage) -> Result<(), Error> {
        use HandshakeType as T;
        match (self.state, msg.msg_type) {
            (State::ClientHello, T::HelloVerifyRequest) => self.client_on_hvr(now, msg),
            (State::ClientHello, T::ServerHello) => self.client_on_server_hello(msg),
            (State::ClientCertificate, T::Certificate) => {
                self.on_peer_certificate(msg, State::ClientKeyExchange)
            }
            (State::ClientKeyExchange, T::ServerKeyExchange) => self.client_on_ske(msg),
            (State::ClientHelloDone, T::CertificateRequest) => self.client_on_cert_request(msg),
            (State::ClientHelloDone, T::ServerHelloDone) => self.client_on_hello_done(now, msg),
            (State::ClientFinished, T::Finished) => self.on_finished(msg),
            (State::ServerHello, T::ClientHello) => self.server_on_client_hello(now, msg),
            (State::ServerCertificate, T::Certificate) => {
                self.peer_flight_start = Some(msg.message_seq);
                self.on_peer_certificate(msg, State::ServerKeyExchange)
            }
            (State::ServerKeyExchange, T::ClientKeyExchange) => self.server_on_cke(msg),
            (State::ServerVerify, T::CertificateVerify) => self.server_on_cert_verify(msg),
            (State::ServerFinished, T::Finished) => self.on_finished(msg),
            _ => Err(self.unexpected(msg)),
        }
    }

    // ---- client ----

    fn build_client_hello(&mut self, cookie: Vec<u8>) -> ClientHello {
        let mut exts: Vec<(u16, Vec<u8>)> = Vec::new();
        let groups: Vec<u16> = self.cfg.groups.iter().map(|g| g.code()).collect();
        exts.push((ext::SUPPORTED_GROUPS, hs::encode_u16_list(&groups)));
        exts.push((ext::EC_POINT_FORMATS, vec![1, 0]));
        let schemes: Vec<u16> = SignatureScheme::ALL.iter().map(|s| s.code()).collect();
        exts.push((ext::SIGNATURE_ALGORITHMS, hs::encode_u16_list(&schemes)));
        if !self.cfg.srtp_profiles.is_empty() {
            let p: Vec<u16> = self.cfg.srtp_profiles.iter().map(|p| p.code()).collect();
            exts.push((ext::USE_SRTP, hs::encode_use_srtp(&p)));
        }
        exts.push((ext::EXTENDED_MASTER_SECRET, Vec::new()));
        exts.push((ext::RENEGOTIATION_INFO, vec![0]));
        ClientHello {
            version: DTLS_1_2,
            random: self.client_random,
            session_id: Vec::new(),
            cookie,
            cipher_suites: self.cfg.cipher_suites.iter().map(|s| s.code()).collect(),
            compression_methods: vec![0],
            extensions: ext_list(&exts),
        }
    }

    fn send_client_hello(&mut self, ch: ClientHello, now: Instant) -> Result<(), Error> {
        let msg = self.next_message(HandshakeType::ClientHello, ch.to_vec());
        self.transcript.clear();
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        self.client_hello = Some(ch);
        self.start_flight(vec![FlightItem::Handshake { msg, epoch: 0 }], now, true);
        Ok(())
    }

    fn client_on_hvr(&mut self, now: Instant, msg: &HandshakeMessage) -> Result<(), Error> {
        let hvr = HelloVerifyRequest::parse(&msg.body)?;
        if hvr.cookie.len() > 255 {
            return Err(Error::InvalidField {
                field: "cookie length",
                value: hvr.cookie.len() as u64,
            });
        }
        let ch = self.build_client_hello(hvr.cookie);
        // Neither the first ClientHello nor the HelloVerifyRequest is in the transcript
        // (RFC 6347 §4.2.1).
        self.send_client_hello(ch, now)
    }

    fn client_on_server_hello(&mut self, msg: &HandshakeMessage) -> Result<(), Error> {
        let sh = ServerHello::parse(&msg.body)?;
        self.peer_flight_start = Some(msg.message_seq);
        if sh.version != DTLS_1_2 {
            return Err(Error::InvalidField {
                field: "server_version",
                value: sh.version.into(),
            });
        }
        let suite = CipherSuite::from_code(sh.cipher_suite)
            .filter(|s| self.cfg.cipher_suites.contains(s))
            .ok_or(Error::InvalidField {
                field: "cipher_suite",
                value: sh.cipher_suite.into(),
            })?;
        if sh.compression_method != 0 {
            return Err(Error::InvalidField {
                field: "compression_method",
                value: sh.compression_method.into(),
            });
        }
        let offered = self
            .client_hello
            .as_ref()
            .map(|c| c.extensions.clone())
            .unwrap_or_default();
        for e in &sh.extensions {
            if hs::find_ext(&offered, e.typ).is_none() {
                return Err(Error::InvalidField {
                    field: "unsolicited ServerHello extension",
                    value: e.typ.into(),
                });
            }
        }
        self.ems = hs::find_ext(&sh.extensions, ext::EXTENDED_MASTER_SECRET).is_some();
        if self.cfg.require_extended_master_secret && !self.ems {
            return Err(Error::ExtendedMasterSecretRequired);
        }
        if let Some(ri) = hs::find_ext(&sh.extensions, ext::RENEGOTIATION_INFO) {
            if ri != [0] {
                return Err(Error::Renegotiation);
            }
            self.secure_renegotiation = true;
        }
        if let Some(data) = hs::find_ext(&sh.extensions, ext::USE_SRTP) {
            let (profiles, mki) = hs::parse_use_srtp(data)?;
            let [p] = profiles.as_slice() else {
                return Err(Error::InvalidField {
                    field: "use_srtp profile count",
                    value: profiles.len() as u64,
                });
            };
            let p = SrtpProfile::from_code(*p)
                .filter(|x| self.cfg.srtp_profiles.contains(x))
                .ok_or(Error::InvalidField {
                    field: "use_srtp profile",
                    value: (*p).into(),
                })?;
            if !mki.is_empty() {
                return Err(Error::InvalidField {
                    field: "use_srtp MKI length",
                    value: mki.len() as u64,
                });
            }
            self.srtp_profile = Some(p);
        }
        self.suite = Some(suite);
        self.server_random = sh.random;
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        self.state = State::ClientCertificate;
        Ok(())
    }

    fn on_peer_certificate(&mut self, msg: &HandshakeMessage, next: State) -> Result<(), Error> {
        let chain = hs::parse_certificate(&msg.body)?;
        let leaf = chain.into_iter().next().ok_or(Error::NoCertificate)?;
        let fp = Fingerprint::of(&leaf);
        if let PeerVerification::Fingerprints(list) = &self.cfg.peer_verification {
            if !list.contains(&fp) {
                return Err(Error::FingerprintMismatch);
            }
        }
        let key = parse_public_key(&leaf)?;
        if self.cfg.role == Role::Client {
            let rsa = self.suite.is_some_and(CipherSuite::is_rsa);
            if rsa != matches!(key, PublicKey::Rsa(_)) {
                return Err(Error::BadCertificate(
                    "key type does not match the cipher suite",
                ));
            }
        }
        self.peer_key = Some(key);
        self.peer_cert = Some(leaf);
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        self.state = next;
        Ok(())
    }

    fn client_on_ske(&mut self, msg: &HandshakeMessage) -> Result<(), Error> {
        let ske = ServerKeyExchange::parse(&msg.body)?;
        let group = NamedGroup::from_code(ske.group)
            .filter(|g| self.cfg.groups.contains(g))
            .ok_or(Error::InvalidField {
                field: "ServerKeyExchange group",
                value: ske.group.into(),
            })?;
        let scheme = SignatureScheme::from_code(ske.scheme).ok_or(Error::InvalidField {
            field: "ServerKeyExchange signature scheme",
            value: ske.scheme.into(),
        })?;
        let mut signed = self.client_random.to_vec();
        signed.extend_from_slice(&self.server_random);
        signed.extend_from_slice(&ServerKeyExchange::params(ske.group, &ske.public));
        let key = self.peer_key.as_ref().ok_or(Error::NoCertificate)?;
        self.backend
            .verify(key, scheme, &signed, &ske.signature)
            .map_err(|_| Error::BadSignature("ServerKeyExchange"))?;
        let (secret, public) = self.backend.key_share(group)?;
        let pms = self.backend.agree(secret, &ske.public)?;
        self.group = Some(group);
        self.pms = pms;
        self.our_public = public;
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        self.state = State::ClientHelloDone;
        Ok(())
    }

    fn client_on_cert_request(&mut self, msg: &HandshakeMessage) -> Result<(), Error> {
        let cr = CertificateRequest::parse(&msg.body)?;
        if !cr
            .schemes
            .contains(&SignatureScheme::EcdsaP256Sha256.code())
            || !cr.cert_types.contains(&64)
        {
            return Err(Error::NoCommonParameters(
                "client certificate signature scheme",
            ));
        }
        if self.cert_requested {
            return Err(self.unexpected(msg));
        }
        self.cert_requested = true;
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        Ok(())
    }

    fn client_on_hello_done(&mut self, now: Instant, msg: &HandshakeMessage) -> Result<(), Error> {
        if !msg.body.is_empty() {
            return Err(Error::TrailingBytes {
                what: "ServerHelloDone",
                extra: msg.body.len(),
            });
        }
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        let suite = self.suite.ok_or(Error::InvalidState("no suite"))?;
        let mut flight = Vec::new();
        if self.cert_requested {
            let body = hs::encode_certificate(&[self.cfg.certificate.der()]);
            flight.push(self.add_handshake(HandshakeType::Certificate, body, 0));
        }
        let public = core::mem::take(&mut self.our_public);
        let mut cke = Vec::with_capacity(public.len() + 1);
        cke.push(u8::try_from(public.len()).unwrap_or(0));
        cke.extend_from_slice(&public);
        flight.push(self.add_handshake(HandshakeType::ClientKeyExchange, cke, 0));
        let pms = core::mem::take(&mut self.pms);
        self.derive_keys(suite, &pms)?;
        if self.cert_requested {
            let sig = self.backend.sign(&self.cfg.certificate, &self.transcript)?;
            let body = hs::encode_digitally_signed(SignatureScheme::EcdsaP256Sha256.code(), &sig);
            flight.push(self.add_handshake(HandshakeType::CertificateVerify, body, 0));
        }
        flight.push(FlightItem::ChangeCipherSpec);
        let vd = self.finished_data(suite, b"client finished");
        flight.push(self.add_handshake(HandshakeType::Finished, vd, 1));
        self.expected_finished = self.finished_data(suite, b"server finished");
        self.write_epoch = 1;
        self.state = State::ClientFinished;
        self.start_flight(flight, now, true);
        Ok(())
    }

    // ---- server ----

    fn cookie_for(&self, ch: &ClientHello) -> Vec<u8> {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.cookie_secret);
        let mut ctx = ring::hmac::Context::with_key(&key);
        ctx.update(&ch.random);
        ctx.update(&ch.session_id);
        for s in &ch.cipher_suites {
            ctx.update(&s.to_be_bytes());
        }
        ctx.sign().as_ref().get(..16).unwrap_or_default().to_vec()
    }

    fn server_on_client_hello(
        &mut self,
        now: Instant,
        msg: &HandshakeMessage,
    ) -> Result<(), Error> {
        let ch = ClientHello::parse(&msg.body)?;
        // Client versions are ones' complement: 0xfefd (1.2) and below (1.3 = 0xfefc) are fine.
        if ch.version > DTLS_1_2 {
            return Err(Error::InvalidField {
                field: "client_version",
                value: ch.version.into(),
            });
        }
        if !ch.compression_methods.contains(&0) {
            return Err(Error::NoCommonParameters("compression method"));
        }
        if self.cfg.hello_verify {
            let cookie = self.cookie_for(&ch);
            if ch.cookie != cookie {
                let hvr = HelloVerifyRequest {
                    version: DTLS_1_0,
                    cookie,
                };
                let m = HandshakeMessage {
                    msg_type: HandshakeType::HelloVerifyRequest,
                    message_seq: msg.message_seq,
                    body: hvr.to_vec(),
                };
                // Stateless (RFC 6347 §4.2.1): no timer, the client retransmits.
                let flight = vec![FlightItem::Handshake { msg: m, epoch: 0 }];
                self.last_flight = flight;
                self.emit_flight();
                self.last_flight.clear();
                // Stay stateless: the next ClientHello (any message_seq) starts over.
                self.next_recv_seq = msg.message_seq;
                return Ok(());
            }
        }
        let ecdsa_suite = self
            .cfg
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| !s.is_rsa())
            .find(|s| ch.cipher_suites.contains(&s.code()))
            .ok_or(Error::NoCommonParameters("cipher suite"))?;
        let group = match hs::find_ext(&ch.extensions, ext::SUPPORTED_GROUPS) {
            Some(d) => {
                let offered = hs::parse_u16_list(d, "supported_groups")?;
                self.cfg
                    .groups
                    .iter()
                    .copied()
                    .find(|g| offered.contains(&g.code()))
            }
            None => self.cfg.groups.first().copied(),
        }
        .ok_or(Error::NoCommonParameters("group"))?;
        if let Some(d) = hs::find_ext(&ch.extensions, ext::SIGNATURE_ALGORITHMS) {
            let offered = hs::parse_u16_list(d, "signature_algorithms")?;
            if !offered.contains(&SignatureScheme::EcdsaP256Sha256.code()) {
                return Err(Error::NoCommonParameters("signature scheme"));
            }
        }
        if let Some(d) = hs::find_ext(&ch.extensions, ext::EC_POINT_FORMATS) {
            let mut r = crate::wire::Reader::new(d, "ec_point_formats");
            if !r.vec8()?.contains(&0) {
                return Err(Error::NoCommonParameters("EC point format"));
            }
        }
        self.ems = hs::find_ext(&ch.extensions, ext::EXTENDED_MASTER_SECRET).is_some();
        if self.cfg.require_extended_master_secret && !self.ems {
            return Err(Error::ExtendedMasterSecretRequired);
        }
        match hs::find_ext(&ch.extensions, ext::RENEGOTIATION_INFO) {
            Some([0]) => self.secure_renegotiation = true,
            Some(_) => return Err(Error::Renegotiation),
            None => {
                self.secure_renegotiation = ch
                    .cipher_suites
                    .contains(&hs::TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
            }
        }
        if let Some(d) = hs::find_ext(&ch.extensions, ext::USE_SRTP) {
            let (offered, _mki) = hs::parse_use_srtp(d)?;
            if !self.cfg.srtp_profiles.is_empty() {
                let p = self
                    .cfg
                    .srtp_profiles
                    .iter()
                    .copied()
                    .find(|p| offered.contains(&p.code()))
                    .ok_or(Error::NoCommonParameters("SRTP protection profile"))?;
                self.srtp_profile = Some(p);
            }
        }
        // Accepted: the server's numbering follows the ClientHello it answers.
        self.peer_flight_start = Some(msg.message_seq);
        self.next_send_seq = msg.message_seq;
        self.suite = Some(ecdsa_suite);
        self.group = Some(group);
        self.client_random = ch.random;
        let mut sr = [0u8; 32];
        self.backend.fill(&mut sr);
        self.server_random = sr;
        self.transcript.clear();
        self.transcript.extend_from_slice(&msg.transcript_bytes());

        let mut exts: Vec<(u16, Vec<u8>)> = Vec::new();
        if self.secure_renegotiation {
            exts.push((ext::RENEGOTIATION_INFO, vec![0]));
        }
        if self.ems {
            exts.push((ext::EXTENDED_MASTER_SECRET, Vec::new()));
        }
        if let Some(p) = self.srtp_profile {
            exts.push((ext::USE_SRTP, hs::encode_use_srtp(&[p.code()])));
        }
        if hs::find_ext(&ch.extensions, ext::EC_POINT_FORMATS).is_some() {
            exts.push((ext::EC_POINT_FORMATS, vec![1, 0]));
        }
        let sh = ServerHello {
            version: DTLS_1_2,
            random: self.server_random,
            session_id: Vec::new(),
            cipher_suite: ecdsa_suite.code(),
            compression_method: 0,
            extensions: ext_list(&exts),
        };
        let mut flight = vec![self.add_handshake(HandshakeType::ServerHello, sh.to_vec(), 0)];
        let cert = hs::encode_certificate(&[self.cfg.certificate.der()]);
        flight.push(self.add_handshake(HandshakeType::Certificate, cert, 0));
        let (secret, public) = self.backend.key_share(group)?;
        self.key_share = Some(secret);
        let params = ServerKeyExchange::params(group.code(), &public);
        let mut signed = self.client_random.to_vec();
        signed.extend_from_slice(&self.server_random);
        signed.extend_from_slice(&params);
        let signature = self.backend.sign(&self.cfg.certificate, &signed)?;
        let ske = ServerKeyExchange {
            group: group.code(),
            public,
            scheme: SignatureScheme::EcdsaP256Sha256.code(),
            signature,
        };
        flight.push(self.add_handshake(HandshakeType::ServerKeyExchange, ske.to_vec(), 0));
        let cr = CertificateRequest {
            cert_types: vec![64, 1],
            schemes: SignatureScheme::ALL.iter().map(|s| s.code()).collect(),
            authorities: Vec::new(),
        };
        flight.push(self.add_handshake(HandshakeType::CertificateRequest, cr.to_vec(), 0));
        flight.push(self.add_handshake(HandshakeType::ServerHelloDone, Vec::new(), 0));
        self.state = State::ServerCertificate;
        self.start_flight(flight, now, true);
        Ok(())
    }

    fn server_on_cke(&mut self, msg: &HandshakeMessage) -> Result<(), Error> {
        let public = hs::parse_client_key_exchange(&msg.body)?;
        let secret = self
            .key_share
            .take()
            .ok_or(Error::InvalidState("no key share"))?;
        let pms = self.backend.agree(secret, &public)?;
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        let suite = self.suite.ok_or(Error::InvalidState("no suite"))?;
        self.derive_keys(suite, &pms)?;
        self.state = State::ServerVerify;
        Ok(())
    }

    fn server_on_cert_verify(&mut self, msg: &HandshakeMessage) -> Result<(), Error> {
        let (scheme, sig) = hs::parse_digitally_signed(&msg.body, "CertificateVerify")?;
        let scheme = SignatureScheme::from_code(scheme).ok_or(Error::InvalidField {
            field: "CertificateVerify signature scheme",
            value: scheme.into(),
        })?;
        let key = self.peer_key.as_ref().ok_or(Error::NoCertificate)?;
        self.backend
            .verify(key, scheme, &self.transcript, &sig)
            .map_err(|_| Error::BadSignature("CertificateVerify"))?;
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        let suite = self.suite.ok_or(Error::InvalidState("no suite"))?;
        self.expected_finished = self.finished_data(suite, b"client finished");
        self.state = State::ServerFinished;
        Ok(())
    }

    // ---- both ----

    fn on_finished(&mut self, msg: &HandshakeMessage) -> Result<(), Error> {
        // Constant time over the 12 bytes.
        let diff = msg
            .body
            .iter()
            .zip(&self.expected_finished)
            .fold(0u8, |a, (x, y)| a | (x ^ y));
        if diff != 0 || msg.body.len() != 12 || self.expected_finished.len() != 12 {
            return Err(Error::BadFinished);
        }
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        let suite = self.suite.ok_or(Error::InvalidState("no suite"))?;
        if self.cfg.role == Role::Server {
            let vd = self.finished_data(suite, b"server finished");
            let flight = vec![
                FlightItem::ChangeCipherSpec,
                self.add_handshake(HandshakeType::Finished, vd, 1),
            ];
            self.write_epoch = 1;
            self.last_flight = flight;
            self.emit_flight();
        }
        self.retransmit_at = None;
        self.state = State::Connected;
        self.transcript = Vec::new();
        self.reasm.clear();
        let keying_material = match self.srtp_profile {
            Some(p) => crypto::export(
                suite.sha384(),
                &self.master,
                SRTP_EXPORTER_LABEL,
                &self.client_random,
                &self.server_random,
                p.keying_material_len(),
            ),
            None => Vec::new(),
        };
        let peer_fingerprint = Fingerprint::of(self.peer_cert.as_deref().unwrap_or_default());
        self.events.push_back(Event::Connected(Connected {
            srtp_profile: self.srtp_profile,
            keying_material,
            peer_fingerprint,
            cipher_suite: suite,
            group: self.group.unwrap_or(NamedGroup::X25519),
        }));
        Ok(())
    }

    fn derive_keys(&mut self, suite: CipherSuite, pms: &[u8]) -> Result<(), Error> {
        let session_hash = crypto::transcript_hash(suite.sha384(), &self.transcript);
        self.master = crypto::master_secret(
            suite.sha384(),
            pms,
            self.ems.then_some(session_hash.as_slice()),
            &self.client_random,
            &self.server_random,
        );
        let (c, s) = crypto::key_block(
            suite,
            &self.master,
            &self.client_random,
            &self.server_random,
        )?;
        let (w, r) = match self.cfg.role {
            Role::Client => (c, s),
            Role::Server => (s, c),
        };
        self.write_cipher = Some(w);
        self.read_cipher = Some(r);
        Ok(())
    }

    fn finished_data(&self, suite: CipherSuite, label: &[u8]) -> Vec<u8> {
        let h = crypto::transcript_hash(suite.sha384(), &self.transcript);
        crypto::prf(suite.sha384(), &self.master, label, &h, 12)
    }

    fn next_message(&mut self, typ: HandshakeType, body: Vec<u8>) -> HandshakeMessage {
        let m = HandshakeMessage {
            msg_type: typ,
            message_seq: self.next_send_seq,
            body,
        };
        self.next_send_seq = self.next_send_seq.wrapping_add(1);
        m
    }

    /// A message of our flight: numbered, and added to the transcript.
    fn add_handshake(&mut self, typ: HandshakeType, body: Vec<u8>, epoch: u16) -> FlightItem {
        let msg = self.next_message(typ, body);
        self.transcript.extend_from_slice(&msg.transcript_bytes());
        FlightItem::Handshake { msg, epoch }
    }

    fn start_flight(&mut self, flight: Vec<FlightItem>, now: Instant, timer: bool) {
        self.last_flight = flight;
        self.rto = self.cfg.initial_rto;
        self.retries = 0;
        self.emit_flight();
        self.retransmit_at = timer.then(|| now + self.rto);
    }

    pub(crate) fn seal_record(
        &mut self,
        ct: ContentType,
        epoch: u16,
        payload: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let idx = usize::from(epoch.min(1));
        let seq_slot = self
            .write_seq
            .get_mut(idx)
            .ok_or(Error::InvalidState("epoch"))?;
        let seq = *seq_slot;
        if seq >= (1 << 48) - 1 {
            return Err(Error::InvalidState("record sequence number exhausted"));
        }
        *seq_slot += 1;
        let fragment = if epoch == 0 {
            payload.to_vec()
        } else {
            let c = self
                .write_cipher
                .as_ref()
                .ok_or(Error::InvalidState("no write keys"))?;
            c.seal(epoch, seq, ct.as_u8(), DTLS_1_2, payload)?
        };
        let mut out = Record::header(ct, DTLS_1_2, epoch, seq, fragment.len());
        out.extend_from_slice(&fragment);
        Ok(out)
    }

    fn push_datagram(&mut self, d: Vec<u8>) {
        if d.is_empty() {
            return;
        }
        if self.transmits.len() >= self.cfg.max_queued_transmits {
            self.transmits.pop_front();
        }
        self.stats.datagrams_sent += 1;
        self.transmits.push_back(Transmit {
            payload: Bytes::from(d),
        });
    }

    /// Serialize the last flight into MTU-sized datagrams, fragmenting handshake messages
    /// (RFC 6347 §4.2.3). Every (re)transmission uses fresh record sequence numbers.
    fn emit_flight(&mut self) {
        let flight = core::mem::take(&mut self.last_flight);
        let mut records: Vec<Vec<u8>> = Vec::new();
        for item in &flight {
            match item {
                FlightItem::ChangeCipherSpec => {
                    if let Ok(r) = self.seal_record(ContentType::ChangeCipherSpec, 0, &[1]) {
                        records.push(r);
                    }
                }
                FlightItem::Handshake { msg, epoch } => {
                    let overhead = if *epoch == 0 {
                        0
                    } else {
                        self.write_cipher.as_ref().map_or(0, RecordCipher::overhead)
                    };
                    let max_frag = self
                        .cfg
                        .mtu
                        .saturating_sub(RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN + overhead)
                        .max(1);
                    let total = msg.body.len();
                    let mut off = 0usize;
                    loop {
                        let end = (off + max_frag).min(total);
                        let body = msg.body.get(off..end).unwrap_or_default();
                        let f = Fragment {
                            msg_type: msg.msg_type,
                            length: u32::try_from(total).unwrap_or(0),
                            message_seq: msg.message_seq,
                            offset: u32::try_from(off).unwrap_or(0),
                            body,
                        };
                        let mut payload = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
                        f.emit(&mut payload);
                        if let Ok(r) = self.seal_record(ContentType::Handshake, *epoch, &payload) {
                            records.push(r);
                        }
                        off = end;
                        if off >= total {
                            break;
                        }
                    }
                }
            }
        }
        let mut datagram: Vec<u8> = Vec::new();
        for r in records {
            if !datagram.is_empty() && datagram.len() + r.len() > self.cfg.mtu {
                self.push_datagram(core::mem::take(&mut datagram));
            }
            datagram.extend_from_slice(&r);
        }
        self.push_datagram(datagram);
        self.last_flight = flight;
    }

    fn send_alert(&mut self, fatal: bool, desc: AlertDescription) {
        let epoch = self.write_epoch;
        if let Ok(r) = self.seal_record(
            ContentType::Alert,
            epoch,
            &[if fatal { 2 } else { 1 }, desc.code()],
        ) {
            self.push_datagram(r);
        }
    }

    fn close_with(&mut self, reason: Error) {
        if self.state == State::Closed {
            return;
        }
        self.state = State::Closed;
        self.retransmit_at = None;
        self.events.push_back(Event::Closed { reason });
    }

    /// A fatal error: alert the peer and close.
    fn fail(&mut self, e: Error) {
        if self.state == State::Closed {
            return;
        }
        if !matches!(
            e,
            Error::HandshakeTimeout | Error::PeerAlert(_) | Error::PeerClosed
        ) {
            self.send_alert(true, e.alert());
        }
        self.close_with(e);
    }
}
