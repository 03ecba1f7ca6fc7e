//! Typed WebRTC attributes (`a=` lines), parsed from and written to their text form.
//!
//! Values borrow from the document text: parsing one never allocates except for the few
//! list-valued attributes (`group`, `ssrc-group`, `simulcast`, `ice-options`).
//! `Display` writes `name` or `name:value` (without `a=`), the canonical text form.

use core::fmt;

use crate::text::ByteStr as _;

use crate::error::ParseErrorKind as K;

type R<T> = Result<T, K>;

/// `a=setup` (RFC 4145 §4, RFC 8842 §5): which side is the DTLS client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `actpass`: offerer lets the answerer choose.
    Actpass,
    /// `active`: this side is the DTLS client.
    Active,
    /// `passive`: this side is the DTLS server.
    Passive,
    /// `holdconn`: no connection yet.
    Holdconn,
}

impl Setup {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Setup::Actpass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::Holdconn => "holdconn",
        }
    }

    fn parse(v: &str) -> R<Self> {
        Ok(match v {
            "actpass" => Setup::Actpass,
            "active" => Setup::Active,
            "passive" => Setup::Passive,
            "holdconn" => Setup::Holdconn,
            _ => return Err(K::invalid("setup role", v)),
        })
    }

    /// The answer's role for an offered role (RFC 8842 §5.3: an answer to `actpass` picks
    /// `active`, as JSEP RFC 8829 §5.3.1 recommends).
    pub fn answer(self) -> Setup {
        match self {
            Setup::Actpass | Setup::Passive => Setup::Active,
            Setup::Active => Setup::Passive,
            Setup::Holdconn => Setup::Holdconn,
        }
    }
}

/// Media direction (RFC 8866 §6.7, RFC 3264 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `sendrecv` (the default when absent).
    #[default]
    SendRecv,
    /// `sendonly`.
    SendOnly,
    /// `recvonly`.
    RecvOnly,
    /// `inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Parses a direction attribute name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// Does this side send?
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Does this side receive?
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// The direction seen from the other side (`sendonly` ⇄ `recvonly`).
    pub fn reverse(self) -> Self {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// The answer's direction (RFC 3264 §6.1, RFC 8829 §5.3.1): this side sends only if the
    /// offerer receives and `local` wants to send; receives only if the offerer sends and
    /// `local` wants to receive.
    pub fn answer(offered: Direction, local: Direction) -> Direction {
        Direction::from_flags(
            offered.receives() && local.sends(),
            offered.sends() && local.receives(),
        )
    }
}

/// A DTLS certificate fingerprint hash function (RFC 8122 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashFunction {
    /// `sha-1` (20 bytes).
    Sha1,
    /// `sha-224` (28 bytes).
    Sha224,
    /// `sha-256` (32 bytes).
    Sha256,
    /// `sha-384` (48 bytes).
    Sha384,
    /// `sha-512` (64 bytes).
    Sha512,
}

impl HashFunction {
    /// The name in SDP (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            HashFunction::Sha1 => "sha-1",
            HashFunction::Sha224 => "sha-224",
            HashFunction::Sha256 => "sha-256",
            HashFunction::Sha384 => "sha-384",
            HashFunction::Sha512 => "sha-512",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashFunction::Sha1 => 20,
            HashFunction::Sha224 => 28,
            HashFunction::Sha256 => 32,
            HashFunction::Sha384 => 48,
            HashFunction::Sha512 => 64,
        }
    }

    fn parse(v: &str) -> R<Self> {
        // RFC 8122 §5: hash-func is case-insensitive.
        Ok(if v.eq_ignore_ascii_case("sha-256") {
            HashFunction::Sha256
        } else if v.eq_ignore_ascii_case("sha-1") {
            HashFunction::Sha1
        } else if v.eq_ignore_ascii_case("sha-384") {
            HashFunction::Sha384
        } else if v.eq_ignore_ascii_case("sha-512") {
            HashFunction::Sha512
        } else if v.eq_ignore_ascii_case("sha-224") {
            HashFunction::Sha224
        } else {
            return Err(K::invalid("fingerprint hash function", v));
        })
    }
}

/// `a=fingerprint:<hash-func> <AB:CD:…>` (RFC 8122 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    /// The hash function.
    pub hash: HashFunction,
    /// The digest bytes (length matches `hash`).
    pub digest: Vec<u8>,
}

const BAD: u8 = 0xff;

/// Hex digit values by byte (`BAD` for anything else).
#[allow(
    clippy::indexing_slicing,
    reason = "compile-time loop over 0..256 on a 256-entry table"
)]
static HEX: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0;
    while i < 256 {
        if let Some(v) = hex_val(i as u8) {
            t[i] = v;
        }
        i += 1;
    }
    t
};

const fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl Fingerprint {
    fn parse(v: &str) -> R<Self> {
        let mut digest = Vec::with_capacity(64);
        let hash = Self::scan(v, |b| digest.push(b))?;
        Ok(Fingerprint { hash, digest })
    }

    /// Checks a fingerprint value without building it (the parser's validation pass).
    pub(crate) fn validate(v: &str) -> R<()> {
        Self::scan(v, |_| ()).map(|_| ())
    }

    /// Decodes `<hash-func> <AB:CD:…>`, handing each digest byte to `out`.
    fn scan(v: &str, mut out: impl FnMut(u8)) -> R<HashFunction> {
        let (h, d) = v.split1(b' ').ok_or(K::MissingField {
            field: "fingerprint digest",
        })?;
        let hash = HashFunction::parse(h)?;
        let bad = || K::invalid("fingerprint digest", d);
        let b = d.as_bytes();
        if b.len() != 3 * hash.digest_len() - 1 {
            return Err(bad());
        }
        // Pairs of hex digits, each followed by `:` except the last (length checked above).
        for (i, &c) in b.iter().enumerate() {
            let v = HEX.get(usize::from(c)).copied().unwrap_or(BAD);
            let ok = match i % 3 {
                2 => c == b':',
                _ => v != BAD,
            };
            if !ok {
                return Err(bad());
            }
            if i % 3 == 1 {
                let hi = b.get(i - 1).and_then(|&h| HEX.get(usize::from(h))).copied();
                out(hi.unwrap_or(0) << 4 | v);
            }
        }
        Ok(hash)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hash.as_str())?;
        for (i, b) in self.digest.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ":" })?;
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

/// `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (RFC 8866 §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rtpmap<'a> {
    /// Payload type (0..=127).
    pub payload_type: u8,
    /// Encoding name as written (`opus`, `VP8`, `H264`, `rtx`, `red`, `ulpfec`, …).
    pub encoding: &'a str,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count (audio), if written.
    pub channels: Option<u16>,
}

#[inline]
pub(crate) fn parse_pt(v: &str) -> R<u8> {
    // Fast path for the 1-3 digit values of real SDP; anything else takes the general one,
    // which gives the same results and errors.
    let d = |b: u8| b.wrapping_sub(b'0');
    match *v.as_bytes() {
        [a] if d(a) <= 9 => return Ok(d(a)),
        [a, b] if d(a) <= 9 && d(b) <= 9 => return Ok(d(a) * 10 + d(b)),
        [a, b, c] if d(a) <= 9 && d(b) <= 9 && d(c) <= 9 => {
            let n = u16::from(d(a)) * 100 + u16::from(d(b)) * 10 + u16::from(d(c));
            return u8::try_from(n).ok().filter(|p| *p <= 127).ok_or_else(|| {
                K::PayloadTypeOutOfRange {
                    value: u64::from(n),
                }
            });
        }
        _ => {}
    }
    let n = parse_u64(v, "payload type")?;
    u8::try_from(n)
        .ok()
        .filter(|p| *p <= 127)
        .ok_or(K::PayloadTypeOutOfRange { value: n })
}

#[inline]
pub(crate) fn parse_u64(v: &str, field: &'static str) -> R<u64> {
    if v.is_empty() || v.len() > 20 {
        return Err(K::invalid(field, v));
    }
    if v.len() <= 19 {
        // 19 digits cannot overflow a u64: no checked arithmetic needed.
        let mut n: u64 = 0;
        for b in v.bytes() {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return Err(K::invalid(field, v));
            }
            n = n * 10 + u64::from(d);
        }
        return Ok(n);
    }
    let mut n: u64 = 0;
    for b in v.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(K::invalid(field, v));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or_else(|| K::invalid(field, v))?;
    }
    Ok(n)
}

#[inline]
fn parse_num<T: TryFrom<u64>>(v: &str, field: &'static str) -> R<T> {
    T::try_from(parse_u64(v, field)?).map_err(|_| K::invalid(field, v))
}

