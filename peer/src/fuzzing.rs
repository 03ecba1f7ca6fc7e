//! Fuzzing entry points (not a public API). Target `peer_connection` in `../fuzz`.
//!
//! Input: first byte 0 feeds the rest as a remote SDP (to `create_answer`, accepting audio
//! and video, and `set_remote_answer`); otherwise the rest is a transcript of records
//! `[kind u8][delta_us u32 BE]` then, for kinds 0 (from the signaled peer) and 1 (from a
//! stranger), `[len u16 BE][bytes]`; kind 2 is a timer tick. They drive our offerer after
//! a real offer/answer with a peer using the deterministic DTLS backend, so a recorded
//! transcript ([`record_transcript`]) replays ICE, DTLS, SCTP and a data channel message.
//! With first byte 2 both sides also negotiate an audio and a video transceiver, and a
//! recorded transcript ([`record_media_transcript`]) replays SRTP-protected RTP and RTCP.
//!
//! Oracles: no panic; every transmit leaves from our address towards the signaled peer or an
//! address that sent us something; the event queue stays within its cap.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::{Certificate, Config, CryptoBackend, Event, PeerConnection};

const LOCAL: &str = "10.0.0.1:5000";
const REMOTE: &str = "10.0.0.2:6000";
const STRANGER: &str = "10.0.0.9:7000";

fn config(seed: u64, server: bool) -> Config {
    let mut c = base_config(seed, server);
    c.media.answer_audio = Some(crate::Direction::SendRecv);
    c.media.answer_video = Some(crate::Direction::SendRecv);
    c
}

fn base_config(seed: u64, server: bool) -> Config {
    let cert = if server {
        Certificate::from_der(
            include_bytes!("../tests/data/server_cert.der").to_vec(),
            include_bytes!("../tests/data/server_key.pk8").to_vec(),
        )
    } else {
        Certificate::from_der(
            include_bytes!("../tests/data/client_cert.der").to_vec(),
            include_bytes!("../tests/data/client_key.pk8").to_vec(),
        )
    };
    Config {
        seed: Some(seed),
        certificate: Some(cert),
        dtls_crypto: CryptoBackend::InsecureDeterministic,
        max_events: 64,
        ..Config::default()
    }
}

fn addr(s: &str) -> Option<SocketAddr> {
    s.parse().ok()
}

/// Our offerer and the answering peer, after offer/answer; with `media`, the offer has an
/// audio and a video transceiver (sendrecv) that the peer accepts.
fn pair(now: Instant, media: bool) -> Option<(PeerConnection, PeerConnection)> {
    let mut a = PeerConnection::new(config(1, false), now).ok()?;
    let mut b = PeerConnection::new(config(2, true), now).ok()?;
    a.add_local_address(now, addr(LOCAL)?).ok()?;
    b.add_local_address(now, addr(REMOTE)?).ok()?;
    if media {
        a.add_transceiver(crate::MediaKind::Audio, crate::Direction::SendRecv)
            .ok()?;
        a.add_transceiver(crate::MediaKind::Video, crate::Direction::SendRecv)
            .ok()?;
    }
    a.create_data_channel(now, "fuzz", crate::ChannelOptions::default())
        .ok()?;
    let offer = a.create_offer(now).ok()?;
    let answer = b.create_answer(now, &offer).ok()?;
    a.set_remote_answer(now, &answer).ok()?;
    Some((a, b))
}

/// The fuzz target.
pub fn peer_connection(data: &[u8]) {
    let now = Instant::now();
    match data.split_first() {
        Some((0, sdp)) => {
            let text = String::from_utf8_lossy(sdp);
            if let Ok(mut b) = PeerConnection::new(config(2, true), now) {
                let _ = b.create_answer(now, &text);
            }
            if let Ok(mut a) = PeerConnection::new(config(1, false), now)
                && a.create_offer(now).is_ok()
            {
                let _ = a.set_remote_answer(now, &text);
            }
        }
        Some((m, rest)) => {
            let _ = transcript(now, rest, *m == 2);
        }
        None => {}
    }
}

/// Replays a transcript input (leading mode byte included); true when our side received a
/// data channel message (or, in media mode 2, an RTP packet) on the way.
pub fn replay_reaches_message(data: &[u8]) -> bool {
    match data.split_first() {
        Some((m, rest)) if *m != 0 => transcript(Instant::now(), rest, *m == 2),
        _ => false,
    }
}

fn take<'a>(d: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (h, t) = (d.get(..n)?, d.get(n..)?);
    *d = t;
    Some(h)
}

