//! Entry points for the cargo-fuzz targets in `../fuzz` (behind the `fuzzing` feature).

use crate::{Agent, Candidate, CandidateKind, Config, Credentials, Role};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// `ice_agent`: a running agent (host candidate, one remote candidate, checks in flight)
/// receives the input as a sequence of datagrams, each from an address chosen by the input.
///
/// Layout: repeated `[selector: u8][len: u8][len bytes]`. The selector picks the source
/// (the known remote, an unknown address, the STUN server), the local socket, and whether
/// time advances. Oracles: no panic; every queue stays within its cap; every transmit leaves
/// from one of our addresses and goes only to the signaled candidate, the STUN server or an
/// address that sent us something (no reflection to invented addresses); a selected pair's
/// remote is such an address too; the peer's candidates and pairs never exceed their caps.
pub fn agent(data: &[u8]) {
    let t0 = Instant::now();
    let mut now = t0;
    let local: SocketAddr = SocketAddr::from(([10, 0, 0, 1], 5000));
    let remote: SocketAddr = SocketAddr::from(([10, 0, 0, 2], 6000));
    let stun: SocketAddr = SocketAddr::from(([10, 0, 0, 3], 3478));
    let strangers = [
        SocketAddr::from(([10, 0, 0, 9], 1)),
        SocketAddr::from(([192, 168, 7, 7], 40000)),
        SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], 9)),
    ];
    let strangers_dst = SocketAddr::from(([10, 0, 0, 9], 1));
    let config = Config {
        role: if data.first().is_some_and(|b| b & 1 == 1) {
            Role::Controlled
        } else {
            Role::Controlling
        },
        local_credentials: Some(Credentials::new("fuzzufrag", "fuzzpasswordfuzzpassword")),
        stun_servers: vec![stun],
        max_remote_candidates: 8,
        max_pairs: 8,
        max_transmits: 64,
        max_events: 64,
        seed: Some(1),
        ..Config::default()
    };
    let mut agent = Agent::new(config.clone(), now);
    let _ = agent.add_host_address(now, local);
    let _ = agent.set_remote_credentials(now, Credentials::new("peer", "peerpasswordpeerpassword"));
    let _ = agent.add_remote_candidate(
        now,
        Candidate::new(CandidateKind::Host, remote, 2_130_706_431, "1", 1),
    );
    agent.handle_timeout(now);
    let local_addr = local;
    let mut seen = vec![remote, stun];
    while agent.poll_transmit().is_some() {}
    while agent.poll_event().is_some() {}
    let mut rest = data.get(1..).unwrap_or_default();
    while let [sel, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        let source = match sel & 3 {
            0 => remote,
            1 => stun,
            _ => strangers
                .get(usize::from(sel >> 2) % strangers.len())
                .copied()
                .unwrap_or(remote),
        };
        let dst = if sel & 0x40 != 0 {
            strangers_dst
        } else {
            local
        };
        let _ = agent.handle_receive(now, source, dst, payload);
        if sel & 0x80 != 0 {
            now += Duration::from_millis(u64::from(*len) * 10);
            agent.handle_timeout(now);
        }
        if !seen.contains(&source) {
            seen.push(source);
        }
        let mut sent = 0;
        while let Some(t) = agent.poll_transmit() {
            assert_eq!(t.source, local, "transmit from a foreign address");
            assert!(
                seen.contains(&t.destination),
                "transmit to {} which never sent anything",
                t.destination
            );
            sent += 1;
        }
        assert!(sent <= config.max_transmits);
        let mut evs = 0;
        while let Some(e) = agent.poll_event() {
            evs += 1;
            if let crate::Event::SelectedPair { remote, local, .. } = &e {
                assert!(remote.socket_addr().is_some_and(|r| seen.contains(&r)));
                assert_eq!(local.socket_addr(), Some(local_addr));
            }
        }
        assert!(evs <= config.max_events);
        assert!(agent.remote_candidates().count() <= config.max_remote_candidates);
        assert!(agent.pair_count() <= config.max_pairs);
    }
}