impl<'a> Rtpmap<'a> {
    #[inline]
    pub(crate) fn parse(v: &'a str) -> R<Self> {
        let (pt, rest) = v.split1(b' ').ok_or(K::MissingField {
            field: "rtpmap encoding",
        })?;
        let payload_type = parse_pt(pt)?;
        let mut it = rest.splitb(b'/');
        let encoding = it.next().unwrap_or_default();
        if encoding.is_empty() || encoding.hasb(b' ') {
            return Err(K::invalid("rtpmap encoding", rest));
        }
        let clock = it.next().ok_or(K::MissingField {
            field: "rtpmap clock rate",
        })?;
        let clock_rate = parse_num(clock, "rtpmap clock rate")?;
        let channels = it
            .next()
            .map(|c| parse_num(c, "rtpmap channels"))
            .transpose()?;
        if it.next().is_some() {
            return Err(K::invalid("rtpmap", rest));
        }
        Ok(Rtpmap {
            payload_type,
            encoding,
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for Rtpmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(c) = self.channels {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<pt> <parameters>` (RFC 8866 §6.15). Parameters are kept as written; use
/// [`Fmtp::params`] for `key=value` pairs and the typed getters for well-known keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fmtp<'a> {
    /// Payload type (0..=127).
    pub payload_type: u8,
    /// The parameter text after the payload type.
    pub params: &'a str,
}

/// Does `params` hold `apt=` (any case) anywhere? A cheap superset test of "has an apt
/// parameter".
fn has_apt(params: &str) -> bool {
    let b = params.as_bytes();
    let mut from = 0usize;
    while let Some(i) = b.get(from..).and_then(|r| crate::text::find_byte(r, b'=')) {
        let eq = from + i;
        if eq >= 3
            && b.get(eq - 3..eq)
                .is_some_and(|k| k.eq_ignore_ascii_case(b"apt"))
        {
            return true;
        }
        from = eq + 1;
    }
    false
}

impl<'a> Fmtp<'a> {
    #[inline]
    pub(crate) fn parse(v: &'a str) -> R<Self> {
        let (pt, params) = v.split1(b' ').ok_or(K::MissingField {
            field: "fmtp parameters",
        })?;
        let f = Fmtp {
            payload_type: parse_pt(pt)?,
            params,
        };
        // RFC 4588 §8.1: apt names a payload type; one over 127 is rejected like any other.
        // Most fmtp lines have no `apt=`: look for it first, walk the parameters only if found.
        if !has_apt(params) {
            return Ok(f);
        }
        for p in params.splitb(b';') {
            let p = p.trim_ascii_start();
            if p.get(..4).is_some_and(|k| k.eq_ignore_ascii_case("apt=")) {
                parse_pt(p.get(4..).unwrap_or_default().trim_ascii())?;
            }
        }
        Ok(f)
    }

    /// The `;`-separated parameters as `(key, value)`; a parameter without `=` (RED's
    /// `111/111`, RFC 2198 §5) is `(text, None)`. Whitespace around items is trimmed.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.params.splitb(b';').filter_map(|p| {
            let p = p.trim_ascii();
            if p.is_empty() {
                return None;
            }
            Some(match p.split1(b'=') {
                Some((k, v)) => (k.trim_ascii(), Some(v.trim_ascii())),
                None => (p, None),
            })
        })
    }

    /// The value of parameter `key` (keys compare case-insensitively, RFC 6871 style).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.params()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v)
    }

    fn get_num<T: TryFrom<u64>>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| parse_num(v, "fmtp").ok())
    }

    fn get_flag(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(|v| match v {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        })
    }

    /// RTX `apt`: the payload type this retransmission format protects (RFC 4588 §8.1).
    pub fn apt(&self) -> Option<u8> {
        self.get("apt").and_then(|v| parse_pt(v).ok())
    }

    /// H.264 `profile-level-id` (RFC 6184 §8.1), three bytes as a number (`0x42e01f`).
    pub fn profile_level_id(&self) -> Option<u32> {
        let v = self.get("profile-level-id")?;
        if v.len() != 6 {
            return None;
        }
        u32::from_str_radix(v, 16).ok()
    }

    /// H.264 `packetization-mode` (RFC 6184 §8.1); absent means 0.
    pub fn packetization_mode(&self) -> Option<u8> {
        self.get_num("packetization-mode")
    }

    /// H.264 `level-asymmetry-allowed` (RFC 6184 §8.1).
    pub fn level_asymmetry_allowed(&self) -> Option<bool> {
        self.get_flag("level-asymmetry-allowed")
    }

    /// VP9 `profile-id` (RFC 9628 §6).
    pub fn vp9_profile_id(&self) -> Option<u8> {
        self.get_num("profile-id")
    }

    /// AV1 `profile` (AV1 RTP payload spec §7.2).
    pub fn av1_profile(&self) -> Option<u8> {
        self.get_num("profile")
    }

    /// Opus `minptime` in ms (RFC 7587 §6.1).
    pub fn minptime(&self) -> Option<u32> {
        self.get_num("minptime")
    }

    /// Opus `useinbandfec` (RFC 7587 §6.1).
    pub fn useinbandfec(&self) -> Option<bool> {
        self.get_flag("useinbandfec")
    }

    /// Opus `stereo` (RFC 7587 §6.1).
    pub fn stereo(&self) -> Option<bool> {
        self.get_flag("stereo")
    }

    /// Opus `maxaveragebitrate` in bit/s (RFC 7587 §6.1).
    pub fn maxaveragebitrate(&self) -> Option<u32> {
        self.get_num("maxaveragebitrate")
    }

    /// RED's redundant payload types (`111/111`, RFC 2198 §5), if the parameters are that list.
    pub fn red_payload_types(&self) -> Option<Vec<u8>> {
        let p = self.params.trim_ascii();
        if p.is_empty() || p.hasb(b'=') {
            return None;
        }
        p.splitb(b'/').map(|x| parse_pt(x).ok()).collect()
    }
}

impl fmt::Display for Fmtp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.payload_type, self.params)
    }
}

/// `a=rtcp-fb:<pt|*> <type> [<parameter>]` (RFC 4585 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RtcpFb<'a> {
    /// The payload type, or `None` for `*` (all formats).
    pub payload_type: Option<u8>,
    /// Feedback type (`nack`, `ccm`, `goog-remb`, `transport-cc`, …).
    pub kind: &'a str,
    /// The parameter (`pli`, `fir`, …), if any.
    pub param: Option<&'a str>,
}

impl<'a> RtcpFb<'a> {
    #[inline]
    pub(crate) fn parse(v: &'a str) -> R<Self> {
        let (pt, rest) = v.split1(b' ').ok_or(K::MissingField {
            field: "rtcp-fb type",
        })?;
        let payload_type = if pt == "*" { None } else { Some(parse_pt(pt)?) };
        let (kind, param) = match rest.split1(b' ') {
            Some((k, p)) => (k, Some(p)),
            None => (rest, None),
        };
        if kind.is_empty() {
            return Err(K::MissingField {
                field: "rtcp-fb type",
            });
        }
        Ok(RtcpFb {
            payload_type,
            kind,
            param,
        })
    }
}

impl fmt::Display for RtcpFb<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_type {
            Some(pt) => write!(f, "{pt} {}", self.kind)?,
            None => write!(f, "* {}", self.kind)?,
        }
        if let Some(p) = self.param {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Extmap<'a> {
    /// Local identifier: 1..=14 (one-byte), 1..=255 (two-byte), 4096..=4351 (offers only).
    pub id: u16,
    /// Direction, if written.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: &'a str,
    /// Extension attributes, if any.
    pub attributes: Option<&'a str>,
}

impl<'a> Extmap<'a> {
    #[inline]
    pub(crate) fn parse(v: &'a str) -> R<Self> {
        let (idd, rest) = v.split1(b' ').ok_or(K::MissingField {
            field: "extmap uri",
        })?;
        let (id, direction) = match idd.split1(b'/') {
            Some((i, d)) => (
                i,
                Some(Direction::from_name(d).ok_or_else(|| K::invalid("extmap direction", d))?),
            ),
            None => (idd, None),
        };
        let id: u16 = parse_num(id, "extmap id")?;
        if !matches!(id, 1..=255 | 4096..=4351) {
            return Err(K::invalid("extmap id", idd));
        }
        let (uri, attributes) = match rest.split1(b' ') {
            Some((u, a)) => (u, Some(a)),
            None => (rest, None),
        };
        if uri.is_empty() {
            return Err(K::MissingField {
                field: "extmap uri",
            });
        }
        Ok(Extmap {
            id,
            direction,
            uri,
            attributes,
        })
    }
}

impl fmt::Display for Extmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{}", d.as_str())?;
        }
        write!(f, " {}", self.uri)?;
        if let Some(a) = self.attributes {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc<'a> {
    /// The SSRC.
    pub ssrc: u32,
    /// Source attribute name (`cname`, `msid`, …).
    pub attribute: &'a str,
    /// Its value, if any.
    pub value: Option<&'a str>,
}

impl<'a> Ssrc<'a> {
    #[inline]
    pub(crate) fn parse(v: &'a str) -> R<Self> {
        let (s, rest) = v.split1(b' ').ok_or(K::MissingField {
            field: "ssrc attribute",
        })?;
        let ssrc = parse_num(s, "ssrc")?;
        let (attribute, value) = match rest.split1(b':') {
            Some((a, v)) => (a, Some(v)),
            None => (rest, None),
        };
        if attribute.is_empty() {
            return Err(K::MissingField {
                field: "ssrc attribute",
            });
        }
        Ok(Ssrc {
            ssrc,
            attribute,
            value,
        })
    }
}

impl fmt::Display for Ssrc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.attribute)?;
        if let Some(v) = self.value {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// `a=ssrc-group:<semantics> <ssrc>…` (RFC 5576 §4.2): `FID` (RTX, RFC 4588), `SIM`, `FEC-FR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SsrcGroup<'a> {
    /// Semantics (`FID`, `SIM`, `FEC-FR`, …).
    pub semantics: &'a str,
    /// The SSRCs in order.
    pub ssrcs: Vec<u32>,
}

impl<'a> SsrcGroup<'a> {
    fn parse(v: &'a str) -> R<Self> {
        let mut it = v.splitb(b' ');
        let semantics = it.next().unwrap_or_default();
        if semantics.is_empty() {
            return Err(K::MissingField {
                field: "ssrc-group semantics",
            });
        }
        let ssrcs = it.map(|s| parse_num(s, "ssrc")).collect::<R<Vec<u32>>>()?;
        Ok(SsrcGroup { semantics, ssrcs })
    }
}

impl fmt::Display for SsrcGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.semantics)?;
        for s in &self.ssrcs {
            write!(f, " {s}")?;
        }
        Ok(())
    }
}

/// `a=group:<semantics> <mid>…` (RFC 5888 §5; `BUNDLE` RFC 8843 §7.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Group<'a> {
    /// Semantics (`BUNDLE`, `LS`, …).
    pub semantics: &'a str,
    /// The mids in order.
    pub mids: Vec<&'a str>,
}

