//! ICE over the deterministic network simulator: NAT kinds on one or both sides, with and
//! without TURN, loss, role conflict, restart, consent loss, caps, ICE-lite.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Opts, World, sa};
use sansrtc_ice::{Candidate, CandidateKind, Config, Error, Event, IceState, Role, SelectReason};
use sansrtc_netsim::{LinkConfig, NatKind, run_seeds};
use std::time::Duration;

const RTT: Duration = Duration::from_millis(50);

fn selected_kinds(ev: &Event) -> (CandidateKind, CandidateKind) {
    match ev {
        Event::SelectedPair { local, remote, .. } => (local.kind, remote.kind),
        _ => unreachable!(),
    }
}

#[test]
fn public_hosts_connect_over_host_pair() {
    let mut w = World::new(1, Opts::default());
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let a = w.a.selected();
    let b = w.b.selected();
    assert_eq!(a.len(), 1);
    assert_eq!(
        selected_kinds(a[0]),
        (CandidateKind::Host, CandidateKind::Host)
    );
    assert_eq!(
        selected_kinds(b[0]),
        (CandidateKind::Host, CandidateKind::Host)
    );
    assert!(matches!(
        a[0],
        Event::SelectedPair {
            reason: SelectReason::Nominated,
            ..
        }
    ));
    assert!(matches!(
        b[0],
        Event::SelectedPair {
            reason: SelectReason::PeerNominated,
            ..
        }
    ));
    // Application data flows on the selected pair both ways.
    let now = w.net.now();
    w.a.agent.send(now, b"\x80hello").unwrap();
    w.b.agent.send(now, b"\x80world").unwrap();
    w.run_until(Duration::from_secs(1), |w| {
        !w.a.app.is_empty() && !w.b.app.is_empty()
    });
    assert_eq!(w.b.app, vec![b"\x80hello".to_vec()]);
    assert_eq!(w.a.app, vec![b"\x80world".to_vec()]);
}

/// Which NAT combinations connect, and what the controlling side ends up sending to.
#[test]
fn nat_matrix() {
    use NatKind::*;
    // (A's NAT, B's NAT, connects, remote kind selected by A)
    let cases: &[(Option<NatKind>, Option<NatKind>, bool, CandidateKind)] = &[
        (Some(FullCone), None, true, CandidateKind::Host),
        (None, Some(FullCone), true, CandidateKind::ServerReflexive),
        (Some(PortRestricted), None, true, CandidateKind::Host),
        (Some(Symmetric), None, true, CandidateKind::Host),
        (None, Some(Symmetric), true, CandidateKind::PeerReflexive),
        (
            Some(FullCone),
            Some(FullCone),
            true,
            CandidateKind::ServerReflexive,
        ),
        (
            Some(AddressRestricted),
            Some(AddressRestricted),
            true,
            CandidateKind::ServerReflexive,
        ),
        (
            Some(PortRestricted),
            Some(PortRestricted),
            true,
            CandidateKind::ServerReflexive,
        ),
        (
            Some(AddressRestricted),
            Some(Symmetric),
            true,
            CandidateKind::PeerReflexive,
        ),
        (
            Some(FullCone),
            Some(Symmetric),
            true,
            CandidateKind::PeerReflexive,
        ),
        (
            Some(PortRestricted),
            Some(Symmetric),
            false,
            CandidateKind::Host,
        ),
        (Some(Symmetric), Some(Symmetric), false, CandidateKind::Host),
    ];
    for &(na, nb, connects, remote_kind) in cases {
        run_seeds(0..4, |seed| {
            let mut w = World::new(
                seed,
                Opts {
                    nat_a: na,
                    nat_b: nb,
                    ..Opts::default()
                },
            );
            let ok = w.run_until(Duration::from_secs(60), |w| {
                w.both_connected()
                    || w.a.agent.state() == IceState::Failed
                    || w.b.agent.state() == IceState::Failed
            });
            if !ok {
                return Err(format!("{na:?}/{nb:?}: neither connected nor failed"));
            }
            if w.both_connected() != connects {
                return Err(format!(
                    "{na:?}/{nb:?}: connected={} (a {:?}, b {:?})",
                    w.both_connected(),
                    w.a.agent.state(),
                    w.b.agent.state()
                ));
            }
            if connects {
                let sel = w.a.selected();
                let (l, r) = selected_kinds(sel.last().unwrap());
                if l != CandidateKind::Host || r != remote_kind {
                    return Err(format!(
                        "{na:?}/{nb:?}: selected {l:?}/{r:?}, want host/{remote_kind:?}"
                    ));
                }
                let t = w.a.state_at(IceState::Connected).unwrap() - w.start;
                let rtts = t.as_secs_f64() / RTT.as_secs_f64();
                eprintln!("{na:?}/{nb:?} seed {seed}: connected after {rtts:.1} RTT");
                // Gathering (1 RTT), checks and nomination take a few RTTs; when a
                // higher-priority pair (an unreachable private host address) is still being
                // checked, the controlling side waits up to the nomination timeout (250 ms).
                if t > RTT * 8 + Duration::from_millis(250) {
                    return Err(format!("{na:?}/{nb:?}: took {t:?}"));
                }
            }
            Ok(())
        });
    }
}

