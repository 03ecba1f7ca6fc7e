//! `sansrtc turn-server`: a TURN server (RFC 8656) over UDP, TCP and TLS (rustls, with
//! `--cert`/`--key`), with STUN Binding on the same port.
//!
//! The protocol work is `sansrtc_turn::server::Server` (sans-IO); this module owns the
//! sockets (the listening UDP socket, one UDP socket per relayed address, TCP
//! connections), the TCP framing loop, the timer, limits and shutdown.
//!
//! One thread (the engine) owns the server core and every UDP socket: it waits on epoll,
//! reads each ready socket with `recvmmsg` into preallocated slots, lets the core write each
//! relayed datagram straight into a send slot (`Server::handle_receive_into`: no allocation
//! per datagram), and sends with one `sendmmsg` per source socket. TCP and TLS connections
//! run as tokio tasks (current-thread runtime) that hand frames to the engine through a
//! bounded channel and wake it with an eventfd. Linux only (epoll, eventfd, recvmmsg).
//! Datagrams from one socket to one destination in a batch leave as one UDP GSO send;
//! the environment variable `SANSRTC_NO_GSO` turns that off (A/B measurements).

use std::collections::HashMap;
use std::io::{IoSlice, IoSliceMut};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg, sendmsg,
    setsockopt, sockopt,
};
use sansrtc_turn::auth::{AnyOf, CredentialStore, StaticUsers, TimeLimitedCredentials};
use sansrtc_turn::policy::{Cidr, PeerPolicy};
use sansrtc_turn::server::{FiveTuple, Server, ServerConfig, ServerEvent, TransmitMeta, Transport};
use sansrtc_turn::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

/// Arguments of `sansrtc turn-server`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Relays UDP for clients that authenticate with long-term credentials (static users with \
--user, or coturn-style time-limited credentials with --auth-secret). Peers that are \
loopback, private, link-local, multicast or otherwise special are refused (403) unless \
--allow-peer lists them. Ctrl-C or SIGTERM stops it and prints counters.

Examples:
  sansrtc turn-server --listen 127.0.0.1:3478 --realm example.org --user alice:secret
  sansrtc turn-server --auth-secret s3cr3t --relay-ports 49160-49200 --allow-peer 127.0.0.0/8")]
pub struct Args {
    /// Address to listen on, for UDP and TCP alike.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3478")]
    pub listen: SocketAddr,
    /// Realm (REALM attribute).
    #[arg(long, value_name = "REALM", default_value = "sansrtc")]
    pub realm: String,
    /// A static user, `name:password` (repeatable).
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    pub users: Vec<String>,
    /// Shared secret for time-limited credentials (username `expiry:user`, password
    /// base64(HMAC-SHA1(secret, username))), as coturn's `static-auth-secret`.
    #[arg(long, value_name = "SECRET")]
    pub auth_secret: Option<String>,
    /// IP address relayed addresses are on (default: the listening IP).
    #[arg(long, value_name = "IP")]
    pub relay_ip: Option<IpAddr>,
    /// Range of relay ports, `A-B`.
    #[arg(long, value_name = "A-B", default_value = "49152-65535", value_parser = parse_range)]
    pub relay_ports: (u16, u16),
    /// Allow relaying to this block even if the default policy denies it (repeatable), e.g.
    /// `127.0.0.0/8` for tests on loopback.
    #[arg(long = "allow-peer", value_name = "CIDR")]
    pub allow_peer: Vec<Cidr>,
    /// Most allocations in total (508 beyond).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_allocations: usize,
    /// Most allocations per username (486 beyond).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_allocations_per_user: usize,
    /// Relayed bytes per second per allocation (each direction counted); 0 = unlimited.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub bandwidth: u64,
    /// Accept only RFC 8656 channel numbers (0x4000-0x4FFF); by default the RFC 5766 range
    /// up to 0x7FFF is accepted too, as coturn's clients use it.
    #[arg(long)]
    pub rfc8656_channels: bool,
    /// Do not serve UDP.
    #[arg(long, conflicts_with = "no_tcp")]
    pub no_udp: bool,
    /// Do not serve TCP.
    #[arg(long)]
    pub no_tcp: bool,
    /// PEM certificate chain for TURN over TLS (RFC 8656 section 3.1); with --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<std::path::PathBuf>,
    /// PEM private key for TURN over TLS; with --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<std::path::PathBuf>,
    /// Address for TURN over TLS (default: the listening IP, port 5349).
    #[arg(long, value_name = "ADDR:PORT")]
    pub tls_listen: Option<SocketAddr>,
    /// Value of the SOFTWARE attribute in responses; an empty string leaves it out.
    #[arg(long, value_name = "TEXT", default_value = concat!("sansrtc ", env!("CARGO_PKG_VERSION")))]
    pub software: String,
    /// Most TCP connections served at once; further ones are closed on accept.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_tcp_connections: u32,
    /// Seconds a TCP connection may stay idle before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub tcp_idle_timeout: u64,
    /// Log every allocation created and closed.
    #[arg(long, short)]
    pub verbose: bool,
}

pub(crate) fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').ok_or("expected A-B")?;
    let a: u16 = a.trim().parse().map_err(|e| format!("{a}: {e}"))?;
    let b: u16 = b.trim().parse().map_err(|e| format!("{b}: {e}"))?;
    if a == 0 || a > b {
        return Err("need 1 <= A <= B".into());
    }
    Ok((a, b))
}

/// One stream frame for the server core.
struct Input {
    transport: Transport,
    local: SocketAddr,
    remote: SocketAddr,
    data: Vec<u8>,
}

enum Msg {
    Input(Input),
    TcpOpen(SocketAddr, mpsc::Sender<Vec<u8>>),
    TcpClosed(FiveTuple),
}

