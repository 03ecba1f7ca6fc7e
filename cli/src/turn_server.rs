//! `sansrtc turn-server`: a TURN server (RFC 8656) over UDP, TCP and TLS (rustls, with
//! `--cert`/`--key`), with STUN Binding on the same port.
//!
//! The protocol work is `sansrtc_turn::server::Server` (sans-IO); this module owns the
//! sockets (the listening UDP socket, one UDP socket per relayed address, TCP
//! connections), the TCP framing loop, the timer, limits and shutdown. One task owns the
//! server core; every socket task feeds it through one bounded channel.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sansrtc_turn::auth::{AnyOf, CredentialStore, StaticUsers, TimeLimitedCredentials};
use sansrtc_turn::policy::{Cidr, PeerPolicy};
use sansrtc_turn::server::{FiveTuple, Server, ServerConfig, ServerEvent, Transport};
use sansrtc_turn::wire;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
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

fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').ok_or("expected A-B")?;
    let a: u16 = a.trim().parse().map_err(|e| format!("{a}: {e}"))?;
    let b: u16 = b.trim().parse().map_err(|e| format!("{b}: {e}"))?;
    if a == 0 || a > b {
        return Err("need 1 <= A <= B".into());
    }
    Ok((a, b))
}

/// One datagram or stream frame for the server core.
struct Input {
    transport: Transport,
    local: SocketAddr,
    remote: SocketAddr,
    data: Vec<u8>,
}

enum Msg {
    Input(Input),
    Batch(Vec<Input>),
    TcpOpen(SocketAddr, mpsc::Sender<Vec<u8>>),
    TcpClosed(FiveTuple),
}

/// Most inputs queued for the core; socket tasks wait when it is full (backpressure).
const INPUT_QUEUE: usize = 8192;
/// Most datagrams read from one socket per wakeup.
const UDP_BATCH: usize = 64;
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
        Some(Arc::new(UdpSocket::bind(args.listen).await.map_err(
            |e| format!("cannot bind UDP {}: {e}", args.listen),
        )?))
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
    let mut server = Server::new(config, start).map_err(|e| e.to_string())?;

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

    let (tx, mut rx) = mpsc::channel::<Msg>(INPUT_QUEUE);
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    let slots = Arc::new(Semaphore::new(args.max_tcp_connections as usize));
    if let Some(l) = tcp {
        tasks.push(tokio::spawn(tcp_accept_loop(
            l,
            listen,
            tx.clone(),
            slots.clone(),
            Duration::from_secs(args.tcp_idle_timeout),
            None,
        )));
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let tls = tls_config(cert, key)?;
        let addr = args
            .tls_listen
            .unwrap_or_else(|| SocketAddr::new(listen.ip(), 5349));
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot bind TLS {addr}: {e}"))?;
        let addr = l.local_addr().map_err(|e| e.to_string())?;
        eprintln!("sansrtc turn-server: listening on tls {addr}");
        tasks.push(tokio::spawn(tcp_accept_loop(
            l,
            addr,
            tx.clone(),
            slots,
            Duration::from_secs(args.tcp_idle_timeout),
            Some(tls),
        )));
    }

    let mut relays: HashMap<SocketAddr, (Arc<UdpSocket>, JoinHandle<()>)> = HashMap::new();
    let mut tcp_conns: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut created = 0u64;
    let mut relay_bind_failures = 0u64;
    let mut send_errors = 0u64;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let far = || tokio::time::Instant::now() + Duration::from_secs(3600);
    let mut armed = far();
    let sleep = tokio::time::sleep_until(armed);
    tokio::pin!(sleep);
    let mut rbuf = vec![0u8; 65_536];
    let reason = loop {
        let deadline = server
            .poll_timeout()
            .map(tokio::time::Instant::from_std)
            .unwrap_or_else(far);
        // Re-arm the timer only when the deadline moves (not once per packet).
        if deadline < armed || armed <= tokio::time::Instant::now() {
            armed = deadline;
            sleep.as_mut().reset(deadline);
        }
        tokio::select! {
            reason = &mut shutdown => break reason,
            Ok(()) = readable(udp.as_deref()) => {
                // The listening socket is read here directly, in batches, without a copy.
                if let Some(u) = &udp {
                    let now = Instant::now();
                    for _ in 0..UDP_BATCH {
                        match u.try_recv_from(&mut rbuf) {
                            Ok((n, from)) => server.handle_receive(
                                now,
                                Transport::Udp,
                                listen,
                                from,
                                rbuf.get(..n).unwrap_or_default(),
                            ),
                            Err(_) => break,
                        }
                    }
                }
            }
            msg = rx.recv() => {
                let Some(msg) = msg else { break "input closed" };
                let now = Instant::now();
                match msg {
                    Msg::Input(i) => server.handle_receive(now, i.transport, i.local, i.remote, &i.data),
                    Msg::Batch(b) => {
                        for i in b {
                            server.handle_receive(now, i.transport, i.local, i.remote, &i.data);
                        }
                    }
                    Msg::TcpOpen(peer, out) => { tcp_conns.insert(peer, out); }
                    Msg::TcpClosed(ft) => {
                        tcp_conns.remove(&ft.client);
                        server.deallocate(&ft);
                    }
                }
                // Drain whatever else is already queued before flushing (batching).
                for _ in 0..256 {
                    match rx.try_recv() {
                        Ok(Msg::Input(i)) => server.handle_receive(now, i.transport, i.local, i.remote, &i.data),
                        Ok(Msg::Batch(b)) => {
                            for i in b {
                                server.handle_receive(now, i.transport, i.local, i.remote, &i.data);
                            }
                        }
                        Ok(Msg::TcpOpen(peer, out)) => { tcp_conns.insert(peer, out); }
                        Ok(Msg::TcpClosed(ft)) => {
                            tcp_conns.remove(&ft.client);
                            server.deallocate(&ft);
                        }
                        Err(_) => break,
                    }
                }
            }
            () = &mut sleep => {
                armed = far();
                sleep.as_mut().reset(armed);
                server.handle_timeout(Instant::now());
            }
        }
        // Events first: relayed sockets must exist before data can flow through them.
        while let Some(ev) = server.poll_event() {
            match ev {
                ServerEvent::AllocationCreated {
                    five_tuple,
                    relayed,
                    username,
                } => {
                    created += 1;
                    let mut ok = true;
                    for r in &relayed {
                        match std::net::UdpSocket::bind(r).and_then(|s| {
                            s.set_nonblocking(true)?;
                            UdpSocket::from_std(s)
                        }) {
                            Ok(sock) => {
                                let sock = Arc::new(sock);
                                let task =
                                    tokio::spawn(udp_recv_loop(sock.clone(), *r, tx.clone()));
                                relays.insert(*r, (sock, task));
                            }
                            Err(e) => {
                                eprintln!("sansrtc turn-server: cannot bind relay {r}: {e}");
                                relay_bind_failures += 1;
                                ok = false;
                            }
                        }
                    }
                    if !ok {
                        server.deallocate(&five_tuple);
                    } else if args.verbose {
                        eprintln!(
                            "sansrtc turn-server: allocation for {username} from {} ({:?}): relayed {:?}",
                            five_tuple.client, five_tuple.transport, relayed
                        );
                    }
                }
                ServerEvent::AllocationClosed {
                    five_tuple,
                    relayed,
                    expired,
                } => {
                    for r in &relayed {
                        if let Some((_, task)) = relays.remove(r) {
                            task.abort();
                        }
                    }
                    if args.verbose {
                        eprintln!(
                            "sansrtc turn-server: allocation of {} closed ({})",
                            five_tuple.client,
                            if expired { "expired" } else { "deleted" }
                        );
                    }
                }
            }
        }
        while let Some(t) = server.poll_transmit() {
            match t.transport {
                Transport::Udp => {
                    let sock = if t.source == listen {
                        udp.as_ref()
                    } else {
                        relays.get(&t.source).map(|(s, _)| s)
                    };
                    let Some(sock) = sock else { continue };
                    match sock.try_send_to(&t.payload, t.destination) {
                        Ok(_) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            if sock.send_to(&t.payload, t.destination).await.is_err() {
                                send_errors += 1;
                            }
                        }
                        Err(_) => send_errors += 1,
                    }
                }
                Transport::Tcp | Transport::Tls => {
                    if let Some(out) = tcp_conns.get(&t.destination) {
                        if out.try_send(t.payload).is_err() {
                            send_errors += 1;
                        }
                    }
                }
            }
        }
    };
    for task in tasks {
        task.abort();
    }
    for (_, (_, task)) in relays.drain() {
        task.abort();
    }
    let s = server.stats();
    eprintln!(
        "sansrtc turn-server: {reason}, shutting down (allocations: {created} created, {} alive; relayed {} to peers, {} to clients; {} malformed, {} success responses, {} error responses, {} dropped without permission, {} over bandwidth, {} send errors, {} relay bind failures)",
        s.allocations,
        s.relayed_to_peer,
        s.relayed_to_client,
        s.malformed,
        s.success_responses,
        s.error_responses,
        s.dropped_no_permission,
        s.dropped_bandwidth,
        send_errors,
        relay_bind_failures,
    );
    Ok(())
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

