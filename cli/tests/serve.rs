//! `sansrtc serve` through real sockets on loopback: the page and /health over HTTP, the
//! signaling relay and its caps over WebSocket, two gateway sessions connected to each other
//! (real PeerConnections over UDP), the echo bot driven from a gateway session, STUN on the
//! same port, and graceful shutdown with clients connected.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sansrtc_stun::{Class, Message as StunMessage, MessageBuilder, MessageType, TransactionId};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

mod common;
use common::Server;

/// `sansrtc serve --listen 127.0.0.1:0 EXTRA`; TCP (HTTP, WS) and UDP (STUN) share the port.
fn start(extra: &[&str]) -> Server {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let server = Server::spawn(&args, &[]);
    let tcp = server
        .first
        .split("tcp ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(server.addr.to_string(), tcp, "{}", server.first);
    server
}

/// A blocking HTTP/1.1 request; returns (status, body).
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client with bounded waits; gateway `buffered_low` events are counted and
/// skipped.
struct Ws(Stream, usize);

impl Ws {
    async fn connect(addr: SocketAddr, path: &str) -> Ws {
        let (s, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
            .await
            .unwrap();
        Ws(s, 0)
    }

    async fn send(&mut self, v: Value) {
        self.0.send(Message::text(v.to_string())).await.unwrap();
    }

    async fn send_raw(&mut self, m: Message) {
        self.0.send(m).await.unwrap();
    }

    /// The next frame (text, binary or close), within 20 s.
    async fn next(&mut self) -> Message {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(20), self.0.next())
                .await
                .expect("nothing received within 20 s")
                .expect("stream ended")
                .expect("websocket error");
            if matches!(&m, Message::Text(t) if t.as_str().starts_with(r#"{"type":"buffered_low""#))
            {
                self.1 += 1;
                continue;
            }
            if !matches!(m, Message::Ping(_) | Message::Pong(_)) {
                return m;
            }
        }
    }

    async fn json(&mut self) -> Value {
        match self.next().await {
            Message::Text(t) => serde_json::from_str(t.as_str()).unwrap(),
            other => panic!("want a JSON text frame, got {other:?}"),
        }
    }

    /// Reads until a JSON message of type `kind` (at most 50 others in between).
    async fn until(&mut self, kind: &str) -> Value {
        for _ in 0..50 {
            let v = self.json().await;
            if v["type"] == kind {
                return v;
            }
            assert_ne!(v["type"], "error", "while waiting for {kind}: {v}");
        }
        panic!("no {kind} message");
    }

    /// Asserts the server closes the socket, with `code`.
    async fn closed_with(&mut self, code: u16) {
        match self.next().await {
            Message::Close(Some(f)) => assert_eq!(u16::from(f.code), code, "{f:?}"),
            other => panic!("want close {code}, got {other:?}"),
        }
    }
}

#[test]
fn page_health_and_stun_on_the_same_port() {
    let mut server = start(&[]);
    let (status, page) = http(server.addr, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("<!doctype html>"), "{page}");
    assert!(page.contains("RTCPeerConnection"), "the page drives WebRTC");
    let (status, health) = http(server.addr, "GET", "/health", "");
    assert_eq!(status, 200);
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["ok"], true);
    assert_eq!(h["stun"], server.addr.port());
    assert_eq!(http(server.addr, "GET", "/nope", "").0, 404);
    let (status, body) = http(server.addr, "POST", "/echo", "not json");
    assert_eq!(status, 400);
    assert!(body.contains("bad_json"), "{body}");
    let (status, body) = http(
        server.addr,
        "POST",
        "/echo",
        r#"{"type":"offer","sdp":"v=0"}"#,
    );
    assert_eq!(status, 400);
    assert!(body.contains("bad_offer"), "{body}");

    // STUN Binding over UDP on the HTTP port number.
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let txid = [7u8; 12];
    let mut buf = vec![0u8; 128];
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId(txid)).unwrap();
    b.software("sansrtc test").unwrap();
    let n = b.finish_with_fingerprint().unwrap();
    let mut resp = [0u8; 1500];
    let mut got = None;
    for _ in 0..10 {
        udp.send_to(&buf[..n], server.addr).unwrap();
        if let Ok(len) = udp.recv(&mut resp) {
            got = Some(len);
            break;
        }
    }
    let m = StunMessage::new_checked(&resp[..got.expect("no STUN answer")]).unwrap();
    assert_eq!(m.class(), Class::SuccessResponse);
    assert_eq!(m.transaction_id(), TransactionId(txid));
    assert_eq!(m.xor_mapped_address(), Some(udp.local_addr().unwrap()));

    let lines = server.interrupt();
    let last = lines.last().unwrap();
    assert!(last.contains("interrupted, shutting down"), "{lines:?}");
    assert!(last.contains("1 answered"), "{last}");
}

