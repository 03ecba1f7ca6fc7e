#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
mod error;
mod fasthash;
pub mod nonce;
pub mod policy;
pub mod wire;

pub use error::Error;
pub mod client;
pub mod server;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
