//! The PeerConnection state machine: JSEP (RFC 8829) for one bundled data channel
//! m-section, RFC 7983 demultiplexing, and the ICE -> DTLS -> SCTP composition (RFC 8831).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sansrtc_dtls::{Certificate, Fingerprint, PeerVerification};
use sansrtc_ice::{Agent, Candidate, Credentials, IceState, Role as IceRole};
use sansrtc_sctp::datachannel::{ChannelConfig, DataChannelEvent, DataChannels, DtlsRole};
use sansrtc_sdp::jsep::{self, MediaSpec, OfferSpec, TransportSpec};
use sansrtc_sdp::{Attribute, Direction, HashFunction, SessionDescription, Setup, Ssrc, SsrcGroup};

use crate::config::Config;
use crate::error::Error;
use crate::media::{MID_URI, Media, MediaOut, Transceiver, VideoCodec, local_codecs};
use crate::{MediaKind, MediaStats, RtpPacketIn};

/// A datagram to send from local socket address `source` to `destination`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address (one passed to [`PeerConnection::add_local_address`]).
    pub source: SocketAddr,
    /// Where to send.
    pub destination: SocketAddr,
    /// The datagram.
    pub payload: Bytes,
}

/// Options of a data channel (the DATA_CHANNEL_OPEN fields, RFC 8832 section 5.1).
pub type ChannelOptions = ChannelConfig;

/// Something the application must know, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The ICE connection state changed (W3C `RTCIceConnectionState` names).
    IceStateChanged(IceState),
    /// ICE selected a candidate pair (RFC 8445 section 8); DTLS runs over it.
    SelectedPair {
        /// Our address.
        local: SocketAddr,
        /// The peer's address.
        remote: SocketAddr,
    },
    /// The DTLS handshake finished and the peer's certificate matched the SDP fingerprint
    /// (RFC 8827 section 6.5).
    DtlsConnected,
    /// DTLS failed or closed (handshake timeout, wrong fingerprint, close_notify, ...).
    DtlsClosed {
        /// Why.
        reason: String,
    },
    /// The SCTP association over DTLS is established (RFC 8261).
    SctpConnected,
    /// The SCTP association closed; every channel is gone.
    SctpClosed {
        /// Why.
        reason: String,
    },
    /// ICE gathering finished (every STUN Binding and TURN allocation answered or timed
    /// out): [`PeerConnection::local_description`] now carries every candidate. A non-trickle
    /// application that configured STUN or TURN servers sends its description after this.
    GatheringComplete,
    /// A local candidate, for trickle ICE (RFC 8838): send it to the peer (a browser takes
    /// it as `RTCIceCandidateInit { candidate, sdpMid: mid }` in `addIceCandidate`; ours in
    /// [`PeerConnection::add_remote_candidate`]). Every candidate comes this way, also those
    /// already in the description `create_offer` / `create_answer` returned (a receiver
    /// ignores a repeated one). [`Event::GatheringComplete`] follows the last one: tell the
    /// peer (a browser: `addIceCandidate(null)`; ours: `end_of_remote_candidates`).
    LocalCandidate {
        /// The `candidate` attribute value (`candidate:...`).
        candidate: String,
        /// The mid of the m-section of the BUNDLE transport it belongs to.
        mid: String,
    },
    /// A data channel is open: ours (the peer acknowledged it) or the peer's (RFC 8832).
    ChannelOpen {
        /// Stream id (use it with `send`/`close`).
        id: u16,
        /// Label.
        label: String,
        /// Sub-protocol.
        protocol: String,
    },
    /// A message on a channel.
    Message {
        /// Stream id.
        id: u16,
        /// Binary (PPID 53/57) or text (51/56), RFC 8831 section 6.6.
        binary: bool,
        /// The payload.
        data: Bytes,
    },
    /// The channel's buffered amount fell to its low threshold.
    BufferedAmountLow {
        /// Stream id.
        id: u16,
    },
    /// The channel is closed in both directions (RFC 8831 section 6.7).
    ChannelClosed {
        /// Stream id.
        id: u16,
    },
    /// DTLS negotiated use_srtp and the SRTP/SRTCP keys are derived (RFC 5764 section 4.2):
    /// media can flow.
    SrtpConnected {
        /// The negotiated profile (`SRTP_AEAD_AES_128_GCM`, ...).
        profile: &'static str,
    },
    /// An RTP packet from the peer, authenticated and routed to a transceiver.
    Rtp(RtpPacketIn),
    /// The peer asks for a keyframe on what we send on `mid` (PLI, RFC 4585 section 6.3.1,
    /// or FIR, RFC 5104 section 4.3.1).
    KeyframeRequest {
        /// The transceiver.
        mid: Arc<str>,
    },
    /// The peer reports RTP we sent on `mid` as lost (generic NACK, RFC 4585 section 6.2.1).
    Nack {
        /// The transceiver.
        mid: Arc<str>,
        /// Lost sequence numbers (at most 256 per NACK packet).
        sequence_numbers: Vec<u16>,
    },
}

/// Counters; a datagram nobody can take is counted and dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// STUN datagrams given to ICE.
    pub stun_received: u64,
    /// DTLS datagrams given to DTLS.
    pub dtls_received: u64,
    /// DTLS datagrams DTLS refused (bad record, replay, ...).
    pub dtls_rejected: u64,
    /// Datagrams dropped: RTP/RTCP before the SRTP keys (or without any negotiated
    /// transceiver), unknown first byte, DTLS before a remote description.
    pub dropped: u64,
    /// Events dropped at [`Config::max_events`].
    pub events_dropped: u64,
    /// The media path (SRTP/RTP/RTCP).
    pub media: MediaStats,
}

/// The JSEP signaling state (RFC 8829 section 3.2), reduced to what a non-trickle data
/// channel connection needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalingState {
    /// No description yet.
    Stable,
    /// We created (and applied) an offer; waiting for the answer.
    HaveLocalOffer,
    /// Offer and answer are applied: the transports run.
    Connected,
}

