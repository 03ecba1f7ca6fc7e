//! Offer/answer helpers after JSEP (RFC 8829 §5.2 offers, §5.3 answers) and RFC 3264.
//!
//! [`create_offer`] writes a bundled offer (audio/video/data channel m-sections) from owned
//! specs; [`create_answer`] answers any parsed offer: codecs intersected with the offerer's
//! payload types kept (RFC 8829 §5.3.1), RTX kept only when its `apt` codec is kept, header
//! extensions intersected by URI with the offered ids, directions negotiated (RFC 3264 §6.1),
//! sections without a common codec rejected with port 0, BUNDLE group limited to the accepted
//! mids, the data channel m-line (`UDP/DTLS/SCTP webrtc-datachannel`, RFC 8841) accepted, and
//! offered rids/simulcast reversed (RFC 8853 §5.3) with the rid restrictions the answer keeps
//! (RFC 8851 §4, §6.2: `pt=` narrowed to the answer's payload types, `max-*`, `depend`).

use crate::attr::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, Msid, MsidSemantic, Rid, RidDirection,
    RtcpFb, Rtpmap, Setup, Simulcast,
};
use crate::error::Error;
use crate::session::{Codec, MediaLine, Section, SessionDescription};

/// The RTP profile WebRTC uses for media (RFC 8829 §5.1.2).
pub const RTP_PROTO: &str = "UDP/TLS/RTP/SAVPF";
/// The data channel protocol (RFC 8841 §4).
pub const SCTP_PROTO: &str = "UDP/DTLS/SCTP";
/// The data channel format (RFC 8841 §4).
pub const DATACHANNEL_FORMAT: &str = "webrtc-datachannel";

/// Kind of media section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
    /// `m=application` (data channels).
    Application,
}

impl MediaKind {
    /// The `m=` media token.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Application => "application",
        }
    }
}

/// A codec this endpoint supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecSpec {
    /// Payload type used in our offers (answers use the offerer's).
    pub payload_type: u8,
    /// Encoding name (`opus`, `VP8`, `H264`, `red`, …). Case-insensitive when matching.
    pub name: String,
    /// Clock rate.
    pub clock_rate: u32,
    /// Channels (audio); `None` means 1 when matching.
    pub channels: Option<u16>,
    /// fmtp parameters, if any (`minptime=10;useinbandfec=1`).
    pub fmtp: Option<String>,
    /// rtcp-fb values supported (`nack`, `nack pli`, `transport-cc`, `ccm fir`, `goog-remb`).
    pub rtcp_fb: Vec<String>,
    /// RTX payload type for this codec (RFC 4588), if RTX is wanted. Offers write an
    /// `rtx/<clock>` codec with `apt=<payload_type>`; answers keep an offered RTX only when set.
    pub rtx_payload_type: Option<u8>,
}

impl CodecSpec {
    /// A codec with no fmtp, feedback or RTX.
    pub fn new(payload_type: u8, name: &str, clock_rate: u32, channels: Option<u16>) -> Self {
        CodecSpec {
            payload_type,
            name: name.to_owned(),
            clock_rate,
            channels,
            fmtp: None,
            rtcp_fb: Vec::new(),
            rtx_payload_type: None,
        }
    }

    /// Opus 48 kHz stereo with `minptime=10;useinbandfec=1` and transport-cc.
    pub fn opus(payload_type: u8) -> Self {
        CodecSpec {
            fmtp: Some("minptime=10;useinbandfec=1".into()),
            rtcp_fb: vec!["transport-cc".into()],
            ..CodecSpec::new(payload_type, "opus", 48000, Some(2))
        }
    }

    /// A 90 kHz video codec with the usual feedback (nack, nack pli, ccm fir, transport-cc,
    /// goog-remb) and an RTX payload type.
    pub fn video(payload_type: u8, name: &str, fmtp: Option<&str>, rtx: Option<u8>) -> Self {
        CodecSpec {
            fmtp: fmtp.map(str::to_owned),
            rtcp_fb: ["goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"]
                .map(String::from)
                .to_vec(),
            rtx_payload_type: rtx,
            ..CodecSpec::new(payload_type, name, 90000, None)
        }
    }

    fn fmtp_view(&self) -> Option<Fmtp<'_>> {
        self.fmtp.as_deref().map(|params| Fmtp {
            payload_type: self.payload_type,
            params,
        })
    }
}

fn fmtp_u8<'a>(f: Option<Fmtp<'a>>, get: impl Fn(&Fmtp<'a>) -> Option<u8>, default: u8) -> u8 {
    f.as_ref().and_then(get).unwrap_or(default)
}