impl<'a> Group<'a> {
    fn parse(v: &'a str) -> R<Self> {
        let mut it = v.splitb(b' ');
        let semantics = it.next().unwrap_or_default();
        if semantics.is_empty() {
            return Err(K::MissingField {
                field: "group semantics",
            });
        }
        Ok(Group {
            semantics,
            mids: it.filter(|m| !m.is_empty()).collect(),
        })
    }
}

impl fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.semantics)?;
        for m in &self.mids {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Msid<'a> {
    /// The MediaStream id (`-` for none).
    pub stream: &'a str,
    /// The track id, if written.
    pub track: Option<&'a str>,
}

impl<'a> Msid<'a> {
    fn parse(v: &'a str) -> R<Self> {
        let (stream, track) = match v.split1(b' ') {
            Some((s, t)) => (s, Some(t)),
            None => (v, None),
        };
        if stream.is_empty() {
            return Err(K::MissingField {
                field: "msid stream id",
            });
        }
        Ok(Msid { stream, track })
    }
}

impl fmt::Display for Msid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stream)?;
        if let Some(t) = self.track {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

/// `a=msid-semantic: WMS [<id>…]` (the pre-RFC 8830 session attribute browsers still send).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MsidSemantic<'a> {
    /// Semantics token (`WMS`).
    pub semantics: &'a str,
    /// Stream ids (`*` for all).
    pub ids: Vec<&'a str>,
}

