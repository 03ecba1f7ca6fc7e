//! Byte-level string helpers for the parser's hot path. SDP's separators are ASCII, so
//! splitting on a byte always lands on a char boundary; for the short fields of SDP lines an
//! inlined byte scan is much cheaper than `str`'s generic char searcher.

/// `str` extensions splitting on an ASCII byte.
pub(crate) trait ByteStr {
    /// Like `split_once(char)` for an ASCII separator.
    fn split1(&self, sep: u8) -> Option<(&str, &str)>;
    /// Like `split(char)` for an ASCII separator.
    fn splitb(&self, sep: u8) -> Split<'_>;
    /// Like `contains(char)` for an ASCII byte.
    fn hasb(&self, b: u8) -> bool;
}

impl ByteStr for str {
    #[inline]
    fn split1(&self, sep: u8) -> Option<(&str, &str)> {
        let i = find_byte(self.as_bytes(), sep)?;
        Some((self.get(..i)?, self.get(i + 1..)?))
    }

    #[inline]
    fn splitb(&self, sep: u8) -> Split<'_> {
        Split {
            rest: Some(self),
            sep,
        }
    }

    #[inline]
    fn hasb(&self, b: u8) -> bool {
        self.as_bytes().contains(&b)
    }
}

/// Iterator of [`ByteStr::splitb`].
#[derive(Clone)]
pub(crate) struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.split1(self.sep) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline]
fn word(c: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(c);
    u64::from_le_bytes(w)
}

/// Position of the first `sep` in `b`, eight bytes at a time for longer fields (URIs, fmtp
/// parameter lists); short ones are scanned byte by byte.
#[inline]
pub(crate) fn find_byte(b: &[u8], sep: u8) -> Option<usize> {
    if b.len() < 8 {
        return b.iter().position(|&x| x == sep);
    }
    let pat = LO * u64::from(sep);
    let mut chunks = b.chunks_exact(8);
    let mut off = 0usize;
    for c in &mut chunks {
        let x = word(c) ^ pat;
        let z = x.wrapping_sub(LO) & !x & HI;
        if z != 0 {
            return Some(off + (z.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == sep)
        .map(|p| off + p)
}

/// Position of the first `\n` or `\r` in `b`, eight bytes at a time (the classic
/// "has zero byte" bit trick; its lowest flagged byte is always a true match).
#[inline]
pub(crate) fn find_eol(b: &[u8]) -> Option<usize> {
    let mut chunks = b.chunks_exact(8);
    let mut off = 0usize;
    for c in &mut chunks {
        let x = word(c);
        let nl = x ^ (LO * u64::from(b'\n'));
        let cr = x ^ (LO * u64::from(b'\r'));
        let z = ((nl.wrapping_sub(LO) & !nl) | (cr.wrapping_sub(LO) & !cr)) & HI;
        if z != 0 {
            return Some(off + (z.trailing_zeros() / 8) as usize);
        }
        off += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == b'\n' || x == b'\r')
        .map(|p| off + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_eol_matches_naive() {
        let samples: [&[u8]; 7] = [
            b"",
            b"abc",
            b"abcdefgh\n",
            b"abcdefghijklmno\rp",
            b"\n",
            b"0123456\n01234\r\n",
            b"a\x8a\x8d\xff\x0a",
        ];
        for s in samples {
            let naive = s.iter().position(|&x| x == b'\n' || x == b'\r');
            assert_eq!(find_eol(s), naive, "{s:?}");
        }
        for len in 0..40 {
            for pos in 0..len {
                for ch in [b'\n', b'\r'] {
                    let mut v = vec![b'x'; len];
                    v[pos] = ch;
                    assert_eq!(find_eol(&v), Some(pos));
                }
            }
        }
    }

    #[test]
    fn find_byte_matches_naive() {
        for len in 0..40 {
            for pos in 0..len {
                let mut v = vec![b'x'; len];
                v[pos] = b':';
                assert_eq!(find_byte(&v, b':'), Some(pos));
                // A second match later never hides the first; bytes near the separator
                // (which the bit trick could flag spuriously) are not matches.
                v.push(b':');
                assert_eq!(find_byte(&v, b':'), Some(pos));
                v[pos] = b':' + 1;
                assert_eq!(find_byte(&v, b':'), Some(len));
            }
            assert_eq!(find_byte(&vec![0x80 | b':'; len], b':'), None);
        }
    }

    #[test]
    fn split_like_str() {
        for s in ["", "a", "a b", " a  b ", "a b c d"] {
            assert_eq!(
                s.splitb(b' ').collect::<Vec<_>>(),
                s.split(' ').collect::<Vec<_>>()
            );
            assert_eq!(s.split1(b' '), s.split_once(' '));
            assert_eq!(s.hasb(b' '), s.contains(' '));
        }
    }
}
