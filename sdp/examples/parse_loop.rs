//! Parses a file in a loop and prints the mean time per parse: a small driver for profilers
//! (`perf record -g`) and quick A/B timing. `cargo run --release -p sansrtc-sdp --example
//! parse_loop -- FILE [ITERATIONS]`.
#![allow(missing_docs)]

use std::time::Instant;

use sansrtc_sdp::SessionDescription;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: parse_loop FILE [ITERATIONS]")?;
    let n: u32 = args.next().map_or(Ok(200_000), |s| s.parse())?;
    let text = std::fs::read_to_string(&path)?;
    SessionDescription::parse(&text)?;
    let lines = text.lines().count();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..n / 5 {
            std::hint::black_box(SessionDescription::parse(std::hint::black_box(&text)).is_ok());
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(n / 5));
    }
    println!(
        "{path}: {lines} lines, best-of-5 mean {:.0} ns/parse, {:.1} ns/line",
        best,
        best / lines as f64
    );
    Ok(())
}