/// The sending half towards the engine thread: a bounded channel plus an eventfd that
/// wakes the engine's epoll.
#[derive(Clone)]
struct CoreTx {
    tx: mpsc::Sender<Msg>,
    wake: Arc<EventFd>,
}

impl CoreTx {
    async fn send(&self, msg: Msg) -> Result<(), ()> {
        self.tx.send(msg).await.map_err(|_| ())?;
        let _ = self.wake.write(1);
        Ok(())
    }
}

/// Most stream frames queued for the core; connection tasks wait when it is full
/// (backpressure).
const INPUT_QUEUE: usize = 8192;
/// Most frames queued towards one TCP connection; beyond, frames are dropped.
const TCP_OUT_QUEUE: usize = 256;
/// Largest frame accepted on TCP (a STUN message or ChannelData).
const MAX_TCP_FRAME: usize = 65_535 + 20;

/// Runs the server until Ctrl-C / SIGTERM.
pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sansrtc turn-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

fn credentials(args: &Args) -> Result<Arc<dyn CredentialStore>, String> {
    let mut stores: Vec<Box<dyn CredentialStore>> = Vec::new();
    if !args.users.is_empty() {
        let mut users = StaticUsers::new();
        for u in &args.users {
            let (name, pass) = u
                .split_once(':')
                .ok_or_else(|| format!("--user {u}: expected NAME:PASSWORD"))?;
            users = users.with_user(name, pass);
        }
        stores.push(Box::new(users));
    }
    if let Some(s) = &args.auth_secret {
        stores.push(Box::new(TimeLimitedCredentials::new(s.as_bytes())));
    }
    if stores.is_empty() {
        return Err("no credentials: give --user NAME:PASSWORD or --auth-secret SECRET".into());
    }
    Ok(Arc::new(AnyOf(stores)))
}

async fn serve(args: Args) -> ExitCode {
    match serve_inner(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sansrtc turn-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve_inner(args: Args) -> Result<(), String> {
    let creds = credentials(&args)?;
    let udp = if args.no_udp {
        None
    } else {
        let s = std::net::UdpSocket::bind(args.listen)
            .map_err(|e| format!("cannot bind UDP {}: {e}", args.listen))?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        tune_buffers(&s);
        Some(s)
    };
    let mut listen = args.listen;
    if let Some(u) = &udp {
        listen = u.local_addr().map_err(|e| e.to_string())?;
    }
    let tcp = if args.no_tcp {
        None
    } else {
        Some(
            TcpListener::bind(listen)
                .await
                .map_err(|e| format!("cannot bind TCP {listen}: {e}"))?,
        )
    };
    if let Some(t) = &tcp {
        listen = t.local_addr().map_err(|e| e.to_string())?;
    }
    let relay_ip = args.relay_ip.unwrap_or(listen.ip());
    if relay_ip.is_unspecified() {
        return Err("--relay-ip is needed when listening on an unspecified address".into());
    }
    let mut policy = PeerPolicy::default();
    for c in &args.allow_peer {
        policy = policy.allow(*c);
    }
    let mut config = ServerConfig::new(args.realm.clone(), creds, relay_ip);
    config.relay_ports = args.relay_ports.0..=args.relay_ports.1;
    config.listen_addrs = vec![listen];
    config.policy = policy;
    config.max_allocations = args.max_allocations;
    if !args.rfc8656_channels {
        config.max_channel_number = wire::MAX_CHANNEL_RFC5766;
    }
    config.max_allocations_per_user = args.max_allocations_per_user;
    config.bandwidth_per_allocation = (args.bandwidth > 0).then_some(args.bandwidth);
    config.software = (!args.software.is_empty()).then(|| args.software.clone());
    config.unix_time_at_start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs());
    let start = Instant::now();
    let server = Server::new(config, start).map_err(|e| e.to_string())?;

    let mut listening = Vec::new();
    if udp.is_some() {
        listening.push(format!("udp {listen}"));
    }
    if tcp.is_some() {
        listening.push(format!("tcp {listen}"));
    }
    eprintln!(
        "sansrtc turn-server: listening on {} (realm {}, relay {} ports {}-{})",
        listening.join(" and "),
        args.realm,
        relay_ip,
        args.relay_ports.0,
        args.relay_ports.1
    );

    let wake = Arc::new(
        EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
            .map_err(|e| format!("eventfd: {e}"))?,
    );
    let (tx, rx) = mpsc::channel::<Msg>(INPUT_QUEUE);
    let core_tx = CoreTx {
        tx,
        wake: wake.clone(),
    };
    let stop: Arc<OnceLock<&'static str>> = Arc::new(OnceLock::new());
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Result<(), String>>();
    let log = EngineLog {
        prefix: "sansrtc turn-server",
        verbose: args.verbose,
        gauges: Arc::default(),
    };
    let thread = spawn_engine(
        server,
        listen,
        udp,
        wake.clone(),
        rx,
        stop.clone(),
        log,
        |r| {
            let r = r.map(|(reason, summary)| {
                eprintln!("sansrtc turn-server: {reason}, shutting down ({summary})");
            });
            let _ = done_tx.send(r);
        },
    )?;

    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let slots = Arc::new(Semaphore::new(args.max_tcp_connections as usize));
    if let Some(l) = tcp {
        tasks.push(tokio::spawn(tcp_accept_loop(
            l,
            listen,
            core_tx.clone(),
            slots.clone(),
            Duration::from_secs(args.tcp_idle_timeout),
            None,
        )));
    }
    let mut result = Ok(());
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let tls = tls_config(cert, key);
        let addr = args
            .tls_listen
            .unwrap_or_else(|| SocketAddr::new(listen.ip(), 5349));
        match tls {
            Ok(tls) => match TcpListener::bind(addr).await {
                Ok(l) => {
                    let addr = l.local_addr().unwrap_or(addr);
                    eprintln!("sansrtc turn-server: listening on tls {addr}");
                    tasks.push(tokio::spawn(tcp_accept_loop(
                        l,
                        addr,
                        core_tx.clone(),
                        slots,
                        Duration::from_secs(args.tcp_idle_timeout),
                        Some(tls),
                    )));
                }
                Err(e) => result = Err(format!("cannot bind TLS {addr}: {e}")),
            },
            Err(e) => result = Err(e),
        }
    }
    let mut engine_result = None;
    let reason = if result.is_err() {
        "startup failed"
    } else {
        tokio::select! {
            reason = shutdown_signal() => reason,
            r = done_rx => {
                engine_result = Some(r.unwrap_or(Err("engine thread died".into())));
                "engine stopped"
            }
        }
    };
    for task in tasks {
        task.abort();
    }
    let _ = stop.set(reason);
    let _ = wake.write(1);
    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    result?;
    engine_result.unwrap_or(Ok(()))
}

