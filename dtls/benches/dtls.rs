//! Criterion benches: a full handshake (both sides, ring crypto, in memory) and record
//! seal/open throughput for 1200-byte application data records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sansrtc_dtls::{Certificate, CipherSuite, Config, Endpoint, Event, PeerVerification, Role};

fn configs(suite: CipherSuite) -> (Config, Config) {
    let cc = Certificate::generate_self_signed().unwrap();
    let sc = Certificate::generate_self_signed().unwrap();
    let mut c = Config::new(
        Role::Client,
        cc.clone(),
        PeerVerification::Fingerprints(vec![sc.fingerprint()]),
    );
    let s = Config::new(
        Role::Server,
        sc,
        PeerVerification::Fingerprints(vec![cc.fingerprint()]),
    );
    c.cipher_suites = vec![suite];
    (c, s)
}

fn connect(c: Config, s: Config) -> (Endpoint, Endpoint) {
    let now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    for _ in 0..4 {
        while let Some(t) = client.poll_transmit() {
            server.handle_receive(now, &t.payload).unwrap();
        }
        while let Some(t) = server.poll_transmit() {
            client.handle_receive(now, &t.payload).unwrap();
        }
    }
    assert!(client.is_connected() && server.is_connected());
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    (client, server)
}

fn handshake(c: &mut Criterion) {
    let (cc, sc) = configs(CipherSuite::EcdheEcdsaAes128GcmSha256);
    c.bench_function("handshake_both_sides_ecdhe_ecdsa_x25519", |b| {
        b.iter(|| connect(cc.clone(), sc.clone()));
    });
}

fn records(c: &mut Criterion) {
    let payload = vec![0x5au8; 1200];
    let mut g = c.benchmark_group("record_1200B");
    g.throughput(Throughput::Bytes(1200));
    for suite in [
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
    ] {
        let (cc, sc) = configs(suite);
        let (mut client, mut server) = connect(cc, sc);
        let name = suite.name();
        g.bench_function(format!("seal/{name}"), |b| {
            b.iter(|| {
                client.send(&payload).unwrap();
                client.poll_transmit().unwrap()
            });
        });
        let now = Instant::now();
        g.bench_function(format!("open/{name}"), |b| {
            b.iter_batched(
                || {
                    client.send(&payload).unwrap();
                    client.poll_transmit().unwrap()
                },
                |t| {
                    server.handle_receive(now, &t.payload).unwrap();
                    match server.poll_event() {
                        Some(Event::ApplicationData(d)) => d,
                        other => panic!("{other:?}"),
                    }
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
    targets = handshake, records
}
criterion_main!(benches);
