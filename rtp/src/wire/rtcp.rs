//! RTCP (RFC 3550 §6) compound packets and the feedback messages WebRTC uses.
//!
//! [`RtcpCompound`] walks a compound packet by its length fields, yielding a
//! [`RawRtcp`] view per packet without copying. [`RtcpPacket::parse`] turns one into a typed
//! value; [`parse_compound`] does both. A packet of an unknown type, or a malformed packet
//! whose length field is still sane, does not stop the following packets from parsing.
//! Reduced-size RTCP (RFC 5506) is accepted: nothing requires the first packet to be SR/RR.
//!
//! Builders: every [`RtcpPacket`] has `buffer_len` and `emit`; [`emit_compound`] writes several.

use crate::error::{Error, Result, check_out, truncated};
use crate::wire::util::{Reader, Writer, u16_at};

/// RTCP packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611 §2).
pub mod packet_type {
    /// Sender report.
    pub const SR: u8 = 200;
    /// Receiver report.
    pub const RR: u8 = 201;
    /// Source description.
    pub const SDES: u8 = 202;
    /// Goodbye.
    pub const BYE: u8 = 203;
    /// Application-defined.
    pub const APP: u8 = 204;
    /// Transport-layer feedback (RFC 4585).
    pub const RTPFB: u8 = 205;
    /// Payload-specific feedback (RFC 4585).
    pub const PSFB: u8 = 206;
    /// Extended report (RFC 3611).
    pub const XR: u8 = 207;
}

/// Hostile-input cap: feedback list entries (NACK pairs, FIR, SLI, REMB SSRCs) per packet.
pub const MAX_FCI_ENTRIES: usize = 4096;
/// Hostile-input cap: statuses in one transport-wide CC feedback (the field is 16 bits).
pub const MAX_TWCC_STATUSES: usize = 65535;

/// A zero-copy view over one packet of a compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRtcp<'a> {
    /// P bit.
    pub padding: bool,
    /// The 5-bit count / FMT / subtype field.
    pub count: u8,
    /// Packet type.
    pub packet_type: u8,
    /// The whole packet, header and padding included.
    pub bytes: &'a [u8],
    /// The body after the 4-octet header, padding removed.
    pub body: &'a [u8],
}

impl<'a> RawRtcp<'a> {
    /// Validates the first packet in `buf` and returns it and the number of octets it uses.
    pub fn parse(buf: &'a [u8]) -> Result<(Self, usize)> {
        let [b0, pt, ..] = *buf else {
            return Err(truncated("RTCP header", 4, buf.len()));
        };
        let Some(words) = u16_at(buf, 2) else {
            return Err(truncated("RTCP header", 4, buf.len()));
        };
        if b0 >> 6 != 2 {
            return Err(Error::InvalidField {
                field: "RTCP version",
                value: u64::from(b0 >> 6),
            });
        }
        let len = 4 * (usize::from(words) + 1);
        let Some(bytes) = buf.get(..len) else {
            return Err(Error::BadLength {
                what: "RTCP length field",
                claimed: len,
                available: buf.len(),
            });
        };
        let padding = b0 & 0x20 != 0;
        let mut end = len;
        if padding {
            let pad = usize::from(bytes.last().copied().unwrap_or(0));
            if pad == 0 || pad > len - 4 {
                return Err(Error::BadLength {
                    what: "RTCP padding",
                    claimed: pad,
                    available: len - 4,
                });
            }
            end = len - pad;
        }
        Ok((
            RawRtcp {
                padding,
                count: b0 & 0x1F,
                packet_type: pt,
                bytes,
                body: bytes.get(4..end).unwrap_or(&[]),
            },
            len,
        ))
    }
}

/// Iterator over the packets of a compound, see [`RtcpCompound::new`].
#[derive(Debug, Clone)]
pub struct RtcpCompound<'a> {
    rest: &'a [u8],
}

impl<'a> RtcpCompound<'a> {
    /// Walks `buf`. A packet whose length field overruns the buffer yields one error and ends
    /// the walk (the following boundaries are unknown).
    pub fn new(buf: &'a [u8]) -> Self {
        RtcpCompound { rest: buf }
    }
}

impl<'a> Iterator for RtcpCompound<'a> {
    type Item = Result<RawRtcp<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match RawRtcp::parse(self.rest) {
            Ok((p, n)) => {
                self.rest = self.rest.get(n..).unwrap_or(&[]);
                Some(Ok(p))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// Parses every packet of a compound; see the module docs for error behaviour.
pub fn parse_compound(buf: &[u8]) -> impl Iterator<Item = Result<RtcpPacket>> + '_ {
    RtcpCompound::new(buf).map(|r| r.and_then(|raw| RtcpPacket::parse(&raw)))
}

/// A reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// SSRC of the source reported on.
    pub ssrc: u32,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost (signed 24 bits).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter, in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the last SR's NTP timestamp (LSR).
    pub last_sr: u32,
    /// Delay since last SR, in 1/65536 s (DLSR).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    const LEN: usize = 24;
    fn parse(r: &mut Reader<'_>) -> Result<Self> {
        let ssrc = r.u32("report block")?;
        let fraction_lost = r.u8("report block")?;
        let lost = r.u24("report block")?;
        // Sign-extend the 24-bit field.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        Ok(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost,
            extended_highest_seq: r.u32("report block")?,
            jitter: r.u32("report block")?,
            last_sr: r.u32("report block")?,
            delay_since_last_sr: r.u32("report block")?,
        })
    }
    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u32(self.ssrc)?;
        w.u8(self.fraction_lost)?;
        w.u24((self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32) & 0x00FF_FFFF)?;
        w.u32(self.extended_highest_seq)?;
        w.u32(self.jitter)?;
        w.u32(self.last_sr)?;
        w.u32(self.delay_since_last_sr)
    }
}

