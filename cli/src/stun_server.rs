//! `sansrtc stun-server`: STUN Binding (RFC 8489) over UDP and TCP on one address.
//!
//! The protocol work is `sansrtc_stun::server::BindingServer` (sans-IO); this module only owns
//! the sockets, the TCP framing loop, limits, and shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sansrtc_stun::framing;
use sansrtc_stun::server::{BindingServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

/// Arguments of `sansrtc stun-server`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Answers Binding requests with XOR-MAPPED-ADDRESS (the address the request came from), \
400 for malformed requests and 420 for unknown comprehension-required attributes; anything \
that is not a STUN request is dropped. Ctrl-C or SIGTERM stops it and prints counters.

Example:
  sansrtc stun-server --listen 127.0.0.1:3478")]
pub struct Args {
    /// Address to listen on, for UDP and TCP alike (IPv4 `127.0.0.1:3478` or IPv6
    /// `[::1]:3478`). Port 0 picks a free port, the same one for UDP and TCP.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:3478")]
    pub listen: SocketAddr,
    /// Do not serve UDP.
    #[arg(long, conflicts_with = "no_tcp")]
    pub no_udp: bool,
    /// Do not serve TCP.
    #[arg(long)]
    pub no_tcp: bool,
    /// Value of the SOFTWARE attribute in responses; an empty string leaves it out.
    #[arg(long, value_name = "TEXT", default_value = concat!("sansrtc ", env!("CARGO_PKG_VERSION")))]
    pub software: String,
    /// Most TCP connections served at once; further ones are closed on accept.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_tcp_connections: u32,
    /// Seconds a TCP connection may stay idle before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub tcp_idle_timeout: u64,
}

/// Counters shared by the UDP loop and the TCP connections, printed at shutdown.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) udp_in: AtomicU64,
    pub(crate) udp_answered: AtomicU64,
    tcp_connections: AtomicU64,
    tcp_refused: AtomicU64,
    tcp_answered: AtomicU64,
    tcp_closed_bad_framing: AtomicU64,
}

/// Largest STUN message accepted on TCP; a longer length field closes the connection.
const MAX_TCP_MESSAGE: usize = 65_535 + 20;

fn server_config(args: &Args) -> ServerConfig {
    ServerConfig {
        software: (!args.software.is_empty()).then(|| args.software.clone()),
        ..ServerConfig::default()
    }
}

/// Runs the server until Ctrl-C / SIGTERM.
pub fn run(args: Args) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sansrtc stun-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(args))
}

async fn bind(args: &Args) -> Result<(Option<UdpSocket>, Option<TcpListener>), String> {
    // Port 0: take the port UDP got for TCP too (retry a few times if TCP has it taken).
    for _ in 0..16 {
        let udp = if args.no_udp {
            None
        } else {
            Some(
                UdpSocket::bind(args.listen)
                    .await
                    .map_err(|e| format!("cannot bind UDP {}: {e}", args.listen))?,
            )
        };
        let mut tcp_addr = args.listen;
        if let Some(u) = &udp {
            tcp_addr.set_port(u.local_addr().map_err(|e| e.to_string())?.port());
        }
        if args.no_tcp {
            return Ok((udp, None));
        }
        match TcpListener::bind(tcp_addr).await {
            Ok(t) => return Ok((udp, Some(t))),
            Err(_) if args.listen.port() == 0 && udp.is_some() => continue,
            Err(e) => return Err(format!("cannot bind TCP {tcp_addr}: {e}")),
        }
    }
    Err(format!(
        "no port free for both UDP and TCP on {}",
        args.listen.ip()
    ))
}

