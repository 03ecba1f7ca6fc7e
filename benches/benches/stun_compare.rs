//! STUN: sansrtc-stun against webrtc-rs's rtc-stun, same ICE Binding request, same run.
//!
//! The request carries USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE,
//! MESSAGE-INTEGRITY and FINGERPRINT. Two cases per stack:
//! - decode+verify: parse the datagram, check FINGERPRINT and MESSAGE-INTEGRITY, read
//!   USERNAME and PRIORITY;
//! - encode+sign: build the request and sign it (MESSAGE-INTEGRITY, FINGERPRINT).
//!
//! Setup checks that both stacks produce the same bytes and accept each other's output.

// Bench code: a panic is a failed setup; criterion_group! generates an undocumented fn.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, black_box, criterion_group, criterion_main};

/// Time the benchmarking thread spent on a CPU (`/proc/thread-self/schedstat`, nanoseconds,
/// refreshed at every scheduler tick), instead of wall time: the shared 2-core machine runs
/// many other jobs, which would otherwise inflate every number by the share of CPU they take.
/// Samples are made long (flat sampling, 10 samples) so that the tick granularity (4 ms)
/// stays a small fraction of each.
struct OnCpuTime {
    wall: WallTime,
}

fn on_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

impl Measurement for OnCpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        on_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        on_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, as with wall time.
        self.wall.formatter()
    }
}

const USERNAME: &str = "K9xr:pQ3a";
const PASSWORD: &str = "a3LfrCDJv9Q2m7sP0uYtXw8z";
const TXID: [u8; 12] = [
    0x6a, 0x4f, 0x7a, 0x2b, 0x5c, 0x3d, 0x1e, 0x0f, 0x90, 0x81, 0x72, 0x63,
];
const PRIORITY: u32 = 0x6e7f_1eff;
const TIE_BREAKER: u64 = 0x1d2c_3b4a_5968_7786;

mod sansrtc {
    use super::*;
    use sansrtc_stun::{IntegrityKey, Message, MessageBuilder, MessageType, TransactionId};

    pub fn build(key: &IntegrityKey, buf: &mut [u8]) -> usize {
        let mut b =
            MessageBuilder::new(buf, MessageType::BINDING_REQUEST, TransactionId(TXID)).unwrap();
        b.username(USERNAME).unwrap();
        b.priority(PRIORITY).unwrap();
        b.ice_controlling(TIE_BREAKER).unwrap();
        b.use_candidate().unwrap();
        b.finish_with_integrity(key).unwrap()
    }

    pub fn decode_verify(key: &IntegrityKey, datagram: &[u8]) -> (usize, u32) {
        let m = Message::new_checked(datagram).unwrap(); // includes the FINGERPRINT check
        m.verify_integrity(key).unwrap();
        (m.username().unwrap().len(), m.priority().unwrap())
    }
}

mod webrtc_rs {
    use super::*;
    use rtc_stun::attributes::{
        ATTR_ICE_CONTROLLING, ATTR_PRIORITY, ATTR_USE_CANDIDATE, ATTR_USERNAME,
    };
    use rtc_stun::crypto::RTCCrypto;
    use rtc_stun::fingerprint::FINGERPRINT;
    use rtc_stun::integrity::MessageIntegrity;
    use rtc_stun::message::{BINDING_REQUEST, Getter, Message, Setter, TransactionId};
    use rtc_stun::textattrs::Username;

    pub fn build(m: &mut Message, username: &Username, integrity: &MessageIntegrity<'_>) -> usize {
        m.reset();
        m.set_type(BINDING_REQUEST);
        m.transaction_id = TransactionId(TXID);
        m.write_header();
        username.add_to(m).unwrap();
        m.add(ATTR_PRIORITY, &PRIORITY.to_be_bytes());
        m.add(ATTR_ICE_CONTROLLING, &TIE_BREAKER.to_be_bytes());
        m.add(ATTR_USE_CANDIDATE, &[]);
        integrity.add_to(m).unwrap();
        FINGERPRINT.add_to(m).unwrap();
        m.raw.len()
    }

    pub fn decode_verify(m: &mut Message, crypto: &dyn RTCCrypto, datagram: &[u8]) -> (usize, u32) {
        m.unmarshal_binary(datagram).unwrap();
        FINGERPRINT.check(m).unwrap();
        MessageIntegrity::check(m, PASSWORD.as_bytes(), crypto).unwrap();
        let mut u = Username::new(ATTR_USERNAME, String::new());
        u.get_from(m).unwrap();
        let p = m.get(ATTR_PRIORITY).unwrap();
        (
            u.to_string().len(),
            u32::from_be_bytes(p[..4].try_into().unwrap()),
        )
    }
}

fn bench(c: &mut Criterion<OnCpuTime>) {
    let key = sansrtc_stun::IntegrityKey::short_term(PASSWORD);
    let mut buf = [0u8; 128];
    let n = sansrtc::build(&key, &mut buf);
    let ours = buf[..n].to_vec();

    let provider = rtc_stun::crypto::default_provider().expect("rtc-stun crypto provider");
    let crypto = provider.crypto();
    let integrity = rtc_stun::integrity::MessageIntegrity::new_short_term_integrity_with_provider(
        PASSWORD.to_owned(),
        crypto,
    );
    let username = rtc_stun::textattrs::Username::new(
        rtc_stun::attributes::ATTR_USERNAME,
        USERNAME.to_owned(),
    );
    let mut m = rtc_stun::message::Message::new();
    webrtc_rs::build(&mut m, &username, &integrity);
    let theirs = m.raw.clone();
    assert_eq!(ours, theirs, "both stacks must encode the same bytes");
    assert_eq!(
        webrtc_rs::decode_verify(&mut rtc_stun::message::Message::new(), crypto, &ours),
        sansrtc::decode_verify(&key, &theirs)
    );

    let mut g = c.benchmark_group("stun_compare");
    // Few, long samples of equal size: each must span many scheduler ticks (see OnCpuTime).
    g.sampling_mode(criterion::SamplingMode::Flat);
    g.sample_size(10);
    g.bench_function("sansrtc/decode_verify", |b| {
        b.iter(|| black_box(sansrtc::decode_verify(&key, black_box(&ours))))
    });
    let mut dm = rtc_stun::message::Message::new();
    g.bench_function("rtc-stun/decode_verify", |b| {
        b.iter(|| {
            black_box(webrtc_rs::decode_verify(
                &mut dm,
                crypto,
                black_box(&theirs),
            ))
        })
    });
    let mut out = [0u8; 128];
    g.bench_function("sansrtc/encode_sign", |b| {
        b.iter(|| black_box(sansrtc::build(black_box(&key), &mut out)))
    });
    let mut em = rtc_stun::message::Message::new();
    g.bench_function("rtc-stun/encode_sign", |b| {
        b.iter(|| black_box(webrtc_rs::build(&mut em, &username, &integrity)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(OnCpuTime { wall: WallTime });
    targets = bench
}
criterion_main!(benches);
