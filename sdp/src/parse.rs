//! The parser: one pass over the text, validating every line it keeps.

use crate::attr::{Attribute, parse_u64};
use crate::error::{Error, ParseErrorKind as K};
use crate::session::{
    Connection, Limits, LineEnding, MediaLine, Origin, Section, SessionDescription,
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
    match Attribute::parse_parts(name, v)? {
        Attribute::Mid(m) => {
            let Some(idx) = section else {
                return Err(K::WrongLevel);
            };
            if ctx.mids.iter().any(|(x, _)| *x == m) {
                return Err(K::DuplicateMid { mid: m.to_owned() });
            }
            ctx.mids.push((m, idx));
        }
        Attribute::Extmap(e) => {
            // RFC 8285 §6: an id names one extension in a section.
            if ctx.extmaps.contains(&e.id) {
                return Err(K::ExtmapIdCollision { id: e.id });
            }
            ctx.extmaps.push(e.id);
            if let Some(idx) = section {
                ctx.all_extmaps.push((idx, lineno, raw, e.id, e.uri));
            }
        }
        Attribute::Rid(r) => {
            if ctx.rids.contains(&r.id) {
                return Err(K::DuplicateRid {
                    rid: r.id.to_owned(),
                });
            }
            ctx.rids.push(r.id);
        }
        Attribute::Group(g) if section.is_none() && g.semantics == "BUNDLE" => {
            if let Some((_, mids)) = value.split1(b':').and_then(|(_, v)| v.split1(b' ')) {
                ctx.bundles.push(mids);
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_timing(v: &str) -> Result<(), K> {
    let (a, b) = v.split1(b' ').ok_or(K::invalid("timing", v))?;
    parse_u64(a, "timing start")?;
    parse_u64(b, "timing stop")?;
    Ok(())
}

fn check_bandwidth(v: &str) -> Result<(), K> {
    let (t, n) = v.split1(b':').ok_or(K::invalid("bandwidth", v))?;
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
    let mut session = Section::with_capacity(text.len().min(1024), 16);
    let mut media: Vec<Section> = Vec::new();
    let mut ctx = Ctx::default();
    let (mut seen_o, mut seen_s, mut seen_t) = (false, false, false);
    let mut rest = text;
    let mut lineno = 0usize;
    while !rest.is_empty() {
        lineno += 1;
        let (raw, ending) = match find_eol(rest.as_bytes()) {
            Some(i) => {
                let line = rest.get(..i).unwrap_or_default();
                let after = rest.get(i..).unwrap_or_default();
                if after.starts_with("\r\n") {
                    rest = after.get(2..).unwrap_or_default();
                    (line, LineEnding::CrLf)
                } else if after.starts_with('\n') {
                    rest = after.get(1..).unwrap_or_default();
                    (line, LineEnding::Lf)
                } else {
                    // A CR not followed by LF: RFC 8866 §5 has no such line ending.
                    let full = after
                        .split1(b'\n')
                        .map_or(rest, |(l, _)| rest.get(..i + l.len()).unwrap_or_default());
                    return Err(Error::at(
                        lineno,
                        full,
                        K::invalid("line (stray carriage return)", full),
                    ));
                }
            }
            None => (core::mem::take(&mut rest), LineEnding::None),
        };
        let err = |k| Error::at(lineno, raw, k);
        if raw.len() > limits.max_line_len {
            return Err(err(K::LineTooLong {
                len: raw.len(),
                max: limits.max_line_len,
            }));
        }
        let (kind, value) = match raw.as_bytes() {
            [] => return Err(err(K::EmptyLine)),
            [k @ b'a'..=b'z', b'=', ..] => (*k, raw.get(2..).unwrap_or_default()),
            _ => return Err(err(K::NotTypeEqualsValue)),
        };
        let section = media.len().checked_sub(1);
        if lineno == 1 {
            if kind != b'v' || value != "0" {
                return Err(err(K::BadVersion));
            }
        } else {
            let r = match kind {
                b'a' => check_attribute(&mut ctx, section, lineno, raw, value),
                b'v' => Err(K::WrongLevel),
                b'm' => {
                    if media.len() >= limits.max_media_sections {
                        return Err(err(K::TooManyMediaSections {
                            max: limits.max_media_sections,
                        }));
                    }
                    MediaLine::parse(value).map(|_| {
                        // Sections of real SDP are a few KB: reserve instead of regrowing.
                        media.push(Section::with_capacity(rest.len().min(8192), 64));
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
        let sec = media.last_mut().unwrap_or(&mut session);
        if sec.len() >= limits.max_lines_per_section {
            return Err(err(K::TooManyLines {
                max: limits.max_lines_per_section,
            }));
        }
        sec.push_raw(kind, value, ending);
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
    Ok(SessionDescription::from_parts(session, media))
}

/// RFC 8843 §9.1.1 / RFC 8285 §6: in one BUNDLE group an extmap id names one URI.
fn check_bundle_extmaps(ctx: &Ctx<'_>) -> Result<(), Error> {
    let mut seen: Vec<(u16, &str)> = Vec::new();
    for group in &ctx.bundles {
        seen.clear();
        let in_group = |idx: usize| {
            ctx.mids
                .iter()
                .any(|(m, i)| *i == idx && group.splitb(b' ').any(|g| g == *m))
        };
        for &(idx, lineno, raw, id, uri) in &ctx.all_extmaps {
            if !in_group(idx) {
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
