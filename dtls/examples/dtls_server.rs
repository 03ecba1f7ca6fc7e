//! `cargo run -p sansrtc-dtls --example dtls_server -- ADDR [--fingerprint FP]`
//!
//! Our DTLS server on a real UDP socket with a fresh self-signed certificate, accepting the
//! four SRTP profiles. Serves one connection: prints `profile=` and `keying_material=` after
//! the handshake, echoes application data, and exits when the peer closes (or after
//! `--idle-exit` seconds of silence).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::net::UdpSocket;
use std::time::Instant;

use sansrtc_dtls::{Endpoint, Role};

fn main() {
    let args = common::args();
    let sock = UdpSocket::bind(&args.addr).expect("bind");
    eprintln!("listening on {}", sock.local_addr().unwrap());
    let mut buf = vec![0u8; 65536];
    let (n, peer) = sock.recv_from(&mut buf).expect("recv");
    sock.connect(peer).expect("connect");
    let ep = Endpoint::new(common::config(Role::Server, &args), Instant::now()).expect("endpoint");
    std::process::exit(common::run(
        ep,
        &sock,
        Some(buf[..n].to_vec()),
        true,
        args.idle_exit,
    ));
}