async fn serve(args: Args) -> ExitCode {
    let (udp, tcp) = match bind(&args).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sansrtc stun-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut listening = Vec::new();
    if let Some(Ok(a)) = udp.as_ref().map(UdpSocket::local_addr) {
        listening.push(format!("udp {a}"));
    }
    if let Some(Ok(a)) = tcp.as_ref().map(TcpListener::local_addr) {
        listening.push(format!("tcp {a}"));
    }
    eprintln!(
        "sansrtc stun-server: listening on {}",
        listening.join(" and ")
    );

    let counters = Arc::new(Counters::default());
    let config = server_config(&args);
    let udp_task = udp.map(|s| {
        tokio::spawn(udp_loop(
            s,
            BindingServer::new(config.clone()),
            counters.clone(),
        ))
    });
    let tcp_task = tcp.map(|l| {
        tokio::spawn(tcp_accept_loop(
            l,
            config.clone(),
            counters.clone(),
            Arc::new(Semaphore::new(args.max_tcp_connections as usize)),
            Duration::from_secs(args.tcp_idle_timeout),
        ))
    });

    let reason = shutdown_signal().await;
    for task in [udp_task, tcp_task].into_iter().flatten() {
        task.abort();
    }
    let c = &counters;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    eprintln!(
        "sansrtc stun-server: {reason}, shutting down (udp: {} datagrams, {} answered; tcp: {} connections, {} refused, {} answered, {} closed for bad framing)",
        get(&c.udp_in),
        get(&c.udp_answered),
        get(&c.tcp_connections),
        get(&c.tcp_refused),
        get(&c.tcp_answered),
        get(&c.tcp_closed_bad_framing),
    );
    ExitCode::SUCCESS
}

pub(crate) async fn shutdown_signal() -> &'static str {
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

pub(crate) async fn udp_loop(
    socket: UdpSocket,
    mut server: BindingServer,
    counters: Arc<Counters>,
) {
    let mut buf = vec![0u8; 65_536];
    let mut out = vec![0u8; 1_500];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors surface as recv errors on some platforms: keep serving.
            Err(_) => continue,
        };
        counters.udp_in.fetch_add(1, Ordering::Relaxed);
        let Some(request) = buf.get(..n) else {
            continue;
        };
        if let Some(len) = server.handle(request, from, &mut out)
            && let Some(resp) = out.get(..len)
            && socket.send_to(resp, from).await.is_ok()
        {
            counters.udp_answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn tcp_accept_loop(
    listener: TcpListener,
    config: ServerConfig,
    counters: Arc<Counters>,
    slots: Arc<Semaphore>,
    idle: Duration,
) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            // Out of descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            counters.tcp_refused.fetch_add(1, Ordering::Relaxed);
            drop(stream);
            continue;
        };
        counters.tcp_connections.fetch_add(1, Ordering::Relaxed);
        let server = BindingServer::new(config.clone());
        let counters = counters.clone();
        tokio::spawn(async move {
            tcp_connection(stream, peer, server, &counters, idle).await;
            drop(permit);
        });
    }
}

/// RFC 8489 6.2.2: STUN messages back to back on the stream, each framed by its own header.
async fn tcp_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    mut server: BindingServer,
    counters: &Counters,
    idle: Duration,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(2_048);
    let mut chunk = [0u8; 4_096];
    let mut out = vec![0u8; 1_500];
    loop {
        // Answer every complete message at the front of the buffer.
        loop {
            match framing::message_len(&buf) {
                Ok(Some(len)) if len > MAX_TCP_MESSAGE => {
                    counters
                        .tcp_closed_bad_framing
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Ok(Some(len)) if len <= buf.len() => {
                    let answer = buf
                        .get(..len)
                        .and_then(|m| server.handle(m, peer, &mut out))
                        .and_then(|n| out.get(..n));
                    if let Some(resp) = answer {
                        if stream.write_all(resp).await.is_err() {
                            return;
                        }
                        counters.tcp_answered.fetch_add(1, Ordering::Relaxed);
                    }
                    buf.drain(..len);
                }
                Ok(_) => break,
                Err(_) => {
                    counters
                        .tcp_closed_bad_framing
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        match tokio::time::timeout(idle, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}
