//! Client transaction: exact RFC 8489 section 6.2.1 schedule on a virtual clock, response
//! matching, and the transaction against the Binding server under loss in netsim.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use sansrtc_netsim::{Datagram, GilbertElliott, LinkConfig, Network};
use sansrtc_stun::server::{BindingServer, ServerConfig};
use sansrtc_stun::transaction::{ClientTransaction, TransactionConfig, TransactionEvent};
use sansrtc_stun::{
    Error, IntegrityKey, Message, MessageBuilder, MessageType, Method, TransactionId,
};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const TXID: TransactionId = TransactionId([0x42; 12]);

fn binding_request(id: TransactionId) -> Vec<u8> {
    let mut buf = vec![0u8; 64];
    let n = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, id)
        .unwrap()
        .finish_with_fingerprint()
        .unwrap();
    buf.truncate(n);
    buf
}

fn response(t: MessageType, id: TransactionId, key: Option<&IntegrityKey>) -> Vec<u8> {
    let mut buf = vec![0u8; 128];
    let mut b = MessageBuilder::new(&mut buf, t, id).unwrap();
    b.xor_mapped_address("192.0.2.1:1".parse().unwrap())
        .unwrap();
    let n = match key {
        Some(k) => b.finish_with_integrity(k).unwrap(),
        None => b.finish(),
    };
    buf.truncate(n);
    buf
}

/// Runs a transaction that never gets an answer; returns the transmission times (ms after
/// start) and the timeout time.
fn silent_schedule(config: TransactionConfig) -> (Vec<u64>, u64) {
    let t0 = Instant::now();
    let mut tx = ClientTransaction::new(config, t0, binding_request(TXID)).unwrap();
    let mut sent = Vec::new();
    let mut now = t0;
    for _ in 0..100 {
        while tx.poll_transmit().is_some() {
            sent.push((now - t0).as_millis() as u64);
        }
        if let Some(ev) = tx.poll_event() {
            assert_eq!(ev, TransactionEvent::Timeout);
            assert_eq!(tx.poll_timeout(), None);
            assert!(tx.is_done());
            return (sent, (now - t0).as_millis() as u64);
        }
        let next = tx.poll_timeout().expect("armed while running");
        // Calling early does nothing.
        tx.handle_timeout(next - Duration::from_millis(1));
        assert!(tx.poll_transmit().is_none());
        now = next;
        tx.handle_timeout(now);
    }
    panic!("transaction never ended");
}

