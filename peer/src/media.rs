//! Media over DTLS-SRTP: transceivers (one per audio/video m-section), SRTP sessions keyed
//! from the DTLS exporter (RFC 5764 section 4.2), RTP/RTCP demultiplexing (RFC 5761 section
//! 4) and BUNDLE routing (RFC 8843 section 9.2: mid header extension, then SSRC, then
//! payload type), receiver/sender reports (RFC 3550 section 6.4) and feedback (RFC 4585
//! PLI/NACK, RFC 5104 FIR).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sansrtc_rtp::nack::{NackConfig, NackEvent, NackGenerator};
use sansrtc_rtp::rtx::{RtxConfig, rtx_unwrap, rtx_wrap};
use sansrtc_rtp::stats::{ReceiverStats, StatsConfig};
use sansrtc_rtp::wire::rtcp::{
    Goodbye, Nack, Pli, ReceiverReport, ReportBlock, SdesChunk, SdesItem, SenderReport,
    compound_len, emit_compound, sdes_type,
};
use sansrtc_rtp::{Extension, HeaderExtension, RtcpPacket, RtpPacket, RtpRepr, parse_compound};
use sansrtc_sdp::jsep::{CodecSpec, MediaKind};
use sansrtc_sdp::{Direction, Section};

use crate::error::Error;

/// The sdes:mid header extension URI (RFC 9143 section 14.1).
pub(crate) const MID_URI: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";

/// Media settings of a [`PeerConnection`](crate::PeerConnection).
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// How we answer an offered audio m-section: `None` rejects it (port 0), as a data
    /// channel only peer does; `Some(direction)` accepts Opus with that local wish (the
    /// answer is its intersection with the offer, RFC 3264 section 6.1). Default `None`.
    pub answer_audio: Option<Direction>,
    /// The same for video (the codecs of [`MediaConfig::video_codecs`]). Default `None`.
    pub answer_video: Option<Direction>,
    /// The video codecs we offer and accept, most preferred first: the order of our offer's
    /// format list and of our answer's (RFC 3264 section 6.1 lets the answerer order by its
    /// preference; the payload type numbers stay the offerer's). An empty list offers no
    /// video transceiver (`create_offer` fails) and rejects offered video. Default VP8, VP9
    /// (profile 0), AV1 (profile 0), H.264 (constrained baseline, packetization-mode 1).
    pub video_codecs: Vec<VideoCodec>,
    /// Mean interval of our RTCP reports (SR when we sent, RR otherwise, with SDES CNAME);
    /// each actual interval is drawn uniformly from [0.5, 1.5] times it (RFC 3550 section
    /// 6.3.1, from the connection's seeded RNG), the first from half of that. Default 1 s.
    pub rtcp_interval: Duration,
    /// Cap on transceivers added with `add_transceiver` or accepted in an answer. Default 16.
    pub max_transceivers: usize,
    /// Cap on remote SSRCs tracked per transceiver (statistics and routing); packets from
    /// further SSRCs are counted and dropped. Default 8.
    pub max_remote_ssrcs: usize,
    /// Cap on SRTP streams (SSRC contexts) per direction. Default 64.
    pub max_srtp_streams: usize,
    /// Largest RTP payload `send_rtp` accepts (our header and the SRTP tag come on top).
    /// Default 1400: with the 12-byte header, the mid extension, a 16-byte tag and IPv4/UDP
    /// headers the datagram stays within a 1500-byte path MTU (aiortc sends VP8 payloads of
    /// up to about 1280 bytes, so an echo must accept more than 1200).
    pub max_rtp_payload: usize,
    /// On transceivers that negotiated `nack` (video): how many of our last sent packets are
    /// kept (protected, as sent) to answer the peer's NACKs with a retransmission, and we
    /// NACK gaps in what we receive (RFC 4585 section 6.2.1, `sansrtc_rtp::nack` timing).
    /// 0 disables both. Default 512 packets (about 0.7 MB at full size).
    pub nack_history: usize,
    /// RTX (RFC 4588) on video: offer and accept an `rtx` payload type per video codec (VP8
    /// 97, VP9 99, AV1 46, H.264 103 in our offers, `apt=` its codec), signal our RTX SSRC
    /// with `a=ssrc-group:FID`, answer NACKs with RTX packets (own SSRC and sequence
    /// numbers, the original sequence number in front of the payload) instead of resending
    /// the original, and turn the peer's RTX packets back into the originals. Needs
    /// `nack_history` > 0 to resend. Default `false` (retransmissions resend the original
    /// SRTP packet).
    pub rtx: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            answer_audio: None,
            answer_video: None,
            video_codecs: VideoCodec::ALL.to_vec(),
            rtcp_interval: Duration::from_secs(1),
            max_transceivers: 16,
            max_remote_ssrcs: 8,
            max_srtp_streams: 64,
            max_rtp_payload: 1400,
            nack_history: 512,
            rtx: false,
        }
    }
}