impl<'a> MsidSemantic<'a> {
    fn parse(v: &'a str) -> R<Self> {
        // Chromium writes `a=msid-semantic: WMS *`, with a space before the token.
        let mut it = v.splitb(b' ').filter(|s| !s.is_empty());
        let semantics = it.next().ok_or(K::MissingField {
            field: "msid-semantic token",
        })?;
        Ok(MsidSemantic {
            semantics,
            ids: it.collect(),
        })
    }
}

impl fmt::Display for MsidSemantic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written as browsers do, with a leading space.
        write!(f, " {}", self.semantics)?;
        for id in &self.ids {
            write!(f, " {id}")?;
        }
        Ok(())
    }
}

/// Direction in `a=rid` (RFC 8851 §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`.
    Send,
    /// `recv`.
    Recv,
}

impl RidDirection {
    /// The token.
    pub fn as_str(self) -> &'static str {
        match self {
            RidDirection::Send => "send",
            RidDirection::Recv => "recv",
        }
    }

    /// The opposite direction (what an answer writes for an offered rid).
    pub fn reverse(self) -> Self {
        match self {
            RidDirection::Send => RidDirection::Recv,
            RidDirection::Recv => RidDirection::Send,
        }
    }
}

/// `a=rid:<id> <send|recv> [pt=<fmt>,…;<restriction>=<value>;…]` (RFC 8851 §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rid<'a> {
    /// The rid (RFC 8851 §10: alphanumerics, `-`, `_`).
    pub id: &'a str,
    /// send or recv.
    pub direction: RidDirection,
    /// The restrictions text, if any (`pt=96,97;max-width=1280`).
    pub restrictions: Option<&'a str>,
}

fn is_rid_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl<'a> Rid<'a> {
    pub(crate) fn parse(v: &'a str) -> R<Self> {
        let (id, rest) = match v.split1(b' ') {
            Some((i, r)) => (i, Some(r)),
            None => (v, None),
        };
        if !is_rid_id(id) {
            return Err(K::invalid("rid id", id));
        }
        let (dir, restrictions) = match rest.map(|r| r.split1(b' ').ok_or(r)) {
            Some(Ok((d, r))) => (d, Some(r)),
            Some(Err(d)) => (d, None),
            None => {
                return Err(K::MissingField {
                    field: "rid direction",
                });
            }
        };
        let direction = match dir {
            "send" => RidDirection::Send,
            "recv" => RidDirection::Recv,
            d => return Err(K::invalid("rid direction", d)),
        };
        let rid = Rid {
            id,
            direction,
            restrictions,
        };
        for (k, v) in rid.params() {
            if k == "pt" {
                for pt in v.unwrap_or_default().splitb(b',') {
                    parse_pt(pt)?;
                }
            }
        }
        Ok(rid)
    }

    /// Restrictions as `(key, value)` pairs.
    pub fn params(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.restrictions
            .unwrap_or_default()
            .splitb(b';')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split1(b'=') {
                Some((k, v)) => (k, Some(v)),
                None => (p, None),
            })
    }

    /// The payload types of `pt=` (empty if unrestricted).
    pub fn payload_types(&self) -> Vec<u8> {
        self.params()
            .filter(|(k, _)| *k == "pt")
            .flat_map(|(_, v)| v.unwrap_or_default().splitb(b','))
            .filter_map(|p| parse_pt(p).ok())
            .collect()
    }
}

