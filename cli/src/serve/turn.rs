//! `serve --turn`: the `turn-server` engine on serve's UDP port, and `GET /ice-servers`
//! handing the page time-limited credentials for it.
//!
//! Credentials follow coturn's "TURN REST API" scheme (what `turn-server --auth-secret`
//! verifies): username `<expiry unix seconds>:<name>`, password
//! base64(HMAC-SHA1(secret, username)). The secret never leaves the process; whoever can
//! fetch `/ice-servers` gets a credential valid for `--turn-ttl` seconds.
//!
//! TURN over TCP shares the TCP port with HTTP: every accepted connection is sorted by its
//! first byte ([`demux`]): a STUN message starts with 0x00 or 0x01 (RFC 8489 section 5: the
//! two top bits are zero, and with TURN's small method numbers only the class bit C1 can be
//! set in the first byte), an HTTP request with an ASCII letter. Both speak first (a TURN
//! client with its Allocate request), so the server waits for that byte.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sansrtc_turn::auth::{TimeLimitedCredentials, base64_encode};
use sansrtc_turn::policy::PeerPolicy;
use sansrtc_turn::server::{Server, ServerConfig};
use sansrtc_turn::wire;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use super::Args;
use crate::turn_server::{Gauges, TcpHandoff, UdpTurn};

/// Most TURN-over-TCP connections at once (turn-server's default).
const MAX_TCP: u32 = 1024;
/// Seconds a TURN-over-TCP connection may stay idle (turn-server's default).
const TCP_IDLE: Duration = Duration::from_secs(300);
/// How long a new connection may stay silent before it goes to HTTP unsorted.
const SORT_WAIT: Duration = Duration::from_secs(10);
/// Most connections waiting for their first byte; beyond, they go to HTTP unsorted.
const MAX_SORTING: usize = 1024;
/// Sorted HTTP connections waiting for the HTTP server to take them.
const HTTP_QUEUE: usize = 64;

/// The running TURN engine and what `/ice-servers` needs to issue credentials for it.
pub struct Turn {
    tcp: TcpHandoff,
    creds: TimeLimitedCredentials,
    ttl: u64,
    port: u16,
    gauges: Arc<Gauges>,
    /// Taken at shutdown.
    engine: Mutex<Option<UdpTurn>>,
}

/// Starts TURN on `udp` (serve's listening UDP socket) with relayed addresses on `relay_ip`.
pub fn start(args: &Args, udp: std::net::UdpSocket, relay_ip: IpAddr) -> Result<Turn, String> {
    if relay_ip.is_unspecified() {
        return Err("--turn needs a concrete --rtc-ip for relayed addresses".into());
    }
    let listen = udp.local_addr().map_err(|e| e.to_string())?;
    let secret = match &args.turn_secret {
        Some(s) => s.clone(),
        None => {
            let mut bytes = [0u8; 32];
            StdRng::from_os_rng().fill_bytes(&mut bytes);
            base64_encode(&bytes)
        }
    };
    let creds = TimeLimitedCredentials::new(secret.as_bytes());
    let mut policy = PeerPolicy::default();
    for c in &args.turn_allow_peer {
        policy = policy.allow(*c);
    }
    let mut config = ServerConfig::new(args.turn_realm.clone(), Arc::new(creds.clone()), relay_ip);
    config.relay_ports = args.turn_relay_ports.0..=args.turn_relay_ports.1;
    config.listen_addrs = vec![listen];
    config.policy = policy;
    config.max_allocations = args.turn_max_allocations as usize;
    // coturn's and browsers' clients may use the RFC 5766 channel range.
    config.max_channel_number = wire::MAX_CHANNEL_RFC5766;
    config.software = Some(concat!("sansrtc ", env!("CARGO_PKG_VERSION")).to_owned());
    config.unix_time_at_start = unix_now();
    let server = Server::new(config, Instant::now()).map_err(|e| format!("TURN: {e}"))?;
    let engine = UdpTurn::start(
        server,
        udp,
        "sansrtc serve: turn",
        args.turn_verbose,
        MAX_TCP,
        TCP_IDLE,
    )?;
    Ok(Turn {
        tcp: engine.tcp_handoff(),
        creds,
        ttl: args.turn_ttl,
        port: listen.port(),
        gauges: engine.gauges().clone(),
        engine: Mutex::new(Some(engine)),
    })
}

