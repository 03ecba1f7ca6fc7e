//! Configuration and the negotiable parameters.

use core::time::Duration;

use crate::cert::{Certificate, Fingerprint};

/// Which side of the handshake we are (RFC 5763 §5: `a=setup` decides it in WebRTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sends the ClientHello.
    Client,
    /// Answers it.
    Server,
}

/// The cipher suites this crate implements (RFC 5289, RFC 7905).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherSuite {
    /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xC02B), the one every browser offers.
    EcdheEcdsaAes128GcmSha256,
    /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xC02C).
    EcdheEcdsaAes256GcmSha384,
    /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xCCA9).
    EcdheEcdsaChacha20Poly1305Sha256,
    /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xC02F): client side only (we have no RSA key).
    EcdheRsaAes128GcmSha256,
}

impl CipherSuite {
    /// All, in our default preference order.
    pub const ALL: [Self; 4] = [
        Self::EcdheEcdsaAes128GcmSha256,
        Self::EcdheEcdsaAes256GcmSha384,
        Self::EcdheEcdsaChacha20Poly1305Sha256,
        Self::EcdheRsaAes128GcmSha256,
    ];

    /// IANA code point.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            Self::EcdheEcdsaAes128GcmSha256 => 0xc02b,
            Self::EcdheEcdsaAes256GcmSha384 => 0xc02c,
            Self::EcdheEcdsaChacha20Poly1305Sha256 => 0xcca9,
            Self::EcdheRsaAes128GcmSha256 => 0xc02f,
        }
    }

    /// From the code point.
    #[must_use]
    pub fn from_code(c: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == c)
    }

    /// Whether the server authenticates with an RSA key.
    #[must_use]
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::EcdheRsaAes128GcmSha256)
    }

    /// Whether the PRF hash is SHA-384 (RFC 5289 §3.2).
    #[must_use]
    pub fn sha384(self) -> bool {
        matches!(self, Self::EcdheEcdsaAes256GcmSha384)
    }

    /// The IANA name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdheEcdsaAes128GcmSha256 => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            Self::EcdheEcdsaAes256GcmSha384 => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            Self::EcdheEcdsaChacha20Poly1305Sha256 => {
                "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
            }
            Self::EcdheRsaAes128GcmSha256 => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        }
    }
}

/// Key exchange groups (RFC 8422 §5.1.1, RFC 7748).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NamedGroup {
    /// x25519 (29).
    X25519,
    /// secp256r1 (23).
    P256,
}

impl NamedGroup {
    /// IANA code point.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            Self::X25519 => 29,
            Self::P256 => 23,
        }
    }
    /// From the code point.
    #[must_use]
    pub fn from_code(c: u16) -> Option<Self> {
        match c {
            29 => Some(Self::X25519),
            23 => Some(Self::P256),
            _ => None,
        }
    }
}

/// Signature schemes (RFC 8446 §4.2.3 code points, used in TLS 1.2 as hash+signature pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// ecdsa_secp256r1_sha256 (0x0403): sign and verify.
    EcdsaP256Sha256,
    /// ecdsa_secp384r1_sha384 (0x0503): verify.
    EcdsaP384Sha384,
    /// rsa_pkcs1_sha256 (0x0401): verify.
    RsaPkcs1Sha256,
    /// rsa_pss_rsae_sha256 (0x0804): verify.
    RsaPssRsaeSha256,
    /// ed25519 (0x0807): verify.
    Ed25519,
}

impl SignatureScheme {
    /// All verifiable schemes, in the order we advertise them.
    pub const ALL: [Self; 5] = [
        Self::EcdsaP256Sha256,
        Self::EcdsaP384Sha384,
        Self::RsaPssRsaeSha256,
        Self::RsaPkcs1Sha256,
        Self::Ed25519,
    ];
    /// Code point.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            Self::EcdsaP256Sha256 => 0x0403,
            Self::EcdsaP384Sha384 => 0x0503,
            Self::RsaPkcs1Sha256 => 0x0401,
            Self::RsaPssRsaeSha256 => 0x0804,
            Self::Ed25519 => 0x0807,
        }
    }
    /// From the code point.
    #[must_use]
    pub fn from_code(c: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == c)
    }
}

/// DTLS-SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    /// SRTP_AES128_CM_HMAC_SHA1_80 (0x0001).
    Aes128CmHmacSha1_80,
    /// SRTP_AES128_CM_HMAC_SHA1_32 (0x0002).
    Aes128CmHmacSha1_32,
    /// SRTP_AEAD_AES_128_GCM (0x0007).
    AeadAes128Gcm,
    /// SRTP_AEAD_AES_256_GCM (0x0008).
    AeadAes256Gcm,
}

impl SrtpProfile {
    /// All four, in our default preference order.
    pub const ALL: [Self; 4] = [
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
        Self::Aes128CmHmacSha1_80,
        Self::Aes128CmHmacSha1_32,
    ];

