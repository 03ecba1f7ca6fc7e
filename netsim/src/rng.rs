//! A small, portable, seedable PRNG (xoshiro256**, seeded through SplitMix64).
//!
//! Our own so that a seed gives bit-identical runs on every platform and every version of
//! every dependency: the simulator's behaviour must never change under a `cargo update`.

use std::time::Duration;

/// One SplitMix64 step: advances `state` and returns a well-mixed 64-bit value.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Derives an independent stream seed from a master seed and some bytes (e.g. addresses),
/// so that traffic on one link does not perturb the random draws of another.
pub(crate) fn derive_seed(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = seed ^ 0x5EED_0F5A_4552_5443;
    for part in parts {
        let mut st = h ^ (part.len() as u64);
        h = splitmix64(&mut st);
        for chunk in part.chunks(8) {
            let mut word = [0u8; 8];
            for (dst, src) in word.iter_mut().zip(chunk) {
                *dst = *src;
            }
            let mut st = h ^ u64::from_le_bytes(word);
            h = splitmix64(&mut st);
        }
    }
    h
}

/// xoshiro256** by Blackman and Vigna.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut st = seed;
        let s = [
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
            splitmix64(&mut st),
        ];
        // The all-zero state is the one fixed point of xoshiro; SplitMix64 never yields four
        // zeros in a row, but be explicit.
        let s = if s == [0; 4] { [1, 0, 0, 0] } else { s };
        Rng { s }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.s;
        let result = s1.wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s1 << 17;
        let s2 = s2 ^ s0;
        let s3 = s3 ^ s1;
        let s1 = s1 ^ s2;
        let s0 = s0 ^ s3;
        let s2 = s2 ^ t;
        let s3 = s3.rotate_left(45);
        self.s = [s0, s1, s2, s3];
        result
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to [0, 1]; NaN counts as 0). Draws nothing when
    /// `p <= 0`, so an unused impairment does not shift the stream.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        if p.is_nan() || p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            // Still draw, so that p = 1 and p = 0.999 consume the stream alike.
            let _ = self.next_u64();
            return true;
        }
        self.next_f64() < p
    }

    /// Uniform in [0, n) (0 when n == 0), by Lemire's widening multiply.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [0, max] at nanosecond resolution.
    pub(crate) fn duration_upto(&mut self, max: Duration) -> Duration {
        if max.is_zero() {
            return Duration::ZERO;
        }
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.below(nanos.saturating_add(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(8);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn splitmix_known_answer() {
        // SplitMix64 reference output for seed 0 (Vigna's splitmix64.c).
        let mut st = 0u64;
        assert_eq!(splitmix64(&mut st), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(&mut st), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn f64_in_unit_interval_and_mean_near_half() {
        let mut r = Rng::new(1);
        let mut sum = 0.0;
        for _ in 0..10_000 {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            sum += x;
        }
        let mean = sum / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn below_and_duration_bounds() {
        let mut r = Rng::new(2);
        assert_eq!(r.below(0), 0);
        for _ in 0..1000 {
            assert!(r.below(10) < 10);
            assert!(r.duration_upto(Duration::from_micros(5)) <= Duration::from_micros(5));
        }
        assert_eq!(r.duration_upto(Duration::ZERO), Duration::ZERO);
        assert!(!r.chance(f64::NAN));
        assert!(!r.chance(-1.0));
        assert!(r.chance(2.0));
    }

    #[test]
    fn derive_seed_depends_on_every_part() {
        let a = derive_seed(1, &[b"10.0.0.1", b"10.0.0.2"]);
        assert_eq!(a, derive_seed(1, &[b"10.0.0.1", b"10.0.0.2"]));
        assert_ne!(a, derive_seed(1, &[b"10.0.0.2", b"10.0.0.1"]));
        assert_ne!(a, derive_seed(2, &[b"10.0.0.1", b"10.0.0.2"]));
    }
}