#[test]
fn symmetric_nats_connect_through_turn() {
    run_seeds(0..4, |seed| {
        let mut w = World::new(
            seed,
            Opts {
                nat_a: Some(NatKind::Symmetric),
                nat_b: Some(NatKind::Symmetric),
                turn: true,
                ..Opts::default()
            },
        );
        if !w.run_until(Duration::from_secs(60), World::both_connected) {
            return Err(format!(
                "not connected: {:?} {:?}",
                w.a.agent.state(),
                w.b.agent.state()
            ));
        }
        let (l, r) = selected_kinds(w.a.selected().last().unwrap());
        if l != CandidateKind::Relayed && r != CandidateKind::Relayed {
            return Err(format!(
                "selected {l:?}/{r:?}, expected a relayed candidate"
            ));
        }
        // Data crosses the relay.
        let now = w.net.now();
        w.a.agent.send(now, b"\x80via-relay").unwrap();
        w.run_until(Duration::from_secs(2), |w| {
            !w.b.app.is_empty()
                || w.b
                    .events
                    .iter()
                    .any(|(_, e)| matches!(e, Event::Data { .. }))
        });
        let got = !w.b.app.is_empty()
            || w.b
                .events
                .iter()
                .any(|(_, e)| matches!(e, Event::Data { data, .. } if data == b"\x80via-relay"));
        if !got {
            return Err("data did not cross the relay".into());
        }
        Ok(())
    });
}

#[test]
fn turn_is_not_selected_when_direct_works() {
    let mut w = World::new(
        3,
        Opts {
            nat_a: Some(NatKind::FullCone),
            turn: true,
            ..Opts::default()
        },
    );
    assert!(w.run_until(Duration::from_secs(30), World::both_connected));
    let (l, r) = selected_kinds(w.a.selected().last().unwrap());
    assert_eq!((l, r), (CandidateKind::Host, CandidateKind::Host));
    assert!(
        w.a.agent
            .local_candidates()
            .any(|c| c.kind == CandidateKind::Relayed)
    );
}

#[test]
fn loss_during_checks() {
    // 25 % loss, 10 ms jitter and 5 % duplication between the two NATs (the STUN server
    // path is clean: losing all seven Binding transmissions would leave nothing to connect).
    let retransmissions = std::cell::Cell::new(0u64);
    run_seeds(0..30, |seed| {
        let mut w = World::new(
            seed,
            Opts {
                nat_a: Some(NatKind::PortRestricted),
                nat_b: Some(NatKind::PortRestricted),
                ..Opts::default()
            },
        );
        w.net.set_link(
            "203.0.113.1".parse().unwrap(),
            "198.51.100.1".parse().unwrap(),
            LinkConfig::default()
                .latency(Duration::from_millis(25))
                .jitter(Duration::from_millis(10))
                .loss(0.25)
                .duplicate(0.05),
        );
        if !w.run_until(Duration::from_secs(60), World::both_connected) {
            return Err(format!(
                "a {:?} b {:?}",
                w.a.agent.state(),
                w.b.agent.state()
            ));
        }
        retransmissions.set(
            retransmissions.get()
                + w.a.agent.stats().retransmissions
                + w.b.agent.stats().retransmissions,
        );
        Ok(())
    });
    assert!(
        retransmissions.get() > 30,
        "the loss was real and recovered from"
    );
}

#[test]
fn role_conflict_is_resolved() {
    for (ra, rb) in [
        (Role::Controlling, Role::Controlling),
        (Role::Controlled, Role::Controlled),
    ] {
        run_seeds(0..6, |seed| {
            let mut w = World::new(
                seed,
                Opts {
                    a: Config::new(ra),
                    b: Config::new(rb),
                    ..Opts::default()
                },
            );
            if !w.run_until(Duration::from_secs(30), World::both_connected) {
                return Err(format!("{ra:?}/{rb:?}: not connected"));
            }
            if w.a.agent.role() == w.b.agent.role() {
                return Err(format!("{ra:?}/{rb:?}: both {:?}", w.a.agent.role()));
            }
            let changed =
                w.a.events
                    .iter()
                    .chain(w.b.events.iter())
                    .filter(|(_, e)| matches!(e, Event::RoleChanged(_)))
                    .count();
            if changed != 1 {
                return Err(format!("{changed} role changes"));
            }
            Ok(())
        });
    }
}

