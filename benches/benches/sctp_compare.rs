//! Bulk transfer between two in-memory SCTP associations: sansrtc-sctp against sctp-proto
//! 0.10 (the sans-IO SCTP used by str0m), same message sizes, same run. Both sides use their
//! default MTU; sansrtc-sctp is measured with CRC32c (like sctp-proto) and with zero checksum.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const TOTAL: usize = 32 << 20;

mod ours {
    use super::*;
    use sansrtc_sctp::{Association, Config, Event, SendOptions};

    pub fn run(size: usize, zero_checksum: bool) -> usize {
        let mut now = Instant::now();
        let c = |s| Config {
            seed: Some(s),
            zero_checksum,
            ..Config::default()
        };
        let mut a = Association::new(c(1), now);
        let mut b = Association::new(c(2), now);
        a.connect(now).unwrap();
        let msg = Bytes::from(vec![0x5au8; size]);
        let (mut sent, mut got) = (0, 0);
        while got < TOTAL {
            if a.is_established() {
                while sent < TOTAL && a.send_buffer_used() + size <= 4 << 20 {
                    a.send(now, 0, 53, msg.clone(), SendOptions::default())
                        .unwrap();
                    sent += size;
                }
            }
            let mut moved = false;
            while let Some(t) = a.poll_transmit() {
                b.handle_receive(now, &t.payload);
                moved = true;
            }
            while let Some(t) = b.poll_transmit() {
                a.handle_receive(now, &t.payload);
                moved = true;
            }
            while let Some(e) = b.poll_event() {
                if let Event::Message { data, .. } = e {
                    got += data.len();
                }
            }
            while a.poll_event().is_some() {}
            if !moved {
                let t = [a.poll_timeout(), b.poll_timeout()]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap();
                now = t.max(now);
                a.handle_timeout(now);
                b.handle_timeout(now);
            }
        }
        got
    }
}

mod proto {
    use super::*;
    use sctp_proto::{
        Association, AssociationHandle, ClientConfig, DatagramEvent, Endpoint, EndpointConfig,
        Payload, PayloadProtocolIdentifier, ReliabilityType, TransportConfig, generate_snap_token,
    };

    struct Peer {
        ep: Endpoint,
        assoc: Association,
        handle: AssociationHandle,
    }

    impl Peer {
        fn receive(&mut self, now: Instant, remote: SocketAddr, bytes: Bytes) {
            if let Some((_, DatagramEvent::AssociationEvent(e))) =
                self.ep.handle(now, remote, None, None, bytes)
            {
                self.assoc.handle_event(e);
            }
        }
        fn drain(&mut self, now: Instant, out: &mut Vec<Bytes>) {
            loop {
                while let Some(e) = self.assoc.poll_endpoint_event() {
                    if let Some(e) = self.ep.handle_event(self.handle, e) {
                        self.assoc.handle_event(e);
                    }
                }
                while self.assoc.poll().is_some() {}
                let Some(t) = self
                    .assoc
                    .poll_transmit(now)
                    .or_else(|| self.ep.poll_transmit())
                else {
                    break;
                };
                if let Payload::RawEncode(p) = t.payload {
                    out.extend(p);
                }
            }
        }
    }

    pub fn run(size: usize) -> usize {
        let tc = Arc::new(TransportConfig::default());
        let ta = generate_snap_token(&tc).unwrap();
        let tb = generate_snap_token(&tc).unwrap();
        let addr_a: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let addr_b: SocketAddr = "127.0.0.1:5001".parse().unwrap();
        let mut ep_a = Endpoint::new(Arc::new(EndpointConfig::new()), None);
        let mut ep_b = Endpoint::new(Arc::new(EndpointConfig::new()), None);
        let (ha, mut a) = ep_a
            .connect(
                ClientConfig::new().with_snap(ta.clone(), tb.clone()),
                addr_b,
            )
            .unwrap();
        let (hb, mut b) = ep_b
            .connect(ClientConfig::new().with_snap(tb, ta), addr_a)
            .unwrap();
        for assoc in [&mut a, &mut b] {
            assoc
                .open_stream(0, PayloadProtocolIdentifier::Binary)
                .unwrap()
                .set_reliability_params(false, ReliabilityType::Reliable, 0)
                .unwrap();
        }
        let mut a = Peer {
            ep: ep_a,
            assoc: a,
            handle: ha,
        };
        let mut b = Peer {
            ep: ep_b,
            assoc: b,
            handle: hb,
        };
        let mut now = Instant::now();
        let msg = Bytes::from(vec![0x5au8; size]);
        let (mut sent, mut got) = (0, 0);
        let mut buf = Vec::new();
        let mut idle = 0;
        while got < TOTAL {
            while sent < TOTAL
                && a.assoc.stream(0).unwrap().buffered_amount().unwrap() + size <= 4 << 20
            {
                a.assoc
                    .stream(0)
                    .unwrap()
                    .write_sctp(&msg, PayloadProtocolIdentifier::Binary)
                    .unwrap();
                sent += size;
            }
            let mut moved = false;
            a.drain(now, &mut buf);
            for p in buf.drain(..) {
                b.receive(now, addr_a, p);
                moved = true;
            }
            b.drain(now, &mut buf);
            for p in buf.drain(..) {
                a.receive(now, addr_b, p);
                moved = true;
            }
            while let Ok(Some(c)) = b.assoc.stream(0).unwrap().read() {
                got += c.len();
            }
            if !moved {
                idle += 1;
                assert!(idle < 100_000, "sctp-proto transfer stalled at {got}");
                let t = [a.assoc.poll_timeout(), b.assoc.poll_timeout()]
                    .into_iter()
                    .flatten()
                    .min();
                now = t.unwrap_or(now + Duration::from_millis(10)).max(now);
                a.assoc.handle_timeout(now);
                b.assoc.handle_timeout(now);
            }
        }
        got
    }
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

fn compare(c: &mut Criterion) {
    let mut g = c.benchmark_group("sctp_transfer");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);
    for size in [64 * 1024, 1024] {
        g.bench_with_input(BenchmarkId::new("sansrtc_crc32c", size), &size, |b, &s| {
            cpu_iter(b, || ours::run(s, false))
        });
        g.bench_with_input(
            BenchmarkId::new("sansrtc_zero_checksum", size),
            &size,
            |b, &s| cpu_iter(b, || ours::run(s, true)),
        );
        g.bench_with_input(BenchmarkId::new("sctp_proto", size), &size, |b, &s| {
            cpu_iter(b, || proto::run(s))
        });
    }
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