/// Do an offered codec and a local one describe the same format? Name (case-insensitive),
/// clock rate and channels must match, plus the format parameters that change the bitstream:
/// H.264 profile_idc + profile-iop and packetization-mode (RFC 6184 §8.2.2), VP9 profile-id (RFC 9628 §6),
/// AV1 profile.
pub fn codecs_match(offered: &Codec<'_>, local: &CodecSpec) -> bool {
    let Some(r) = offered.rtpmap else {
        return false;
    };
    if !r.encoding.eq_ignore_ascii_case(&local.name)
        || r.clock_rate != local.clock_rate
        || r.channels.unwrap_or(1) != local.channels.unwrap_or(1)
    {
        return false;
    }
    let (of, lf) = (offered.fmtp, local.fmtp_view());
    if local.name.eq_ignore_ascii_case("H264") {
        // The profile is profile_idc and profile-iop, the first two bytes of profile-level-id
        // (default 42 00 0a, RFC 6184 §8.1); the level byte may differ (§8.2.2).
        let idc =
            |f: Option<Fmtp<'_>>| f.and_then(|f| f.profile_level_id()).unwrap_or(0x42000a) >> 8;
        return idc(of) == idc(lf)
            && fmtp_u8(of, |f| f.packetization_mode(), 0)
                == fmtp_u8(lf, |f| f.packetization_mode(), 0);
    }
    if local.name.eq_ignore_ascii_case("VP9") {
        return fmtp_u8(of, |f| f.vp9_profile_id(), 0) == fmtp_u8(lf, |f| f.vp9_profile_id(), 0);
    }
    if local.name.eq_ignore_ascii_case("AV1") {
        return fmtp_u8(of, |f| f.av1_profile(), 0) == fmtp_u8(lf, |f| f.av1_profile(), 0);
    }
    true
}

/// A codec of an answer: the offerer's payload type, with the local codec's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedCodec {
    /// The offerer's payload type.
    pub payload_type: u8,
    /// Encoding name as offered.
    pub name: String,
    /// Clock rate.
    pub clock_rate: u32,
    /// Channels as offered.
    pub channels: Option<u16>,
    /// fmtp for the answer (RTX: `apt=<offered pt of its codec>`; RED: the offered list).
    pub fmtp: Option<String>,
    /// rtcp-fb values both sides support.
    pub rtcp_fb: Vec<String>,
}

/// Intersects the offered codecs with the local ones (RFC 8829 §5.3.1, RFC 3264 §6.1).
/// The answer keeps the offerer's payload types and order. An offered `rtx` is kept only if
/// the codec its `apt` names is kept and that local codec wants RTX; an offered `red` is kept
/// if supported locally and every payload type it lists is kept; `ulpfec`/others by name.
pub fn negotiate_codecs(offered: &[Codec<'_>], local: &[CodecSpec]) -> Vec<NegotiatedCodec> {
    let mut out: Vec<NegotiatedCodec> = Vec::new();
    // (offered pt, local codec) of accepted primary codecs.
    let mut primaries: Vec<(u8, &CodecSpec)> = Vec::new();
    for c in offered {
        let name = c.name();
        if name.eq_ignore_ascii_case("rtx") || name.eq_ignore_ascii_case("red") {
            continue;
        }
        if let Some(l) = local.iter().find(|l| codecs_match(c, l)) {
            primaries.push((c.payload_type, l));
        }
    }
    for c in offered {
        let Some(r) = c.rtpmap else { continue };
        let name = r.encoding;
        let (fmtp, fb) = if name.eq_ignore_ascii_case("rtx") {
            let Some(apt) = c.fmtp.and_then(|f| f.apt()) else {
                continue;
            };
            match primaries.iter().find(|(pt, _)| *pt == apt) {
                Some((_, l)) if l.rtx_payload_type.is_some() => {
                    (Some(format!("apt={apt}")), vec![])
                }
                _ => continue,
            }
        } else if name.eq_ignore_ascii_case("red") {
            let supported = local
                .iter()
                .any(|l| l.name.eq_ignore_ascii_case("red") && l.clock_rate == r.clock_rate);
            let listed_ok = c
                .fmtp
                .and_then(|f| f.red_payload_types())
                .is_none_or(|pts| pts.iter().all(|p| primaries.iter().any(|(pt, _)| pt == p)));
            if !(supported && listed_ok) {
                continue;
            }
            (c.fmtp.map(|f| f.params.to_owned()), vec![])
        } else {
            let Some((_, l)) = primaries.iter().find(|(pt, _)| *pt == c.payload_type) else {
                continue;
            };
            let fb = c
                .rtcp_fb
                .iter()
                .map(|f| match f.param {
                    Some(p) => format!("{} {p}", f.kind),
                    None => f.kind.to_owned(),
                })
                .filter(|f| l.rtcp_fb.iter().any(|x| x == f))
                .collect();
            (
                l.fmtp
                    .clone()
                    .or_else(|| c.fmtp.map(|f| f.params.to_owned())),
                fb,
            )
        };
        out.push(NegotiatedCodec {
            payload_type: c.payload_type,
            name: name.to_owned(),
            clock_rate: r.clock_rate,
            channels: r.channels,
            fmtp,
            rtcp_fb: fb,
        });
    }
    out
}

/// Keeps the offered extmaps whose URI is supported locally, with the offered ids
/// (RFC 8285 §7, RFC 8829 §5.3.1).
pub fn negotiate_extmaps<'a>(offered: &[Extmap<'a>], local_uris: &[String]) -> Vec<Extmap<'a>> {
    offered
        .iter()
        .filter(|e| local_uris.iter().any(|u| u == e.uri))
        .map(|e| Extmap {
            direction: e.direction.map(Direction::reverse),
            ..*e
        })
        .collect()
}

