//! Entry points of the cargo-fuzz targets (`fuzz/fuzz_targets/sctp_*.rs`), also replayed by
//! `tests/fuzz_corpus.rs`. Each asserts an oracle, so a wrong answer is a crash too.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::wire::{self, ct};
use crate::{Association, Config, SendOptions};

/// `sctp_packet`: parse a packet and every chunk; re-encoding a parsed DATA, SACK, INIT or
/// FORWARD-TSN must give a value that parses to the same thing.
#[allow(clippy::panic)]
pub fn packet(data: &[u8]) {
    let Ok(pkt) = wire::Packet::parse(data) else {
        return;
    };
    let _ = pkt.verify_checksum(data, false);
    for c in pkt.chunks() {
        let Ok(c) = c else { break };
        match c.typ {
            ct::DATA | ct::IDATA => {
                if let Ok(d) = wire::DataChunk::parse(&c) {
                    let mut out = Vec::new();
                    d.emit(&mut out);
                    assert_eq!(out.len(), d.buffer_len());
                    let p2 = wire::Packet {
                        header: pkt.header,
                        chunk_bytes: &out,
                    };
                    let Some(Ok(c2)) = p2.chunks().next() else {
                        panic!("re-encoded DATA does not frame")
                    };
                    assert_eq!(wire::DataChunk::parse(&c2).ok(), Some(d));
                }
            }
            ct::SACK => {
                if let Ok(s) = wire::Sack::parse(c.value) {
                    let gaps: Vec<(u16, u16)> = s.gap_blocks().collect();
                    let dups: Vec<u32> = s.dup_tsns().collect();
                    let mut out = Vec::new();
                    wire::emit_sack(&mut out, s.cum_tsn, s.a_rwnd, &gaps, &dups);
                    let s2 = wire::Sack::parse(out.get(4..).unwrap_or(&[])).ok();
                    assert_eq!(s2, Some(s));
                }
            }
            ct::INIT | ct::INIT_ACK => {
                if let Ok(i) = wire::Init::parse(c.value) {
                    let mut out = Vec::new();
                    i.emit_value(&mut out);
                    assert_eq!(wire::Init::parse(&out).ok(), Some(i));
                }
            }
            ct::FORWARD_TSN | ct::IFORWARD_TSN => {
                let idata = c.typ == ct::IFORWARD_TSN;
                if let Ok(f) = wire::ForwardTsn::parse(c.value, idata) {
                    let e: Vec<wire::SkipEntry> = f.entries().collect();
                    let mut out = Vec::new();
                    wire::emit_forward_tsn(&mut out, idata, f.new_cum_tsn, &e);
                    let f2 = wire::ForwardTsn::parse(out.get(4..).unwrap_or(&[]), idata).ok();
                    assert_eq!(f2.map(|f| f.entries().collect::<Vec<_>>()), Some(e));
                }
            }
            ct::RECONFIG => for _ in wire::reconfig_params(c.value) {},
            _ => {}
        }
    }
}

fn fuzz_config(seed: u64, idata: bool) -> Config {
    Config {
        seed: Some(seed),
        enable_idata: idata,
        max_message_size: 64 * 1024,
        ..Config::default()
    }
}

fn pair(now: Instant, idata: bool) -> (Association, Association) {
    let cfg = |seed| fuzz_config(seed, idata);
    let mut a = Association::new(cfg(1), now);
    let mut b = Association::new(cfg(2), now);
    let _ = a.connect(now);
    exchange(&mut a, &mut b, now, 64);
    (a, b)
}

fn exchange(a: &mut Association, b: &mut Association, now: Instant, rounds: usize) {
    for _ in 0..rounds {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_receive(now, &t.payload);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_receive(now, &t.payload);
            moved = true;
        }
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        if !moved {
            break;
        }
    }
}

