//! Media echo against an HTTP-signaling peer (`interop/py/chromium_peer.py`, mode `media`):
//! one UDP socket on 127.0.0.1:0, a `recv_from` loop with the `poll_timeout` deadline.
//!
//! ```text
//! media_echo --url http://127.0.0.1:8702 --role offer  --seconds 8
//! media_echo --url http://127.0.0.1:8702 --role answer --seconds 8 --mode both
//! ```
//! `offer`: we offer an audio and a video transceiver (sendrecv, Opus and VP8) plus the data
//! channel section; `answer`: we answer the peer's media offer accepting audio and video
//! sendrecv. Every RTP packet that arrives (decrypted and routed by the PeerConnection) is
//! counted and sent back unchanged on our own track of the same mid (our SSRC, the peer's
//! sequence numbers); after the first video packet we ask for a keyframe (PLI), and a keyframe request
//! from the peer is passed on to it the same way. After `--seconds` we print one JSON line
//! with our counters and the peer's `/stats`, and exit 0 if packets were received and
//! authenticated on both mids. `--mode both` (default `media`) also runs a data channel
//! `echo` in the same BUNDLE group (ours when we offer, the peer's when it offers) and
//! requires 20 text messages to come back. `--loss-every N` drops every Nth RTP datagram in
//! each direction at the socket (a lossy link without netem): the NACK repair both ways
//! shows in the counters (`rtp_retransmitted`, `nacks_sent`) and in the peer's stats.
//! `--stun`, `--turn` (+ `--turn-user`, `--turn-pass`) and `--relay-only` as in `dc_peer`.
//! `--codec vp9` (or `vp8`, `av1`, `h264`): offer and accept only that video codec
//! (`interop/cases/peer_chromium_codecs.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sansrtc::{ChannelOptions, Config, Direction, Event, MediaKind, PeerConnection, VideoCodec};
use serde_json::{Value, json};

#[derive(Default)]
struct Counts {
    received: u64,
    bytes: u64,
    echoed: u64,
    echo_errors: u64,
    keyframe_requests: u64,
    plis_sent: u64,
    markers: u64,
}

const DC_MESSAGES: usize = 20;

/// Drops every `every`th RTP datagram (not RTCP, STUN or DTLS); 0 never.
struct Lossy {
    every: u64,
    seen: u64,
    dropped: u64,
}

impl Lossy {
    fn drop(&mut self, d: &[u8]) -> bool {
        let rtp = d.len() > 1 && (128..=191).contains(&d[0]) && !(192..=223).contains(&d[1]);
        if self.every == 0 || !rtp {
            return false;
        }
        self.seen += 1;
        let drop = self.seen.is_multiple_of(self.every);
        self.dropped += u64::from(drop);
        drop
    }
}

