//! Unwrapping of 16-bit sequence numbers and 32-bit RTP timestamps to 64 bits.
//!
//! Each new value is placed at the unwrapped position closest to the last accepted value,
//! so reordering within half the range (2^15 sequence numbers, 2^31 timestamp ticks) is
//! handled; the result is signed so that packets reordered before the very first one do
//! not underflow.

/// Unwraps RTP sequence numbers (RFC 3550 §A.1 "extended sequence number", signed).
#[derive(Debug, Clone, Default)]
pub struct SeqUnwrapper {
    last: Option<i64>,
}

impl SeqUnwrapper {
    /// A fresh unwrapper; the first value maps to itself.
    pub fn new() -> Self {
        Self::default()
    }
    /// Unwraps `seq` and remembers it as the reference if it is newer.
    pub fn unwrap(&mut self, seq: u16) -> i64 {
        let v = self.peek(seq);
        if self.last.is_none_or(|l| v > l) {
            self.last = Some(v);
        }
        v
    }
    /// Unwraps `seq` without updating the reference.
    pub fn peek(&self, seq: u16) -> i64 {
        match self.last {
            None => i64::from(seq),
            Some(last) => {
                let delta = i64::from(seq.wrapping_sub(last as u16) as i16);
                last + delta
            }
        }
    }
}

/// Unwraps 32-bit RTP timestamps.
#[derive(Debug, Clone, Default)]
pub struct TimestampUnwrapper {
    last: Option<i64>,
}

impl TimestampUnwrapper {
    /// A fresh unwrapper; the first value maps to itself.
    pub fn new() -> Self {
        Self::default()
    }
    /// Unwraps `ts` and remembers it as the reference if it is newer.
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let v = self.peek(ts);
        if self.last.is_none_or(|l| v > l) {
            self.last = Some(v);
        }
        v
    }
    /// Unwraps `ts` without updating the reference.
    pub fn peek(&self, ts: u32) -> i64 {
        match self.last {
            None => i64::from(ts),
            Some(last) => last + i64::from(ts.wrapping_sub(last as u32) as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_wraps_forward_and_backward() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(65534), 65534);
        assert_eq!(u.unwrap(65535), 65535);
        assert_eq!(u.unwrap(1), 65537);
        // Reordered packet from before the wrap.
        assert_eq!(u.unwrap(65533), 65533);
        assert_eq!(u.unwrap(2), 65538);
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(1), 1);
        assert_eq!(u.unwrap(65535), -1);
        assert_eq!(u.unwrap(2), 2);
        // Long run over many wraps.
        let mut u = SeqUnwrapper::new();
        for i in 0..300_000i64 {
            assert_eq!(u.unwrap(i as u16), i);
        }
    }

    #[test]
    fn timestamp_wraps() {
        let mut u = TimestampUnwrapper::new();
        assert_eq!(u.unwrap(u32::MAX - 10), i64::from(u32::MAX - 10));
        assert_eq!(u.unwrap(5), (1i64 << 32) + 5);
        assert_eq!(u.unwrap(u32::MAX), i64::from(u32::MAX));
        assert_eq!(u.peek(100), (1i64 << 32) + 100);
    }
}