impl fmt::Display for Rid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.direction.as_str())?;
        if let Some(r) = self.restrictions {
            write!(f, " {r}")?;
        }
        Ok(())
    }
}

/// One simulcast format in an `a=simulcast` stream list: a rid, maybe paused (`~`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimulcastRid<'a> {
    /// The rid.
    pub rid: &'a str,
    /// Written with a `~` prefix (RFC 8853 §5.1: paused).
    pub paused: bool,
}

/// `a=simulcast:[send <list>] [recv <list>]` (RFC 8853 §5.1). Each list is streams separated by
/// `;`, each stream a list of alternative rids separated by `,`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Simulcast<'a> {
    /// The send streams (each a list of alternatives).
    pub send: Vec<Vec<SimulcastRid<'a>>>,
    /// The receive streams.
    pub recv: Vec<Vec<SimulcastRid<'a>>>,
    /// Was `recv` written before `send`? (kept so Display reproduces the order).
    pub recv_first: bool,
}

fn parse_sc_list(v: &str) -> R<Vec<Vec<SimulcastRid<'_>>>> {
    v.splitb(b';')
        .map(|stream| {
            stream
                .splitb(b',')
                .map(|alt| {
                    let (paused, rid) = match alt.strip_prefix('~') {
                        Some(r) => (true, r),
                        None => (false, alt),
                    };
                    if is_rid_id(rid) {
                        Ok(SimulcastRid { rid, paused })
                    } else {
                        Err(K::invalid("simulcast rid", alt))
                    }
                })
                .collect()
        })
        .collect()
}

impl<'a> Simulcast<'a> {
    fn parse(v: &'a str) -> R<Self> {
        let mut sc = Simulcast::default();
        let mut it = v.splitb(b' ').filter(|s| !s.is_empty());
        let mut first = true;
        while let Some(dir) = it.next() {
            let list = it.next().ok_or(K::MissingField {
                field: "simulcast stream list",
            })?;
            let parsed = parse_sc_list(list)?;
            match dir {
                "send" if sc.send.is_empty() => sc.send = parsed,
                "recv" if sc.recv.is_empty() => {
                    sc.recv_first = first;
                    sc.recv = parsed;
                }
                _ => return Err(K::invalid("simulcast direction", dir)),
            }
            first = false;
        }
        if sc.send.is_empty() && sc.recv.is_empty() {
            return Err(K::MissingField {
                field: "simulcast stream list",
            });
        }
        Ok(sc)
    }

    /// The rids of `list` in order (flattened alternatives).
    pub fn rids<'l>(list: &'l [Vec<SimulcastRid<'a>>]) -> impl Iterator<Item = &'a str> + 'l {
        list.iter().flatten().map(|r| r.rid)
    }
}

fn write_sc_list(
    f: &mut fmt::Formatter<'_>,
    dir: &str,
    l: &[Vec<SimulcastRid<'_>>],
) -> fmt::Result {
    f.write_str(dir)?;
    for (i, stream) in l.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ";" })?;
        for (j, alt) in stream.iter().enumerate() {
            if j > 0 {
                f.write_str(",")?;
            }
            if alt.paused {
                f.write_str("~")?;
            }
            f.write_str(alt.rid)?;
        }
    }
    Ok(())
}

impl fmt::Display for Simulcast<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: [(&str, &[Vec<SimulcastRid<'_>>]); 2] = if self.recv_first {
            [("recv", &self.recv), ("send", &self.send)]
        } else {
            [("send", &self.send), ("recv", &self.recv)]
        };
        let mut first = true;
        for (d, l) in parts {
            if l.is_empty() {
                continue;
            }
            if !first {
                f.write_str(" ")?;
            }
            write_sc_list(f, d, l)?;
            first = false;
        }
        Ok(())
    }
}

