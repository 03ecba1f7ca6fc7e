//! Statistical tests of every link impairment, with fixed seeds and tolerances.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test code: failing loudly is the point

mod common;
use common::*;
use sansrtc_netsim::{Datagram, GilbertElliott, LinkConfig, Network};
use std::time::Duration;

const N: u32 = 10_000;

fn net_with(seed: u64, cfg: LinkConfig) -> Network {
    let mut net = Network::new(seed);
    net.set_default_link(cfg);
    net
}

#[test]
fn random_loss_rate_within_bounds() {
    for (seed, p) in [(1, 0.05), (2, 0.2), (3, 0.5)] {
        let mut net = net_with(seed, LinkConfig::default().loss(p));
        let got = send_stream(
            &mut net,
            addr("10.0.0.1:1"),
            addr("10.0.0.2:2"),
            N,
            Duration::from_millis(1),
            20,
        );
        let lost = f64::from(N) - got.len() as f64;
        let expected = p * f64::from(N);
        // 5 standard deviations of a binomial.
        let tol = 5.0 * (f64::from(N) * p * (1.0 - p)).sqrt();
        assert!(
            (lost - expected).abs() < tol,
            "p={p}: lost {lost}, expected {expected}±{tol}"
        );
        let s = net.stats();
        assert_eq!(s.dropped.loss as f64, lost);
        assert_eq!(s.dropped.total() as f64, lost);
        assert!(s.is_conserved());
    }
}

fn loss_runs(got: &[(Duration, Datagram)], n: u32) -> Vec<u32> {
    let mut seen = vec![false; n as usize];
    for (_, d) in got {
        seen[index_of(d) as usize] = true;
    }
    let mut runs = Vec::new();
    let mut run = 0;
    for s in seen {
        if s {
            if run > 0 {
                runs.push(run);
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    if run > 0 {
        runs.push(run);
    }
    runs
}

#[test]
fn burst_loss_produces_runs() {
    // p = 0.01, r = 0.2: mean burst 5 datagrams, long-run loss 0.01 / 0.21 = 4.8 %.
    let ge = GilbertElliott::new(0.01, 0.2);
    assert!((ge.expected_loss() - 0.01 / 0.21).abs() < 1e-12);
    let mut net = net_with(10, LinkConfig::default().burst(ge));
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_millis(1),
        20,
    );
    let runs = loss_runs(&got, N);
    let lost: u32 = runs.iter().sum();
    let mean_run = f64::from(lost) / runs.len() as f64;
    assert!(
        (3.5..7.0).contains(&mean_run),
        "mean burst {mean_run} over {} runs",
        runs.len()
    );
    let rate = f64::from(lost) / f64::from(N);
    assert!((0.025..0.08).contains(&rate), "loss rate {rate}");
    assert_eq!(net.stats().dropped.burst, u64::from(lost));
    assert_eq!(net.stats().dropped.loss, 0);

    // The same average loss rate from the Bernoulli model gives runs of about 1.05.
    let mut net = net_with(10, LinkConfig::default().loss(rate));
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_millis(1),
        20,
    );
    let runs = loss_runs(&got, N);
    let mean_random = f64::from(runs.iter().sum::<u32>()) / runs.len() as f64;
    assert!(mean_random < 1.3, "bernoulli mean run {mean_random}");
}

#[test]
fn gilbert_elliott_loss_in_good_state() {
    // Never enters the bad state: only loss_good applies.
    let ge = GilbertElliott::new(0.0, 1.0).loss_good(0.1);
    let mut net = net_with(11, LinkConfig::default().burst(ge));
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_millis(1),
        20,
    );
    let lost = f64::from(N) - got.len() as f64;
    assert!((lost - 1000.0).abs() < 150.0, "lost {lost}");
}

#[test]
fn duplicate_rate_within_bounds() {
    let mut net = net_with(20, LinkConfig::default().duplicate(0.05));
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_millis(1),
        20,
    );
    let dups = got.len() as f64 - f64::from(N);
    assert!((dups - 500.0).abs() < 110.0, "dups {dups}");
    let mut counts = vec![0u32; N as usize];
    for (_, d) in &got {
        counts[index_of(d) as usize] += 1;
    }
    assert!(counts.iter().all(|&c| c == 1 || c == 2));
    assert_eq!(
        counts.iter().filter(|&&c| c == 2).count() as u64,
        net.stats().duplicated
    );
    assert!(net.stats().is_conserved());
}

