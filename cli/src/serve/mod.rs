//! `sansrtc serve`: the servers WebRTC needs around it, in one process.
//!
//! - HTTP on TCP: `GET /` (the demo page, embedded), `GET /health`, `POST /echo` (the echo
//!   bot: an offer in, the answer of a server-side sansrtc PeerConnection out).
//! - WebSocket signaling at `/ws` ([`signaling`]): rooms, relay of any JSON message.
//! - WebSocket gateway at `/gateway` ([`engine`]): any program drives a server-side
//!   PeerConnection with JSON commands and receives its events.
//! - STUN Binding over UDP on the same port number (the `stun-server` UDP loop), or with
//!   `--turn` a TURN server there ([`turn`]: the `turn-server` engine, which answers Binding
//!   too) and `GET /ice-servers` handing out time-limited TURN credentials.
//!
//! Every client, room, session, message and queue has a cap (see [`Args`]); Ctrl-C or SIGTERM
//! closes every WebSocket with a `shutdown` message, closes every PeerConnection (DTLS
//! close_notify) and exits.

mod engine;
mod signaling;
mod turn;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State, WebSocketUpgrade};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sansrtc_stun::server::{BindingServer, ServerConfig};
use serde_json::json;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, watch};

use sansrtc_turn::policy::Cidr;

use crate::stun_server;
use crate::turn_server::parse_range;

/// The demo page, served at `/`.
const INDEX_HTML: &str = include_str!("../../web/index.html");