/// Sender report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// SSRC of the sender.
    pub ssrc: u32,
    /// NTP timestamp (UQ32.32).
    pub ntp_time: u64,
    /// RTP timestamp corresponding to `ntp_time`.
    pub rtp_time: u32,
    /// Sender's packet count.
    pub packet_count: u32,
    /// Sender's octet count.
    pub octet_count: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension octets after the blocks.
    pub profile_extension: Vec<u8>,
}

/// Receiver report (RFC 3550 §6.4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// SSRC of the report's sender.
    pub ssrc: u32,
    /// Reception report blocks (at most 31).
    pub reports: Vec<ReportBlock>,
    /// Profile-specific extension octets after the blocks.
    pub profile_extension: Vec<u8>,
}

/// SDES item types (RFC 3550 §6.5).
pub mod sdes_type {
    /// CNAME.
    pub const CNAME: u8 = 1;
    /// NAME.
    pub const NAME: u8 = 2;
    /// EMAIL.
    pub const EMAIL: u8 = 3;
    /// PHONE.
    pub const PHONE: u8 = 4;
    /// LOC.
    pub const LOC: u8 = 5;
    /// TOOL.
    pub const TOOL: u8 = 6;
    /// NOTE.
    pub const NOTE: u8 = 7;
    /// PRIV.
    pub const PRIV: u8 = 8;
    /// MID (RFC 9143 §14.2).
    pub const MID: u8 = 12;
}

/// One SDES item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesItem {
    /// Item type (1..=255).
    pub kind: u8,
    /// Item value (at most 255 octets; UTF-8 by RFC 3550, kept as bytes).
    pub value: Vec<u8>,
}

/// One SDES chunk: an SSRC/CSRC and its items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source.
    pub ssrc: u32,
    /// Its items.
    pub items: Vec<SdesItem>,
}

/// Goodbye (RFC 3550 §6.6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Goodbye {
    /// Sources leaving (at most 31).
    pub sources: Vec<u32>,
    /// Optional reason (at most 255 octets).
    pub reason: Option<Vec<u8>>,
}

/// Application-defined packet (RFC 3550 §6.7).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct App {
    /// 5-bit subtype.
    pub subtype: u8,
    /// SSRC/CSRC.
    pub ssrc: u32,
    /// Four ASCII characters.
    pub name: [u8; 4],
    /// Application data (a multiple of 4 octets).
    pub data: Vec<u8>,
}

/// One Generic NACK FCI entry (RFC 4585 §6.2.1): PID and bitmask of following losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NackPair {
    /// Packet ID: a lost sequence number.
    pub pid: u16,
    /// Bitmask of following lost packets: bit i set means `pid + i + 1` was lost.
    pub blp: u16,
}

impl NackPair {
    /// Every sequence number this pair reports lost.
    pub fn lost(&self) -> impl Iterator<Item = u16> + '_ {
        core::iter::once(self.pid).chain(
            (0..16u16)
                .filter(|i| self.blp & (1 << i) != 0)
                .map(|i| self.pid.wrapping_add(i + 1)),
        )
    }
}

/// Generic NACK (RFC 4585 §6.2.1), RTPFB FMT 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Nack {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
    /// FCI entries.
    pub pairs: Vec<NackPair>,
}

impl Nack {
    /// Builds the pairs from sequence numbers (in the order given; consecutive ones within
    /// 16 of a pair's PID share it).
    pub fn from_sequence_numbers(sender_ssrc: u32, media_ssrc: u32, seqs: &[u16]) -> Self {
        let mut pairs: Vec<NackPair> = Vec::new();
        for &s in seqs {
            if let Some(last) = pairs.last_mut() {
                let d = s.wrapping_sub(last.pid);
                if (1..=16).contains(&d) {
                    last.blp |= 1 << (d - 1);
                    continue;
                }
                if d == 0 {
                    continue;
                }
            }
            pairs.push(NackPair { pid: s, blp: 0 });
        }
        Nack {
            sender_ssrc,
            media_ssrc,
            pairs,
        }
    }
    /// Every lost sequence number, in FCI order.
    pub fn lost(&self) -> impl Iterator<Item = u16> + '_ {
        self.pairs.iter().flat_map(|p| p.lost())
    }
}

/// Status of one packet in a transport-wide CC feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketStatus {
    /// Not received.
    NotReceived,
    /// Received; delta from the previous received packet (or the reference time) in
    /// 250 µs ticks. 0..=255 is sent as a "small delta", anything else as a "large delta".
    Received(i16),
}

/// Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
/// extensions-01 §3.1), RTPFB FMT 15.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransportFeedback {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
    /// Transport-wide sequence number of the first packet described.
    pub base_sequence: u16,
    /// Reference time, signed 24 bits, in multiples of 64 ms.
    pub reference_time: i32,
    /// Feedback packet count (wraps).
    pub feedback_count: u8,
    /// One status per packet from `base_sequence` on.
    pub statuses: Vec<PacketStatus>,
}

/// One RFC 8888 per-packet metric block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcfbMetric {
    /// R: the packet was received.
    pub received: bool,
    /// ECN bits (2).
    pub ecn: u8,
    /// Arrival time offset, 13 bits, in 1/1024 s before the report timestamp.
    pub arrival_time_offset: u16,
}

/// The RFC 8888 reports for one RTP stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CcfbStream {
    /// SSRC of the stream.
    pub ssrc: u32,
    /// First sequence number reported.
    pub begin_seq: u16,
    /// One metric per sequence number from `begin_seq`.
    pub metrics: Vec<CcfbMetric>,
}

