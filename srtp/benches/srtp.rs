//! protect / unprotect, 12-byte header + 160 and + 1200 byte payloads, every profile.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sansrtc_srtp::{Config, ProtectionProfile, Session};
use std::hint::black_box;

fn config(p: ProtectionProfile) -> Config {
    let key: Vec<u8> = (0..p.master_key_len() as u8).collect();
    let salt: Vec<u8> = (0..p.master_salt_len() as u8).map(|i| i + 100).collect();
    Config::new(p, &key, &salt).unwrap()
}

fn rtp(seq: u16, payload: usize) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x12, 0x34, 0xca, 0xfe, 0xba, 0xbe]);
    p.extend((0..payload).map(|i| i as u8));
    p
}

fn bench(c: &mut Criterion) {
    for profile in [
        ProtectionProfile::Aes128CmHmacSha1_80,
        ProtectionProfile::Aes128CmHmacSha1_32,
        ProtectionProfile::Aes256CmHmacSha1_80,
        ProtectionProfile::AeadAes128Gcm,
        ProtectionProfile::AeadAes256Gcm,
    ] {
        for payload in [160usize, 1200] {
            let mut g = c.benchmark_group(format!("{}/{payload}", profile.name()));
            g.throughput(Throughput::Bytes((12 + payload) as u64));
            let plain = rtp(0, payload);
            let mut tx = Session::new(config(profile)).unwrap();
            let mut buf = vec![0u8; plain.len() + 64];
            let mut seq = 0u16;
            g.bench_function("protect", |b| {
                b.iter(|| {
                    buf[..plain.len()].copy_from_slice(&plain);
                    buf[2..4].copy_from_slice(&seq.to_be_bytes());
                    seq = seq.wrapping_add(1);
                    black_box(tx.protect_rtp_in_place(&mut buf, plain.len()).unwrap())
                })
            });
            let mut tx = Session::new(config(profile)).unwrap();
            let mut rx = Session::new(config(profile)).unwrap();
            let mut seq = 0u16;
            g.bench_function("unprotect", |b| {
                b.iter_batched_ref(
                    || {
                        let mut p = rtp(seq, payload);
                        seq = seq.wrapping_add(1);
                        p.reserve(64);
                        tx.protect_rtp(&mut p).unwrap();
                        p
                    },
                    |p| rx.unprotect_rtp_in_place(p).unwrap(),
                    BatchSize::SmallInput,
                )
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