/// ICE and DTLS parameters written in every m-section (RFC 8829 §5.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportSpec {
    /// ICE username fragment (RFC 8839 §5.4: 4..=256 ice-chars).
    pub ice_ufrag: String,
    /// ICE password (22..=256 ice-chars).
    pub ice_pwd: String,
    /// ice-options tokens (`trickle`, `renomination`).
    pub ice_options: Vec<String>,
    /// Write `a=ice-lite` at session level.
    pub ice_lite: bool,
    /// DTLS certificate fingerprints.
    pub fingerprints: Vec<Fingerprint>,
}

/// One m-section of an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSpec {
    /// Kind.
    pub kind: MediaKind,
    /// `a=mid`.
    pub mid: String,
    /// Direction (ignored for application).
    pub direction: Direction,
    /// Codecs in preference order (audio/video).
    pub codecs: Vec<CodecSpec>,
    /// Header extension URIs; ids are assigned 1, 2, … in order of first use across the offer.
    pub extensions: Vec<String>,
    /// `a=msid` (stream id, track id), if sending.
    pub msid: Option<(String, String)>,
    /// Simulcast send rids (RFC 8853); empty for none.
    pub send_rids: Vec<String>,
    /// Offer the section as `bundle-only` with port 0 (RFC 8843 §6).
    pub bundle_only: bool,
}

impl MediaSpec {
    /// A data channel section.
    pub fn data_channel(mid: &str) -> Self {
        MediaSpec {
            kind: MediaKind::Application,
            mid: mid.to_owned(),
            direction: Direction::SendRecv,
            codecs: Vec::new(),
            extensions: Vec::new(),
            msid: None,
            send_rids: Vec::new(),
            bundle_only: false,
        }
    }

    /// An audio or video section.
    pub fn media(kind: MediaKind, mid: &str, direction: Direction, codecs: Vec<CodecSpec>) -> Self {
        MediaSpec {
            kind,
            direction,
            codecs,
            ..MediaSpec::data_channel(mid)
        }
    }
}

/// Everything an offer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferSpec {
    /// `o=` session id (RFC 8829 §5.2.1: a random 62-bit number).
    pub session_id: u64,
    /// `o=` session version.
    pub session_version: u64,
    /// ICE/DTLS parameters.
    pub transport: TransportSpec,
    /// m-sections in order; all are put in one BUNDLE group.
    pub media: Vec<MediaSpec>,
    /// `a=sctp-port` for the data channel (5000 by convention).
    pub sctp_port: u16,
    /// `a=max-message-size` (RFC 8841 §6).
    pub max_message_size: u64,
    /// Write `a=extmap-allow-mixed` (RFC 8285 §6).
    pub extmap_allow_mixed: bool,
}

fn push(s: &mut Section, a: Attribute<'_>) -> Result<(), Error> {
    s.push_attribute(&a)
}

fn session_head(
    session_id: u64,
    version: u64,
    t: &TransportSpec,
    group: Option<Group<'_>>,
    allow_mixed: bool,
) -> Result<Section, Error> {
    let mut s = Section::new();
    s.push_line('v', "0")?;
    s.push_line('o', &format!("- {session_id} {version} IN IP4 127.0.0.1"))?;
    s.push_line('s', "-")?;
    s.push_line('t', "0 0")?;
    if t.ice_lite {
        push(&mut s, Attribute::IceLite)?;
    }
    if let Some(g) = group {
        push(&mut s, Attribute::Group(g))?;
    }
    if allow_mixed {
        push(&mut s, Attribute::ExtmapAllowMixed)?;
    }
    push(
        &mut s,
        Attribute::MsidSemantic(MsidSemantic {
            semantics: "WMS",
            ids: vec![],
        }),
    )?;
    Ok(s)
}

fn push_transport(
    s: &mut Section,
    t: &TransportSpec,
    setup: Setup,
    mid: &str,
) -> Result<(), Error> {
    s.push_line('c', "IN IP4 0.0.0.0")?;
    push(s, Attribute::IceUfrag(&t.ice_ufrag))?;
    push(s, Attribute::IcePwd(&t.ice_pwd))?;
    if !t.ice_options.is_empty() {
        push(
            s,
            Attribute::IceOptions(t.ice_options.iter().map(String::as_str).collect()),
        )?;
    }
    for f in &t.fingerprints {
        push(s, Attribute::Fingerprint(f.clone()))?;
    }
    push(s, Attribute::Setup(setup))?;
    push(s, Attribute::Mid(mid))
}