/// RTP Congestion Control Feedback (RFC 8888 §3.1), RTPFB FMT 11.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CcFeedback {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// Per-stream report blocks.
    pub streams: Vec<CcfbStream>,
    /// Report timestamp: middle 32 bits of NTP.
    pub report_timestamp: u32,
}

/// Picture loss indication (RFC 4585 §6.3.1), PSFB FMT 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pli {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
}

/// One SLI entry (RFC 4585 §6.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliEntry {
    /// First lost macroblock (13 bits).
    pub first: u16,
    /// Number of lost macroblocks (13 bits).
    pub number: u16,
    /// Picture ID (6 bits).
    pub picture_id: u8,
}

/// Slice loss indication (RFC 4585 §6.3.2), PSFB FMT 2.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sli {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
    /// Entries.
    pub entries: Vec<SliEntry>,
}

/// One FIR entry (RFC 5104 §4.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirEntry {
    /// SSRC of the media sender asked for a decoder refresh.
    pub ssrc: u32,
    /// Command sequence number.
    pub seq: u8,
}

/// Full intra request (RFC 5104 §4.3.1), PSFB FMT 4.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fir {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// Entries.
    pub entries: Vec<FirEntry>,
}

/// Receiver estimated max bitrate (draft-alvestrand-rmcat-remb-03), PSFB FMT 15 "REMB".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Remb {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// Estimated bitrate in bits/s (encoded as an 18-bit mantissa and 6-bit exponent).
    pub bitrate: u64,
    /// SSRCs the estimate applies to (at most 255).
    pub ssrcs: Vec<u32>,
}

/// One DLRR sub-block (RFC 3611 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlrrItem {
    /// Receiver SSRC.
    pub ssrc: u32,
    /// Last RR timestamp (middle 32 bits of NTP).
    pub last_rr: u32,
    /// Delay since last RR, 1/65536 s.
    pub delay_since_last_rr: u32,
}

/// One XR report block (RFC 3611 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XrBlock {
    /// Receiver reference time (RFC 3611 §4.4), BT 4.
    ReceiverReferenceTime {
        /// NTP timestamp.
        ntp_time: u64,
    },
    /// DLRR (RFC 3611 §4.5), BT 5.
    Dlrr(Vec<DlrrItem>),
    /// A block type this crate does not interpret.
    Unknown {
        /// BT.
        block_type: u8,
        /// Type-specific octet.
        type_specific: u8,
        /// Block contents (a multiple of 4 octets).
        data: Vec<u8>,
    },
}

/// Extended report (RFC 3611 §2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtendedReport {
    /// SSRC of the packet sender.
    pub ssrc: u32,
    /// Report blocks.
    pub blocks: Vec<XrBlock>,
}

/// A feedback message (RTPFB/PSFB) with an FMT this crate does not interpret.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenericFeedback {
    /// 205 or 206.
    pub packet_type: u8,
    /// FMT.
    pub fmt: u8,
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
    /// Feedback control information (a multiple of 4 octets).
    pub fci: Vec<u8>,
}

/// A packet with a type this crate does not interpret (kept whole).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnknownPacket {
    /// Packet type.
    pub packet_type: u8,
    /// The 5-bit count field.
    pub count: u8,
    /// Body after the header (a multiple of 4 octets).
    pub body: Vec<u8>,
}

/// A parsed RTCP packet.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR.
    SenderReport(SenderReport),
    /// RR.
    ReceiverReport(ReceiverReport),
    /// SDES chunks.
    SourceDescription(Vec<SdesChunk>),
    /// BYE.
    Goodbye(Goodbye),
    /// APP.
    App(App),
    /// Generic NACK.
    Nack(Nack),
    /// Transport-wide CC feedback.
    TransportFeedback(TransportFeedback),
    /// RFC 8888 CCFB.
    CcFeedback(CcFeedback),
    /// PLI.
    Pli(Pli),
    /// SLI.
    Sli(Sli),
    /// FIR.
    Fir(Fir),
    /// REMB.
    Remb(Remb),
    /// XR.
    ExtendedReport(ExtendedReport),
    /// RTPFB/PSFB with another FMT.
    GenericFeedback(GenericFeedback),
    /// Another packet type.
    Unknown(UnknownPacket),
}

fn bounded<T>(n: usize, what: &'static str) -> Result<Vec<T>> {
    if n > MAX_FCI_ENTRIES.max(MAX_TWCC_STATUSES) {
        return Err(Error::LimitExceeded {
            what,
            limit: MAX_FCI_ENTRIES,
        });
    }
    Ok(Vec::with_capacity(n))
}

fn parse_reports(r: &mut Reader<'_>, count: u8) -> Result<Vec<ReportBlock>> {
    let n = usize::from(count);
    if r.remaining() < n * ReportBlock::LEN {
        return Err(Error::BadLength {
            what: "report blocks (RC)",
            claimed: n * ReportBlock::LEN,
            available: r.remaining(),
        });
    }
    (0..n).map(|_| ReportBlock::parse(r)).collect()
}