/// `sctp_association`: an established association (`b`) is fed an arbitrary sequence of
/// operations: raw chunks wrapped in a packet with the right tag and checksum, API calls, time
/// steps and honest exchanges with its peer. Oracle: no panic, and the association's memory
/// stays within its configured caps.
#[allow(clippy::panic)]
pub fn association(data: &[u8]) {
    let mut now = Instant::now();
    let idata = data.first().is_some_and(|b| b & 1 == 1);
    let (mut a, mut b) = pair(now, idata);
    if !b.is_established() {
        panic!("fuzz pair did not establish");
    }
    let mut rest = data.get(1..).unwrap_or(&[]);
    let mut steps = 0;
    while let Some((&op, tail)) = rest.split_first() {
        steps += 1;
        if steps > 512 {
            break;
        }
        rest = tail;
        match op % 8 {
            0 | 1 => {
                // Raw chunk bytes, length-prefixed, sent to b in a well-formed packet.
                let n = usize::from(rest.first().copied().unwrap_or(0)) * 4;
                let body = rest.get(1..1 + n).unwrap_or(rest.get(1..).unwrap_or(&[]));
                rest = rest.get(1 + body.len()..).unwrap_or(&[]);
                let mut p = Vec::with_capacity(12 + body.len());
                wire::emit_common_header(
                    &mut p,
                    5000,
                    5000,
                    if op % 8 == 0 { b.local_tag() } else { 0 },
                );
                p.extend_from_slice(body);
                wire::finish_packet(&mut p, false);
                b.handle_receive(now, &p);
            }
            2 => {
                let len = usize::from(rest.first().copied().unwrap_or(1)) * 97 + 1;
                let stream = u16::from(rest.get(1).copied().unwrap_or(0) % 4);
                let flags = rest.get(2).copied().unwrap_or(0);
                rest = rest.get(3..).unwrap_or(&[]);
                let opts = SendOptions {
                    unordered: flags & 1 != 0,
                    max_retransmits: (flags & 2 != 0).then_some(u32::from(flags >> 4)),
                    lifetime: (flags & 4 != 0).then_some(Duration::from_millis(u64::from(flags))),
                };
                let _ = a.send(now, stream, 53, Bytes::from(vec![flags; len]), opts);
            }
            3 => exchange(&mut a, &mut b, now, 8),
            4 => {
                // One-way delivery with loss of every k-th packet.
                let k = usize::from(rest.first().copied().unwrap_or(2)).max(2);
                rest = rest.get(1..).unwrap_or(&[]);
                let mut i = 0;
                while let Some(t) = a.poll_transmit() {
                    i += 1;
                    if i % k != 0 {
                        b.handle_receive(now, &t.payload);
                    }
                }
            }
            5 => {
                let ms = u64::from(rest.first().copied().unwrap_or(0)) * 37;
                rest = rest.get(1..).unwrap_or(&[]);
                now += Duration::from_millis(ms);
                a.handle_timeout(now);
                b.handle_timeout(now);
            }
            6 => {
                let x = rest.first().copied().unwrap_or(0);
                rest = rest.get(1..).unwrap_or(&[]);
                if x & 0x80 != 0 {
                    // The peer reboots: a fresh association sends INIT to the established
                    // b (restart, RFC 9260 section 5.2.2); the next exchange completes it.
                    a = Association::new(fuzz_config(u64::from(x) + 100, idata), now);
                    let _ = a.connect(now);
                } else {
                    let s = u16::from(x % 4);
                    let _ = a.reset_streams(now, &[s]);
                    let _ = b.reset_streams(now, &[s]);
                }
            }
            _ => {
                // Mutate a real packet from a by one byte, then deliver it.
                let pos = usize::from(rest.first().copied().unwrap_or(0));
                let val = rest.get(1).copied().unwrap_or(0);
                rest = rest.get(2..).unwrap_or(&[]);
                if let Some(t) = a.poll_transmit() {
                    let mut v = t.payload.to_vec();
                    let n = v.len().max(1);
                    if let Some(x) = v.get_mut(pos % n) {
                        *x ^= val;
                    }
                    wire::finish_packet(&mut v, false);
                    b.handle_receive(now, &v);
                }
            }
        }
        while b.poll_event().is_some() {}
        let cap = b.config().max_receive_window as usize * 2 + 64 * 1024;
        assert!(
            b.rx_buffered_for_fuzzing() <= cap,
            "receive buffer over its cap"
        );
        assert!(b.send_buffer_used() <= b.config().max_send_buffer);
    }
    exchange(&mut a, &mut b, now, 32);
}
