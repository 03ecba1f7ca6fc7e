#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod association;
pub mod config;
pub mod datachannel;
pub mod error;
pub mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use association::{Association, CloseReason, Event, SendOptions, Stats, Transmit};
pub use config::Config;
pub use error::Error;
