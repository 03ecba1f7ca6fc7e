//! The sliding replay window (RFC 3711 3.3.2) and SRTP index estimation (RFC 3711 3.3.1,
//! Appendix A).

use crate::error::{Error, Result};

/// Largest replay window this crate accepts (`Config::replay_window`).
pub const MAX_REPLAY_WINDOW: usize = 32_768;

/// A replay window over 64-bit packet indices: remembers which of the last `size` indices
/// below and including the highest one were received. Allocated once, when the stream is
/// created; never grows.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    /// Highest authenticated index, or `None` before the first packet.
    highest: Option<u64>,
    /// Ring of bits: bit `i % (64 * bits.len())` is set when index `i` was received.
    bits: Box<[u64]>,
    size: usize,
}

impl ReplayWindow {
    pub(crate) fn new(size: usize) -> Self {
        let words = size.div_ceil(64).max(1);
        Self {
            highest: None,
            bits: vec![0u64; words].into_boxed_slice(),
            size,
        }
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn ring_bits(&self) -> u64 {
        (self.bits.len() as u64) * 64
    }

    fn locate(&self, index: u64) -> (usize, u64) {
        let pos = index % self.ring_bits();
        ((pos / 64) as usize, 1u64 << (pos % 64))
    }

    /// Checks `index` without changing anything (RFC 3711 3.3.2).
    pub(crate) fn check(&self, index: u64) -> Result<()> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if index > highest {
            return Ok(());
        }
        if highest - index >= self.size as u64 {
            return Err(Error::TooOld {
                index,
                highest,
                window: self.size,
            });
        }
        let (w, m) = self.locate(index);
        match self.bits.get(w) {
            Some(word) if word & m != 0 => Err(Error::Replayed { index }),
            _ => Ok(()),
        }
    }

    /// Records `index` as received; call only after `check` passed and the packet
    /// authenticated.
    pub(crate) fn accept(&mut self, index: u64) {
        match self.highest {
            None => {
                self.bits.fill(0);
                self.highest = Some(index);
            }
            Some(h) if index > h => {
                let delta = index - h;
                if delta >= self.ring_bits() {
                    self.bits.fill(0);
                } else {
                    for i in (h + 1)..index {
                        let (w, m) = self.locate(i);
                        if let Some(word) = self.bits.get_mut(w) {
                            *word &= !m;
                        }
                    }
                }
                self.highest = Some(index);
            }
            Some(_) => {}
        }
        let (w, m) = self.locate(index);
        if let Some(word) = self.bits.get_mut(w) {
            *word |= m;
        }
    }

    /// Forgets the history and restarts at `highest` (used by `Session::set_roc`).
    pub(crate) fn reset_to(&mut self, highest: Option<u64>) {
        self.bits.fill(0);
        self.highest = highest;
        if let Some(h) = highest {
            let (w, m) = self.locate(h);
            if let Some(word) = self.bits.get_mut(w) {
                *word |= m;
            }
        }
    }
}

/// The largest SRTP packet index (48 bits).
pub(crate) const MAX_SRTP_INDEX: u64 = (1 << 48) - 1;

/// RFC 3711 3.3.1 / Appendix A: estimates the 48-bit index of a packet with sequence number
/// `seq`, given the highest index so far (ROC * 2^16 + s_l). Returns `None` when the guess
/// would be below zero or above 2^48 - 1.
#[inline]
pub(crate) fn estimate_index(highest: u64, seq: u16) -> Option<u64> {
    let roc = highest >> 16;
    let s_l = (highest & 0xffff) as u16;
    let seq32 = u32::from(seq);
    let s_l32 = u32::from(s_l);
    let v = if s_l < 0x8000 {
        if seq32 > s_l32 && seq32 - s_l32 > 0x8000 {
            roc.checked_sub(1)?
        } else {
            roc
        }
    } else if s_l32 - 0x8000 > seq32 {
        roc + 1
    } else {
        roc
    };
    let index = (v << 16) | u64::from(seq);
    (index <= MAX_SRTP_INDEX).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_across_wrap() {
        assert_eq!(estimate_index(65535, 0), Some(65536));
        assert_eq!(estimate_index(65536, 65535), Some(65535));
        assert_eq!(estimate_index(65536 + 10, 65000), Some(65000));
        assert_eq!(estimate_index(100, 30000), Some(30000));
        assert_eq!(estimate_index(100, 40000), None);
        assert_eq!(estimate_index(100, 65000), None);
        assert_eq!(
            estimate_index(3 * 65536 + 40000, 100),
            Some(4 * 65536 + 100)
        );
    }

    #[test]
    fn window_rejects_replay_and_old() {
        let mut w = ReplayWindow::new(64);
        w.check(1000).unwrap();
        w.accept(1000);
        assert_eq!(w.check(1000), Err(Error::Replayed { index: 1000 }));
        w.check(999).unwrap();
        w.accept(999);
        assert!(matches!(w.check(1000 - 64), Err(Error::TooOld { .. })));
        w.check(1000 - 63).unwrap();
        w.accept(1100);
        w.check(1099).unwrap();
        assert!(matches!(w.check(1000), Err(Error::TooOld { .. })));
        assert_eq!(w.check(1100), Err(Error::Replayed { index: 1100 }));
    }

    #[test]
    fn large_window_clears_stale_bits() {
        let mut w = ReplayWindow::new(1024);
        for i in 0..2000 {
            w.accept(i);
        }
        // Jump forward by less than the ring: indices in between must be fresh again.
        w.accept(2500);
        for i in 2001..2500 {
            w.check(i).unwrap();
        }
        assert!(w.check(2500).is_err());
        assert!(w.check(1999).is_err());
    }
}