fn run(url: &str, role: &str, mode: &str, seconds: u64, loss_every: u64) -> Result<(), String> {
    let mut loss_in = Lossy {
        every: loss_every,
        seen: 0,
        dropped: 0,
    };
    let mut loss_out = Lossy {
        every: loss_every,
        seen: 0,
        dropped: 0,
    };
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut config = Config::default();
    common::ice_servers_from_args(&mut config)?;
    config.media.answer_audio = Some(Direction::SendRecv);
    config.media.answer_video = Some(Direction::SendRecv);
    // `--codec vp9|av1|h264|vp8`: offer and accept only that video codec.
    if let Some(c) = VideoCodec::from_name(&common::arg("--codec", "")) {
        config.media.video_codecs = vec![c];
    }
    let mut pc = PeerConnection::new(config, start).map_err(|e| e.to_string())?;
    pc.add_local_address(start, local)
        .map_err(|e| e.to_string())?;
    if role == "offer" {
        pc.add_transceiver(MediaKind::Audio, Direction::SendRecv)
            .map_err(|e| e.to_string())?;
        pc.add_transceiver(MediaKind::Video, Direction::SendRecv)
            .map_err(|e| e.to_string())?;
        if mode == "both" {
            pc.create_data_channel(start, "echo", ChannelOptions::default())
                .map_err(|e| e.to_string())?;
        }
    }
    let ex = common::exchange(&mut pc, url, role, mode)?;
    eprintln!("media_echo: offer\n{}\nanswer\n{}", ex.offer, ex.answer);
    let session_id = ex.session_id;
    let mut kinds: BTreeMap<String, MediaKind> = BTreeMap::new();
    for (mid, kind, dir) in pc.transceivers() {
        eprintln!(
            "media_echo: mid {mid} {kind:?} {dir:?} codecs {:?}",
            pc.codecs(&mid)
        );
        kinds.insert(mid.to_string(), kind);
    }
    eprintln!(
        "media_echo: signaling done ({role}, session {session_id}) in {:?}",
        start.elapsed()
    );

    let end = start + Duration::from_secs(seconds);
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    let mut srtp_at = None;
    let mut dc_echoed = 0usize;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = Instant::now();
        if now > end {
            break;
        }
        while let Some(t) = pc.poll_transmit() {
            if !loss_out.drop(&t.payload) {
                let _ = socket.send_to(&t.payload, t.destination);
            }
        }
        while let Some(e) = pc.poll_event() {
            match e {
                Event::Rtp(p) => {
                    let c = counts.entry(p.mid.to_string()).or_default();
                    c.received += 1;
                    c.bytes += p.payload.len() as u64;
                    c.markers += u64::from(p.marker);
                    let first_video =
                        c.received == 1 && kinds.get(&*p.mid) == Some(&MediaKind::Video);
                    // The peer's sequence numbers on our SSRC: a packet that never reached us
                    // leaves a gap the peer NACKs (and then asks for a keyframe), instead of
                    // a frame silently missing a packet.
                    match pc.send_rtp_with_sequence(
                        now,
                        &p.mid,
                        p.sequence_number,
                        p.payload_type,
                        p.timestamp,
                        p.marker,
                        &p.payload,
                    ) {
                        Ok(()) => c.echoed += 1,
                        Err(_) => c.echo_errors += 1,
                    }
                    if first_video && pc.request_keyframe(now, &p.mid).is_ok() {
                        c.plis_sent += 1;
                    }
                }
                Event::KeyframeRequest { mid } => {
                    let c = counts.entry(mid.to_string()).or_default();
                    c.keyframe_requests += 1;
                    if pc.request_keyframe(now, &mid).is_ok() {
                        c.plis_sent += 1;
                    }
                }
                Event::Nack { .. } => {}
                Event::ChannelOpen { id, label, .. } if label == "echo" => {
                    for i in 0..DC_MESSAGES {
                        pc.send_text(now, id, &format!("message {i}"))
                            .map_err(|e| format!("send_text: {e}"))?;
                    }
                }
                Event::Message { data, .. } => {
                    if data.as_ref() == format!("message {dc_echoed}").as_bytes() {
                        dc_echoed += 1;
                    }
                }
                Event::SrtpConnected { profile } => {
                    srtp_at = Some(start.elapsed());
                    eprintln!("media_echo: SRTP {profile} after {:?}", start.elapsed());
                }
                Event::DtlsClosed { reason } => return Err(format!("DTLS closed: {reason}")),
                other => eprintln!("media_echo: {other:?} at {:?}", start.elapsed()),
            }
        }
        let wait = pc
            .poll_timeout()
            .map_or(Duration::from_millis(50), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(50));
        socket
            .set_read_timeout(Some(wait))
            .map_err(|e| e.to_string())?;
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            if !loss_in.drop(&buf[..n]) {
                pc.handle_receive(Instant::now(), local, from, &buf[..n]);
            }
            socket.set_nonblocking(true).ok();
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                if !loss_in.drop(&buf[..n]) {
                    pc.handle_receive(Instant::now(), local, from, &buf[..n]);
                }
            }
            socket.set_nonblocking(false).ok();
        }
        let now = Instant::now();
        if pc.poll_timeout().is_some_and(|t| t <= now) {
            pc.handle_timeout(now);
        }
    }
    let peer_stats = common::http(url, "GET", &format!("/stats?id={session_id}"), None)
        .unwrap_or_else(|e| json!({"error": e}));
    let stats = pc.stats();
    let per_mid: Value = counts
        .iter()
        .map(|(mid, c)| {
            (
                mid.clone(),
                json!({"kind": format!("{:?}", kinds.get(mid)), "received": c.received, "bytes": c.bytes,
                       "echoed": c.echoed, "echo_errors": c.echo_errors, "markers": c.markers,
                       "keyframe_requests": c.keyframe_requests, "plis_sent": c.plis_sent}),
            )
        })
        .collect::<serde_json::Map<String, Value>>()
        .into();
    let m = stats.media;
    let summary = json!({
        "role": role,
        "mode": mode,
        "dc_echoed": dc_echoed,
        "srtp_connected_after_ms": srtp_at.map(|d| d.as_millis() as u64),
        "per_mid": per_mid,
        "media": {"rtp_received": m.rtp_received, "rtcp_received": m.rtcp_received,
                  "srtp_rejected": m.srtp_rejected, "rtp_unroutable": m.rtp_unroutable,
                  "rtp_sent": m.rtp_sent, "rtcp_sent": m.rtcp_sent,
                  "keyframe_requests_received": m.keyframe_requests_received,
                  "nacks_received": m.nacks_received, "nacks_sent": m.nacks_sent,
                  "rtp_retransmitted": m.rtp_retransmitted,
                  "dropped_in": loss_in.dropped, "dropped_out": loss_out.dropped},
        "peer": peer_stats,
    });
    println!("{summary}");
    pc.close_connection(Instant::now());
    while let Some(t) = pc.poll_transmit() {
        let _ = socket.send_to(&t.payload, t.destination);
    }
    let audio = counts
        .iter()
        .any(|(mid, c)| kinds.get(mid) == Some(&MediaKind::Audio) && c.received > 0);
    let video = counts
        .iter()
        .any(|(mid, c)| kinds.get(mid) == Some(&MediaKind::Video) && c.received > 0);
    if !(audio && video) {
        return Err(format!("media missing: audio {audio}, video {video}"));
    }
    if mode == "both" && dc_echoed != DC_MESSAGES {
        return Err(format!(
            "data channel: {dc_echoed}/{DC_MESSAGES} messages echoed"
        ));
    }
    Ok(())
}

fn main() -> ExitCode {
    use common::arg;
    let url = arg("--url", "http://127.0.0.1:8702");
    let role = arg("--role", "offer");
    let mode = arg("--mode", "media");
    let seconds: u64 = arg("--seconds", "8").parse().unwrap_or(8);
    let loss_every: u64 = arg("--loss-every", "0").parse().unwrap_or(0);
    match run(&url, &role, &mode, seconds, loss_every) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("media_echo: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
