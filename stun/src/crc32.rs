//! CRC-32 (ISO-HDLC, the zlib polynomial) for FINGERPRINT (RFC 8489 section 14.7).
//!
//! Slice-by-16 over 16-byte chunks, and, because the same sixteen tables serve any chunk of
//! 4..=16 bytes, the 4-, 8- or 12-byte tail of a STUN message (always a multiple of 4) in
//! one more step instead of byte by byte. Tables are built at compile time.

/// The reflected polynomial 0x04C11DB7.
const POLY: u32 = 0xEDB8_8320;

/// `TABLES[k][b]`: the CRC contribution of byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 16] = build_tables();

// Runs at compile time only: an index out of bounds would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn build_tables() -> [[u32; 256]; 16] {
    let mut t = [[0u32; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            bit += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// Looks up byte `b` in table `k`. `k` is a constant below 16 once `fold` is unrolled and a
/// `u8` cannot leave a 256-entry row, so the checks fold away.
#[inline(always)]
fn t(k: usize, b: u8) -> u32 {
    TABLES
        .get(k)
        .and_then(|row| row.get(usize::from(b)))
        .copied()
        .unwrap_or(0)
}

/// Folds one chunk of `N` bytes (4 <= N <= 16, a multiple of 4) into `crc`. The chunk is
/// read as little-endian 32-bit words and the bytes are taken out with shifts: one load per
/// four bytes instead of one per byte, which leaves the load ports to the table lookups.
#[inline(always)]
fn fold<const N: usize>(crc: u32, chunk: &[u8; N]) -> u32 {
    let mut x = 0;
    for (i, w) in chunk.chunks_exact(4).enumerate() {
        let mut w = match <[u8; 4]>::try_from(w) {
            Ok(w) => u32::from_le_bytes(w),
            Err(_) => 0,
        };
        if i == 0 {
            w ^= crc;
        }
        let k = N - 1 - 4 * i;
        x ^= t(k, w as u8)
            ^ t(k - 1, (w >> 8) as u8)
            ^ t(k - 2, (w >> 16) as u8)
            ^ t(k - 3, (w >> 24) as u8);
    }
    x
}

/// CRC-32/ISO-HDLC of `data` (check value of `b"123456789"`: 0xCBF43926).
#[inline]
pub(crate) fn checksum(data: &[u8]) -> u32 {
    !update(!0, data)
}

/// CRC-32/ISO-HDLC of `a` followed by `b` (a message and its trailing attribute written in
/// separate borrows).
#[inline]
pub(crate) fn checksum_parts(a: &[u8], b: &[u8]) -> u32 {
    !update(update(!0, a), b)
}

/// Runs the register `crc` (not inverted) over `data`.
#[inline(always)]
fn update(mut crc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        if let Ok(c) = <&[u8; 16]>::try_from(c) {
            crc = fold(crc, c);
        }
    }
    let rest = chunks.remainder();
    let mut words = rest.chunks_exact(4);
    if let Ok(c) = <&[u8; 12]>::try_from(rest.get(..12).unwrap_or_default()) {
        crc = fold(crc, c);
        words = rest.get(12..).unwrap_or_default().chunks_exact(4);
    } else if let Ok(c) = <&[u8; 8]>::try_from(rest.get(..8).unwrap_or_default()) {
        crc = fold(crc, c);
        words = rest.get(8..).unwrap_or_default().chunks_exact(4);
    }
    for c in &mut words {
        if let Ok(c) = <&[u8; 4]>::try_from(c) {
            crc = fold(crc, c);
        }
    }
    for &byte in words.remainder() {
        crc = t(0, (crc as u8) ^ byte) ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference.
    fn reference(data: &[u8]) -> u32 {
        let mut c = !0u32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
        }
        !c
    }

    #[test]
    fn check_value_and_every_length() {
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(checksum(b""), 0);
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + i / 5) as u8).collect();
        for len in 0..data.len() {
            assert_eq!(checksum(&data[..len]), reference(&data[..len]), "len {len}");
            let (a, b) = data[..len].split_at(len / 3);
            assert_eq!(checksum_parts(a, b), reference(&data[..len]), "parts {len}");
        }
    }
}
