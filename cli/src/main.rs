//! The `sansrtc` binary: the servers WebRTC needs around it, and tools for debugging a call.
//!
//! Subcommands:
//! - `stun-server`: a STUN Binding server over UDP and TCP (RFC 8489).
//! - `turn-server`: a TURN server (RFC 8656) over UDP and TCP, with STUN Binding.
//! - `decode`: a WebRTC-aware packet dissector (hex, hex files, pcap/pcapng).
#![forbid(unsafe_code)]

mod decode;
mod hex;
mod pcap;
mod stun_server;
mod turn_server;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// sansrtc: a sans-IO WebRTC stack, its servers, and tools to debug a call.
#[derive(Parser, Debug)]
#[command(name = "sansrtc", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve STUN Binding requests (RFC 8489) over UDP and TCP on one address.
    StunServer(stun_server::Args),
    /// Relay UDP for TURN clients (RFC 8656) over UDP and TCP, with STUN Binding on the same port.
    TurnServer(turn_server::Args),
    /// Dissect WebRTC datagrams: STUN, DTLS, TURN ChannelData, RTP/RTCP (RFC 7983 demux).
    Decode(decode::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::StunServer(args) => stun_server::run(args),
        Command::TurnServer(args) => turn_server::run(args),
        Command::Decode(args) => decode::run(args),
    }
}
