#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod config;
mod connection;
mod error;
mod media;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use config::Config;
pub use connection::{ChannelOptions, Event, PeerConnection, SignalingState, Stats, Transmit};
pub use error::Error;
pub use media::{MediaConfig, MediaStats, RtpPacketIn, VideoCodec};
pub use sansrtc_dtls::{Certificate, CryptoBackend, Fingerprint};
pub use sansrtc_ice::{IceState, TurnServer};
pub use sansrtc_sctp::datachannel::Reliability;
pub use sansrtc_sdp::Direction;
pub use sansrtc_sdp::jsep::MediaKind;