fn transcript(start: Instant, mut d: &[u8], media: bool) -> bool {
    let (Some((mut a, _b)), Some(local), Some(remote), Some(stranger)) = (
        pair(start, media),
        addr(LOCAL),
        addr(REMOTE),
        addr(STRANGER),
    ) else {
        return false;
    };
    let mut now = start;
    let mut seen = vec![remote];
    let mut got = check(&mut a, local, &seen);
    while let Some(h) = take(&mut d, 5) {
        let (kind, delta) = match h {
            [k, x, y, z, w] => (*k, u32::from_be_bytes([*x, *y, *z, *w])),
            _ => return got,
        };
        now += Duration::from_micros(u64::from(delta));
        if kind % 3 == 2 {
            a.handle_timeout(now);
        } else {
            let Some(l) = take(&mut d, 2) else {
                return got;
            };
            let len = match l {
                [x, y] => usize::from(u16::from_be_bytes([*x, *y])),
                _ => return got,
            };
            let Some(bytes) = take(&mut d, len) else {
                return got;
            };
            let from = if kind % 3 == 0 { remote } else { stranger };
            if !seen.contains(&from) {
                seen.push(from);
            }
            a.handle_receive(now, local, from, bytes);
        }
        got |= check(&mut a, local, &seen);
    }
    got
}

#[allow(clippy::panic, reason = "fuzz oracle")]
fn check(a: &mut PeerConnection, local: SocketAddr, seen: &[SocketAddr]) -> bool {
    while let Some(t) = a.poll_transmit() {
        if t.source != local || !seen.contains(&t.destination) {
            panic!("transmit {} -> {} not allowed", t.source, t.destination);
        }
    }
    let mut n = 0;
    let mut got = false;
    while let Some(e) = a.poll_event() {
        n += 1;
        got |= matches!(e, Event::Message { .. } | Event::Rtp(_));
    }
    if n > 64 {
        panic!("{n} events queued, cap 64");
    }
    got
}

/// Records the transcript format from a real in-memory exchange with the peer (both sides
/// deterministic), ending after the peer's message on our channel arrived. Used to write the
/// seed corpus; returns the input (with the leading mode byte) and whether our side saw the
/// message.
pub fn record_transcript() -> (Vec<u8>, bool) {
    record(false)
}

/// Like [`record_transcript`] with the media pair (mode 2): the peer sends RTP on both
/// transceivers once SRTP is up; ends once our side received RTP and an RTCP report.
pub fn record_media_transcript() -> (Vec<u8>, bool) {
    record(true)
}

fn record(media: bool) -> (Vec<u8>, bool) {
    let start = Instant::now();
    let mut out = vec![if media { 2u8 } else { 1u8 }];
    let (Some((mut a, mut b)), Some(local), Some(remote)) =
        (pair(start, media), addr(LOCAL), addr(REMOTE))
    else {
        return (out, false);
    };
    let mut now = start;
    let mut last = start;
    let mut got = false;
    let mut delivered = false;
    let record = |out: &mut Vec<u8>, last: &mut Instant, now: Instant, kind: u8| {
        let us = (now - *last).as_nanos().div_ceil(1000);
        let us = u32::try_from(us).unwrap_or(u32::MAX);
        *last += Duration::from_micros(u64::from(us));
        out.push(kind);
        out.extend_from_slice(&us.to_be_bytes());
        *last
    };
    for _ in 0..100_000 {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            moved = true;
            b.handle_receive(now, remote, local, &t.payload);
        }
        while let Some(e) = b.poll_event() {
            match e {
                Event::ChannelOpen { id, .. } if !media => {
                    let _ = b.send(now, id, b"hello from the peer");
                }
                Event::SrtpConnected { .. } => {
                    for i in 0..3u8 {
                        let _ = b.send_rtp(now, "0", 111, u32::from(i) * 960, false, &[i; 40]);
                        let _ = b.send_rtp(now, "1", 96, u32::from(i) * 3000, true, &[i; 300]);
                    }
                }
                _ => {}
            }
        }
        while let Some(t) = b.poll_transmit() {
            moved = true;
            let at = record(&mut out, &mut last, now, 0);
            let len = u16::try_from(t.payload.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(t.payload.get(..usize::from(len)).unwrap_or(&[]));
            a.handle_receive(at, local, remote, &t.payload);
            now = at;
        }
        while let Some(e) = a.poll_event() {
            if matches!(e, Event::Message { .. } | Event::Rtp(_)) {
                delivered = true;
            }
        }
        got = delivered && (!media || a.stats().media.rtcp_received > 0);
        if got {
            break;
        }
        if moved {
            continue;
        }
        let next = [a.poll_timeout(), b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(t) = next else { break };
        now = now.max(t);
        if a.poll_timeout().is_some_and(|x| x <= now) {
            let at = record(&mut out, &mut last, now, 2);
            a.handle_timeout(at);
            now = at;
        }
        if b.poll_timeout().is_some_and(|x| x <= now) {
            b.handle_timeout(now);
        }
    }
    (out, got)
}
