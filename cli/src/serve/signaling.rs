//! WebSocket signaling at `/ws`: rooms of peers that relay JSON messages to one member or to
//! every other member. The server understands only `join` and `leave`; everything else
//! (offer, answer, candidate, chat, ...) is relayed unchanged with `from` added.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::Shared;

/// Messages, and bytes, waiting for one client's socket; a relay to a full queue is refused
/// with `queue_full` (the recipient is not reading).
const CLIENT_QUEUE: usize = 256;
const CLIENT_QUEUE_BYTES: usize = 1024 * 1024;
/// How long one write to a client may block before the client is dropped.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Longest room name.
const MAX_ROOM_NAME: usize = 64;

/// One client's outgoing queue, bounded in messages and in bytes.
#[derive(Clone)]
struct Queue {
    tx: mpsc::Sender<Utf8Bytes>,
    bytes: Arc<AtomicUsize>,
}

impl Queue {
    /// Queues `text`; false when the queue is full.
    fn offer(&self, text: &Utf8Bytes) -> bool {
        if self
            .bytes
            .load(Ordering::Relaxed)
            .saturating_add(text.len())
            > CLIENT_QUEUE_BYTES
        {
            return false;
        }
        if self.tx.try_send(text.clone()).is_err() {
            return false;
        }
        self.bytes.fetch_add(text.len(), Ordering::Relaxed);
        true
    }
}

type RoomMap = HashMap<String, BTreeMap<String, Queue>>;

/// Every room: name -> (peer id -> that peer's outgoing queue).
#[derive(Default)]
pub(super) struct Rooms {
    inner: Mutex<RoomMap>,
}

impl Rooms {
    fn lock(&self) -> std::sync::MutexGuard<'_, RoomMap> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing the server, so keep serving.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Number of rooms.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// A signaling error sent to the client as `{"type":"error","code","message"}`.
fn error(code: &str, message: impl Into<String>) -> Utf8Bytes {
    json!({"type": "error", "code": code, "message": message.into()})
        .to_string()
        .into()
}

fn valid_room(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ROOM_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Token bucket: `rate` messages per second, burst `rate`.
struct Bucket {
    tokens: f64,
    rate: f64,
    last: Instant,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        Bucket {
            tokens: f64::from(rate),
            rate: f64::from(rate),
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One signaling client.
struct Client {
    id: String,
    room: Option<String>,
    queue: Queue,
}

/// Serves one `/ws` client until it closes or the server stops.
pub(super) async fn client(socket: WebSocket, shared: Arc<Shared>) {
    let (mut sink, mut stream) = socket.split();
    let Ok(_permit) = shared.clients.clone().try_acquire_owned() else {
        shared.counters.refused.fetch_add(1, Ordering::Relaxed);
        let _ = sink
            .send(Message::Text(error(
                "server_full",
                "too many signaling clients (--max-clients)",
            )))
            .await;
        let _ = sink.send(close(1013, "server full")).await;
        return;
    };
    shared.counters.ws_clients.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(CLIENT_QUEUE);
    let mut me = Client {
        id: format!("p{}", shared.next_id()),
        room: None,
        queue: Queue {
            tx,
            bytes: Arc::new(AtomicUsize::new(0)),
        },
    };
    let mut bucket = Bucket::new(shared.args.max_messages_per_second);
    let mut shutdown = shared.shutdown.clone();
    let max = shared.args.max_message_size as usize;
    loop {
        let reply = tokio::select! {
            m = stream.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    if t.len() > max {
                        shared.counters.refused.fetch_add(1, Ordering::Relaxed);
                        Some(error("too_large", format!("{} bytes > --max-message-size {max}", t.len())))
                    } else if !bucket.take() {
                        shared.counters.refused.fetch_add(1, Ordering::Relaxed);
                        Some(error("rate_limited", format!("more than {} messages per second", shared.args.max_messages_per_second)))
                    } else {
                        handle(&shared, &mut me, t.as_str())
                    }
                }
                Some(Ok(Message::Binary(_))) => Some(error("bad_request", "binary frames are not used on /ws; send JSON text")),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(e)) => {
                    // Over the hard cap (twice --max-message-size) or a protocol error.
                    let _ = sink.send(close(1009, &e.to_string())).await;
                    break;
                }
            },
            Some(out) = rx.recv() => {
                me.queue.bytes.fetch_sub(out.len(), Ordering::Relaxed);
                Some(out)
            }
            () = super::stopped(&mut shutdown) => {
                let _ = sink.send(Message::Text(json!({"type": "shutdown"}).to_string().into())).await;
                let _ = sink.send(close(1001, "server shutting down")).await;
                break;
            }
        };
        if let Some(text) = reply {
            // A client that stops reading is dropped rather than holding its task forever.
            let sent = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(text))).await;
            if !matches!(sent, Ok(Ok(()))) {
                break;
            }
        }
    }
    leave(&shared, &mut me);
}

