//! A std-only runtime for `sansrtc::PeerConnection`: one UDP socket on 127.0.0.1:0, a loop on
//! `recv_from` with the timeout from `poll_timeout`, and the HTTP signaling of
//! `/work/shared/interop/README.md` as a client (blocking HTTP/1.1 over `TcpStream`).
//!
//! ```text
//! dc_peer --url http://127.0.0.1:8701 --role offer  --count 1000
//! dc_peer --url http://127.0.0.1:8701 --role answer --count 1000
//! dc_peer --url http://127.0.0.1:8701 --role offer --count 1000 \
//!     --turn turn:127.0.0.1:3478 --turn-user webrtc --turn-pass webrtc-pass --relay-only
//! ```
//! `offer`: we offer (POST /offer, mode echo), open channel `echo`, send `count` messages of
//! mixed type and size, and check every echo. `answer`: we answer the peer's offer
//! (GET /offer?mode=echo, POST /answer); the peer's `echo` channel opens here and we do the
//! same over it. Exit 0 when every echo came back identical and in order.
//!
//! `--stun`, `--turn` (+ `--turn-user`, `--turn-pass`) and `--relay-only` configure ICE
//! servers and the relay-only policy (see `common::ice_servers_from_args`). The selected
//! pair is printed (`dc_peer: selected pair local L remote R (relayed|host)`); with
//! `--relay-only`, a selected local address that is our own socket's fails the run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::VecDeque;
use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sansrtc::{ChannelOptions, Config, Event, IceState, PeerConnection};

fn message(i: usize) -> (bool, Vec<u8>) {
    // Mixed sizes 1..=2000 B, plus a few large ones (16 KiB, 64 KiB).
    let len = match i % 50 {
        17 => 16 * 1024,
        33 if i % 100 == 33 => 64 * 1024,
        _ => 1 + (i * 397) % 2000,
    };
    if i.is_multiple_of(2) {
        (true, (0..len).map(|j| (i + j * 13) as u8).collect())
    } else {
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (
            false,
            (0..len)
                .map(|j| alphabet[(i + j) % alphabet.len()])
                .collect(),
        )
    }
}