#[test]
fn restart_reconnects_with_new_credentials() {
    let mut w = World::new(
        5,
        Opts {
            nat_a: Some(NatKind::PortRestricted),
            ..Opts::default()
        },
    );
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let old = w.a.agent.local_credentials().clone();
    let now = w.net.now();
    let new_a = w.a.agent.restart(now);
    let new_b = w.b.agent.restart(now);
    assert_ne!(new_a, old);
    assert_eq!(w.a.agent.state(), IceState::Checking);
    // The old path still carries data during the restart.
    w.a.agent.send(now, b"\x80during").unwrap();
    w.b.agent.set_remote_credentials(now, new_a).unwrap();
    w.a.agent.set_remote_credentials(now, new_b).unwrap();
    let cands_a: Vec<Candidate> = w.a.agent.local_candidates().cloned().collect();
    let cands_b: Vec<Candidate> = w.b.agent.local_candidates().cloned().collect();
    for c in cands_a {
        if c.kind != CandidateKind::PeerReflexive {
            w.b.agent.add_remote_candidate(now, c).unwrap();
        }
    }
    for c in cands_b {
        if c.kind != CandidateKind::PeerReflexive {
            w.a.agent.add_remote_candidate(now, c).unwrap();
        }
    }
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    assert_eq!(
        w.a.selected().len(),
        2,
        "a second SelectedPair after the restart"
    );
    assert!(w.b.app.contains(&b"\x80during".to_vec()));
}

#[test]
fn consent_loss_disconnects_then_fails() {
    let mut w = World::new(7, Opts::default());
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let cut = w.net.now();
    // Consent keeps the connection up for a while with the link intact.
    assert!(!w.run_until(Duration::from_secs(60), |w| !w.both_connected()));
    let cut_at = w.net.now();
    assert!(cut_at >= cut + Duration::from_secs(60));
    w.net.set_link(
        w.a.host.ip(),
        w.b.host.ip(),
        LinkConfig::default().loss(1.0),
    );
    assert!(w.run_until(Duration::from_secs(60), |w| w.a.agent.state()
        == IceState::Failed
        && w.b.agent.state() == IceState::Failed));
    let disc =
        w.a.events
            .iter()
            .rev()
            .find(|(_, e)| *e == Event::StateChanged(IceState::Disconnected))
            .map(|(t, _)| *t)
            .unwrap();
    let failed = w.a.state_at(IceState::Failed).unwrap();
    assert!(
        disc > cut_at && disc - cut_at <= Duration::from_secs(9),
        "{:?}",
        disc - cut_at
    );
    // RFC 7675: consent expires 30 s after the last response.
    assert!(
        failed - cut_at >= Duration::from_secs(24) && failed - cut_at <= Duration::from_secs(31)
    );
    assert_eq!(
        w.a.agent.send(w.net.now(), b"x"),
        Err(Error::ConsentExpired)
    );
}

#[test]
fn consent_recovers_after_short_outage() {
    let mut w = World::new(8, Opts::default());
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let (ia, ib) = (w.a.host.ip(), w.b.host.ip());
    w.net.set_link(ia, ib, LinkConfig::default().loss(1.0));
    assert!(w.run_until(Duration::from_secs(20), |w| w.a.agent.state()
        == IceState::Disconnected));
    w.net.set_link(
        ia,
        ib,
        LinkConfig::default().latency(Duration::from_millis(25)),
    );
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
}

#[test]
fn thousands_of_remote_candidates_are_capped() {
    let mut w = World::new(9, Opts::default());
    let now = w.net.now();
    let mut refused = 0;
    for i in 0..5000u32 {
        let addr = sa(&format!(
            "10.{}.{}.{}:{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            1000 + (i % 50000)
        ));
        let c = Candidate::new(CandidateKind::Host, addr, 1000 + i, format!("f{i}"), 1);
        if let Err(Error::CapacityExceeded { .. }) = w.a.agent.add_remote_candidate(now, c) {
            refused += 1;
        }
    }
    assert!(refused >= 4900);
    assert!(w.a.agent.remote_candidates().count() <= 100);
    assert!(w.a.agent.pair_count() <= 100);
    // The real candidates trickled after the junk are refused too: A checks its 100 junk
    // pairs at the Ta pace, they all time out, and A fails in bounded time instead of hanging.
    assert!(w.run_until(Duration::from_secs(120), |w| w.a.agent.state()
        == IceState::Failed));
    assert!(w.a.agent.remote_candidates().count() <= 100);
    assert!(w.a.agent.pair_count() <= 100);
    assert!(w.a.agent.stats().candidates_refused >= 4900);
}