/// A video codec we can negotiate (the RTP payload formats are in `sansrtc_rtp::codec`; the
/// application packetizes and depacketizes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoCodec {
    /// VP8 (RFC 7741), payload type 96 in our offers.
    Vp8,
    /// VP9 profile 0 (RFC 9628, `profile-id=0`), payload type 98 in our offers.
    Vp9,
    /// AV1 main profile (the AOM RTP payload format, `profile=0`), payload type 45 in our
    /// offers.
    Av1,
    /// H.264 constrained baseline, level 3.1, non-interleaved mode (RFC 6184:
    /// `profile-level-id=42e01f;packetization-mode=1`, `level-asymmetry-allowed=1`), payload
    /// type 102 in our offers. Matched per RFC 6184 section 8.2.2: same profile and
    /// packetization mode, any level.
    H264,
}

impl VideoCodec {
    /// Every codec, in the default preference order.
    pub const ALL: [VideoCodec; 4] = [
        VideoCodec::Vp8,
        VideoCodec::Vp9,
        VideoCodec::Av1,
        VideoCodec::H264,
    ];

    /// The encoding name of its `a=rtpmap` (case-insensitive in SDP).
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "VP8",
            VideoCodec::Vp9 => "VP9",
            VideoCodec::Av1 => "AV1",
            VideoCodec::H264 => "H264",
        }
    }

    /// The payload type of our offers (an answer uses the offerer's numbers instead).
    pub fn offer_payload_type(self) -> u8 {
        match self {
            VideoCodec::Vp8 => 96,
            VideoCodec::Vp9 => 98,
            VideoCodec::Av1 => 45,
            VideoCodec::H264 => 102,
        }
    }

    /// The payload type of its RTX format in our offers (with [`MediaConfig::rtx`]).
    pub fn offer_rtx_payload_type(self) -> u8 {
        match self {
            VideoCodec::Vp8 => 97,
            VideoCodec::Vp9 => 99,
            VideoCodec::Av1 => 46,
            VideoCodec::H264 => 103,
        }
    }

    /// Which codec an `a=rtpmap` encoding name is (`None` for others).
    pub fn from_name(name: &str) -> Option<VideoCodec> {
        VideoCodec::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    fn spec(self, rtx: bool) -> CodecSpec {
        let fmtp = match self {
            VideoCodec::Vp8 => None,
            VideoCodec::Vp9 => Some("profile-id=0"),
            VideoCodec::Av1 => Some("level-idx=5;profile=0;tier=0"),
            VideoCodec::H264 => {
                Some("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
            }
        };
        CodecSpec {
            rtcp_fb: ["nack", "nack pli", "ccm fir"].map(String::from).to_vec(),
            ..CodecSpec::video(
                self.offer_payload_type(),
                self.name(),
                fmtp,
                rtx.then_some(self.offer_rtx_payload_type()),
            )
        }
    }
}

/// The codecs we offer and accept: Opus (RFC 7587), and for video those of `video` in that
/// order, each with the feedback we implement (NACK and PLI are sent and received; FIR is
/// received), and with `rtx` an RTX format for each. No transport-cc or REMB: we give no
/// congestion feedback, so we do not negotiate it.
pub(crate) fn local_codecs(kind: MediaKind, video: &[VideoCodec], rtx: bool) -> Vec<CodecSpec> {
    match kind {
        MediaKind::Audio => vec![CodecSpec {
            rtcp_fb: Vec::new(),
            ..CodecSpec::opus(111)
        }],
        _ => {
            let mut out: Vec<CodecSpec> = Vec::new();
            for c in video {
                if !out.iter().any(|s| s.name == c.name()) {
                    out.push(c.spec(rtx));
                }
            }
            out
        }
    }
}

/// An RTP packet that authenticated and was routed to a transceiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacketIn {
    /// The transceiver's mid.
    pub mid: Arc<str>,
    /// The sender's SSRC.
    pub ssrc: u32,
    /// Payload type (one of the m-section's negotiated ones, or what the peer sent).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Marker bit (end of a video frame).
    pub marker: bool,
    /// The payload (decrypted; padding removed).
    pub payload: Bytes,
}

/// One remote source received on a transceiver.
#[derive(Debug)]
struct RemoteSource {
    ssrc: u32,
    stats: ReceiverStats,
    nack: Option<NackGenerator>,
}

