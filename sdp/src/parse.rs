//! The parser: one pass over the text, validating every line it keeps.

use crate::attr::{
    Attribute, Extmap, Fingerprint, Fmtp, Rid, RtcpFb, Rtpmap, Ssrc, need, parse_u64,
};
use crate::error::{Error, ParseErrorKind as K};
use crate::session::{
    Connection, Limits, Line, LineEnding, MediaLine, Origin, Section, SessionDescription,
};
use crate::text::{ByteStr as _, find_eol};

/// An extmap seen while parsing: (media section index, line number, line, id, uri).
type SeenExtmap<'t> = (usize, usize, &'t str, u16, &'t str);

#[derive(Default)]
struct Ctx<'t> {
    /// Every mid seen, with its media section index.
    mids: Vec<(&'t str, usize)>,
    /// extmap ids of the current section.
    extmaps: Vec<u16>,
    /// rids of the current section.
    rids: Vec<&'t str>,
    /// Every media-level extmap, for the BUNDLE check.
    all_extmaps: Vec<SeenExtmap<'t>>,
    /// Session-level `a=group:BUNDLE` values.
    bundles: Vec<&'t str>,
}

fn check_attribute<'t>(
    ctx: &mut Ctx<'t>,
    section: Option<usize>,
    lineno: usize,
    raw: &'t str,
    value: &'t str,
) -> Result<(), K> {
    let (name, v) = match value.split1(b':') {
        Some((n, v)) => (n, Some(v)),
        None => (value, None),
    };
    // The attributes of real offers, most frequent first, are validated by their typed
    // parsers without building the `Attribute` (no allocation); the rest go through
    // `Attribute::parse_parts`. Either way the accepted set and the errors are the same.
    match name {
        "rtcp-fb" => {
            RtcpFb::parse(need(v, "rtcp-fb value")?)?;
        }
        "rtpmap" => {
            Rtpmap::parse(need(v, "rtpmap value")?)?;
        }
        "fmtp" => {
            Fmtp::parse(need(v, "fmtp value")?)?;
        }
        "extmap" => {
            let e = Extmap::parse(need(v, "extmap value")?)?;
            // RFC 8285 §6: an id names one extension in a section.
            if ctx.extmaps.contains(&e.id) {
                return Err(K::ExtmapIdCollision { id: e.id });
            }
            ctx.extmaps.push(e.id);
            if let Some(idx) = section {
                ctx.all_extmaps.push((idx, lineno, raw, e.id, e.uri));
            }
        }
        "ssrc" => {
            Ssrc::parse(need(v, "ssrc value")?)?;
        }
        "candidate" => {
            need(v, "candidate value")?;
        }
        "ice-ufrag" => {
            need(v, "ice-ufrag value")?;
        }
        "ice-pwd" => {
            need(v, "ice-pwd value")?;
        }
        "ice-options" => {
            need(v, "ice-options value")?;
        }
        "fingerprint" => Fingerprint::validate(need(v, "fingerprint value")?)?,
        "mid" => {
            let m = need(v, "mid value")?;
            if m.hasb(b' ') {
                return Err(K::invalid("mid", m));
            }
            let Some(idx) = section else {
                return Err(K::WrongLevel);
            };
            if ctx.mids.iter().any(|(x, _)| *x == m) {
                return Err(K::DuplicateMid { mid: m.to_owned() });
            }
            ctx.mids.push((m, idx));
        }
        "rid" => {
            let r = Rid::parse(need(v, "rid value")?)?;
            if ctx.rids.contains(&r.id) {
                return Err(K::DuplicateRid {
                    rid: r.id.to_owned(),
                });
            }
            ctx.rids.push(r.id);
        }
        "group" => {
            let g = need(v, "group value")?;
            let (semantics, mids) = g.split1(b' ').unwrap_or((g, ""));
            if semantics.is_empty() {
                return Err(K::MissingField {
                    field: "group semantics",
                });
            }
            if section.is_none() && semantics == "BUNDLE" && !mids.is_empty() {
                ctx.bundles.push(mids);
            }
        }
        _ => {
            Attribute::parse_parts(name, v)?;
        }
    }
    Ok(())
}

