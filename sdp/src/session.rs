//! The document model: a session section and media sections, each an ordered list of lines.
//!
//! Every line is kept as written (type letter, value text, line ending), so serializing a
//! parsed document gives back the same bytes (RFC 8866 §5 grammar, CRLF or bare LF).
//! Typed access parses the kept text on demand; parsing validated it already.

use core::fmt;

use crate::text::ByteStr as _;
use core::str::FromStr;

use crate::attr::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, Msid, MsidSemantic, Rid, RtcpFb,
    Rtpmap, Setup, Simulcast, Ssrc, SsrcGroup, parse_pt, parse_u64,
};
use crate::error::{Error, ParseErrorKind as K};

/// How a line ended in the parsed text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineEnding {
    /// `\r\n` (RFC 8866 §5; the default when building).
    #[default]
    CrLf,
    /// A bare `\n` (accepted, RFC 8866 §5 "SHOULD accept").
    Lf,
    /// No ending: the last line of a text that does not end with a newline.
    None,
}

impl LineEnding {
    /// The bytes.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::CrLf => "\r\n",
            LineEnding::Lf => "\n",
            LineEnding::None => "",
        }
    }
}

/// Caps for hostile input. A document over any cap is rejected with a clear error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest document in bytes. Default 1 MiB.
    pub max_total_len: usize,
    /// Longest line in bytes, without its ending. Default 4096.
    pub max_line_len: usize,
    /// Most `m=` sections. Default 512.
    pub max_media_sections: usize,
    /// Most lines in one section (session or media), attributes included. Default 2048.
    pub max_lines_per_section: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_len: 1 << 20,
            max_line_len: 4096,
            max_media_sections: 512,
            max_lines_per_section: 2048,
        }
    }
}

/// A line of a section: its type letter and ending, and where its value lies in the
/// section's text buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    pub(crate) kind: u8,
    pub(crate) ending: LineEnding,
    pub(crate) start: u32,
    pub(crate) end: u32,
}

/// One line as seen through the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRef<'a> {
    /// The type letter (`v`, `o`, `m`, `a`, …).
    pub kind: char,
    /// The text after `=`.
    pub value: &'a str,
    /// How it ends.
    pub ending: LineEnding,
}

impl fmt::Display for LineRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}{}", self.kind, self.value, self.ending.as_str())
    }
}

/// A section: the session part (before the first `m=`) or one media section (starting with
/// its `m=` line). Lines keep their order and text; the section owns one text buffer.
#[derive(Clone, Default)]
pub struct Section {
    text: String,
    lines: Vec<Line>,
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>` (RFC 8866 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// Username (`-` when none).
    pub username: &'a str,
    /// Session id, a numeric string.
    pub session_id: &'a str,
    /// Session version, a numeric string.
    pub session_version: &'a str,
    /// Network type (`IN`).
    pub nettype: &'a str,
    /// Address type (`IP4`, `IP6`).
    pub addrtype: &'a str,
    /// Address.
    pub address: &'a str,
}

impl<'a> Origin<'a> {
    /// Parses the value of an `o=` line.
    pub fn parse(v: &'a str) -> Result<Self, K> {
        let mut it = v.splitb(b' ');
        let mut f = |field| match it.next() {
            Some(x) if !x.is_empty() => Ok(x),
            _ => Err(K::MissingField { field }),
        };
        let o = Origin {
            username: f("origin username")?,
            session_id: f("origin session id")?,
            session_version: f("origin session version")?,
            nettype: f("origin nettype")?,
            addrtype: f("origin addrtype")?,
            address: f("origin address")?,
        };
        if it.next().is_some() {
            return Err(K::invalid("origin", v));
        }
        parse_u64(o.session_id, "origin session id")?;
        parse_u64(o.session_version, "origin session version")?;
        Ok(o)
    }

    /// The session version as a number.
    pub fn version(&self) -> u64 {
        self.session_version.parse().unwrap_or(0)
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.nettype,
            self.addrtype,
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <address>` (RFC 8866 §5.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection<'a> {
    /// Network type (`IN`).
    pub nettype: &'a str,
    /// Address type (`IP4`, `IP6`).
    pub addrtype: &'a str,
    /// Address (may carry `/ttl` for multicast).
    pub address: &'a str,
}

impl<'a> Connection<'a> {
    /// Parses the value of a `c=` line.
    pub fn parse(v: &'a str) -> Result<Self, K> {
        let mut it = v.splitb(b' ');
        let (Some(nettype), Some(addrtype), Some(address), None) =
            (it.next(), it.next(), it.next(), it.next())
        else {
            return Err(K::invalid("connection", v));
        };
        if nettype.is_empty() || addrtype.is_empty() || address.is_empty() {
            return Err(K::invalid("connection", v));
        }
        Ok(Connection {
            nettype,
            addrtype,
            address,
        })
    }
}

impl fmt::Display for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)
    }
}