fn run(url: &str, role: &str, count: usize) -> Result<(), String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut config = Config::default();
    common::ice_servers_from_args(&mut config)?;
    let relay_only = config.ice.relay_only;
    let mut pc = PeerConnection::new(config, start).map_err(|e| e.to_string())?;
    pc.add_local_address(start, local)
        .map_err(|e| e.to_string())?;
    if role == "offer" {
        pc.create_data_channel(start, "echo", ChannelOptions::default())
            .map_err(|e| e.to_string())?;
    }
    // With ICE servers, send the description once gathering is over (non-trickle), so it
    // carries the server-reflexive and relayed candidates.
    let mut pending: VecDeque<Event> = VecDeque::new();
    let mut buf = vec![0u8; 65536];
    let mut gather = |pc: &mut PeerConnection| -> Result<(), String> {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            while let Some(t) = pc.poll_transmit() {
                let _ = socket.send_to(&t.payload, t.destination);
            }
            while let Some(e) = pc.poll_event() {
                if e == Event::GatheringComplete {
                    eprintln!("dc_peer: gathering complete after {:?}", start.elapsed());
                    return Ok(());
                }
                pending.push_back(e);
            }
            if Instant::now() > until {
                return Err("gathering did not complete in 5 s".into());
            }
            socket
                .set_read_timeout(Some(Duration::from_millis(10)))
                .map_err(|e| e.to_string())?;
            if let Ok((n, from)) = socket.recv_from(&mut buf) {
                pc.handle_receive(Instant::now(), local, from, &buf[..n]);
            }
            let now = Instant::now();
            if pc.poll_timeout().is_some_and(|t| t <= now) {
                pc.handle_timeout(now);
            }
        }
    };
    let has_servers =
        !common::arg("--turn", "").is_empty() || !common::arg("--stun", "").is_empty();
    let ex = common::exchange_gathered(
        &mut pc,
        url,
        role,
        "echo",
        if has_servers { Some(&mut gather) } else { None },
    )?;
    let ours = if role == "offer" {
        &ex.offer
    } else {
        &ex.answer
    };
    let candidates: Vec<&str> = ours
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .collect();
    eprintln!(
        "dc_peer: our description has {} candidate(s): {candidates:?}",
        candidates.len()
    );
    let session_id = ex.session_id;
    eprintln!(
        "dc_peer: signaling done ({role}, session {session_id}) in {:?}",
        start.elapsed()
    );

    let deadline = start + Duration::from_secs(30);
    let mut expected: VecDeque<(bool, Vec<u8>)> = VecDeque::new();
    let mut echoed = 0usize;
    let mut bytes = 0usize;
    let mut channel = None;
    let mut sent_at = start;
    let mut selected = None;
    loop {
        let now = Instant::now();
        if now > deadline {
            return Err(format!(
                "timeout: channel {channel:?}, {echoed}/{count} echoes, ice {:?}, sctp up {}",
                pc.ice_state(),
                pc.is_sctp_connected()
            ));
        }
        while let Some(t) = pc.poll_transmit() {
            let _ = socket.send_to(&t.payload, t.destination);
        }
        while let Some(e) = pending.pop_front().or_else(|| pc.poll_event()) {
            match e {
                Event::ChannelOpen { id, label, .. } if label == "echo" && channel.is_none() => {
                    eprintln!("dc_peer: channel {id} open after {:?}", start.elapsed());
                    channel = Some(id);
                    sent_at = Instant::now();
                    for i in 0..count {
                        let (binary, data) = message(i);
                        let r = if binary {
                            pc.send(now, id, &data)
                        } else {
                            pc.send_text(now, id, std::str::from_utf8(&data).unwrap_or(""))
                        };
                        r.map_err(|e| format!("send {i}: {e}"))?;
                        expected.push_back((binary, data));
                    }
                }
                Event::Message { id, binary, data } if Some(id) == channel => {
                    let want = expected.pop_front().ok_or("an echo nobody sent")?;
                    if want != (binary, data.to_vec()) {
                        return Err(format!(
                            "echo {echoed} differs: want {} B binary={}, got {} B binary={binary}",
                            want.1.len(),
                            want.0,
                            data.len()
                        ));
                    }
                    echoed += 1;
                    bytes += data.len();
                }
                Event::SelectedPair { local: l, remote } => {
                    // Our socket's own address is the host candidate; anything else is the
                    // relayed address the TURN server allocated for us.
                    let kind = if l == local { "host" } else { "relayed" };
                    eprintln!(
                        "dc_peer: selected pair local {l} remote {remote} ({kind}) after {:?}",
                        start.elapsed()
                    );
                    if relay_only && l == local {
                        return Err(format!("relay-only, but the host address {l} was selected"));
                    }
                    selected = Some((l, remote, kind));
                }
                Event::IceStateChanged(IceState::Failed) => {
                    return Err(format!("ICE failed after {:?}", start.elapsed()));
                }
                Event::DtlsClosed { reason } => return Err(format!("DTLS closed: {reason}")),
                Event::SctpClosed { reason } => return Err(format!("SCTP closed: {reason}")),
                other => eprintln!("dc_peer: {other:?} at {:?}", start.elapsed()),
            }
        }
        if channel.is_some() && echoed == count {
            if let Some((l, remote, kind)) = selected {
                println!("dc_peer: selected pair local {l} remote {remote} ({kind})");
            }
            println!(
                "dc_peer: OK {role}: {count} messages ({bytes} B) echoed identical in order in {:?} (connected+open after {:?})",
                sent_at.elapsed(),
                sent_at - start
            );
            pc.close_connection(Instant::now());
            while let Some(t) = pc.poll_transmit() {
                let _ = socket.send_to(&t.payload, t.destination);
            }
            return Ok(());
        }
        let wait = pc
            .poll_timeout()
            .map_or(Duration::from_millis(100), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(100));
        socket
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            pc.handle_receive(Instant::now(), local, from, &buf[..n]);
            // Drain whatever else is already queued without blocking.
            socket.set_nonblocking(true).ok();
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                pc.handle_receive(Instant::now(), local, from, &buf[..n]);
            }
            socket.set_nonblocking(false).ok();
        }
        let now = Instant::now();
        if pc.poll_timeout().is_some_and(|t| t <= now) {
            pc.handle_timeout(now);
        }
    }
}

fn main() -> ExitCode {
    use common::arg;
    let url = arg("--url", "http://127.0.0.1:8701");
    let role = arg("--role", "offer");
    let count: usize = arg("--count", "1000").parse().unwrap_or(1000);
    match run(&url, &role, count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dc_peer: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