/// Waits until the listening socket is readable (forever if there is none).
async fn readable(socket: Option<&UdpSocket>) -> std::io::Result<()> {
    match socket {
        Some(s) => s.readable().await,
        None => std::future::pending().await,
    }
}

/// Reads a relayed socket and hands what it read to the core task, in batches.
async fn udp_recv_loop(socket: Arc<UdpSocket>, local: SocketAddr, tx: mpsc::Sender<Msg>) {
    let mut buf = vec![0u8; 65_536];
    loop {
        if socket.readable().await.is_err() {
            continue;
        }
        let mut batch = Vec::new();
        while batch.len() < UDP_BATCH {
            match socket.try_recv_from(&mut buf) {
                Ok((n, from)) => batch.push(Input {
                    transport: Transport::Udp,
                    local,
                    remote: from,
                    data: buf.get(..n).unwrap_or_default().to_vec(),
                }),
                // WouldBlock ends the batch; ICMP errors surface as recv errors: skip them.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {}
            }
        }
        if batch.is_empty() {
            continue;
        }
        if tx.send(Msg::Batch(batch)).await.is_err() {
            return;
        }
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
    tx: mpsc::Sender<Msg>,
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
        let tx = tx.clone();
        let tls = tls.clone();
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
}

/// Splits complete frames off the front of `buf` and hands them to the core task; false if
/// the stream is not TURN or the core is gone (close the connection).
async fn forward_frames(
    buf: &mut Vec<u8>,
    transport: Transport,
    local: SocketAddr,
    peer: SocketAddr,
    tx: &mpsc::Sender<Msg>,
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
    tx: mpsc::Sender<Msg>,
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
    tx: mpsc::Sender<Msg>,
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