/// How the engine names itself in its log lines, whether it logs every allocation, and the
/// counters it publishes for others to read (serve's /health).
struct EngineLog {
    /// Start of every log line, e.g. `sansrtc turn-server`.
    prefix: &'static str,
    verbose: bool,
    gauges: Arc<Gauges>,
}

/// Allocation counters the engine thread updates as allocations come and go.
#[derive(Default)]
pub struct Gauges {
    /// Allocations created since start.
    pub created: AtomicU64,
    /// Allocations alive now.
    pub alive: AtomicU64,
}

/// Starts the engine thread (built there: nix's mmsghdr batches are not Send); `done` gets
/// what [`Engine::run`] returned (the stop reason and the counters' summary) when it ends.
#[allow(clippy::too_many_arguments)]
fn spawn_engine(
    server: Server,
    listen: SocketAddr,
    udp: Option<std::net::UdpSocket>,
    wake: Arc<EventFd>,
    rx: mpsc::Receiver<Msg>,
    stop: Arc<OnceLock<&'static str>>,
    log: EngineLog,
    done: impl FnOnce(Result<(&'static str, String), String>) + Send + 'static,
) -> Result<std::thread::JoinHandle<()>, String> {
    std::thread::Builder::new()
        .name("turn-engine".into())
        .spawn(move || {
            done(Engine::new(server, listen, udp, wake, rx, stop, log).and_then(Engine::run));
        })
        .map_err(|e| format!("cannot start the engine thread: {e}"))
}

/// The TURN engine over one UDP socket, started inside another server (`serve --turn`):
/// the same thread, core and relay sockets as `turn-server`. The embedding server accepts
/// TCP connections itself and hands the TURN ones over ([`TcpHandoff`]); no TLS.
pub struct UdpTurn {
    tcp: TcpHandoff,
    stop: Arc<OnceLock<&'static str>>,
    wake: Arc<EventFd>,
    thread: std::thread::JoinHandle<()>,
    result: Arc<OnceLock<Result<String, String>>>,
    gauges: Arc<Gauges>,
}

impl UdpTurn {
    /// Starts `server` on `udp` (already bound; its address must be in the core's
    /// `listen_addrs`). Log lines start with `prefix`; `verbose` logs every allocation.
    pub fn start(
        server: Server,
        udp: std::net::UdpSocket,
        prefix: &'static str,
        verbose: bool,
        max_tcp_connections: u32,
        tcp_idle: Duration,
    ) -> Result<Self, String> {
        let listen = udp.local_addr().map_err(|e| e.to_string())?;
        udp.set_nonblocking(true).map_err(|e| e.to_string())?;
        tune_buffers(&udp);
        let wake = Arc::new(
            EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)
                .map_err(|e| format!("eventfd: {e}"))?,
        );
        let (tx, rx) = mpsc::channel::<Msg>(INPUT_QUEUE);
        let tcp = TcpHandoff {
            tx: CoreTx {
                tx,
                wake: wake.clone(),
            },
            slots: Arc::new(Semaphore::new(max_tcp_connections as usize)),
            idle: tcp_idle,
        };
        let stop: Arc<OnceLock<&'static str>> = Arc::new(OnceLock::new());
        let gauges: Arc<Gauges> = Arc::default();
        let result: Arc<OnceLock<Result<String, String>>> = Arc::new(OnceLock::new());
        let log = EngineLog {
            prefix,
            verbose,
            gauges: gauges.clone(),
        };
        let out = result.clone();
        let thread = spawn_engine(
            server,
            listen,
            Some(udp),
            wake.clone(),
            rx,
            stop.clone(),
            log,
            move |r| {
                let _ = out.set(r.map(|(_, summary)| summary));
            },
        )?;
        Ok(Self {
            tcp,
            stop,
            wake,
            thread,
            result,
            gauges,
        })
    }

    /// Where the embedding server hands TURN-over-TCP connections.
    pub fn tcp_handoff(&self) -> TcpHandoff {
        self.tcp.clone()
    }

    /// The allocation counters, updated by the engine thread.
    pub fn gauges(&self) -> &Arc<Gauges> {
        &self.gauges
    }

    /// Stops the engine (blocks until its thread ends: within one epoll wakeup) and returns
    /// the summary of its counters, or why it had stopped on its own.
    pub fn stop(self, reason: &'static str) -> Result<String, String> {
        let _ = self.stop.set(reason);
        let _ = self.wake.write(1);
        if self.thread.join().is_err() {
            return Err("the TURN engine thread panicked".into());
        }
        self.result
            .get()
            .cloned()
            .unwrap_or_else(|| Err("the TURN engine ended without a result".into()))
    }
}

/// Hands TCP connections accepted elsewhere to a [`UdpTurn`] engine.
#[derive(Clone)]
pub struct TcpHandoff {
    tx: CoreTx,
    slots: Arc<Semaphore>,
    idle: Duration,
}

impl TcpHandoff {
    /// Serves `stream` (accepted on `local` from `peer`) as TURN over TCP (RFC 8656 section
    /// 12.5 framing) in its own task; false (and the stream dropped) when the most TCP
    /// connections are already served.
    pub fn spawn(&self, stream: TcpStream, local: SocketAddr, peer: SocketAddr) -> bool {
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            return false;
        };
        spawn_stream(
            stream,
            local,
            peer,
            self.tx.clone(),
            self.idle,
            None,
            permit,
        );
        true
    }
}

