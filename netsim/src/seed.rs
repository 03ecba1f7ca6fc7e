//! Seed harness: run a test over many seeds, print the failing one, replay it from the
//! environment.

use crate::Error;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Environment variable that overrides the seed list of [`run_seeds`] / [`try_run_seeds`]
/// with a single seed, e.g. `SANSRTC_SEED=1234 cargo test -p sansrtc-stun transaction`.
pub const SEED_ENV: &str = "SANSRTC_SEED";

/// Parses a seed: decimal, or hexadecimal with a `0x` prefix. Surrounding spaces are ignored.
pub fn parse_seed(s: &str) -> Result<u64, Error> {
    let t = s.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse::<u64>(),
    };
    parsed.map_err(|_| Error::InvalidSeed {
        value: s.to_owned(),
    })
}

/// The seed given in `SANSRTC_SEED`, if the variable is set (and not empty).
pub fn env_seed() -> Result<Option<u64>, Error> {
    match std::env::var(SEED_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_seed(&v).map(Some),
        Ok(_) | Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(Error::InvalidSeed {
            value: v.to_string_lossy().into_owned(),
        }),
    }
}

/// The seeds to run: the one in `SANSRTC_SEED` if set, otherwise `default`.
pub fn seeds<I: IntoIterator<Item = u64>>(default: I) -> Result<Vec<u64>, Error> {
    Ok(match env_seed()? {
        Some(seed) => vec![seed],
        None => default.into_iter().collect(),
    })
}

/// Runs `run(seed)` for every seed (or only `SANSRTC_SEED` when set) and stops at the first
/// failure. A failure (an `Err`, or a panic such as a failed `assert!`) prints
/// `seed=N ...; replay with SANSRTC_SEED=N` to stderr; an `Err` is returned as
/// [`Error::SeedFailed`], a panic is resumed after printing.
pub fn try_run_seeds<I, F>(seeds_to_run: I, mut run: F) -> Result<(), Error>
where
    I: IntoIterator<Item = u64>,
    F: FnMut(u64) -> Result<(), String>,
{
    for seed in seeds(seeds_to_run)? {
        match catch_unwind(AssertUnwindSafe(|| run(seed))) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => {
                eprintln!("seed={seed} failed: {message}; replay with {SEED_ENV}={seed}");
                return Err(Error::SeedFailed { seed, message });
            }
            Err(payload) => {
                eprintln!("seed={seed} panicked; replay with {SEED_ENV}={seed}");
                resume_unwind(payload);
            }
        }
    }
    Ok(())
}

/// Like [`try_run_seeds`] but fails the calling test by panicking with
/// `seed=N failed: ... (replay with SANSRTC_SEED=N)`. For use in `#[test]` functions.
#[allow(clippy::panic)] // A test harness: panicking is how it fails the calling test.
pub fn run_seeds<I, F>(seeds_to_run: I, run: F)
where
    I: IntoIterator<Item = u64>,
    F: FnMut(u64) -> Result<(), String>,
{
    if let Err(e) = try_run_seeds(seeds_to_run, run) {
        panic!("{e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_decimal_and_hex() {
        assert_eq!(parse_seed("42").unwrap(), 42);
        assert_eq!(parse_seed(" 0x2A ").unwrap(), 42);
        assert_eq!(parse_seed("0X2a").unwrap(), 42);
        assert!(matches!(
            parse_seed("forty"),
            Err(Error::InvalidSeed { .. })
        ));
        assert!(parse_seed("").is_err());
    }

    #[test]
    fn failing_seed_is_reported() {
        // Only meaningful when the override is not set by whoever runs the tests.
        if env_seed().unwrap().is_some() {
            return;
        }
        let mut ran = Vec::new();
        let r = try_run_seeds(0..10, |s| {
            ran.push(s);
            if s == 3 { Err("boom".into()) } else { Ok(()) }
        });
        assert_eq!(ran, vec![0, 1, 2, 3]);
        let e = r.unwrap_err();
        assert_eq!(
            e,
            Error::SeedFailed {
                seed: 3,
                message: "boom".into()
            }
        );
        assert!(e.to_string().contains("seed=3"));
        assert!(e.to_string().contains("SANSRTC_SEED=3"));
    }

    #[test]
    fn run_seeds_panics_with_the_seed() {
        if env_seed().unwrap().is_some() {
            return;
        }
        let r = std::panic::catch_unwind(|| {
            run_seeds(5..6, |_| Err("bad".into()));
        });
        let payload = r.unwrap_err();
        let msg = payload.downcast_ref::<String>().unwrap();
        assert!(msg.contains("seed=5"), "{msg}");
    }

    #[test]
    fn panics_inside_the_run_propagate() {
        if env_seed().unwrap().is_some() {
            return;
        }
        let r = std::panic::catch_unwind(|| {
            let _ = try_run_seeds(7..8, |_| -> Result<(), String> { panic!("inner") });
        });
        assert!(r.is_err());
    }
}