#[test]
fn rfc8489_default_schedule() {
    let (sent, timeout) = silent_schedule(TransactionConfig::default());
    assert_eq!(sent, vec![0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(timeout, 39_500);
}

#[test]
fn configurable_schedule() {
    let (sent, timeout) = silent_schedule(TransactionConfig {
        rto: Duration::from_millis(100),
        max_transmissions: 3,
        last_wait_multiplier: 4,
        ..TransactionConfig::default()
    });
    assert_eq!(sent, vec![0, 100, 300]);
    assert_eq!(timeout, 700);
    let (sent, timeout) = silent_schedule(TransactionConfig {
        max_transmissions: 0, // treated as 1
        ..TransactionConfig::default()
    });
    assert_eq!(sent, vec![0]);
    assert_eq!(timeout, 8000);
}

#[test]
fn reliable_transport_sends_once_and_waits_ti() {
    let (sent, timeout) = silent_schedule(TransactionConfig {
        reliable: true,
        ..TransactionConfig::default()
    });
    assert_eq!(sent, vec![0]);
    assert_eq!(timeout, 39_500);
}

#[test]
fn only_requests_start_a_transaction() {
    let t0 = Instant::now();
    let resp = response(MessageType::BINDING_SUCCESS, TXID, None);
    assert_eq!(
        ClientTransaction::new(TransactionConfig::default(), t0, resp).unwrap_err(),
        Error::NotARequest
    );
    assert!(ClientTransaction::new(TransactionConfig::default(), t0, vec![1, 2, 3]).is_err());
}

#[test]
fn response_matching() {
    let t0 = Instant::now();
    let key = IntegrityKey::short_term("secret");
    let mut tx = ClientTransaction::new(
        TransactionConfig {
            integrity_key: Some(key.clone()),
            ..TransactionConfig::default()
        },
        t0,
        binding_request(TXID),
    )
    .unwrap();
    assert_eq!(tx.transaction_id(), TXID);
    assert!(tx.poll_transmit().is_some());
    let now = t0 + Duration::from_millis(20);
    // Someone else's transaction, garbage, a request with our ID: not ours.
    let other = response(
        MessageType::BINDING_SUCCESS,
        TransactionId([1; 12]),
        Some(&key),
    );
    assert!(!tx.handle_receive(now, &other));
    assert!(!tx.handle_receive(now, b"\x80garbage"));
    assert!(!tx.handle_receive(now, &binding_request(TXID)));
    // Ours but unauthenticated, or the wrong method: discarded, retransmissions go on.
    assert!(tx.handle_receive(now, &response(MessageType::BINDING_SUCCESS, TXID, None)));
    let wrong_key = IntegrityKey::short_term("nope");
    assert!(tx.handle_receive(
        now,
        &response(MessageType::BINDING_SUCCESS, TXID, Some(&wrong_key))
    ));
    let alloc = MessageType::new(sansrtc_stun::Class::SuccessResponse, Method::ALLOCATE);
    assert!(tx.handle_receive(now, &response(alloc, TXID, Some(&key))));
    assert_eq!(tx.discarded(), 3);
    assert!(tx.poll_event().is_none());
    assert!(!tx.is_done());
    // A retransmission is due at 500 ms but the good answer arrives first.
    let good = response(MessageType::BINDING_SUCCESS, TXID, Some(&key));
    assert!(tx.handle_receive(now, &good));
    assert_eq!(
        tx.poll_event(),
        Some(TransactionEvent::Response(good.clone().into()))
    );
    assert!(tx.poll_event().is_none());
    assert_eq!(tx.poll_timeout(), None);
    tx.handle_timeout(t0 + Duration::from_secs(100));
    assert!(tx.poll_transmit().is_none());
    assert!(tx.poll_event().is_none());
    // A late duplicate is recognised and ignored.
    assert!(tx.handle_receive(now, &good));
    assert!(tx.poll_event().is_none());
    // Error responses end the transaction too.
    let mut tx =
        ClientTransaction::new(TransactionConfig::default(), t0, binding_request(TXID)).unwrap();
    let err = response(MessageType::BINDING_ERROR, TXID, None);
    assert!(tx.handle_receive(now, &err));
    assert!(matches!(
        tx.poll_event(),
        Some(TransactionEvent::Response(_))
    ));
}

#[derive(Debug)]
struct Run {
    event: TransactionEvent,
    at: Duration,
    transmissions: u32,
    mapped: Option<SocketAddr>,
}

/// A client transaction and a Binding server over a netsim link, driven to completion.
fn run(seed: u64, link: LinkConfig) -> Run {
    let client: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let server_addr: SocketAddr = "10.0.0.2:3478".parse().unwrap();
    let mut net = Network::new(seed);
    net.set_default_link(link);
    let t0 = net.now();
    let id = TransactionId(seed.to_be_bytes().repeat(2)[..12].try_into().unwrap());
    let mut tx =
        ClientTransaction::new(TransactionConfig::default(), t0, binding_request(id)).unwrap();
    let mut server = BindingServer::new(ServerConfig::default());
    let mut out = [0u8; 1500];
    let mut event = None;
    for _ in 0..10_000 {
        while let Some(t) = tx.poll_transmit() {
            net.send(Datagram::new(client, server_addr, t.payload.to_vec()));
        }
        if let Some(ev) = tx.poll_event() {
            assert!(event.is_none(), "seed {seed}: two events");
            event = Some((ev, net.now() - t0));
        }
        while let Some(d) = net.poll_recv() {
            if d.dst == server_addr {
                if let Some(n) = server.handle(&d.payload, d.src, &mut out) {
                    net.send(Datagram::new(server_addr, d.src, out[..n].to_vec()));
                }
            } else {
                tx.handle_receive(net.now(), &d.payload);
            }
        }
        if let Some(ev) = tx.poll_event() {
            assert!(event.is_none(), "seed {seed}: two events");
            event = Some((ev, net.now() - t0));
        }
        let next = [tx.poll_timeout(), net.next_delivery()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else { break };
        net.advance_to(next);
        tx.handle_timeout(net.now());
    }
    let (event, at) = event.unwrap_or_else(|| panic!("seed {seed}: no outcome"));
    let mapped = match &event {
        TransactionEvent::Response(b) => Message::new_checked(&b[..]).unwrap().xor_mapped_address(),
        TransactionEvent::Timeout => None,
    };
    Run {
        event,
        at,
        transmissions: tx.transmissions(),
        mapped,
    }
}

#[test]
fn clean_link_answers_after_one_rtt() {
    let r = run(1, LinkConfig::default());
    assert!(matches!(r.event, TransactionEvent::Response(_)));
    assert_eq!(r.at, Duration::from_millis(20));
    assert_eq!(r.transmissions, 1);
    assert_eq!(r.mapped, Some("10.0.0.1:5000".parse().unwrap()));
}

#[test]
fn dead_link_times_out_after_seven_transmissions() {
    let r = run(2, LinkConfig::default().loss(1.0));
    assert_eq!(r.event, TransactionEvent::Timeout);
    assert_eq!(r.at, Duration::from_millis(39_500));
    assert_eq!(r.transmissions, 7);
}

/// The instants (ms) at which the default schedule transmits.
const SCHEDULE: [u64; 7] = [0, 500, 1500, 3500, 7500, 15500, 31500];

fn check_lossy_run(seed: u64, r: &Run, rtt_ms: u64, jitter_ms: u64, bit_flips: bool) {
    match &r.event {
        TransactionEvent::Response(bytes) => {
            let m = Message::new_checked(&bytes[..]).unwrap();
            if m.class() == sansrtc_stun::Class::ErrorResponse {
                // Only a corrupted request can earn an error: e.g. a flip that turns the
                // FINGERPRINT type into an unknown comprehension-required one gets a 420.
                assert!(bit_flips, "seed {seed}: unexpected {:?}", m.error_code());
            } else {
                assert_eq!(
                    r.mapped,
                    Some("10.0.0.1:5000".parse().unwrap()),
                    "seed {seed}"
                );
            }
            // The answer is to one of the transmissions made so far.
            let at = r.at.as_millis() as u64;
            let sent = &SCHEDULE[..r.transmissions as usize];
            assert!(
                sent.iter()
                    .any(|&s| at >= s + rtt_ms && at <= s + rtt_ms + 2 * jitter_ms),
                "seed {seed}: response at {at} ms matches no transmission in {sent:?}"
            );
        }
        TransactionEvent::Timeout => {
            assert_eq!(r.at, Duration::from_millis(39_500), "seed {seed}");
            assert_eq!(r.transmissions, 7, "seed {seed}");
        }
    }
}

#[test]
fn lossy_links_many_seeds() {
    let mut answered = 0;
    for seed in 0..200 {
        let link = LinkConfig::default()
            .latency(Duration::from_millis(30))
            .jitter(Duration::from_millis(20))
            .loss(0.3)
            .duplicate(0.05)
            .reorder(0.1);
        let r = run(seed, link);
        check_lossy_run(seed, &r, 60, 20 + 10, false);
        if matches!(r.event, TransactionEvent::Response(_)) {
            answered += 1;
        }
    }
    // With 30% loss each way an exchange fails with p = 0.51, all seven with p < 1%.
    assert!(answered >= 190, "only {answered}/200 answered");
}

#[test]
fn burst_loss_and_bit_flips() {
    for seed in 0..100 {
        let link = LinkConfig::default()
            .burst(GilbertElliott::new(0.2, 0.3))
            .bit_flip(0.2);
        let r = run(seed, link);
        // A flipped response is dropped by FINGERPRINT / parsing, never accepted garbled.
        check_lossy_run(seed, &r, 20, 0, true);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_seed_and_loss_ends_correctly(seed in any::<u64>(), loss in 0.0f64..1.0) {
        let r = run(seed, LinkConfig::default().loss(loss));
        check_lossy_run(seed, &r, 20, 0, false);
    }
}