/// Larger kernel buffers so bursts are absorbed while the engine works through a batch
/// (best effort: the kernel caps them at net.core.rmem_max / wmem_max).
fn tune_buffers(s: &std::net::UdpSocket) {
    let _ = setsockopt(s, sockopt::RcvBuf, &SOCKET_BUFFER);
    let _ = setsockopt(s, sockopt::SndBuf, &SOCKET_BUFFER);
}

/// SO_RCVBUF / SO_SNDBUF asked for on every UDP socket.
const SOCKET_BUFFER: usize = 4 << 20;
/// Datagrams per recvmmsg / sendmmsg call.
const BATCH: usize = 64;
/// recvmmsg calls on one ready socket before the others get their turn.
const BATCHES_PER_WAKE: usize = 4;
/// Receive slot: the largest UDP payload.
const RX_SLOT: usize = 65_536;
/// Send slot: a relayed datagram plus the largest header the core adds (a Data
/// indication's).
const TX_SLOT: usize = RX_SLOT + 128;
/// Stream frames taken from the channel per wakeup before UDP gets its turn again.
const MSGS_PER_WAKE: usize = 1024;
const WAKE_TOKEN: u64 = u64::MAX;
/// Most datagrams in one GSO send (the kernel's UDP_MAX_SEGMENTS).
const GSO_MAX_SEGMENTS: usize = 64;
/// Most bytes in one GSO send (below the 65 535-byte IP datagram limit with headers).
const GSO_MAX_BYTES: usize = 65_000;

/// One UDP socket the engine reads: the listening socket or a relayed one.
struct Sock {
    socket: std::net::UdpSocket,
    local: SocketAddr,
}

/// A datagram written into `tx_bufs` slot `i` (its index in `pending`), to go out of
/// socket `slot`.
#[derive(Clone, Copy)]
struct Outgoing {
    slot: usize,
    dest: SocketAddr,
    len: usize,
}

/// Sockets, the core and the batches, owned by one thread: epoll over every UDP socket,
/// `recvmmsg` into preallocated slots, the core writes relayed datagrams straight into
/// send slots (`Server::handle_receive_into`), `sendmmsg` per source socket.
struct Engine {
    server: Server,
    listen: SocketAddr,
    relay_ip: IpAddr,
    epoll: Epoll,
    wake: Arc<EventFd>,
    rx: mpsc::Receiver<Msg>,
    stop: Arc<OnceLock<&'static str>>,
    log: EngineLog,
    /// Slab of sockets; the index is the epoll token. Slot 0 is the listening socket.
    socks: Vec<Option<Sock>>,
    free_slots: Vec<usize>,
    /// Relayed port -> slot + 1 for relayed addresses on `relay_ip` (0: none).
    by_port: Vec<u32>,
    /// Relayed address -> slot for any other relay IP (IPv6 relays).
    by_addr: HashMap<SocketAddr, usize>,
    tcp_conns: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    rx_bufs: Vec<u8>,
    tx_bufs: Vec<u8>,
    pending: Vec<Outgoing>,
    order: Vec<usize>,
    singles: Vec<usize>,
    /// UDP GSO (UDP_SEGMENT) works here; cleared on the first refusal.
    gso: bool,
    got: Vec<(usize, SocketAddr)>,
    rx_headers: MultiHeaders<SockaddrStorage>,
    tx_headers: MultiHeaders<SockaddrStorage>,
    addrs: Vec<Option<SockaddrStorage>>,
    created: u64,
    relay_bind_failures: u64,
    send_errors: u64,
}

