//! What the examples share: a blocking HTTP/1.1 JSON client for the signaling protocol of
//! `interop/py` (`/offer`, `/answer`, `/stats`), and the offer/answer exchange over it.
// Each example is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sansrtc::PeerConnection;
use serde_json::{Value, json};

/// The value after `--name` on the command line, or `default`.
pub fn arg(name: &str, default: &str) -> String {
    let mut args = std::env::args().skip_while(|a| a != name).skip(1);
    args.next().unwrap_or_else(|| default.to_owned())
}

/// Whether the bare flag `name` (no value) is on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// The ICE server flags shared by the examples, applied to `config.ice`:
/// `--stun IP:PORT`, `--turn turn:IP:PORT[?transport=udp]` with `--turn-user NAME
/// --turn-pass PASS`, and `--relay-only` (W3C `iceTransportPolicy: "relay"`: only the relayed
/// candidate is announced and paired). Host names are not resolved (this runtime has no
/// resolver); only UDP TURN is supported.
pub fn ice_servers_from_args(config: &mut sansrtc::Config) -> Result<(), String> {
    let stun = arg("--stun", "");
    if !stun.is_empty() {
        let addr = stun
            .trim_start_matches("stun:")
            .parse()
            .map_err(|e| format!("--stun {stun}: {e}"))?;
        config.ice.stun_servers.push(addr);
    }
    let turn = arg("--turn", "");
    if !turn.is_empty() {
        let (hostport, query) = turn
            .trim_start_matches("turn:")
            .split_once('?')
            .unwrap_or((turn.trim_start_matches("turn:"), ""));
        if !query.is_empty() && query != "transport=udp" {
            return Err(format!("--turn {turn}: only transport=udp is supported"));
        }
        let server = hostport
            .parse()
            .map_err(|e| format!("--turn {turn}: want turn:IP:PORT ({e})"))?;
        config.ice.turn_servers.push(sansrtc::TurnServer {
            server,
            username: arg("--turn-user", ""),
            password: arg("--turn-pass", ""),
        });
    }
    config.ice.relay_only = flag("--relay-only");
    if config.ice.relay_only && config.ice.turn_servers.is_empty() {
        return Err("--relay-only needs --turn".into());
    }
    Ok(())
}

/// One request (`Connection: close`); the 2xx response body parsed as JSON.
pub fn http(url: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let hostport = url
        .strip_prefix("http://")
        .ok_or("url must start with http://")?
        .trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).map_err(|e| format!("connect {hostport}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let body = body.map(Value::to_string).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&resp);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP header end")?;
    let status = head.split(' ').nth(1).unwrap_or("");
    if !status.starts_with('2') {
        return Err(format!("{method} {path}: HTTP {status}: {body}"));
    }
    serde_json::from_str(body).map_err(|e| format!("{method} {path}: bad JSON ({e}): {body}"))
}

/// The SDPs of one exchange, and the peer's session id.
pub struct Exchanged {
    pub session_id: String,
    pub offer: String,
    pub answer: String,
}

/// `role` "offer": our offer goes to `POST /offer` (with `mode`), the answer it returns is
/// applied. Otherwise we fetch the peer's offer (`GET /offer?mode=`), answer it and
/// `POST /answer`. Transceivers and channels must already be added.
pub fn exchange(
    pc: &mut PeerConnection,
    url: &str,
    role: &str,
    mode: &str,
) -> Result<Exchanged, String> {
    exchange_gathered(pc, url, role, mode, None)
}

/// Drives the connection until this returns (used to wait for `Event::GatheringComplete`).
pub type Gather<'a> = &'a mut dyn FnMut(&mut PeerConnection) -> Result<(), String>;

/// [`exchange`], but when `gather` is given it runs after our description is created and
/// what is sent is [`PeerConnection::local_description`] (with every gathered candidate).
pub fn exchange_gathered(
    pc: &mut PeerConnection,
    url: &str,
    role: &str,
    mode: &str,
    mut gather: Option<Gather<'_>>,
) -> Result<Exchanged, String> {
    if role == "offer" {
        let mut offer = pc.create_offer(Instant::now()).map_err(|e| e.to_string())?;
        if let Some(g) = gather.as_mut() {
            g(pc)?;
            offer = pc.local_description().ok_or("no local description")?;
        }
        let r = http(
            url,
            "POST",
            "/offer",
            Some(&json!({"type": "offer", "sdp": offer, "mode": mode})),
        )?;
        let session_id = r["id"].as_str().unwrap_or("").to_owned();
        let answer = r["sdp"].as_str().ok_or("no sdp in answer")?.to_owned();
        pc.set_remote_answer(Instant::now(), &answer)
            .map_err(|e| format!("set_remote_answer: {e}\n{answer}"))?;
        // The HTTP signaling carries complete descriptions: no candidate is trickled.
        pc.end_of_remote_candidates(Instant::now())
            .map_err(|e| format!("end_of_remote_candidates: {e}"))?;
        Ok(Exchanged {
            session_id,
            offer,
            answer,
        })
    } else {
        let r = http(url, "GET", &format!("/offer?mode={mode}"), None)?;
        let session_id = r["id"].as_str().unwrap_or("").to_owned();
        let offer = r["sdp"].as_str().ok_or("no sdp in offer")?.to_owned();
        let mut answer = pc
            .create_answer(Instant::now(), &offer)
            .map_err(|e| format!("create_answer: {e}\n{offer}"))?;
        pc.end_of_remote_candidates(Instant::now())
            .map_err(|e| format!("end_of_remote_candidates: {e}"))?;
        if let Some(g) = gather.as_mut() {
            g(pc)?;
            answer = pc.local_description().ok_or("no local description")?;
        }
        http(
            url,
            "POST",
            "/answer",
            Some(&json!({"id": session_id, "type": "answer", "sdp": answer})),
        )?;
        Ok(Exchanged {
            session_id,
            offer,
            answer,
        })
    }
}