/// A sans-IO WebRTC PeerConnection for data channels: the caller owns the UDP sockets and
/// the clock.
///
/// Inputs: [`handle_receive`](Self::handle_receive), [`handle_timeout`](Self::handle_timeout)
/// and the command methods. Outputs, drained in this order after every input until `None`:
/// [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event), then
/// [`poll_timeout`](Self::poll_timeout).
pub struct PeerConnection {
    config: Config,
    rng: StdRng,
    certificate: Certificate,
    local_credentials: Credentials,
    local_addresses: Vec<SocketAddr>,
    session_id: u64,
    state: SignalingState,
    agent: Option<Agent>,
    dtls: Option<sansrtc_dtls::Endpoint>,
    dtls_connected: bool,
    sctp: Option<DataChannels>,
    sctp_connected: bool,
    pending_channels: Vec<ChannelConfig>,
    events: VecDeque<Event>,
    stats: Stats,
    closed: bool,
    media: Media,
    dtls_role: Option<sansrtc_dtls::Role>,
    /// The peer's `a=max-message-size` once its description is applied.
    remote_max_message_size: Option<u64>,
    media_out: Vec<MediaOut>,
    /// Our description as created, before candidates and SSRC lines, for
    /// [`PeerConnection::local_description`].
    local_sdp: Option<SessionDescription>,
}

const ICE_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const MID: &str = "0";
const SCTP_PORT: u16 = 5000;

fn random_string(rng: &mut StdRng, len: usize) -> String {
    (0..len)
        .map(|_| {
            let i = rng.random_range(0..ICE_CHARS.len());
            char::from(ICE_CHARS.get(i).copied().unwrap_or(b'a'))
        })
        .collect()
}

/// What the remote description gives the transports.
struct Remote {
    credentials: Credentials,
    fingerprints: Vec<Fingerprint>,
    setup: Setup,
    /// `a=sctp-port` of an accepted data channel section; `None` without one.
    sctp_port: Option<u16>,
    /// The largest message the peer accepts (RFC 8841 section 6: `a=max-message-size`,
    /// 65536 when absent, 0 for no limit, which is kept as `u64::MAX`).
    max_message_size: u64,
    candidates: Vec<Candidate>,
    /// No candidate will be trickled: the description has `a=end-of-candidates`, or does not
    /// announce `a=ice-options:trickle` (RFC 8838 section 5.1).
    end_of_candidates: bool,
}

impl PeerConnection {
    // ---- construction and getters ----

    /// Creates a connection; generates the certificate unless [`Config::certificate`] is set.
    pub fn new(config: Config, _now: Instant) -> Result<Self, Error> {
        let mut rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        let certificate = match &config.certificate {
            Some(c) => c.clone(),
            None => Certificate::generate_self_signed()?,
        };
        let local_credentials =
            Credentials::new(random_string(&mut rng, 8), random_string(&mut rng, 24));
        // RFC 8829 section 5.2.1: a 62-bit random session id.
        let session_id = rng.random::<u64>() >> 2;
        let cname = random_string(&mut rng, 16);
        // Its own seed, derived without a draw from `rng`: the draws that follow (ICE, DTLS,
        // SSRCs) stay what they were, and so do recorded transcripts.
        let media_seed = config.seed.map(|s| s ^ 0x7274_6370_5f69_7674);
        let media = Media::new(config.media.clone(), cname, _now, media_seed);
        Ok(PeerConnection {
            config,
            rng,
            certificate,
            local_credentials,
            local_addresses: Vec::new(),
            session_id,
            state: SignalingState::Stable,
            agent: None,
            dtls: None,
            dtls_connected: false,
            sctp: None,
            sctp_connected: false,
            pending_channels: Vec::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            closed: false,
            media,
            dtls_role: None,
            remote_max_message_size: None,
            media_out: Vec::new(),
            local_sdp: None,
        })
    }

    /// Our current local description (offer or answer) with every candidate gathered so far:
    /// what `create_offer` / `create_answer` returned, plus the server-reflexive and relayed
    /// candidates that came in since (after [`Event::GatheringComplete`], all of them; like
    /// a browser's `localDescription`). `None` before either call.
    pub fn local_description(&self) -> Option<String> {
        let mut sdp = self.local_sdp.clone()?;
        self.push_candidates(&mut sdp).ok()?;
        self.push_ssrcs(&mut sdp).ok()?;
        Some(sdp.serialize())
    }

    /// Our certificate's SHA-256 fingerprint (the `a=fingerprint` we signal).
    pub fn fingerprint(&self) -> Fingerprint {
        self.certificate.fingerprint()
    }

    /// The signaling state.
    pub fn signaling_state(&self) -> SignalingState {
        self.state
    }

    /// The ICE state (`New` before any description).
    pub fn ice_state(&self) -> IceState {
        self.agent.as_ref().map_or(IceState::New, Agent::state)
    }

    /// Whether the SCTP association is up (channels can be opened and used).
    pub fn is_sctp_connected(&self) -> bool {
        self.sctp_connected
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        Stats {
            media: self.media.stats,
            ..self.stats
        }
    }