fn unix_now() -> Option<u64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

impl Turn {
    /// Allocations alive now and created since start.
    pub fn allocations(&self) -> (u64, u64) {
        (
            self.gauges.alive.load(Ordering::Relaxed),
            self.gauges.created.load(Ordering::Relaxed),
        )
    }

    /// The UDP port TURN (and STUN Binding) answer on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A fresh credential for `name`, valid `ttl` seconds from now.
    fn issue(&self, name: &str) -> (String, String) {
        let expiry = unix_now().unwrap_or(0).saturating_add(self.ttl);
        self.creds.issue(expiry, name)
    }

    /// Stops the engine thread (on a blocking thread); the summary of its counters.
    pub async fn stop(&self, reason: &'static str) -> Result<String, String> {
        let engine = self.engine.lock().ok().and_then(|mut e| e.take());
        let Some(engine) = engine else {
            return Err("already stopped".into());
        };
        let stopping = tokio::task::spawn_blocking(move || engine.stop(reason));
        match tokio::time::timeout(Duration::from_secs(2), stopping).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("the TURN engine did not stop within 2 s".into()),
        }
    }
}

/// `host:port` for an ICE URL (RFC 7064 / 7065): IPv6 in brackets.
fn host_port(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

/// The body of `GET /ice-servers`: an RTCConfiguration's `iceServers` plus, with TURN, the
/// credential's lifetime `ttl` in seconds.
pub fn ice_servers(ip: IpAddr, stun_port: Option<u16>, turn: Option<&Turn>, name: &str) -> Value {
    let mut servers = Vec::new();
    if let Some(p) = stun_port {
        servers.push(json!({"urls": [format!("stun:{}", host_port(ip, p))]}));
    }
    let Some(t) = turn else {
        return json!({"iceServers": servers});
    };
    let (username, credential) = t.issue(name);
    let at = host_port(ip, t.port);
    servers.push(json!({
        "urls": [format!("turn:{at}?transport=udp"), format!("turn:{at}?transport=tcp")],
        "username": username,
        "credential": credential,
    }));
    json!({"iceServers": servers, "ttl": t.ttl})
}

/// The HTTP server's side of [`demux`]: the connections that are not TURN.
pub struct HttpConnections {
    rx: mpsc::Receiver<(TcpStream, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for HttpConnections {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The sorter is gone (shutdown): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// Accepts on `tcp` and sorts each connection by its first byte: STUN (TURN over TCP) to
/// the TURN engine, anything else (or nothing within [`SORT_WAIT`]) to HTTP. Abort the
/// returned task to stop accepting.
pub fn demux(tcp: TcpListener, turn: &Turn) -> Result<(HttpConnections, JoinHandle<()>), String> {
    let local = tcp.local_addr().map_err(|e| e.to_string())?;
    let (http_tx, rx) = mpsc::channel(HTTP_QUEUE);
    let handoff = turn.tcp.clone();
    let sorting = Arc::new(Semaphore::new(MAX_SORTING));
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match tcp.accept().await {
                Ok(c) => c,
                Err(_) => {
                    // Out of file descriptors and the like: breathe, as axum does.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = sorting.clone().try_acquire_owned() else {
                if http_tx.send((stream, peer)).await.is_err() {
                    return;
                }
                continue;
            };
            let (http_tx, handoff) = (http_tx.clone(), handoff.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                let peeked = tokio::time::timeout(SORT_WAIT, stream.peek(&mut first)).await;
                drop(permit);
                match peeked {
                    Ok(Ok(1..)) if first[0] < 2 => {
                        // At the cap the stream is dropped (closed), as turn-server does.
                        let _ = handoff.spawn(stream, local, peer);
                    }
                    Ok(Ok(0) | Err(_)) => {}
                    _ => {
                        let _ = http_tx.send((stream, peer)).await;
                    }
                }
            });
        }
    });
    Ok((HttpConnections { rx, local }, task))
}