fn check_timing(v: &str) -> Result<(), K> {
    let (a, b) = v.split1(b' ').ok_or_else(|| K::invalid("timing", v))?;
    parse_u64(a, "timing start")?;
    parse_u64(b, "timing stop")?;
    Ok(())
}

fn check_bandwidth(v: &str) -> Result<(), K> {
    let (t, n) = v.split1(b':').ok_or_else(|| K::invalid("bandwidth", v))?;
    if t.is_empty() {
        return Err(K::MissingField {
            field: "bandwidth type",
        });
    }
    parse_u64(n, "bandwidth")?;
    Ok(())
}

pub(crate) fn parse(text: &str, limits: &Limits) -> Result<SessionDescription, Error> {
    if text.len() > limits.max_total_len {
        return Err(Error::InvalidValue {
            what: "document",
            reason: K::DocumentTooLong {
                max: limits.max_total_len,
            },
        });
    }
    if text.is_empty() {
        return Err(Error::Document {
            reason: "empty input",
        });
    }
    // Offsets in a section are u32 (Section's line table); the cap keeps them in range.
    if u32::try_from(text.len()).is_err() {
        return Err(Error::InvalidValue {
            what: "document",
            reason: K::DocumentTooLong {
                max: u32::MAX as usize,
            },
        });
    }
    // One pass: every line is validated and recorded as (type, value range, ending) relative
    // to its section's start; when a section ends, its slice of the input is copied once into
    // the section's buffer. No per-line copy or allocation.
    let bytes = text.as_bytes();
    let mut session: Option<Section> = None;
    let mut media: Vec<Section> = Vec::new();
    // m= lines seen; the current section is media section `n_media - 1` (session if 0).
    let mut n_media = 0usize;
    let mut lines: Vec<Line> = Vec::with_capacity(16);
    let mut sec_start = 0usize;
    let mut ctx = Ctx {
        mids: Vec::with_capacity(8),
        extmaps: Vec::with_capacity(16),
        all_extmaps: Vec::with_capacity(32),
        ..Ctx::default()
    };
    let (mut seen_o, mut seen_s, mut seen_t) = (false, false, false);
    let mut pos = 0usize;
    let mut lineno = 0usize;
    while pos < bytes.len() {
        lineno += 1;
        let rest = bytes.get(pos..).unwrap_or_default();
        let (len, ending, next) = match find_eol(rest) {
            Some(i) => match rest.get(i..) {
                Some([b'\r', b'\n', ..]) => (i, LineEnding::CrLf, pos + i + 2),
                Some([b'\n', ..]) => (i, LineEnding::Lf, pos + i + 1),
                _ => {
                    // A CR not followed by LF: RFC 8866 §5 has no such line ending.
                    let rest = text.get(pos..).unwrap_or_default();
                    let after = rest.get(i..).unwrap_or_default();
                    let full = after
                        .split1(b'\n')
                        .map_or(rest, |(l, _)| rest.get(..i + l.len()).unwrap_or_default());
                    return Err(Error::at(
                        lineno,
                        full,
                        K::invalid("line (stray carriage return)", full),
                    ));
                }
            },
            None => (rest.len(), LineEnding::None, bytes.len()),
        };
        let raw = text.get(pos..pos + len).unwrap_or_default();
        let err = |k| Error::at(lineno, raw, k);
        if len > limits.max_line_len {
            return Err(err(K::LineTooLong {
                len,
                max: limits.max_line_len,
            }));
        }
        let (kind, value) = match raw.as_bytes() {
            [] => return Err(err(K::EmptyLine)),
            [k @ b'a'..=b'z', b'=', ..] => (*k, raw.get(2..).unwrap_or_default()),
            _ => return Err(err(K::NotTypeEqualsValue)),
        };
        let section = n_media.checked_sub(1);
        if lineno == 1 {
            if kind != b'v' || value != "0" {
                return Err(err(K::BadVersion));
            }
        } else {
            let r = match kind {
                b'a' => check_attribute(&mut ctx, section, lineno, raw, value),
                b'v' => Err(K::WrongLevel),
                b'm' => {
                    if n_media >= limits.max_media_sections {
                        return Err(err(K::TooManyMediaSections {
                            max: limits.max_media_sections,
                        }));
                    }
                    MediaLine::parse(value).map(|_| {
                        // Room for this section's lines, guessed from the bytes left (real
                        // SDP lines average over 30 bytes); the cap bounds the guess.
                        let guess = (bytes.len() - pos) / 24;
                        let sec =
                            close_section(text, sec_start, pos, &mut lines, guess.clamp(8, 256));
                        match n_media {
                            0 => session = Some(sec),
                            _ => media.push(sec),
                        }
                        n_media += 1;
                        sec_start = pos;
                        ctx.extmaps.clear();
                        ctx.rids.clear();
                    })
                }
                b'o' | b's' | b't' if section.is_some() => Err(K::WrongLevel),
                b'o' => Origin::parse(value).map(|_| seen_o = true),
                b's' => {
                    seen_s = true;
                    Ok(())
                }
                b't' => check_timing(value).map(|_| seen_t = true),
                b'c' => Connection::parse(value).map(|_| ()),
                b'b' => check_bandwidth(value),
                _ => Ok(()),
            };
            r.map_err(err)?;
        }
        if lines.len() >= limits.max_lines_per_section {
            return Err(err(K::TooManyLines {
                max: limits.max_lines_per_section,
            }));
        }
        // In range: `pos + len <= text.len() <= u32::MAX` (checked above).
        lines.push(Line {
            kind,
            ending,
            start: (pos + 2 - sec_start) as u32,
            end: (pos + len - sec_start) as u32,
        });
        pos = next;
    }
    if !seen_o {
        return Err(Error::Document {
            reason: "no o= line in the session section",
        });
    }
    if !seen_s {
        return Err(Error::Document {
            reason: "no s= line in the session section",
        });
    }
    if !seen_t {
        return Err(Error::Document {
            reason: "no t= line in the session section",
        });
    }
    check_bundle_extmaps(&ctx)?;
    let last = close_section(text, sec_start, text.len(), &mut lines, 0);
    let session = match session {
        Some(s) => {
            media.push(last);
            s
        }
        None => last,
    };
    Ok(SessionDescription::from_parts(session, media))
}

