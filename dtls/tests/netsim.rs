//! Our client with our server through the netsim simulator under loss, burst loss,
//! reordering, duplication and jitter: the handshake completes within the retransmission
//! budget, or fails cleanly with `HandshakeTimeout`. Failing cases print their seed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::time::Duration;

use proptest::prelude::*;
use sansrtc_dtls::{Config, CryptoBackend, Endpoint, Error, Event, PeerVerification, Role};
use sansrtc_netsim::{Datagram, GilbertElliott, LinkConfig, Network};

fn certs() -> (sansrtc_dtls::Certificate, sansrtc_dtls::Certificate) {
    let c = sansrtc_dtls::Certificate::from_der(
        include_bytes!("data/client_cert.der").to_vec(),
        include_bytes!("data/client_key.pk8").to_vec(),
    );
    let s = sansrtc_dtls::Certificate::from_der(
        include_bytes!("data/server_cert.der").to_vec(),
        include_bytes!("data/server_key.pk8").to_vec(),
    );
    (c, s)
}

#[derive(Debug, Default)]
struct Result {
    client: Vec<Event>,
    server: Vec<Event>,
    elapsed: Duration,
    retransmissions: u64,
    delivered: u64,
}

impl Result {
    fn connected(ev: &[Event]) -> Option<&sansrtc_dtls::Connected> {
        ev.iter().find_map(|e| {
            if let Event::Connected(c) = e {
                Some(c)
            } else {
                None
            }
        })
    }
    fn closed(ev: &[Event]) -> Option<&Error> {
        ev.iter().find_map(|e| {
            if let Event::Closed { reason } = e {
                Some(reason)
            } else {
                None
            }
        })
    }
}

