//! RTP fixed header, CSRCs, padding and RFC 8285 header extensions (RFC 3550 §5.1, §5.3.1).
//!
//! [`RtpPacket`] is a zero-copy view: [`RtpPacket::new_checked`] validates every length once
//! (version, CSRC count, extension block, padding and, for RFC 8285 blocks, every element),
//! after which no getter can panic and nothing allocates. Setters work in place on
//! `AsMut<[u8]>` buffers. [`RtpRepr`] builds packets into caller buffers.

use crate::error::{Error, Result, check_out, truncated};
use crate::wire::util::{u16_at, u32_at};

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;
/// The RFC 8285 §4.2 one-byte header extension profile ("defined by profile" 0xBEDE).
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// The RFC 8285 §4.3 two-byte header extension profile (0x100 followed by 4 appbits).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;
/// Largest element a one-byte extension can carry (RFC 8285 §4.2).
pub const ONE_BYTE_MAX_LEN: usize = 16;
/// Largest id a one-byte extension can carry; 15 is reserved (RFC 8285 §4.2).
pub const ONE_BYTE_MAX_ID: u8 = 14;

/// Which RFC 8285 form a header extension block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionForm {
    /// One-byte headers, profile 0xBEDE (RFC 8285 §4.2).
    OneByte,
    /// Two-byte headers, profile 0x100X; the value is the 4 appbits (RFC 8285 §4.3).
    TwoByte(u8),
    /// A non-RFC 8285 profile: the block is opaque.
    Other(u16),
}

impl ExtensionForm {
    /// Classifies a "defined by profile" value.
    pub fn from_profile(profile: u16) -> Self {
        if profile == ONE_BYTE_PROFILE {
            ExtensionForm::OneByte
        } else if profile & 0xFFF0 == TWO_BYTE_PROFILE {
            ExtensionForm::TwoByte((profile & 0x0F) as u8)
        } else {
            ExtensionForm::Other(profile)
        }
    }
    /// The "defined by profile" value written on the wire.
    pub fn profile(self) -> u16 {
        match self {
            ExtensionForm::OneByte => ONE_BYTE_PROFILE,
            ExtensionForm::TwoByte(appbits) => TWO_BYTE_PROFILE | u16::from(appbits & 0x0F),
            ExtensionForm::Other(p) => p,
        }
    }
}

/// One RFC 8285 header extension element: its local id and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Extension<'a> {
    /// Local identifier (1..=14 one-byte, 1..=255 two-byte).
    pub id: u8,
    /// The element's value.
    pub data: &'a [u8],
}

/// A zero-copy view over an RTP packet (RFC 3550 §5.1).
#[derive(Debug, Clone)]
pub struct RtpPacket<T: AsRef<[u8]>> {
    buf: T,
    /// End of CSRC list (start of the extension header, or of the payload).
    csrc_end: u16,
    /// Start of the payload.
    payload_start: u16,
    /// End of the payload (before padding).
    payload_end: u32,
}