#[test]
fn no_stun_leaves_udp_closed() {
    let server = Server::spawn_tcp(&["serve", "--listen", "127.0.0.1:0", "--no-stun"]);
    assert!(!server.first.contains("udp"), "{}", server.first);
    let (_, health) = http(server.addr, "GET", "/health", "");
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["stun"], Value::Null);
}

#[tokio::test]
async fn signaling_relays_between_room_members() {
    let mut server = start(&[]);
    let mut a = Ws::connect(server.addr, "/ws").await;
    let mut b = Ws::connect(server.addr, "/ws").await;
    a.send(json!({"type": "join", "room": "call-1"})).await;
    let ja = a.until("joined").await;
    assert_eq!(ja["room"], "call-1");
    assert_eq!(ja["peers"], json!([]));
    let ida = ja["id"].as_str().unwrap().to_owned();
    b.send(json!({"type": "join", "room": "call-1"})).await;
    let jb = b.until("joined").await;
    assert_eq!(jb["peers"], json!([ida]));
    let idb = jb["id"].as_str().unwrap().to_owned();
    assert_ne!(ida, idb);
    assert_eq!(a.until("peer_joined").await["id"], idb);

    // Directed: offer from B to A, unchanged plus "from".
    b.send(json!({"type": "offer", "to": ida, "sdp": "v=0\r\n", "extra": [1, 2]}))
        .await;
    let offer = a.json().await;
    assert_eq!(
        offer,
        json!({"type": "offer", "sdp": "v=0\r\n", "extra": [1, 2], "from": idb})
    );
    // Broadcast: answer and candidates from A reach B.
    a.send(json!({"type": "answer", "sdp": "v=0\r\n"})).await;
    assert_eq!(b.json().await["from"], ida);
    for i in 0..20 {
        a.send(json!({"type": "candidate", "candidate": format!("candidate:{i}")}))
            .await;
    }
    for i in 0..20 {
        assert_eq!(b.json().await["candidate"], format!("candidate:{i}"));
    }
    // A third member in another room sees nothing of this room.
    let mut c = Ws::connect(server.addr, "/ws").await;
    c.send(json!({"type": "join", "room": "other"})).await;
    assert_eq!(c.until("joined").await["peers"], json!([]));
    c.send(json!({"type": "hello"})).await;
    // Leave: an explicit leave and a dropped socket both notify.
    b.send(json!({"type": "leave"})).await;
    assert_eq!(b.until("left").await["room"], "call-1");
    assert_eq!(a.until("peer_left").await["id"], idb);
    b.send(json!({"type": "join", "room": "call-1"})).await;
    let idb2 = b.until("joined").await["id"].clone();
    assert_eq!(a.until("peer_joined").await["id"], idb2);
    drop(b);
    assert_eq!(a.until("peer_left").await["id"], idb2);
    // Nothing from room "other" reached A: the next message is our own error reply.
    a.send(json!({"type": "x", "to": "nobody"})).await;
    assert_eq!(a.json().await["code"], "unknown_peer");

    let lines = server.interrupt();
    assert!(lines.last().unwrap().contains("3 clients"), "{lines:?}");
}

/// Sends `msg` and asserts the reply is error `code` with a message.
async fn expect_error(ws: &mut Ws, msg: Value, code: &str) {
    ws.send(msg).await;
    let v = ws.json().await;
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert!(!v["message"].as_str().unwrap().is_empty(), "{v}");
}

