#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod cert;
pub mod config;
pub mod crypto;
mod endpoint;
mod error;
mod reassembly;
pub mod wire;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use cert::{Certificate, Fingerprint};
pub use config::{
    CipherSuite, Config, CryptoBackend, NamedGroup, PeerVerification, Role, SignatureScheme,
    SrtpProfile,
};
pub use endpoint::{
    Connected, Endpoint, Event, MAX_PLAINTEXT, SRTP_EXPORTER_LABEL, Stats, Transmit,
};
pub use error::{AlertDescription, Error};

#[cfg(test)]
mod fuzzing_certs {
    use crate::Certificate;
    pub(crate) fn client() -> Certificate {
        Certificate::from_der(
            include_bytes!("../tests/data/client_cert.der").to_vec(),
            include_bytes!("../tests/data/client_key.pk8").to_vec(),
        )
    }
    pub(crate) fn server() -> Certificate {
        Certificate::from_der(
            include_bytes!("../tests/data/server_cert.der").to_vec(),
            include_bytes!("../tests/data/server_key.pk8").to_vec(),
        )
    }
}

#[cfg(test)]
mod tests;
