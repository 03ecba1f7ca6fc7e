//! Configuration of a [`PeerConnection`](crate::PeerConnection): every cap in one place.

use sansrtc_dtls::{Certificate, CryptoBackend};

/// Configuration. The per-layer configs are used as given except for what JSEP decides (the
/// ICE role, the DTLS role and peer fingerprint, the SCTP ports) and the seeds (derived from
/// [`Config::seed`] when set).
#[derive(Debug, Clone)]
pub struct Config {
    /// ICE agent configuration (role and local credentials are set by the connection).
    pub ice: sansrtc_ice::Config,
    /// SCTP association configuration (ports come from the SDP `a=sctp-port`).
    pub sctp: sansrtc_sctp::Config,
    /// Our DTLS certificate; `None` generates a self-signed ECDSA P-256 one in `new`.
    pub certificate: Option<Certificate>,
    /// DTLS path MTU (handshake fragmentation). Default 1200.
    pub dtls_mtu: usize,
    /// DTLS crypto backend (the insecure deterministic one is for tests and fuzzing only;
    /// both peers must use it).
    pub dtls_crypto: CryptoBackend,
    /// `a=max-message-size` we announce (RFC 8841 section 6). Default 262144.
    pub max_message_size: u64,
    /// Cap on queued events; beyond it new events are dropped and counted in
    /// [`Stats::events_dropped`](crate::Stats). Default 4096.
    pub max_events: usize,
    /// Cap on data channels requested before the association is up. Default 64.
    pub max_pending_channels: usize,
    /// Cap on remote candidates taken from one description. Default 64.
    pub max_remote_candidates: usize,
    /// Seed of every RNG inside (ICE, DTLS, SCTP, credentials); `None` seeds once from the
    /// OS in `new`.
    pub seed: Option<u64>,
    /// Media (audio/video over SRTP): what we answer, report interval, caps.
    pub media: crate::MediaConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ice: sansrtc_ice::Config::default(),
            sctp: sansrtc_sctp::Config::default(),
            certificate: None,
            dtls_mtu: 1200,
            dtls_crypto: CryptoBackend::Ring,
            max_message_size: 262_144,
            max_events: 4096,
            max_pending_channels: 64,
            max_remote_candidates: 64,
            seed: None,
            media: crate::MediaConfig::default(),
        }
    }
}