fn push_codec(
    s: &mut Section,
    pt: u8,
    name: &str,
    clock_rate: u32,
    channels: Option<u16>,
    fmtp: Option<&str>,
    fbs: &[String],
) -> Result<(), Error> {
    push(
        s,
        Attribute::Rtpmap(Rtpmap {
            payload_type: pt,
            encoding: name,
            clock_rate,
            channels,
        }),
    )?;
    for fb in fbs {
        let (kind, param) = match fb.split_once(' ') {
            Some((k, p)) => (k, Some(p)),
            None => (fb.as_str(), None),
        };
        push(
            s,
            Attribute::RtcpFb(RtcpFb {
                payload_type: Some(pt),
                kind,
                param,
            }),
        )?;
    }
    if let Some(params) = fmtp {
        push(
            s,
            Attribute::Fmtp(Fmtp {
                payload_type: pt,
                params,
            }),
        )?;
    }
    Ok(())
}

fn media_line_text(kind: &str, port: u16, proto: &str, formats: &str) -> MediaLineOwned {
    MediaLineOwned {
        media: kind.to_owned(),
        port,
        proto: proto.to_owned(),
        formats: formats.to_owned(),
    }
}

struct MediaLineOwned {
    media: String,
    port: u16,
    proto: String,
    formats: String,
}

impl MediaLineOwned {
    fn section(&self) -> Section {
        Section::media(&MediaLine {
            media: &self.media,
            port: self.port,
            port_count: None,
            proto: &self.proto,
            formats: &self.formats,
        })
    }
}

fn check_pt(pt: u8) -> Result<u8, Error> {
    if pt > 127 {
        return Err(Error::Negotiation {
            reason: format!("payload type {pt} is over 127"),
        });
    }
    Ok(pt)
}

/// Writes a JSEP initial offer (RFC 8829 §5.2.1): port 9 (or 0 with `bundle-only`),
/// `c=IN IP4 0.0.0.0`, one BUNDLE group with every mid, `setup:actpass`, rtcp-mux and
/// rtcp-rsize on RTP sections, RTX codecs after their codec with `apt`.
pub fn create_offer(spec: &OfferSpec) -> Result<SessionDescription, Error> {
    let mids: Vec<&str> = spec.media.iter().map(|m| m.mid.as_str()).collect();
    for (i, m) in mids.iter().enumerate() {
        if m.is_empty() || m.contains(' ') || mids.get(..i).is_some_and(|p| p.contains(m)) {
            return Err(Error::Negotiation {
                reason: format!("bad or duplicate mid {m:?}"),
            });
        }
    }
    let group = (!mids.is_empty()).then(|| Group {
        semantics: "BUNDLE",
        mids: mids.clone(),
    });
    let session = session_head(
        spec.session_id,
        spec.session_version,
        &spec.transport,
        group,
        spec.extmap_allow_mixed,
    )?;
    // One id space for the whole BUNDLE group (RFC 8843 §9.1.1): each URI gets one id.
    let mut ids = ExtmapIds::default();
    let mut media = Vec::with_capacity(spec.media.len());
    for m in &spec.media {
        media.push(offer_section(
            m,
            &spec.transport,
            &mut ids,
            spec.sctp_port,
            spec.max_message_size,
            spec.extmap_allow_mixed,
        )?);
    }
    // Round-trip through the parser: what we write must be what we accept.
    SessionDescription::parse(&SessionDescription { session, media }.serialize())
}

/// Extmap ids of one BUNDLE group (RFC 8843 §9.1.1): a URI keeps its id; a new URI gets the
/// smallest free id (1..=14, or up to 255 with `extmap-allow-mixed`, RFC 8285 §6).
#[derive(Debug, Default)]
struct ExtmapIds {
    used: Vec<(String, u16)>,
}

impl ExtmapIds {
    fn id_for(&mut self, uri: &str, allow_mixed: bool) -> Result<u16, Error> {
        if let Some((_, id)) = self.used.iter().find(|(u, _)| u == uri) {
            return Ok(*id);
        }
        let max = if allow_mixed { 255 } else { 14 };
        let id = (1..=max)
            .find(|id| !self.used.iter().any(|(_, x)| x == id))
            .ok_or(Error::Negotiation {
                reason: "too many header extensions".into(),
            })?;
        self.used.push((uri.to_owned(), id));
        Ok(id)
    }
}

