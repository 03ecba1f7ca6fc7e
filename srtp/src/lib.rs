#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod config;
mod crypto;
mod error;
mod keys;
mod profile;
mod replay;
mod session;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use config::{
    Config, DEFAULT_MAX_STREAMS, DEFAULT_REPLAY_WINDOW, MAX_MKI_LEN, Role, split_keying_material,
};
pub use crypto::hmac_sha1;
pub use error::{Error, Result};
pub use keys::{SessionKeys, aes_cm_apply_keystream, kdf};
pub use profile::ProtectionProfile;
pub use replay::MAX_REPLAY_WINDOW;
pub use session::{MAX_INDEX, Session, Stats, is_rtcp};
