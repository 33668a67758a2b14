//! `--keys`, `--key-dist`, `--prefill` and `--miss-ratio`: a fixed key space instead of
//! memaslap's per-concurrency window, checked into one [`KeySpace`] (or none).

use shardslap_workload::{KeyDist, KeySpace, MAX_KEYS};

use crate::args::Args;
use crate::value::parse_count;
use crate::ConfigError;

/// The key space `args` ask for; `None` for memaslap's window (no `--keys`).
///
/// # Errors
/// A malformed or out-of-range value, one of the key-space flags without `--keys`, or
/// `--keys` with a window-only option (`-o`, `-e`).
pub(crate) fn key_space(args: &Args) -> Result<Option<KeySpace>, ConfigError> {
    let Some(raw) = args.keys.as_deref() else {
        let stray = [
            ("--key-dist", args.key_dist.is_some()),
            ("--prefill", args.prefill),
            ("--miss-ratio", args.miss_ratio.is_some()),
        ];
        if let Some((flag, _)) = stray.iter().find(|(_, given)| *given) {
            return Err(ConfigError::invalid(
                flag,
                "",
                "it needs --keys N (a fixed key space)",
            ));
        }
        return Ok(None);
    };
    let keys = parse_count("--keys", raw)?;
    if keys == 0 || keys > MAX_KEYS {
        return Err(ConfigError::invalid(
            "--keys",
            raw,
            format!("must be between 1 and {MAX_KEYS}"),
        ));
    }
    for (other, given) in [
        ("--exp-verify", args.exp_verify.is_some()),
        ("--overwrite", args.overwrite.is_some()),
    ] {
        if given {
            // Both are about memaslap's window items; a key space keeps no per-key state.
            return Err(ConfigError::Conflict {
                flag: "--keys",
                other,
            });
        }
    }
    let dist = match args.key_dist.as_deref() {
        None => KeyDist::Uniform,
        Some(raw) => {
            let dist: KeyDist = raw
                .parse()
                .map_err(|why: String| ConfigError::invalid("--key-dist", raw, why))?;
            if let KeyDist::Gaussian { mean, .. } = dist {
                if mean >= keys as f64 {
                    let why = format!("the mean must be a key index below --keys ({keys})");
                    return Err(ConfigError::invalid("--key-dist", raw, why));
                }
            }
            dist
        }
    };
    let miss_ratio = match args.miss_ratio {
        None => 0.0,
        Some(p) if (0.0..1.0).contains(&p) => p,
        Some(p) => {
            return Err(ConfigError::invalid(
                "--miss-ratio",
                p.to_string(),
                "must be in [0, 1)",
            ))
        }
    };
    Ok(Some(KeySpace {
        keys,
        dist,
        miss_ratio,
        prefill: args.prefill,
    }))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn parse(extra: &[&str]) -> Result<Option<KeySpace>, String> {
        let mut argv = vec!["shardslap", "-s", "127.0.0.1"];
        argv.extend_from_slice(extra);
        key_space(&Args::parse_from(argv)).map_err(|err| err.to_string())
    }

    #[test]
    fn no_keys_is_memaslaps_window() {
        assert_eq!(parse(&[]), Ok(None));
    }

    #[test]
    fn a_key_space_with_its_distribution_prefill_and_misses() {
        let space = parse(&[
            "--keys",
            "100k",
            "--key-dist",
            "zipf:0.99",
            "--prefill",
            "--miss-ratio",
            "0.2",
        ]);
        assert_eq!(
            space,
            Ok(Some(KeySpace {
                keys: 100 << 10,
                dist: KeyDist::Zipf { theta: 0.99 },
                miss_ratio: 0.2,
                prefill: true,
            }))
        );
        let plain = parse(&["--keys", "1000"]).unwrap().unwrap();
        assert_eq!(
            (plain.dist, plain.miss_ratio, plain.prefill),
            (KeyDist::Uniform, 0.0, false)
        );
    }

    #[test]
    fn nonsense_is_one_line_naming_the_flag() {
        for (args, says) in [
            (
                &["--keys", "0"][..],
                "invalid value '0' for --keys: must be between 1 and",
            ),
            (&["--keys", "ten"][..], "invalid value 'ten' for --keys"),
            (
                &["--keys", "10", "--key-dist", "zipf:0"][..],
                "invalid value 'zipf:0' for --key-dist: zipf theta must be in (0, 1.5], not 0",
            ),
            (
                &["--keys", "10", "--key-dist", "gaussian:10,1"][..],
                "invalid value 'gaussian:10,1' for --key-dist: the mean must be a key index",
            ),
            (
                &["--keys", "10", "--miss-ratio", "1"][..],
                "invalid value '1' for --miss-ratio: must be in [0, 1)",
            ),
            (
                &["--keys", "10", "--miss-ratio=-0.1"][..],
                "invalid value '-0.1' for --miss-ratio: must be in [0, 1)",
            ),
            (&["--prefill"][..], "--prefill: it needs --keys N"),
            (
                &["--miss-ratio", "0.1"][..],
                "--miss-ratio: it needs --keys N",
            ),
            (
                &["--key-dist", "uniform"][..],
                "--key-dist: it needs --keys N",
            ),
            (
                &["--keys", "10", "-e", "0.1"][..],
                "--keys cannot be combined with --exp-verify",
            ),
            (
                &["--keys", "10", "-o", "0.1"][..],
                "--keys cannot be combined with --overwrite",
            ),
        ] {
            let err = parse(args).expect_err(&format!("{args:?}"));
            assert!(err.contains(says), "{args:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }
}
