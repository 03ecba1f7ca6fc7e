#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod config;
mod connection;
mod error;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use config::Config;
pub use connection::{ChannelOptions, Event, PeerConnection, SignalingState, Stats, Transmit};
pub use error::Error;
pub use sansrtc_dtls::{Certificate, CryptoBackend, Fingerprint};
pub use sansrtc_ice::IceState;
pub use sansrtc_sctp::datachannel::Reliability;