/// Arguments of `sansrtc serve`.
#[derive(clap::Args, Debug, Clone)]
#[command(after_help = "\
Endpoints (all on --listen; HTTP/1.1 and WebSocket on TCP, STUN on UDP):
  GET  /          the demo page: echo test against the server's engine, and browser rooms
  GET  /health    {\"ok\":true, \"sessions\":N, \"rooms\":N, \"clients\":N, \"stun\":PORT|null,
                   \"turn\":{\"port\":PORT,\"allocations\":N,\"created\":N}|null}
  GET  /ice-servers  the page's RTCConfiguration.iceServers, fetched before each connection:
                  {\"iceServers\":[{\"urls\":[\"stun:IP:PORT\"]}]} and with --turn
                  {\"iceServers\":[{\"urls\":[\"stun:IP:PORT\"]},{\"urls\":[\"turn:IP:PORT?transport=udp\",
                   \"turn:IP:PORT?transport=tcp\"],
                   \"username\":\"EXPIRY:NAME\",\"credential\":\"BASE64\"}],\"ttl\":SECONDS}
                  (IP is --rtc-ip; credential = base64(HMAC-SHA1(--turn-secret, username)),
                  coturn's TURN REST API scheme, valid until EXPIRY in Unix seconds)
  POST /echo      {\"type\":\"offer\",\"sdp\":\"...\"} -> {\"type\":\"answer\",\"sdp\":\"...\",\"session\":\"e1\"}
                  (non-trickle offer: wait for ICE gathering to complete). The server answers
                  with its own sansrtc PeerConnection that echoes every data channel message
                  (text as text, binary as binary) on the channel it came from.
  WS   /ws        signaling, JSON text frames:
                  -> {\"type\":\"join\",\"room\":\"NAME\"}  <- {\"type\":\"joined\",\"room\",\"id\":\"p7\",\"peers\":[..]}
                  -> {\"type\":\"leave\"}               <- {\"type\":\"left\",\"room\"}
                  -> any other {\"type\":..., \"to\":\"p3\"?, ...}: relayed unchanged plus \"from\":\"p7\"
                     to member \"to\", or to every other member of the room without \"to\"
                  <- {\"type\":\"peer_joined\",\"id\"} / {\"type\":\"peer_left\",\"id\"}
                  <- {\"type\":\"error\",\"code\":\"...\",\"message\":\"...\"}; codes: bad_json,
                     bad_request, not_joined, already_joined, bad_room, room_full, too_many_rooms,
                     unknown_peer, too_large, rate_limited, queue_full, server_full
                  <- {\"type\":\"shutdown\"} then close 1001 when the server stops
                  Room names: 1-64 of A-Z a-z 0-9 _ - . ; peer ids are given by the server.
  WS   /gateway   one server-side sansrtc PeerConnection per WebSocket (JSON text frames):
                  -> {\"type\":\"create_channel\",\"label\":\"x\",\"protocol\":\"\",\"ordered\":true,
                      \"max_retransmits\":N?, \"max_packet_lifetime\":MS?}
                  -> {\"type\":\"create_offer\"}         <- {\"type\":\"offer\",\"sdp\"}
                  -> {\"type\":\"accept_offer\",\"sdp\"}  <- {\"type\":\"answer\",\"sdp\"}
                  -> {\"type\":\"set_answer\",\"sdp\"}    <- {\"type\":\"ok\",\"op\":\"set_answer\"}
                  -> {\"type\":\"add_candidate\",\"candidate\":\"candidate:...\"}  (\"\" = end of candidates)
                  -> {\"type\":\"send\",\"channel\":ID,\"text\":\"...\"}  (text message)
                  -> binary frame [channel id: u16 big-endian][payload]  (binary message)
                  -> {\"type\":\"close_channel\",\"channel\":ID}
                  -> {\"type\":\"close\"}  (DTLS close_notify, then the server closes the socket)
                  <- {\"type\":\"hello\",\"session\":\"g1\",\"local\":\"IP:PORT\"} first
                  <- {\"type\":\"ice_state\",\"state\":\"checking|connected|disconnected|failed|closed\"}
                  <- {\"type\":\"selected_pair\",\"local\",\"remote\"}, {\"type\":\"dtls_connected\"},
                     {\"type\":\"sctp_connected\"}, {\"type\":\"closed\",\"reason\"}
                  <- {\"type\":\"channel_open\",\"channel\":ID,\"label\",\"protocol\"},
                     {\"type\":\"channel_closed\",\"channel\":ID}, {\"type\":\"buffered_low\",\"channel\":ID}
                  <- {\"type\":\"message\",\"channel\":ID,\"text\":\"...\"}, or a binary frame
                     [channel id: u16 big-endian][payload] for a binary message
                  <- {\"type\":\"ok\",\"op\"} / {\"type\":\"error\",\"code\",\"message\",\"op\"?}
                  Every command may carry \"req\": any JSON value, copied into its reply.
                  Our candidates are inside the offer/answer (non-trickle); the peer's may
                  come in the SDP or one by one with add_candidate. A peer description that
                  announces a=ice-options:trickle without a=end-of-candidates (browsers) keeps
                  ICE from failing for want of candidates until add_candidate \"\".

TURN (--turn): RFC 8656 over UDP and TCP on the --listen port (each TCP connection is sorted
by its first byte: STUN goes to TURN, the rest to HTTP); no TURN over TLS here (run `sansrtc
turn-server --cert` for that). Relayed addresses are on --rtc-ip. Peers that are loopback,
private, link-local or the server's own addresses are refused (403) unless --turn-allow-peer
lists them. A credential is refused once expired, Refresh included: make --turn-ttl longer
than the longest relayed call. Add ?relay=1 (or ?relay=tcp) to the page URL to make the
browser use relayed candidates only (over TURN/TCP only).

Examples:
  sansrtc serve --listen 127.0.0.1:8080            # then open http://127.0.0.1:8080/
  sansrtc serve --listen 0.0.0.0:8080 --rtc-ip 192.0.2.10 --max-sessions 20
  sansrtc serve --listen 0.0.0.0:8080 --rtc-ip 192.0.2.10 --turn --turn-ttl 86400")]
pub struct Args {
    /// Address for HTTP/WebSocket (TCP) and STUN (UDP, same port). Port 0 picks a free port,
    /// the same one for both.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Do not serve STUN Binding on UDP.
    #[arg(long)]
    pub no_stun: bool,
    /// Serve TURN (RFC 8656, UDP and TCP) on the --listen port instead of plain STUN (TURN
    /// answers Binding too), with credentials from GET /ice-servers.
    #[arg(long, conflicts_with = "no_stun")]
    pub turn: bool,
    /// Shared secret of the TURN credentials (coturn's static-auth-secret), e.g. to let
    /// another service issue them. Default: random at each start.
    #[arg(long, value_name = "SECRET", requires = "turn")]
    pub turn_secret: Option<String>,
    /// Seconds a credential from /ice-servers stays valid (an allocation made with it can
    /// be refreshed only that long).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, requires = "turn", value_parser = clap::value_parser!(u64).range(10..=7 * 86_400))]
    pub turn_ttl: u64,
    /// TURN realm.
    #[arg(
        long,
        value_name = "REALM",
        default_value = "sansrtc",
        requires = "turn"
    )]
    pub turn_realm: String,
    /// Range of TURN relay ports, `A-B`.
    #[arg(long, value_name = "A-B", default_value = "49152-65535", value_parser = parse_range, requires = "turn")]
    pub turn_relay_ports: (u16, u16),
    /// Let TURN relay to this block even if the default policy denies it (repeatable), e.g.
    /// `127.0.0.0/8` for tests on loopback.
    #[arg(long = "turn-allow-peer", value_name = "CIDR", requires = "turn")]
    pub turn_allow_peer: Vec<Cidr>,
    /// Most TURN allocations at once (508 beyond).
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "turn", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub turn_max_allocations: u32,
    /// Log every TURN allocation created and closed.
    #[arg(long, requires = "turn")]
    pub turn_verbose: bool,
    /// IP address the server's PeerConnections (gateway, echo bot) bind their UDP sockets to
    /// and announce as host candidate. Default: the --listen IP, or 127.0.0.1 when --listen
    /// is a wildcard address (set it to a reachable address to serve other machines).
    #[arg(long, value_name = "IP")]
    pub rtc_ip: Option<IpAddr>,
    /// Most server-side PeerConnections at once (gateway sessions plus echo bots).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_sessions: u32,
    /// Most bytes queued per gateway session: toward its WebSocket client (a slower client is
    /// disconnected with error `slow_consumer`) and on each data channel (a send beyond it is
    /// refused with error `buffer_full`).
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    pub max_queued_bytes: u64,
    /// Seconds an echo bot may take to connect (SCTP up) before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    /// Seconds an echo bot may receive nothing before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub idle_timeout: u64,
    /// Most signaling WebSocket clients (/ws) at once.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_clients: u32,
    /// Most signaling rooms at once.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_rooms: u32,
    /// Most members in one room.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_room_members: u32,
    /// Largest signaling message (bytes). Larger ones are refused with error `too_large`;
    /// one above twice this closes the WebSocket (1009).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024, value_parser = clap::value_parser!(u32).range(256..=16 << 20))]
    pub max_message_size: u32,
    /// Signaling messages per second per client (burst: the same number); beyond, messages
    /// are refused with error `rate_limited`.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_messages_per_second: u32,
}

/// Counters printed at shutdown.
#[derive(Default)]
struct Counters {
    ws_clients: AtomicU64,
    relayed: AtomicU64,
    refused: AtomicU64,
    sessions: AtomicU64,
    sessions_refused: AtomicU64,
    echoed: AtomicU64,
}

/// What every handler shares.
struct Shared {
    args: Args,
    rtc_ip: IpAddr,
    stun_port: Option<u16>,
    turn: Option<turn::Turn>,
    rooms: signaling::Rooms,
    clients: Arc<Semaphore>,
    sessions: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
    counters: Counters,
    next_id: AtomicU64,
}

impl Shared {
    fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Runs the servers until Ctrl-C / SIGTERM.
pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sansrtc serve: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

async fn bind(args: &Args) -> Result<(TcpListener, Option<UdpSocket>), String> {
    // Port 0: take the port TCP got for UDP too (retry if UDP has it taken).
    for _ in 0..16 {
        let tcp = TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot bind TCP {}: {e}", args.listen))?;
        if args.no_stun {
            return Ok((tcp, None));
        }
        let mut udp_addr = args.listen;
        udp_addr.set_port(tcp.local_addr().map_err(|e| e.to_string())?.port());
        match UdpSocket::bind(udp_addr).await {
            Ok(u) => return Ok((tcp, Some(u))),
            Err(_) if args.listen.port() == 0 => continue,
            Err(e) => return Err(format!("cannot bind UDP {udp_addr}: {e}")),
        }
    }
    Err(format!(
        "no port free for both TCP and UDP on {}",
        args.listen.ip()
    ))
}

async fn serve(args: Args) -> ExitCode {
    let (tcp, udp) = match bind(&args).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sansrtc serve: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(tcp_addr) = tcp.local_addr() else {
        eprintln!("sansrtc serve: no local address");
        return ExitCode::FAILURE;
    };
    let udp_addr = udp.as_ref().and_then(|u| u.local_addr().ok());
    let rtc_ip = args.rtc_ip.unwrap_or(if args.listen.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        args.listen.ip()
    });
    // With --turn the TURN engine takes the UDP socket (it answers Binding too).
    let (udp, turn) = match udp {
        Some(u) if args.turn => {
            match u
                .into_std()
                .map_err(|e| e.to_string())
                .and_then(|u| turn::start(&args, u, rtc_ip))
            {
                Ok(t) => (None, Some(t)),
                Err(e) => {
                    eprintln!("sansrtc serve: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        other => (other, None),
    };
    eprintln!(
        "sansrtc serve: listening on tcp {tcp_addr} (http://{tcp_addr}/, ws /ws, ws /gateway{}){}, rtc ip {rtc_ip}",
        if turn.is_some() { ", turn" } else { "" },
        udp_addr.map_or(String::new(), |a| format!(
            " and udp {a} ({})",
            if turn.is_some() {
                "turn and stun"
            } else {
                "stun"
            }
        ))
    );
    if turn.is_some() {
        eprintln!(
            "sansrtc serve: turn realm {}, relay {rtc_ip} ports {}-{}, credentials from /ice-servers valid {} s",
            args.turn_realm, args.turn_relay_ports.0, args.turn_relay_ports.1, args.turn_ttl
        );
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        rtc_ip,
        stun_port: udp_addr.map(|a| a.port()),
        turn,
        rooms: signaling::Rooms::default(),
        clients: Arc::new(Semaphore::new(args.max_clients as usize)),
        sessions: Arc::new(Semaphore::new(args.max_sessions as usize)),
        shutdown: stop_rx,
        counters: Counters::default(),
        next_id: AtomicU64::new(0),
        args,
    });

    let stun_counters = Arc::new(stun_server::Counters::default());
    let stun_task = udp.map(|s| {
        let config = ServerConfig {
            software: Some(concat!("sansrtc ", env!("CARGO_PKG_VERSION")).to_owned()),
            ..ServerConfig::default()
        };
        tokio::spawn(stun_server::udp_loop(
            s,
            BindingServer::new(config),
            stun_counters.clone(),
        ))
    });

    let app = Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .route("/ice-servers", get(ice_servers))
        .route("/echo", post(echo).layer(DefaultBodyLimit::max(64 * 1024)))
        .route("/ws", get(ws_signaling))
        .route("/gateway", get(ws_gateway))
        .with_state(shared.clone());

    let mut stop_wait = shared.shutdown.clone();
    let graceful = async move {
        let _ = stop_wait.wait_for(|s| *s).await;
    };
    // With TURN, TCP connections are sorted first: TURN over TCP or HTTP.
    let (http, sorter) = match &shared.turn {
        Some(t) => match turn::demux(tcp, t) {
            Ok((conns, sorter)) => (
                tokio::spawn(async move {
                    axum::serve(conns, app)
                        .with_graceful_shutdown(graceful)
                        .await
                }),
                Some(sorter),
            ),
            Err(e) => {
                eprintln!("sansrtc serve: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => (
            tokio::spawn(
                async move { axum::serve(tcp, app).with_graceful_shutdown(graceful).await },
            ),
            None,
        ),
    };

    let reason = stun_server::shutdown_signal().await;
    let _ = stop_tx.send(true);
    if let Some(s) = sorter {
        s.abort();
    }
    // WebSockets and PeerConnections see the signal and close; give them a bounded moment
    // (every permit back means every session and client is gone).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let all_back = async {
        let _s = shared.sessions.acquire_many(shared.args.max_sessions).await;
        let _c = shared.clients.acquire_many(shared.args.max_clients).await;
    };
    let drained = tokio::time::timeout_at(deadline, all_back).await.is_ok();
    let _ = tokio::time::timeout_at(deadline, http).await;
    if let Some(t) = stun_task {
        t.abort();
    }
    let turn_summary = match &shared.turn {
        Some(t) => match t.stop(reason).await {
            Ok(s) => format!("; turn: {s}"),
            Err(e) => format!("; turn: {e}"),
        },
        None => String::new(),
    };
    let c = &shared.counters;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    eprintln!(
        "sansrtc serve: {reason}, shutting down ({}; signaling: {} clients, {} messages relayed, {} refused; sessions: {} started, {} refused, {} messages echoed; stun: {} datagrams, {} answered{turn_summary})",
        if drained {
            "all connections closed"
        } else {
            "some connections did not close in time"
        },
        get(&c.ws_clients),
        get(&c.relayed),
        get(&c.refused),
        get(&c.sessions),
        get(&c.sessions_refused),
        get(&c.echoed),
        get(&stun_counters.udp_in),
        get(&stun_counters.udp_answered),
    );
    ExitCode::SUCCESS
}

/// Resolves once the server is stopping (the watch guard is dropped inside, so the caller's
/// future stays `Send`).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let sessions = shared.args.max_sessions as usize - shared.sessions.available_permits();
    let clients = shared.args.max_clients as usize - shared.clients.available_permits();
    json_response(
        StatusCode::OK,
        &json!({
            "ok": true,
            "version": env!("CARGO_PKG_VERSION"),
            "sessions": sessions,
            "clients": clients,
            "rooms": shared.rooms.len(),
            "stun": shared.stun_port,
            "turn": shared.turn.as_ref().map(|t| {
                let (alive, created) = t.allocations();
                json!({"port": t.port(), "allocations": alive, "created": created})
            }),
        }),
    )
}

async fn ice_servers(State(shared): State<Arc<Shared>>) -> Response {
    let name = format!("web{}", shared.next_id());
    let body = turn::ice_servers(shared.rtc_ip, shared.stun_port, shared.turn.as_ref(), &name);
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            // A credential: never cached.
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"type": "error", "code": code, "message": message}),
    )
}

async fn echo(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return json_error(StatusCode::BAD_REQUEST, "bad_json", "body is not JSON");
    };
    let Some(sdp) = v.get("sdp").and_then(|s| s.as_str()) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "want {\"type\":\"offer\",\"sdp\":\"...\"}",
        );
    };
    match engine::start_echo(&shared, sdp).await {
        Ok((session, answer)) => json_response(
            StatusCode::OK,
            &json!({"type": "answer", "sdp": answer, "session": session}),
        ),
        Err(engine::StartError::Full) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_full",
            "too many sessions (--max-sessions)",
        ),
        Err(engine::StartError::Shutdown) => json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutdown",
            "the server is shutting down",
        ),
        Err(engine::StartError::Other(m)) => json_error(StatusCode::BAD_REQUEST, "bad_offer", &m),
    }
}

async fn ws_signaling(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let cap = shared.args.max_message_size as usize * 2;
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| signaling::client(socket, shared))
}

async fn ws_gateway(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    // A binary message is at most the announced a=max-message-size plus the 2-byte header;
    // JSON adds escaping, hence some room.
    let cap = 2 * (engine::MAX_MESSAGE + 1024);
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| engine::gateway(socket, shared))
}
