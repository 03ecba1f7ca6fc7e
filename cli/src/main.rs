//! The `sansrtc` binary: the servers WebRTC needs around it, and tools for debugging a call.
//!
//! Subcommands:
//! - `stun-server`: a STUN Binding server over UDP and TCP (RFC 8489).
//! - `turn-server`: a TURN server (RFC 8656) over UDP and TCP, with STUN Binding.
//! - `decode`: a WebRTC-aware packet dissector (hex, hex files, pcap/pcapng).
//! - `serve`: web page, WebSocket signaling, STUN and the engine gateway in one process.
//! - `sdp`: checks an SDP (line-numbered errors, typed JSON, lossless round trip).
#![forbid(unsafe_code)]

mod decode;
mod hex;
mod pcap;
mod sdp_cmd;
mod serve;
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
    /// Serve the demo web page, WebSocket signaling (rooms), the engine gateway (drive a
    /// server-side sansrtc PeerConnection over a WebSocket), an echo bot, and STUN on UDP.
    Serve(serve::Args),
    /// Dissect WebRTC datagrams: STUN, DTLS, TURN ChannelData, RTP/RTCP (RFC 7983 demux).
    Decode(decode::Args),
    /// Check an SDP: errors with line numbers, a summary per media section, `--json` for the
    /// typed model, `--roundtrip` for the serialized text (identical to valid input).
    Sdp(SdpArgs),
}

/// Arguments of `sansrtc sdp`.
#[derive(clap::Args, Debug)]
struct SdpArgs {
    /// The SDP file, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    input: String,
    /// Print the typed model (sessions, media sections, codecs with fmtp, extmaps, ICE and
    /// DTLS parameters, rids and simulcast) as JSON.
    #[arg(long, conflicts_with = "roundtrip")]
    json: bool,
    /// Print the serialized SDP (byte-identical to valid input).
    #[arg(long)]
    roundtrip: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::StunServer(args) => stun_server::run(args),
        Command::TurnServer(args) => turn_server::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Sdp(args) => sdp_cmd::run(&args.input, args.json, args.roundtrip),
    }
}
