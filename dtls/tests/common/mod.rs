//! In-memory driver for two endpoints (no loss), shared by the scenario tests.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

use sansrtc_dtls::{Certificate, Config, CryptoBackend, Endpoint, Event, PeerVerification, Role};

/// A fresh certificate, cached per thread (generation costs a little).
pub fn cert() -> Certificate {
    Certificate::generate_self_signed().unwrap()
}

/// Client and server configs that verify each other by fingerprint.
pub fn configs(deterministic: bool) -> (Config, Config) {
    let cc = cert();
    let sc = cert();
    let mut c = Config::new(
        Role::Client,
        cc.clone(),
        PeerVerification::Fingerprints(vec![sc.fingerprint()]),
    );
    let mut s = Config::new(
        Role::Server,
        sc,
        PeerVerification::Fingerprints(vec![cc.fingerprint()]),
    );
    if deterministic {
        c.crypto = CryptoBackend::InsecureDeterministic;
        s.crypto = CryptoBackend::InsecureDeterministic;
        c.seed = Some(1);
        s.seed = Some(2);
    }
    (c, s)
}

/// Outcome of a run.
#[derive(Debug, Default)]
pub struct Outcome {
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    pub client_errors: Vec<sansrtc_dtls::Error>,
    pub server_errors: Vec<sansrtc_dtls::Error>,
    pub datagrams: Vec<(Role, Vec<u8>)>,
}

impl Outcome {
    pub fn connected(&self, role: Role) -> Option<&sansrtc_dtls::Connected> {
        let ev = if role == Role::Client {
            &self.client_events
        } else {
            &self.server_events
        };
        ev.iter().find_map(|e| match e {
            Event::Connected(c) => Some(c),
            _ => None,
        })
    }
    pub fn closed(&self, role: Role) -> Option<&sansrtc_dtls::Error> {
        let ev = if role == Role::Client {
            &self.client_events
        } else {
            &self.server_events
        };
        ev.iter().find_map(|e| match e {
            Event::Closed { reason } => Some(reason),
            _ => None,
        })
    }
}

/// Shuttle datagrams (through `filter`, which may drop or rewrite them) until both sides are
/// quiet, advancing a virtual clock to timeouts. At most `steps` iterations.
pub fn run(
    client: &mut Endpoint,
    server: &mut Endpoint,
    now: &mut Instant,
    steps: usize,
    filter: &mut dyn FnMut(Role, Vec<u8>) -> Option<Vec<u8>>,
    out: &mut Outcome,
) {
    for _ in 0..steps {
        let mut moved = false;
        while let Some(t) = client.poll_transmit() {
            moved = true;
            out.datagrams.push((Role::Client, t.payload.to_vec()));
            if let Some(d) = filter(Role::Client, t.payload.to_vec()) {
                if let Err(e) = server.handle_receive(*now, &d) {
                    out.server_errors.push(e);
                }
            }
        }
        while let Some(t) = server.poll_transmit() {
            moved = true;
            out.datagrams.push((Role::Server, t.payload.to_vec()));
            if let Some(d) = filter(Role::Server, t.payload.to_vec()) {
                if let Err(e) = client.handle_receive(*now, &d) {
                    out.client_errors.push(e);
                }
            }
        }
        while let Some(e) = client.poll_event() {
            out.client_events.push(e);
        }
        while let Some(e) = server.poll_event() {
            out.server_events.push(e);
        }
        if moved {
            continue;
        }
        let next = [client.poll_timeout(), server.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) => {
                *now = (*now).max(t);
                client.handle_timeout(*now);
                server.handle_timeout(*now);
            }
            None => return,
        }
    }
}

/// A complete handshake without impairment.
pub fn handshake(c: Config, s: Config) -> (Endpoint, Endpoint, Outcome, Instant) {
    let mut now = Instant::now();
    let mut client = Endpoint::new(c, now).unwrap();
    let mut server = Endpoint::new(s, now).unwrap();
    let mut out = Outcome::default();
    run(
        &mut client,
        &mut server,
        &mut now,
        1000,
        &mut |_, d| Some(d),
        &mut out,
    );
    now += Duration::from_millis(1);
    (client, server, out, now)
}