    /// The mids of our transceivers, with their kind and negotiated direction (ours).
    pub fn transceivers(&self) -> impl Iterator<Item = (Arc<str>, MediaKind, Direction)> + '_ {
        self.media
            .transceivers
            .iter()
            .map(|t| (t.mid.clone(), t.kind, t.direction))
    }

    /// The payload types negotiated on `mid` with their clock rates (the answer's).
    pub fn payload_types(&self, mid: &str) -> Vec<(u8, u32)> {
        self.media
            .transceivers
            .iter()
            .find(|t| &*t.mid == mid)
            .map(|t| t.payload_types.clone())
            .unwrap_or_default()
    }

    /// The codecs negotiated on `mid`: payload type and encoding name (`VP9`, `opus`, ...),
    /// in the answer's order (the first is the preferred one). Use
    /// [`VideoCodec::from_name`](crate::VideoCodec::from_name) to map a name to our codecs.
    pub fn codecs(&self, mid: &str) -> Vec<(u8, String)> {
        self.media
            .transceivers
            .iter()
            .find(|t| &*t.mid == mid)
            .map(|t| t.codec_names.clone())
            .unwrap_or_default()
    }

    /// The remote SSRCs we keep receiver state for on `mid` (statistics, NACK tracking): added
    /// by the first packet of a source (up to `media.max_remote_ssrcs`), removed by its RTCP
    /// BYE (RFC 3550 section 6.3.7).
    pub fn remote_ssrcs(&self, mid: &str) -> Vec<u32> {
        self.media.remote_ssrcs(mid)
    }

    /// Whether SRTP keys are derived (media can be sent).
    pub fn is_srtp_connected(&self) -> bool {
        self.media.is_ready()
    }

    /// Octets queued on channel `id` and not yet acknowledged.
    pub fn buffered_amount(&self, id: u16) -> usize {
        self.sctp.as_ref().map_or(0, |s| s.buffered_amount(id))
    }

    // ---- inputs ----

    /// A datagram arrived on our socket `local` from `remote`. Demultiplexed by its first
    /// byte (RFC 7983 section 7): 0-3 STUN to ICE, 20-63 DTLS; RTP/RTCP (128-191) and
    /// anything else are counted and dropped.
    pub fn handle_receive(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        if self.closed {
            return;
        }
        match data.first() {
            Some(0..=3) => {
                if let Some(agent) = &mut self.agent {
                    self.stats.stun_received += 1;
                    let _ = agent.handle_receive(now, remote, local, data);
                } else {
                    self.stats.dropped += 1;
                }
            }
            Some(20..=63) => self.dtls_input(now, data),
            Some(128..=191) => self.media_input(now, data),
            _ => self.stats.dropped += 1,
        }
        self.pump(now);
    }

    /// Fires due timers of every layer.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(a) = &mut self.agent {
            a.handle_timeout(now);
        }
        if let Some(d) = &mut self.dtls {
            d.handle_timeout(now);
        }
        if let Some(s) = &mut self.sctp {
            s.handle_timeout(now);
        }
        let agent = &mut self.agent;
        self.media.handle_timeout(now, |b| {
            if let Some(a) = agent.as_mut() {
                let _ = a.send(now, b);
            }
        });
        self.pump(now);
    }

    // ---- commands ----

    /// Declares a local socket address; host candidates come from these (RFC 8445 section
    /// 5.1.1.1). Call before creating the offer or answer.
    pub fn add_local_address(&mut self, now: Instant, addr: SocketAddr) -> Result<(), Error> {
        if self.local_addresses.contains(&addr) {
            return Ok(());
        }
        if self.local_addresses.len() >= self.config.ice.max_local_candidates {
            return Err(Error::QueueFull {
                what: "local addresses",
                cap: self.config.ice.max_local_candidates,
            });
        }
        self.local_addresses.push(addr);
        if let Some(a) = &mut self.agent {
            a.add_host_address(now, addr)?;
        }
        Ok(())
    }

    /// Creates our offer (RFC 8829 section 5.2.1: one bundled `m=application` data channel
    /// section, `a=setup:actpass`, our ICE credentials, fingerprint and every host
    /// candidate, `a=end-of-candidates`) and applies it as the local description. We are
    /// the ICE controlling agent (RFC 8445 section 6.1.1).
    pub fn create_offer(&mut self, now: Instant) -> Result<String, Error> {
        if self.state != SignalingState::Stable || self.agent.is_some() {
            return Err(Error::WrongState {
                call: "create_offer",
                need: "stable, before any description",
            });
        }
        self.start_agent(now, IceRole::Controlling)?;
        let mut media = Vec::new();
        for t in &self.media.transceivers {
            let codecs = local_codecs(
                t.kind,
                &self.config.media.video_codecs,
                self.config.media.rtx,
            );
            let mut m = MediaSpec::media(t.kind, &t.mid, t.direction, codecs);
            m.extensions = vec![MID_URI.to_owned()];
            if t.direction.sends() {
                m.msid = Some((
                    self.media.cname.clone(),
                    format!("{}-{}", t.kind.as_str(), t.mid),
                ));
            }
            media.push(m);
        }
        let dc_mid = if media.is_empty() {
            MID.to_owned()
        } else {
            media.len().to_string()
        };
        media.push(MediaSpec::data_channel(&dc_mid));
        let spec = OfferSpec {
            session_id: self.session_id,
            session_version: 2,
            transport: self.transport_spec(),
            media,
            sctp_port: SCTP_PORT,
            max_message_size: self.config.max_message_size,
            extmap_allow_mixed: false,
        };
        let mut sdp = jsep::create_offer(&spec)?;
        self.local_sdp = Some(sdp.clone());
        self.push_candidates(&mut sdp)?;
        self.push_ssrcs(&mut sdp)?;
        self.state = SignalingState::HaveLocalOffer;
        Ok(sdp.serialize())
    }

    /// Applies the peer's answer to our offer: ICE credentials and candidates, the DTLS role
    /// from `a=setup` (RFC 8842 section 5: `active` makes us the DTLS server) and the
    /// fingerprint the peer's certificate must match.
    pub fn set_remote_answer(&mut self, now: Instant, answer: &str) -> Result<(), Error> {
        if self.state != SignalingState::HaveLocalOffer {
            return Err(Error::WrongState {
                call: "set_remote_answer",
                need: "have-local-offer",
            });
        }
        let sdp = SessionDescription::parse(answer)?;
        let remote = self.read_remote(&sdp)?;
        for t in &mut self.media.transceivers {
            match sdp.media_by_mid(&t.mid) {
                Some(m) => t.apply(m, m, false),
                None => t.negotiated = false,
            }
        }
        self.media.mid_ext = mid_ext_id(&sdp);
        let dtls_role = match remote.setup {
            Setup::Active => sansrtc_dtls::Role::Server,
            Setup::Passive => sansrtc_dtls::Role::Client,
            _ => {
                return Err(Error::InvalidField {
                    field: "a=setup in answer",
                    value: remote.setup.as_str().to_owned(),
                });
            }
        };
        self.start_transports(now, remote, dtls_role)?;
        Ok(())
    }

    /// Applies the peer's offer and returns our answer (RFC 8829 section 5.3.1), applied as
    /// the local description: we answer `a=setup:active` (DTLS client, RFC 8842 section 5.3)
    /// to `actpass`, and are the ICE controlled agent.
    pub fn create_answer(&mut self, now: Instant, offer: &str) -> Result<String, Error> {
        if self.state != SignalingState::Stable || self.agent.is_some() {
            return Err(Error::WrongState {
                call: "create_answer",
                need: "stable, before any description",
            });
        }
        let sdp = SessionDescription::parse(offer)?;
        let remote = self.read_remote(&sdp)?;
        let dtls_role = match remote.setup.answer() {
            Setup::Active => sansrtc_dtls::Role::Client,
            _ => sansrtc_dtls::Role::Server,
        };
        let video_codecs = &self.config.media.video_codecs;
        let rtx = self.config.media.rtx;
        let caps = |kind: MediaKind, d: Option<Direction>, cname: &str| {
            d.map(|direction| jsep::MediaCapabilities {
                codecs: local_codecs(kind, video_codecs, rtx),
                extensions: vec![MID_URI.to_owned()],
                direction,
                msid: Some((cname.to_owned(), format!("{}-{}", kind.as_str(), cname))),
                receive_simulcast: false,
            })
        };
        let spec = jsep::AnswerSpec {
            session_id: self.session_id,
            session_version: 2,
            transport: self.transport_spec(),
            audio: caps(
                MediaKind::Audio,
                self.config.media.answer_audio,
                &self.media.cname,
            ),
            video: caps(
                MediaKind::Video,
                self.config.media.answer_video,
                &self.media.cname,
            ),
            data_channel: true,
            sctp_port: SCTP_PORT,
            max_message_size: self.config.max_message_size,
        };
        let mut answer = jsep::create_answer(&sdp, &spec)?;
        prefer_codecs(&mut answer, &self.config.media.video_codecs)?;
        // Nothing accepted (say, a media-only offer to a data channel only configuration):
        // no transport to start.
        if !answer
            .media
            .iter()
            .any(|m| m.media_line().is_some_and(|l| l.port != 0))
        {
            return Err(Error::MissingField {
                what: "an m-section we accept (data channel, or audio/video per Config::media)",
            });
        }
        self.accept_offered_media(&sdp, &answer)?;
        self.start_agent(now, IceRole::Controlled)?;
        self.local_sdp = Some(answer.clone());
        self.push_candidates(&mut answer)?;
        self.push_ssrcs(&mut answer)?;
        self.start_transports(now, remote, dtls_role)?;
        Ok(answer.serialize())
    }

    /// Adds a remote candidate signaled out of band (`candidate:...` or the bare value).
    pub fn add_remote_candidate(&mut self, now: Instant, candidate: &str) -> Result<(), Error> {
        let c: Candidate = candidate.parse()?;
        let agent = self.agent.as_mut().ok_or(Error::WrongState {
            call: "add_remote_candidate",
            need: "a local description",
        })?;
        agent.add_remote_candidate(now, c)?;
        self.pump(now);
        Ok(())
    }

    /// The peer has no more candidates (trickle ICE, RFC 8838 section 12: a browser's
    /// `null` candidate, or the end of its gathering). Implied by a description with
    /// `a=end-of-candidates` or without `a=ice-options:trickle`; otherwise ICE does not fail
    /// for want of candidates before this is called. A non-trickle application calls it
    /// right after applying the peer's complete description.
    pub fn end_of_remote_candidates(&mut self, now: Instant) -> Result<(), Error> {
        let agent = self.agent.as_mut().ok_or(Error::WrongState {
            call: "end_of_remote_candidates",
            need: "a local description",
        })?;
        agent.end_of_remote_candidates(now);
        self.pump(now);
        Ok(())
    }

    /// Requests a data channel (RFC 8832 section 6: DATA_CHANNEL_OPEN). Before the
    /// association is up the request waits (at most [`Config::max_pending_channels`]);
    /// [`Event::ChannelOpen`] with the same label gives its stream id once the peer
    /// acknowledged it.
    pub fn create_data_channel(
        &mut self,
        now: Instant,
        label: &str,
        options: ChannelOptions,
    ) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        let cfg = ChannelConfig {
            label: label.to_owned(),
            ..options
        };
        if self.sctp_connected {
            if let Some(s) = &mut self.sctp {
                s.open(now, cfg)?;
            }
            self.pump(now);
            return Ok(());
        }
        if self.pending_channels.len() >= self.config.max_pending_channels {
            return Err(Error::QueueFull {
                what: "pending data channels",
                cap: self.config.max_pending_channels,
            });
        }
        self.pending_channels.push(cfg);
        Ok(())
    }

    /// Sends a binary message on channel `id` (PPID 53, or 57 when empty).
    pub fn send(&mut self, now: Instant, id: u16, data: &[u8]) -> Result<(), Error> {
        self.check_message_size(data.len())?;
        let s = self.sctp_mut()?;
        s.send_binary(now, id, Bytes::copy_from_slice(data))?;
        self.pump(now);
        Ok(())
    }

    /// Sends a text message on channel `id` (PPID 51, or 56 when empty).
    pub fn send_text(&mut self, now: Instant, id: u16, text: &str) -> Result<(), Error> {
        self.check_message_size(text.len())?;
        let s = self.sctp_mut()?;
        s.send_text(now, id, text)?;
        self.pump(now);
        Ok(())
    }

    /// The largest data channel message the peer accepts, from its description's
    /// `a=max-message-size` (RFC 8841 section 6; 65536 when absent, `u64::MAX` for its "0",
    /// no limit); `None` before a description with a data channel section is applied.
    /// [`send`](Self::send) and [`send_text`](Self::send_text) refuse larger messages with
    /// [`Error::MessageTooLarge`].
    pub fn remote_max_message_size(&self) -> Option<u64> {
        self.remote_max_message_size
    }

    fn check_message_size(&self, size: usize) -> Result<(), Error> {
        match self.remote_max_message_size {
            Some(max) if size as u64 > max => Err(Error::MessageTooLarge { size, max }),
            _ => Ok(()),
        }
    }

    /// Closes channel `id` (RFC 8831 section 6.7: outgoing stream reset);
    /// [`Event::ChannelClosed`] follows when both directions are reset.
    pub fn close(&mut self, now: Instant, id: u16) -> Result<(), Error> {
        let s = self.sctp_mut()?;
        s.close(now, id)?;
        self.pump(now);
        Ok(())
    }

    /// Adds an audio or video transceiver to the next offer (RFC 8829 section 5.2.1: one
    /// m-section with Opus or VP8, the sdes:mid extension, `a=msid` and `a=ssrc` when it
    /// sends). Returns its mid. Only before `create_offer`; an answerer's transceivers come
    /// from the offer (see [`MediaConfig`](crate::MediaConfig)).
    pub fn add_transceiver(
        &mut self,
        kind: MediaKind,
        direction: Direction,
    ) -> Result<Arc<str>, Error> {
        if self.state != SignalingState::Stable || self.agent.is_some() {
            return Err(Error::WrongState {
                call: "add_transceiver",
                need: "stable, before any description",
            });
        }
        if kind == MediaKind::Application {
            return Err(Error::InvalidField {
                field: "transceiver kind",
                value: "application".into(),
            });
        }
        if self.media.transceivers.len() >= self.config.media.max_transceivers {
            return Err(Error::QueueFull {
                what: "transceivers",
                cap: self.config.media.max_transceivers,
            });
        }
        let mid = self.media.transceivers.len().to_string();
        let (ssrc, seq) = self.new_ssrc();
        let mut t = Transceiver::new(&mid, kind, direction, ssrc, seq);
        if self.config.media.rtx && kind == MediaKind::Video {
            t.rtx_ssrc = Some(self.new_ssrc_avoiding(ssrc));
        }
        self.media.transceivers.push(t);
        Ok(Arc::from(mid.as_str()))
    }

    /// Sends one RTP packet on transceiver `mid`: our SSRC and next sequence number, the
    /// sdes:mid extension when negotiated (RFC 9143), SRTP-protected. `payload_type` should
    /// be one of [`payload_types`](Self::payload_types); `timestamp` is in that codec's
    /// clock. Fails before [`Event::SrtpConnected`], or if `mid` does not send.
    pub fn send_rtp(
        &mut self,
        now: Instant,
        mid: &str,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), Error> {
        self.write_rtp(now, mid, None, payload_type, timestamp, marker, payload)
    }

    /// [`send_rtp`](Self::send_rtp) with the caller's sequence number (later `send_rtp`
    /// calls continue after it). For a forwarder: keeping the sender's numbering keeps its
    /// gaps visible, so the receiver can NACK what never reached us and we resend what we
    /// have, instead of frames silently missing a packet.
    #[allow(
        clippy::too_many_arguments,
        reason = "the RTP header fields, flat, as in send_rtp"
    )]
    pub fn send_rtp_with_sequence(
        &mut self,
        now: Instant,
        mid: &str,
        sequence_number: u16,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), Error> {
        self.write_rtp(
            now,
            mid,
            Some(sequence_number),
            payload_type,
            timestamp,
            marker,
            payload,
        )
    }

    /// Both `send_rtp` flavours: `sequence_number` `None` takes the transceiver's next one.
    #[allow(
        clippy::too_many_arguments,
        reason = "the RTP header fields, flat, as in send_rtp"
    )]
    fn write_rtp(
        &mut self,
        now: Instant,
        mid: &str,
        sequence_number: Option<u16>,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        let b = self.media.send_rtp(
            now,
            mid,
            sequence_number,
            payload_type,
            timestamp,
            marker,
            payload,
        )?;
        if let Some(a) = &mut self.agent {
            a.send(now, b)?;
        }
        Ok(())
    }

    /// Asks the peer for a keyframe of what it sends on `mid` (PLI, RFC 4585 section
    /// 6.3.1). Nothing is sent before a packet was received on `mid`.
    pub fn request_keyframe(&mut self, now: Instant, mid: &str) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        if let Some(b) = self.media.request_keyframe(mid)?
            && let Some(a) = &mut self.agent
        {
            a.send(now, b)?;
        }
        Ok(())
    }

    /// Reports RTP from `ssrc` on `mid` as lost (generic NACK, RFC 4585 section 6.2.1; at
    /// most 256 sequence numbers).
    pub fn send_nack(
        &mut self,
        now: Instant,
        mid: &str,
        ssrc: u32,
        sequence_numbers: &[u16],
    ) -> Result<(), Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        let b = self.media.send_nack(mid, ssrc, sequence_numbers)?;
        if let Some(a) = &mut self.agent {
            a.send(now, b)?;
        }
        Ok(())
    }

    /// Shuts everything down: SCTP SHUTDOWN, an RTCP BYE compound per negotiated transceiver
    /// (SR/RR, SDES CNAME, BYE with our SSRC), DTLS close_notify, then ICE stops. The last
    /// datagrams are still returned by `poll_transmit`.
    pub fn close_connection(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(s) = &mut self.sctp {
            let _ = s.association_mut().shutdown(now);
        }
        self.pump(now);
        // RFC 3550 section 6.3.7: a BYE for each of our sources, before the close_notify
        // (after it the peer no longer reads SRTP).
        let agent = &mut self.agent;
        self.media.goodbye(now, |b| {
            if let Some(a) = agent.as_mut() {
                let _ = a.send(now, b);
            }
        });
        if let Some(d) = &mut self.dtls {
            d.close();
        }
        self.pump(now);
        if let Some(a) = &mut self.agent {
            // The close_notify leaves before the agent stops.
            a.close(now);
        }
        self.closed = true;
    }

    // ---- outputs ----

    /// The next datagram to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        let t = self.agent.as_mut()?.poll_transmit()?;
        Some(Transmit {
            source: t.source,
            destination: t.destination,
            payload: t.payload,
        })
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let a = self.agent.as_ref().and_then(Agent::poll_timeout);
        let d = self
            .dtls
            .as_ref()
            .and_then(sansrtc_dtls::Endpoint::poll_timeout);
        let s = self.sctp.as_ref().and_then(DataChannels::poll_timeout);
        let m = self.media.poll_timeout();
        [a, d, s, m].into_iter().flatten().min()
    }

    // ---- internals ----

    fn sctp_mut(&mut self) -> Result<&mut DataChannels, Error> {
        if self.closed {
            return Err(Error::Closed);
        }
        if !self.sctp_connected {
            return Err(Error::NotConnected);
        }
        self.sctp.as_mut().ok_or(Error::NotConnected)
    }

    fn transport_spec(&self) -> TransportSpec {
        TransportSpec {
            ice_ufrag: self.local_credentials.ufrag.clone(),
            ice_pwd: self.local_credentials.pwd.clone(),
            // We take trickled candidates (add_remote_candidate) and give them
            // (Event::LocalCandidate), as browsers do.
            ice_options: vec!["trickle".to_owned()],
            ice_lite: false,
            fingerprints: vec![sansrtc_sdp::Fingerprint {
                hash: HashFunction::Sha256,
                digest: self.certificate.fingerprint().0.to_vec(),
            }],
        }
    }

    /// A random SSRC not used by another transceiver, and a random first sequence number
    /// (RFC 3550 section 5.1).
    fn new_ssrc(&mut self) -> (u32, u16) {
        loop {
            let s: u32 = self.rng.random();
            if s != 0
                && !self
                    .media
                    .transceivers
                    .iter()
                    .any(|t| t.ssrc == s || t.rtx_ssrc == Some(s))
            {
                return (s, self.rng.random::<u16>() & 0x7fff);
            }
        }
    }

    /// A new SSRC for an RTX stream, other than `primary` (not yet in the transceiver list).
    fn new_ssrc_avoiding(&mut self, primary: u32) -> u32 {
        loop {
            let (s, _) = self.new_ssrc();
            if s != primary {
                return s;
            }
        }
    }

    /// `a=ssrc:<ssrc> cname:` and `msid:` (RFC 5576, RFC 8830) in every section we send on.
    fn push_ssrcs(&self, sdp: &mut SessionDescription) -> Result<(), Error> {
        for t in &self.media.transceivers {
            if !t.direction.sends() {
                continue;
            }
            let Some(m) = sdp
                .media
                .iter_mut()
                .find(|m| m.mid() == Some(&*t.mid) && m.media_line().is_some_and(|l| l.port != 0))
            else {
                continue;
            };
            let msid = m
                .msids()
                .first()
                .map(|x| format!("{} {}", x.stream, x.track.unwrap_or_default()));
            // RFC 4588 section 8.3 / RFC 5576 section 4.2: the RTX stream's SSRC, grouped
            // with the original's.
            if let Some(r) = t.rtx_ssrc {
                m.push_attribute(&Attribute::SsrcGroup(SsrcGroup {
                    semantics: "FID",
                    ssrcs: vec![t.ssrc, r],
                }))?;
            }
            for ssrc in std::iter::once(t.ssrc).chain(t.rtx_ssrc) {
                m.push_attribute(&Attribute::Ssrc(Ssrc {
                    ssrc,
                    attribute: "cname",
                    value: Some(&self.media.cname),
                }))?;
                if let Some(v) = &msid {
                    m.push_attribute(&Attribute::Ssrc(Ssrc {
                        ssrc,
                        attribute: "msid",
                        value: Some(v),
                    }))?;
                }
            }
        }
        Ok(())
    }

    /// As answerer: one transceiver per audio/video section our answer accepted.
    fn accept_offered_media(
        &mut self,
        offer: &SessionDescription,
        answer: &SessionDescription,
    ) -> Result<(), Error> {
        for (i, am) in answer.media.iter().enumerate() {
            let Some(ml) = am.media_line() else { continue };
            let kind = match ml.media {
                "audio" => MediaKind::Audio,
                "video" => MediaKind::Video,
                _ => continue,
            };
            if ml.port == 0 {
                continue;
            }
            if self.media.transceivers.len() >= self.config.media.max_transceivers {
                break;
            }
            let mid = am.mid().unwrap_or_default();
            let (ssrc, seq) = self.new_ssrc();
            let mut t = Transceiver::new(mid, kind, Direction::Inactive, ssrc, seq);
            if let Some(om) = offer.media.get(i) {
                t.apply(am, om, true);
            }
            if self.config.media.rtx && !t.rtx_pts.is_empty() {
                t.rtx_ssrc = Some(self.new_ssrc_avoiding(ssrc));
            }
            self.media.transceivers.push(t);
        }
        self.media.mid_ext = mid_ext_id(answer);
        Ok(())
    }

    fn sub_seed(&mut self) -> Option<u64> {
        let v = self.rng.random::<u64>();
        self.config.seed.map(|_| v)
    }

    fn start_agent(&mut self, now: Instant, role: IceRole) -> Result<(), Error> {
        let mut cfg = self.config.ice.clone();
        cfg.role = role;
        cfg.local_credentials = Some(self.local_credentials.clone());
        cfg.seed = self.sub_seed();
        let mut agent = Agent::new(cfg, now);
        for a in &self.local_addresses {
            agent.add_host_address(now, *a)?;
        }
        self.agent = Some(agent);
        Ok(())
    }

    /// Non-trickle: every local candidate goes into the (single) m-section.
    fn push_candidates(&self, sdp: &mut SessionDescription) -> Result<(), Error> {
        let Some(agent) = &self.agent else {
            return Ok(());
        };
        let lines: Vec<String> = agent.local_candidates().map(ToString::to_string).collect();
        if let Some(m) = sdp.media.first_mut() {
            for l in &lines {
                let v = l.strip_prefix("candidate:").unwrap_or(l);
                m.push_attribute(&Attribute::Candidate(v))?;
            }
            // With STUN/TURN servers more candidates come after the description
            // (Event::LocalCandidate), so end-of-candidates only once gathering is over.
            if agent.is_gathering_complete() {
                m.push_attribute(&Attribute::EndOfCandidates)?;
            }
        }
        Ok(())
    }

    fn read_remote(&self, sdp: &SessionDescription) -> Result<Remote, Error> {
        let data_idx = sdp.media.iter().position(|m| {
            m.media_line()
                .is_some_and(|ml| ml.media == "application" && ml.port != 0)
        });
        // The transport parameters of the BUNDLE group: the data channel section, or the
        // first accepted (or bundle-only) one.
        let idx = data_idx
            .or_else(|| {
                sdp.media
                    .iter()
                    .position(|m| m.media_line().is_some_and(|ml| ml.port != 0) || m.bundle_only())
            })
            .ok_or(Error::MissingField {
                what: "an accepted m-section",
            })?;
        let (ufrag, pwd) = sdp.ice_credentials(idx).ok_or(Error::MissingField {
            what: "a=ice-ufrag / a=ice-pwd",
        })?;
        let fingerprints: Vec<Fingerprint> = sdp
            .fingerprints_for(idx)
            .into_iter()
            .filter(|f| f.hash == HashFunction::Sha256)
            .filter_map(|f| <[u8; 32]>::try_from(f.digest.as_slice()).ok())
            .map(Fingerprint)
            .collect();
        if fingerprints.is_empty() {
            return Err(Error::MissingField {
                what: "a=fingerprint:sha-256",
            });
        }
        let setup = sdp.setup_for(idx).unwrap_or(Setup::Actpass);
        let data_section = data_idx.and_then(|i| sdp.media.get(i));
        let sctp_port = data_section.map(|m| m.sctp_port().unwrap_or(SCTP_PORT));
        let max_message_size = match data_section.and_then(|m| m.max_message_size()) {
            None => 65_536,
            Some(0) => u64::MAX,
            Some(n) => n,
        };
        // BUNDLE: the candidates may sit in any (usually the first) m-section.
        let mut candidates = Vec::new();
        let trickles = sdp.session.ice_options().contains(&"trickle")
            || sdp
                .media
                .get(idx)
                .is_some_and(|m| m.ice_options().contains(&"trickle"));
        let end_of_candidates = !trickles
            || sdp
                .media
                .iter()
                .any(|m| m.has_attribute("end-of-candidates"));
        for m in &sdp.media {
            for c in m.candidates() {
                if candidates.len() >= self.config.max_remote_candidates {
                    break;
                }
                if let Ok(c) = c.parse::<Candidate>() {
                    candidates.push(c);
                }
            }
        }
        Ok(Remote {
            credentials: Credentials::new(ufrag, pwd),
            fingerprints,
            setup,
            sctp_port,
            max_message_size,
            candidates,
            end_of_candidates,
        })
    }

    fn start_transports(
        &mut self,
        now: Instant,
        remote: Remote,
        role: sansrtc_dtls::Role,
    ) -> Result<(), Error> {
        let mut dcfg = sansrtc_dtls::Config::new(
            role,
            self.certificate.clone(),
            PeerVerification::Fingerprints(remote.fingerprints),
        );
        dcfg.mtu = self.config.dtls_mtu;
        dcfg.crypto = self.config.dtls_crypto;
        dcfg.seed = self.sub_seed();
        let dtls = sansrtc_dtls::Endpoint::new(dcfg, now)?;
        let mut scfg = self.config.sctp.clone();
        scfg.dst_port = remote.sctp_port.unwrap_or(SCTP_PORT);
        scfg.src_port = SCTP_PORT;
        scfg.seed = self.sub_seed();
        let dc_role = match role {
            sansrtc_dtls::Role::Client => DtlsRole::Client,
            _ => DtlsRole::Server,
        };
        let agent = self.agent.as_mut().ok_or(Error::WrongState {
            call: "remote description",
            need: "a local description",
        })?;
        agent.set_remote_credentials(now, remote.credentials)?;
        for c in remote.candidates {
            // TCP and unresolved mDNS candidates are refused by the agent; the rest suffice.
            let _ = agent.add_remote_candidate(now, c);
        }
        if remote.end_of_candidates {
            agent.end_of_remote_candidates(now);
        }
        self.dtls = Some(dtls);
        self.dtls_role = Some(role);
        self.remote_max_message_size = remote.sctp_port.map(|_| remote.max_message_size);
        // Without a data channel section (a media-only peer) there is no SCTP association.
        self.sctp = remote
            .sctp_port
            .map(|_| DataChannels::new(scfg, dc_role, now));
        self.state = SignalingState::Connected;
        self.pump(now);
        Ok(())
    }

    fn dtls_input(&mut self, now: Instant, data: &[u8]) {
        match &mut self.dtls {
            Some(d) => {
                self.stats.dtls_received += 1;
                if d.handle_receive(now, data).is_err() {
                    self.stats.dtls_rejected += 1;
                }
            }
            None => self.stats.dropped += 1,
        }
    }

    fn media_input(&mut self, now: Instant, data: &[u8]) {
        let mut out = std::mem::take(&mut self.media_out);
        if !self.media.handle_receive(now, data, &mut out) {
            self.stats.dropped += 1;
        }
        for o in out.drain(..) {
            let e = match o {
                MediaOut::Rtp(p) => Event::Rtp(p),
                MediaOut::KeyframeRequest { mid } => Event::KeyframeRequest { mid },
                MediaOut::Nack {
                    mid,
                    sequence_numbers,
                } => Event::Nack {
                    mid,
                    sequence_numbers,
                },
                MediaOut::Send(b) => {
                    if let Some(a) = &mut self.agent {
                        let _ = a.send(now, &b);
                    }
                    continue;
                }
            };
            self.push_event(e);
        }
        self.media_out = out;
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= self.config.max_events {
            self.stats.events_dropped += 1;
        } else {
            self.events.push_back(e);
        }
    }

    /// Moves data between the layers until nothing moves: ICE events, DTLS events and
    /// application data into SCTP, SCTP packets into DTLS, DTLS datagrams onto the selected
    /// pair.
    fn pump(&mut self, now: Instant) {
        // Each pass either moves something or ends the loop; the bound is a safety net.
        for _ in 0..1024 {
            let mut moved = false;
            while let Some(e) = self.agent.as_mut().and_then(Agent::poll_event) {
                moved = true;
                match e {
                    sansrtc_ice::Event::StateChanged(s) => {
                        self.push_event(Event::IceStateChanged(s))
                    }
                    sansrtc_ice::Event::SelectedPair { .. } => {
                        if let Some((local, remote)) =
                            self.agent.as_ref().and_then(Agent::selected_pair)
                        {
                            self.push_event(Event::SelectedPair { local, remote });
                        }
                    }
                    sansrtc_ice::Event::GatheringComplete => {
                        self.push_event(Event::GatheringComplete);
                    }
                    sansrtc_ice::Event::LocalCandidate(c) => {
                        let mid = self
                            .local_sdp
                            .as_ref()
                            .and_then(|d| d.media.first())
                            .and_then(|m| m.attribute("mid"))
                            .unwrap_or("0")
                            .to_owned();
                        self.push_event(Event::LocalCandidate {
                            candidate: c.to_string(),
                            mid,
                        });
                    }
                    sansrtc_ice::Event::Data { data, .. } => match data.first() {
                        Some(20..=63) => self.dtls_input(now, &data),
                        Some(128..=191) => self.media_input(now, &data),
                        _ => self.stats.dropped += 1,
                    },
                    _ => {}
                }
            }
            while let Some(e) = self
                .dtls
                .as_mut()
                .and_then(sansrtc_dtls::Endpoint::poll_event)
            {
                moved = true;
                match e {
                    sansrtc_dtls::Event::Connected(c) => {
                        self.dtls_connected = true;
                        self.push_event(Event::DtlsConnected);
                        let has_media = self.media.transceivers.iter().any(|t| t.negotiated);
                        if let (Some(p), Some(role), true) =
                            (c.srtp_profile, self.dtls_role, has_media)
                            && self.media.start(now, p, &c.keying_material, role).is_ok()
                        {
                            self.push_event(Event::SrtpConnected { profile: p.name() });
                        }
                        if let Some(s) = &mut self.sctp {
                            let _ = s.connect(now);
                        }
                    }
                    sansrtc_dtls::Event::ApplicationData(d) => {
                        if let Some(s) = &mut self.sctp {
                            s.handle_receive(now, &d);
                        }
                    }
                    sansrtc_dtls::Event::Closed { reason } => {
                        self.dtls_connected = false;
                        self.push_event(Event::DtlsClosed {
                            reason: reason.to_string(),
                        });
                    }
                    _ => {}
                }
            }
            while let Some(e) = self.sctp.as_mut().and_then(DataChannels::poll_event) {
                moved = true;
                self.on_sctp_event(now, e);
            }
            if self.dtls_connected {
                while let Some(t) = self.sctp.as_mut().and_then(DataChannels::poll_transmit) {
                    moved = true;
                    if let Some(d) = &mut self.dtls {
                        // A full DTLS queue drops the packet; SCTP retransmits it.
                        let _ = d.send(&t.payload);
                    }
                }
            }
            let selected = self.agent.as_ref().and_then(Agent::selected_pair).is_some();
            if selected {
                while let Some(t) = self
                    .dtls
                    .as_mut()
                    .and_then(sansrtc_dtls::Endpoint::poll_transmit)
                {
                    moved = true;
                    if let Some(a) = &mut self.agent {
                        let _ = a.send(now, &t.payload);
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }

    fn on_sctp_event(&mut self, now: Instant, e: DataChannelEvent) {
        match e {
            DataChannelEvent::Connected => {
                self.sctp_connected = true;
                self.push_event(Event::SctpConnected);
                let pending = std::mem::take(&mut self.pending_channels);
                if let Some(s) = &mut self.sctp {
                    for c in pending {
                        let _ = s.open(now, c);
                    }
                }
            }
            DataChannelEvent::ChannelOpen {
                id,
                label,
                protocol,
            } => {
                self.push_event(Event::ChannelOpen {
                    id,
                    label,
                    protocol,
                });
            }
            DataChannelEvent::Message { id, binary, data } => {
                self.push_event(Event::Message { id, binary, data });
            }
            DataChannelEvent::BufferedAmountLow { id } => {
                self.push_event(Event::BufferedAmountLow { id })
            }
            DataChannelEvent::ChannelClosed { id } => self.push_event(Event::ChannelClosed { id }),
            DataChannelEvent::Closed { reason } => {
                self.sctp_connected = false;
                self.push_event(Event::SctpClosed {
                    reason: format!("{reason:?}"),
                });
            }
            _ => {}
        }
    }
}

/// The sdes:mid extension id of a description (one id space per BUNDLE group, RFC 8843
/// section 9.1.1).
/// Orders the format list of each accepted video section of our answer by our codec
/// preference (RFC 3264 section 6.1: the answerer lists its preferred first; the offerer then
/// sends that one), each RTX format after its codec. Payload types we do not rank (none
/// today) keep their place at the end.
fn prefer_codecs(answer: &mut SessionDescription, prefs: &[VideoCodec]) -> Result<(), Error> {
    for s in &mut answer.media {
        let Some(ml) = s.media_line() else { continue };
        if ml.media != "video" || ml.port == 0 || !ml.is_rtp() {
            continue;
        }
        let codecs = s.codecs();
        let codec_rank = |pt: u8| {
            codecs
                .iter()
                .find(|c| c.payload_type == pt)
                .and_then(|c| VideoCodec::from_name(c.name()))
                .and_then(|v| prefs.iter().position(|p| *p == v))
        };
        // An RTX format right after the codec its apt names.
        let rank = |pt: u8| match codec_rank(pt) {
            Some(r) => (r, false),
            None => codecs
                .iter()
                .find(|c| c.payload_type == pt)
                .and_then(|c| c.fmtp.and_then(|f| f.apt()))
                .and_then(codec_rank)
                .map_or((usize::MAX, true), |r| (r, true)),
        };
        let mut pts: Vec<u8> = ml.payload_types().collect();
        pts.sort_by_key(|pt| rank(*pt));
        let formats: Vec<String> = pts.iter().map(u8::to_string).collect();
        let line = format!(
            "{} {} {} {}",
            ml.media,
            ml.port,
            ml.proto,
            formats.join(" ")
        );
        if s.line(0).is_some_and(|l| l.kind == 'm') {
            s.remove_line(0);
            s.insert_line(0, 'm', &line)?;
        }
    }
    Ok(())
}

fn mid_ext_id(sdp: &SessionDescription) -> Option<u8> {
    (0..sdp.media.len())
        .flat_map(|i| sdp.extmaps_for(i))
        .find(|e| e.uri == MID_URI)
        .and_then(|e| u8::try_from(e.id).ok())
}