/// `m=<media> <port>[/<count>] <proto> <fmt> …` (RFC 8866 §5.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLine<'a> {
    /// Media type: `audio`, `video`, `application`, …
    pub media: &'a str,
    /// Port; 0 rejects the section (RFC 3264 §6) unless `bundle-only` (RFC 8843 §6).
    pub port: u16,
    /// Number of ports, if written.
    pub port_count: Option<u16>,
    /// Transport protocol (`UDP/TLS/RTP/SAVPF`, `UDP/DTLS/SCTP`, …).
    pub proto: &'a str,
    /// The format list as written (payload types for RTP, `webrtc-datachannel` for SCTP).
    pub formats: &'a str,
}

impl<'a> MediaLine<'a> {
    /// Parses the value of an `m=` line; for RTP protocols every format must be a payload
    /// type in 0..=127.
    pub fn parse(v: &'a str) -> Result<Self, K> {
        let (media, rest) = v.split1(b' ').ok_or(K::MissingField {
            field: "media port",
        })?;
        if media.is_empty() {
            return Err(K::MissingField {
                field: "media type",
            });
        }
        let (port_s, rest) = rest.split1(b' ').ok_or(K::MissingField {
            field: "media proto",
        })?;
        let (proto, formats) = rest.split1(b' ').unwrap_or((rest, ""));
        let (p, c) = match port_s.split1(b'/') {
            Some((p, c)) => (p, Some(c)),
            None => (port_s, None),
        };
        let num16 = |s: &str| {
            parse_u64(s, "media port")
                .ok()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| K::invalid("media port", port_s))
        };
        let port = num16(p)?;
        let port_count = c.map(num16).transpose()?;
        if proto.is_empty() {
            return Err(K::MissingField {
                field: "media proto",
            });
        }
        let m = MediaLine {
            media,
            port,
            port_count,
            proto,
            formats,
        };
        if m.is_rtp() {
            for f in m.format_list() {
                parse_pt(f)?;
            }
        }
        Ok(m)
    }

    /// Is the protocol RTP-based (`RTP/…`, `…/RTP/…`)?
    pub fn is_rtp(&self) -> bool {
        self.proto.splitb(b'/').any(|p| p == "RTP")
    }

    /// The formats, split on spaces.
    pub fn format_list(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.formats.splitb(b' ').filter(|s| !s.is_empty())
    }

    /// The payload types (RTP protocols; other formats are skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + 'a {
        self.format_list().filter_map(|f| parse_pt(f).ok())
    }
}

impl fmt::Display for MediaLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.media, self.port)?;
        if let Some(c) = self.port_count {
            write!(f, "/{c}")?;
        }
        write!(f, " {}", self.proto)?;
        if !self.formats.is_empty() {
            write!(f, " {}", self.formats)?;
        }
        Ok(())
    }
}

/// A codec of a media section: its `rtpmap`, `fmtp` and `rtcp-fb` lines joined by payload
/// type (RFC 8866 §6.6, §6.15; RFC 4585 §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec<'a> {
    /// Payload type.
    pub payload_type: u8,
    /// `rtpmap`, if present (static payload types may have none).
    pub rtpmap: Option<Rtpmap<'a>>,
    /// `fmtp`, if present.
    pub fmtp: Option<Fmtp<'a>>,
    /// `rtcp-fb` lines for this payload type and for `*`.
    pub rtcp_fb: Vec<RtcpFb<'a>>,
}

impl Codec<'_> {
    /// Encoding name (`""` when there is no rtpmap).
    pub fn name(&self) -> &str {
        self.rtpmap.map(|r| r.encoding).unwrap_or_default()
    }
}

fn check_line_text(kind: char, value: &str) -> Result<(), Error> {
    if !kind.is_ascii_lowercase() {
        return Err(Error::InvalidValue {
            what: "line type",
            reason: K::NotTypeEqualsValue,
        });
    }
    if value.hasb(b'\r') || value.hasb(b'\n') {
        return Err(Error::InvalidValue {
            what: "line value",
            reason: K::invalid("line value (contains a line break)", value),
        });
    }
    if value.len() > u32::MAX as usize / 2 {
        return Err(Error::InvalidValue {
            what: "line value",
            reason: K::LineTooLong {
                len: value.len(),
                max: u32::MAX as usize / 2,
            },
        });
    }
    Ok(())
}