impl Engine {
    fn new(
        server: Server,
        listen: SocketAddr,
        udp: Option<std::net::UdpSocket>,
        wake: Arc<EventFd>,
        rx: mpsc::Receiver<Msg>,
        stop: Arc<OnceLock<&'static str>>,
        log: EngineLog,
    ) -> Result<Self, String> {
        let epoll =
            Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(|e| format!("epoll: {e}"))?;
        epoll
            .add(
                wake.as_fd(),
                EpollEvent::new(EpollFlags::EPOLLIN, WAKE_TOKEN),
            )
            .map_err(|e| format!("epoll: {e}"))?;
        let mut socks = Vec::new();
        if let Some(u) = udp {
            epoll
                .add(u.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, 0))
                .map_err(|e| format!("epoll: {e}"))?;
            socks.push(Some(Sock {
                socket: u,
                local: listen,
            }));
        } else {
            socks.push(None);
        }
        let relay_ip = server.config().relay_ip;
        Ok(Self {
            server,
            listen,
            relay_ip,
            epoll,
            wake,
            rx,
            stop,
            log,
            socks,
            free_slots: Vec::new(),
            by_port: vec![0; 65_536],
            by_addr: HashMap::new(),
            tcp_conns: HashMap::new(),
            rx_bufs: vec![0; BATCH * RX_SLOT],
            tx_bufs: vec![0; BATCH * TX_SLOT],
            pending: Vec::with_capacity(BATCH),
            order: Vec::with_capacity(BATCH),
            singles: Vec::with_capacity(BATCH),
            gso: std::env::var_os("SANSRTC_NO_GSO").is_none(),
            got: Vec::with_capacity(BATCH),
            rx_headers: MultiHeaders::preallocate(BATCH, None),
            tx_headers: MultiHeaders::preallocate(BATCH, None),
            addrs: Vec::with_capacity(BATCH),
            created: 0,
            relay_bind_failures: 0,
            send_errors: 0,
        })
    }

    /// Runs until `stop` is set; returns the reason and a summary of the counters.
    fn run(mut self) -> Result<(&'static str, String), String> {
        let mut events = [EpollEvent::empty(); 64];
        let reason = loop {
            if let Some(reason) = self.stop.get() {
                break *reason;
            }
            let now = Instant::now();
            let timeout = match self.server.poll_timeout() {
                Some(t) if t <= now => EpollTimeout::ZERO,
                Some(t) => {
                    let ms = t
                        .saturating_duration_since(now)
                        .as_millis()
                        .saturating_add(1);
                    EpollTimeout::try_from(ms.min(60_000)).unwrap_or(EpollTimeout::MAX)
                }
                None => EpollTimeout::try_from(60_000u32).unwrap_or(EpollTimeout::MAX),
            };
            let n = match self.epoll.wait(&mut events, timeout) {
                Ok(n) => n,
                Err(Errno::EINTR) => 0,
                Err(e) => return Err(format!("epoll_wait: {e}")),
            };
            let now = Instant::now();
            if self.server.poll_timeout().is_some_and(|t| t <= now) {
                self.server.handle_timeout(now);
                self.drain_core();
            }
            for ev in events.iter().take(n) {
                let token = ev.data();
                if token == WAKE_TOKEN {
                    let _ = self.wake.read();
                    self.take_messages(now);
                } else if let Ok(slot) = usize::try_from(token) {
                    self.read_socket(slot, now);
                }
            }
            self.flush();
        };
        let s = self.server.stats();
        let summary = format!(
            "allocations: {} created, {} alive; relayed {} to peers, {} to clients; {} malformed, {} success responses, {} error responses, {} dropped without permission, {} over bandwidth, {} send errors, {} relay bind failures",
            self.created,
            s.allocations,
            s.relayed_to_peer,
            s.relayed_to_client,
            s.malformed,
            s.success_responses,
            s.error_responses,
            s.dropped_no_permission,
            s.dropped_bandwidth,
            self.send_errors,
            self.relay_bind_failures,
        );
        Ok((reason, summary))
    }

    /// Stream frames and connection news from the tokio side.
    fn take_messages(&mut self, now: Instant) {
        for _ in 0..MSGS_PER_WAKE {
            match self.rx.try_recv() {
                Ok(Msg::Input(i)) => {
                    self.server
                        .handle_receive(now, i.transport, i.local, i.remote, &i.data);
                    self.drain_core();
                }
                Ok(Msg::TcpOpen(peer, out)) => {
                    self.tcp_conns.insert(peer, out);
                }
                Ok(Msg::TcpClosed(ft)) => {
                    self.tcp_conns.remove(&ft.client);
                    self.server.deallocate(&ft);
                    self.drain_core();
                }
                Err(_) => return,
            }
        }
        // More left: come back after the sockets had their turn.
        let _ = self.wake.write(1);
    }

    /// Reads up to `BATCHES_PER_WAKE` batches from one socket and relays them.
    fn read_socket(&mut self, slot: usize, now: Instant) {
        for _ in 0..BATCHES_PER_WAKE {
            let Some(Some(sock)) = self.socks.get(slot) else {
                return;
            };
            let local = sock.local;
            let fd = sock.socket.as_raw_fd();
            self.got.clear();
            {
                let mut iovs: Vec<[IoSliceMut<'_>; 1]> = self
                    .rx_bufs
                    .chunks_exact_mut(RX_SLOT)
                    .map(|c| [IoSliceMut::new(c)])
                    .collect();
                match recvmmsg(
                    fd,
                    &mut self.rx_headers,
                    iovs.iter_mut(),
                    MsgFlags::MSG_DONTWAIT,
                    None,
                ) {
                    Ok(results) => {
                        for r in results {
                            if let Some(from) = r.address.and_then(|a| to_std(&a)) {
                                self.got.push((r.bytes, from));
                            }
                        }
                    }
                    // ICMP errors (port unreachable from a peer) surface here: skip them.
                    Err(Errno::ECONNREFUSED | Errno::EINTR) => continue,
                    Err(_) => return,
                }
            }
            let count = self.got.len();
            for i in 0..count {
                let Some(&(len, from)) = self.got.get(i) else {
                    break;
                };
                if self.pending.len() >= BATCH {
                    self.flush();
                }
                let k = self.pending.len();
                let data = self
                    .rx_bufs
                    .get(i * RX_SLOT..i * RX_SLOT + len)
                    .unwrap_or_default();
                let out = self
                    .tx_bufs
                    .get_mut(k * TX_SLOT..(k + 1) * TX_SLOT)
                    .unwrap_or_default();
                if let Some(m) =
                    self.server
                        .handle_receive_into(now, Transport::Udp, local, from, data, out)
                {
                    self.route(m);
                }
                self.drain_core();
            }
            if count < BATCH {
                return;
            }
        }
    }

    /// Sends (or stages) what the core wrote into send slot `pending.len()`.
    fn route(&mut self, m: TransmitMeta) {
        match m.transport {
            Transport::Udp => match self.slot_of(m.source) {
                Some(slot) => self.pending.push(Outgoing {
                    slot,
                    dest: m.destination,
                    len: m.len,
                }),
                None => self.send_errors += 1,
            },
            Transport::Tcp | Transport::Tls => {
                let k = self.pending.len();
                let bytes = self
                    .tx_bufs
                    .get(k * TX_SLOT..k * TX_SLOT + m.len)
                    .unwrap_or_default();
                if let Some(out) = self.tcp_conns.get(&m.destination)
                    && let Err(mpsc::error::TrySendError::Full(_)) = out.try_send(bytes.to_vec())
                {
                    self.send_errors += 1;
                }
            }
        }
    }

    fn slot_of(&self, addr: SocketAddr) -> Option<usize> {
        if addr == self.listen {
            return self.socks.first().and_then(Option::as_ref).map(|_| 0);
        }
        if addr.ip() == self.relay_ip {
            let v = *self.by_port.get(usize::from(addr.port()))?;
            return usize::try_from(v).ok()?.checked_sub(1);
        }
        self.by_addr.get(&addr).copied()
    }

    /// Events first (relayed sockets must exist before data flows through them), then the
    /// queued transmits (responses, Send indications, relays that did not fit).
    fn drain_core(&mut self) {
        let mut events = false;
        while let Some(ev) = self.server.poll_event() {
            self.on_event(ev);
            events = true;
        }
        if events {
            let alive = self.server.allocation_count() as u64;
            self.log.gauges.alive.store(alive, Ordering::Relaxed);
        }
        while let Some(t) = self.server.poll_transmit() {
            match t.transport {
                Transport::Udp => {
                    if self.pending.len() >= BATCH {
                        self.flush();
                    }
                    let k = self.pending.len();
                    // A payload never exceeds a slot (the core's largest output is a Data
                    // indication around one datagram), but a slot must not spill into the next.
                    let fits = t.payload.len() <= TX_SLOT;
                    let (Some(slot), Some(dst), true) = (
                        self.slot_of(t.source),
                        self.tx_bufs
                            .get_mut(k * TX_SLOT..k * TX_SLOT + t.payload.len()),
                        fits,
                    ) else {
                        self.send_errors += 1;
                        continue;
                    };
                    dst.copy_from_slice(&t.payload);
                    self.pending.push(Outgoing {
                        slot,
                        dest: t.destination,
                        len: t.payload.len(),
                    });
                }
                Transport::Tcp | Transport::Tls => {
                    // A closed connection (its TcpClosed is on the way) is not a send error.
                    if let Some(out) = self.tcp_conns.get(&t.destination)
                        && let Err(mpsc::error::TrySendError::Full(_)) = out.try_send(t.payload)
                    {
                        self.send_errors += 1;
                    }
                }
            }
        }
    }

    fn on_event(&mut self, ev: ServerEvent) {
        match ev {
            ServerEvent::AllocationCreated {
                five_tuple,
                relayed,
                username,
            } => {
                self.created += 1;
                self.log
                    .gauges
                    .created
                    .store(self.created, Ordering::Relaxed);
                let mut ok = true;
                for r in &relayed {
                    match self.open_relay(*r) {
                        Ok(()) => {}
                        Err(e) => {
                            eprintln!("{}: cannot bind relay {r}: {e}", self.log.prefix);
                            self.relay_bind_failures += 1;
                            ok = false;
                        }
                    }
                }
                if !ok {
                    // Emits AllocationClosed, which closes the relays that did open.
                    self.server.deallocate(&five_tuple);
                } else if self.log.verbose {
                    eprintln!(
                        "{}: allocation for {username} from {} ({:?}): relayed {:?}",
                        self.log.prefix, five_tuple.client, five_tuple.transport, relayed
                    );
                }
            }
            ServerEvent::AllocationClosed {
                five_tuple,
                relayed,
                expired,
            } => {
                // Datagrams staged for these sockets go out first.
                self.flush();
                for r in &relayed {
                    self.close_relay(*r);
                }
                if self.log.verbose {
                    eprintln!(
                        "{}: allocation of {} closed ({})",
                        self.log.prefix,
                        five_tuple.client,
                        if expired { "expired" } else { "deleted" }
                    );
                }
            }
        }
    }

    fn open_relay(&mut self, addr: SocketAddr) -> std::io::Result<()> {
        let socket = std::net::UdpSocket::bind(addr)?;
        socket.set_nonblocking(true)?;
        tune_buffers(&socket);
        let slot = self.free_slots.pop().unwrap_or(self.socks.len());
        let token = u64::try_from(slot).unwrap_or(WAKE_TOKEN);
        self.epoll
            .add(socket.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, token))
            .map_err(std::io::Error::from)?;
        let sock = Some(Sock {
            socket,
            local: addr,
        });
        match self.socks.get_mut(slot) {
            Some(s) => *s = sock,
            None => self.socks.push(sock),
        }
        if addr.ip() == self.relay_ip {
            if let Some(v) = self.by_port.get_mut(usize::from(addr.port())) {
                *v = u32::try_from(slot + 1).unwrap_or(0);
            }
        } else {
            self.by_addr.insert(addr, slot);
        }
        Ok(())
    }

    fn close_relay(&mut self, addr: SocketAddr) {
        let Some(slot) = self.slot_of(addr).filter(|s| *s != 0) else {
            return;
        };
        if let Some(s) = self.socks.get_mut(slot) {
            if let Some(sock) = s.take() {
                let _ = self.epoll.delete(sock.socket.as_fd());
            }
            self.free_slots.push(slot);
        }
        if addr.ip() == self.relay_ip {
            if let Some(v) = self.by_port.get_mut(usize::from(addr.port())) {
                *v = 0;
            }
        } else {
            self.by_addr.remove(&addr);
        }
    }

    /// Sends every staged datagram. Per source socket: the datagrams to one destination
    /// that fit UDP GSO (two or more, equal sizes but a shorter last one) leave in one
    /// `sendmsg` with UDP_SEGMENT, the kernel splitting them (one trip through the stack
    /// instead of one per datagram); the rest in one `sendmmsg`. Order per destination is
    /// kept: a destination's datagrams all go one way or the other.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = &self.pending;
        self.order.clear();
        self.order.extend(0..pending.len());
        self.order.sort_unstable_by_key(|&i| {
            pending
                .get(i)
                .map_or((0, None, i), |o| (o.slot, Some(o.dest), i))
        });
        let mut start = 0;
        while start < self.order.len() {
            let key = |e: &Self, at: usize| {
                e.order
                    .get(at)
                    .and_then(|&i| e.pending.get(i))
                    .map(|o| (o.slot, o.dest))
            };
            let Some((slot, _)) = key(self, start) else {
                break;
            };
            self.singles.clear();
            let mut at = start;
            // One destination at a time within this socket's run.
            while let Some((_, dest)) = key(self, at).filter(|(s, _)| *s == slot) {
                let mut end = at;
                while key(self, end) == Some((slot, dest)) {
                    end += 1;
                }
                if !(self.gso && self.send_gso(slot, dest, at, end)) {
                    for k in at..end {
                        if let Some(&i) = self.order.get(k) {
                            self.singles.push(i);
                        }
                    }
                }
                at = end;
            }
            self.send_singles(slot);
            start = at;
        }
        self.pending.clear();
    }

    /// One GSO `sendmsg` of `order[at..end]` (all from `slot` to `dest`) if they qualify;
    /// false if they do not (or GSO is unavailable), to be sent one by one instead.
    fn send_gso(&mut self, slot: usize, dest: SocketAddr, at: usize, end: usize) -> bool {
        let ids = self.order.get(at..end).unwrap_or_default();
        if ids.len() < 2 || ids.len() > GSO_MAX_SEGMENTS {
            return false;
        }
        let lens = ids
            .iter()
            .map(|&i| self.pending.get(i).map_or(0, |o| o.len));
        let first = self
            .pending
            .get(ids.first().copied().unwrap_or(0))
            .map_or(0, |o| o.len);
        let total: usize = lens.clone().sum();
        let last = lens.clone().next_back().unwrap_or(0);
        let body_equal = lens.take(ids.len() - 1).all(|l| l == first);
        let Ok(seg) = u16::try_from(first) else {
            return false;
        };
        if !body_equal || last > first || last == 0 || seg == 0 || total > GSO_MAX_BYTES {
            return false;
        }
        let Some(Some(sock)) = self.socks.get(slot) else {
            return false;
        };
        let fd = sock.socket.as_raw_fd();
        let slices: Vec<IoSlice<'_>> = ids
            .iter()
            .map(|&i| {
                let len = self.pending.get(i).map_or(0, |o| o.len);
                IoSlice::new(
                    self.tx_bufs
                        .get(i * TX_SLOT..i * TX_SLOT + len)
                        .unwrap_or_default(),
                )
            })
            .collect();
        let addr = SockaddrStorage::from(dest);
        for _ in 0..20 {
            let cmsg = [ControlMessage::UdpGsoSegments(&seg)];
            match sendmsg(fd, &slices, &cmsg, MsgFlags::MSG_DONTWAIT, Some(&addr)) {
                Ok(_) => return true,
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN | Errno::ENOBUFS) => {
                    let Some(Some(sock)) = self.socks.get(slot) else {
                        return true;
                    };
                    let mut fds = [PollFd::new(sock.socket.as_fd(), PollFlags::POLLOUT)];
                    let _ = poll(&mut fds, PollTimeout::from(5u8));
                }
                // No GSO here (old kernel, device without it): stop trying.
                Err(Errno::EIO | Errno::EINVAL | Errno::ENOPROTOOPT | Errno::EOPNOTSUPP) => {
                    self.gso = false;
                    return false;
                }
                Err(_) => {
                    self.send_errors += ids.len() as u64;
                    return true;
                }
            }
        }
        self.send_errors += ids.len() as u64;
        true
    }

    /// `sendmmsg` of the datagrams in `singles` (all from socket `slot`), retrying the rest
    /// after a partial send; a datagram the kernel refuses is counted and skipped.
    fn send_singles(&mut self, slot: usize) {
        let end = self.singles.len();
        if end == 0 {
            return;
        }
        let Some(Some(sock)) = self.socks.get(slot) else {
            self.send_errors += end as u64;
            return;
        };
        let fd = sock.socket.as_raw_fd();
        let mut at = 0;
        let mut stalls = 0;
        while at < end {
            self.addrs.clear();
            let ids = self.singles.get(at..end).unwrap_or_default();
            let mut slices: Vec<[IoSlice<'_>; 1]> = Vec::with_capacity(ids.len());
            for &i in ids {
                let Some(o) = self.pending.get(i) else {
                    continue;
                };
                let bytes = self
                    .tx_bufs
                    .get(i * TX_SLOT..i * TX_SLOT + o.len)
                    .unwrap_or_default();
                slices.push([IoSlice::new(bytes)]);
                self.addrs.push(Some(SockaddrStorage::from(o.dest)));
            }
            let no_cmsgs: [ControlMessage<'_>; 0] = [];
            let r = sendmmsg(
                fd,
                &mut self.tx_headers,
                slices.iter(),
                &self.addrs,
                no_cmsgs,
                MsgFlags::MSG_DONTWAIT,
            )
            .map(Iterator::count);
            match r {
                Ok(k) if k > 0 => {
                    at += k;
                    stalls = 0;
                }
                Err(Errno::EAGAIN) | Ok(_) => {
                    // The socket buffer is full: wait a little for room, then give up.
                    stalls += 1;
                    if stalls > 20 {
                        self.send_errors += (end - at) as u64;
                        return;
                    }
                    let Some(Some(sock)) = self.socks.get(slot) else {
                        return;
                    };
                    let mut fds = [PollFd::new(sock.socket.as_fd(), PollFlags::POLLOUT)];
                    let _ = poll(&mut fds, PollTimeout::from(5u8));
                }
                Err(Errno::EINTR) => {}
                Err(_) => {
                    self.send_errors += 1;
                    at += 1;
                }
            }
        }
    }
}

fn to_std(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4(std::net::SocketAddrV4::from(*v4)));
    }
    a.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(std::net::SocketAddrV6::from(*v6)))
}

