//! Shared UDP driver for the dtls_client / dtls_server examples.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::io::{BufRead, Write};
use std::net::UdpSocket;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sansrtc_dtls::{Certificate, Config, Endpoint, Event, PeerVerification, Role};

pub struct Args {
    pub addr: String,
    pub fingerprint: Option<String>,
    pub idle_exit: Duration,
}

pub fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        addr: String::new(),
        fingerprint: None,
        idle_exit: Duration::from_secs(10),
    };
    while let Some(x) = it.next() {
        match x.as_str() {
            "--fingerprint" => a.fingerprint = it.next(),
            "--idle-exit" => {
                a.idle_exit = Duration::from_secs_f64(it.next().unwrap().parse().unwrap())
            }
            _ => a.addr = x,
        }
    }
    if a.addr.is_empty() {
        eprintln!("usage: ADDR [--fingerprint 'AB:CD:..'] [--idle-exit SECONDS]");
        std::process::exit(2);
    }
    a
}

pub fn config(role: Role, args: &Args) -> Config {
    let cert = Certificate::generate_self_signed().expect("certificate");
    eprintln!("local_fingerprint=sha-256 {}", cert.fingerprint());
    let verify = match &args.fingerprint {
        Some(f) => PeerVerification::Fingerprints(vec![f.parse().expect("fingerprint")]),
        None => PeerVerification::AcceptAny,
    };
    Config::new(role, cert, verify)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs the endpoint over `sock` (already connected to the peer). Client: sends stdin lines.
/// Server: echoes what it receives. Returns the process exit code.
pub fn run(
    mut ep: Endpoint,
    sock: &UdpSocket,
    first: Option<Vec<u8>>,
    echo: bool,
    idle_exit: Duration,
) -> i32 {
    let (tx, rx) = mpsc::channel::<Option<String>>();
    if !echo {
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                match line {
                    Ok(l) => {
                        if tx.send(Some(l)).is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = tx.send(None);
        });
    }
    let start = Instant::now();
    let mut pending: Vec<String> = Vec::new();
    let mut stdin_done = echo;
    let mut last_activity = Instant::now();
    if let Some(d) = first {
        if let Err(e) = ep.handle_receive(Instant::now(), &d) {
            eprintln!("dropped: {e}");
        }
    }
    let mut buf = vec![0u8; 65536];
    let mut out = std::io::stdout();
    loop {
        while let Some(t) = ep.poll_transmit() {
            let _ = sock.send(&t.payload);
        }
        while let Some(ev) = ep.poll_event() {
            match ev {
                Event::Connected(c) => {
                    writeln!(out, "cipher={}", c.cipher_suite.name()).unwrap();
                    writeln!(out, "peer_fingerprint=sha-256 {}", c.peer_fingerprint).unwrap();
                    match c.srtp_profile {
                        Some(p) => writeln!(out, "profile={}", p.name()).unwrap(),
                        None => writeln!(out, "profile=none").unwrap(),
                    }
                    writeln!(out, "keying_material={}", hex(&c.keying_material)).unwrap();
                    writeln!(out, "handshake_ms={}", start.elapsed().as_millis()).unwrap();
                    out.flush().unwrap();
                    last_activity = Instant::now();
                }
                Event::ApplicationData(d) => {
                    let text = String::from_utf8_lossy(&d);
                    writeln!(out, "received={}", text.trim_end()).unwrap();
                    out.flush().unwrap();
                    last_activity = Instant::now();
                    if echo {
                        let _ = ep.send(&d);
                    }
                }
                Event::Closed { reason } => {
                    while let Some(t) = ep.poll_transmit() {
                        let _ = sock.send(&t.payload);
                    }
                    writeln!(out, "closed={reason}").unwrap();
                    out.flush().unwrap();
                    let clean = matches!(
                        reason,
                        sansrtc_dtls::Error::PeerClosed | sansrtc_dtls::Error::Closed
                    );
                    return if clean && ep.stats().datagrams_received > 0 {
                        0
                    } else {
                        1
                    };
                }
                _ => {}
            }
        }
        if ep.is_connected() {
            while let Ok(m) = rx.try_recv() {
                match m {
                    Some(l) => pending.push(l),
                    None => stdin_done = true,
                }
            }
            for l in pending.drain(..) {
                let mut v = l.into_bytes();
                v.push(b'\n');
                if let Err(e) = ep.send(&v) {
                    eprintln!("send: {e}");
                }
            }
            if (stdin_done && !echo && last_activity.elapsed() > Duration::from_millis(1500))
                || last_activity.elapsed() > idle_exit
            {
                ep.close();
                continue;
            }
        } else if start.elapsed() > Duration::from_secs(30) && !ep.is_closed() {
            eprintln!("handshake not done after 30 s");
            return 1;
        }
        let now = Instant::now();
        let wait = ep
            .poll_timeout()
            .map_or(Duration::from_millis(50), |t| {
                t.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        sock.set_read_timeout(Some(wait)).unwrap();
        match sock.recv(&mut buf) {
            Ok(n) => {
                if let Err(e) = ep.handle_receive(Instant::now(), &buf[..n]) {
                    eprintln!("dropped: {e}");
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                eprintln!("recv: {e}");
            }
        }
        ep.handle_timeout(Instant::now());
    }
}
