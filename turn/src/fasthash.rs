//! A small keyed multiply-rotate hasher for the server's hot tables (5-tuples, relayed
//! addresses, permissions, channel numbers).
//!
//! The standard SipHash costs more than the rest of relaying one ChannelData datagram.
//! This one mixes one machine word per step (the FxHash construction, written here) and
//! starts from a per-server random key, so the bucket of a key is not predictable from
//! outside. Hash flooding is further bounded because every table it serves only grows
//! after authentication and has a cap in [`ServerConfig`](crate::server::ServerConfig).

use core::hash::{BuildHasher, Hasher};
use std::collections::HashMap;

const K: u64 = 0xf135_7aea_2e62_a9c5;

/// Builds [`FastHasher`]s that start from a per-server random key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastState {
    key: u64,
}

impl FastState {
    pub(crate) const fn new(key: u64) -> Self {
        Self { key }
    }
}

impl BuildHasher for FastState {
    type Hasher = FastHasher;
    #[inline]
    fn build_hasher(&self) -> FastHasher {
        FastHasher { h: self.key }
    }
}

/// The hasher: `h = (rotl(h, 26) ^ word) * K` per word, with a final avalanche so the
/// bucket index (high bits in hashbrown) depends on every input bit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastHasher {
    h: u64,
}

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.h = (self.h.rotate_left(26) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            if let Some(dst) = w.get_mut(..rest.len()) {
                dst.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        let mut x = self.h;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    }
}

/// A `HashMap` with [`FastState`].
pub(crate) type FastMap<K, V> = HashMap<K, V, FastState>;

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::SocketAddr;
    use std::collections::HashSet;

    #[test]
    fn distinct_addresses_spread_and_keys_differ() {
        let s = FastState::new(7);
        let t = FastState::new(8);
        let mut seen = HashSet::new();
        for port in 0..2000u16 {
            let a = SocketAddr::from(([10, 0, (port >> 8) as u8, port as u8], port));
            let h = s.hash_one(a);
            assert!(seen.insert(h), "collision");
            assert_ne!(h, t.hash_one(a));
        }
        let mut m: FastMap<SocketAddr, u16> = FastMap::with_hasher(s);
        for port in 0..2000u16 {
            m.insert(SocketAddr::from(([127, 0, 0, 1], port)), port);
        }
        assert_eq!(
            m.get(&SocketAddr::from(([127, 0, 0, 1], 1234))),
            Some(&1234)
        );
        assert_eq!(m.len(), 2000);
    }
}