async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupted",
                _ = term.recv() => "terminated",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupted"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}

fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("--cert {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--cert {}: {e}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate/key: {e}"))?;
    Ok(Arc::new(config))
}

async fn tcp_accept_loop(
    listener: TcpListener,
    local: SocketAddr,
    tx: CoreTx,
    slots: Arc<Semaphore>,
    idle: Duration,
    tls: Option<Arc<rustls::ServerConfig>>,
) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        spawn_stream(stream, local, peer, tx.clone(), idle, tls.clone(), permit);
    }
}

/// Serves one accepted TCP (or TLS) connection in its own task until it ends, then tells the
/// core (which frees its allocation) and gives the connection slot back.
fn spawn_stream(
    stream: TcpStream,
    local: SocketAddr,
    peer: SocketAddr,
    tx: CoreTx,
    idle: Duration,
    tls: Option<Arc<rustls::ServerConfig>>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    tokio::spawn(async move {
        let transport = if tls.is_some() {
            Transport::Tls
        } else {
            Transport::Tcp
        };
        match tls {
            Some(cfg) => tls_connection(stream, local, peer, tx.clone(), idle, cfg).await,
            None => tcp_connection(stream, local, peer, tx.clone(), idle).await,
        }
        let ft = FiveTuple {
            client: peer,
            server: local,
            transport,
        };
        let _ = tx.send(Msg::TcpClosed(ft)).await;
        drop(permit);
    });
}