/// Walks the elements of an RFC 8285 block, calling `f` for each. Returns an error on a
/// malformed element. `f` returns `true` to stop early.
#[inline(always)]
fn walk_elements<'a>(
    form: ExtensionForm,
    data: &'a [u8],
    mut f: impl FnMut(u8, usize, &'a [u8]) -> bool,
) -> Result<()> {
    let mut i = 0usize;
    match form {
        ExtensionForm::OneByte => {
            while let Some(&b) = data.get(i) {
                let id = b >> 4;
                if id == 0 {
                    // RFC 8285 §4.2: padding octet.
                    i += 1;
                    continue;
                }
                if id == 15 {
                    // RFC 8285 §4.2: id 15 stops processing of the whole block.
                    return Ok(());
                }
                let len = usize::from(b & 0x0F) + 1;
                let start = i + 1;
                let Some(value) = data.get(start..start + len) else {
                    return Err(Error::BadLength {
                        what: "one-byte header extension element",
                        claimed: len,
                        available: data.len().saturating_sub(start),
                    });
                };
                if f(id, start, value) {
                    return Ok(());
                }
                i = start + len;
            }
        }
        ExtensionForm::TwoByte(_) => {
            while let Some(&id) = data.get(i) {
                if id == 0 {
                    i += 1;
                    continue;
                }
                let Some(&len) = data.get(i + 1) else {
                    return Err(truncated("two-byte header extension element", 2, 1));
                };
                let len = usize::from(len);
                let start = i + 2;
                let Some(value) = data.get(start..start + len) else {
                    return Err(Error::BadLength {
                        what: "two-byte header extension element",
                        claimed: len,
                        available: data.len().saturating_sub(start),
                    });
                };
                if f(id, start, value) {
                    return Ok(());
                }
                i = start + len;
            }
        }
        ExtensionForm::Other(_) => {}
    }
    Ok(())
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Validates `buf` as an RTP packet and returns a view over it.
    ///
    /// Checks: version 2, the CSRC list (RFC 3550 §5.1), the extension header and its
    /// declared length (§5.3.1), every RFC 8285 element length, and that the padding count
    /// (last octet when P is set) is non-zero and fits in the payload area.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self> {
        Self::check(buf, true)
    }

    /// Like [`new_checked`](Self::new_checked) but leaves the RFC 8285 elements inside the
    /// extension block unchecked until they are read: version, CSRC list, extension header,
    /// the block's bounds and padding are validated here; [`extension`](Self::extension),
    /// [`extension_mut`](Self::extension_mut) and [`extensions`](Self::extensions) check
    /// each element as they walk to it, and a malformed element ends the walk (reads as
    /// absent). Nothing can panic or read outside the block either way.
    ///
    /// The fast path for a receiver that reads one or two extensions by id (the walk to
    /// the element is the only pass over the block); use `new_checked` to reject packets
    /// with a malformed block outright.
    #[inline]
    pub fn new_checked_lazy(buf: T) -> Result<Self> {
        Self::check(buf, false)
    }

    #[inline(always)]
    fn check(buf: T, walk: bool) -> Result<Self> {
        let b = buf.as_ref();
        let len = b.len();
        if len < FIXED_HEADER_LEN {
            return Err(truncated("RTP fixed header", FIXED_HEADER_LEN, len));
        }
        if len > u32::MAX as usize {
            return Err(Error::LimitExceeded {
                what: "RTP packet length",
                limit: u32::MAX as usize,
            });
        }
        #[allow(clippy::indexing_slicing)] // len >= 12 checked above
        let b0 = b[0];
        if b0 >> 6 != 2 {
            return Err(Error::InvalidField {
                field: "RTP version",
                value: u64::from(b0 >> 6),
            });
        }
        let csrc_end = FIXED_HEADER_LEN + 4 * usize::from(b0 & 0x0F);
        if len < csrc_end {
            return Err(truncated("RTP CSRC list", csrc_end, len));
        }
        let mut payload_start = csrc_end;
        if b0 & 0x10 != 0 {
            let (Some(profile), Some(words)) = (u16_at(b, csrc_end), u16_at(b, csrc_end + 2))
            else {
                return Err(truncated("RTP header extension header", csrc_end + 4, len));
            };
            let data_start = csrc_end + 4;
            let data_end = data_start + 4 * usize::from(words);
            let Some(data) = b.get(data_start..data_end) else {
                return Err(Error::BadLength {
                    what: "RTP header extension length",
                    claimed: 4 * usize::from(words),
                    available: len - data_start,
                });
            };
            if walk {
                walk_elements(ExtensionForm::from_profile(profile), data, |_, _, _| false)?;
            }
            payload_start = data_end;
        }
        let mut payload_end = len;
        if b0 & 0x20 != 0 {
            #[allow(clippy::indexing_slicing)] // len >= 12
            let pad = usize::from(b[len - 1]);
            if pad == 0 {
                return Err(Error::InvalidField {
                    field: "RTP padding count",
                    value: 0,
                });
            }
            if pad > len - payload_start {
                return Err(Error::BadLength {
                    what: "RTP padding",
                    claimed: pad,
                    available: len - payload_start,
                });
            }
            payload_end = len - pad;
        }
        Ok(RtpPacket {
            buf,
            csrc_end: csrc_end as u16,
            payload_start: payload_start as u16,
            payload_end: payload_end as u32,
        })
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }
    /// The whole packet.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }
    #[inline(always)]
    fn b0(&self) -> u8 {
        self.buf.as_ref().first().copied().unwrap_or(0)
    }
    #[inline(always)]
    fn b1(&self) -> u8 {
        self.buf.as_ref().get(1).copied().unwrap_or(0)
    }
    /// Version (always 2 after `new_checked`).
    pub fn version(&self) -> u8 {
        self.b0() >> 6
    }
    /// P bit.
    pub fn has_padding(&self) -> bool {
        self.b0() & 0x20 != 0
    }
    /// X bit.
    pub fn has_extension(&self) -> bool {
        self.b0() & 0x10 != 0
    }
    /// CC field.
    pub fn csrc_count(&self) -> u8 {
        self.b0() & 0x0F
    }
    /// M bit.
    pub fn marker(&self) -> bool {
        self.b1() & 0x80 != 0
    }
    /// PT field.
    pub fn payload_type(&self) -> u8 {
        self.b1() & 0x7F
    }
    /// Sequence number.
    #[inline]
    pub fn sequence_number(&self) -> u16 {
        u16_at(self.buf.as_ref(), 2).unwrap_or(0)
    }
    /// RTP timestamp.
    #[inline]
    pub fn timestamp(&self) -> u32 {
        u32_at(self.buf.as_ref(), 4).unwrap_or(0)
    }
    /// SSRC.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        u32_at(self.buf.as_ref(), 8).unwrap_or(0)
    }
    /// The CSRC identifiers.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + '_ {
        let b = self
            .buf
            .as_ref()
            .get(FIXED_HEADER_LEN..usize::from(self.csrc_end))
            .unwrap_or(&[]);
        b.chunks_exact(4).map(|c| u32_at(c, 0).unwrap_or(0))
    }
    /// The "defined by profile" field of the extension header, if X is set.
    pub fn extension_profile(&self) -> Option<u16> {
        if self.has_extension() {
            u16_at(self.buf.as_ref(), usize::from(self.csrc_end))
        } else {
            None
        }
    }
    /// The form of the extension block, if X is set.
    pub fn extension_form(&self) -> Option<ExtensionForm> {
        self.extension_profile().map(ExtensionForm::from_profile)
    }
    /// The extension block's data (after its 4-octet header), if X is set.
    pub fn extension_data(&self) -> Option<&[u8]> {
        if self.has_extension() {
            self.buf
                .as_ref()
                .get(usize::from(self.csrc_end) + 4..usize::from(self.payload_start))
        } else {
            None
        }
    }
    /// Length of everything before the payload: fixed header, CSRCs, extension block.
    pub fn header_len(&self) -> usize {
        usize::from(self.payload_start)
    }
    /// The payload (padding excluded).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        self.buf
            .as_ref()
            .get(usize::from(self.payload_start)..self.payload_end as usize)
            .unwrap_or(&[])
    }
    /// Number of padding octets (0 if P is clear).
    pub fn padding_len(&self) -> usize {
        self.buf.as_ref().len() - self.payload_end as usize
    }
    /// Iterates over the RFC 8285 elements of the extension block (none for other profiles).
    pub fn extensions(&self) -> Extensions<'_> {
        let form = self.extension_form().unwrap_or(ExtensionForm::Other(0));
        Extensions {
            form,
            data: self.extension_data().unwrap_or(&[]),
            pos: 0,
        }
    }
    /// The value of the RFC 8285 element with local id `id`, if present.
    #[inline]
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        let (off, len) = self.extension_range(id)?;
        self.buf.as_ref().get(off..off + len)
    }
    /// Absolute (offset, length) of element `id`'s value.
    #[inline]
    fn extension_range(&self, id: u8) -> Option<(usize, usize)> {
        if !self.has_extension() || id == 0 {
            return None;
        }
        let b = self.buf.as_ref();
        let hdr = usize::from(self.csrc_end);
        let form = ExtensionForm::from_profile(u16_at(b, hdr)?);
        let data = b.get(hdr + 4..usize::from(self.payload_start))?;
        if form == ExtensionForm::OneByte {
            // The common form, walked inline (RFC 8285 section 4.2): the walk is the whole
            // cost of a lookup. Same rules as `walk_elements`: padding octets skipped, id 15
            // ends the block, an element that overruns it ends the walk.
            let mut i = 0;
            while let Some(&h) = data.get(i) {
                let eid = h >> 4;
                if eid == 0 {
                    i += 1;
                    continue;
                }
                let start = i + 1;
                let len = usize::from(h & 0x0F) + 1;
                if eid == 15 || start + len > data.len() {
                    return None;
                }
                if eid == id {
                    return Some((hdr + 4 + start, len));
                }
                i = start + len;
            }
            return None;
        }
        let mut found = None;
        // Malformed elements were rejected by new_checked; after new_checked_lazy one ends
        // the walk, and the elements after it read as absent.
        let _ = walk_elements(form, data, |eid, start, v| {
            if eid == id {
                found = Some((hdr + 4 + start, v.len()));
                true
            } else {
                false
            }
        });
        found
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    fn put(&mut self, at: usize, v: &[u8]) {
        if let Some(dst) = self.buf.as_mut().get_mut(at..at + v.len()) {
            dst.copy_from_slice(v);
        }
    }
    /// Rewrites the M bit.
    pub fn set_marker(&mut self, marker: bool) {
        if let Some(b) = self.buf.as_mut().get_mut(1) {
            *b = (*b & 0x7F) | if marker { 0x80 } else { 0 };
        }
    }
    /// Rewrites the payload type (7 bits; higher bits are ignored).
    pub fn set_payload_type(&mut self, pt: u8) {
        if let Some(b) = self.buf.as_mut().get_mut(1) {
            *b = (*b & 0x80) | (pt & 0x7F);
        }
    }
    /// Rewrites the sequence number.
    pub fn set_sequence_number(&mut self, seq: u16) {
        self.put(2, &seq.to_be_bytes());
    }
    /// Rewrites the timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        self.put(4, &ts.to_be_bytes());
    }
    /// Rewrites the SSRC.
    pub fn set_ssrc(&mut self, ssrc: u32) {
        self.put(8, &ssrc.to_be_bytes());
    }
    /// Mutable access to the value of extension element `id` (same length: in-place rewrite).
    pub fn extension_mut(&mut self, id: u8) -> Option<&mut [u8]> {
        let (off, len) = self.extension_range(id)?;
        self.buf.as_mut().get_mut(off..off + len)
    }
    /// Mutable access to the payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (s, e) = (usize::from(self.payload_start), self.payload_end as usize);
        self.buf.as_mut().get_mut(s..e).unwrap_or(&mut [])
    }
}