fn simulate(
    seed: u64,
    link: LinkConfig,
    crypto: CryptoBackend,
    hello_verify: bool,
    mtu: usize,
) -> Result {
    let (cc, sc) = certs();
    let mut ccfg = Config::new(
        Role::Client,
        cc.clone(),
        PeerVerification::Fingerprints(vec![sc.fingerprint()]),
    );
    let mut scfg = Config::new(
        Role::Server,
        sc,
        PeerVerification::Fingerprints(vec![cc.fingerprint()]),
    );
    for c in [&mut ccfg, &mut scfg] {
        c.crypto = crypto;
        c.mtu = mtu;
    }
    ccfg.seed = Some(seed);
    scfg.seed = Some(seed ^ 0xffff);
    scfg.hello_verify = hello_verify;
    let mut net = Network::new(seed);
    net.set_default_link(link);
    let ca: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let sa: SocketAddr = "10.0.0.2:5000".parse().unwrap();
    let start = net.now();
    let mut client = Endpoint::new(ccfg, net.now()).unwrap();
    let mut server = Endpoint::new(scfg, net.now()).unwrap();
    let mut r = Result::default();
    for _ in 0..200_000 {
        while let Some(d) = net.poll_recv() {
            let ep = if d.dst == sa {
                &mut server
            } else {
                &mut client
            };
            let _ = ep.handle_receive(net.now(), &d.payload);
        }
        while let Some(t) = client.poll_transmit() {
            net.send(Datagram::new(ca, sa, t.payload.to_vec()));
        }
        while let Some(t) = server.poll_transmit() {
            net.send(Datagram::new(sa, ca, t.payload.to_vec()));
        }
        while let Some(e) = client.poll_event() {
            r.client.push(e);
        }
        while let Some(e) = server.poll_event() {
            r.server.push(e);
        }
        let done = |ev: &[Event]| Result::connected(ev).is_some() || Result::closed(ev).is_some();
        if done(&r.client) && done(&r.server) {
            break;
        }
        let next = [
            client.poll_timeout(),
            server.poll_timeout(),
            net.next_delivery(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        net.advance_to(next.max(net.now()));
        client.handle_timeout(net.now());
        server.handle_timeout(net.now());
    }
    r.elapsed = net.now() - start;
    r.retransmissions = client.stats().retransmissions + server.stats().retransmissions;
    r.delivered = client.stats().datagrams_received + server.stats().datagrams_received;
    r
}

fn check(seed: u64, r: &Result) {
    let c = Result::connected(&r.client);
    let s = Result::connected(&r.server);
    match (c, s) {
        (Some(c), Some(s)) => {
            assert_eq!(c.keying_material, s.keying_material, "seed {seed}");
            assert!(
                Result::closed(&r.client).is_none() && Result::closed(&r.server).is_none(),
                "seed {seed}: {r:?}"
            );
        }
        _ => {
            // Failed: only ever by running out of retransmissions, never another error.
            for ev in [&r.client, &r.server] {
                if let Some(reason) = Result::closed(ev) {
                    assert!(
                        matches!(reason, Error::HandshakeTimeout | Error::PeerAlert(_)),
                        "seed {seed}: unclean failure {reason:?}"
                    );
                }
            }
            assert!(
                Result::closed(&r.client) == Some(&Error::HandshakeTimeout)
                    || Result::closed(&r.server) == Some(&Error::HandshakeTimeout),
                "seed {seed}: neither connected nor timed out: {r:?}"
            );
        }
    }
}

#[test]
fn clean_link_ring_crypto() {
    let r = simulate(1, LinkConfig::default(), CryptoBackend::Ring, false, 1200);
    assert!(
        Result::connected(&r.client).is_some() && Result::connected(&r.server).is_some(),
        "{r:?}"
    );
    // Two round trips of 10 ms one way plus nothing else.
    assert!(r.elapsed <= Duration::from_millis(60), "{:?}", r.elapsed);
}

#[test]
fn heavy_loss_still_connects_with_retransmissions() {
    // 30% loss each way with a small MTU (many fragments): retransmissions must carry it.
    let mut ok = 0;
    let mut retransmissions = 0;
    for seed in 0..20u64 {
        let link = LinkConfig::default()
            .loss(0.3)
            .jitter(Duration::from_millis(5));
        let r = simulate(
            seed,
            link,
            CryptoBackend::InsecureDeterministic,
            seed % 2 == 0,
            400,
        );
        check(seed, &r);
        retransmissions += r.retransmissions;
        if Result::connected(&r.client).is_some() {
            ok += 1;
            assert!(r.elapsed >= Duration::from_millis(40), "seed {seed}");
        }
    }
    assert!(ok >= 18, "only {ok}/20 handshakes completed under 30% loss");
    assert!(
        retransmissions >= 10,
        "loss must have forced retransmissions: {retransmissions}"
    );
}

#[test]
fn total_loss_times_out_cleanly() {
    let c = LinkConfig {
        loss: 1.0,
        ..LinkConfig::default()
    };
    let r = simulate(7, c, CryptoBackend::InsecureDeterministic, false, 1200);
    assert_eq!(Result::closed(&r.client), Some(&Error::HandshakeTimeout));
    // 1+2+4+8+16+32+60 s of waiting before the 8th timeout gives up (7 retransmissions).
    assert!(
        r.elapsed >= Duration::from_secs(123) && r.elapsed <= Duration::from_secs(190),
        "{:?}",
        r.elapsed
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn handshake_completes_or_fails_cleanly(
        seed in any::<u64>(),
        loss in 0.0f64..0.4,
        dup in 0.0f64..0.2,
        reorder in 0.0f64..0.3,
        jitter_ms in 0u64..40,
        burst in any::<bool>(),
        hello_verify in any::<bool>(),
        mtu in prop::sample::select(vec![300usize, 576, 1200]),
    ) {
        let mut link = LinkConfig::default()
            .loss(loss)
            .duplicate(dup)
            .reorder(reorder)
            .jitter(Duration::from_millis(jitter_ms));
        if burst {
            link = link.burst(GilbertElliott::new(0.05, 0.3));
        }
        let r = simulate(seed, link, CryptoBackend::InsecureDeterministic, hello_verify, mtu);
        check(seed, &r);
        prop_assert!(r.delivered > 0);
    }
}
