#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod codec;
pub mod error;
pub mod nack;
pub mod rtx;
pub mod seq;
pub mod stats;
pub mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use error::{Error, Result};
pub use wire::ext::{ExtensionKind, ExtensionMap, TypedExtension};
pub use wire::rtcp::{RtcpCompound, RtcpPacket, parse_compound};
pub use wire::rtp::{Extension, ExtensionForm, HeaderExtension, RtpPacket, RtpRepr};
