//! Hex helpers for the decoders and the input readers.

use std::fmt::Write as _;

/// Lowercase hex of `bytes`, no separators.
pub fn encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes hex, ignoring ASCII whitespace, `:` and `-` separators and an optional `0x` prefix.
pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let text = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !(c.is_ascii_whitespace() || *c == b':' || *c == b'-'))
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let nibble = |c: u8, at: usize| -> Result<u8, String> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(format!(
                "invalid hex character {:?} at digit {}",
                c as char,
                at + 1
            )),
        }
    };
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| match pair {
            [hi, lo] => Ok((nibble(*hi, 2 * i)? << 4) | nibble(*lo, 2 * i + 1)?),
            _ => Err("odd number of hex digits".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_separators() {
        assert_eq!(decode("0x00 01:ff-Ab").unwrap(), vec![0, 1, 0xff, 0xab]);
        assert_eq!(encode(&[0, 1, 0xff, 0xab]), "0001ffab");
        assert!(decode("abc").unwrap_err().contains("odd"));
        assert!(
            decode("zz")
                .unwrap_err()
                .contains("invalid hex character 'z'")
        );
    }
}
