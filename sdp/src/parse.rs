//! The parser: one pass over the text, validating every line it keeps.

use crate::attr::{Attribute, Extmap, parse_u64};
use crate::error::{Error, ParseErrorKind as K};
use crate::session::{
    Connection, Limits, LineEnding, MediaLine, Origin, Section, SessionDescription,
};

struct Ctx<'t> {
    mids: Vec<&'t str>,
    /// extmap ids of the current section.
    extmaps: Vec<u16>,
    /// rids of the current section.
    rids: Vec<&'t str>,
}

fn check_attribute<'t>(ctx: &mut Ctx<'t>, in_media: bool, value: &'t str) -> Result<(), K> {
    let (name, v) = match value.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (value, None),
    };
    match Attribute::parse_parts(name, v)? {
        Attribute::Mid(m) => {
            if !in_media {
                return Err(K::WrongLevel);
            }
            if ctx.mids.contains(&m) {
                return Err(K::DuplicateMid { mid: m.to_owned() });
            }
            ctx.mids.push(m);
        }
        Attribute::Extmap(e) => {
            // RFC 8285 §6: an id names one extension in a section.
            if ctx.extmaps.contains(&e.id) {
                return Err(K::ExtmapIdCollision { id: e.id });
            }
            ctx.extmaps.push(e.id);
        }
        Attribute::Rid(r) => {
            if ctx.rids.contains(&r.id) {
                return Err(K::DuplicateRid {
                    rid: r.id.to_owned(),
                });
            }
            ctx.rids.push(r.id);
        }
        _ => {}
    }
    Ok(())
}

fn check_timing(v: &str) -> Result<(), K> {
    let (a, b) = v.split_once(' ').ok_or(K::invalid("timing", v))?;
    parse_u64(a, "timing start")?;
    parse_u64(b, "timing stop")?;
    Ok(())
}

fn check_bandwidth(v: &str) -> Result<(), K> {
    let (t, n) = v.split_once(':').ok_or(K::invalid("bandwidth", v))?;
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
    let mut session = Section::new();
    let mut media: Vec<Section> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut ctx = Ctx {
        mids: Vec::new(),
        extmaps: Vec::new(),
        rids: Vec::new(),
    };
    let (mut seen_o, mut seen_s, mut seen_t) = (false, false, false);
    let mut rest = text;
    let mut lineno = 0usize;
    while !rest.is_empty() {
        lineno += 1;
        let (raw, ending) = match rest.find('\n') {
            Some(i) => {
                let line = rest.get(..i).unwrap_or_default();
                rest = rest.get(i + 1..).unwrap_or_default();
                match line.strip_suffix('\r') {
                    Some(l) => (l, LineEnding::CrLf),
                    None => (line, LineEnding::Lf),
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
        if value.contains('\r') {
            return Err(err(K::invalid("line (stray carriage return)", value)));
        }
        let in_media = !media.is_empty();
        if lineno == 1 {
            if kind != b'v' || value != "0" {
                return Err(err(K::BadVersion));
            }
        } else {
            let r = match kind {
                b'v' => Err(K::WrongLevel),
                b'm' => {
                    if media.len() >= limits.max_media_sections {
                        return Err(err(K::TooManyMediaSections {
                            max: limits.max_media_sections,
                        }));
                    }
                    MediaLine::parse(value).map(|_| {
                        media.push(Section::new());
                        starts.push(lineno);
                        ctx.extmaps.clear();
                        ctx.rids.clear();
                    })
                }
                b'a' => check_attribute(&mut ctx, in_media, value),
                b'o' | b's' | b't' if in_media => Err(K::WrongLevel),
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
    let sdp = SessionDescription::from_parts(session, media);
    check_bundle_extmaps(&sdp, &starts)?;
    Ok(sdp)
}

/// RFC 8843 §9.1.1 / RFC 8285 §6: in one BUNDLE group an extmap id names one URI.
fn check_bundle_extmaps(sdp: &SessionDescription, starts: &[usize]) -> Result<(), Error> {
    let mut seen: Vec<(u16, &str)> = Vec::new();
    for g in sdp
        .session
        .groups()
        .iter()
        .filter(|g| g.semantics == "BUNDLE")
    {
        seen.clear();
        for (sec, start) in sdp.media.iter().zip(starts) {
            if !sec.mid().is_some_and(|m| g.mids.contains(&m)) {
                continue;
            }
            for (j, l) in sec.lines().enumerate() {
                let Some(Ok(Attribute::Extmap(Extmap { id, uri, .. }))) = l
                    .value
                    .strip_prefix("extmap:")
                    .map(|v| Attribute::parse_parts("extmap", Some(v)))
                else {
                    continue;
                };
                if l.kind != 'a' {
                    continue;
                }
                match seen.iter().find(|(i, _)| *i == id) {
                    Some((_, u)) if *u != uri => {
                        return Err(Error::at(
                            start + j,
                            &format!("a={}", l.value),
                            K::ExtmapIdCollision { id },
                        ));
                    }
                    Some(_) => {}
                    None => seen.push((id, uri)),
                }
            }
        }
    }
    Ok(())
}
