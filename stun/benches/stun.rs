//! decode+verify and encode+sign of an ICE Binding request (USERNAME, PRIORITY,
//! ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT). The same two cases for
//! webrtc-rs's rtc-stun are in ../benches/benches/stun_compare.rs.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use sansrtc_stun::{IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};

const USERNAME: &str = "K9xr:pQ3a";
const PASSWORD: &str = "a3LfrCDJv9Q2m7sP0uYtXw8z";
const TXID: TransactionId = TransactionId([
    0x6a, 0x4f, 0x7a, 0x2b, 0x5c, 0x3d, 0x1e, 0x0f, 0x90, 0x81, 0x72, 0x63,
]);

fn build(key: &IntegrityKey, buf: &mut [u8]) -> usize {
    let mut b = MessageBuilder::new(buf, MessageType::BINDING_REQUEST, TXID).unwrap();
    b.username(USERNAME).unwrap();
    b.priority(0x6e7f_1eff).unwrap();
    b.ice_controlling(0x1d2c_3b4a_5968_7786).unwrap();
    b.use_candidate().unwrap();
    b.finish_with_integrity(key).unwrap()
}

fn bench(c: &mut Criterion) {
    let key = IntegrityKey::short_term(PASSWORD);
    let mut buf = [0u8; 128];
    let n = build(&key, &mut buf);
    let request = buf[..n].to_vec();

    let mut g = c.benchmark_group("stun");
    g.bench_function("sansrtc/decode_verify", |b| {
        b.iter(|| {
            let m = Message::new_checked(black_box(&request[..])).unwrap();
            m.verify_integrity(&key).unwrap();
            black_box((m.username(), m.priority(), m.use_candidate()));
        })
    });
    g.bench_function("sansrtc/encode_sign", |b| {
        let mut out = [0u8; 128];
        b.iter(|| black_box(build(black_box(&key), &mut out)))
    });
    g.finish();

    // The parts of decode+verify, to see where the time goes.
    let m = Message::new_checked(&request[..]).unwrap();
    let mut g = c.benchmark_group("stun_parts");
    g.bench_function("structure", |b| {
        b.iter(|| Message::new_checked_structure(black_box(&request[..])).is_ok())
    });
    g.bench_function("fingerprint", |b| {
        b.iter(|| sansrtc_stun::integrity::fingerprint(black_box(&request[..n - 8])))
    });
    g.bench_function("verify_message_integrity", |b| {
        b.iter(|| black_box(&m).verify_message_integrity(&key).is_ok())
    });
    g.bench_function("getters", |b| {
        b.iter(|| {
            let m = black_box(&m);
            (m.username(), m.priority(), m.use_candidate())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