/// Splits complete frames off the front of `buf` and hands them to the core task; false if
/// the stream is not TURN or the core is gone (close the connection).
async fn forward_frames(
    buf: &mut Vec<u8>,
    transport: Transport,
    local: SocketAddr,
    peer: SocketAddr,
    tx: &CoreTx,
) -> bool {
    loop {
        match wire::stream_frame_len(buf) {
            Ok(Some(len)) if len > MAX_TCP_FRAME => return false,
            Ok(Some(len)) if len <= buf.len() => {
                let data: Vec<u8> = buf.drain(..len).collect();
                let input = Input {
                    transport,
                    local,
                    remote: peer,
                    data,
                };
                if tx.send(Msg::Input(input)).await.is_err() {
                    return false;
                }
            }
            Ok(_) => return true,
            Err(_) => return false,
        }
    }
}

/// TURN over TLS (RFC 8656 section 3.1): the same framing as TCP inside a rustls session.
/// One task does both directions, so the session is never shared.
async fn tls_connection(
    mut stream: TcpStream,
    local: SocketAddr,
    peer: SocketAddr,
    tx: CoreTx,
    idle: Duration,
    config: Arc<rustls::ServerConfig>,
) {
    use std::io::{Read, Write};
    let Ok(mut conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(TCP_OUT_QUEUE);
    if tx.send(Msg::TcpOpen(peer, out_tx)).await.is_err() {
        return;
    }
    let mut plain: Vec<u8> = Vec::with_capacity(4_096);
    let mut chunk = vec![0u8; 16_384];
    let mut tls_out: Vec<u8> = Vec::with_capacity(16_384);
    loop {
        // Flush whatever the session wants to send.
        while conn.wants_write() {
            tls_out.clear();
            if conn.write_tls(&mut tls_out).is_err() || stream.write_all(&tls_out).await.is_err() {
                return;
            }
        }
        tokio::select! {
            r = tokio::time::timeout(idle, stream.read(&mut chunk)) => {
                let n = match r {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                    Ok(Ok(n)) => n,
                };
                let mut rd = chunk.get(..n).unwrap_or_default();
                while !rd.is_empty() {
                    if conn.read_tls(&mut rd).is_err() {
                        return;
                    }
                    if conn.process_new_packets().is_err() {
                        // Send the alert, then close.
                        tls_out.clear();
                        let _ = conn.write_tls(&mut tls_out);
                        let _ = stream.write_all(&tls_out).await;
                        return;
                    }
                }
                let mut tmp = [0u8; 4_096];
                loop {
                    match conn.reader().read(&mut tmp) {
                        Ok(0) => break,
                        Ok(k) => plain.extend_from_slice(tmp.get(..k).unwrap_or_default()),
                        Err(_) => break,
                    }
                }
                if plain.len() > 4 * MAX_TCP_FRAME
                    || !forward_frames(&mut plain, Transport::Tls, local, peer, &tx).await
                {
                    return;
                }
            }
            frame = out_rx.recv() => {
                let Some(frame) = frame else { return };
                if conn.writer().write_all(&frame).is_err() {
                    return;
                }
            }
        }
    }
}

/// RFC 8656 section 12.5: STUN messages and padded ChannelData back to back on the stream.
async fn tcp_connection(
    stream: TcpStream,
    local: SocketAddr,
    peer: SocketAddr,
    tx: CoreTx,
    idle: Duration,
) {
    let (mut rd, mut wr) = stream.into_split();
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(TCP_OUT_QUEUE);
    if tx.send(Msg::TcpOpen(peer, out_tx)).await.is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = out_rx.recv().await {
            if wr.write_all(&frame).await.is_err() {
                return;
            }
        }
    });
    let mut buf: Vec<u8> = Vec::with_capacity(4_096);
    let mut chunk = [0u8; 4_096];
    'conn: loop {
        loop {
            match wire::stream_frame_len(&buf) {
                Ok(Some(len)) if len > MAX_TCP_FRAME => break 'conn,
                Ok(Some(len)) if len <= buf.len() => {
                    let data: Vec<u8> = buf.drain(..len).collect();
                    let input = Input {
                        transport: Transport::Tcp,
                        local,
                        remote: peer,
                        data,
                    };
                    if tx.send(Msg::Input(input)).await.is_err() {
                        break 'conn;
                    }
                }
                Ok(_) => break,
                Err(_) => break 'conn,
            }
        }
        match tokio::time::timeout(idle, rd.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    writer.abort();
}