#[tokio::test]
async fn signaling_errors_and_caps() {
    let server = start(&[
        "--max-rooms",
        "1",
        "--max-room-members",
        "2",
        "--max-message-size",
        "1024",
        "--max-messages-per-second",
        "20",
        "--max-clients",
        "4",
    ]);
    let mut a = Ws::connect(server.addr, "/ws").await;
    a.send_raw(Message::text("{not json")).await;
    assert_eq!(a.json().await["code"], "bad_json");
    expect_error(&mut a, json!([1, 2]), "bad_request").await;
    expect_error(&mut a, json!({"no": "type"}), "bad_request").await;
    expect_error(&mut a, json!({"type": "offer", "sdp": ""}), "not_joined").await;
    expect_error(&mut a, json!({"type": "leave"}), "not_joined").await;
    expect_error(&mut a, json!({"type": "join"}), "bad_room").await;
    expect_error(&mut a, json!({"type": "join", "room": "a b"}), "bad_room").await;
    expect_error(
        &mut a,
        json!({"type": "join", "room": "r".repeat(65)}),
        "bad_room",
    )
    .await;
    a.send_raw(Message::binary(vec![1, 2, 3])).await;
    assert_eq!(a.json().await["code"], "bad_request");
    a.send(json!({"type": "join", "room": "one"})).await;
    a.until("joined").await;
    expect_error(
        &mut a,
        json!({"type": "join", "room": "one"}),
        "already_joined",
    )
    .await;
    expect_error(&mut a, json!({"type": "x", "to": 5}), "bad_request").await;

    let mut b = Ws::connect(server.addr, "/ws").await;
    expect_error(
        &mut b,
        json!({"type": "join", "room": "two"}),
        "too_many_rooms",
    )
    .await;
    b.send(json!({"type": "join", "room": "one"})).await;
    b.until("joined").await;
    let mut c = Ws::connect(server.addr, "/ws").await;
    expect_error(&mut c, json!({"type": "join", "room": "one"}), "room_full").await;

    // Size: over the cap is refused with an error and the socket stays; over twice the cap
    // closes it with 1009.
    let big = json!({"type": "x", "pad": "y".repeat(1100)});
    expect_error(&mut b, big, "too_large").await;
    b.send(json!({"type": "small"})).await;
    assert_eq!(a.until("small").await["type"], "small");
    let huge = json!({"type": "x", "pad": "y".repeat(2100)});
    b.send(huge).await;
    b.closed_with(1009).await;
    assert!(a.until("peer_left").await["id"].is_string());

    // Rate: a burst of 60 messages at 20/s refuses some with rate_limited; each one is
    // either relayed to A or refused to C, none is lost silently.
    c.send(json!({"type": "join", "room": "one"})).await;
    c.until("joined").await;
    a.until("peer_joined").await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // a full bucket
    for i in 0..60 {
        c.send(json!({"type": "n", "i": i})).await;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.send(json!({"type": "end"})).await;
    let mut relayed = 0;
    loop {
        let v = a.json().await;
        match v["type"].as_str() {
            Some("n") => relayed += 1,
            Some("end") => break,
            _ => panic!("unexpected {v}"),
        }
    }
    for _ in relayed..60 {
        assert_eq!(c.json().await["code"], "rate_limited");
    }
    assert!(
        (20..40).contains(&relayed),
        "{relayed} of 60 relayed at 20/s"
    );

    // Clients (cap 4): a and c are connected, b is gone: d and e fit, f is refused.
    let _d = Ws::connect(server.addr, "/ws").await;
    let _e = Ws::connect(server.addr, "/ws").await;
    let mut f = Ws::connect(server.addr, "/ws").await;
    let v = f.json().await;
    assert_eq!(v["code"], "server_full", "{v}");
    f.closed_with(1013).await;
}

/// Creates channel `label` on `a` and connects `a` (offerer) to `b` (answerer) through the
/// gateway commands; returns the channel id on both sides.
async fn connect_pair(a: &mut Ws, b: &mut Ws, label: &str) -> (u64, u64) {
    a.send(json!({"type": "create_channel", "label": label, "req": 1}))
        .await;
    let ok = a.until("ok").await;
    assert_eq!(ok, json!({"type": "ok", "op": "create_channel", "req": 1}));
    a.send(json!({"type": "create_offer"})).await;
    let offer = a.until("offer").await;
    let sdp = offer["sdp"].as_str().unwrap();
    assert!(sdp.contains("m=application"), "{sdp}");
    assert!(sdp.contains("a=candidate:"), "{sdp}");
    b.send(json!({"type": "accept_offer", "sdp": sdp})).await;
    let answer = b.until("answer").await;
    a.send(json!({"type": "set_answer", "sdp": answer["sdp"]}))
        .await;
    assert_eq!(a.until("ok").await["op"], "set_answer");
    let oa = a.until("channel_open").await;
    let ob = b.until("channel_open").await;
    assert_eq!(oa["label"], label);
    assert_eq!(ob["label"], label);
    assert_eq!(oa["channel"], ob["channel"]);
    (
        oa["channel"].as_u64().unwrap(),
        ob["channel"].as_u64().unwrap(),
    )
}

fn binary_frame(channel: u64, payload: &[u8]) -> Message {
    let mut v = (channel as u16).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    Message::binary(v)
}

#[tokio::test]
async fn two_gateway_sessions_exchange_messages() {
    let mut server = start(&[]);
    let mut a = Ws::connect(server.addr, "/gateway").await;
    let mut b = Ws::connect(server.addr, "/gateway").await;
    let ha = a.json().await;
    assert_eq!(ha["type"], "hello");
    assert!(ha["local"].as_str().unwrap().starts_with("127.0.0.1:"));
    b.until("hello").await;
    // Wrong order and bad commands are refused, the session goes on.
    a.send(json!({"type": "set_answer", "sdp": "v=0", "req": "x"}))
        .await;
    let e = a.json().await;
    assert_eq!(
        (e["code"].as_str(), e["op"].as_str(), e["req"].as_str()),
        (Some("rejected"), Some("set_answer"), Some("x"))
    );
    a.send(json!({"type": "fly"})).await;
    assert_eq!(a.json().await["code"], "bad_request");
    a.send(json!({"type": "send", "channel": 0, "text": "early"}))
        .await;
    assert_eq!(a.json().await["code"], "rejected");
    a.send_raw(Message::binary(vec![0])).await;
    assert_eq!(a.json().await["code"], "bad_request");

    let (ca, cb) = connect_pair(&mut a, &mut b, "chat").await;
    // Text both ways, binary both ways, in order, types kept.
    for i in 0..50 {
        a.send(json!({"type": "send", "channel": ca, "text": format!("hello {i} ✓")}))
            .await;
        a.send_raw(binary_frame(ca, &[i as u8; 1000])).await;
    }
    for i in 0..50 {
        let m = b.until("message").await;
        assert_eq!(m["channel"], cb);
        assert_eq!(m["text"], format!("hello {i} ✓"));
        match b.next().await {
            Message::Binary(d) => {
                assert_eq!(u16::from_be_bytes([d[0], d[1]]) as u64, cb);
                assert_eq!(&d[2..], &[i as u8; 1000][..]);
            }
            other => panic!("want binary, got {other:?}"),
        }
    }
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    b.send_raw(binary_frame(cb, &big)).await;
    b.send(json!({"type": "send", "channel": cb, "text": "", "req": 9}))
        .await;
    assert_eq!(b.until("ok").await["req"], 9);
    match a.next().await {
        Message::Binary(d) => assert_eq!(&d[2..], &big[..]),
        other => panic!("want binary, got {other:?}"),
    }
    assert_eq!(a.until("message").await["text"], "");
    assert!(a.1 > 0 && b.1 > 0, "buffered_low seen: {} {}", a.1, b.1);

    // A second channel from the answerer side, then closing it.
    b.send(json!({"type": "create_channel", "label": "second", "protocol": "p", "ordered": false, "max_retransmits": 0}))
        .await;
    b.until("ok").await;
    let open = a.until("channel_open").await;
    assert_eq!(
        (open["label"].as_str(), open["protocol"].as_str()),
        (Some("second"), Some("p"))
    );
    let second = b.until("channel_open").await["channel"].clone();
    b.send(json!({"type": "close_channel", "channel": second}))
        .await;
    b.until("ok").await;
    assert_eq!(a.until("channel_closed").await["channel"], second);

    // Close from A: A gets ok and a normal close; B learns the connection closed.
    a.send(json!({"type": "close"})).await;
    assert_eq!(a.until("ok").await["op"], "close");
    a.closed_with(1000).await;
    let closed = b.until("closed").await;
    assert!(closed["reason"].is_string(), "{closed}");
    b.closed_with(1000).await;

    let lines = server.interrupt();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("gateway session") && l.contains("closed by client")),
        "{lines:?}"
    );
    assert!(
        lines.last().unwrap().contains("sessions: 2 started"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn echo_bot_answers_a_gateway_offer() {
    let mut server = start(&[]);
    let mut a = Ws::connect(server.addr, "/gateway").await;
    a.until("hello").await;
    a.send(json!({"type": "create_channel", "label": "echo"}))
        .await;
    a.until("ok").await;
    a.send(json!({"type": "create_offer"})).await;
    let offer = a.until("offer").await;
    let addr = server.addr;
    let body = json!({"type": "offer", "sdp": offer["sdp"]}).to_string();
    let (status, resp) = tokio::task::spawn_blocking(move || http(addr, "POST", "/echo", &body))
        .await
        .unwrap();
    assert_eq!(status, 200, "{resp}");
    let answer: Value = serde_json::from_str(&resp).unwrap();
    assert_eq!(answer["type"], "answer");
    assert!(answer["session"].as_str().unwrap().starts_with('e'));
    a.send(json!({"type": "set_answer", "sdp": answer["sdp"]}))
        .await;
    a.until("ok").await;
    let ch = a.until("channel_open").await["channel"].as_u64().unwrap();
    for i in 0..100u32 {
        if i % 2 == 0 {
            a.send(json!({"type": "send", "channel": ch, "text": format!("m{i}")}))
                .await;
        } else {
            a.send_raw(binary_frame(ch, &i.to_be_bytes())).await;
        }
    }
    for i in 0..100u32 {
        match a.next().await {
            Message::Text(t) if i % 2 == 0 => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                assert_eq!(v["text"], format!("m{i}"), "{v}");
            }
            Message::Binary(d) if i % 2 == 1 => assert_eq!(&d[2..], &i.to_be_bytes()),
            other => panic!("echo {i}: unexpected {other:?}"),
        }
    }
    let (_, health) = tokio::task::spawn_blocking(move || http(addr, "GET", "/health", ""))
        .await
        .unwrap();
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["sessions"], 2, "{h}");
    // Closing our side ends the echo bot too.
    a.send(json!({"type": "close"})).await;
    assert_eq!(a.until("ok").await["op"], "close");
    a.closed_with(1000).await;
    let lines = server.interrupt();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("echo session e") && l.contains("ended")),
        "{lines:?}"
    );
    assert!(
        lines.last().unwrap().contains("100 messages echoed"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn session_cap_and_shutdown_close_every_client() {
    let mut server = start(&["--max-sessions", "1"]);
    let mut a = Ws::connect(server.addr, "/gateway").await;
    a.until("hello").await;
    let mut b = Ws::connect(server.addr, "/gateway").await;
    let v = b.json().await;
    assert_eq!(v["code"], "server_full", "{v}");
    b.closed_with(1013).await;
    let addr = server.addr;
    let (status, body) = tokio::task::spawn_blocking(move || {
        http(addr, "POST", "/echo", r#"{"type":"offer","sdp":"v=0"}"#)
    })
    .await
    .unwrap();
    assert_eq!(status, 503);
    assert!(body.contains("server_full"), "{body}");

    let mut s = Ws::connect(server.addr, "/ws").await;
    s.send(json!({"type": "join", "room": "r"})).await;
    s.until("joined").await;
    let lines = tokio::task::spawn_blocking(move || {
        let lines = server.interrupt();
        (lines, server)
    });
    assert_eq!(a.until("shutdown").await["type"], "shutdown");
    a.closed_with(1001).await;
    assert_eq!(s.until("shutdown").await["type"], "shutdown");
    s.closed_with(1001).await;
    let (lines, _server) = lines.await.unwrap();
    let last = lines.last().unwrap();
    assert!(last.contains("all connections closed"), "{lines:?}");
    assert!(last.contains("2 refused"), "{last}");
}

#[tokio::test]
async fn a_client_that_does_not_read_gets_nothing_more_queued() {
    let server = start(&["--max-messages-per-second", "100000"]);
    let mut a = Ws::connect(server.addr, "/ws").await;
    let mut b = Ws::connect(server.addr, "/ws").await;
    a.send(json!({"type": "join", "room": "q"})).await;
    a.until("joined").await;
    b.send(json!({"type": "join", "room": "q"})).await;
    let idb = b.until("joined").await["id"].clone();
    a.until("peer_joined").await;
    // B stops reading. 400 x 60 kB = 24 MB is more than the loopback socket buffers plus the
    // server's 1 MiB per-client queue: some are refused with queue_full, none is lost silently.
    let pad = "z".repeat(60_000);
    let (mut sink, mut stream) = a.0.split();
    let sender = tokio::spawn(async move {
        for i in 0..400 {
            let m = json!({"type": "bulk", "to": idb, "i": i, "pad": pad});
            sink.send(Message::text(m.to_string())).await.unwrap();
        }
        sink
    });
    let first = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("no queue_full within 30 s")
        .unwrap()
        .unwrap();
    let v: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!(v["code"], "queue_full", "{v}");
    let _sink = sender.await.unwrap();
    // B reads again: every message it gets is a whole bulk message, in order.
    let mut last = -1i64;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_millis(500), b.0.next()).await {
        let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        let i = v["i"].as_i64().unwrap();
        assert!(i > last, "{i} after {last}");
        last = i;
    }
    assert!((0..399).contains(&last), "b got up to {last}");
}

/// Runs a TURN client over `udp` until it reports an allocation outcome (10 s at most);
/// returns the relayed address, or the error code of the failure.
fn turn_allocate(
    c: &mut sansrtc_turn::client::Client,
    udp: &UdpSocket,
    server: SocketAddr,
) -> Result<SocketAddr, Option<u16>> {
    use sansrtc_turn::client::ClientEvent;
    use std::time::Instant;
    c.allocate(Instant::now()).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        while let Some(t) = c.poll_transmit() {
            udp.send_to(&t.payload, t.destination).unwrap();
        }
        if let Some(e) = c.poll_event() {
            match e {
                ClientEvent::Allocated { relayed, .. } => return Ok(relayed[0]),
                ClientEvent::AllocationFailed { code } => return Err(code),
                e => panic!("unexpected {e:?}"),
            }
        }
        if let Ok(n) = udp.recv(&mut buf) {
            c.handle_receive(Instant::now(), server, &buf[..n]);
        }
        let now = Instant::now();
        if c.poll_timeout().is_some_and(|t| t <= now) {
            c.handle_timeout(now);
        }
    }
    panic!("no allocation outcome within 10 s");
}

#[test]
fn ice_servers_without_turn_is_stun_only() {
    let server = start(&[]);
    let (status, body) = http(server.addr, "GET", "/ice-servers", "");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let stun = format!("stun:{}", server.addr);
    assert_eq!(v, json!({"iceServers": [{"urls": [stun]}]}));
    let (_, health) = http(server.addr, "GET", "/health", "");
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["turn"], Value::Null);

    let no_stun = Server::spawn_tcp(&["serve", "--listen", "127.0.0.1:0", "--no-stun"]);
    let (_, body) = http(no_stun.addr, "GET", "/ice-servers", "");
    assert_eq!(body, r#"{"iceServers":[]}"#);
}

/// `serve --turn`: /ice-servers hands out a credential that is HMAC-SHA1(secret, username)
/// and allocates on the server's TURN (UDP, the listen port), which relays to a peer; a wrong
/// or expired credential gets 401; STUN Binding still answers; /health and the shutdown line
/// count the allocation.
#[test]
fn turn_credentials_from_ice_servers_allocate_and_relay() {
    use sansrtc_turn::auth::TimeLimitedCredentials;
    use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    let secret = "serve-test-secret";
    let mut server = start(&[
        "--turn",
        "--turn-secret",
        secret,
        "--turn-ttl",
        "600",
        "--turn-allow-peer",
        "127.0.0.0/8",
        "--turn-relay-ports",
        "61900-61949",
    ]);
    assert!(server.first.contains("(turn and stun)"), "{}", server.first);
    let (status, body) = http(server.addr, "GET", "/ice-servers", "");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ttl"], 600);
    let servers = v["iceServers"].as_array().unwrap();
    assert_eq!(servers.len(), 2, "{v}");
    assert_eq!(
        servers[0],
        json!({"urls": [format!("stun:{}", server.addr)]})
    );
    let turn = &servers[1];
    assert_eq!(
        turn["urls"],
        json!([
            format!("turn:{}?transport=udp", server.addr),
            format!("turn:{}?transport=tcp", server.addr)
        ])
    );
    let username = turn["username"].as_str().unwrap();
    let credential = turn["credential"].as_str().unwrap();
    let (expiry, name) = username.split_once(':').unwrap();
    assert!(!name.is_empty());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expiry: u64 = expiry.parse().unwrap();
    assert!(
        (now + 590..=now + 610).contains(&expiry),
        "{expiry} vs {now}"
    );
    let creds = TimeLimitedCredentials::new(secret.as_bytes());
    assert_eq!(credential, creds.password_for(username));
    // Each request gets its own username.
    let (_, again) = http(server.addr, "GET", "/ice-servers", "");
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_ne!(again["iceServers"][1]["username"], turn["username"]);

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    // Wrong password, then a correctly signed but expired username: 401.
    let mut c = Client::new(
        ClientConfig::new(server.addr, username, "d3Jvbmc="),
        Instant::now(),
    );
    assert_eq!(turn_allocate(&mut c, &udp, server.addr), Err(Some(401)));
    let (old_user, old_pass) = creds.issue(now - 10, "late");
    let mut c = Client::new(
        ClientConfig::new(server.addr, old_user, old_pass),
        Instant::now(),
    );
    assert_eq!(turn_allocate(&mut c, &udp, server.addr), Err(Some(401)));

    // The credential from /ice-servers: an allocation, and a datagram relayed each way.
    let mut c = Client::new(
        ClientConfig::new(server.addr, username, credential),
        Instant::now(),
    );
    let relayed = turn_allocate(&mut c, &udp, server.addr).unwrap();
    assert_eq!(relayed.ip(), server.addr.ip());
    assert!((61900..=61949).contains(&relayed.port()), "{relayed}");
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    c.create_permission(Instant::now(), peer_addr.ip()).unwrap();
    let mut buf = [0u8; 2048];
    let end = Instant::now() + Duration::from_secs(10);
    'perm: loop {
        assert!(Instant::now() < end, "no permission");
        while let Some(t) = c.poll_transmit() {
            udp.send_to(&t.payload, t.destination).unwrap();
        }
        if let Some(e) = c.poll_event() {
            match e {
                ClientEvent::PermissionCreated { .. } => break 'perm,
                e => panic!("unexpected {e:?}"),
            }
        }
        if let Ok(n) = udp.recv(&mut buf) {
            c.handle_receive(Instant::now(), server.addr, &buf[..n]);
        }
        let now = Instant::now();
        if c.poll_timeout().is_some_and(|t| t <= now) {
            c.handle_timeout(now);
        }
    }
    c.send(Instant::now(), peer_addr, b"through serve's TURN")
        .unwrap();
    let t = c.poll_transmit().unwrap();
    udp.send_to(&t.payload, t.destination).unwrap();
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"through serve's TURN"[..], relayed));
    peer.send_to(b"and back", relayed).unwrap();
    let mut back = None;
    while back.is_none() {
        assert!(Instant::now() < end, "nothing relayed back");
        if let Ok(n) = udp.recv(&mut buf) {
            c.handle_receive(Instant::now(), server.addr, &buf[..n]);
        }
        while let Some(e) = c.poll_event() {
            if let ClientEvent::Data { peer: p, data } = e {
                back = Some((p, data));
            }
        }
    }
    assert_eq!(back, Some((peer_addr, b"and back".to_vec())));

    let (_, health) = http(server.addr, "GET", "/health", "");
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(
        h["turn"],
        json!({"port": server.addr.port(), "allocations": 1, "created": 1})
    );
    assert_eq!(h["stun"], server.addr.port());

    // STUN Binding is answered by the TURN engine on the same port.
    let txid = [9u8; 12];
    let mut req = vec![0u8; 128];
    let b =
        MessageBuilder::new(&mut req, MessageType::BINDING_REQUEST, TransactionId(txid)).unwrap();
    let n = b.finish_with_fingerprint().unwrap();
    let stun = UdpSocket::bind("127.0.0.1:0").unwrap();
    stun.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    stun.send_to(&req[..n], server.addr).unwrap();
    let len = stun.recv(&mut buf).unwrap();
    let m = StunMessage::new_checked(&buf[..len]).unwrap();
    assert_eq!(m.class(), Class::SuccessResponse);
    assert_eq!(m.xor_mapped_address(), Some(stun.local_addr().unwrap()));

    let lines = server.interrupt();
    let last = lines.last().unwrap();
    assert!(last.contains("interrupted, shutting down"), "{lines:?}");
    assert!(
        last.contains("turn: allocations: 1 created, 1 alive; relayed 1 to peers, 1 to clients"),
        "{last}"
    );
    assert!(last.contains(" 0 send errors"), "{last}");
}