    /// Code point.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            Self::Aes128CmHmacSha1_80 => 1,
            Self::Aes128CmHmacSha1_32 => 2,
            Self::AeadAes128Gcm => 7,
            Self::AeadAes256Gcm => 8,
        }
    }
    /// From the code point.
    #[must_use]
    pub fn from_code(c: u16) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == c)
    }
    /// The RFC 5764 / RFC 7714 name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128CmHmacSha1_80 => "SRTP_AES128_CM_HMAC_SHA1_80",
            Self::Aes128CmHmacSha1_32 => "SRTP_AES128_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "SRTP_AEAD_AES_256_GCM",
        }
    }
    /// (master key length, master salt length) in bytes.
    #[must_use]
    pub fn key_salt_len(self) -> (usize, usize) {
        match self {
            Self::Aes128CmHmacSha1_80 | Self::Aes128CmHmacSha1_32 => (16, 14),
            Self::AeadAes128Gcm => (16, 12),
            Self::AeadAes256Gcm => (32, 12),
        }
    }
    /// Keying material length exported for this profile: 2 * (key + salt) (RFC 5764 §4.2).
    #[must_use]
    pub fn keying_material_len(self) -> usize {
        let (k, s) = self.key_salt_len();
        2 * (k + s)
    }
}

/// Which implementation of the randomness, key exchange and signature primitives to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CryptoBackend {
    /// ring: real ECDHE, ECDSA and a CSPRNG. The default.
    #[default]
    Ring,
    /// INSECURE, for tests and fuzzing only: randomness from the seeded RNG, a fake key
    /// exchange (shared secret = SHA-256 of both public values) and fake signatures
    /// (SHA-256 of key and message). Runs are reproducible byte for byte. Both peers must
    /// use it.
    InsecureDeterministic,
}

/// How the peer's certificate is checked. WebRTC checks the SHA-256 fingerprint from the
/// SDP (RFC 8122 §5, RFC 8827 §6.5); there is no CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerVerification {
    /// Accept the peer only if its leaf certificate matches one of these fingerprints.
    Fingerprints(Vec<Fingerprint>),
    /// Accept any certificate (the fingerprint is still reported in `Connected`). For tools
    /// that print the fingerprint for an out-of-band check.
    AcceptAny,
}

/// Endpoint configuration. Every cap is documented on its field.
#[derive(Debug, Clone)]
pub struct Config {
    /// Client or server.
    pub role: Role,
    /// Our certificate and key (sent in both roles: WebRTC is mutual authentication).
    pub certificate: Certificate,
    /// How to check the peer's certificate.
    pub peer_verification: PeerVerification,
    /// Offered / accepted cipher suites, in preference order.
    pub cipher_suites: Vec<CipherSuite>,
    /// Offered / accepted groups, in preference order.
    pub groups: Vec<NamedGroup>,
    /// SRTP profiles offered / accepted in preference order; empty disables use_srtp.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// Require RFC 7627 extended master secret (default true).
    pub require_extended_master_secret: bool,
    /// Server: send a HelloVerifyRequest with a cookie first (RFC 6347 §4.2.1). Default false
    /// (WebRTC runs over ICE-validated paths).
    pub hello_verify: bool,
    /// Path MTU: the most bytes we put in one datagram. Default 1200.
    pub mtu: usize,
    /// First retransmission timeout (RFC 6347 §4.2.4.1: 1 s).
    pub initial_rto: Duration,
    /// Cap of the doubling retransmission timeout (RFC 6347: 60 s).
    pub max_rto: Duration,
    /// Retransmissions of one flight before the handshake fails with `HandshakeTimeout`.
    pub max_retransmissions: u32,
    /// Cap on one handshake message's length (default 32 KiB; a fragment claiming more is
    /// rejected before any buffer is allocated).
    pub max_handshake_message_len: usize,
    /// Cap on bytes held by the handshake reassembly buffers together (default 64 KiB).
    pub max_reassembly_bytes: usize,
    /// Cap on how far ahead of the next expected message_seq messages are buffered (default 8).
    pub max_buffered_messages: u16,
    /// Cap on queued outgoing datagrams (default 256); beyond it `send` fails.
    pub max_queued_transmits: usize,
    /// Cap on queued events (default 256); application data beyond it is dropped and counted.
    pub max_queued_events: usize,
    /// Seed for the RNG (randoms, cookie secret, and everything in the deterministic backend).
    /// `None` seeds once from the OS in `new`.
    pub seed: Option<u64>,
    /// Crypto backend.
    pub crypto: CryptoBackend,
}

impl Config {
    /// Defaults for `role` with `certificate`, verifying the peer against `peer_verification`.
    #[must_use]
    pub fn new(role: Role, certificate: Certificate, peer_verification: PeerVerification) -> Self {
        Self {
            role,
            certificate,
            peer_verification,
            cipher_suites: CipherSuite::ALL.to_vec(),
            groups: vec![NamedGroup::X25519, NamedGroup::P256],
            srtp_profiles: SrtpProfile::ALL.to_vec(),
            require_extended_master_secret: true,
            hello_verify: false,
            mtu: 1200,
            initial_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            max_retransmissions: 7,
            max_handshake_message_len: 32 * 1024,
            max_reassembly_bytes: 64 * 1024,
            max_buffered_messages: 8,
            max_queued_transmits: 256,
            max_queued_events: 256,
            seed: None,
            crypto: CryptoBackend::Ring,
        }
    }
}