/// Iterator over RFC 8285 elements, see [`RtpPacket::extensions`].
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    form: ExtensionForm,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;
    fn next(&mut self) -> Option<Extension<'a>> {
        let rest = self.data.get(self.pos..)?;
        let mut out = None;
        let mut consumed = rest.len();
        let _ = walk_elements(self.form, rest, |id, start, v| {
            out = Some(Extension { id, data: v });
            consumed = start + v.len();
            true
        });
        self.pos += consumed;
        out
    }
}

/// The header extension block to write, see [`RtpRepr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderExtension<'a> {
    /// No extension (X = 0).
    #[default]
    None,
    /// RFC 8285 elements; one-byte form when every id is 1..=14 and every value 1..=16
    /// octets, otherwise two-byte form (the "mixed" case of RFC 8285 §4.1.2).
    Auto(&'a [Extension<'a>]),
    /// RFC 8285 elements in a given form.
    Form(ExtensionForm, &'a [Extension<'a>]),
    /// An opaque block with any profile; `data` must be a multiple of 4 octets.
    Raw {
        /// "defined by profile".
        profile: u16,
        /// Block data.
        data: &'a [u8],
    },
}

fn fits_one_byte(exts: &[Extension<'_>]) -> bool {
    exts.iter().all(|e| {
        (1..=ONE_BYTE_MAX_ID).contains(&e.id) && (1..=ONE_BYTE_MAX_LEN).contains(&e.data.len())
    })
}

impl HeaderExtension<'_> {
    fn resolved(&self) -> Option<(ExtensionForm, &[Extension<'_>])> {
        match *self {
            HeaderExtension::Auto(e) => Some((
                if fits_one_byte(e) {
                    ExtensionForm::OneByte
                } else {
                    ExtensionForm::TwoByte(0)
                },
                e,
            )),
            HeaderExtension::Form(f, e) => Some((f, e)),
            _ => None,
        }
    }
    /// Octets of element data (unpadded) and validation.
    fn data_len(&self) -> Result<usize> {
        match self {
            HeaderExtension::None => Ok(0),
            HeaderExtension::Raw { data, .. } => {
                if data.len() % 4 != 0 || data.len() > 4 * 0xFFFF {
                    Err(Error::Unencodable {
                        what: "raw extension block must be a multiple of 4 octets, at most 262140",
                    })
                } else {
                    Ok(data.len())
                }
            }
            _ => {
                let Some((form, exts)) = self.resolved() else {
                    return Ok(0);
                };
                let mut n = 0usize;
                for e in exts {
                    match form {
                        ExtensionForm::OneByte => {
                            if !(1..=ONE_BYTE_MAX_ID).contains(&e.id)
                                || !(1..=ONE_BYTE_MAX_LEN).contains(&e.data.len())
                            {
                                return Err(Error::Unencodable {
                                    what: "one-byte extension needs id 1..=14 and 1..=16 octets",
                                });
                            }
                            n += 1 + e.data.len();
                        }
                        ExtensionForm::TwoByte(_) => {
                            if e.id == 0 || e.data.len() > 255 {
                                return Err(Error::Unencodable {
                                    what: "two-byte extension needs id 1..=255 and <= 255 octets",
                                });
                            }
                            n += 2 + e.data.len();
                        }
                        ExtensionForm::Other(_) => {
                            return Err(Error::Unencodable {
                                what: "elements need an RFC 8285 form",
                            });
                        }
                    }
                }
                if n > 4 * 0xFFFF {
                    return Err(Error::Unencodable {
                        what: "extension block longer than 262140 octets",
                    });
                }
                Ok(n)
            }
        }
    }
}

/// Everything needed to write an RTP packet (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RtpRepr<'a> {
    /// M bit.
    pub marker: bool,
    /// Payload type (0..=127).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: u32,
    /// CSRCs (at most 15).
    pub csrcs: &'a [u32],
    /// Header extension block.
    pub extension: HeaderExtension<'a>,
    /// Payload.
    pub payload: &'a [u8],
    /// Octets of padding to append (0 = none; sets P).
    pub padding: u8,
}

