//! Server-side sansrtc PeerConnections: the gateway (`/gateway`, driven by any program over a
//! WebSocket) and the echo bot (`POST /echo`). Each session is one tokio task that owns one
//! UDP socket on `--rtc-ip` and the `poll_transmit` / `poll_event` / `poll_timeout` loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use sansrtc::{ChannelOptions, Config, Event, IceState, PeerConnection, Reliability};
use serde_json::{Map, Value, json};
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, mpsc};

use super::Shared;

/// Largest data channel message we accept (our `a=max-message-size`).
pub(super) const MAX_MESSAGE: usize = 256 * 1024;
/// Binary frames carry the channel id in front of the payload.
const HEADER: usize = 2;
/// Largest UDP datagram we read.
const DATAGRAM: usize = 65_536;

/// Why a session could not start.
pub(super) enum StartError {
    /// `--max-sessions` reached.
    Full,
    /// The server is stopping.
    Shutdown,
    /// Socket or PeerConnection error (bad offer, ...).
    Other(String),
}

/// One server-side PeerConnection and its socket.
struct Session {
    id: String,
    pc: PeerConnection,
    socket: UdpSocket,
    local: SocketAddr,
    started: Instant,
    last_rx: Instant,
    sctp_up: bool,
    /// Set when the connection is over (closed by either side, ICE failed).
    ended: Option<String>,
    _permit: OwnedSemaphorePermit,
}

impl Session {
    async fn new(shared: &Shared, prefix: &str) -> Result<Session, StartError> {
        if *shared.shutdown.borrow() {
            return Err(StartError::Shutdown);
        }
        let Ok(permit) = shared.sessions.clone().try_acquire_owned() else {
            shared
                .counters
                .sessions_refused
                .fetch_add(1, Ordering::Relaxed);
            return Err(StartError::Full);
        };
        let socket = UdpSocket::bind(SocketAddr::new(shared.rtc_ip, 0))
            .await
            .map_err(|e| StartError::Other(format!("cannot bind UDP on {}: {e}", shared.rtc_ip)))?;
        let local = socket
            .local_addr()
            .map_err(|e| StartError::Other(e.to_string()))?;
        let now = Instant::now();
        let mut config = Config {
            max_message_size: MAX_MESSAGE as u64,
            ..Config::default()
        };
        // --max-queued-bytes bounds each association's send buffer and receive window too,
        // so one session holds at most about twice that, whatever the peer does.
        let cap = usize::try_from(shared.args.max_queued_bytes).unwrap_or(usize::MAX);
        config.sctp.max_send_buffer = cap.max(MAX_MESSAGE);
        let window = u32::try_from(cap)
            .unwrap_or(u32::MAX)
            .max(MAX_MESSAGE as u32);
        config.sctp.max_receive_window = window;
        config.sctp.initial_receive_window = config.sctp.initial_receive_window.min(window);
        let mut pc =
            PeerConnection::new(config, now).map_err(|e| StartError::Other(e.to_string()))?;
        pc.add_local_address(now, local)
            .map_err(|e| StartError::Other(e.to_string()))?;
        shared.counters.sessions.fetch_add(1, Ordering::Relaxed);
        Ok(Session {
            id: format!("{prefix}{}", shared.next_id()),
            pc,
            socket,
            local,
            started: now,
            last_rx: now,
            sctp_up: false,
            ended: None,
            _permit: permit,
        })
    }

    async fn flush_transmits(&mut self) {
        while let Some(t) = self.pc.poll_transmit() {
            // A full socket buffer or an unreachable peer loses this datagram; the protocols
            // above retransmit.
            let _ = self.socket.send_to(&t.payload, t.destination).await;
        }
    }

    /// Reads every datagram already queued on the socket without waiting.
    fn drain_socket(&mut self, buf: &mut [u8]) {
        while let Ok((n, from)) = self.socket.try_recv_from(buf) {
            if let Some(d) = buf.get(..n) {
                self.last_rx = Instant::now();
                self.pc.handle_receive(self.last_rx, self.local, from, d);
            }
        }
    }

    /// Closes the connection (SCTP SHUTDOWN, DTLS close_notify) and sends the last datagrams.
    async fn close(&mut self) {
        self.pc.close_connection(Instant::now());
        self.flush_transmits().await;
    }

