//! `--rate`, `--arrivals` and `--max-queue`: an open loop whose requests go out on a schedule
//! of intended send times, independent of replies, checked into one [`OpenLoop`] (or none).

use std::fmt;

use crate::args::Args;
use crate::value::parse_count;
use crate::ConfigError;

/// Intended sends that may wait per concurrency, by default, before later ones are dropped.
pub const DEFAULT_MAX_QUEUE: usize = 1000;

/// How intended send times are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Exponential gaps (a Poisson process), as independent users arrive (mutilate's default).
    Poisson,
    /// Even gaps (wrk2's and memtier's rate limit).
    Uniform,
}

impl fmt::Display for Arrivals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arrivals::Poisson => "poisson",
            Arrivals::Uniform => "uniform",
        })
    }
}

/// An open-loop run: the whole run's intended rate and how it arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OpenLoop {
    /// Intended operations per second over the whole run (all shards).
    pub rate_per_sec: u64,
    pub arrivals: Arrivals,
    /// Intended sends that may wait per concurrency; the overflow is dropped and counted.
    pub max_queue: usize,
}

/// The open loop `args` ask for; `None` for a closed loop (no `--rate`).
///
/// # Errors
/// `--rate 0` or nonsense, `--rate` with `-P`, `--max-queue 0`, or `--arrivals`/`--max-queue`
/// without `--rate`.
pub(crate) fn open_loop(args: &Args) -> Result<Option<OpenLoop>, ConfigError> {
    let Some(raw) = args.rate.as_deref() else {
        let stray = [
            ("--arrivals", args.arrivals.is_some()),
            ("--max-queue", args.max_queue.is_some()),
        ];
        if let Some((flag, _)) = stray.iter().find(|(_, given)| *given) {
            return Err(ConfigError::invalid(
                flag,
                "",
                "it needs --rate R (an open loop)",
            ));
        }
        return Ok(None);
    };
    let rate_per_sec = parse_count("--rate", raw)?;
    if rate_per_sec == 0 {
        return Err(ConfigError::invalid(
            "--rate",
            raw,
            "must be greater than 0",
        ));
    }
    if args.tps.is_some() {
        // -P paces a closed loop; --rate is the open loop's schedule: one or the other.
        return Err(ConfigError::Conflict {
            flag: "--rate",
            other: "--tps",
        });
    }
    let arrivals = match args.arrivals.as_deref() {
        None | Some("poisson") => Arrivals::Poisson,
        Some("uniform") => Arrivals::Uniform,
        Some(other) => {
            return Err(ConfigError::invalid(
                "--arrivals",
                other,
                "poisson or uniform",
            ))
        }
    };
    let max_queue = match args.max_queue {
        None => DEFAULT_MAX_QUEUE,
        Some(0) => {
            return Err(ConfigError::invalid(
                "--max-queue",
                "0",
                "must be at least 1",
            ))
        }
        Some(n) => n,
    };
    Ok(Some(OpenLoop {
        rate_per_sec,
        arrivals,
        max_queue,
    }))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(extra: &[&str]) -> Result<Option<OpenLoop>, String> {
        let mut argv = vec!["shardslap", "-s", "127.0.0.1"];
        argv.extend_from_slice(extra);
        open_loop(&Args::parse_from(argv)).map_err(|err| err.to_string())
    }

    #[test]
    fn a_rate_with_its_arrivals_and_queue() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(
            parse(&["--rate", "20k"]),
            Ok(Some(OpenLoop {
                rate_per_sec: 20 << 10,
                arrivals: Arrivals::Poisson,
                max_queue: DEFAULT_MAX_QUEUE,
            }))
        );
        let uniform = parse(&["--rate", "500", "--arrivals", "uniform", "--max-queue", "8"]);
        assert_eq!(
            uniform,
            Ok(Some(OpenLoop {
                rate_per_sec: 500,
                arrivals: Arrivals::Uniform,
                max_queue: 8,
            }))
        );
    }

    #[test]
    fn nonsense_is_one_line_naming_the_flag() {
        for (args, says) in [
            (
                &["--rate", "0"][..],
                "invalid value '0' for --rate: must be greater than 0",
            ),
            (&["--rate", "fast"][..], "invalid value 'fast' for --rate"),
            (
                &["--rate", "100", "-P", "1k"][..],
                "--rate cannot be combined with --tps",
            ),
            (
                &["--rate", "100", "--max-queue", "0"][..],
                "invalid value '0' for --max-queue: must be at least 1",
            ),
            (
                &["--rate", "100", "--arrivals", "bursty"][..],
                "invalid value 'bursty' for --arrivals: poisson or uniform",
            ),
            (&["--max-queue", "5"][..], "--max-queue: it needs --rate R"),
            (
                &["--arrivals", "uniform"][..],
                "--arrivals: it needs --rate R",
            ),
        ] {
            let err = parse(args).expect_err(&format!("{args:?}"));
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }
}