impl RtpRepr<'_> {
    /// Octets `emit` will write, or why the packet cannot be encoded.
    pub fn buffer_len(&self) -> Result<usize> {
        if self.csrcs.len() > 15 {
            return Err(Error::LimitExceeded {
                what: "CSRC count",
                limit: 15,
            });
        }
        if self.payload_type > 127 {
            return Err(Error::Unencodable {
                what: "payload type above 127",
            });
        }
        let ext = match self.extension {
            HeaderExtension::None => 0,
            _ => 4 + self.extension.data_len()?.div_ceil(4) * 4,
        };
        Ok(FIXED_HEADER_LEN
            + 4 * self.csrcs.len()
            + ext
            + self.payload.len()
            + usize::from(self.padding))
    }

    /// Writes the packet into `out`, returning the number of octets written.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let total = self.buffer_len()?;
        check_out(out, total)?;
        let mut w = crate::wire::util::Writer::new(out);
        let x = !matches!(self.extension, HeaderExtension::None);
        w.u8(0x80
            | if self.padding > 0 { 0x20 } else { 0 }
            | if x { 0x10 } else { 0 }
            | self.csrcs.len() as u8)?;
        w.u8(if self.marker { 0x80 } else { 0 } | self.payload_type)?;
        w.u16(self.sequence_number)?;
        w.u32(self.timestamp)?;
        w.u32(self.ssrc)?;
        for c in self.csrcs {
            w.u32(*c)?;
        }
        match self.extension {
            HeaderExtension::None => {}
            HeaderExtension::Raw { profile, data } => {
                w.u16(profile)?;
                w.u16((data.len() / 4) as u16)?;
                w.bytes(data)?;
            }
            _ => {
                let n = self.extension.data_len()?;
                let words = n.div_ceil(4);
                if let Some((form, exts)) = self.extension.resolved() {
                    w.u16(form.profile())?;
                    w.u16(words as u16)?;
                    for e in exts {
                        if form == ExtensionForm::OneByte {
                            w.u8((e.id << 4) | (e.data.len() as u8 - 1))?;
                        } else {
                            w.u8(e.id)?;
                            w.u8(e.data.len() as u8)?;
                        }
                        w.bytes(e.data)?;
                    }
                    w.zeros(words * 4 - n)?;
                }
            }
        }
        w.bytes(self.payload)?;
        if self.padding > 0 {
            w.zeros(usize::from(self.padding) - 1)?;
            w.u8(self.padding)?;
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