    /// Bookkeeping common to both roles; returns the event back.
    fn observe(&mut self, e: &Event) {
        match e {
            Event::SctpConnected => self.sctp_up = true,
            Event::DtlsClosed { reason } => self.ended = Some(format!("dtls: {reason}")),
            Event::SctpClosed { reason } => self.ended = Some(format!("sctp: {reason}")),
            Event::IceStateChanged(IceState::Failed) => self.ended = Some("ice failed".into()),
            Event::IceStateChanged(IceState::Closed) => self.ended = Some("ice closed".into()),
            _ => {}
        }
    }
}

/// What a session does with its events and where commands come from.
enum Role {
    /// Echo every message back on its channel.
    Echo { idle: Duration, connect: Duration },
    /// Report events to a WebSocket client, take commands from it.
    Gateway {
        out: Out,
        stream: SplitStream<WebSocket>,
    },
}

/// Starts an echo bot answering `offer`; returns its session id and the answer.
pub(super) async fn start_echo(
    shared: &Arc<Shared>,
    offer: &str,
) -> Result<(String, String), StartError> {
    let mut s = Session::new(shared, "e").await?;
    let now = Instant::now();
    let answer =
        s.pc.create_answer(now, offer)
            .map_err(|e| StartError::Other(format!("create_answer: {e}")))?;
    // POST /echo takes complete (non-trickle) offers: no candidate follows.
    s.pc.end_of_remote_candidates(now)
        .map_err(|e| StartError::Other(format!("end_of_remote_candidates: {e}")))?;
    let id = s.id.clone();
    let role = Role::Echo {
        idle: Duration::from_secs(shared.args.idle_timeout),
        connect: Duration::from_secs(shared.args.connect_timeout),
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        let reason = run(&mut s, role, &shared).await;
        eprintln!("sansrtc serve: echo session {} ended: {reason}", s.id);
    });
    Ok((id, answer))
}