#[test]
fn lite_agent_connects_with_full_agent() {
    let mut b = Config::new(Role::Controlling);
    b.lite = true;
    let mut w = World::new(
        10,
        Opts {
            nat_a: Some(NatKind::PortRestricted),
            a: Config::new(Role::Controlling),
            b,
            ..Opts::default()
        },
    );
    assert!(w.b.agent.is_lite());
    assert_eq!(w.b.agent.role(), Role::Controlled);
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    // The lite side sends no checks at all.
    assert_eq!(w.b.agent.stats().checks_sent, 0);
    // Keepalives keep the lite side's path open over time without consent checks.
    assert!(!w.run_until(Duration::from_secs(60), |w| !w.both_connected()));
}

#[test]
fn without_signaled_candidates_peer_reflexive_is_learned() {
    // B signals nothing; A's checks reach B, which learns A as peer-reflexive and answers
    // with triggered checks.
    let mut w = World::new(
        11,
        Opts {
            signal: false,
            ..Opts::default()
        },
    );
    let now = w.net.now();
    let b_host: Vec<Candidate> = w.b.agent.local_candidates().cloned().collect();
    for c in b_host {
        w.a.agent.add_remote_candidate(now, c).unwrap();
    }
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let (_, r) = selected_kinds(w.b.selected().last().unwrap());
    assert_eq!(r, CandidateKind::PeerReflexive);
}

#[test]
fn all_pairs_failing_after_end_of_candidates_fails() {
    let mut w = World::new(12, Opts::default());
    w.net.set_link(
        w.a.host.ip(),
        w.b.host.ip(),
        LinkConfig::default().loss(1.0),
    );
    assert!(w.run_until(Duration::from_secs(60), |w| w.a.agent.state()
        == IceState::Failed));
    assert_eq!(w.a.agent.selected_pair(), None);
}

#[test]
fn zero_nomination_timeout_nominates_without_waiting() {
    let mut a = Config::new(Role::Controlling);
    a.nomination_timeout = Duration::ZERO;
    let mut w = World::new(
        13,
        Opts {
            nat_a: Some(NatKind::PortRestricted),
            nat_b: Some(NatKind::PortRestricted),
            a,
            ..Opts::default()
        },
    );
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let t = w.a.state_at(IceState::Connected).unwrap() - w.start;
    eprintln!(
        "zero nomination timeout: {:.1} RTT",
        t.as_secs_f64() / RTT.as_secs_f64()
    );
    assert!(t <= RTT * 4, "{t:?}");
}