impl RtcpPacket {
    /// Interprets one raw packet.
    pub fn parse(raw: &RawRtcp<'_>) -> Result<Self> {
        let mut r = Reader::new(raw.body);
        use packet_type::*;
        Ok(match raw.packet_type {
            SR => {
                let ssrc = r.u32("SR sender info")?;
                let ntp_time = r.u64("SR sender info")?;
                let rtp_time = r.u32("SR sender info")?;
                let packet_count = r.u32("SR sender info")?;
                let octet_count = r.u32("SR sender info")?;
                let reports = parse_reports(&mut r, raw.count)?;
                RtcpPacket::SenderReport(SenderReport {
                    ssrc,
                    ntp_time,
                    rtp_time,
                    packet_count,
                    octet_count,
                    reports,
                    profile_extension: r.rest().to_vec(),
                })
            }
            RR => {
                let ssrc = r.u32("RR SSRC")?;
                let reports = parse_reports(&mut r, raw.count)?;
                RtcpPacket::ReceiverReport(ReceiverReport {
                    ssrc,
                    reports,
                    profile_extension: r.rest().to_vec(),
                })
            }
            SDES => RtcpPacket::SourceDescription(parse_sdes(&mut r, raw.count)?),
            BYE => {
                let n = usize::from(raw.count);
                let mut sources = Vec::with_capacity(n);
                for _ in 0..n {
                    sources.push(r.u32("BYE SSRC list")?);
                }
                let reason = if r.remaining() > 0 {
                    let len = usize::from(r.u8("BYE reason length")?);
                    Some(r.take(len, "BYE reason")?.to_vec())
                } else {
                    None
                };
                RtcpPacket::Goodbye(Goodbye { sources, reason })
            }
            APP => {
                let ssrc = r.u32("APP SSRC")?;
                let mut name = [0u8; 4];
                name.copy_from_slice(r.take(4, "APP name")?);
                RtcpPacket::App(App {
                    subtype: raw.count,
                    ssrc,
                    name,
                    data: r.rest().to_vec(),
                })
            }
            RTPFB | PSFB => parse_feedback(raw, &mut r)?,
            XR => {
                let ssrc = r.u32("XR SSRC")?;
                let mut blocks = Vec::new();
                while r.remaining() > 0 {
                    if blocks.len() >= MAX_FCI_ENTRIES {
                        return Err(Error::LimitExceeded {
                            what: "XR blocks",
                            limit: MAX_FCI_ENTRIES,
                        });
                    }
                    let bt = r.u8("XR block header")?;
                    let ts = r.u8("XR block header")?;
                    let words = usize::from(r.u16("XR block header")?);
                    let data = r.take(4 * words, "XR block")?;
                    let mut br = Reader::new(data);
                    blocks.push(match bt {
                        4 if words == 2 => XrBlock::ReceiverReferenceTime {
                            ntp_time: br.u64("XR RRTR")?,
                        },
                        5 => {
                            let mut items = Vec::with_capacity(words / 3);
                            while br.remaining() > 0 {
                                items.push(DlrrItem {
                                    ssrc: br.u32("XR DLRR sub-block")?,
                                    last_rr: br.u32("XR DLRR sub-block")?,
                                    delay_since_last_rr: br.u32("XR DLRR sub-block")?,
                                });
                            }
                            XrBlock::Dlrr(items)
                        }
                        _ => XrBlock::Unknown {
                            block_type: bt,
                            type_specific: ts,
                            data: data.to_vec(),
                        },
                    });
                }
                RtcpPacket::ExtendedReport(ExtendedReport { ssrc, blocks })
            }
            other => RtcpPacket::Unknown(UnknownPacket {
                packet_type: other,
                count: raw.count,
                body: raw.body.to_vec(),
            }),
        })
    }

    /// Parses a buffer holding exactly one packet.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        let (raw, _) = RawRtcp::parse(buf)?;
        Self::parse(&raw)
    }

    /// A short name of the packet kind ("SR", "NACK", "TWCC", ...).
    pub fn name(&self) -> &'static str {
        match self {
            RtcpPacket::SenderReport(_) => "SR",
            RtcpPacket::ReceiverReport(_) => "RR",
            RtcpPacket::SourceDescription(_) => "SDES",
            RtcpPacket::Goodbye(_) => "BYE",
            RtcpPacket::App(_) => "APP",
            RtcpPacket::Nack(_) => "NACK",
            RtcpPacket::TransportFeedback(_) => "TWCC",
            RtcpPacket::CcFeedback(_) => "CCFB",
            RtcpPacket::Pli(_) => "PLI",
            RtcpPacket::Sli(_) => "SLI",
            RtcpPacket::Fir(_) => "FIR",
            RtcpPacket::Remb(_) => "REMB",
            RtcpPacket::ExtendedReport(_) => "XR",
            RtcpPacket::GenericFeedback(_) => "FB",
            RtcpPacket::Unknown(_) => "UNKNOWN",
        }
    }
}

fn parse_sdes(r: &mut Reader<'_>, count: u8) -> Result<Vec<SdesChunk>> {
    let mut chunks = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let start = r.remaining();
        let ssrc = r.u32("SDES chunk SSRC")?;
        let mut items = Vec::new();
        loop {
            let kind = r.u8("SDES item (missing END)")?;
            if kind == 0 {
                // END item, then pad the chunk to a 32-bit boundary (RFC 3550 §6.5).
                let used = start - r.remaining();
                let pad = (4 - used % 4) % 4;
                r.take(pad, "SDES chunk padding")?;
                break;
            }
            let len = usize::from(r.u8("SDES item length")?);
            let value = r.take(len, "SDES item")?.to_vec();
            items.push(SdesItem { kind, value });
        }
        chunks.push(SdesChunk { ssrc, items });
    }
    Ok(chunks)
}

