//! Entry points for the cargo-fuzz targets (see ../fuzz). Not a public API.
//!
//! Both targets run an endpoint with the deterministic crypto backend and fixed seeds and
//! certificates, so a recorded peer transcript (the seed corpus) replays exactly and the
//! fuzzer starts from inputs that complete the handshake and carry application data.
//!
//! Input format: a sequence of datagrams, each prefixed by a big-endian u16 length; a zero
//! length means "advance the clock by one second" (drives retransmission timers).

use std::time::{Duration, Instant};

use crate::{Certificate, Config, CryptoBackend, Endpoint, Event, PeerVerification, Role};

/// Seed of the fuzzed client (and of the client whose flights make the server corpus).
pub const CLIENT_SEED: u64 = 0xc11e;
/// Seed of the fuzzed server.
pub const SERVER_SEED: u64 = 0x5e4e;

/// The fixed client certificate.
#[must_use]
pub fn client_certificate() -> Certificate {
    Certificate::from_der(
        include_bytes!("../tests/data/client_cert.der").to_vec(),
        include_bytes!("../tests/data/client_key.pk8").to_vec(),
    )
}

/// The fixed server certificate.
#[must_use]
pub fn server_certificate() -> Certificate {
    Certificate::from_der(
        include_bytes!("../tests/data/server_cert.der").to_vec(),
        include_bytes!("../tests/data/server_key.pk8").to_vec(),
    )
}

/// The deterministic config used by the fuzz targets.
#[must_use]
pub fn config(role: Role) -> Config {
    let (cert, peer, seed) = match role {
        Role::Client => (client_certificate(), server_certificate(), CLIENT_SEED),
        Role::Server => (server_certificate(), client_certificate(), SERVER_SEED),
    };
    let mut c = Config::new(
        role,
        cert,
        PeerVerification::Fingerprints(vec![peer.fingerprint()]),
    );
    c.crypto = CryptoBackend::InsecureDeterministic;
    c.seed = Some(seed);
    c
}

/// Split fuzz input into datagrams (None = clock tick).
#[must_use]
pub fn split(data: &[u8]) -> Vec<Option<&[u8]>> {
    let mut out = Vec::new();
    let mut rest = data;
    while let [a, b, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*a, *b]));
        if n == 0 {
            out.push(None);
            rest = tail;
            continue;
        }
        let n = n.min(tail.len());
        let (d, r) = tail.split_at(n);
        out.push(Some(d));
        rest = r;
    }
    out
}

/// Join datagrams into the fuzz input format.
#[must_use]
pub fn join(datagrams: &[Vec<u8>]) -> Vec<u8> {
    let mut v = Vec::new();
    for d in datagrams {
        v.extend_from_slice(&u16::try_from(d.len()).unwrap_or(u16::MAX).to_be_bytes());
        v.extend_from_slice(d);
    }
    v
}

/// What a fuzz run reached (for the corpus replay test).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// The handshake completed.
    pub connected: bool,
    /// Application data records delivered.
    pub app_data: usize,
    /// The connection closed.
    pub closed: bool,
}

/// Run `role` over the input; returns how far it got.
#[must_use]
pub fn drive(role: Role, data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let mut now = Instant::now();
    let cfg = config(role);
    let mtu = cfg.mtu;
    let Ok(mut ep) = Endpoint::new(cfg, now) else {
        return summary;
    };
    let mut connected = false;
    for item in split(data) {
        match item {
            Some(d) => {
                let _ = ep.handle_receive(now, d);
            }
            None => {
                now += Duration::from_secs(1);
                ep.handle_timeout(now);
            }
        }
        while let Some(t) = ep.poll_transmit() {
            // Oracle: handshake datagrams respect the MTU (application data is echoed below
            // and may be larger only if the peer sent a large record).
            if !connected {
                assert!(
                    t.payload.len() <= mtu,
                    "datagram of {} bytes over MTU {mtu}",
                    t.payload.len()
                );
            }
        }
        while let Some(e) = ep.poll_event() {
            match e {
                Event::Connected(c) => {
                    assert!(!connected, "Connected twice");
                    connected = true;
                    // Oracle: the exporter agrees with the event.
                    if let Some(p) = c.srtp_profile {
                        let km = ep.export_keying_material(
                            crate::SRTP_EXPORTER_LABEL,
                            p.keying_material_len(),
                        );
                        assert_eq!(km.ok(), Some(c.keying_material));
                    }
                }
                Event::ApplicationData(d) => {
                    // Echo, so the fuzzer exercises sealing too.
                    assert!(connected, "application data before Connected");
                    summary.app_data += 1;
                    let _ = ep.send(&d);
                }
                Event::Closed { .. } => {
                    assert!(ep.is_closed());
                    summary.closed = true;
                }
            }
        }
    }
    summary.connected = connected;
    summary
}

/// Fuzz target `dtls_server`: a server fed arbitrary client datagrams.
pub fn dtls_server(data: &[u8]) {
    let _ = drive(Role::Server, data);
}

/// Fuzz target `dtls_client`: a client fed arbitrary server datagrams.
pub fn dtls_client(data: &[u8]) {
    let _ = drive(Role::Client, data);
}
