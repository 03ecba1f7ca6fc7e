#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod agent;
pub mod candidate;
mod config;
mod error;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use agent::{Agent, Event, IceState, Received, SelectReason, Stats, Transmit};
pub use candidate::{Address, Candidate, CandidateKind, TcpType, TransportKind};
pub use config::{Config, Credentials, Role, TurnServer};
pub use error::Error;