/// Ends the section `text[start..end]`: copies its text once and takes its line table,
/// leaving `lines` empty with room for `next_cap` lines of the next section.
fn close_section(
    text: &str,
    start: usize,
    end: usize,
    lines: &mut Vec<Line>,
    next_cap: usize,
) -> Section {
    let own = text.get(start..end).unwrap_or_default().to_owned();
    Section::from_parsed(own, core::mem::replace(lines, Vec::with_capacity(next_cap)))
}

/// RFC 8843 §9.1.1 / RFC 8285 §6: in one BUNDLE group an extmap id names one URI.
fn check_bundle_extmaps(ctx: &Ctx<'_>) -> Result<(), Error> {
    let mut seen: Vec<(u16, &str)> = Vec::new();
    let mut members: Vec<usize> = Vec::new();
    for group in &ctx.bundles {
        seen.clear();
        // The media sections of the group, found once (mids are unique).
        members.clear();
        members.extend(
            group
                .splitb(b' ')
                .filter_map(|g| ctx.mids.iter().find(|(m, _)| *m == g).map(|(_, i)| *i)),
        );
        for &(idx, lineno, raw, id, uri) in &ctx.all_extmaps {
            if !members.contains(&idx) {
                continue;
            }
            match seen.iter().find(|(i, _)| *i == id) {
                Some((_, u)) if *u != uri => {
                    return Err(Error::at(lineno, raw, K::ExtmapIdCollision { id }));
                }
                Some(_) => {}
                None => seen.push((id, uri)),
            }
        }
    }
    Ok(())
}
