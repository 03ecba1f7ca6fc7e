//! A line-oriented SRTP filter for cross-checks against other stacks (libsrtp in
//! `interop/cases/srtp_libsrtp.sh`).
//!
//! Usage: `srtp_tool PROFILE KEY_SALT_HEX [--srtcp-index N] [--window N]`
//!
//! Reads commands on stdin, one per line, and answers each with one line on stdout:
//! `protect-rtp HEX`, `unprotect-rtp HEX`, `protect-rtcp HEX`, `unprotect-rtcp HEX`
//! -> `OK HEX` or `ERR message`. One session serves both directions (send and receive
//! state are kept apart per SSRC).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use sansrtc_srtp::{Config, ProtectionProfile, Session};
use std::io::{BufRead, Write};

fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err("odd hex length".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: srtp_tool PROFILE KEY_SALT_HEX [--srtcp-index N] [--window N]");
        std::process::exit(2);
    }
    let profile: ProtectionProfile = args[1].parse().expect("profile");
    let key_salt = hex_decode(&args[2]).expect("key hex");
    let mut cfg = Config::from_key_salt(profile, &key_salt).expect("key length");
    let mut i = 3;
    while i + 1 < args.len() {
        match args[i].as_str() {
            "--srtcp-index" => cfg.initial_srtcp_index = args[i + 1].parse().expect("index"),
            "--window" => cfg.replay_window = args[i + 1].parse().expect("window"),
            other => {
                eprintln!("unknown option {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    let mut session = Session::new(cfg).expect("session");
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (cmd, arg) = line.split_once(' ').unwrap_or((line, ""));
        let reply = match hex_decode(arg.trim()) {
            Err(e) => format!("ERR bad hex: {e}"),
            Ok(mut pkt) => {
                let r = match cmd {
                    "protect-rtp" => session.protect_rtp(&mut pkt),
                    "unprotect-rtp" => session.unprotect_rtp(&mut pkt),
                    "protect-rtcp" => session.protect_rtcp(&mut pkt),
                    "unprotect-rtcp" => session.unprotect_rtcp(&mut pkt),
                    _ => {
                        writeln!(out, "ERR unknown command {cmd}").unwrap();
                        out.flush().unwrap();
                        continue;
                    }
                };
                match r {
                    Ok(()) => format!("OK {}", hex_encode(&pkt)),
                    Err(e) => format!("ERR {e}"),
                }
            }
        };
        writeln!(out, "{reply}").unwrap();
        out.flush().unwrap();
    }
}