/// One m-section of an offer (RFC 8829 §5.2.1).
fn offer_section(
    m: &MediaSpec,
    transport: &TransportSpec,
    ids: &mut ExtmapIds,
    sctp_port: u16,
    max_message_size: u64,
    allow_mixed: bool,
) -> Result<Section, Error> {
    let port = if m.bundle_only { 0 } else { 9 };
    let mut s = if m.kind == MediaKind::Application {
        media_line_text("application", port, SCTP_PROTO, DATACHANNEL_FORMAT).section()
    } else {
        let mut pts = Vec::new();
        for c in &m.codecs {
            pts.push(check_pt(c.payload_type)?.to_string());
            if let Some(r) = c.rtx_payload_type {
                pts.push(check_pt(r)?.to_string());
            }
        }
        if pts.is_empty() {
            return Err(Error::Negotiation {
                reason: format!("mid {:?} has no codec", m.mid),
            });
        }
        media_line_text(m.kind.as_str(), port, RTP_PROTO, &pts.join(" ")).section()
    };
    push_transport(&mut s, transport, Setup::Actpass, &m.mid)?;
    if m.bundle_only {
        push(&mut s, Attribute::BundleOnly)?;
    }
    if m.kind == MediaKind::Application {
        push(&mut s, Attribute::SctpPort(sctp_port))?;
        push(&mut s, Attribute::MaxMessageSize(max_message_size))?;
    } else {
        for uri in &m.extensions {
            let id = ids.id_for(uri, allow_mixed)?;
            push(
                &mut s,
                Attribute::Extmap(Extmap {
                    id,
                    direction: None,
                    uri,
                    attributes: None,
                }),
            )?;
        }
        push(&mut s, Attribute::Direction(m.direction))?;
        if let Some((stream, track)) = &m.msid {
            push(
                &mut s,
                Attribute::Msid(Msid {
                    stream,
                    track: Some(track),
                }),
            )?;
        }
        push(&mut s, Attribute::RtcpMux)?;
        push(&mut s, Attribute::RtcpRsize)?;
        for c in &m.codecs {
            push_codec(
                &mut s,
                c.payload_type,
                &c.name,
                c.clock_rate,
                c.channels,
                c.fmtp.as_deref(),
                &c.rtcp_fb,
            )?;
            if let Some(r) = c.rtx_payload_type {
                let apt = format!("apt={}", c.payload_type);
                push_codec(&mut s, r, "rtx", c.clock_rate, None, Some(&apt), &[])?;
            }
        }
        for rid in &m.send_rids {
            push(
                &mut s,
                Attribute::Rid(Rid {
                    id: rid,
                    direction: RidDirection::Send,
                    restrictions: None,
                }),
            )?;
        }
        if !m.send_rids.is_empty() {
            let send = m
                .send_rids
                .iter()
                .map(|r| {
                    vec![crate::attr::SimulcastRid {
                        rid: r,
                        paused: false,
                    }]
                })
                .collect();
            push(
                &mut s,
                Attribute::Simulcast(Simulcast {
                    send,
                    recv: vec![],
                    recv_first: false,
                }),
            )?;
        }
    }
    Ok(s)
}

/// What this endpoint accepts for one kind of media in an answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaCapabilities {
    /// Supported codecs (payload types here are ignored: answers use the offerer's).
    pub codecs: Vec<CodecSpec>,
    /// Supported header extension URIs.
    pub extensions: Vec<String>,
    /// What this side wants (the answer is this intersected with the offer).
    pub direction: Direction,
    /// `a=msid` (stream id, track id) written when the answer sends.
    pub msid: Option<(String, String)>,
    /// Accept offered send simulcast (answer with the rids as `recv`).
    pub receive_simulcast: bool,
}

/// Everything an answer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerSpec {
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version.
    pub session_version: u64,
    /// ICE/DTLS parameters.
    pub transport: TransportSpec,
    /// Audio capabilities (`None` rejects audio).
    pub audio: Option<MediaCapabilities>,
    /// Video capabilities (`None` rejects video).
    pub video: Option<MediaCapabilities>,
    /// Accept a data channel m-section.
    pub data_channel: bool,
    /// `a=sctp-port`.
    pub sctp_port: u16,
    /// `a=max-message-size`.
    pub max_message_size: u64,
}

fn rejected(offer_m: &Section, mid: Option<&str>) -> Result<Section, Error> {
    let ml = offer_m.media_line().ok_or(Error::Negotiation {
        reason: "media section without m= line".into(),
    })?;
    // RFC 3264 §6: port 0, same media and proto, at least one format.
    let formats = if ml.formats.is_empty() {
        "0"
    } else {
        ml.formats
    };
    let mut s = media_line_text(ml.media, 0, ml.proto, formats).section();
    s.push_line('c', "IN IP4 0.0.0.0")?;
    if let Some(mid) = mid {
        push(&mut s, Attribute::Mid(mid))?;
    }
    Ok(s)
}

