//! Agent behaviour at the STUN level (RFC 8445 section 7.3): authentication errors, role
//! conflict answers, unknown attributes, signaling input checks, ICE-lite, demultiplexing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use sansrtc_ice::{
    Agent, Candidate, CandidateKind, Config, Credentials, Error, Event, IceState, Received, Role,
};
use sansrtc_stun::{IntegrityKey, Message, MessageBuilder, MessageType, TransactionId, attr};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const LOCAL: &str = "10.0.0.1:5000";
const PEER: &str = "10.0.0.2:6000";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn agent(role: Role, lite: bool) -> (Agent, Instant) {
    let now = Instant::now();
    let mut a = Agent::new(
        Config {
            lite,
            local_credentials: Some(Credentials::new("loca", "localpasswordlocalpassword")),
            seed: Some(3),
            ..Config::new(role)
        },
        now,
    );
    a.add_host_address(now, sa(LOCAL)).unwrap();
    a.set_remote_credentials(now, Credentials::new("peer", "peerpasswordpeerpassword"))
        .unwrap();
    while a.poll_event().is_some() {}
    (a, now)
}

#[allow(clippy::too_many_arguments)]
fn request(
    user: Option<&str>,
    key: &str,
    priority: Option<u32>,
    controlling: Option<u64>,
    controlled: Option<u64>,
    use_candidate: bool,
    extra: Option<u16>,
) -> Vec<u8> {
    let mut buf = vec![0u8; 300];
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId([7; 12]),
    )
    .unwrap();
    if let Some(u) = user {
        b.username(u).unwrap();
    }
    if let Some(p) = priority {
        b.priority(p).unwrap();
    }
    if let Some(t) = controlling {
        b.ice_controlling(t).unwrap();
    }
    if let Some(t) = controlled {
        b.ice_controlled(t).unwrap();
    }
    if use_candidate {
        b.use_candidate().unwrap();
    }
    if let Some(t) = extra {
        b.add_raw(t, b"abcd").unwrap();
    }
    let n = b
        .finish_with_integrity(&IntegrityKey::short_term(key))
        .unwrap();
    buf.truncate(n);
    buf
}

/// Feeds a request from PEER; returns the response's error code (None = success) and
/// whether it was signed with our password.
fn answer(a: &mut Agent, now: Instant, req: &[u8]) -> (Option<u16>, bool) {
    assert_eq!(
        a.handle_receive(now, sa(PEER), sa(LOCAL), req),
        Received::Ice
    );
    let mut resp = None;
    while let Some(t) = a.poll_transmit() {
        let m = Message::new_checked(t.payload.to_vec()).unwrap();
        if m.transaction_id() == TransactionId([7; 12]) {
            assert_eq!((t.source, t.destination), (sa(LOCAL), sa(PEER)));
            resp = Some(m);
        }
    }
    let m = resp.expect("no response");
    let signed = m
        .verify_message_integrity(&IntegrityKey::short_term("localpasswordlocalpassword"))
        .is_ok();
    if m.error_code().is_none() {
        assert_eq!(m.xor_mapped_address(), Some(sa(PEER)));
    }
    (m.error_code().map(|e| e.code), signed)
}

#[test]
fn valid_check_is_answered_and_peer_learned() {
    let (mut a, now) = agent(Role::Controlled, false);
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1_862_270_975),
        Some(1),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (None, true));
    let prflx: Vec<_> = a.remote_candidates().collect();
    assert_eq!(prflx.len(), 1);
    assert_eq!(prflx[0].kind, CandidateKind::PeerReflexive);
    assert_eq!(prflx[0].priority, 1_862_270_975);
    assert_eq!(a.state(), IceState::Checking);
    // A triggered check goes back to the peer at once.
    a.handle_timeout(now);
    let t = a.poll_transmit().unwrap();
    let m = Message::new_checked(t.payload.to_vec()).unwrap();
    assert_eq!(m.username(), Some("peer:loca"));
    assert!(m.get(attr::ICE_CONTROLLED).is_some());
    m.verify_message_integrity(&IntegrityKey::short_term("peerpasswordpeerpassword"))
        .unwrap();
}

#[test]
fn authentication_failures() {
    let (mut a, now) = agent(Role::Controlled, false);
    // Wrong password: 401, unsigned.
    let r = request(
        Some("loca:peer"),
        "wrong",
        Some(1),
        Some(1),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (Some(401), false));
    // Wrong ufrag: 401.
    let r = request(
        Some("nope:peer"),
        "localpasswordlocalpassword",
        Some(1),
        Some(1),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (Some(401), false));
    // No USERNAME: 400.
    let r = request(
        None,
        "localpasswordlocalpassword",
        Some(1),
        Some(1),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (Some(400), false));
    // No PRIORITY: 400, signed (the request was authentic).
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        None,
        Some(1),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (Some(400), true));
    // Unknown comprehension-required attribute: 420.
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1),
        Some(1),
        None,
        false,
        Some(0x0031),
    );
    assert_eq!(answer(&mut a, now, &r), (Some(420), true));
    // None of these taught us a candidate.
    assert_eq!(a.remote_candidates().count(), 0);
    assert_eq!(a.stats().errors_sent, 5);
}