fn parse_feedback(raw: &RawRtcp<'_>, r: &mut Reader<'_>) -> Result<RtcpPacket> {
    let sender_ssrc = r.u32("feedback sender SSRC")?;
    let fmt = raw.count;
    if raw.packet_type == packet_type::RTPFB && fmt == 11 {
        return parse_ccfb(sender_ssrc, r);
    }
    let media_ssrc = r.u32("feedback media SSRC")?;
    let fci = r.rest();
    let n4 = fci.len() / 4;
    Ok(match (raw.packet_type, fmt) {
        (packet_type::RTPFB, 1) => {
            if n4 > MAX_FCI_ENTRIES {
                return Err(Error::LimitExceeded {
                    what: "NACK FCI entries",
                    limit: MAX_FCI_ENTRIES,
                });
            }
            let mut pairs = Vec::with_capacity(n4);
            for _ in 0..n4 {
                pairs.push(NackPair {
                    pid: r.u16("NACK FCI")?,
                    blp: r.u16("NACK FCI")?,
                });
            }
            RtcpPacket::Nack(Nack {
                sender_ssrc,
                media_ssrc,
                pairs,
            })
        }
        (packet_type::RTPFB, 15) => {
            RtcpPacket::TransportFeedback(parse_twcc(sender_ssrc, media_ssrc, r)?)
        }
        (packet_type::PSFB, 1) => RtcpPacket::Pli(Pli {
            sender_ssrc,
            media_ssrc,
        }),
        (packet_type::PSFB, 2) => {
            let mut entries = bounded(n4, "SLI entries")?;
            for _ in 0..n4 {
                let v = r.u32("SLI FCI")?;
                entries.push(SliEntry {
                    first: (v >> 19) as u16,
                    number: ((v >> 6) & 0x1FFF) as u16,
                    picture_id: (v & 0x3F) as u8,
                });
            }
            RtcpPacket::Sli(Sli {
                sender_ssrc,
                media_ssrc,
                entries,
            })
        }
        (packet_type::PSFB, 4) => {
            let n = fci.len() / 8;
            let mut entries = bounded(n, "FIR entries")?;
            for _ in 0..n {
                let ssrc = r.u32("FIR FCI")?;
                let seq = r.u8("FIR FCI")?;
                r.take(3, "FIR FCI")?;
                entries.push(FirEntry { ssrc, seq });
            }
            RtcpPacket::Fir(Fir {
                sender_ssrc,
                entries,
            })
        }
        (packet_type::PSFB, 15) if fci.starts_with(b"REMB") => {
            r.take(4, "REMB identifier")?;
            let num = usize::from(r.u8("REMB")?);
            let v = r.u24("REMB bitrate")?;
            let exp = v >> 18;
            let mantissa = u64::from(v & 0x3_FFFF);
            // 18 + 46 bits fill a u64; larger exponents saturate at the largest value the
            // encoder can represent, so that parse -> emit -> parse is stable.
            let bitrate = if mantissa == 0 {
                0
            } else if exp > 46 {
                0x3_FFFF << 46
            } else {
                mantissa << exp
            };
            let mut ssrcs = Vec::with_capacity(num);
            for _ in 0..num {
                ssrcs.push(r.u32("REMB SSRC list")?);
            }
            RtcpPacket::Remb(Remb {
                sender_ssrc,
                bitrate,
                ssrcs,
            })
        }
        (pt, fmt) => RtcpPacket::GenericFeedback(GenericFeedback {
            packet_type: pt,
            fmt,
            sender_ssrc,
            media_ssrc,
            fci: fci.to_vec(),
        }),
    })
}

fn parse_twcc(sender_ssrc: u32, media_ssrc: u32, r: &mut Reader<'_>) -> Result<TransportFeedback> {
    let base_sequence = r.u16("TWCC base sequence")?;
    let count = usize::from(r.u16("TWCC status count")?);
    let rt = r.u24("TWCC reference time")?;
    let reference_time = ((rt << 8) as i32) >> 8;
    let feedback_count = r.u8("TWCC feedback count")?;
    // Symbols first (0 = not received, 1 = small delta, 2 = large delta).
    let mut symbols: Vec<u8> = Vec::with_capacity(count.min(MAX_TWCC_STATUSES));
    while symbols.len() < count {
        let chunk = r.u16("TWCC packet chunk")?;
        let left = count - symbols.len();
        if chunk & 0x8000 == 0 {
            let sym = ((chunk >> 13) & 3) as u8;
            let run = usize::from(chunk & 0x1FFF);
            if run == 0 {
                return Err(Error::InvalidField {
                    field: "TWCC run length",
                    value: 0,
                });
            }
            symbols.extend(core::iter::repeat_n(sym, run.min(left)));
        } else if chunk & 0x4000 == 0 {
            for i in (0..14).rev().take(left) {
                symbols.push(((chunk >> i) & 1) as u8);
            }
        } else {
            for i in (0..7).rev().take(left) {
                symbols.push(((chunk >> (2 * i)) & 3) as u8);
            }
        }
    }
    let mut statuses = Vec::with_capacity(count);
    for s in symbols {
        statuses.push(match s {
            0 => PacketStatus::NotReceived,
            1 => PacketStatus::Received(i16::from(r.u8("TWCC receive delta")?)),
            2 => PacketStatus::Received(r.u16("TWCC receive delta")? as i16),
            _ => {
                return Err(Error::InvalidField {
                    field: "TWCC packet status symbol",
                    value: 3,
                });
            }
        });
    }
    Ok(TransportFeedback {
        sender_ssrc,
        media_ssrc,
        base_sequence,
        reference_time,
        feedback_count,
        statuses,
    })
}

