#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod attr;
mod error;
pub mod jsep;
mod parse;
mod session;
mod text;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use attr::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, HashFunction, Msid, MsidSemantic, Rid,
    RidDirection, RtcpFb, Rtpmap, Setup, Simulcast, SimulcastRid, Ssrc, SsrcGroup,
};
pub use error::{Error, MAX_EXCERPT, ParseErrorKind};
pub use session::{
    Codec, Connection, Limits, LineEnding, LineRef, MediaLine, Origin, Section, SessionDescription,
};