#[test]
fn reordering_happens_at_the_configured_rate() {
    let mut net = net_with(
        30,
        LinkConfig::default()
            .reorder(0.1)
            .reorder_delay(Duration::from_millis(5)),
    );
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_millis(1),
        20,
    );
    assert_eq!(got.len(), N as usize);
    let held = net.stats().reordered as f64;
    assert!((held - 1000.0).abs() < 150.0, "held back {held}");
    // A datagram arriving after one sent later is out of order.
    let order: Vec<u32> = got.iter().map(|(_, d)| index_of(d)).collect();
    let mut max_seen = 0;
    let mut late = 0;
    for &i in &order {
        if i < max_seen {
            late += 1;
        }
        max_seen = max_seen.max(i);
    }
    // Every late arrival was held back; a held-back datagram near the end of the stream may
    // have nothing left to overtake it.
    assert!(
        late as f64 <= held && held - (late as f64) < 5.0,
        "late {late} vs held {held}"
    );
    // Held-back datagrams arrive exactly latency + reorder_delay after sending.
    for (t, d) in &got {
        let sent = Duration::from_millis(u64::from(index_of(d)));
        let delay = *t - sent;
        assert!(
            delay == Duration::from_millis(10) || delay == Duration::from_millis(15),
            "{delay:?}"
        );
    }
}

#[test]
fn jitter_stays_within_bounds_and_spreads() {
    let mut net = net_with(
        40,
        LinkConfig::default()
            .latency(Duration::from_millis(10))
            .jitter(Duration::from_millis(5)),
    );
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        2000,
        Duration::from_millis(1),
        20,
    );
    assert_eq!(got.len(), 2000);
    let delays: Vec<Duration> = got
        .iter()
        .map(|(t, d)| *t - Duration::from_millis(u64::from(index_of(d))))
        .collect();
    let min = *delays.iter().min().unwrap();
    let max = *delays.iter().max().unwrap();
    assert!(min >= Duration::from_millis(10));
    assert!(max <= Duration::from_millis(15));
    assert!(min < Duration::from_micros(10_100), "{min:?}");
    assert!(max > Duration::from_micros(14_900), "{max:?}");
}

#[test]
fn mtu_counts_ip_and_udp_headers() {
    let mut net = net_with(50, LinkConfig::default().mtu(1200));
    let (a4, b4) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    let (a6, b6) = (addr("[fd00::1]:1"), addr("[fd00::2]:2"));
    net.send(Datagram::new(a4, b4, vec![0; 1172])); // 1200 bytes on the wire: fits
    net.send(Datagram::new(a4, b4, vec![0; 1173])); // 1201: dropped
    net.send(Datagram::new(a6, b6, vec![0; 1152])); // 1200 with IPv6: fits
    net.send(Datagram::new(a6, b6, vec![0; 1153])); // dropped
    let got = drain(&mut net);
    let sizes: Vec<usize> = got.iter().map(|(_, d)| d.payload.len()).collect();
    assert_eq!(sizes, vec![1172, 1152]);
    assert_eq!(net.stats().dropped.mtu, 2);
    assert_eq!(net.link_stats(a4.ip(), b4.ip()).dropped.mtu, 1);
    assert_eq!(net.link_stats(a6.ip(), b6.ip()).dropped.mtu, 1);
}

#[test]
fn bandwidth_limit_gives_serialisation_delay() {
    // 1 Mbit/s: a 1000-byte IP packet (972 bytes of payload) takes exactly 8 ms.
    let mut net = net_with(
        60,
        LinkConfig::default()
            .latency(Duration::from_millis(10))
            .bandwidth_bps(1_000_000)
            .queue_bytes(100_000),
    );
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    for i in 0..5u8 {
        net.send(Datagram::new(a, b, vec![i; 972]));
    }
    let got = drain(&mut net);
    let times: Vec<Duration> = got.iter().map(|(t, _)| *t).collect();
    let want: Vec<Duration> = [18, 26, 34, 42, 50]
        .iter()
        .map(|&ms| Duration::from_millis(ms))
        .collect();
    assert_eq!(times, want);
    // After the link drained, a new datagram again waits only its own serialisation.
    net.send(Datagram::new(a, b, vec![9; 972]));
    let start = net.elapsed();
    let got = drain(&mut net);
    assert_eq!(got[0].0 - start, Duration::from_millis(18));
}

#[test]
fn bandwidth_throughput_matches_rate() {
    // 10k datagrams offered at twice the link rate through a large queue: the last one
    // arrives after n * serialisation time.
    let mut net = net_with(
        61,
        LinkConfig::default()
            .latency(Duration::ZERO)
            .bandwidth_bps(8_000_000) // 1 byte per microsecond
            .queue_bytes(usize::MAX),
    );
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_micros(500),
        972,
    );
    assert_eq!(got.len(), N as usize);
    let last = got.last().unwrap().0;
    assert_eq!(last, Duration::from_millis(u64::from(N)));
}

