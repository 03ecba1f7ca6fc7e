//! A TURN client over real UDP, driving the sans-IO client core: allocates on a TURN
//! server, installs a permission or binds a channel for an echo peer, sends numbered
//! messages through the relay and counts the echoes that come back, then deallocates.
//!
//! ```text
//! cargo run --release -p sansrtc-turn --example turn_client -- \
//!     --server 127.0.0.1:3478 --user webrtc --pass webrtc-pass --peer 127.0.0.1:3480 \
//!     [--count 100] [--size 100] [--indications] [--auth-secret S]
//! ```
//! Prints `relayed <addr>`, `mapped <addr>`, `sent N received M` and exits 0 only if every
//! message came back and the deallocation was confirmed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sansrtc_turn::auth::TimeLimitedCredentials;
use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};

struct Opts {
    server: SocketAddr,
    user: String,
    pass: String,
    peer: SocketAddr,
    count: u32,
    size: usize,
    indications: bool,
    auth_secret: Option<String>,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        server: "127.0.0.1:3478".parse().unwrap(),
        user: "webrtc".into(),
        pass: "webrtc-pass".into(),
        peer: "127.0.0.1:3480".parse().unwrap(),
        count: 100,
        size: 100,
        indications: false,
        auth_secret: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--server" => o.server = val()?.parse().map_err(|e| format!("--server: {e}"))?,
            "--user" => o.user = val()?,
            "--pass" => o.pass = val()?,
            "--peer" => o.peer = val()?.parse().map_err(|e| format!("--peer: {e}"))?,
            "--count" => o.count = val()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--size" => o.size = val()?.parse().map_err(|e| format!("--size: {e}"))?,
            "--indications" => o.indications = true,
            "--auth-secret" => o.auth_secret = Some(val()?),
            "-h" | "--help" => {
                println!(
                    "turn_client --server ADDR --user U --pass P --peer ADDR [--count N] [--size B] [--indications] [--auth-secret S]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(o)
}

struct Io {
    sock: UdpSocket,
    client: Client,
    events: Vec<ClientEvent>,
}

impl Io {
    /// Runs the client until `done` holds for the events seen so far, or `limit` passes.
    fn run_until(&mut self, limit: Duration, done: impl Fn(&[ClientEvent]) -> bool) -> bool {
        let end = Instant::now() + limit;
        let mut buf = [0u8; 65_536];
        loop {
            while let Some(t) = self.client.poll_transmit() {
                let _ = self.sock.send_to(&t.payload, t.destination);
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            if done(&self.events) {
                return true;
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            let mut wait = end - now;
            if let Some(t) = self.client.poll_timeout() {
                wait = wait.min(t.saturating_duration_since(now));
            }
            let _ = self
                .sock
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))));
            if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
                self.client.handle_receive(Instant::now(), from, &buf[..n]);
            }
            let now = Instant::now();
            if self.client.poll_timeout().is_some_and(|t| t <= now) {
                self.client.handle_timeout(now);
            }
        }
    }
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("turn_client: {e}");
            return ExitCode::from(2);
        }
    };
    let (user, pass) = match &o.auth_secret {
        Some(s) => {
            let expiry = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
                + 3600;
            TimeLimitedCredentials::new(s.as_bytes()).issue(expiry, &o.user)
        }
        None => (o.user.clone(), o.pass.clone()),
    };
    let bind: SocketAddr = if o.server.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let sock = UdpSocket::bind(bind).expect("bind");
    let now = Instant::now();
    let client = Client::new(ClientConfig::new(o.server, user, pass), now);
    let mut io = Io {
        sock,
        client,
        events: Vec::new(),
    };
    io.client.allocate(now).unwrap();
    let ok = io.run_until(Duration::from_secs(10), |ev| {
        ev.iter().any(|e| {
            matches!(
                e,
                ClientEvent::Allocated { .. } | ClientEvent::AllocationFailed { .. }
            )
        })
    });
    let Some(ClientEvent::Allocated {
        relayed,
        mapped,
        lifetime,
    }) = io.events.first().cloned()
    else {
        println!("allocation failed: {:?} (timed out: {})", io.events, !ok);
        return ExitCode::FAILURE;
    };
    println!("relayed {}", relayed[0]);
    println!(
        "mapped {}",
        mapped.map_or("-".to_string(), |m| m.to_string())
    );
    println!("lifetime {}", lifetime.as_secs());
    println!("password-algorithm {:?}", io.client.password_algorithm());
    let now = Instant::now();
    if o.indications {
        io.client.create_permission(now, o.peer.ip()).unwrap();
        io.run_until(Duration::from_secs(10), |ev| {
            ev.iter().any(|e| {
                matches!(
                    e,
                    ClientEvent::PermissionCreated { .. } | ClientEvent::PermissionFailed { .. }
                )
            })
        });
    } else {
        io.client.bind_channel(now, o.peer).unwrap();
        io.run_until(Duration::from_secs(10), |ev| {
            ev.iter().any(|e| {
                matches!(
                    e,
                    ClientEvent::ChannelBound { .. } | ClientEvent::ChannelBindFailed { .. }
                )
            })
        });
    }
    if let Some(e) = io.events.iter().find(|e| {
        matches!(
            e,
            ClientEvent::PermissionFailed { .. } | ClientEvent::ChannelBindFailed { .. }
        )
    }) {
        println!("peer setup failed: {e:?}");
        return ExitCode::FAILURE;
    }
    println!(
        "mode {}",
        if o.indications {
            "send/data indications"
        } else {
            "channel"
        }
    );
    let mut expected = std::collections::HashSet::new();
    for i in 0..o.count {
        let mut msg = format!("sansrtc-{i:08}-").into_bytes();
        msg.resize(o.size.max(msg.len()), b'x');
        expected.insert(msg.clone());
        io.client.send(Instant::now(), o.peer, &msg).unwrap();
        // pace a little so nothing is dropped by socket buffers
        if i % 20 == 19 {
            io.run_until(Duration::from_millis(2), |_| false);
        }
    }
    let count = o.count as usize;
    let peer = o.peer;
    io.run_until(Duration::from_secs(5), |ev| {
        ev.iter()
            .filter(|e| matches!(e, ClientEvent::Data { peer: p, .. } if *p == peer))
            .count()
            >= count
    });
    let mut received = 0;
    let mut wrong = 0;
    for e in &io.events {
        if let ClientEvent::Data { peer: p, data } = e {
            if *p == peer && expected.remove(data) {
                received += 1;
            } else {
                wrong += 1;
            }
        }
    }
    println!("sent {} received {received} unexpected {wrong}", o.count);
    io.client.deallocate(Instant::now()).unwrap();
    let deallocated = io.run_until(Duration::from_secs(5), |ev| {
        ev.iter().any(|e| matches!(e, ClientEvent::Deallocated))
    });
    println!("deallocated {deallocated}");
    if received == count && wrong == 0 && deallocated {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