#[test]
fn role_conflict_answers() {
    // Controlling with a larger tie-breaker than the peer's: 487, keep the role.
    let (mut a, now) = agent(Role::Controlling, false);
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1),
        Some(0),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (Some(487), true));
    assert_eq!(a.role(), Role::Controlling);
    // Controlling with a smaller one: switch to controlled, answer success.
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1),
        Some(u64::MAX),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (None, true));
    assert_eq!(a.role(), Role::Controlled);
    assert!(
        std::iter::from_fn(|| a.poll_event()).any(|e| e == Event::RoleChanged(Role::Controlled))
    );
    // Controlled vs controlled with a larger tie-breaker than ours: 487.
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1),
        None,
        Some(u64::MAX),
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (Some(487), true));
    // ...with a smaller one: we become controlling.
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1),
        None,
        Some(0),
        false,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (None, true));
    assert_eq!(a.role(), Role::Controlling);
}

#[test]
fn lite_agent_selects_on_use_candidate_and_never_checks() {
    let (mut a, now) = agent(Role::Controlling, true);
    assert_eq!(a.role(), Role::Controlled);
    a.add_remote_candidate(
        now,
        Candidate::new(CandidateKind::Host, sa(PEER), 100, "1", 1),
    )
    .unwrap();
    a.handle_timeout(now + Duration::from_secs(1));
    assert!(a.poll_transmit().is_none(), "a lite agent sends no checks");
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(1),
        Some(5),
        None,
        true,
        None,
    );
    assert_eq!(answer(&mut a, now, &r), (None, true));
    assert_eq!(a.state(), IceState::Connected);
    assert_eq!(a.selected_pair(), Some((sa(LOCAL), sa(PEER))));
    // Keepalives: a Binding indication after Tr.
    a.handle_timeout(now + Duration::from_secs(16));
    let t = a.poll_transmit().unwrap();
    let m = Message::new_checked(t.payload.to_vec()).unwrap();
    assert_eq!(m.message_type(), MessageType::BINDING_INDICATION);
}

#[test]
fn signaling_input_is_checked() {
    let (mut a, now) = agent(Role::Controlling, false);
    let mdns: Candidate = "candidate:1 1 udp 2113937151 0c1d2e3f-aaaa.local 5000 typ host"
        .parse()
        .unwrap();
    assert_eq!(
        a.add_remote_candidate(now, mdns.clone()),
        Err(Error::UnresolvedAddress {
            hostname: "0c1d2e3f-aaaa.local".into()
        })
    );
    // Resolved by the caller, it is accepted.
    a.add_remote_candidate(now, mdns.with_ip("10.0.0.2".parse().unwrap()))
        .unwrap();
    let rtcp: Candidate = "candidate:1 2 udp 1 10.0.0.3 5000 typ host"
        .parse()
        .unwrap();
    assert!(matches!(
        a.add_remote_candidate(now, rtcp),
        Err(Error::Unsupported { .. })
    ));
    let tcp: Candidate = "candidate:1 1 tcp 1 10.0.0.3 9 typ host tcptype active"
        .parse()
        .unwrap();
    assert!(matches!(
        a.add_remote_candidate(now, tcp),
        Err(Error::Unsupported { .. })
    ));
    let zero: Candidate = "candidate:1 1 udp 1 0.0.0.0 9 typ host".parse().unwrap();
    assert!(a.add_remote_candidate(now, zero).is_err());
    assert!(
        a.set_remote_credentials(now, Credentials::new("a:b", "x".repeat(22)))
            .is_err()
    );
    assert!(
        a.set_remote_credentials(now, Credentials::new("ok", ""))
            .is_err()
    );
    assert!(
        a.set_remote_credentials(now, Credentials::new("u".repeat(257), "p".repeat(22)))
            .is_err()
    );
}

#[test]
fn demux_restart_and_close() {
    let (mut a, now) = agent(Role::Controlling, false);
    assert_eq!(
        a.handle_receive(now, sa(PEER), sa(LOCAL), &[0x16, 0xfe, 0xfd]),
        Received::Other
    );
    assert_eq!(
        a.handle_receive(now, sa(PEER), sa(LOCAL), &[0x80, 0, 0, 0]),
        Received::Other
    );
    assert_eq!(
        a.handle_receive(now, sa(PEER), sa(LOCAL), &[0, 1, 0, 0]),
        Received::Ice
    );
    assert_eq!(a.stats().dropped, 1);
    assert_eq!(a.send(now, b"x"), Err(Error::NoSelectedPair));
    let before = a.local_credentials().clone();
    let after = a.restart(now);
    assert_ne!(before, after);
    assert_eq!(&after, a.local_credentials());
    assert_eq!(after.ufrag.len(), 8);
    assert_eq!(after.pwd.len(), 24);
    a.close(now);
    assert_eq!(a.state(), IceState::Closed);
    assert_eq!(a.poll_timeout(), None);
    assert_eq!(a.send(now, b"x"), Err(Error::Closed));
}