fn close(code: u16, reason: &str) -> Message {
    // A close reason is at most 123 bytes.
    let mut reason = reason.to_owned();
    while reason.len() > 120 {
        reason.pop();
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Handles one text message; returns the reply to the sender, if any.
fn handle(shared: &Shared, me: &mut Client, text: &str) -> Option<Utf8Bytes> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Some(error("bad_json", "not JSON"));
    };
    let Value::Object(mut obj) = v else {
        return Some(error("bad_request", "want a JSON object"));
    };
    let Some(kind) = obj.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return Some(error("bad_request", "missing string field \"type\""));
    };
    match kind.as_str() {
        "join" => Some(join(shared, me, obj.get("room").and_then(Value::as_str))),
        "leave" => {
            let room = me.room.clone();
            if leave(shared, me) {
                Some(json!({"type": "left", "room": room}).to_string().into())
            } else {
                Some(error("not_joined", "not in a room"))
            }
        }
        _ => relay(shared, me, &mut obj),
    }
}

fn join(shared: &Shared, me: &mut Client, room: Option<&str>) -> Utf8Bytes {
    let Some(room) = room else {
        return error("bad_room", "missing string field \"room\"");
    };
    if !valid_room(room) {
        return error(
            "bad_room",
            format!("room name must be 1-{MAX_ROOM_NAME} of A-Z a-z 0-9 _ - ."),
        );
    }
    if let Some(current) = &me.room {
        return error(
            "already_joined",
            format!("already in room {current}; leave first"),
        );
    }
    let mut rooms = shared.rooms.lock();
    let rooms_len = rooms.len();
    let members = match rooms.get_mut(room) {
        Some(m) => m,
        None if rooms_len >= shared.args.max_rooms as usize => {
            return error(
                "too_many_rooms",
                format!("{rooms_len} rooms exist (--max-rooms)"),
            );
        }
        None => rooms.entry(room.to_owned()).or_default(),
    };
    if members.len() >= shared.args.max_room_members as usize {
        return error(
            "room_full",
            format!(
                "room {room} has {} members (--max-room-members)",
                members.len()
            ),
        );
    }
    let peers: Vec<String> = members.keys().cloned().collect();
    let note: Utf8Bytes = json!({"type": "peer_joined", "id": me.id})
        .to_string()
        .into();
    for q in members.values() {
        q.offer(&note);
    }
    members.insert(me.id.clone(), me.queue.clone());
    me.room = Some(room.to_owned());
    json!({"type": "joined", "room": room, "id": me.id, "peers": peers})
        .to_string()
        .into()
}

/// Leaves the room (notifying the others); false when not in one.
fn leave(shared: &Shared, me: &mut Client) -> bool {
    let Some(room) = me.room.take() else {
        return false;
    };
    let mut rooms = shared.rooms.lock();
    if let Some(members) = rooms.get_mut(&room) {
        members.remove(&me.id);
        let note: Utf8Bytes = json!({"type": "peer_left", "id": me.id}).to_string().into();
        for q in members.values() {
            q.offer(&note);
        }
        if members.is_empty() {
            rooms.remove(&room);
        }
    }
    true
}

fn relay(shared: &Shared, me: &Client, obj: &mut Map<String, Value>) -> Option<Utf8Bytes> {
    let Some(room) = &me.room else {
        return Some(error("not_joined", "join a room before sending"));
    };
    let to = match obj.remove("to") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Some(error("bad_request", "\"to\" must be a peer id string")),
    };
    obj.insert("from".to_owned(), Value::String(me.id.clone()));
    let text: Utf8Bytes = Value::Object(std::mem::take(obj)).to_string().into();
    let rooms = shared.rooms.lock();
    let Some(members) = rooms.get(room) else {
        return Some(error("not_joined", "room is gone"));
    };
    let targets: Vec<(&String, &Queue)> = match &to {
        Some(id) if *id == me.id => return Some(error("unknown_peer", "cannot send to yourself")),
        Some(id) => match members.get_key_value(id) {
            Some(t) => vec![t],
            None => {
                return Some(error(
                    "unknown_peer",
                    format!("no peer {id} in room {room}"),
                ));
            }
        },
        None => members.iter().filter(|(id, _)| **id != me.id).collect(),
    };
    let mut full = Vec::new();
    for (id, q) in targets {
        if q.offer(&text) {
            shared.counters.relayed.fetch_add(1, Ordering::Relaxed);
        } else {
            full.push(id.clone());
        }
    }
    if full.is_empty() {
        None
    } else {
        shared
            .counters
            .refused
            .fetch_add(full.len() as u64, Ordering::Relaxed);
        Some(error(
            "queue_full",
            format!("not delivered to {} (not reading)", full.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names() {
        assert!(valid_room("a"));
        assert!(valid_room("Room_1-x.y"));
        assert!(!valid_room(""));
        assert!(!valid_room("a b"));
        assert!(!valid_room("é"));
        assert!(valid_room(&"r".repeat(MAX_ROOM_NAME)));
        assert!(!valid_room(&"r".repeat(MAX_ROOM_NAME + 1)));
    }

    #[test]
    fn bucket_refuses_beyond_burst() {
        let mut b = Bucket::new(3);
        assert!(b.take() && b.take() && b.take());
        assert!(!b.take());
    }
}