#[test]
fn turn_options_need_turn_and_conflict_with_no_stun() {
    for args in [
        &["serve", "--turn-secret", "x"][..],
        &["serve", "--turn-allow-peer", "127.0.0.0/8"],
        &["serve", "--turn", "--no-stun"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sansrtc"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--turn"), "{args:?}: {err}");
    }
}

/// One RFC 8656 section 12.5 frame from a TURN-over-TCP stream, if one arrives in time.
fn tcp_frame(s: &mut TcpStream, acc: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Ok(Some(len)) = sansrtc_turn::wire::stream_frame_len(acc)
            && len <= acc.len()
        {
            return Some(acc.drain(..len).collect());
        }
        let mut buf = [0u8; 4096];
        match s.read(&mut buf) {
            Ok(n) if n > 0 => acc.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
}

/// TURN over TCP on the HTTP port: a connection that starts with STUN goes to TURN (allocate
/// with the /ice-servers credential, relay both ways), HTTP keeps working beside it, and
/// closing the connection frees the allocation.
#[test]
fn turn_over_tcp_shares_the_http_port() {
    use sansrtc_turn::client::{Client, ClientConfig, ClientEvent};
    use sansrtc_turn::server::Transport;
    use std::time::Instant;

    let mut server = start(&[
        "--turn",
        "--turn-allow-peer",
        "127.0.0.0/8",
        "--turn-relay-ports",
        "61950-61999",
    ]);
    assert!(
        server.first.contains("ws /gateway, turn)"),
        "{}",
        server.first
    );
    let (_, body) = http(server.addr, "GET", "/ice-servers", "");
    let v: Value = serde_json::from_str(&body).unwrap();
    let turn = &v["iceServers"][1];
    let mut cfg = ClientConfig::new(
        server.addr,
        turn["username"].as_str().unwrap(),
        turn["credential"].as_str().unwrap(),
    );
    cfg.transport = Transport::Tcp;
    let mut c = Client::new(cfg, Instant::now());
    let mut tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut acc = Vec::new();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let peer_addr = peer.local_addr().unwrap();

    c.allocate(Instant::now()).unwrap();
    let mut relayed = None;
    let end = Instant::now() + Duration::from_secs(10);
    'setup: loop {
        assert!(Instant::now() < end, "no allocation and permission");
        while let Some(t) = c.poll_transmit() {
            tcp.write_all(&t.payload).unwrap();
        }
        while let Some(e) = c.poll_event() {
            match e {
                ClientEvent::Allocated { relayed: r, .. } => {
                    relayed = Some(r[0]);
                    c.create_permission(Instant::now(), peer_addr.ip()).unwrap();
                }
                ClientEvent::PermissionCreated { .. } => break 'setup,
                e => panic!("unexpected {e:?}"),
            }
        }
        if let Some(f) = tcp_frame(&mut tcp, &mut acc) {
            c.handle_receive(Instant::now(), server.addr, &f);
        }
        let now = Instant::now();
        if c.poll_timeout().is_some_and(|t| t <= now) {
            c.handle_timeout(now);
        }
    }
    let relayed = relayed.unwrap();
    assert!((61950..=61999).contains(&relayed.port()), "{relayed}");
    c.send(Instant::now(), peer_addr, b"over tcp").unwrap();
    tcp.write_all(&c.poll_transmit().unwrap().payload).unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&b"over tcp"[..], relayed));
    peer.send_to(b"back over tcp", relayed).unwrap();
    let mut back = None;
    while back.is_none() {
        assert!(Instant::now() < end, "nothing relayed back");
        if let Some(f) = tcp_frame(&mut tcp, &mut acc) {
            c.handle_receive(Instant::now(), server.addr, &f);
        }
        while let Some(e) = c.poll_event() {
            if let ClientEvent::Data { data, .. } = e {
                back = Some(data);
            }
        }
    }
    assert_eq!(back.unwrap(), b"back over tcp");

    // HTTP on the same port, while the TURN connection is open; a client that connects and
    // waits before its request is still served (the sorter waits for the first byte).
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    write!(
        slow,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    slow.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    let (status, health) = http(server.addr, "GET", "/health", "");
    assert_eq!(status, 200);
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["turn"]["allocations"], 1, "{h}");
    // Closing the connection frees the allocation.
    drop(tcp);
    let mut alive = 1;
    for _ in 0..100 {
        let (_, health) = http(server.addr, "GET", "/health", "");
        let h: Value = serde_json::from_str(&health).unwrap();
        alive = h["turn"]["allocations"].as_u64().unwrap();
        if alive == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        alive, 0,
        "allocation still alive after its connection closed"
    );

    let lines = server.interrupt();
    let last = lines.last().unwrap();
    assert!(
        last.contains("turn: allocations: 1 created, 0 alive; relayed 1 to peers, 1 to clients"),
        "{last}"
    );
}