impl Section {
    /// An empty section (for the session part of a document being built).
    pub fn new() -> Self {
        Section::default()
    }

    /// A parsed section: `text` is the section's slice of the document (line types,
    /// values and endings, copied once), `lines` point at the values in it.
    pub(crate) fn from_parsed(text: String, lines: Vec<Line>) -> Self {
        Section { text, lines }
    }

    /// A media section starting with `m=`.
    pub fn media(m: &MediaLine<'_>) -> Self {
        let mut s = Section::new();
        s.push_raw(b'm', &m.to_string(), LineEnding::CrLf);
        s
    }

    pub(crate) fn push_raw(&mut self, kind: u8, value: &str, ending: LineEnding) {
        // Offsets fit: documents are capped far below 4 GiB (Limits, check_line_text).
        let start = self.text.len() as u32;
        self.text.push_str(value);
        self.lines.push(Line {
            kind,
            ending,
            start,
            end: self.text.len() as u32,
        });
    }

    fn value_of(&self, l: &Line) -> &str {
        self.text
            .get(l.start as usize..l.end as usize)
            .unwrap_or_default()
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Has no lines?
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `i` (0-based).
    pub fn line(&self, i: usize) -> Option<LineRef<'_>> {
        self.lines.get(i).map(|l| LineRef {
            kind: char::from(l.kind),
            value: self.value_of(l),
            ending: l.ending,
        })
    }

    /// All lines in order.
    pub fn lines(&self) -> impl Iterator<Item = LineRef<'_>> + '_ {
        self.lines.iter().map(|l| LineRef {
            kind: char::from(l.kind),
            value: self.value_of(l),
            ending: l.ending,
        })
    }

    /// Appends a line `kind=value` ending in CRLF. Errors if `kind` is not a lowercase
    /// letter or `value` holds a line break.
    pub fn push_line(&mut self, kind: char, value: &str) -> Result<(), Error> {
        check_line_text(kind, value)?;
        self.push_raw(kind as u8, value, LineEnding::CrLf);
        Ok(())
    }

    /// Appends `a=<attribute>`. The written text must parse back (e.g. an rtpmap encoding
    /// with a `/` in it is refused), so a built document always re-parses.
    pub fn push_attribute(&mut self, a: &Attribute<'_>) -> Result<(), Error> {
        let text = a.to_string();
        Attribute::parse(&text).map_err(|reason| Error::InvalidValue {
            what: "attribute",
            reason,
        })?;
        self.push_line('a', &text)
    }

    /// Inserts a line before line `index` (appends if `index >= len`).
    pub fn insert_line(&mut self, index: usize, kind: char, value: &str) -> Result<(), Error> {
        check_line_text(kind, value)?;
        self.push_raw(kind as u8, value, LineEnding::CrLf);
        if let Some(l) = self.lines.pop() {
            self.lines.insert(index.min(self.lines.len()), l);
        }
        Ok(())
    }

    /// Removes line `index` (no-op when out of range). The text buffer is compacted lazily by
    /// [`Section::compact`].
    pub fn remove_line(&mut self, index: usize) {
        if index < self.lines.len() {
            self.lines.remove(index);
        }
    }

    /// Removes every line for which `f` returns false.
    pub fn retain_lines(&mut self, mut f: impl FnMut(LineRef<'_>) -> bool) {
        let text = &self.text;
        self.lines.retain(|l| {
            f(LineRef {
                kind: char::from(l.kind),
                value: text
                    .get(l.start as usize..l.end as usize)
                    .unwrap_or_default(),
                ending: l.ending,
            })
        });
    }

    /// Sets the ending of every line (e.g. to write LF-only SDP).
    pub fn set_line_endings(&mut self, ending: LineEnding) {
        for l in &mut self.lines {
            l.ending = ending;
        }
    }

    /// Rebuilds the text buffer without the text of removed lines.
    pub fn compact(&mut self) {
        let mut s = Section::new();
        for l in &self.lines {
            s.push_raw(l.kind, self.value_of(l), l.ending);
        }
        *self = s;
    }

    /// Values of the lines of type `kind`.
    pub fn values(&self, kind: char) -> impl Iterator<Item = &str> + '_ {
        self.lines()
            .filter(move |l| l.kind == kind)
            .map(|l| l.value)
    }

