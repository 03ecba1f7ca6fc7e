//! Drives the sans-IO ICE agent over one real UDP socket (for interop tests).
//!
//! Signaling is line-based on stdin/stdout: the example prints `ufrag X`, `pwd Y`, one
//! `candidate ...` line per local candidate and `end`; it reads the peer's lines in the same
//! format. Once connected it sends `ping from sansrtc` and exits 0 after receiving a datagram
//! containing `pong` (printing `SELECTED <local> <remote> <reason>` and `DONE`).
//!
//! ```text
//! cargo run -p sansrtc-ice --example ice_udp -- --role controlling [--bind 127.0.0.1:0] [--timeout 20]
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sansrtc_ice::{Agent, Candidate, Config, Credentials, Event, IceState, Received, Role};
use std::io::{BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let role = match arg("--role").as_deref() {
        Some("controlled") => Role::Controlled,
        _ => Role::Controlling,
    };
    let bind: SocketAddr = arg("--bind")
        .unwrap_or_else(|| "127.0.0.1:0".into())
        .parse()
        .unwrap();
    let timeout = Duration::from_secs(arg("--timeout").and_then(|s| s.parse().ok()).unwrap_or(20));

    let socket = UdpSocket::bind(bind).unwrap();
    let local = socket.local_addr().unwrap();
    let start = Instant::now();
    let mut agent = Agent::new(Config::new(role), start);
    agent.add_host_address(start, local).unwrap();

    let mut out = std::io::stdout().lock();
    let creds = agent.local_credentials().clone();
    writeln!(out, "ufrag {}", creds.ufrag).unwrap();
    writeln!(out, "pwd {}", creds.pwd).unwrap();
    for c in agent.local_candidates() {
        writeln!(out, "{c}").unwrap();
    }
    writeln!(out, "end").unwrap();
    out.flush().unwrap();

    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let (mut ufrag, mut pwd) = (None::<String>, None::<String>);
    let mut buf = vec![0u8; 2048];
    let mut pinged = false;
    loop {
        let now = Instant::now();
        if now - start > timeout {
            eprintln!("ice_udp: timeout in state {:?}", agent.state());
            std::process::exit(1);
        }
        while let Ok(line) = rx.try_recv() {
            let line = line.trim().to_string();
            if let Some(u) = line.strip_prefix("ufrag ") {
                ufrag = Some(u.to_string());
            } else if let Some(p) = line.strip_prefix("pwd ") {
                pwd = Some(p.to_string());
            } else if line == "end" {
                agent.end_of_remote_candidates(now);
            } else if line.starts_with("candidate") {
                match line.parse::<Candidate>() {
                    Ok(c) => {
                        if let Err(e) = agent.add_remote_candidate(now, c) {
                            eprintln!("ice_udp: candidate {line:?} refused: {e}");
                        }
                    }
                    Err(e) => eprintln!("ice_udp: bad candidate {line:?}: {e}"),
                }
            }
            if let (Some(u), Some(p)) = (&ufrag, &pwd) {
                agent
                    .set_remote_credentials(now, Credentials::new(u.clone(), p.clone()))
                    .unwrap();
            }
        }
        if agent.poll_timeout().is_some_and(|t| t <= now) {
            agent.handle_timeout(now);
        }
        while let Some(t) = agent.poll_transmit() {
            let _ = socket.send_to(&t.payload, t.destination);
        }
        while let Some(e) = agent.poll_event() {
            eprintln!("ice_udp: {e:?}");
            match e {
                Event::SelectedPair {
                    local,
                    remote,
                    reason,
                } => {
                    writeln!(
                        out,
                        "SELECTED {} {} {reason:?}",
                        local.socket_addr().unwrap(),
                        remote.socket_addr().unwrap()
                    )
                    .unwrap();
                    out.flush().unwrap();
                }
                Event::StateChanged(IceState::Failed) => {
                    eprintln!("ice_udp: ICE failed");
                    std::process::exit(1);
                }
                _ => {}
            }
        }
        if agent.state() == IceState::Connected && !pinged {
            pinged = true;
            agent.send(now, b"ping from sansrtc").unwrap();
            continue;
        }
        let wait = agent
            .poll_timeout()
            .map_or(Duration::from_millis(20), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        socket.set_read_timeout(Some(wait)).unwrap();
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            let now = Instant::now();
            if agent.handle_receive(now, from, local, &buf[..n]) == Received::Other {
                let text = String::from_utf8_lossy(&buf[..n]).to_string();
                writeln!(out, "DATA {text}").unwrap();
                if text.contains("pong") {
                    writeln!(out, "DONE").unwrap();
                    out.flush().unwrap();
                    // Let the last responses go out before leaving.
                    while let Some(t) = agent.poll_transmit() {
                        let _ = socket.send_to(&t.payload, t.destination);
                    }
                    return;
                }
                out.flush().unwrap();
            }
        }
    }
}