/// Answers an offer (RFC 8829 §5.3.1). Sections the answerer cannot accept (unknown kind, no
/// common codec, no capabilities) are rejected with port 0 and left out of the BUNDLE group.
/// Accepted sections use port 9 (JSEP's dummy port) and `setup` answering the offered role
/// (`actpass` → `active`). A section offered `bundle-only` with port 0 is accepted when it is
/// in the offered BUNDLE group (RFC 8843 §6: port 0 there does not mean rejected).
pub fn create_answer(
    offer: &SessionDescription,
    spec: &AnswerSpec,
) -> Result<SessionDescription, Error> {
    let offered_bundle = offer.bundle_group();
    let mut accepted_mids: Vec<&str> = Vec::new();
    let mut media = Vec::with_capacity(offer.media.len());
    for (i, om) in offer.media.iter().enumerate() {
        let ml = om.media_line().ok_or(Error::Negotiation {
            reason: format!("m-section {i} has no m= line"),
        })?;
        let mid = om.mid();
        let in_bundle = match (&offered_bundle, mid) {
            (Some(g), Some(m)) => g.mids.contains(&m),
            _ => false,
        };
        let was_rejected = ml.port == 0 && !(om.bundle_only() && in_bundle);
        let setup = offer.setup_for(i).unwrap_or(Setup::Actpass).answer();
        let caps = match ml.media {
            "audio" => spec.audio.as_ref(),
            "video" => spec.video.as_ref(),
            _ => None,
        };
        let section = if was_rejected {
            None
        } else if ml.media == "application" {
            let ok = spec.data_channel
                && ml.proto.ends_with(SCTP_PROTO)
                && ml.format_list().any(|f| f == DATACHANNEL_FORMAT);
            if ok {
                let mut s =
                    media_line_text("application", 9, ml.proto, DATACHANNEL_FORMAT).section();
                push_transport(&mut s, &spec.transport, setup, mid.unwrap_or_default())?;
                push(&mut s, Attribute::SctpPort(spec.sctp_port))?;
                push(&mut s, Attribute::MaxMessageSize(spec.max_message_size))?;
                Some(s)
            } else {
                None
            }
        } else if let (Some(caps), true) = (caps, ml.is_rtp()) {
            answer_rtp(offer, i, om, &ml, caps, spec, setup)?
        } else {
            None
        };
        match section {
            Some(s) => {
                if let Some(m) = mid {
                    accepted_mids.push(m);
                }
                media.push(s);
            }
            None => media.push(rejected(om, mid)?),
        }
    }
    let group = offered_bundle.map(|g| Group {
        semantics: "BUNDLE",
        mids: g
            .mids
            .iter()
            .copied()
            .filter(|m| accepted_mids.contains(m))
            .collect(),
    });
    let group = group.filter(|g| !g.mids.is_empty());
    let session = session_head(
        spec.session_id,
        spec.session_version,
        &spec.transport,
        group,
        offer.session.extmap_allow_mixed(),
    )?;
    SessionDescription::parse(&SessionDescription { session, media }.serialize())
}

/// rid restrictions an answer keeps (RFC 8851 §4, §6.2; JSEP RFC 8829 §5.3.1): the
/// payload-type list narrowed to the answer's payload types (the answer uses the offerer's),
/// and the codec-independent restrictions of RFC 8851 §5 this crate knows, values as offered.
/// Unknown restrictions are dropped (§6.2: the answerer removes what it does not understand).
pub const RID_RESTRICTIONS: [&str; 8] = [
    "max-width",
    "max-height",
    "max-fps",
    "max-fs",
    "max-br",
    "max-pps",
    "max-bpp",
    "depend",
];

/// The restrictions of the answer's `a=rid:<id> recv` for an offered send rid: `Some(None)`
/// for none, `Some(Some(text))`, or `None` when the rid must be left out because none of
/// its `pt=` payload types is in the answer (RFC 8851 §6.2).
pub fn answer_rid_restrictions(offered: &Rid<'_>, answer_pts: &[u8]) -> Option<Option<String>> {
    let mut out: Vec<String> = Vec::new();
    for (k, v) in offered.params() {
        if k == "pt" {
            let pts: Vec<String> = v
                .unwrap_or_default()
                .split(',')
                .filter_map(|p| p.parse::<u8>().ok())
                .filter(|p| answer_pts.contains(p))
                .map(|p| p.to_string())
                .collect();
            if pts.is_empty() {
                return None;
            }
            out.push(format!("pt={}", pts.join(",")));
        } else if let (true, Some(v)) = (RID_RESTRICTIONS.contains(&k), v) {
            out.push(format!("{k}={v}"));
        }
    }
    Some((!out.is_empty()).then(|| out.join(";")))
}