/// A typed `a=` attribute. Unknown attributes are [`Attribute::Other`]; the document keeps
/// every attribute's text as written whatever its type.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute<'a> {
    /// `a=ice-ufrag` (RFC 8839 §5.4).
    IceUfrag(&'a str),
    /// `a=ice-pwd` (RFC 8839 §5.4).
    IcePwd(&'a str),
    /// `a=ice-options` (RFC 8839 §5.6): `trickle`, `renomination`, …
    IceOptions(Vec<&'a str>),
    /// `a=ice-lite` (RFC 8839 §5.3).
    IceLite,
    /// `a=fingerprint` (RFC 8122 §5).
    Fingerprint(Fingerprint),
    /// `a=setup` (RFC 4145 §4).
    Setup(Setup),
    /// `a=mid` (RFC 5888 §4).
    Mid(&'a str),
    /// `a=group` (RFC 5888 §5).
    Group(Group<'a>),
    /// `a=msid-semantic`.
    MsidSemantic(MsidSemantic<'a>),
    /// `a=msid` (RFC 8830 §2).
    Msid(Msid<'a>),
    /// `a=rtcp-mux` (RFC 5761 §5.1.1).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858 §3).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506 §5).
    RtcpRsize,
    /// `a=rtpmap` (RFC 8866 §6.6).
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp` (RFC 8866 §6.15).
    Fmtp(Fmtp<'a>),
    /// `a=rtcp-fb` (RFC 4585 §4.2).
    RtcpFb(RtcpFb<'a>),
    /// `a=extmap` (RFC 8285 §8).
    Extmap(Extmap<'a>),
    /// `a=extmap-allow-mixed` (RFC 8285 §6).
    ExtmapAllowMixed,
    /// `a=ssrc` (RFC 5576 §4.1).
    Ssrc(Ssrc<'a>),
    /// `a=ssrc-group` (RFC 5576 §4.2).
    SsrcGroup(SsrcGroup<'a>),
    /// `a=rid` (RFC 8851 §10).
    Rid(Rid<'a>),
    /// `a=simulcast` (RFC 8853 §5.1).
    Simulcast(Simulcast<'a>),
    /// `a=sctp-port` (RFC 8841 §5).
    SctpPort(u16),
    /// `a=max-message-size` (RFC 8841 §6).
    MaxMessageSize(u64),
    /// `a=sendrecv` / `sendonly` / `recvonly` / `inactive` (RFC 8866 §6.7).
    Direction(Direction),
    /// `a=bundle-only` (RFC 8843 §6).
    BundleOnly,
    /// `a=end-of-candidates` (RFC 8840 §8.2).
    EndOfCandidates,
    /// `a=candidate`: the value is kept as text; the ICE crate owns its grammar (RFC 8839 §5.1).
    Candidate(&'a str),
    /// Any other attribute, as written.
    Other {
        /// Attribute name.
        name: &'a str,
        /// Value after `:`, if any.
        value: Option<&'a str>,
    },
}

fn flag<'a>(v: Option<&'a str>, a: Attribute<'a>) -> R<Attribute<'a>> {
    // Property attributes take no value (RFC 8866 §5.13); tolerate an empty one.
    match v {
        None | Some("") => Ok(a),
        Some(x) => Err(K::invalid("value of a property attribute", x)),
    }
}

pub(crate) fn need<'a>(v: Option<&'a str>, field: &'static str) -> R<&'a str> {
    match v {
        Some(x) if !x.is_empty() => Ok(x),
        _ => Err(K::MissingField { field }),
    }
}

impl<'a> Attribute<'a> {
    /// Parses the text after `a=` (`name[:value]`).
    pub fn parse(text: &'a str) -> Result<Self, K> {
        let (name, value) = match text.split1(b':') {
            Some((n, v)) => (n, Some(v)),
            None => (text, None),
        };
        Self::parse_parts(name, value)
    }

    /// Parses an attribute given as name and optional value.
    pub fn parse_parts(name: &'a str, value: Option<&'a str>) -> Result<Self, K> {
        use Attribute as A;
        Ok(match name {
            "candidate" => A::Candidate(need(value, "candidate value")?),
            "ssrc" => A::Ssrc(Ssrc::parse(need(value, "ssrc value")?)?),
            "rtpmap" => A::Rtpmap(Rtpmap::parse(need(value, "rtpmap value")?)?),
            "fmtp" => A::Fmtp(Fmtp::parse(need(value, "fmtp value")?)?),
            "rtcp-fb" => A::RtcpFb(RtcpFb::parse(need(value, "rtcp-fb value")?)?),
            "extmap" => A::Extmap(Extmap::parse(need(value, "extmap value")?)?),
            "ice-ufrag" => A::IceUfrag(need(value, "ice-ufrag value")?),
            "ice-pwd" => A::IcePwd(need(value, "ice-pwd value")?),
            "ice-options" => A::IceOptions(
                need(value, "ice-options value")?
                    .splitb(b' ')
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            "ice-lite" => flag(value, A::IceLite)?,
            "fingerprint" => A::Fingerprint(Fingerprint::parse(need(value, "fingerprint value")?)?),
            "setup" => A::Setup(Setup::parse(need(value, "setup value")?)?),
            "mid" => {
                let m = need(value, "mid value")?;
                if m.hasb(b' ') {
                    return Err(K::invalid("mid", m));
                }
                A::Mid(m)
            }
            "group" => A::Group(Group::parse(need(value, "group value")?)?),
            "msid-semantic" => {
                A::MsidSemantic(MsidSemantic::parse(need(value, "msid-semantic value")?)?)
            }
            "msid" => A::Msid(Msid::parse(need(value, "msid value")?)?),
            "rtcp-mux" => flag(value, A::RtcpMux)?,
            "rtcp-mux-only" => flag(value, A::RtcpMuxOnly)?,
            "rtcp-rsize" => flag(value, A::RtcpRsize)?,
            "extmap-allow-mixed" => flag(value, A::ExtmapAllowMixed)?,
            "ssrc-group" => A::SsrcGroup(SsrcGroup::parse(need(value, "ssrc-group value")?)?),
            "rid" => A::Rid(Rid::parse(need(value, "rid value")?)?),
            "simulcast" => A::Simulcast(Simulcast::parse(need(value, "simulcast value")?)?),
            "sctp-port" => A::SctpPort(parse_num(need(value, "sctp-port value")?, "sctp-port")?),
            "max-message-size" => A::MaxMessageSize(parse_u64(
                need(value, "max-message-size value")?,
                "max-message-size",
            )?),
            "sendrecv" => flag(value, A::Direction(Direction::SendRecv))?,
            "sendonly" => flag(value, A::Direction(Direction::SendOnly))?,
            "recvonly" => flag(value, A::Direction(Direction::RecvOnly))?,
            "inactive" => flag(value, A::Direction(Direction::Inactive))?,
            "bundle-only" => flag(value, A::BundleOnly)?,
            "end-of-candidates" => flag(value, A::EndOfCandidates)?,
            _ => {
                if name.is_empty() {
                    return Err(K::MissingField {
                        field: "attribute name",
                    });
                }
                A::Other { name, value }
            }
        })
    }

    /// The attribute name.
    pub fn name(&self) -> &'a str {
        use Attribute as A;
        match self {
            A::IceUfrag(_) => "ice-ufrag",
            A::IcePwd(_) => "ice-pwd",
            A::IceOptions(_) => "ice-options",
            A::IceLite => "ice-lite",
            A::Fingerprint(_) => "fingerprint",
            A::Setup(_) => "setup",
            A::Mid(_) => "mid",
            A::Group(_) => "group",
            A::MsidSemantic(_) => "msid-semantic",
            A::Msid(_) => "msid",
            A::RtcpMux => "rtcp-mux",
            A::RtcpMuxOnly => "rtcp-mux-only",
            A::RtcpRsize => "rtcp-rsize",
            A::Rtpmap(_) => "rtpmap",
            A::Fmtp(_) => "fmtp",
            A::RtcpFb(_) => "rtcp-fb",
            A::Extmap(_) => "extmap",
            A::ExtmapAllowMixed => "extmap-allow-mixed",
            A::Ssrc(_) => "ssrc",
            A::SsrcGroup(_) => "ssrc-group",
            A::Rid(_) => "rid",
            A::Simulcast(_) => "simulcast",
            A::SctpPort(_) => "sctp-port",
            A::MaxMessageSize(_) => "max-message-size",
            A::Direction(d) => d.as_str(),
            A::BundleOnly => "bundle-only",
            A::EndOfCandidates => "end-of-candidates",
            A::Candidate(_) => "candidate",
            A::Other { name, .. } => name,
        }
    }
}

impl fmt::Display for Attribute<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Attribute as A;
        f.write_str(self.name())?;
        match self {
            A::IceLite
            | A::RtcpMux
            | A::RtcpMuxOnly
            | A::RtcpRsize
            | A::ExtmapAllowMixed
            | A::Direction(_)
            | A::BundleOnly
            | A::EndOfCandidates => Ok(()),
            A::IceUfrag(v) | A::IcePwd(v) | A::Mid(v) | A::Candidate(v) => write!(f, ":{v}"),
            A::IceOptions(v) => write!(f, ":{}", v.join(" ")),
            A::Fingerprint(v) => write!(f, ":{v}"),
            A::Setup(v) => write!(f, ":{}", v.as_str()),
            A::Group(v) => write!(f, ":{v}"),
            A::MsidSemantic(v) => write!(f, ":{v}"),
            A::Msid(v) => write!(f, ":{v}"),
            A::Rtpmap(v) => write!(f, ":{v}"),
            A::Fmtp(v) => write!(f, ":{v}"),
            A::RtcpFb(v) => write!(f, ":{v}"),
            A::Extmap(v) => write!(f, ":{v}"),
            A::Ssrc(v) => write!(f, ":{v}"),
            A::SsrcGroup(v) => write!(f, ":{v}"),
            A::Rid(v) => write!(f, ":{v}"),
            A::Simulcast(v) => write!(f, ":{v}"),
            A::SctpPort(v) => write!(f, ":{v}"),
            A::MaxMessageSize(v) => write!(f, ":{v}"),
            A::Other { value: Some(v), .. } => write!(f, ":{v}"),
            A::Other { value: None, .. } => Ok(()),
        }
    }
}