#[test]
fn remote_restart_drops_old_candidates() {
    let (mut a, now) = agent(Role::Controlling, false);
    a.add_remote_candidate(
        now,
        Candidate::new(CandidateKind::Host, sa(PEER), 100, "1", 1),
    )
    .unwrap();
    assert_eq!(a.pair_count(), 1);
    a.set_remote_credentials(now, Credentials::new("peer", "peerpasswordpeerpassword"))
        .unwrap();
    assert_eq!(a.pair_count(), 1, "same credentials: nothing changes");
    a.set_remote_credentials(now, Credentials::new("peer2", "peerpasswordpeerpassword2"))
        .unwrap();
    assert_eq!(a.pair_count(), 0);
    assert_eq!(a.remote_candidates().count(), 0);
}

#[test]
fn checks_are_paced_by_ta() {
    let (mut a, now) = agent(Role::Controlling, false);
    for i in 0..5u16 {
        let addr = SocketAddr::new("10.0.0.2".parse().unwrap(), 6000 + i);
        a.add_remote_candidate(
            now,
            Candidate::new(
                CandidateKind::Host,
                addr,
                100 + u32::from(i),
                format!("f{i}"),
                1,
            ),
        )
        .unwrap();
    }
    let mut t = now;
    let mut times = Vec::new();
    while times.len() < 5 {
        a.handle_timeout(t);
        while a.poll_transmit().is_some() {
            times.push(t);
        }
        t = a.poll_timeout().unwrap();
    }
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(50),
            "{:?}",
            w[1] - w[0]
        );
    }
}

#[test]
fn extreme_peer_priority_does_not_overflow() {
    // PRIORITY is peer-controlled: u32::MAX must not overflow the pair priority formula.
    for role in [Role::Controlling, Role::Controlled] {
        let (mut a, now) = agent(role, false);
        let r = request(
            Some("loca:peer"),
            "localpasswordlocalpassword",
            Some(u32::MAX),
            None,
            None,
            false,
            None,
        );
        assert_eq!(answer(&mut a, now, &r), (None, true));
        assert_eq!(a.pair_count(), 1);
    }
}

/// RFC 8445 section 7.3.1.4: a check from the peer on a pair whose own check is in progress
/// cancels that check and triggers a new one at once (within Ta), instead of waiting for the
/// 500 ms retransmission; the cancelled check is not retransmitted, and its late response
/// still counts.
#[test]
fn check_on_in_progress_pair_triggers_a_new_check() {
    let (mut a, now) = agent(Role::Controlled, false);
    a.add_remote_candidate(
        now,
        Candidate::new(
            CandidateKind::Host,
            sa(PEER),
            2_130_706_431,
            "f0".to_string(),
            1,
        ),
    )
    .unwrap();
    // Our first check to the peer goes out (and is lost).
    a.handle_timeout(now);
    let first = a.poll_transmit().expect("first check");
    assert_eq!(first.destination, sa(PEER));
    let first = Message::new_checked(first.payload.to_vec()).unwrap();
    let first_id = first.transaction_id();
    assert!(a.poll_transmit().is_none());

    // 20 ms later the peer's check arrives on the same pair.
    let t1 = now + Duration::from_millis(20);
    let r = request(
        Some("loca:peer"),
        "localpasswordlocalpassword",
        Some(2_130_706_431),
        Some(1),
        None,
        false,
        None,
    );
    assert_eq!(answer(&mut a, t1, &r), (None, true));

    // A new check leaves within Ta, long before the first one's retransmission at 500 ms.
    let mut t = t1;
    let mut checks = Vec::new();
    while t < now + Duration::from_millis(1400) {
        a.handle_timeout(t);
        while let Some(x) = a.poll_transmit() {
            let m = Message::new_checked(x.payload.to_vec()).unwrap();
            if m.class() == sansrtc_stun::Class::Request {
                checks.push((t - now, m.transaction_id()));
            }
        }
        t = match a.poll_timeout() {
            Some(n) if n > t => n,
            _ => t + Duration::from_millis(1),
        };
    }
    let (at, second_id) = checks[0];
    assert_ne!(
        second_id, first_id,
        "a new transaction, not a retransmission"
    );
    assert!(at <= Duration::from_millis(20 + 50), "new check at {at:?}");
    // The cancelled check is never sent again; the new one is (no answer to it here).
    assert!(checks.iter().all(|(_, id)| *id != first_id), "{checks:?}");
    assert!(checks.iter().filter(|(_, id)| *id == second_id).count() >= 2);

    // A late success response to the cancelled check is still used: the pair is valid.
    let mut buf = vec![0u8; 200];
    let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_SUCCESS, first_id).unwrap();
    b.xor_mapped_address(sa(LOCAL)).unwrap();
    let n = b
        .finish_with_integrity(&IntegrityKey::short_term("peerpasswordpeerpassword"))
        .unwrap();
    let tl = now + Duration::from_millis(1500);
    a.handle_receive(tl, sa(PEER), sa(LOCAL), &buf[..n]);
    assert_eq!(
        a.stats().responses,
        1,
        "the late response matched no transaction"
    );
    assert_eq!(a.stats().dropped, 0);
}