/// Relay-only policy (W3C `iceTransportPolicy: "relay"`): on public hosts, where the direct
/// host pair would win, the relay-only side announces and uses nothing but its relayed
/// candidate, and a check the peer sends to its host address is dropped. With both sides
/// relay-only, the pair is relayed at both ends.
#[test]
fn relay_only_announces_and_selects_only_the_relay() {
    for both in [false, true] {
        let mut a = Config::new(Role::Controlling);
        a.relay_only = true;
        let mut b = Config::new(Role::Controlled);
        b.relay_only = both;
        let mut w = World::new(
            7,
            Opts {
                turn: true,
                a,
                b,
                ..Opts::default()
            },
        );
        assert!(
            w.run_until(Duration::from_secs(30), World::both_connected),
            "both={both}: {:?} {:?}",
            w.a.agent.state(),
            w.b.agent.state()
        );
        let announced: Vec<CandidateKind> =
            w.a.events
                .iter()
                .filter_map(|(_, e)| match e {
                    Event::LocalCandidate(c) => Some(c.kind),
                    _ => None,
                })
                .collect();
        assert_eq!(announced, vec![CandidateKind::Relayed], "both={both}");
        // Nor does the relayed candidate's related address tell the mapped one.
        let relayed = w.a.agent.local_candidates().next().unwrap();
        assert_eq!(
            relayed.related,
            Some((sansrtc_ice::Address::Ip("0.0.0.0".parse().unwrap()), 0)),
            "both={both}"
        );
        assert!(
            !relayed.to_string().contains(&w.a.host.ip().to_string()),
            "{relayed}"
        );
        assert!(
            w.a.agent
                .local_candidates()
                .all(|c| c.kind == CandidateKind::Relayed),
            "both={both}"
        );
        // No server-reflexive gathering either, though a STUN server is configured.
        assert!(w.a.agent.local_candidates().count() == 1, "both={both}");
        let (l, r) = selected_kinds(w.a.selected().last().unwrap());
        assert_eq!(l, CandidateKind::Relayed, "both={both}");
        let (bl, _) = selected_kinds(w.b.selected().last().unwrap());
        if both {
            assert_eq!((r, bl), (CandidateKind::Relayed, CandidateKind::Relayed));
        } else {
            // B (policy "all") uses its host candidate; A reaches it through its relay.
            assert_eq!(bl, CandidateKind::Host);
            assert_eq!(r, CandidateKind::Host);
        }
        let (a_local, _) = w.a.agent.selected_pair().unwrap();
        assert_ne!(a_local, w.a.host, "both={both}");
        // Data crosses the relay: B gets it on its host socket (or as relayed Data).
        let now = w.net.now();
        w.a.agent.send(now, b"\x80relayed").unwrap();
        w.b.agent.send(now, b"\x80back").unwrap();
        w.run_until(Duration::from_secs(2), |w| {
            let got = |s: &common::Side, m: &[u8]| {
                s.app.iter().any(|d| d == m)
                    || s.events
                        .iter()
                        .any(|(_, e)| matches!(e, Event::Data { data, .. } if data == m))
            };
            got(&w.b, b"\x80relayed") && got(&w.a, b"\x80back")
        });
        assert!(
            w.a.events
                .iter()
                .any(|(_, e)| matches!(e, Event::Data { data, .. } if data == b"\x80back")),
            "both={both}: A receives through its relay"
        );
        assert!(w.a.app.is_empty(), "both={both}: nothing reached A's host");
    }
}

/// A relay-only agent drops a check sent straight to its host address (the peer could only
/// know it from elsewhere): no response, no pair.
#[test]
fn relay_only_drops_checks_to_the_host_address() {
    let mut a = Config::new(Role::Controlling);
    a.relay_only = true;
    let mut w = World::new(
        9,
        Opts {
            turn: true,
            a,
            ..Opts::default()
        },
    );
    // B is told A's host address out of band.
    let now = w.net.now();
    let host = Candidate::new(
        CandidateKind::Host,
        w.a.host,
        sansrtc_ice::candidate::priority(CandidateKind::Host, 65535, 1),
        "leak",
        1,
    );
    w.b.agent.add_remote_candidate(now, host).unwrap();
    let dropped_before = w.a.agent.stats().dropped;
    assert!(w.run_until(Duration::from_secs(30), World::both_connected));
    assert!(w.a.agent.stats().dropped > dropped_before);
    assert!(
        w.a.app.is_empty(),
        "nothing was answered or delivered on A's host"
    );
    let (l, _) = selected_kinds(w.a.selected().last().unwrap());
    assert_eq!(l, CandidateKind::Relayed);
    let (_, br) = selected_kinds(w.b.selected().last().unwrap());
    assert_ne!(
        br,
        CandidateKind::Host,
        "B must not select A's host address"
    );
}

/// The peer's candidates and end-of-candidates arrive before our TURN allocation has
/// answered (a non-trickle answer right after the offer): a relay-only agent has no pair
/// yet, and must wait for its relayed candidate instead of failing the check list.
#[test]
fn relay_only_waits_for_its_allocation_before_failing() {
    let mut a = Config::new(Role::Controlling);
    a.relay_only = true;
    let mut w = World::new(
        11,
        Opts {
            turn: true,
            a,
            signal: false,
            ..Opts::default()
        },
    );
    let now = w.net.now();
    let host_b = w.b.agent.local_candidates().next().unwrap().clone();
    w.a.agent.add_remote_candidate(now, host_b).unwrap();
    w.a.agent.end_of_remote_candidates(now);
    assert_eq!(w.a.agent.pair_count(), 0);
    assert_ne!(w.a.agent.state(), IceState::Failed);
    assert!(w.run_until(Duration::from_secs(30), World::both_connected));
    let (l, r) = selected_kinds(w.a.selected().last().unwrap());
    assert_eq!((l, r), (CandidateKind::Relayed, CandidateKind::Host));
    assert!(w.a.state_at(IceState::Failed).is_none());
}