fn answer_rtp(
    offer: &SessionDescription,
    i: usize,
    om: &Section,
    ml: &MediaLine<'_>,
    caps: &MediaCapabilities,
    spec: &AnswerSpec,
    setup: Setup,
) -> Result<Option<Section>, Error> {
    let codecs = negotiate_codecs(&om.codecs(), &caps.codecs);
    if !codecs
        .iter()
        .any(|c| !c.name.eq_ignore_ascii_case("rtx") && !c.name.eq_ignore_ascii_case("red"))
    {
        return Ok(None);
    }
    let pts: Vec<String> = codecs.iter().map(|c| c.payload_type.to_string()).collect();
    let mut s = media_line_text(ml.media, 9, ml.proto, &pts.join(" ")).section();
    let mid = om.mid().unwrap_or_default();
    push_transport(&mut s, &spec.transport, setup, mid)?;
    for e in negotiate_extmaps(&offer.extmaps_for(i), &caps.extensions) {
        push(&mut s, Attribute::Extmap(e))?;
    }
    let dir = Direction::answer(offer.direction_for(i), caps.direction);
    push(&mut s, Attribute::Direction(dir))?;
    if dir.sends() {
        if let Some((stream, track)) = &caps.msid {
            push(
                &mut s,
                Attribute::Msid(Msid {
                    stream,
                    track: Some(track),
                }),
            )?;
        }
    }
    if om.rtcp_mux() || om.rtcp_mux_only() {
        push(&mut s, Attribute::RtcpMux)?;
    }
    if om.rtcp_rsize() {
        push(&mut s, Attribute::RtcpRsize)?;
    }
    for c in &codecs {
        push_codec(
            &mut s,
            c.payload_type,
            &c.name,
            c.clock_rate,
            c.channels,
            c.fmtp.as_deref(),
            &c.rtcp_fb,
        )?;
    }
    if caps.receive_simulcast && dir.receives() {
        if let Some(sc) = om.simulcast().filter(|sc| !sc.send.is_empty()) {
            let answer_pts: Vec<u8> = codecs.iter().map(|c| c.payload_type).collect();
            let mut kept: Vec<(&str, Option<String>)> = Vec::new();
            for r in om
                .rids()
                .iter()
                .filter(|r| r.direction == RidDirection::Send)
            {
                if let Some(restrictions) = answer_rid_restrictions(r, &answer_pts) {
                    kept.push((r.id, restrictions));
                }
            }
            for (id, restrictions) in &kept {
                push(
                    &mut s,
                    Attribute::Rid(Rid {
                        id,
                        direction: RidDirection::Recv,
                        restrictions: restrictions.as_deref(),
                    }),
                )?;
            }
            // RFC 8853 §5.3: the answer's stream list names only the rids it kept.
            let recv: Vec<_> = sc
                .send
                .iter()
                .map(|alts| {
                    alts.iter()
                        .copied()
                        .filter(|a| kept.iter().any(|(id, _)| *id == a.rid))
                        .collect::<Vec<_>>()
                })
                .filter(|alts| !alts.is_empty())
                .collect();
            if !recv.is_empty() {
                let answer = Simulcast {
                    send: vec![],
                    recv,
                    recv_first: true,
                };
                push(&mut s, Attribute::Simulcast(answer))?;
            }
        }
    }
    Ok(Some(s))
}

/// What a subsequent offer changes (RFC 8829 §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReofferSpec {
    /// ICE restart (RFC 8839 §4.4.1.1.1, RFC 8829 §5.2.2): new ufrag and pwd written in every
    /// m-section; old candidates and `end-of-candidates` are dropped.
    pub ice_restart: Option<(String, String)>,
    /// New m-sections. Each first recycles an m-section rejected in the current local or remote
    /// description (same index, new mid, RFC 8829 §5.2.2); the rest are appended.
    pub add_media: Vec<MediaSpec>,
    /// `a=sctp-port` for a new data channel section.
    pub sctp_port: u16,
    /// `a=max-message-size` for a new data channel section.
    pub max_message_size: u64,
}

/// Was this m-section rejected (port 0 without `bundle-only`, RFC 3264 §6, RFC 8843 §6)?
fn is_rejected(m: &Section) -> bool {
    m.media_line().is_none_or(|ml| ml.port == 0) && !m.bundle_only()
}

/// Copies an accepted m-section of the current local description into a re-offer: every line
/// kept (payload types, extmap ids, direction, msid, rids, sctp-port, …) except `a=setup`,
/// written `actpass` (RFC 8829 §5.2.2, RFC 8842 §5.5), and the ICE credentials on restart.
fn reoffer_section(m: &Section, restart: Option<(&str, &str)>) -> Result<Section, Error> {
    let mut s = Section::new();
    for l in m.lines() {
        let name = match l.value.split_once(':') {
            Some((n, _)) => n,
            None => l.value,
        };
        if l.kind != 'a' {
            s.push_line(l.kind, l.value)?;
            continue;
        }
        match (name, restart) {
            ("setup", _) => push(&mut s, Attribute::Setup(Setup::Actpass))?,
            ("ice-ufrag", Some((u, _))) => push(&mut s, Attribute::IceUfrag(u))?,
            ("ice-pwd", Some((_, p))) => push(&mut s, Attribute::IcePwd(p))?,
            ("candidate" | "end-of-candidates", Some(_)) => {}
            _ => s.push_line('a', l.value)?,
        }
    }
    Ok(s)
}