/// A negotiated (or offered) audio/video m-section.
#[derive(Debug)]
pub(crate) struct Transceiver {
    pub(crate) mid: Arc<str>,
    pub(crate) kind: MediaKind,
    /// Our side's direction: what we asked for until negotiated, then the outcome.
    pub(crate) direction: Direction,
    /// Accepted in the answer (false: rejected or not negotiated yet).
    pub(crate) negotiated: bool,
    /// Negotiated payload types and clock rates.
    pub(crate) payload_types: Vec<(u8, u32)>,
    /// Negotiated payload types and their encoding names, in the answer's order.
    pub(crate) codec_names: Vec<(u8, String)>,
    pub(crate) ssrc: u32,
    /// SSRCs the remote description announced for this m-section (a=ssrc).
    pub(crate) signaled_ssrcs: Vec<u32>,
    remote: Vec<RemoteSource>,
    /// Negotiated `a=rtcp-fb:* nack` on one of its codecs.
    pub(crate) nack: bool,
    /// Our RTX SSRC (RFC 4588), when RTX is configured for this video transceiver.
    pub(crate) rtx_ssrc: Option<u32>,
    rtx_seq: u16,
    /// Negotiated (original payload type, RTX payload type) pairs (`apt=`).
    pub(crate) rtx_pts: Vec<(u8, u8)>,
    /// The peer's (RTX SSRC, original SSRC) pairs from its `a=ssrc-group:FID` lines.
    remote_rtx: Vec<(u32, u32)>,
    /// Our last sent packets, protected (a retransmission is the same SRTP packet: same
    /// index, same bytes, accepted by a receiver that lost it).
    history: VecDeque<(u16, Bytes)>,
    seq: u16,
    packets_sent: u32,
    octets_sent: u32,
    last_rtp: Option<(u32, u32, Instant)>,
}

impl Transceiver {
    pub(crate) fn new(
        mid: &str,
        kind: MediaKind,
        direction: Direction,
        ssrc: u32,
        seq: u16,
    ) -> Self {
        Transceiver {
            mid: Arc::from(mid),
            kind,
            direction,
            negotiated: false,
            payload_types: Vec::new(),
            codec_names: Vec::new(),
            ssrc,
            signaled_ssrcs: Vec::new(),
            remote: Vec::new(),
            nack: false,
            rtx_ssrc: None,
            rtx_seq: seq ^ 0x3a5c,
            rtx_pts: Vec::new(),
            remote_rtx: Vec::new(),
            history: VecDeque::new(),
            seq,
            packets_sent: 0,
            octets_sent: 0,
            last_rtp: None,
        }
    }

    /// Takes the negotiated parameters from the answer's section (`answer`) and the remote
    /// description's section (`remote`, for its a=ssrc lines). `we_answered`: the answer's
    /// direction is ours; otherwise it is the peer's and we take its reverse.
    pub(crate) fn apply(&mut self, answer: &Section, remote: &Section, we_answered: bool) {
        let accepted = answer
            .media_line()
            .is_some_and(|m| m.port != 0 || answer.bundle_only());
        self.negotiated = accepted;
        if !accepted {
            self.direction = Direction::Inactive;
            return;
        }
        let d = answer.direction().unwrap_or_default();
        self.direction = if we_answered { d } else { d.reverse() };
        self.payload_types = answer
            .codecs()
            .iter()
            .map(|c| (c.payload_type, c.rtpmap.map_or(90_000, |r| r.clock_rate)))
            .collect();
        self.codec_names = answer
            .codecs()
            .iter()
            .map(|c| (c.payload_type, c.name().to_owned()))
            .collect();
        self.nack = answer
            .rtcp_fbs()
            .iter()
            .any(|f| f.kind == "nack" && f.param.is_none());
        self.rtx_pts = answer
            .codecs()
            .iter()
            .filter(|c| c.name().eq_ignore_ascii_case("rtx"))
            .filter_map(|c| Some((c.fmtp.and_then(|f| f.apt())?, c.payload_type)))
            .take(16)
            .collect();
        self.remote_rtx = remote
            .ssrc_groups()
            .iter()
            .filter(|g| g.semantics == "FID")
            .filter_map(|g| Some((*g.ssrcs.get(1)?, *g.ssrcs.first()?)))
            .take(16)
            .collect();
        let mut ssrcs: Vec<u32> = remote.ssrcs().iter().map(|s| s.ssrc).collect();
        ssrcs.dedup();
        ssrcs.truncate(32);
        self.signaled_ssrcs = ssrcs;
    }

    /// RTX negotiated and configured: retransmissions go out as RTX.
    fn sends_rtx(&self) -> bool {
        self.rtx_ssrc.is_some() && !self.rtx_pts.is_empty()
    }

    /// For an RTX packet (`pt` is a negotiated RTX payload type) from `ssrc`: the original
    /// stream's SSRC (its FID group, else the one source we receive on this transceiver)
    /// and payload type. `None`: not RTX. `Some(None)`: RTX we cannot attribute.
    fn rtx_original(&self, ssrc: u32, pt: u8) -> Option<Option<(u32, u8)>> {
        let apt = self.rtx_pts.iter().find(|(_, r)| *r == pt)?.0;
        let primary = self
            .remote_rtx
            .iter()
            .find(|(r, _)| *r == ssrc)
            .map(|(_, o)| *o)
            .or(match self.remote.as_slice() {
                [only] => Some(only.ssrc),
                _ => None,
            });
        Some(primary.map(|o| (o, apt)))
    }

    fn clock_rate(&self, pt: u8) -> u32 {
        self.payload_types
            .iter()
            .find(|(p, _)| *p == pt)
            .map_or(90_000, |(_, c)| *c)
    }
}

