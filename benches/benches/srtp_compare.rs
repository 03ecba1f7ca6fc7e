//! sansrtc-srtp against webrtc-rs's `rtc-srtp` (its default ring crypto provider): protect
//! and unprotect of a 12-byte-header RTP packet with 160 and 1200 payload octets, for
//! AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM, in the same run.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const KEY: [u8; 16] = [
    96, 180, 31, 4, 119, 137, 128, 252, 75, 194, 252, 44, 63, 56, 61, 55,
];
const SALT: [u8; 14] = [247, 26, 49, 94, 99, 29, 79, 94, 5, 111, 252, 216, 62, 195];

fn rtp(seq: u16, payload: usize) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x12, 0x34, 0xca, 0xfe, 0xba, 0xbe]);
    p.extend((0..payload).map(|i| i as u8));
    p
}

fn ours(profile: sansrtc_srtp::ProtectionProfile) -> sansrtc_srtp::Session {
    let cfg = sansrtc_srtp::Config::new(profile, &KEY, &SALT[..profile.master_salt_len()]).unwrap();
    sansrtc_srtp::Session::new(cfg).unwrap()
}

fn theirs(profile: rtc_srtp::protection_profile::ProtectionProfile) -> rtc_srtp::context::Context {
    let provider = rtc_crypto::default_provider().expect("ring provider");
    rtc_srtp::context::Context::new(
        &KEY,
        &SALT[..profile.salt_len()],
        profile,
        None,
        None,
        provider.crypto(),
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    use rtc_srtp::protection_profile::ProtectionProfile as Theirs;
    use sansrtc_srtp::ProtectionProfile as Ours;
    for (name, our_p, their_p) in [
        (
            "AES_CM_128_HMAC_SHA1_80",
            Ours::Aes128CmHmacSha1_80,
            Theirs::Aes128CmHmacSha1_80,
        ),
        (
            "AEAD_AES_128_GCM",
            Ours::AeadAes128Gcm,
            Theirs::AeadAes128Gcm,
        ),
    ] {
        for payload in [160usize, 1200] {
            let mut g = c.benchmark_group(format!("srtp_compare/{name}/{payload}"));
            g.throughput(Throughput::Bytes((12 + payload) as u64));
            let plain = rtp(0, payload);

            // protect
            let mut tx = ours(our_p);
            let mut buf = vec![0u8; plain.len() + 64];
            let mut seq = 0u16;
            g.bench_function("sansrtc/protect", |b| {
                b.iter(|| {
                    buf[..plain.len()].copy_from_slice(&plain);
                    buf[2..4].copy_from_slice(&seq.to_be_bytes());
                    seq = seq.wrapping_add(1);
                    black_box(tx.protect_rtp_in_place(&mut buf, plain.len()).unwrap())
                })
            });
            let mut ttx = theirs(their_p);
            let mut pkt = plain.clone();
            let mut seq = 0u16;
            g.bench_function("rtc-srtp/protect", |b| {
                b.iter(|| {
                    pkt[2..4].copy_from_slice(&seq.to_be_bytes());
                    seq = seq.wrapping_add(1);
                    black_box(ttx.encrypt_rtp(&pkt).unwrap())
                })
            });

            // unprotect: a fresh packet per iteration (protected in the untimed setup), so
            // the replay check always passes.
            let mut tx = ours(our_p);
            let mut rx = ours(our_p);
            let mut seq = 0u16;
            g.bench_function("sansrtc/unprotect", |b| {
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
            let mut ttx = theirs(their_p);
            let mut trx = theirs(their_p);
            let mut seq = 0u16;
            g.bench_function("rtc-srtp/unprotect", |b| {
                b.iter_batched_ref(
                    || {
                        let p = rtp(seq, payload);
                        seq = seq.wrapping_add(1);
                        ttx.encrypt_rtp(&p).unwrap().to_vec()
                    },
                    |p| black_box(trx.decrypt_rtp(p).unwrap()),
                    BatchSize::SmallInput,
                )
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