/// Writes a subsequent offer (RFC 8829 §5.2.2) from the current negotiated state: `local` is
/// this side's current local description (its last offer, or its last answer), `remote` the
/// peer's. The offer keeps the mids in their order, the ICE credentials (unless
/// `ice_restart`), the fingerprints, the payload types and extmap ids; sections rejected in
/// either description stay rejected (port 0, mid only) unless recycled for `add_media`; new
/// sections are appended, their extmap ids taken from the same id space; every section says
/// `a=setup:actpass`; `o=` keeps the session id and increments the version; the BUNDLE group
/// lists every accepted mid.
pub fn create_reoffer(
    local: &SessionDescription,
    remote: &SessionDescription,
    spec: &ReofferSpec,
) -> Result<SessionDescription, Error> {
    let origin = local.origin().ok_or(Error::Negotiation {
        reason: "the local description has no o= line".into(),
    })?;
    let restart = spec
        .ice_restart
        .as_ref()
        .map(|(u, p)| (u.as_str(), p.as_str()));
    let rejected_at = |i: usize| {
        local.media.get(i).is_none_or(is_rejected) || remote.media.get(i).is_some_and(is_rejected)
    };
    let accepted: Vec<usize> = (0..local.media.len())
        .filter(|&i| !rejected_at(i))
        .collect();
    // Transport for new sections: this side's current ICE and DTLS parameters.
    let first = accepted.first().copied().unwrap_or(0);
    let (ufrag, pwd) = match (restart, local.ice_credentials(first)) {
        (Some((u, p)), _) | (None, Some((u, p))) => (u, p),
        (None, None) if spec.add_media.is_empty() => ("", ""),
        (None, None) => {
            return Err(Error::Negotiation {
                reason: "no ICE credentials to reuse for new m-sections (use ice_restart)".into(),
            });
        }
    };
    let options_of = |s: &Section| s.ice_options().iter().map(|o| (*o).to_owned()).collect();
    let mut ice_options: Vec<String> = local.media.get(first).map(options_of).unwrap_or_default();
    if ice_options.is_empty() {
        ice_options = options_of(&local.session);
    }
    let transport = TransportSpec {
        ice_ufrag: ufrag.to_owned(),
        ice_pwd: pwd.to_owned(),
        ice_options,
        ice_lite: false,
        fingerprints: local.fingerprints_for(first),
    };
    let allow_mixed = local.session.extmap_allow_mixed();
    // Ids seen anywhere in the local description stay taken (also those of rejected
    // sections: a peer may still map them), so new URIs never reuse an id.
    let mut ids = ExtmapIds::default();
    for i in 0..local.media.len() {
        for e in local.extmaps_for(i) {
            if !ids.used.iter().any(|(u, _)| u == e.uri) {
                ids.used.push((e.uri.to_owned(), e.id));
            }
        }
    }
    let existing: Vec<&str> = local.media.iter().filter_map(Section::mid).collect();
    for (n, m) in spec.add_media.iter().enumerate() {
        let dup_new = spec
            .add_media
            .get(..n)
            .is_some_and(|p| p.iter().any(|x| x.mid == m.mid));
        if m.mid.is_empty() || m.mid.contains(' ') || existing.contains(&m.mid.as_str()) || dup_new
        {
            return Err(Error::Negotiation {
                reason: format!("bad or duplicate mid {:?} in a re-offer", m.mid),
            });
        }
    }
    let mut new_media = spec.add_media.iter();
    let mut media = Vec::with_capacity(local.media.len() + spec.add_media.len());
    let mut bundle: Vec<String> = Vec::new();
    let mut new_section = |m: &MediaSpec, bundle: &mut Vec<String>| {
        bundle.push(m.mid.clone());
        offer_section(
            m,
            &transport,
            &mut ids,
            spec.sctp_port,
            spec.max_message_size,
            allow_mixed,
        )
    };
    for (i, m) in local.media.iter().enumerate() {
        if !rejected_at(i) {
            if let Some(mid) = m.mid() {
                bundle.push(mid.to_owned());
            }
            media.push(reoffer_section(m, restart)?);
        } else if let Some(n) = new_media.next() {
            media.push(new_section(n, &mut bundle)?);
        } else {
            media.push(rejected(m, m.mid())?);
        }
    }
    for n in new_media {
        media.push(new_section(n, &mut bundle)?);
    }
    // Session level: as before, with a higher version, the new BUNDLE group and credentials.
    let version = origin.version().checked_add(1).ok_or(Error::Negotiation {
        reason: "o= session version cannot be incremented".into(),
    })?;
    let o = format!(
        "{} {} {version} {} {} {}",
        origin.username, origin.session_id, origin.nettype, origin.addrtype, origin.address
    );
    let group = Group {
        semantics: "BUNDLE",
        mids: bundle.iter().map(String::as_str).collect(),
    };
    let mut session = Section::new();
    let mut wrote_group = false;
    for l in local.session.lines() {
        let is_bundle = l.kind == 'a' && l.value.starts_with("group:BUNDLE");
        match l.kind {
            'o' => session.push_line('o', &o)?,
            _ if is_bundle => {
                if !wrote_group && !group.mids.is_empty() {
                    push(&mut session, Attribute::Group(group.clone()))?;
                }
                wrote_group = true;
            }
            'a' if restart.is_some() && l.value.starts_with("ice-ufrag:") => {
                push(&mut session, Attribute::IceUfrag(ufrag))?;
            }
            'a' if restart.is_some() && l.value.starts_with("ice-pwd:") => {
                push(&mut session, Attribute::IcePwd(pwd))?;
            }
            _ => session.push_line(l.kind, l.value)?,
        }
        if l.kind == 't'
            && !wrote_group
            && !group.mids.is_empty()
            && !local
                .session
                .values('a')
                .any(|v| v.starts_with("group:BUNDLE"))
        {
            push(&mut session, Attribute::Group(group.clone()))?;
            wrote_group = true;
        }
    }
    SessionDescription::parse(&SessionDescription { session, media }.serialize())
}