fn parse_ccfb(sender_ssrc: u32, r: &mut Reader<'_>) -> Result<RtcpPacket> {
    let mut streams = Vec::new();
    while r.remaining() > 4 {
        if streams.len() >= MAX_FCI_ENTRIES {
            return Err(Error::LimitExceeded {
                what: "CCFB stream blocks",
                limit: MAX_FCI_ENTRIES,
            });
        }
        let ssrc = r.u32("CCFB stream block")?;
        let begin_seq = r.u16("CCFB stream block")?;
        let n = usize::from(r.u16("CCFB num_reports")?);
        if r.remaining() < 2 * n {
            return Err(Error::BadLength {
                what: "CCFB num_reports",
                claimed: 2 * n,
                available: r.remaining(),
            });
        }
        let mut metrics = Vec::with_capacity(n);
        for _ in 0..n {
            let v = r.u16("CCFB metric")?;
            metrics.push(CcfbMetric {
                received: v & 0x8000 != 0,
                ecn: ((v >> 13) & 3) as u8,
                arrival_time_offset: v & 0x1FFF,
            });
        }
        if n % 2 == 1 {
            r.take(2, "CCFB padding")?;
        }
        streams.push(CcfbStream {
            ssrc,
            begin_seq,
            metrics,
        });
    }
    let report_timestamp = r.u32("CCFB report timestamp")?;
    Ok(RtcpPacket::CcFeedback(CcFeedback {
        sender_ssrc,
        streams,
        report_timestamp,
    }))
}

// ---------------------------------------------------------------------------------------
// Building.

fn twcc_chunks(statuses: &[PacketStatus]) -> Vec<u16> {
    let sym = |s: &PacketStatus| -> u16 {
        match s {
            PacketStatus::NotReceived => 0,
            PacketStatus::Received(d) if (0..=255).contains(d) => 1,
            PacketStatus::Received(_) => 2,
        }
    };
    let syms: Vec<u16> = statuses.iter().map(sym).collect();
    let mut chunks = Vec::new();
    let mut i = 0;
    while let Some(&first) = syms.get(i) {
        let rest = syms.get(i..).unwrap_or(&[]);
        let run = rest.iter().take_while(|&&s| s == first).count().min(0x1FFF);
        if run >= 14 || run == rest.len() {
            chunks.push((first << 13) | run as u16);
            i += run;
        } else if rest.iter().take(14).all(|&s| s < 2) {
            let mut c = 0x8000u16;
            for (k, s) in rest.iter().take(14).enumerate() {
                c |= s << (13 - k);
            }
            chunks.push(c);
            i += rest.len().min(14);
        } else {
            let mut c = 0xC000u16;
            for (k, s) in rest.iter().take(7).enumerate() {
                c |= s << (2 * (6 - k));
            }
            chunks.push(c);
            i += rest.len().min(7);
        }
    }
    chunks
}

impl RtcpPacket {
    fn type_and_count(&self) -> (u8, u8) {
        use packet_type::*;
        match self {
            RtcpPacket::SenderReport(p) => (SR, p.reports.len() as u8),
            RtcpPacket::ReceiverReport(p) => (RR, p.reports.len() as u8),
            RtcpPacket::SourceDescription(c) => (SDES, c.len() as u8),
            RtcpPacket::Goodbye(b) => (BYE, b.sources.len() as u8),
            RtcpPacket::App(a) => (APP, a.subtype),
            RtcpPacket::Nack(_) => (RTPFB, 1),
            RtcpPacket::TransportFeedback(_) => (RTPFB, 15),
            RtcpPacket::CcFeedback(_) => (RTPFB, 11),
            RtcpPacket::Pli(_) => (PSFB, 1),
            RtcpPacket::Sli(_) => (PSFB, 2),
            RtcpPacket::Fir(_) => (PSFB, 4),
            RtcpPacket::Remb(_) => (PSFB, 15),
            RtcpPacket::ExtendedReport(_) => (XR, 0),
            RtcpPacket::GenericFeedback(g) => (g.packet_type, g.fmt),
            RtcpPacket::Unknown(u) => (u.packet_type, u.count),
        }
    }

    fn check(&self) -> Result<()> {
        let too_many = |what| Err(Error::LimitExceeded { what, limit: 31 });
        let (_, count) = self.type_and_count();
        match self {
            RtcpPacket::SenderReport(p) if p.reports.len() > 31 => too_many("SR report blocks"),
            RtcpPacket::ReceiverReport(p) if p.reports.len() > 31 => too_many("RR report blocks"),
            RtcpPacket::SourceDescription(c) if c.len() > 31 => too_many("SDES chunks"),
            RtcpPacket::Goodbye(b) if b.sources.len() > 31 => too_many("BYE sources"),
            _ if count > 31 => Err(Error::Unencodable {
                what: "count/FMT/subtype above 31",
            }),
            RtcpPacket::SenderReport(SenderReport {
                profile_extension: d,
                ..
            })
            | RtcpPacket::ReceiverReport(ReceiverReport {
                profile_extension: d,
                ..
            })
            | RtcpPacket::App(App { data: d, .. })
            | RtcpPacket::GenericFeedback(GenericFeedback { fci: d, .. })
            | RtcpPacket::Unknown(UnknownPacket { body: d, .. })
                if d.len() % 4 != 0 =>
            {
                Err(Error::Unencodable {
                    what: "opaque RTCP data must be a multiple of 4 octets",
                })
            }
            RtcpPacket::Goodbye(Goodbye {
                reason: Some(r), ..
            }) if r.len() > 255 => Err(Error::Unencodable {
                what: "BYE reason above 255 octets",
            }),
            RtcpPacket::SourceDescription(c)
                if c.iter()
                    .flat_map(|c| &c.items)
                    .any(|i| i.kind == 0 || i.value.len() > 255) =>
            {
                Err(Error::Unencodable {
                    what: "SDES item type 0 or value above 255 octets",
                })
            }
            RtcpPacket::Remb(r) if r.ssrcs.len() > 255 => Err(Error::Unencodable {
                what: "REMB with more than 255 SSRCs",
            }),
            RtcpPacket::TransportFeedback(t) if t.statuses.len() > MAX_TWCC_STATUSES => {
                Err(Error::LimitExceeded {
                    what: "TWCC statuses",
                    limit: MAX_TWCC_STATUSES,
                })
            }
            RtcpPacket::CcFeedback(c) if c.streams.iter().any(|s| s.metrics.len() > 0xFFFF) => {
                Err(Error::Unencodable {
                    what: "CCFB stream with more than 65535 reports",
                })
            }
            RtcpPacket::ExtendedReport(x)
                if x.blocks
                    .iter()
                    .any(|b| matches!(b, XrBlock::Unknown { data, .. } if data.len() % 4 != 0)) =>
            {
                Err(Error::Unencodable {
                    what: "XR block data must be a multiple of 4 octets",
                })
            }
            _ => Ok(()),
        }
    }