/// Serves one `/gateway` WebSocket: one PeerConnection for its whole life.
pub(super) async fn gateway(socket: WebSocket, shared: Arc<Shared>) {
    let (mut sink, stream) = socket.split();
    let mut s = match Session::new(&shared, "g").await {
        Ok(s) => s,
        Err(e) => {
            let (code, message) = match e {
                StartError::Full => ("server_full", "too many sessions (--max-sessions)".into()),
                StartError::Shutdown => ("shutdown", "the server is shutting down".into()),
                StartError::Other(m) => ("internal", m),
            };
            let _ = sink
                .send(text(
                    json!({"type": "error", "code": code, "message": message}),
                ))
                .await;
            let _ = sink.send(close_frame(1013, code)).await;
            return;
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let queued = Arc::new(AtomicUsize::new(0));
    let writer_queued = queued.clone();
    // The writer owns the sink; the byte count bounds what waits in the channel.
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let len = message_len(&m);
            let closing = matches!(m, Message::Close(_));
            let r = sink.send(m).await;
            writer_queued.fetch_sub(len, Ordering::Relaxed);
            if r.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut out = Out {
        tx,
        queued,
        cap: usize::try_from(shared.args.max_queued_bytes).unwrap_or(usize::MAX),
        overflow: false,
    };
    out.push(text(
        json!({"type": "hello", "session": s.id, "local": s.local.to_string()}),
    ));
    let role = Role::Gateway { out, stream };
    let reason = run(&mut s, role, &shared).await;
    eprintln!("sansrtc serve: gateway session {} ended: {reason}", s.id);
    // A client that does not read cannot hold the task and its socket.
    let mut writer = writer;
    if tokio::time::timeout(Duration::from_secs(2), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
}

/// The session loop: drain outputs, then wait for a datagram, the next timer, a command or
/// shutdown. Returns why it ended.
async fn run(s: &mut Session, mut role: Role, shared: &Shared) -> String {
    let mut buf = vec![0u8; DATAGRAM];
    let mut shutdown = shared.shutdown.clone();
    loop {
        // Outputs until quiet: echoing a message queues transmits again.
        loop {
            s.flush_transmits().await;
            let mut any = false;
            while let Some(e) = s.pc.poll_event() {
                any = true;
                s.observe(&e);
                match &mut role {
                    Role::Echo { .. } => echo_event(s, shared, e),
                    Role::Gateway { out, .. } => out.event(e),
                }
            }
            if !any {
                break;
            }
        }
        if let Some(reason) = s.ended.take() {
            if let Role::Gateway { out, .. } = &mut role {
                out.push(text(json!({"type": "closed", "reason": reason})));
                out.push(close_frame(1000, "peer connection closed"));
            }
            s.close().await;
            return reason;
        }
        let now = Instant::now();
        let mut wake = s.pc.poll_timeout();
        match &mut role {
            Role::Echo { idle, connect } => {
                if !s.sctp_up && now >= s.started + *connect {
                    s.close().await;
                    return "connect timeout".into();
                }
                if now >= s.last_rx + *idle {
                    s.close().await;
                    return "idle timeout".into();
                }
                let limit = if s.sctp_up {
                    s.last_rx + *idle
                } else {
                    (s.started + *connect).min(s.last_rx + *idle)
                };
                wake = Some(wake.map_or(limit, |w| w.min(limit)));
            }
            Role::Gateway { out, .. } => {
                if out.overflow {
                    s.close().await;
                    return "slow consumer".into();
                }
            }
        }
        tokio::select! {
            r = s.socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = r
                    && let Some(d) = buf.get(..n) {
                        s.last_rx = Instant::now();
                        s.pc.handle_receive(s.last_rx, s.local, from, d);
                    }
                s.drain_socket(&mut buf);
            }
            () = sleep_until(wake) => s.pc.handle_timeout(Instant::now()),
            m = next_command(&mut role) => {
                let Role::Gateway { out, .. } = &mut role else { continue };
                match m {
                    Some(Ok(Message::Text(t))) => {
                        if command_text(s, out, t.as_str()) {
                            s.close().await;
                            out.push(close_frame(1000, "closed"));
                            return "closed by client".into();
                        }
                    }
                    Some(Ok(Message::Binary(b))) => command_binary(s, out, &b, shared),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => {
                        s.close().await;
                        return "client went away".into();
                    }
                    Some(Err(e)) => {
                        out.push(text(json!({"type": "error", "code": "too_large", "message": e.to_string()})));
                        out.push(close_frame(1009, "message too large"));
                        s.close().await;
                        return format!("websocket error: {e}");
                    }
                }
            }
            () = super::stopped(&mut shutdown) => {
                s.close().await;
                if let Role::Gateway { out, .. } = &mut role {
                    out.push(text(json!({"type": "shutdown"})));
                    out.push(close_frame(1001, "server shutting down"));
                }
                return "server shutdown".into();
            }
        }
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(w) => tokio::time::sleep_until(tokio::time::Instant::from_std(w)).await,
        None => std::future::pending().await,
    }
}

async fn next_command(role: &mut Role) -> Option<Result<Message, axum::Error>> {
    match role {
        Role::Gateway { stream, .. } => stream.next().await,
        Role::Echo { .. } => std::future::pending().await,
    }
}

fn echo_event(s: &mut Session, shared: &Shared, e: Event) {
    if let Event::Message { id, binary, data } = e {
        let now = Instant::now();
        let r = if binary {
            s.pc.send(now, id, &data)
        } else {
            s.pc.send_text(now, id, &String::from_utf8_lossy(&data))
        };
        if r.is_ok() {
            shared.counters.echoed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Messages toward a gateway client, bounded by queued bytes.
struct Out {
    tx: mpsc::UnboundedSender<Message>,
    queued: Arc<AtomicUsize>,
    cap: usize,
    /// The client did not keep up: the session ends.
    overflow: bool,
}

impl Out {
    fn push(&mut self, m: Message) {
        if self.overflow {
            return;
        }
        let len = message_len(&m);
        let queued = self.queued.load(Ordering::Relaxed);
        if queued.saturating_add(len) > self.cap && !matches!(m, Message::Close(_)) {
            self.overflow = true;
            // These two go past the cap: the client must learn why it is dropped.
            let _ = self.tx.send(text(json!({
                "type": "error",
                "code": "slow_consumer",
                "message": format!("{queued} bytes queued toward this client (--max-queued-bytes {})", self.cap),
            })));
            let _ = self.tx.send(close_frame(1008, "slow consumer"));
            return;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        let _ = self.tx.send(m);
    }

    fn event(&mut self, e: Event) {
        let v = match e {
            Event::IceStateChanged(state) => {
                json!({"type": "ice_state", "state": ice_state(state)})
            }
            Event::SelectedPair { local, remote } => {
                json!({"type": "selected_pair", "local": local.to_string(), "remote": remote.to_string()})
            }
            Event::DtlsConnected => json!({"type": "dtls_connected"}),
            Event::SctpConnected => json!({"type": "sctp_connected"}),
            // Reported as `closed` when the session ends.
            Event::DtlsClosed { .. } | Event::SctpClosed { .. } => return,
            Event::ChannelOpen {
                id,
                label,
                protocol,
            } => {
                json!({"type": "channel_open", "channel": id, "label": label, "protocol": protocol})
            }
            Event::Message {
                id,
                binary: true,
                data,
            } => {
                let mut frame = Vec::with_capacity(HEADER + data.len());
                frame.extend_from_slice(&id.to_be_bytes());
                frame.extend_from_slice(&data);
                self.push(Message::Binary(Bytes::from(frame)));
                return;
            }
            Event::Message {
                id,
                binary: false,
                data,
            } => {
                json!({"type": "message", "channel": id, "text": String::from_utf8_lossy(&data)})
            }
            Event::BufferedAmountLow { id } => json!({"type": "buffered_low", "channel": id}),
            Event::ChannelClosed { id } => json!({"type": "channel_closed", "channel": id}),
            _ => return,
        };
        self.push(text(v));
    }
}

fn ice_state(s: IceState) -> &'static str {
    match s {
        IceState::New => "new",
        IceState::Checking => "checking",
        IceState::Connected => "connected",
        IceState::Disconnected => "disconnected",
        IceState::Failed => "failed",
        IceState::Closed => "closed",
    }
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.to_owned().into(),
    }))
}

fn message_len(m: &Message) -> usize {
    match m {
        Message::Text(t) => t.len(),
        Message::Binary(b) => b.len(),
        _ => 0,
    }
}

fn error_reply(op: &str, req: Option<&Value>, code: &str, message: impl Into<String>) -> Message {
    let mut v = json!({"type": "error", "code": code, "op": op, "message": message.into()});
    if let (Some(r), Some(o)) = (req, v.as_object_mut()) {
        o.insert("req".into(), r.clone());
    }
    text(v)
}

fn reply(mut v: Value, req: Option<&Value>) -> Message {
    if let (Some(r), Some(o)) = (req, v.as_object_mut()) {
        o.insert("req".into(), r.clone());
    }
    text(v)
}

fn field_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    obj.get(name).and_then(Value::as_str)
}

fn field_channel(obj: &Map<String, Value>) -> Option<u16> {
    obj.get("channel")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
}

/// Refuses a send that would queue more than the cap on the channel.
fn room_on_channel(s: &Session, shared_cap: usize, id: u16, len: usize) -> bool {
    s.pc.buffered_amount(id).saturating_add(len) <= shared_cap
}

/// Applies one JSON command; true when the client asked to close.
fn command_text(s: &mut Session, out: &mut Out, t: &str) -> bool {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(t) else {
        out.push(error_reply("", None, "bad_json", "want a JSON object"));
        return false;
    };
    let req = obj.get("req");
    let Some(op) = field_str(&obj, "type") else {
        out.push(error_reply(
            "",
            req,
            "bad_request",
            "missing string field \"type\"",
        ));
        return false;
    };
    let now = Instant::now();
    let rejected = |e: sansrtc::Error| error_reply(op, req, "rejected", e.to_string());
    let missing = |f: &str| error_reply(op, req, "bad_request", format!("missing field \"{f}\""));
    let m = match op {
        "create_channel" => {
            let reliability = match (
                obj.get("max_retransmits").and_then(Value::as_u64),
                obj.get("max_packet_lifetime").and_then(Value::as_u64),
            ) {
                (Some(_), Some(_)) => {
                    out.push(error_reply(
                        op,
                        req,
                        "bad_request",
                        "max_retransmits and max_packet_lifetime exclude each other",
                    ));
                    return false;
                }
                (Some(n), None) => {
                    Reliability::MaxRetransmits(u32::try_from(n).unwrap_or(u32::MAX))
                }
                (None, Some(ms)) => {
                    Reliability::MaxLifetimeMs(u32::try_from(ms).unwrap_or(u32::MAX))
                }
                (None, None) => Reliability::Reliable,
            };
            let options = ChannelOptions {
                protocol: field_str(&obj, "protocol").unwrap_or("").to_owned(),
                ordered: obj.get("ordered").and_then(Value::as_bool).unwrap_or(true),
                reliability,
                ..ChannelOptions::default()
            };
            let label = field_str(&obj, "label").unwrap_or("");
            match s.pc.create_data_channel(now, label, options) {
                Ok(()) => reply(json!({"type": "ok", "op": op}), req),
                Err(e) => rejected(e),
            }
        }
        "create_offer" => match s.pc.create_offer(now) {
            Ok(sdp) => reply(json!({"type": "offer", "sdp": sdp}), req),
            Err(e) => rejected(e),
        },
        "accept_offer" => match field_str(&obj, "sdp") {
            None => missing("sdp"),
            Some(sdp) => match s.pc.create_answer(now, sdp) {
                Ok(answer) => reply(json!({"type": "answer", "sdp": answer}), req),
                Err(e) => rejected(e),
            },
        },
        "set_answer" => match field_str(&obj, "sdp") {
            None => missing("sdp"),
            Some(sdp) => match s.pc.set_remote_answer(now, sdp) {
                Ok(()) => reply(json!({"type": "ok", "op": op}), req),
                Err(e) => rejected(e),
            },
        },
        "add_candidate" => match field_str(&obj, "candidate") {
            None => missing("candidate"),
            // Browsers signal an empty candidate for end-of-candidates.
            Some("") => match s.pc.end_of_remote_candidates(now) {
                Ok(()) => reply(json!({"type": "ok", "op": op}), req),
                Err(e) => rejected(e),
            },
            Some(c) => match s.pc.add_remote_candidate(now, c) {
                Ok(()) => reply(json!({"type": "ok", "op": op}), req),
                Err(e) => rejected(e),
            },
        },
        "send" => {
            let (Some(id), Some(data)) = (field_channel(&obj), field_str(&obj, "text")) else {
                out.push(error_reply(
                    op,
                    req,
                    "bad_request",
                    "want \"channel\" (0-65535) and \"text\"",
                ));
                return false;
            };
            if !room_on_channel(s, out.cap, id, data.len()) {
                out.push(error_reply(
                    op,
                    req,
                    "buffer_full",
                    format!(
                        "channel {id} has {} bytes queued (--max-queued-bytes)",
                        s.pc.buffered_amount(id)
                    ),
                ));
                return false;
            }
            match s.pc.send_text(now, id, data) {
                // Sends are not acknowledged unless asked (`req`), to keep the stream light.
                Ok(()) if req.is_none() => return false,
                Ok(()) => reply(json!({"type": "ok", "op": op}), req),
                Err(e) => rejected(e),
            }
        }
        "close_channel" => match field_channel(&obj) {
            None => missing("channel"),
            Some(id) => match s.pc.close(now, id) {
                Ok(()) => reply(json!({"type": "ok", "op": op}), req),
                Err(e) => rejected(e),
            },
        },
        "close" => {
            out.push(reply(json!({"type": "ok", "op": op}), req));
            return true;
        }
        other => error_reply(
            other,
            req,
            "bad_request",
            format!("unknown command {other:?}"),
        ),
    };
    out.push(m);
    false
}

/// A binary frame: `[channel id u16 big-endian][payload]` sent as a binary message.
fn command_binary(s: &mut Session, out: &mut Out, b: &[u8], _shared: &Shared) {
    let (Some(head), Some(payload)) = (b.get(..HEADER), b.get(HEADER..)) else {
        out.push(error_reply(
            "send",
            None,
            "bad_request",
            "a binary frame starts with a 2-byte channel id",
        ));
        return;
    };
    let id = u16::from_be_bytes([
        head.first().copied().unwrap_or(0),
        head.get(1).copied().unwrap_or(0),
    ]);
    if !room_on_channel(s, out.cap, id, payload.len()) {
        out.push(error_reply(
            "send",
            None,
            "buffer_full",
            format!(
                "channel {id} has {} bytes queued (--max-queued-bytes)",
                s.pc.buffered_amount(id)
            ),
        ));
        return;
    }
    if let Err(e) = s.pc.send(Instant::now(), id, payload) {
        out.push(error_reply(
            "send",
            None,
            "rejected",
            format!("channel {id}: {e}"),
        ));
    }
}