/// What `Media::handle_rtp`/`handle_rtcp` found for the application.
#[derive(Debug)]
pub(crate) enum MediaOut {
    Rtp(RtpPacketIn),
    KeyframeRequest {
        mid: Arc<str>,
    },
    Nack {
        mid: Arc<str>,
        sequence_numbers: Vec<u16>,
    },
    /// A datagram to send on the selected pair (a retransmission).
    Send(Bytes),
}

/// Counters of the media path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// RTP packets that authenticated and were routed to a transceiver.
    pub rtp_received: u64,
    /// RTCP compound packets that authenticated.
    pub rtcp_received: u64,
    /// SRTP/SRTCP packets that failed authentication, replay check or parsing (before the
    /// keys, RTP/RTCP counts in [`Stats::dropped`](crate::Stats) instead).
    pub srtp_rejected: u64,
    /// Authenticated RTP that matched no transceiver (unknown mid, SSRC and payload type,
    /// or over [`MediaConfig::max_remote_ssrcs`]).
    pub rtp_unroutable: u64,
    /// RTP packets sent.
    pub rtp_sent: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// Keyframe requests (PLI/FIR) received for what we send.
    pub keyframe_requests_received: u64,
    /// NACKs received for what we send.
    pub nacks_received: u64,
    /// Packets retransmitted from the history in answer to NACKs.
    pub rtp_retransmitted: u64,
    /// NACK packets we sent for gaps in what we receive (automatic ones and `send_nack`).
    pub nacks_sent: u64,
    /// RTCP BYE packets received (RFC 3550 section 6.6).
    pub byes_received: u64,
    /// Remote sources whose state (receiver statistics, NACK tracking) a BYE ended.
    pub remote_sources_ended: u64,
    /// RTCP BYE packets we sent (one compound per transceiver on `close_connection`).
    pub byes_sent: u64,
    /// RTX packets (RFC 4588) received and turned back into the original packet.
    pub rtx_received: u64,
    /// RTX packets dropped: no original sequence number (padding only) or no source to
    /// attribute them to.
    pub rtx_dropped: u64,
}

/// The SRTP sessions and the transceivers.
pub(crate) struct Media {
    pub(crate) config: MediaConfig,
    pub(crate) transceivers: Vec<Transceiver>,
    /// The sdes:mid extension id negotiated for the BUNDLE group.
    pub(crate) mid_ext: Option<u8>,
    pub(crate) cname: String,
    tx: Option<sansrtc_srtp::Session>,
    rx: Option<sansrtc_srtp::Session>,
    next_report: Option<Instant>,
    /// Draws the randomized report intervals (RFC 3550 section 6.3.1).
    rng: StdRng,
    epoch: Instant,
    scratch: Vec<u8>,
    pub(crate) stats: MediaStats,
}

fn map_srtp(e: sansrtc_srtp::Error) -> Error {
    Error::Srtp(e.to_string())
}