    /// Body length (after the 4-octet header) before any padding.
    fn body_len(&self) -> usize {
        match self {
            RtcpPacket::SenderReport(p) => {
                24 + ReportBlock::LEN * p.reports.len() + p.profile_extension.len()
            }
            RtcpPacket::ReceiverReport(p) => {
                4 + ReportBlock::LEN * p.reports.len() + p.profile_extension.len()
            }
            RtcpPacket::SourceDescription(chunks) => chunks
                .iter()
                .map(|c| {
                    let raw = 4 + c.items.iter().map(|i| 2 + i.value.len()).sum::<usize>() + 1;
                    raw.div_ceil(4) * 4
                })
                .sum(),
            RtcpPacket::Goodbye(b) => {
                4 * b.sources.len()
                    + b.reason
                        .as_ref()
                        .map_or(0, |r| (1 + r.len()).div_ceil(4) * 4)
            }
            RtcpPacket::App(a) => 8 + a.data.len(),
            RtcpPacket::Nack(n) => 8 + 4 * n.pairs.len(),
            RtcpPacket::TransportFeedback(t) => {
                let deltas: usize = t
                    .statuses
                    .iter()
                    .map(|s| match s {
                        PacketStatus::NotReceived => 0,
                        PacketStatus::Received(d) if (0..=255).contains(d) => 1,
                        PacketStatus::Received(_) => 2,
                    })
                    .sum();
                16 + 2 * twcc_chunks(&t.statuses).len() + deltas
            }
            RtcpPacket::CcFeedback(c) => {
                4 + c
                    .streams
                    .iter()
                    .map(|s| 8 + 2 * s.metrics.len().div_ceil(2) * 2)
                    .sum::<usize>()
                    + 4
            }
            RtcpPacket::Pli(_) => 8,
            RtcpPacket::Sli(s) => 8 + 4 * s.entries.len(),
            RtcpPacket::Fir(f) => 8 + 8 * f.entries.len(),
            RtcpPacket::Remb(r) => 16 + 4 * r.ssrcs.len(),
            RtcpPacket::ExtendedReport(x) => {
                4 + x
                    .blocks
                    .iter()
                    .map(|b| {
                        4 + match b {
                            XrBlock::ReceiverReferenceTime { .. } => 8,
                            XrBlock::Dlrr(items) => 12 * items.len(),
                            XrBlock::Unknown { data, .. } => data.len(),
                        }
                    })
                    .sum::<usize>()
            }
            RtcpPacket::GenericFeedback(g) => 8 + g.fci.len(),
            RtcpPacket::Unknown(u) => u.body.len(),
        }
    }

    /// Octets `emit` will write (a multiple of 4; RTCP padding is added where needed).
    pub fn buffer_len(&self) -> Result<usize> {
        self.check()?;
        let n = 4 + self.body_len();
        if n.div_ceil(4) > 0x1_0000 {
            return Err(Error::Unencodable {
                what: "RTCP packet longer than the 16-bit length field allows",
            });
        }
        Ok(n.div_ceil(4) * 4)
    }

