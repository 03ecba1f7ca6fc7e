//! CPU cost of ICE: answering one connectivity check (parse, MESSAGE-INTEGRITY verify,
//! FINGERPRINT, response with integrity), and a whole in-memory ICE exchange between two
//! agents (host candidates, zero-latency "network") until both are connected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use sansrtc_ice::{Agent, Config, IceState, Role};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

fn pair(seed: u64) -> (Agent, Agent, SocketAddr, SocketAddr, Instant) {
    let now = Instant::now();
    let (aa, ba): (SocketAddr, SocketAddr) = (
        "10.0.0.1:5000".parse().unwrap(),
        "10.0.0.2:6000".parse().unwrap(),
    );
    let mut a = Agent::new(
        Config {
            seed: Some(seed),
            ..Config::new(Role::Controlling)
        },
        now,
    );
    let mut b = Agent::new(
        Config {
            seed: Some(seed + 1),
            ..Config::new(Role::Controlled)
        },
        now,
    );
    let ca = a.add_host_address(now, aa).unwrap();
    let cb = b.add_host_address(now, ba).unwrap();
    a.set_remote_credentials(now, b.local_credentials().clone())
        .unwrap();
    b.set_remote_credentials(now, a.local_credentials().clone())
        .unwrap();
    a.add_remote_candidate(now, cb).unwrap();
    b.add_remote_candidate(now, ca).unwrap();
    (a, b, aa, ba, now)
}

fn connect(seed: u64) -> u32 {
    let (mut a, mut b, aa, ba, mut now) = pair(seed);
    let mut rounds = 0;
    while a.state() != IceState::Connected || b.state() != IceState::Connected {
        rounds += 1;
        assert!(rounds < 1000);
        let mut moved = true;
        while moved {
            moved = false;
            while let Some(t) = a.poll_transmit() {
                moved = true;
                b.handle_receive(now, aa, t.destination, &t.payload);
            }
            while let Some(t) = b.poll_transmit() {
                moved = true;
                a.handle_receive(now, ba, t.destination, &t.payload);
            }
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        now = next.map_or(now + Duration::from_millis(1), |t| t.max(now));
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    rounds
}

fn benches(c: &mut Criterion) {
    // One check request from A, answered by B again and again.
    let (mut a, mut b, aa, ba, now) = pair(1);
    a.handle_timeout(now);
    let check = a.poll_transmit().unwrap();
    assert_eq!(check.destination, ba);
    let mut g = c.benchmark_group("ice");
    g.throughput(Throughput::Elements(1));
    g.bench_function("answer_check", |bench| {
        bench.iter(|| {
            b.handle_receive(now, aa, ba, black_box(&check.payload));
            let r = b.poll_transmit().unwrap();
            while b.poll_transmit().is_some() {}
            while b.poll_event().is_some() {}
            black_box(r);
        });
    });
    g.bench_function("connect_two_agents", |bench| {
        bench.iter(|| black_box(connect(7)));
    });
    g.finish();
}

criterion_group!(ice, benches);
criterion_main!(ice);
