#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod driver;
mod error;
mod link;
mod nat;
mod network;
pub mod pcap;
mod rng;
mod seed;

pub use driver::{Driver, Endpoint, Outcome};
pub use error::Error;
pub use link::{DropCause, DropStats, GilbertElliott, LinkConfig, LinkStats, MAX_DELAY};
pub use nat::{NatConfig, NatId, NatKind, NatMapping, PortAllocation, Subnet};
pub use network::{Datagram, Limits, Network, TraceEvent, TraceKind};
pub use pcap::CaptureRecord;
pub use seed::{SEED_ENV, env_seed, parse_seed, run_seeds, seeds, try_run_seeds};
