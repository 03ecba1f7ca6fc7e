#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod crc32;
mod error;
pub mod framing;
pub mod integrity;
pub mod server;
pub mod transaction;
pub mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use error::Error;
pub use integrity::{IntegrityKey, PasswordAlgorithm};
pub use wire::{
    Attribute, Class, ErrorCode, HEADER_LEN, MAGIC_COOKIE, MAX_MESSAGE_LEN, Message,
    MessageBuilder, MessageRepr, MessageType, Method, RawAttribute, TransactionId, attr,
};