    /// Writes the packet into `out`, returning the octets written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let total = self.buffer_len()?;
        check_out(out, total)?;
        let body = 4 + self.body_len();
        let pad = total - body;
        let (pt, count) = self.type_and_count();
        let mut w = Writer::new(out);
        w.u8(0x80 | if pad > 0 { 0x20 } else { 0 } | count)?;
        w.u8(pt)?;
        w.u16((total / 4 - 1) as u16)?;
        match self {
            RtcpPacket::SenderReport(p) => {
                w.u32(p.ssrc)?;
                w.u64(p.ntp_time)?;
                w.u32(p.rtp_time)?;
                w.u32(p.packet_count)?;
                w.u32(p.octet_count)?;
                for b in &p.reports {
                    b.emit(&mut w)?;
                }
                w.bytes(&p.profile_extension)?;
            }
            RtcpPacket::ReceiverReport(p) => {
                w.u32(p.ssrc)?;
                for b in &p.reports {
                    b.emit(&mut w)?;
                }
                w.bytes(&p.profile_extension)?;
            }
            RtcpPacket::SourceDescription(chunks) => {
                for c in chunks {
                    let start = w.pos();
                    w.u32(c.ssrc)?;
                    for i in &c.items {
                        w.u8(i.kind)?;
                        w.u8(i.value.len() as u8)?;
                        w.bytes(&i.value)?;
                    }
                    w.u8(0)?;
                    let used = w.pos() - start;
                    w.zeros((4 - used % 4) % 4)?;
                }
            }
            RtcpPacket::Goodbye(b) => {
                for s in &b.sources {
                    w.u32(*s)?;
                }
                if let Some(r) = &b.reason {
                    w.u8(r.len() as u8)?;
                    w.bytes(r)?;
                    w.zeros((4 - (1 + r.len()) % 4) % 4)?;
                }
            }
            RtcpPacket::App(a) => {
                w.u32(a.ssrc)?;
                w.bytes(&a.name)?;
                w.bytes(&a.data)?;
            }
            RtcpPacket::Nack(n) => {
                w.u32(n.sender_ssrc)?;
                w.u32(n.media_ssrc)?;
                for p in &n.pairs {
                    w.u16(p.pid)?;
                    w.u16(p.blp)?;
                }
            }
            RtcpPacket::TransportFeedback(t) => {
                w.u32(t.sender_ssrc)?;
                w.u32(t.media_ssrc)?;
                w.u16(t.base_sequence)?;
                w.u16(t.statuses.len() as u16)?;
                w.u24((t.reference_time as u32) & 0x00FF_FFFF)?;
                w.u8(t.feedback_count)?;
                for c in twcc_chunks(&t.statuses) {
                    w.u16(c)?;
                }
                for s in &t.statuses {
                    match *s {
                        PacketStatus::NotReceived => {}
                        PacketStatus::Received(d) if (0..=255).contains(&d) => w.u8(d as u8)?,
                        PacketStatus::Received(d) => w.u16(d as u16)?,
                    }
                }
            }
            RtcpPacket::CcFeedback(c) => {
                w.u32(c.sender_ssrc)?;
                for s in &c.streams {
                    w.u32(s.ssrc)?;
                    w.u16(s.begin_seq)?;
                    w.u16(s.metrics.len() as u16)?;
                    for m in &s.metrics {
                        w.u16(
                            if m.received { 0x8000 } else { 0 }
                                | (u16::from(m.ecn & 3) << 13)
                                | (m.arrival_time_offset & 0x1FFF),
                        )?;
                    }
                    if s.metrics.len() % 2 == 1 {
                        w.u16(0)?;
                    }
                }
                w.u32(c.report_timestamp)?;
            }
            RtcpPacket::Pli(p) => {
                w.u32(p.sender_ssrc)?;
                w.u32(p.media_ssrc)?;
            }
            RtcpPacket::Sli(s) => {
                w.u32(s.sender_ssrc)?;
                w.u32(s.media_ssrc)?;
                for e in &s.entries {
                    w.u32(
                        (u32::from(e.first & 0x1FFF) << 19)
                            | (u32::from(e.number & 0x1FFF) << 6)
                            | u32::from(e.picture_id & 0x3F),
                    )?;
                }
            }
            RtcpPacket::Fir(f) => {
                w.u32(f.sender_ssrc)?;
                w.u32(0)?;
                for e in &f.entries {
                    w.u32(e.ssrc)?;
                    w.u8(e.seq)?;
                    w.zeros(3)?;
                }
            }
            RtcpPacket::Remb(r) => {
                w.u32(r.sender_ssrc)?;
                w.u32(0)?;
                w.bytes(b"REMB")?;
                w.u8(r.ssrcs.len() as u8)?;
                let mut exp = 0u32;
                let mut m = r.bitrate;
                while m > 0x3_FFFF {
                    m >>= 1;
                    exp += 1;
                }
                w.u24((exp << 18) | m as u32)?;
                for s in &r.ssrcs {
                    w.u32(*s)?;
                }
            }
            RtcpPacket::ExtendedReport(x) => {
                w.u32(x.ssrc)?;
                for b in &x.blocks {
                    match b {
                        XrBlock::ReceiverReferenceTime { ntp_time } => {
                            w.u8(4)?;
                            w.u8(0)?;
                            w.u16(2)?;
                            w.u64(*ntp_time)?;
                        }
                        XrBlock::Dlrr(items) => {
                            w.u8(5)?;
                            w.u8(0)?;
                            w.u16((3 * items.len()).min(0xFFFF) as u16)?;
                            for i in items {
                                w.u32(i.ssrc)?;
                                w.u32(i.last_rr)?;
                                w.u32(i.delay_since_last_rr)?;
                            }
                        }
                        XrBlock::Unknown {
                            block_type,
                            type_specific,
                            data,
                        } => {
                            w.u8(*block_type)?;
                            w.u8(*type_specific)?;
                            w.u16((data.len() / 4).min(0xFFFF) as u16)?;
                            w.bytes(data)?;
                        }
                    }
                }
            }
            RtcpPacket::GenericFeedback(g) => {
                w.u32(g.sender_ssrc)?;
                w.u32(g.media_ssrc)?;
                w.bytes(&g.fci)?;
            }
            RtcpPacket::Unknown(u) => w.bytes(&u.body)?,
        }
        if pad > 0 {
            w.zeros(pad - 1)?;
            w.u8(pad as u8)?;
        }
        Ok(w.pos())
    }

    /// Convenience: emits into a new `Vec`.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.buffer_len()?];
        let n = self.emit(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
}

/// Writes `packets` back to back as one compound packet, returning the octets written.
pub fn emit_compound(packets: &[RtcpPacket], out: &mut [u8]) -> Result<usize> {
    let mut pos = 0;
    for p in packets {
        let dst = out.get_mut(pos..).unwrap_or(&mut []);
        pos += p.emit(dst)?;
    }
    Ok(pos)
}

/// Total octets [`emit_compound`] will write.
pub fn compound_len(packets: &[RtcpPacket]) -> Result<usize> {
    packets.iter().map(|p| p.buffer_len()).sum()
}