    /// Every `a=` line as `(name, value)`, in order.
    pub fn raw_attributes(&self) -> impl Iterator<Item = (&str, Option<&str>)> + '_ {
        self.values('a').map(|v| match v.split1(b':') {
            Some((n, v)) => (n, Some(v)),
            None => (v, None),
        })
    }

    /// Every `a=` line typed, in order. Lines that do not parse (only possible in a document
    /// built by hand with [`Section::push_line`]) are skipped.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'_>> + '_ {
        self.raw_attributes()
            .filter_map(|(n, v)| Attribute::parse_parts(n, v).ok())
    }

    /// The value of the first `a=<name>` (`Some("")` for a property attribute).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.raw_attributes()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.unwrap_or_default())
    }

    /// Is there an `a=<name>`?
    pub fn has_attribute(&self, name: &str) -> bool {
        self.raw_attributes().any(|(n, _)| n == name)
    }

    fn typed<'s, T: 's>(
        &'s self,
        name: &'static str,
        f: impl Fn(Attribute<'s>) -> Option<T> + 's,
    ) -> impl Iterator<Item = T> + 's {
        self.raw_attributes()
            .filter(move |(n, _)| *n == name)
            .filter_map(move |(n, v)| Attribute::parse_parts(n, v).ok().and_then(&f))
    }

    /// The `m=` line, for a media section.
    pub fn media_line(&self) -> Option<MediaLine<'_>> {
        self.line(0)
            .filter(|l| l.kind == 'm')
            .and_then(|l| MediaLine::parse(l.value).ok())
    }

    /// The `c=` line, if any.
    pub fn connection(&self) -> Option<Connection<'_>> {
        self.values('c')
            .next()
            .and_then(|v| Connection::parse(v).ok())
    }

    /// `a=mid`.
    pub fn mid(&self) -> Option<&str> {
        self.attribute("mid")
    }

    /// Direction attribute, `None` if absent (RFC 8866 §6.7: means sendrecv).
    pub fn direction(&self) -> Option<Direction> {
        self.raw_attributes()
            .find_map(|(n, _)| Direction::from_name(n))
    }

    /// `a=ice-ufrag`.
    pub fn ice_ufrag(&self) -> Option<&str> {
        self.attribute("ice-ufrag")
    }

    /// `a=ice-pwd`.
    pub fn ice_pwd(&self) -> Option<&str> {
        self.attribute("ice-pwd")
    }

    /// `a=ice-options` tokens (`trickle`, `renomination`, …).
    pub fn ice_options(&self) -> Vec<&str> {
        self.values('a')
            .filter_map(|v| v.strip_prefix("ice-options:"))
            .flat_map(|v| v.splitb(b' '))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// `a=ice-lite` (session level, RFC 8839 §5.3).
    pub fn ice_lite(&self) -> bool {
        self.has_attribute("ice-lite")
    }

    /// Every `a=fingerprint`.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.typed("fingerprint", |a| match a {
            Attribute::Fingerprint(f) => Some(f),
            _ => None,
        })
        .collect()
    }

    /// `a=setup`.
    pub fn setup(&self) -> Option<Setup> {
        self.typed("setup", |a| match a {
            Attribute::Setup(s) => Some(s),
            _ => None,
        })
        .next()
    }

    /// Every `a=group`.
    pub fn groups(&self) -> Vec<Group<'_>> {
        self.typed("group", |a| match a {
            Attribute::Group(g) => Some(g),
            _ => None,
        })
        .collect()
    }

    /// `a=msid-semantic`.
    pub fn msid_semantic(&self) -> Option<MsidSemantic<'_>> {
        self.typed("msid-semantic", |a| match a {
            Attribute::MsidSemantic(m) => Some(m),
            _ => None,
        })
        .next()
    }

    /// Every `a=msid`.
    pub fn msids(&self) -> Vec<Msid<'_>> {
        self.typed("msid", |a| match a {
            Attribute::Msid(m) => Some(m),
            _ => None,
        })
        .collect()
    }

    /// `a=rtcp-mux`.
    pub fn rtcp_mux(&self) -> bool {
        self.has_attribute("rtcp-mux")
    }

    /// `a=rtcp-mux-only`.
    pub fn rtcp_mux_only(&self) -> bool {
        self.has_attribute("rtcp-mux-only")
    }

    /// `a=rtcp-rsize`.
    pub fn rtcp_rsize(&self) -> bool {
        self.has_attribute("rtcp-rsize")
    }

    /// `a=extmap-allow-mixed`.
    pub fn extmap_allow_mixed(&self) -> bool {
        self.has_attribute("extmap-allow-mixed")
    }

    /// `a=bundle-only`.
    pub fn bundle_only(&self) -> bool {
        self.has_attribute("bundle-only")
    }

    /// `a=end-of-candidates`.
    pub fn end_of_candidates(&self) -> bool {
        self.has_attribute("end-of-candidates")
    }

    /// Every `a=candidate` value, as text (the ICE crate parses them, RFC 8839 §5.1).
    pub fn candidates(&self) -> impl Iterator<Item = &str> + '_ {
        self.values('a')
            .filter_map(|v| v.strip_prefix("candidate:"))
    }

    /// Every `a=rtpmap`.
    pub fn rtpmaps(&self) -> Vec<Rtpmap<'_>> {
        self.typed("rtpmap", |a| match a {
            Attribute::Rtpmap(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// Every `a=fmtp`.
    pub fn fmtps(&self) -> Vec<Fmtp<'_>> {
        self.typed("fmtp", |a| match a {
            Attribute::Fmtp(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// Every `a=rtcp-fb`.
    pub fn rtcp_fbs(&self) -> Vec<RtcpFb<'_>> {
        self.typed("rtcp-fb", |a| match a {
            Attribute::RtcpFb(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// Every `a=extmap`.
    pub fn extmaps(&self) -> Vec<Extmap<'_>> {
        self.typed("extmap", |a| match a {
            Attribute::Extmap(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// Every `a=ssrc`.
    pub fn ssrcs(&self) -> Vec<Ssrc<'_>> {
        self.typed("ssrc", |a| match a {
            Attribute::Ssrc(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// Every `a=ssrc-group`.
    pub fn ssrc_groups(&self) -> Vec<SsrcGroup<'_>> {
        self.typed("ssrc-group", |a| match a {
            Attribute::SsrcGroup(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// Every `a=rid`.
    pub fn rids(&self) -> Vec<Rid<'_>> {
        self.typed("rid", |a| match a {
            Attribute::Rid(r) => Some(r),
            _ => None,
        })
        .collect()
    }

    /// `a=simulcast`.
    pub fn simulcast(&self) -> Option<Simulcast<'_>> {
        self.typed("simulcast", |a| match a {
            Attribute::Simulcast(r) => Some(r),
            _ => None,
        })
        .next()
    }

    /// `a=sctp-port`.
    pub fn sctp_port(&self) -> Option<u16> {
        self.typed("sctp-port", |a| match a {
            Attribute::SctpPort(r) => Some(r),
            _ => None,
        })
        .next()
    }

    /// `a=max-message-size`.
    pub fn max_message_size(&self) -> Option<u64> {
        self.typed("max-message-size", |a| match a {
            Attribute::MaxMessageSize(r) => Some(r),
            _ => None,
        })
        .next()
    }

    /// The codecs, in `m=` line order, each with its rtpmap, fmtp and rtcp-fb.
    pub fn codecs(&self) -> Vec<Codec<'_>> {
        let Some(m) = self.media_line() else {
            return Vec::new();
        };
        let rtpmaps = self.rtpmaps();
        let fmtps = self.fmtps();
        let fbs = self.rtcp_fbs();
        m.payload_types()
            .map(|pt| Codec {
                payload_type: pt,
                rtpmap: rtpmaps.iter().find(|r| r.payload_type == pt).copied(),
                fmtp: fmtps.iter().find(|r| r.payload_type == pt).copied(),
                rtcp_fb: fbs
                    .iter()
                    .filter(|r| r.payload_type.is_none_or(|p| p == pt))
                    .copied()
                    .collect(),
            })
            .collect()
    }

    /// Bytes this section serializes to.
    pub fn serialized_len(&self) -> usize {
        self.lines
            .iter()
            .map(|l| 2 + (l.end - l.start) as usize + l.ending.as_str().len())
            .sum()
    }

    /// Appends the serialized section to `out`.
    pub fn write_to(&self, out: &mut String) {
        for l in &self.lines {
            out.push(char::from(l.kind));
            out.push('=');
            out.push_str(self.value_of(l));
            out.push_str(l.ending.as_str());
        }
    }
}

impl PartialEq for Section {
    fn eq(&self, other: &Self) -> bool {
        self.lines.len() == other.lines.len() && self.lines().eq(other.lines())
    }
}

impl Eq for Section {}

impl fmt::Debug for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.lines().map(|l| format!("{}={}", l.kind, l.value)))
            .finish()
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.lines().try_for_each(|l| write!(f, "{l}"))
    }
}

/// An SDP document (RFC 8866 §5): the session section, then the media sections.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionDescription {
    /// Session-level lines (from `v=` up to the first `m=`).
    pub session: Section,
    /// Media sections in order; each starts with its `m=` line.
    pub media: Vec<Section>,
}

impl SessionDescription {
    /// Parses with the default [`Limits`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_with(text, &Limits::default())
    }

    /// Parses bytes: invalid UTF-8 is an error naming its line.
    pub fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<Self, Error> {
        match core::str::from_utf8(bytes) {
            Ok(s) => Self::parse_with(s, limits),
            Err(e) => {
                let upto = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let line = 1 + upto.iter().filter(|&&b| b == b'\n').count();
                let start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                let rest = bytes.get(start..).unwrap_or_default();
                let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                let text = String::from_utf8_lossy(rest.get(..end).unwrap_or_default());
                Err(Error::at(line, &text, K::NotUtf8))
            }
        }
    }

    /// Parses with explicit limits.
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Self, Error> {
        crate::parse::parse(text, limits)
    }

    pub(crate) fn from_parts(session: Section, media: Vec<Section>) -> Self {
        SessionDescription { session, media }
    }

    /// The serialized text (equal to the parsed text for a parsed document).
    pub fn serialize(&self) -> String {
        let len = self.session.serialized_len()
            + self
                .media
                .iter()
                .map(Section::serialized_len)
                .sum::<usize>();
        let mut out = String::with_capacity(len);
        self.session.write_to(&mut out);
        for m in &self.media {
            m.write_to(&mut out);
        }
        out
    }

    /// `o=`.
    pub fn origin(&self) -> Option<Origin<'_>> {
        self.session
            .values('o')
            .next()
            .and_then(|v| Origin::parse(v).ok())
    }

    /// `s=`.
    pub fn session_name(&self) -> Option<&str> {
        self.session.values('s').next()
    }

    /// The first `a=group:BUNDLE` (RFC 8843 §7.1).
    pub fn bundle_group(&self) -> Option<Group<'_>> {
        self.session
            .groups()
            .into_iter()
            .find(|g| g.semantics == "BUNDLE")
    }

    /// The media section with `a=mid:<mid>`.
    pub fn media_by_mid(&self, mid: &str) -> Option<&Section> {
        self.media.iter().find(|m| m.mid() == Some(mid))
    }

    /// ICE ufrag and pwd of media section `i`, falling back to session level (RFC 8839 §5.4).
    pub fn ice_credentials(&self, i: usize) -> Option<(&str, &str)> {
        let m = self.media.get(i)?;
        let u = m.ice_ufrag().or_else(|| self.session.ice_ufrag())?;
        let p = m.ice_pwd().or_else(|| self.session.ice_pwd())?;
        Some((u, p))
    }

    /// Fingerprints of media section `i`, falling back to session level (RFC 8122 §5).
    pub fn fingerprints_for(&self, i: usize) -> Vec<Fingerprint> {
        match self.media.get(i).map(Section::fingerprints) {
            Some(f) if !f.is_empty() => f,
            _ => self.session.fingerprints(),
        }
    }

    /// `a=setup` of media section `i`, falling back to session level.
    pub fn setup_for(&self, i: usize) -> Option<Setup> {
        self.media
            .get(i)
            .and_then(Section::setup)
            .or_else(|| self.session.setup())
    }

    /// Direction of media section `i` (media, then session level, then sendrecv).
    pub fn direction_for(&self, i: usize) -> Direction {
        self.media
            .get(i)
            .and_then(Section::direction)
            .or_else(|| self.session.direction())
            .unwrap_or_default()
    }

    /// Extmaps of media section `i`, session-level ones included (RFC 8285 §8).
    pub fn extmaps_for(&self, i: usize) -> Vec<Extmap<'_>> {
        let mut v = self.session.extmaps();
        if let Some(m) = self.media.get(i) {
            v.extend(m.extmaps());
        }
        v
    }
}

impl FromStr for SessionDescription {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.session)?;
        self.media.iter().try_for_each(|m| write!(f, "{m}"))
    }
}
