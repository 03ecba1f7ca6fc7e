//! Bulk transfer between two in-memory associations (no network): the CPU cost of the SCTP
//! data path per byte, 64 KiB and 1 KiB messages, with CRC32c and with RFC 9653 zero checksum.
//! Also netsim goodput on a 1 Gbit/s link at several RTTs and loss rates.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sansrtc_sctp::{Association, Config, Event, SendOptions};

fn pair(zero_checksum: bool) -> (Association, Association, Instant) {
    let now = Instant::now();
    let c = |s| Config {
        seed: Some(s),
        zero_checksum,
        max_send_buffer: 8 << 20,
        ..Config::default()
    };
    let mut a = Association::new(c(1), now);
    let mut b = Association::new(c(2), now);
    a.connect(now).unwrap();
    for _ in 0..10 {
        while let Some(t) = a.poll_transmit() {
            b.handle_receive(now, &t.payload);
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_receive(now, &t.payload);
        }
    }
    while a.poll_event().is_some() {}
    while b.poll_event().is_some() {}
    assert!(a.is_established() && b.is_established());
    (a, b, now)
}

/// Moves `total` octets in messages of `size` from a to b; returns octets received.
fn transfer(
    a: &mut Association,
    b: &mut Association,
    now: &mut Instant,
    size: usize,
    total: usize,
) -> usize {
    let msg = Bytes::from(vec![0xabu8; size]);
    let mut sent = 0;
    let mut got = 0;
    while got < total {
        while sent < total && a.send_buffer_used() + size <= 4 << 20 {
            a.send(*now, 1, 53, msg.clone(), SendOptions::default())
                .unwrap();
            sent += size;
        }
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_receive(*now, &t.payload);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_receive(*now, &t.payload);
            moved = true;
        }
        while let Some(e) = b.poll_event() {
            if let Event::Message { data, .. } = e {
                got += data.len();
            }
        }
        while a.poll_event().is_some() {}
        if !moved {
            // Only the delayed-SACK timer can be pending here.
            let t = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min()
                .unwrap();
            *now = t.max(*now);
            a.handle_timeout(*now);
            b.handle_timeout(*now);
        }
    }
    got
}

/// CPU time consumed by this thread (first field of /proc/thread-self/schedstat, in ns). The
/// benches report CPU time, not wall time: the 2-core build machine is shared and loaded.
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(
        s.split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}

fn cpu_iter<F: FnMut() -> usize>(b: &mut criterion::Bencher<'_>, mut f: F) {
    b.iter_custom(|iters| {
        let t0 = thread_cpu();
        for _ in 0..iters {
            std::hint::black_box(f());
        }
        thread_cpu() - t0
    });
}

fn in_memory(c: &mut Criterion) {
    let mut g = c.benchmark_group("sctp_in_memory");
    let total = 32 << 20;
    g.throughput(Throughput::Bytes(total as u64));
    g.sample_size(10);
    for (name, zc) in [("crc32c", false), ("zero_checksum", true)] {
        for size in [64 * 1024, 1024] {
            g.bench_with_input(BenchmarkId::new(name, size), &size, |bn, &size| {
                cpu_iter(bn, || {
                    let (mut a, mut b, mut now) = pair(zc);
                    transfer(&mut a, &mut b, &mut now, size, total)
                });
            });
        }
    }
    g.finish();
}

/// Goodput over netsim: 1 Gbit/s, given RTT and loss, 64 KiB messages, virtual time.
pub fn netsim_goodput(rtt_ms: u64, loss: f64, total: usize) -> f64 {
    use sansrtc_netsim::{Datagram, LinkConfig, Network};
    use std::net::SocketAddr;
    let mut net = Network::new(7);
    let bdp = (1_000_000_000u64 / 8 * rtt_ms / 1000) as usize;
    net.set_default_link(
        LinkConfig::default()
            .latency(Duration::from_millis(rtt_ms / 2))
            .loss(loss)
            .bandwidth_bps(1_000_000_000)
            .queue_bytes(bdp.max(1 << 20)),
    );
    let t0 = net.now();
    // Same set-up as tests/goodput.rs (which asserts the numbers): default receive window.
    let c = |s| Config {
        seed: Some(s),
        max_send_buffer: 64 << 20,
        ..Config::default()
    };
    let mut ep = [Association::new(c(1), t0), Association::new(c(2), t0)];
    let addr = |i: usize| SocketAddr::from(([10, 0, 0, i as u8 + 1], 5000));
    ep[0].connect(t0).unwrap();
    let msg = Bytes::from(vec![7u8; 64 * 1024]);
    let (mut sent, mut got) = (0usize, 0usize);
    let mut start = None;
    while got < total {
        if ep[0].is_established() {
            start.get_or_insert(net.now());
            while sent < total && ep[0].send_buffer_used() < 48 << 20 {
                let now = net.now();
                ep[0]
                    .send(now, 0, 53, msg.clone(), SendOptions::default())
                    .unwrap();
                sent += msg.len();
            }
        }
        for (i, e) in ep.iter_mut().enumerate() {
            while let Some(t) = e.poll_transmit() {
                net.send(Datagram::new(addr(i), addr(1 - i), t.payload.to_vec()));
            }
        }
        let now = net.now();
        let mut any = false;
        while let Some(d) = net.poll_recv() {
            let to = usize::from(d.dst == addr(1));
            ep[to].handle_receive(now, &d.payload);
            any = true;
        }
        while let Some(e) = ep[1].poll_event() {
            if let Event::Message { data, .. } = e {
                got += data.len();
            }
        }
        while ep[0].poll_event().is_some() {}
        if any {
            continue;
        }
        let next = [
            net.next_delivery(),
            ep[0].poll_timeout(),
            ep[1].poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        net.advance_to(next.max(now));
        let now = net.now();
        for e in ep.iter_mut() {
            if e.poll_timeout().is_some_and(|t| t <= now) {
                e.handle_timeout(now);
            }
        }
    }
    let secs = (net.now() - start.unwrap_or(t0)).as_secs_f64();
    got as f64 * 8.0 / secs / 1e6
}

fn netsim(c: &mut Criterion) {
    let mut g = c.benchmark_group("sctp_netsim");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(32 << 20));
    // Goodput is a property of virtual time: printed once; criterion times the CPU cost.
    g.bench_function("goodput_report", |b| {
        for rtt in [20, 50, 100] {
            for (loss, mib) in [(0.0, 100), (0.0, 400), (0.0, 1024), (0.01, 32)] {
                let mbps = netsim_goodput(rtt, loss, mib << 20);
                println!(
                    "netsim goodput 1 Gbit/s rtt {rtt} ms loss {:.0}% {mib} MiB: {mbps:.0} Mbit/s",
                    loss * 100.0
                );
            }
        }
        cpu_iter(b, || netsim_goodput(100, 0.0, 32 << 20) as usize);
    });
    g.finish();
}

criterion_group!(benches, in_memory, netsim);
criterion_main!(benches);