#[test]
fn queue_overflow_drops_tail() {
    let mut net = net_with(
        70,
        LinkConfig::default()
            .bandwidth_bps(1_000_000)
            .queue_bytes(3000),
    );
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    for i in 0..10u8 {
        net.send(Datagram::new(a, b, vec![i; 972]));
    }
    let got = drain(&mut net);
    let firsts: Vec<u8> = got.iter().map(|(_, d)| d.payload[0]).collect();
    assert_eq!(firsts, vec![0, 1, 2], "the first three fit in 3000 bytes");
    assert_eq!(net.stats().dropped.queue, 7);
    assert!(net.stats().is_conserved());
}

#[test]
fn queue_drains_while_time_passes() {
    let mut net = net_with(
        71,
        LinkConfig::default()
            .bandwidth_bps(1_000_000)
            .queue_bytes(2000),
    );
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    // One 1000-byte packet every 8 ms exactly fills the link and never overflows.
    let got = send_stream(&mut net, a, b, 500, Duration::from_millis(8), 972);
    assert_eq!(got.len(), 500);
    // Every 4 ms, half of them are dropped once the queue is full.
    let mut net = net_with(
        72,
        LinkConfig::default()
            .bandwidth_bps(1_000_000)
            .queue_bytes(2000),
    );
    let got = send_stream(&mut net, a, b, 1000, Duration::from_millis(4), 972);
    let frac = got.len() as f64 / 1000.0;
    assert!((0.45..0.55).contains(&frac), "{frac}");
}

#[test]
fn bit_flips_change_exactly_one_bit() {
    let mut net = net_with(80, LinkConfig::default().bit_flip(0.1));
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        N,
        Duration::from_millis(1),
        64,
    );
    assert_eq!(got.len(), N as usize);
    let mut flipped = 0;
    let mut expected = [0u8; 64];
    for (t, d) in &got {
        // The index in the first 4 bytes may itself be hit: with a fixed 10 ms latency and a
        // 1 ms send gap the arrival time identifies the datagram.
        let i = (t.as_millis() - 10) as u32;
        expected[..4].copy_from_slice(&i.to_be_bytes());
        expected[4..].fill(0);
        let diff: u32 = expected
            .iter()
            .zip(&d.payload)
            .map(|(x, y)| (x ^ y).count_ones())
            .sum();
        assert!(diff <= 1);
        flipped += diff;
    }
    assert_eq!(u64::from(flipped), net.stats().corrupted);
    assert!((f64::from(flipped) - 1000.0).abs() < 150.0, "{flipped}");
    // Empty payloads cannot be corrupted.
    net.send(Datagram::new(
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        vec![],
    ));
    assert!(drain(&mut net)[0].1.payload.is_empty());
}

#[test]
fn links_are_directional_and_independent() {
    // Traffic on another link must not change what happens on this one.
    let cfg = LinkConfig::default()
        .loss(0.3)
        .jitter(Duration::from_millis(3))
        .duplicate(0.1);
    let (a, b, c) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"), addr("10.0.0.3:3"));
    let run = |with_noise: bool| {
        let mut net = net_with(90, cfg.clone());
        let mut got = Vec::new();
        for i in 0..500u32 {
            net.send(Datagram::new(a, b, i.to_be_bytes().to_vec()));
            if with_noise {
                net.send(Datagram::new(a, c, vec![0; 10]));
                net.send(Datagram::new(b, a, vec![0; 10]));
            }
            net.advance(Duration::from_millis(1));
            while let Some(d) = net.poll_recv() {
                if d.dst == b {
                    got.push((net.elapsed(), d));
                }
            }
        }
        for (t, d) in drain(&mut net) {
            if d.dst == b {
                got.push((t, d));
            }
        }
        got
    };
    assert_eq!(run(false), run(true));
}

#[test]
fn asymmetric_links() {
    let mut net = Network::new(91);
    let (a, b) = (addr("10.0.0.1:1"), addr("10.0.0.2:2"));
    net.set_link_directed(a.ip(), b.ip(), LinkConfig::default().loss(1.0));
    net.send(Datagram::new(a, b, vec![1]));
    net.send(Datagram::new(b, a, vec![2]));
    let got = drain(&mut net);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.dst, a);
    assert_eq!(net.link_stats(a.ip(), b.ip()).dropped.loss, 1);
    assert_eq!(net.link_stats(b.ip(), a.ip()).delivered, 1);
    assert_eq!(net.link_config(a.ip(), b.ip()).loss, 1.0);
    assert_eq!(net.link_config(b.ip(), a.ip()).loss, 0.0);
}

#[test]
fn nan_and_out_of_range_probabilities_are_clamped() {
    let mut net = net_with(
        92,
        LinkConfig::default()
            .loss(f64::NAN)
            .duplicate(-3.0)
            .reorder(f64::INFINITY)
            .bit_flip(f64::NEG_INFINITY),
    );
    let got = send_stream(
        &mut net,
        addr("10.0.0.1:1"),
        addr("10.0.0.2:2"),
        100,
        Duration::from_millis(1),
        8,
    );
    assert_eq!(got.len(), 100);
    assert_eq!(net.stats().reordered, 100);
}