impl Media {
    /// `seed`: of the report interval RNG (`None`: from the OS).
    pub(crate) fn new(config: MediaConfig, cname: String, now: Instant, seed: Option<u64>) -> Self {
        Media {
            rng: match seed {
                Some(s) => StdRng::seed_from_u64(s),
                None => StdRng::from_os_rng(),
            },
            config,
            transceivers: Vec::new(),
            mid_ext: None,
            cname,
            tx: None,
            rx: None,
            next_report: None,
            epoch: now,
            scratch: Vec::new(),
            stats: MediaStats::default(),
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.tx.is_some()
    }

    /// Keys both directions from the DTLS-SRTP exporter output (RFC 5764 section 4.2).
    pub(crate) fn start(
        &mut self,
        now: Instant,
        profile: sansrtc_dtls::SrtpProfile,
        keying_material: &[u8],
        role: sansrtc_dtls::Role,
    ) -> Result<(), Error> {
        let p = sansrtc_srtp::ProtectionProfile::from_id(profile.code()).map_err(map_srtp)?;
        let r = match role {
            sansrtc_dtls::Role::Client => sansrtc_srtp::Role::Client,
            _ => sansrtc_srtp::Role::Server,
        };
        let (mut out, mut inb) =
            sansrtc_srtp::split_keying_material(p, keying_material, r).map_err(map_srtp)?;
        out.max_streams = self.config.max_srtp_streams;
        inb.max_streams = self.config.max_srtp_streams;
        self.tx = Some(sansrtc_srtp::Session::new(out).map_err(map_srtp)?);
        self.rx = Some(sansrtc_srtp::Session::new(inb).map_err(map_srtp)?);
        if self.transceivers.iter().any(|t| t.negotiated) {
            let first = self.report_interval() / 2;
            self.next_report = Some(now + first);
        }
        Ok(())
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let nack = self
            .transceivers
            .iter()
            .flat_map(|t| t.remote.iter())
            .filter_map(|s| s.nack.as_ref().and_then(NackGenerator::poll_timeout))
            .min();
        [self.next_report, nack].into_iter().flatten().min()
    }

    /// Runs the NACK generators: due NACKs (after an empty RR) and, when the loss is beyond
    /// repair, a PLI.
    fn nack_timeout(&mut self, now: Instant, emit: &mut impl FnMut(&[u8])) {
        if self.tx.is_none() {
            return;
        }
        for i in 0..self.transceivers.len() {
            let mut packets = Vec::new();
            let Some(t) = self.transceivers.get_mut(i) else {
                continue;
            };
            for s in &mut t.remote {
                let Some(g) = &mut s.nack else { continue };
                if g.poll_timeout().is_some_and(|d| d <= now) {
                    g.handle_timeout(now);
                }
                while let Some(n) = g.poll_transmit() {
                    packets.push(RtcpPacket::Nack(n));
                }
                while let Some(e) = g.poll_event() {
                    if e == NackEvent::RequestKeyframe {
                        packets.push(RtcpPacket::Pli(Pli {
                            sender_ssrc: t.ssrc,
                            media_ssrc: s.ssrc,
                        }));
                    }
                }
            }
            if packets.is_empty() {
                continue;
            }
            let nacks = packets
                .iter()
                .filter(|p| matches!(p, RtcpPacket::Nack(_)))
                .count() as u64;
            packets.insert(
                0,
                RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc: t.ssrc,
                    reports: Vec::new(),
                    profile_extension: Vec::new(),
                }),
            );
            packets.truncate(32);
            match self.protect_compound(&packets) {
                Ok(b) => emit(b),
                Err(_) => continue,
            }
            self.stats.nacks_sent += nacks;
        }
    }

    /// NTP time of `now` (RFC 3550 section 4): the connection's creation is the origin,
    /// which suffices for LSR/DLSR round trips and for relating our audio to our video.
    fn ntp(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.epoch);
        (d.as_secs() << 32) | ((u64::from(d.subsec_nanos()) << 32) / 1_000_000_000)
    }

    /// An SRTP or SRTCP datagram (first byte 128..=191).
    /// Returns false (nothing done) before the SRTP keys.
    pub(crate) fn handle_receive(
        &mut self,
        now: Instant,
        data: &[u8],
        out: &mut Vec<MediaOut>,
    ) -> bool {
        let Some(rx) = &mut self.rx else {
            return false;
        };
        let mut buf = BytesMut::from(data);
        if sansrtc_srtp::is_rtcp(data) {
            match rx.unprotect_rtcp_in_place(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    self.stats.rtcp_received += 1;
                    self.handle_rtcp(now, &buf, out);
                }
                Err(_) => self.stats.srtp_rejected += 1,
            }
            return true;
        }
        let n = match rx.unprotect_rtp_in_place(&mut buf) {
            Ok(n) => n,
            Err(_) => {
                self.stats.srtp_rejected += 1;
                return true;
            }
        };
        buf.truncate(n);
        let mut bytes = buf.freeze();
        let (i, rtx) = {
            let Ok(p) = RtpPacket::new_checked_lazy(&bytes[..]) else {
                self.stats.srtp_rejected += 1;
                return true;
            };
            let Some(i) = self.route(&p) else {
                self.stats.rtp_unroutable += 1;
                return true;
            };
            let rtx = self
                .transceivers
                .get(i)
                .and_then(|t| t.rtx_original(p.ssrc(), p.payload_type()));
            (i, rtx)
        };
        // RFC 4588 section 4: an RTX packet becomes the original again (its SSRC, payload
        // type and sequence number), then goes the way of every packet.
        if let Some(original) = rtx {
            match original.map(|(ssrc, apt)| rtx_unwrap(&bytes, ssrc, apt)) {
                Some(Ok(v)) => {
                    self.stats.rtx_received += 1;
                    bytes = Bytes::from(v);
                }
                _ => {
                    self.stats.rtx_dropped += 1;
                    return true;
                }
            }
        }
        let Ok(p) = RtpPacket::new_checked_lazy(&bytes[..]) else {
            self.stats.srtp_rejected += 1;
            return true;
        };
        let ssrc = p.ssrc();
        let pt = p.payload_type();
        let max_remote = self.config.max_remote_ssrcs;
        let nack_on = self.config.nack_history > 0;
        let Some(t) = self.transceivers.get_mut(i) else {
            return true;
        };
        let clock = t.clock_rate(pt);
        let src = match t.remote.iter().position(|s| s.ssrc == ssrc) {
            Some(k) => t.remote.get_mut(k),
            None if t.remote.len() < max_remote => {
                let mut cfg = StatsConfig::new(ssrc, clock);
                cfg.min_sequential = 0;
                let nack = (nack_on && t.nack).then(|| {
                    NackGenerator::new(
                        NackConfig {
                            sender_ssrc: t.ssrc,
                            media_ssrc: ssrc,
                            ..NackConfig::default()
                        },
                        now,
                    )
                });
                t.remote.push(RemoteSource {
                    ssrc,
                    stats: ReceiverStats::new(cfg, now),
                    nack,
                });
                t.remote.last_mut()
            }
            None => None,
        };
        let Some(src) = src else {
            self.stats.rtp_unroutable += 1;
            return true;
        };
        src.stats
            .handle_packet(now, p.sequence_number(), p.timestamp());
        if let Some(g) = &mut src.nack {
            g.handle_receive(now, p.sequence_number());
        }
        self.stats.rtp_received += 1;
        let start = p.header_len();
        let end = start + p.payload().len();
        out.push(MediaOut::Rtp(RtpPacketIn {
            mid: t.mid.clone(),
            ssrc,
            payload_type: pt,
            sequence_number: p.sequence_number(),
            timestamp: p.timestamp(),
            marker: p.marker(),
            payload: bytes.slice(start.min(end)..end.min(bytes.len())),
        }));
        true
    }

    /// BUNDLE routing (RFC 8843 section 9.2): the mid extension, then an SSRC seen or
    /// signaled before, then a payload type that only one receiving m-section uses.
    fn route(&self, p: &RtpPacket<&[u8]>) -> Option<usize> {
        if let Some(mid) = self.mid_ext.and_then(|id| p.extension(id))
            && let Some(i) = self
                .transceivers
                .iter()
                .position(|t| t.negotiated && t.mid.as_bytes() == mid)
        {
            return Some(i);
        }
        let ssrc = p.ssrc();
        if let Some(i) = self.transceivers.iter().position(|t| {
            t.negotiated
                && (t.remote.iter().any(|s| s.ssrc == ssrc) || t.signaled_ssrcs.contains(&ssrc))
        }) {
            return Some(i);
        }
        let pt = p.payload_type();
        let mut candidates = self
            .transceivers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.negotiated && t.payload_types.iter().any(|(x, _)| *x == pt));
        let first = candidates.next()?.0;
        candidates.next().is_none().then_some(first)
    }

    fn index_by_local_ssrc(&self, ssrc: u32) -> Option<usize> {
        self.transceivers.iter().position(|t| t.ssrc == ssrc)
    }

    fn handle_rtcp(&mut self, now: Instant, buf: &[u8], out: &mut Vec<MediaOut>) {
        for p in parse_compound(buf) {
            let Ok(p) = p else {
                break;
            };
            match p {
                RtcpPacket::SenderReport(sr) => {
                    for t in &mut self.transceivers {
                        if let Some(s) = t.remote.iter_mut().find(|s| s.ssrc == sr.ssrc) {
                            s.stats.handle_sender_report(now, sr.ntp_time);
                        }
                    }
                }
                RtcpPacket::Goodbye(bye) => {
                    self.stats.byes_received += 1;
                    // RFC 3550 section 6.3.7: the source left; forget what we tracked for it.
                    for ssrc in bye.sources.iter().take(31) {
                        for t in &mut self.transceivers {
                            let before = t.remote.len();
                            t.remote.retain(|s| s.ssrc != *ssrc);
                            self.stats.remote_sources_ended += (before - t.remote.len()) as u64;
                        }
                    }
                }
                RtcpPacket::Pli(pli) => self.keyframe_request(pli.media_ssrc, out),
                RtcpPacket::Fir(fir) => {
                    for e in fir.entries.iter().take(8) {
                        self.keyframe_request(e.ssrc, out);
                    }
                }
                RtcpPacket::Nack(n) => {
                    if let Some(t) = self
                        .index_by_local_ssrc(n.media_ssrc)
                        .and_then(|i| self.transceivers.get_mut(i))
                    {
                        self.stats.nacks_received += 1;
                        let sequence_numbers: Vec<u16> = n.lost().take(256).collect();
                        for s in &sequence_numbers {
                            let Some((_, b)) = t.history.iter().find(|(x, _)| x == s) else {
                                continue;
                            };
                            let packet = match (t.rtx_ssrc, &mut self.tx) {
                                // The history holds the plain packets: wrap, then protect
                                // on the RTX SSRC (RFC 4588 section 4).
                                (Some(ssrc), Some(tx)) if !t.rtx_pts.is_empty() => {
                                    let cfg = RtxConfig {
                                        ssrc,
                                        payload_types: t.rtx_pts.clone(),
                                        initial_seq: 0,
                                    };
                                    let Ok(mut p) = rtx_wrap(b, &cfg, t.rtx_seq) else {
                                        continue;
                                    };
                                    let len = p.len();
                                    p.resize(len + tx.rtp_overhead(), 0);
                                    let Ok(n) = tx.protect_rtp_in_place(&mut p, len) else {
                                        continue;
                                    };
                                    p.truncate(n);
                                    t.rtx_seq = t.rtx_seq.wrapping_add(1);
                                    Bytes::from(p)
                                }
                                _ => b.clone(),
                            };
                            self.stats.rtp_retransmitted += 1;
                            out.push(MediaOut::Send(packet));
                        }
                        out.push(MediaOut::Nack {
                            mid: t.mid.clone(),
                            sequence_numbers,
                        });
                    }
                }
                _ => {}
            }
        }
    }

    fn keyframe_request(&mut self, media_ssrc: u32, out: &mut Vec<MediaOut>) {
        if let Some(t) = self
            .index_by_local_ssrc(media_ssrc)
            .and_then(|i| self.transceivers.get(i))
        {
            self.stats.keyframe_requests_received += 1;
            out.push(MediaOut::KeyframeRequest { mid: t.mid.clone() });
        }
    }

    fn find_sending(&mut self, mid: &str) -> Result<usize, Error> {
        let i = self
            .transceivers
            .iter()
            .position(|t| &*t.mid == mid)
            .ok_or(Error::UnknownMid)?;
        if self.tx.is_none() {
            return Err(Error::NotConnected);
        }
        Ok(i)
    }

    /// Builds, protects and returns one RTP packet (the caller sends it on the selected pair).
    #[allow(
        clippy::too_many_arguments,
        reason = "the RTP header fields, flat, as in send_rtp"
    )]
    pub(crate) fn send_rtp(
        &mut self,
        now: Instant,
        mid: &str,
        sequence_number: Option<u16>,
        payload_type: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<&[u8], Error> {
        let i = self.find_sending(mid)?;
        if payload.len() > self.config.max_rtp_payload {
            return Err(Error::InvalidField {
                field: "RTP payload length",
                value: payload.len().to_string(),
            });
        }
        let mid_ext = self.mid_ext;
        let Some(t) = self.transceivers.get_mut(i) else {
            return Err(Error::UnknownMid);
        };
        if !t.negotiated || !t.direction.sends() {
            return Err(Error::WrongState {
                call: "send_rtp",
                need: "a transceiver negotiated to send",
            });
        }
        if let Some(s) = sequence_number {
            t.seq = s;
        }
        let mid_bytes = t.mid.clone();
        let ext = [Extension {
            id: mid_ext.unwrap_or(0),
            data: mid_bytes.as_bytes(),
        }];
        let repr = RtpRepr {
            marker,
            payload_type,
            sequence_number: t.seq,
            timestamp,
            ssrc: t.ssrc,
            csrcs: &[],
            extension: if mid_ext.is_some() {
                HeaderExtension::Auto(&ext)
            } else {
                HeaderExtension::None
            },
            payload,
            padding: 0,
        };
        let len = repr.buffer_len().map_err(|e| Error::Rtp(e.to_string()))?;
        let tx = self.tx.as_mut().ok_or(Error::NotConnected)?;
        self.scratch.clear();
        self.scratch.resize(len + tx.rtp_overhead(), 0);
        repr.emit(&mut self.scratch)
            .map_err(|e| Error::Rtp(e.to_string()))?;
        let history = self.config.nack_history;
        // With RTX the history keeps the plain packet (to wrap on a NACK), else the
        // protected one (resent as is).
        let plain = (t.nack && history > 0 && t.sends_rtx())
            .then(|| Bytes::copy_from_slice(self.scratch.get(..len).unwrap_or(&[])));
        let n = tx
            .protect_rtp_in_place(&mut self.scratch, len)
            .map_err(map_srtp)?;
        if t.nack && history > 0 {
            if t.history.len() >= history {
                t.history.pop_front();
            }
            let sent = plain
                .unwrap_or_else(|| Bytes::copy_from_slice(self.scratch.get(..n).unwrap_or(&[])));
            t.history.push_back((t.seq, sent));
        }
        t.seq = t.seq.wrapping_add(1);
        t.packets_sent = t.packets_sent.wrapping_add(1);
        t.octets_sent = t.octets_sent.wrapping_add(payload.len() as u32);
        t.last_rtp = Some((timestamp, t.clock_rate(payload_type), now));
        self.stats.rtp_sent += 1;
        self.scratch.truncate(n);
        Ok(&self.scratch)
    }

    fn protect_compound(&mut self, packets: &[RtcpPacket]) -> Result<&[u8], Error> {
        let len = compound_len(packets).map_err(|e| Error::Rtp(e.to_string()))?;
        let tx = self.tx.as_mut().ok_or(Error::NotConnected)?;
        self.scratch.clear();
        self.scratch.resize(len + tx.rtcp_overhead(), 0);
        emit_compound(packets, &mut self.scratch).map_err(|e| Error::Rtp(e.to_string()))?;
        let n = tx
            .protect_rtcp_in_place(&mut self.scratch, len)
            .map_err(map_srtp)?;
        self.scratch.truncate(n);
        self.stats.rtcp_sent += 1;
        Ok(&self.scratch)
    }

    /// A PLI (RFC 4585 section 6.3.1) for every source received on `mid`, after an empty
    /// RR (RFC 3550 compound rule).
    pub(crate) fn request_keyframe(&mut self, mid: &str) -> Result<Option<&[u8]>, Error> {
        let i = self.find_sending(mid)?;
        let Some(t) = self.transceivers.get(i) else {
            return Err(Error::UnknownMid);
        };
        let mut packets = vec![RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: t.ssrc,
            reports: Vec::new(),
            profile_extension: Vec::new(),
        })];
        for s in &t.remote {
            packets.push(RtcpPacket::Pli(Pli {
                sender_ssrc: t.ssrc,
                media_ssrc: s.ssrc,
            }));
        }
        if packets.len() == 1 {
            return Ok(None);
        }
        self.protect_compound(&packets).map(Some)
    }

    /// A generic NACK (RFC 4585 section 6.2.1) for `ssrc` received on `mid`.
    pub(crate) fn send_nack(
        &mut self,
        mid: &str,
        ssrc: u32,
        sequence_numbers: &[u16],
    ) -> Result<&[u8], Error> {
        let i = self.find_sending(mid)?;
        let Some(t) = self.transceivers.get(i) else {
            return Err(Error::UnknownMid);
        };
        let seqs = sequence_numbers
            .get(..sequence_numbers.len().min(256))
            .unwrap_or(&[]);
        let packets = [
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: t.ssrc,
                reports: Vec::new(),
                profile_extension: Vec::new(),
            }),
            RtcpPacket::Nack(Nack::from_sequence_numbers(t.ssrc, ssrc, seqs)),
        ];
        self.stats.nacks_sent += 1;
        self.protect_compound(&packets)
    }

    /// If a report is due: the next transceiver's SR/RR + SDES CNAME compounds, protected.
    /// Returns them one by one through `emit`.
    pub(crate) fn handle_timeout(&mut self, now: Instant, mut emit: impl FnMut(&[u8])) {
        self.nack_timeout(now, &mut emit);
        let Some(due) = self.next_report else {
            return;
        };
        if now < due {
            return;
        }
        self.next_report = Some(now + self.report_interval());
        for i in 0..self.transceivers.len() {
            let Some(compound) = self.report(now, i, false) else {
                continue;
            };
            if let Ok(b) = self.protect_compound(&compound) {
                emit(b);
            }
        }
    }

    /// One report interval: `rtcp_interval` times a factor drawn uniformly from [0.5, 1.5]
    /// (RFC 3550 section 6.3.1, so that reports of many participants do not synchronize).
    fn report_interval(&mut self) -> Duration {
        let factor: f64 = self.rng.random_range(0.5..=1.5);
        self.config.rtcp_interval.mul_f64(factor)
    }

    /// The remote SSRCs with receiver state on `mid` (dropped by a BYE).
    pub(crate) fn remote_ssrcs(&self, mid: &str) -> Vec<u32> {
        self.transceivers
            .iter()
            .find(|t| &*t.mid == mid)
            .map(|t| t.remote.iter().map(|s| s.ssrc).collect())
            .unwrap_or_default()
    }

    /// The last compound of each negotiated transceiver (RFC 3550 section 6.3.7): SR/RR,
    /// SDES CNAME and BYE with our SSRC, protected, through `emit`. Before the keys, or when
    /// we never sent RTP or RTCP (section 6.3.7: then we MUST NOT send a BYE), nothing.
    pub(crate) fn goodbye(&mut self, now: Instant, mut emit: impl FnMut(&[u8])) {
        if self.tx.is_none() || (self.stats.rtp_sent == 0 && self.stats.rtcp_sent == 0) {
            return;
        }
        for i in 0..self.transceivers.len() {
            let Some(compound) = self.report(now, i, true) else {
                continue;
            };
            let sent = match self.protect_compound(&compound) {
                Ok(b) => {
                    emit(b);
                    true
                }
                Err(_) => false,
            };
            self.stats.byes_sent += u64::from(sent);
        }
        self.next_report = None;
    }

    /// The report compound of transceiver `i` (None unless negotiated): SR when it has sent,
    /// else RR, plus SDES CNAME, plus a BYE for our SSRC when `bye`.
    fn report(&mut self, now: Instant, i: usize, bye: bool) -> Option<Vec<RtcpPacket>> {
        let ntp = self.ntp(now);
        let t = self.transceivers.get_mut(i)?;
        if !t.negotiated {
            return None;
        }
        let reports: Vec<ReportBlock> = t
            .remote
            .iter_mut()
            .take(31)
            .map(|s| s.stats.report_block(now))
            .collect();
        let first = match t.last_rtp {
            Some((ts, clock, at)) if t.direction.sends() => {
                let d = now.saturating_duration_since(at);
                let ticks = (d.as_micros() * u128::from(clock) / 1_000_000) as u32;
                RtcpPacket::SenderReport(SenderReport {
                    ssrc: t.ssrc,
                    ntp_time: ntp,
                    rtp_time: ts.wrapping_add(ticks),
                    packet_count: t.packets_sent,
                    octet_count: t.octets_sent,
                    reports,
                    profile_extension: Vec::new(),
                })
            }
            _ => RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: t.ssrc,
                reports,
                profile_extension: Vec::new(),
            }),
        };
        let sdes = RtcpPacket::SourceDescription(vec![SdesChunk {
            ssrc: t.ssrc,
            items: vec![SdesItem {
                kind: sdes_type::CNAME,
                value: self.cname.as_bytes().to_vec(),
            }],
        }]);
        let mut compound = vec![first, sdes];
        if bye {
            compound.push(RtcpPacket::Goodbye(Goodbye {
                sources: vec![t.ssrc],
                reason: None,
            }));
        }
        Some(compound)
    }
}
