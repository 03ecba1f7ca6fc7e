//! Load generator for TURN servers (ours and coturn, same generator): N allocations, each
//! with a channel bound to an in-process UDP echo peer, keep a window of ChannelData
//! round trips in flight (closed loop) or send at a fixed total rate (open loop, `--rate`),
//! and report round trips per second, loss, and (with `--server-pid`) the server's CPU
//! time from /proc, i.e. round trips per server CPU-second.
//!
//! ```text
//! cargo run --release -p sansrtc-turn --example turn_load -- --server 127.0.0.1:3478 \
//!     --user webrtc --pass webrtc-pass --allocations 10 --size 100 --seconds 5 \
//!     [--window 16 | --rate 20000] [--server-pid PID]
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};

struct Opts {
    server: SocketAddr,
    user: String,
    pass: String,
    allocations: usize,
    size: usize,
    seconds: f64,
    window: usize,
    rate: Option<f64>,
    server_pid: Option<u32>,
}

fn parse() -> Opts {
    let mut o = Opts {
        server: "127.0.0.1:3478".parse().unwrap(),
        user: "webrtc".into(),
        pass: "webrtc-pass".into(),
        allocations: 10,
        size: 100,
        seconds: 5.0,
        window: 16,
        rate: None,
        server_pid: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_default();
        match a.as_str() {
            "--server" => o.server = v.parse().unwrap(),
            "--user" => o.user = v,
            "--pass" => o.pass = v,
            "--allocations" => o.allocations = v.parse().unwrap(),
            "--size" => o.size = v.parse().unwrap(),
            "--seconds" => o.seconds = v.parse().unwrap(),
            "--window" => o.window = v.parse().unwrap(),
            "--rate" => o.rate = Some(v.parse().unwrap()),
            "--server-pid" => o.server_pid = Some(v.parse().unwrap()),
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    // fields after the command: state is index 0, utime 11, stime 12
    (ticks(11) + ticks(12)) / 100.0
}

/// Allocates and binds a channel to `peer`; returns the socket and the channel number.
fn setup(o: &Opts, peer: SocketAddr, seed: u64) -> (UdpSocket, u16) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut cfg = ClientConfig::new(o.server, o.user.clone(), o.pass.clone());
    cfg.seed = Some(seed);
    let mut c = Client::new(cfg, Instant::now());
    c.allocate(Instant::now()).unwrap();
    let mut buf = [0u8; 2048];
    let mut bound = None;
    let end = Instant::now() + Duration::from_secs(10);
    while bound.is_none() && Instant::now() < end {
        while let Some(t) = c.poll_transmit() {
            sock.send_to(&t.payload, t.destination).unwrap();
        }
        while let Some(e) = c.poll_event() {
            match e {
                ClientEvent::Allocated { .. } => {
                    c.bind_channel(Instant::now(), peer).unwrap();
                }
                ClientEvent::ChannelBound { channel, .. } => bound = Some(channel),
                ClientEvent::AllocationFailed { .. } | ClientEvent::ChannelBindFailed { .. } => {
                    panic!("setup failed: {e:?}")
                }
                _ => {}
            }
        }
        if let Ok((n, from)) = sock.recv_from(&mut buf) {
            c.handle_receive(Instant::now(), from, &buf[..n]);
        }
        let now = Instant::now();
        if c.poll_timeout().is_some_and(|t| t <= now) {
            c.handle_timeout(now);
        }
    }
    (sock, bound.expect("channel bound"))
}

fn main() {
    let o = parse();
    // The echo peer.
    let peer_sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = peer_sock.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        peer_sock
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                if let Ok((n, from)) = peer_sock.recv_from(&mut buf) {
                    let _ = peer_sock.send_to(&buf[..n], from);
                }
            }
        });
    }
    let flows: Vec<(UdpSocket, u16)> = (0..o.allocations)
        .map(|i| setup(&o, peer, i as u64 + 1))
        .collect();
    println!(
        "{} allocations with a bound channel to the echo peer {peer}",
        flows.len()
    );
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let unsent = Arc::new(AtomicU64::new(0));
    let cpu0 = o.server_pid.map(cpu_seconds);
    let t0 = Instant::now();
    let duration = Duration::from_secs_f64(o.seconds);
    let per_flow_rate = o.rate.map(|r| r / o.allocations as f64);
    let mut handles = Vec::new();
    for (sock, channel) in flows {
        let (sent, received, unsent) = (sent.clone(), received.clone(), unsent.clone());
        let (size, window, server) = (o.size, o.window, o.server);
        handles.push(std::thread::spawn(move || {
            let mut pkt = vec![0u8; 4 + size];
            pkt[..2].copy_from_slice(&channel.to_be_bytes());
            pkt[2..4].copy_from_slice(&(size as u16).to_be_bytes());
            let mut buf = [0u8; 2048];
            let end = t0 + duration;
            match per_flow_rate {
                None => {
                    sock.set_read_timeout(Some(Duration::from_millis(200)))
                        .unwrap();
                    for _ in 0..window {
                        let _ = sock.send_to(&pkt, server);
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                    while Instant::now() < end {
                        match sock.recv_from(&mut buf) {
                            Ok((n, _)) if n >= 4 && buf[0] & 0xC0 == 0x40 => {
                                received.fetch_add(1, Ordering::Relaxed);
                                let _ = sock.send_to(&pkt, server);
                                sent.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            // a lost packet: refill the window
                            Err(_) => {
                                let _ = sock.send_to(&pkt, server);
                                sent.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                }
                Some(rate) => {
                    sock.set_nonblocking(true).unwrap();
                    let interval = Duration::from_secs_f64(1.0 / rate);
                    let mut next = t0;
                    while Instant::now() < end {
                        let now = Instant::now();
                        while next <= now {
                            // A datagram the generator's own socket refused never left:
                            // counted apart, not as lost.
                            if sock.send_to(&pkt, server).is_ok() {
                                sent.fetch_add(1, Ordering::Relaxed);
                            } else {
                                unsent.fetch_add(1, Ordering::Relaxed);
                            }
                            next += interval;
                        }
                        while let Ok((n, _)) = sock.recv_from(&mut buf) {
                            if n >= 4 && buf[0] & 0xC0 == 0x40 {
                                received.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    // drain the stragglers
                    let drain = Instant::now() + Duration::from_millis(300);
                    while Instant::now() < drain {
                        while let Ok((n, _)) = sock.recv_from(&mut buf) {
                            if n >= 4 && buf[0] & 0xC0 == 0x40 {
                                received.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = t0.elapsed().as_secs_f64().min(o.seconds);
    stop.store(true, Ordering::Relaxed);
    let s = sent.load(Ordering::Relaxed);
    let r = received.load(Ordering::Relaxed);
    let u = unsent.load(Ordering::Relaxed);
    if u > 0 {
        print!("(generator could not send {u}) ");
    }
    let rt_per_s = r as f64 / elapsed;
    print!(
        "sent {s} received {r} lost {} ({:.3}%) in {elapsed:.2} s: {rt_per_s:.0} round trips/s",
        s.saturating_sub(r),
        if s > 0 {
            100.0 * s.saturating_sub(r) as f64 / s as f64
        } else {
            0.0
        }
    );
    if let (Some(pid), Some(c0)) = (o.server_pid, cpu0) {
        let cpu = cpu_seconds(pid) - c0;
        print!(
            "; server cpu {cpu:.2} s = {:.0} round trips per server CPU-second",
            if cpu > 0.0 { r as f64 / cpu } else { 0.0 }
        );
    }
    println!();
}
