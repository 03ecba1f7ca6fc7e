//! `sansrtc stun-server` through real sockets on loopback: UDP, TCP framing, garbage,
//! flags, shutdown. STUN messages are built and checked with the sansrtc-stun crate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use sansrtc_stun::{Class, Message, MessageBuilder, MessageType, TransactionId};

mod common;
use common::Server;

/// `sansrtc stun-server --listen 127.0.0.1:0 EXTRA`, UDP and TCP on the same port.
fn start(extra: &[&str]) -> Server {
    let mut args = vec!["stun-server", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let server = Server::spawn(&args, &[]);
    // "sansrtc stun-server: listening on udp 127.0.0.1:P and tcp 127.0.0.1:P"
    let tcp = server.first.split("tcp ").nth(1).unwrap();
    assert_eq!(
        server.addr.to_string(),
        tcp,
        "UDP and TCP share the port: {}",
        server.first
    );
    server
}

fn request(txid: [u8; 12]) -> Vec<u8> {
    let mut buf = vec![0u8; 128];
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId(txid)).unwrap();
    b.software("sansrtc test").unwrap();
    let n = b.finish_with_fingerprint().unwrap();
    buf.truncate(n);
    buf
}

fn check_success(resp: &[u8], txid: [u8; 12], expect_mapped: SocketAddr) {
    let m = Message::new_checked(resp).unwrap();
    assert_eq!(m.class(), Class::SuccessResponse);
    assert_eq!(m.transaction_id(), TransactionId(txid));
    assert_eq!(m.xor_mapped_address(), Some(expect_mapped));
    assert!(m.has_fingerprint());
    m.verify_fingerprint().unwrap();
    assert_eq!(
        m.software(),
        Some(concat!("sansrtc ", env!("CARGO_PKG_VERSION")))
    );
}

fn udp_client() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s
}

#[test]
fn udp_binding_then_graceful_shutdown() {
    let mut server = start(&[]);
    let sock = udp_client();
    for i in 0..3u8 {
        let txid = [i; 12];
        sock.send_to(&request(txid), server.addr).unwrap();
        let mut buf = [0u8; 1500];
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        assert_eq!(from, server.addr);
        check_success(&buf[..n], txid, sock.local_addr().unwrap());
    }
    let lines = server.interrupt();
    let last = lines.iter().find(|l| l.contains("shutting down")).unwrap();
    assert!(last.contains("udp: 3 datagrams, 3 answered"), "{last}");
}

#[test]
fn udp_survives_garbage_flood() {
    use rand::{Rng, SeedableRng};
    let server = start(&[]);
    let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let valid = request([9; 12]);
    for i in 0..5000usize {
        let datagram: Vec<u8> = match i % 4 {
            0 => (0..rng.random_range(0..300))
                .map(|_| rng.random())
                .collect(),
            1 => valid[..rng.random_range(0..valid.len())].to_vec(),
            2 => {
                let mut v = valid.clone();
                let at = rng.random_range(0..v.len());
                v[at] ^= 1 << rng.random_range(0..8);
                v
            }
            _ => {
                let mut v = valid[..20].to_vec();
                v[2..4].copy_from_slice(&rng.random::<u16>().to_be_bytes());
                v
            }
        };
        let _ = flood.send_to(&datagram, server.addr);
    }
    // The flood may still fill the server's receive queue, where the kernel drops datagrams
    // (ours included); a STUN client retransmits (RFC 8489 6.2.1), so this one does too. Every
    // answer must be a valid success for our transaction: this socket sent nothing else.
    let sock = udp_client();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let txid = [42; 12];
    let mut buf = [0u8; 1500];
    let mut answered = None;
    for _ in 0..10 {
        sock.send_to(&request(txid), server.addr).unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            answered = Some(n);
            break;
        }
    }
    let n = answered.expect("no answer to 10 transmissions after the flood");
    check_success(&buf[..n], txid, sock.local_addr().unwrap());
}

#[test]
fn tcp_framing_back_to_back_and_split() {
    let server = start(&[]);
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let local = s.local_addr().unwrap();
    let (a, b, c) = (request([1; 12]), request([2; 12]), request([3; 12]));
    let mut both = a.clone();
    both.extend_from_slice(&b);
    s.write_all(&both).unwrap();
    s.write_all(&c[..5]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&c[5..]).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut responses = Vec::new();
    while responses.len() < 3 {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed early");
        got.extend_from_slice(&buf[..n]);
        while got.len() >= 20 {
            let len = 20 + u16::from_be_bytes([got[2], got[3]]) as usize;
            if got.len() < len {
                break;
            }
            responses.push(got.drain(..len).collect::<Vec<u8>>());
        }
    }
    for (resp, txid) in responses.iter().zip([[1; 12], [2; 12], [3; 12]]) {
        check_success(resp, txid, local);
    }
}

#[test]
fn tcp_garbage_closes_only_that_connection() {
    let server = start(&["--max-tcp-connections", "4"]);
    let mut bad = TcpStream::connect(server.addr).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    bad.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = bad.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "a non-STUN stream is closed without an answer");

    let mut good = TcpStream::connect(server.addr).unwrap();
    good.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    good.write_all(&request([7; 12])).unwrap();
    let mut resp = vec![0u8; 1500];
    let n = good.read(&mut resp).unwrap();
    check_success(&resp[..n], [7; 12], good.local_addr().unwrap());
}

#[test]
fn bad_flags_are_clear_errors() {
    let bin = env!("CARGO_BIN_EXE_sansrtc");
    let out = Command::new(bin)
        .args(["stun-server", "--listen", "nonsense"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value 'nonsense'") && err.contains("--listen"),
        "{err}"
    );

    let out = Command::new(bin)
        .args(["stun-server", "--max-tcp-connections", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-tcp-connections"));

    let out = Command::new(bin)
        .args(["stun-server", "--no-udp", "--no-tcp"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));

    // A port in use is a clear runtime error, not a panic.
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let out = Command::new(bin)
        .args([
            "stun-server",
            "--listen",
            &taken.local_addr().unwrap().to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot bind UDP"));
}

#[test]
fn help_explains_every_option() {
    let out = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
        .args(["stun-server", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for opt in [
        "--listen",
        "--no-udp",
        "--no-tcp",
        "--software",
        "--max-tcp-connections",
        "--tcp-idle-timeout",
    ] {
        assert!(help.contains(opt), "--help lacks {opt}:\n{help}");
    }
    assert!(help.contains("XOR-MAPPED-ADDRESS"));
}
