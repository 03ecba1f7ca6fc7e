//! `cargo run -p sansrtc-dtls --example dtls_client -- ADDR [--fingerprint FP]`
//!
//! Our DTLS client over a real UDP socket with a fresh self-signed certificate, offering the
//! four SRTP profiles. Prints `profile=` and `keying_material=` after the handshake, sends
//! each stdin line as application data and prints what it receives (`received=`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::net::UdpSocket;
use std::time::Instant;

use sansrtc_dtls::{Endpoint, Role};

fn main() {
    let args = common::args();
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.connect(&args.addr).expect("connect");
    let ep = Endpoint::new(common::config(Role::Client, &args), Instant::now()).expect("endpoint");
    std::process::exit(common::run(ep, &sock, None, false, args.idle_exit));
}
