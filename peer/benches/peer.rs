//! PeerConnection benches: a whole in-memory connection (offer/answer, ICE, DTLS with ring,
//! SCTP, a data channel open), one 1 KiB message through DTLS + SCTP both ways, and one
//! 1200-byte RTP packet from `send_rtp` through SRTP to the peer's `Event::Rtp`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sansrtc::{Certificate, ChannelOptions, Config, Direction, Event, MediaKind, PeerConnection};

fn cert(server: bool) -> Certificate {
    if server {
        Certificate::from_der(
            include_bytes!("../tests/data/server_cert.der").to_vec(),
            include_bytes!("../tests/data/server_key.pk8").to_vec(),
        )
    } else {
        Certificate::from_der(
            include_bytes!("../tests/data/client_cert.der").to_vec(),
            include_bytes!("../tests/data/client_key.pk8").to_vec(),
        )
    }
}

struct Pair {
    a: PeerConnection,
    b: PeerConnection,
    la: SocketAddr,
    lb: SocketAddr,
    now: Instant,
    chan: Option<u16>,
    got: usize,
}

impl Pair {
    fn new() -> Pair {
        Pair::with_media(false)
    }

    /// With `media`, a offers an audio and a video transceiver that b accepts.
    fn with_media(media: bool) -> Pair {
        let now = Instant::now();
        let cfg = |seed, server| {
            let mut c = Config {
                seed: Some(seed),
                certificate: Some(cert(server)),
                ..Config::default()
            };
            c.media.answer_audio = Some(Direction::SendRecv);
            c.media.answer_video = Some(Direction::SendRecv);
            c
        };
        let mut a = PeerConnection::new(cfg(1, false), now).unwrap();
        let mut b = PeerConnection::new(cfg(2, true), now).unwrap();
        let la: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let lb: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        a.add_local_address(now, la).unwrap();
        b.add_local_address(now, lb).unwrap();
        a.create_data_channel(now, "bench", ChannelOptions::default())
            .unwrap();
        if media {
            a.add_transceiver(MediaKind::Audio, Direction::SendRecv)
                .unwrap();
            a.add_transceiver(MediaKind::Video, Direction::SendRecv)
                .unwrap();
        }
        let offer = a.create_offer(now).unwrap();
        let answer = b.create_answer(now, &offer).unwrap();
        a.set_remote_answer(now, &answer).unwrap();
        Pair {
            a,
            b,
            la,
            lb,
            now,
            chan: None,
            got: 0,
        }
    }

    /// Moves datagrams (zero latency) until quiet; then advances to the next timer.
    fn step(&mut self) {
        let mut moved = true;
        while moved {
            moved = false;
            while let Some(t) = self.a.poll_transmit() {
                moved = true;
                self.b
                    .handle_receive(self.now, self.lb, self.la, &t.payload);
            }
            while let Some(t) = self.b.poll_transmit() {
                moved = true;
                self.a
                    .handle_receive(self.now, self.la, self.lb, &t.payload);
            }
            while let Some(e) = self.a.poll_event() {
                if let Event::ChannelOpen { id, .. } = e {
                    self.chan = Some(id);
                }
            }
            while let Some(e) = self.b.poll_event() {
                if let Event::Message { id, data, .. } = e {
                    self.got += 1;
                    // Echo, as the interop peers do.
                    let _ = self.b.send(self.now, id, &data);
                    moved = true;
                }
            }
        }
    }

    fn tick(&mut self) {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.now + Duration::from_millis(10));
        self.now = self.now.max(next);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
    }

    fn connect(&mut self) {
        for _ in 0..10_000 {
            self.step();
            if self.chan.is_some() {
                return;
            }
            self.tick();
        }
        panic!("no channel");
    }
}

fn benches(c: &mut Criterion) {
    c.bench_function("peer/connect_in_memory", |bch| {
        bch.iter(|| {
            let mut p = Pair::new();
            p.connect();
            p.chan
        });
    });
    let mut p = Pair::new();
    p.connect();
    let id = p.chan.unwrap();
    let msg = vec![0x5au8; 1024];
    let mut g = c.benchmark_group("peer");
    g.throughput(Throughput::Bytes(2 * 1024));
    g.bench_function("echo_1k", |bch| {
        bch.iter(|| {
            let before = p.got;
            p.a.send(p.now, id, &msg).unwrap();
            p.step();
            // Delayed SACKs: let the timers run now and then.
            if p.got.is_multiple_of(64) {
                p.tick();
            }
            assert_eq!(p.got, before + 1);
        });
    });
    g.finish();

    let mut p = Pair::with_media(true);
    p.connect();
    assert!(p.a.is_srtp_connected() && p.b.is_srtp_connected());
    let frame = vec![0x3cu8; 1200];
    let mut ts = 0u32;
    let mut g = c.benchmark_group("peer");
    g.throughput(Throughput::Bytes(1200));
    g.bench_function("rtp_1200", |bch| {
        bch.iter(|| {
            ts = ts.wrapping_add(3000);
            p.a.send_rtp(p.now, "1", 96, ts, true, &frame).unwrap();
            let t = p.a.poll_transmit().unwrap();
            p.b.handle_receive(p.now, p.lb, p.la, &t.payload);
            match p.b.poll_event() {
                Some(Event::Rtp(r)) => assert_eq!(r.payload.len(), 1200),
                other => panic!("{other:?}"),
            }
        });
    });
    g.finish();
}

criterion_group!(peer, benches);
criterion_main!(peer);
