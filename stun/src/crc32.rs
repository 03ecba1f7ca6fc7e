//! CRC-32 (ISO-HDLC, the zlib polynomial) for FINGERPRINT (RFC 8489 section 14.7).
//!
//! Through `crc32fast` (the crate `flate2` uses): on x86-64 with PCLMULQDQ it folds 16 bytes
//! per carry-less multiply from 16 bytes of input up, so a 92-byte ICE check costs a handful
//! of multiplies instead of ~90 table lookups; elsewhere its slice-by-16 tables.

/// CRC-32/ISO-HDLC of `data` (check value of `b"123456789"`: 0xCBF43926).
#[inline]
pub(crate) fn checksum(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reflected polynomial 0x04C11DB7.
    const POLY: u32 = 0xEDB8_8320;

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
        // Every length through the scalar (< 16), fold-by-1 (< 128) and fold-by-4 paths, at
        // several alignments.
        for start in 0..4 {
            for len in 0..data.len() - start {
                let d = &data[start..start + len];
                assert_eq!(checksum(d), reference(d), "start {start} len {len}");
            }
        }
    }
}
