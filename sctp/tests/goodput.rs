//! Netsim goodput (virtual time, deterministic): a 1 Gbit/s link with a drop-tail bottleneck
//! queue of one bandwidth-delay product (at least 1 MiB), 64 KiB messages, CRC32c on. The
//! issue's goal: at least 800 Mbit/s at 100 ms RTT without loss. Virtual-time goodput is a
//! property of the simulated protocol, not of the machine, so it can be asserted.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sansrtc_netsim::{Datagram, LinkConfig, Network};
use sansrtc_sctp::{Association, Config, Event, SendOptions};

/// Goodput in Mbit/s of `total` octets from a to b (from establishment to the last message).
fn netsim_goodput(rtt_ms: u64, loss: f64, total: usize) -> (f64, u64, u64, u64) {
    let mut net = Network::new(7);
    let bdp = (1_000_000_000u64 / 8 * rtt_ms / 1000) as usize;
    net.set_default_link(
        LinkConfig::default()
            .latency(Duration::from_millis(rtt_ms / 2))
            .loss(loss)
            .bandwidth_bps(1_000_000_000)
            .queue_bytes(bdp.max(1 << 20)),
    );
    let t0 = net.now();
    let c = |s| Config {
        seed: Some(s),
        max_send_buffer: 64 << 20,
        ..Config::default()
    };
    let mut ep = [Association::new(c(1), t0), Association::new(c(2), t0)];
    let addr = |i: usize| SocketAddr::from(([10, 0, 0, i as u8 + 1], 5000));
    ep[0].connect(t0).expect("connect");
    let msg = Bytes::from(vec![7u8; 64 * 1024]);
    let (mut sent, mut got) = (0usize, 0usize);
    let mut start = None;
    let mut steps = 0u64;
    // GOODPUT_TRACE=<rtt ms> prints the sender's state every 10 ms of virtual time.
    let trace = std::env::var("GOODPUT_TRACE").is_ok_and(|v| v == rtt_ms.to_string());
    let mut last_trace = u64::MAX;
    while got < total {
        steps += 1;
        assert!(steps < 200_000_000, "goodput run did not finish");
        if ep[0].is_established() {
            start.get_or_insert(net.now());
            while sent < total && ep[0].send_buffer_used() < 48 << 20 {
                let now = net.now();
                ep[0]
                    .send(now, 0, 53, msg.clone(), SendOptions::default())
                    .expect("send");
                sent += msg.len();
            }
        }
        for (i, e) in ep.iter_mut().enumerate() {
            while let Some(t) = e.poll_transmit() {
                net.send(Datagram::new(addr(i), addr(1 - i), t.payload.to_vec()));
            }
        }
        let now = net.now();
        let mut any = false;
        while let Some(d) = net.poll_recv() {
            let to = usize::from(d.dst == addr(1));
            ep[to].handle_receive(now, &d.payload);
            any = true;
        }
        while let Some(e) = ep[1].poll_event() {
            if let Event::Message { data, .. } = e {
                got += data.len();
            }
        }
        while ep[0].poll_event().is_some() {}
        if trace {
            let ms = (net.now() - t0).as_millis() as u64;
            if ms / 10 != last_trace {
                last_trace = ms / 10;
                let st = ep[0].stats();
                eprintln!(
                    "t={ms} cwnd={} got={} rwnd_b={} fr={} t3={} srtt={:?}",
                    ep[0].cwnd(),
                    got,
                    ep[1].receive_window(),
                    st.fast_retransmits,
                    st.t3_expirations,
                    ep[0].srtt(),
                );
            }
        }
        if any {
            continue;
        }
        let next = [
            net.next_delivery(),
            ep[0].poll_timeout(),
            ep[1].poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        net.advance_to(next.max(now));
        let now = net.now();
        for e in ep.iter_mut() {
            if e.poll_timeout().is_some_and(|t| t <= now) {
                e.handle_timeout(now);
            }
        }
    }
    assert_eq!(got, total);
    let secs = (net.now() - start.unwrap_or(t0)).as_secs_f64();
    let st = ep[0].stats();
    (
        got as f64 * 8.0 / secs / 1e6,
        st.t3_expirations,
        st.fast_retransmits,
        st.hystart_exits,
    )
}

fn report(rtt: u64, loss: f64, mb: usize) -> f64 {
    let (mbps, t3, fr, hs) = netsim_goodput(rtt, loss, mb << 20);
    println!(
        "netsim goodput 1 Gbit/s rtt {rtt} ms loss {:.0}% {mb} MiB: {mbps:.1} Mbit/s \
         (T3 {t3}, fast rtx {fr}, HyStart exits {hs})",
        loss * 100.0
    );
    mbps
}

/// 1 GiB (about 9 s of virtual time): standard slow start from an initial cwnd of 4380 octets
/// needs about 1.2 s (12 round trips) to fill a 12.5 MB pipe, which alone caps a 400 MiB
/// transfer near 750 Mbit/s; after it the link runs full (about 949 Mbit/s of payload on
/// 1219-octet IP packets).
#[test]
fn goodput_100ms_rtt_at_least_800_mbit() {
    let mbps = report(100, 0.0, 1024);
    assert!(mbps >= 800.0, "goodput at 100 ms RTT: {mbps:.0} Mbit/s");
    let mbps400 = report(100, 0.0, 400);
    assert!(
        mbps400 >= 700.0,
        "goodput at 100 ms RTT, 400 MiB: {mbps400:.0} Mbit/s"
    );
}

#[test]
fn goodput_20ms_and_50ms_rtt() {
    let g20 = report(20, 0.0, 400);
    let g50 = report(50, 0.0, 400);
    assert!(g20 >= 850.0, "goodput at 20 ms RTT: {g20:.0} Mbit/s");
    assert!(g50 >= 800.0, "goodput at 50 ms RTT: {g50:.0} Mbit/s");
}

#[test]
fn goodput_one_percent_loss() {
    for rtt in [20, 50, 100] {
        let mbps = report(rtt, 0.01, 32);
        assert!(
            mbps >= 1.0,
            "goodput at {rtt} ms RTT, 1 % loss: {mbps:.1} Mbit/s"
        );
    }
}
